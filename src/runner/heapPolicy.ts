// The heap policy of a sweep: what keeps a sweep's peak memory from growing with its number of runs.
//
// A sweep's live data is small and flat (each run's state is dropped once its part file is
// written; the runner keeps only counters), but V8 sizes its heap from how fast the program
// allocates: by default it lets the old generation grow to 1.1–4× the live data after each full
// collection, choosing the factor from the ratio of GC speed to allocation speed, and lets each
// isolate's young generation grow to 32 MiB. A long sweep allocates steadily, so the factor and the
// young generation drift up over the first thousand runs, and a 10,000-run sweep peaked at 1.5×
// a 100-run sweep's RSS although neither retained more (measured in the bench; README, "Bounded
// memory"). Pinning both keeps the peak where the first hundred runs put it:
//  - the old generation grows by 10% over live data (V8's --heap-growing-percent; process-wide,
//    so it covers the main thread and every worker);
//  - each worker's young generation is capped at 12 MiB (two 4 MiB semi-spaces and the
//    intermediate generation), through the Worker's resourceLimits.
// Neither can make a run fail: they change when V8 collects, not how much a run may hold (no
// old-generation cap). On this machine the flagship sweep's throughput is unchanged within noise.
import v8 from 'node:v8';

/** Old-generation growth over live data after a full collection, in percent. */
export const HEAP_GROWING_PERCENT = 10;
/** Young generation of each worker thread, MiB. */
export const WORKER_YOUNG_GENERATION_MB = 12;

let applied = false;

/** Applies the process-wide part of the policy; idempotent. Called before a sweep starts. */
export function applySweepHeapPolicy(): void {
  if (applied) return;
  applied = true;
  v8.setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
}

/** The resource limits of a sweep worker (no old-generation cap: a run may need what it needs). */
export function workerResourceLimits(): { maxYoungGenerationSizeMb: number } {
  return { maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB };
}
