// The script a sweep's worker threads start from: the worker's TypeScript sources bundled into one
// ES module by esbuild (the compiler tsx itself uses) once per process, handed to each Worker as a
// data: URL.
//
// Why: a worker does not inherit the main thread's module loader, so a worker started from the
// sources has to register tsx and compile each of its ~60 modules again — about 0.55 s per worker
// on this machine before its first run, against about 0.05 s for the bundle (README, "Parallel
// runs"). With runs of 0.1 s that start-up alone held two workers to 1.5× of one. Bundling takes
// about 40 ms on the main thread, once per process.
//
// The bundle is the same code: esbuild strips the types and hoists the modules into one scope, it
// does not change what the code computes (outputs are byte-identical to the in-thread runner's; a
// test compares them). Packages stay outside the bundle, imported by absolute file: URL from this
// package's own node_modules (a data: module can import only absolute specifiers). If bundling
// fails for any reason, workers fall back to worker.js, which registers tsx and loads the sources.
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';

const ENTRY = fileURLToPath(new URL('./workerMain.ts', import.meta.url));
const TSCONFIG = fileURLToPath(new URL('../../tsconfig.json', import.meta.url));
/** The tsx-registering entry: used when no bundle could be made. */
export const SOURCE_WORKER_URL = new URL('./worker.js', import.meta.url);

let cached: Promise<URL> | null = null;

/** The URL workers start from: the bundle (made once per process), else worker.js. */
export function workerScriptUrl(): Promise<URL> {
  if (process.env.CONTAGION_WORKER_SOURCES === '1') return Promise.resolve(SOURCE_WORKER_URL);
  cached ??= bundleWorker().catch(() => SOURCE_WORKER_URL);
  return cached;
}

async function bundleWorker(): Promise<URL> {
  const result = await build({
    entryPoints: [ENTRY],
    tsconfig: TSCONFIG,
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    write: false,
    logLevel: 'silent',
    plugins: [
      {
        name: 'packages-by-absolute-url',
        setup(b) {
          // Bare specifiers (packages, node: builtins) stay imports; packages resolve here, to the
          // file this package would load.
          b.onResolve({ filter: /^[^./]/ }, (args) => ({
            path: args.path.startsWith('node:') ? args.path : import.meta.resolve(args.path),
            external: true,
          }));
        },
      },
    ],
  });
  const code = result.outputFiles[0]!.text;
  return new URL(`data:text/javascript;base64,${Buffer.from(code).toString('base64')}`);
}
