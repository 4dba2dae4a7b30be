// Runs the package's TypeScript as one esbuild bundle instead of through tsx's module loader.
//
// tsx compiles each module on its own and links them as ES modules, so every read of another
// module's export goes through a live binding; in the engine's hot loops that cost 13–20% of a run
// (a 100-run flagship sweep in-thread: 8.0–9.0 s under tsx, 6.9–7.2 s bundled, 2026-11-26). esbuild —
// the compiler tsx itself uses — bundles an entry and everything it imports from this package into one
// module (about 0.2 s), which is written under node_modules/.cache/contagion/ with a hash of its
// contents in the name (so concurrent processes agree, and a changed source gives a new file) and
// imported from there: packages resolve from node_modules as usual. Beside it goes the list of the
// files it was made from with a hash of each; while they all still hash the same (and esbuild is the
// same version), the bundle is used without loading or running esbuild (reading and hashing them
// takes ~5 ms; a CLI command or a sweep's workers started ~0.2 s sooner each). Each source file's
// `import.meta.url` is replaced by that file's own URL, so paths computed from it are unchanged.
//
// The sources are the same code: esbuild strips the types and hoists the modules into one scope
// (outputs are byte-identical either way; tested). When bundling or writing the cache fails (a
// read-only install, say) or CONTAGION_SOURCES=1 is set, the entry is loaded through tsx instead.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createRequire } from 'node:module';

const PACKAGE_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TSCONFIG = join(PACKAGE_ROOT, 'tsconfig.json');
const CACHE_DIR = join(PACKAGE_ROOT, 'node_modules', '.cache', 'contagion');

const DEPENDENCIES = join(PACKAGE_ROOT, 'node_modules');

/** esbuild's version, read from its package.json: esbuild itself is only loaded when a bundle is made. */
function esbuildVersion() {
  try {
    const require = createRequire(import.meta.url);
    return JSON.parse(readFileSync(require.resolve('esbuild/package.json'), 'utf8')).version;
  } catch {
    return null;
  }
}

/** Replaces `import.meta.url` in each of the package's own files with that file's URL. */
const ownImportMetaUrl = {
  name: 'own-import-meta-url',
  setup(b) {
    b.onLoad({ filter: /\.[jt]s$/ }, (args) => {
      if (!args.path.startsWith(PACKAGE_ROOT) || args.path.startsWith(DEPENDENCIES)) return undefined;
      return {
        contents: readFileSync(args.path, 'utf8').replaceAll('import.meta.url', JSON.stringify(pathToFileURL(args.path).href)),
        loader: args.path.endsWith('.ts') ? 'ts' : 'js',
      };
    });
  },
};

/**
 * Bundles the TypeScript entry at `entryUrl` (with what it imports from this package) into the cache
 * and returns the bundle's file URL; null if that cannot be done here.
 */
export async function bundleFile(entryUrl) {
  if (process.env.CONTAGION_SOURCES === '1') return null;
  try {
    const entry = fileURLToPath(entryUrl);
    const inputsFile = join(CACHE_DIR, `${basename(entry, '.ts')}-${sha256(entry).slice(0, 12)}.inputs.json`);
    const version = esbuildVersion();
    const cached = cachedBundle(inputsFile, entry, version);
    if (cached !== null) return cached;
    const { build } = await import('esbuild');
    const result = await build({
      entryPoints: [entry],
      tsconfig: TSCONFIG,
      // Paths in the bundle's comments are relative to this: the package root, not the caller's
      // working directory, so the same sources give the same bundle (and cache entry) from anywhere.
      absWorkingDir: PACKAGE_ROOT,
      bundle: true,
      packages: 'external',
      format: 'esm',
      platform: 'node',
      target: 'node20',
      write: false,
      logLevel: 'silent',
      // Stack traces name the TypeScript files and lines when source maps are on (CONTAGION_DEBUG=1).
      sourcemap: 'inline',
      metafile: true,
      plugins: [ownImportMetaUrl],
    });
    const code = result.outputFiles[0].contents;
    const hash = createHash('sha256').update(code).digest('hex').slice(0, 16);
    const file = join(CACHE_DIR, `${basename(entry, '.ts')}-${hash}.mjs`);
    if (!existsSync(file)) {
      mkdirSync(CACHE_DIR, { recursive: true });
      const tmp = `${file}.${process.pid}.${Math.floor(performance.now() * 1000)}.tmp`;
      writeFileSync(tmp, code);
      renameSync(tmp, file);
      pruneOlder(basename(entry, '.ts'), basename(file));
    } else {
      touch(file);
    }
    recordInputs(inputsFile, entry, file, version, Object.keys(result.metafile.inputs));
    return pathToFileURL(file);
  } catch {
    return null;
  }
}

const sha256 = (data) => createHash('sha256').update(data).digest('hex');

/**
 * The bundle recorded in `inputsFile` for `entry` when esbuild is the version that made it, the bundle
 * is still there and every file it was made from (tsconfig.json included) hashes as it did; else null.
 */
function cachedBundle(inputsFile, entry, version) {
  let record;
  try {
    record = JSON.parse(readFileSync(inputsFile, 'utf8'));
  } catch {
    return null;
  }
  if (version === null || record.entry !== entry || record.esbuild !== version) return null;
  const file = join(CACHE_DIR, record.bundle);
  if (!existsSync(file)) return null;
  for (const [rel, hash] of Object.entries(record.inputs)) {
    let now;
    try {
      now = sha256(readFileSync(join(PACKAGE_ROOT, rel)));
    } catch {
      return null;
    }
    if (now !== hash) return null;
  }
  touch(file);
  return pathToFileURL(file);
}

/** Writes the inputs record of a bundle (best effort: without it the next process runs esbuild again). */
function recordInputs(inputsFile, entry, file, version, inputs) {
  try {
    const hashes = {};
    for (const rel of [...inputs, 'tsconfig.json']) hashes[rel] = sha256(readFileSync(join(PACKAGE_ROOT, rel)));
    const tmp = `${inputsFile}.${process.pid}.${Math.floor(performance.now() * 1000)}.tmp`;
    if (version === null) return;
    writeFileSync(tmp, JSON.stringify({ entry, esbuild: version, bundle: basename(file), inputs: hashes }));
    renameSync(tmp, inputsFile);
  } catch {
    // A read-only cache: the bundle is still used, made again by the next process.
  }
}

/**
 * How long a bundle made from other sources is kept after it was last made or used. A process started
 * from one goes on starting workers from it (a sweep replacing a dead worker; a run on a cluster's shared
 * checkout while the sources are edited and another command runs): pruning it at once failed such a
 * process's next worker (seen in session 23 with two checkouts sharing node_modules). Bundles are about
 * 1 MB each.
 */
export const KEEP_OTHER_BUNDLES_MS = 24 * 3600 * 1000;

/** Removes the cached bundles of the same entry made from other sources and unused for a day (best effort). */
function pruneOlder(name, keep) {
  try {
    const cutoff = Date.now() - KEEP_OTHER_BUNDLES_MS;
    for (const f of readdirSync(CACHE_DIR)) {
      if (f === keep || !f.startsWith(`${name}-`) || !f.endsWith('.mjs')) continue;
      const file = join(CACHE_DIR, f);
      if (statSync(file).mtimeMs < cutoff) rmSync(file, { force: true });
    }
  } catch {
    // Another process may be pruning too: nothing depends on this.
  }
}

/** Marks a cached bundle as used now, so that pruning keeps it a day longer (best effort). */
function touch(file) {
  try {
    const now = new Date();
    utimesSync(file, now, now);
  } catch {
    // A read-only cache: nothing prunes it either.
  }
}

/** Imports the TypeScript entry at `entryUrl`: from its bundle, or through tsx when there is none. */
export async function importEntry(entryUrl) {
  if (process.env.CONTAGION_DEBUG === '1') process.setSourceMapsEnabled(true);
  const bundled = await bundleFile(entryUrl);
  if (bundled !== null) return import(bundled.href);
  const { register } = await import('tsx/esm/api');
  register({ tsconfig: TSCONFIG });
  return import(entryUrl.href);
}
