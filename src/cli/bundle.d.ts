// Types of bundle.js (plain JavaScript: the CLI's entry loads it before any TypeScript can run).
/** Bundles the TypeScript entry at `entryUrl` into the cache and returns the bundle's file URL; null if that cannot be done here. */
export function bundleFile(entryUrl: URL): Promise<URL | null>;
/** How long a bundle made from other sources is kept after it was last made or used, ms. */
export const KEEP_OTHER_BUNDLES_MS: number;
/** Imports the TypeScript entry at `entryUrl`: from its bundle, or through tsx when there is none. */
export function importEntry(entryUrl: URL): Promise<unknown>;
