// Types of bundle.js (plain JavaScript: the CLI's entry loads it before any TypeScript can run).
/** Bundles the TypeScript entry at `entryUrl` into the cache and returns the bundle's file URL; null if that cannot be done here. */
export function bundleFile(entryUrl: URL): Promise<URL | null>;
/** Imports the TypeScript entry at `entryUrl`: from its bundle, or through tsx when there is none. */
export function importEntry(entryUrl: URL): Promise<unknown>;
