// The script a sweep's worker threads start from: the worker's sources as one esbuild bundle, made
// once per process by the same helper that runs the CLI (src/cli/bundle.js: cached under
// node_modules/.cache/contagion/, packages resolved from node_modules, each source's import.meta.url
// kept).
//
// Why: a worker does not inherit the main thread's module loader, so a worker started from the
// sources has to register tsx and compile each of its ~60 modules again — about 0.2 s more per
// worker before its first run on this machine — and then runs them as separately linked modules,
// which is slower (bundle.js). The outputs are byte-identical either way (a test compares them).
// When no bundle can be made, or CONTAGION_SOURCES=1 / CONTAGION_WORKER_SOURCES=1 is set, workers
// start from worker.js, which registers tsx and loads the sources.
import { bundleFile } from '../cli/bundle.js';

/** The tsx-registering entry: used when no bundle could be made. */
export const SOURCE_WORKER_URL = new URL('./worker.js', import.meta.url);

let cached: Promise<URL> | null = null;

/** The URL workers start from: the bundle (made once per process), else worker.js. */
export function workerScriptUrl(): Promise<URL> {
  if (process.env.CONTAGION_WORKER_SOURCES === '1') return Promise.resolve(SOURCE_WORKER_URL);
  cached ??= bundleFile(new URL('./workerMain.ts', import.meta.url)).then((url) => url ?? SOURCE_WORKER_URL);
  return cached;
}
