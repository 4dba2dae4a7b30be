// The heap policy of a sweep: what keeps a sweep's peak memory from growing with its number of runs,
// and lower than V8's defaults would leave it.
//
// A sweep's live data is small and flat (each run's state is dropped once its part file is
// written; the runner keeps only counters), but V8 sizes its heap from how fast the program
// allocates: by default it lets the old generation grow to 1.1–4× the live data after each full
// collection, choosing the factor from the ratio of GC speed to allocation speed, and it grows each
// thread's young generation (two semi-spaces) up to 2 × 16 MiB once enough bytes have survived its
// scavenges — which any long run eventually does. Three settings:
//  - the old generation grows by 10% over live data (V8's --heap-growing-percent; process-wide,
//    so it covers the main thread and every worker);
//  - one full collection of the main thread when the sweep starts (V8 applies the growth rule only
//    from an isolate's first full collection on; about 10 ms);
//  - each worker's young generation is capped at 12 MiB (`resourceLimits`, which V8 splits into two
//    4 MiB semi-spaces and 4 MiB for new large objects), as --predictable-gc-schedule would.
// None can make a run fail: they change when V8 collects, not how much a run may hold (no
// old-generation cap; large arrays go to the old generation whatever the young one's size).
//
// Measured 2026-12-06 (peak RSS by VmHWM, fresh processes, 2 workers, interleaved; README, "Memory
// over long sweeps"):
//  - the worker cap, against none (interleaved runs of each): the bench's Monte Carlo sweep (100
//    runs × 10^4 accounts × 10^3 steps) peaks at 229–243 MiB against 269–290 in the same time
//    (median 8.35 s against 8.31); its 200-step flagship sweep at 195–203 MiB against 276–286, 2%
//    slower (median of six 5.90 s against 5.79); 10,000 runs of the 20-step test fixture at 198–202
//    MiB against 258–261 (17.52 s against 17.41), 3,000 of them 3% slower (6.49 s against 6.29); a
//    single run of 3·10^5 accounts × 10^4 steps at the same peak, 7.8 s against 8.3–9.1. It lowers
//    the peak, not the ratio of 10,000 runs' peak to 100's (~1.27 either way): what still grows is
//    the old generations, and the main thread's young generation, whose size only node's command
//    line can set (--max-semi-space-size).
//  - the old-generation rule and collection: 10,000 fixture runs peak at 197–200 MiB with them
//    (and the cap) against 259–261 without, but take 18.3 s against 16.0–16.6; on the Monte Carlo
//    and flagship sweeps they cost 0–2% and save 15–30 MiB.
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';

/** Old-generation growth over live data after a full collection, in percent. */
export const HEAP_GROWING_PERCENT = 10;

let applied = false;

/**
 * The worker threads' limits (V8's `ResourceConstraints`): only the young generation is capped; the old
 * generation keeps the default, so a run never fails for this.
 */
export const WORKER_RESOURCE_LIMITS = { maxYoungGenerationSizeMb: 12 } as const;

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
