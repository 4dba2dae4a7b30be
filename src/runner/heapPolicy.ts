// The heap policy of a sweep: what keeps a sweep's peak memory from growing with its number of runs.
//
// A sweep's live data is small and flat (each run's state is dropped once its part file is
// written; the runner keeps only counters), but V8 sizes its heap from how fast the program
// allocates: by default it lets the old generation grow to 1.1–4× the live data after each full
// collection, choosing the factor from the ratio of GC speed to allocation speed. A long sweep
// allocates steadily, so the factor drifts up over the first thousand runs, and a 10,000-run sweep
// peaked at 1.5× a 100-run sweep's RSS although neither retained more (measured in the bench;
// README, "Bounded memory"). Two settings keep the peak near where the first hundred runs put it:
//  - the old generation grows by 10% over live data (V8's --heap-growing-percent; process-wide,
//    so it covers the main thread and every worker);
//  - one full collection of the main thread when the sweep starts. V8 applies the growth rule only
//    from an isolate's first full collection on; before it, the main thread's old generation (which
//    holds what the assembly of each run leaves behind) grew to ~50 MiB over the first ~2,000 runs.
//    One collection at the start (about 10 ms) sizes it from the start instead: 10,000 runs then
//    peak at 1.13–1.20× 100 runs, against 1.21–1.24× without it (same day, same machine).
// Neither can make a run fail: they change when V8 collects, not how much a run may hold (no
// old-generation cap).
//
// Workers keep V8's default young generation. Session 3 capped it at 12 MiB; measured again with
// the ADL queues and bundled workers (2026-11-26), the cap no longer changed the 10,000/100 ratio
// (1.23–1.24× with it, 1.21–1.23× without) while it slowed each worker's runs by 10–15%, so it went.
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';

/** Old-generation growth over live data after a full collection, in percent. */
export const HEAP_GROWING_PERCENT = 10;

let applied = false;

/** Applies the policy (process-wide, idempotent). Called before a sweep starts. */
export function applySweepHeapPolicy(): void {
  if (applied) return;
  applied = true;
  v8.setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
  // The one collection: gc() is reachable only with --expose-gc, which a flag set at run time
  // exposes to contexts created after it (hence the new context).
  v8.setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}
