// Helper of the benchmark (test/bench/run.ts), run in a fresh process of its own:
//   node --expose-gc src/cli/run-ts.js test/bench/montecarlo.ts JOB.json
// JOB.json holds {experiment (raw, as in a file), workers, outDir, source, and optionally shard and
// stopAfterRuns (the sweep is then stopped through its AbortSignal once that many runs are done)}. Validates the
// experiment, runs it with runExperiment() as `contagion run` does (quiet, no invariant checks),
// and prints one JSON line on stdout: wall time of runExperiment(), the time of the first and last
// finished run (so worker start-up and final assembly can be told apart), runs done and failed,
// the main thread's event-loop utilisation, the process's CPU time (all threads), and its peak RSS (also as it stood when
// 10, 100, 1000, … runs were done) — the high-water mark of the process's own address space, worker
// threads included (peakRss.ts: not getrusage's, which includes the bench's own RSS). Nothing else
// goes to stdout.
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { parseExperiment } from '../../src/experiment/load.ts';
import { runExperiment, RunInterrupted } from '../../src/runner/runExperiment.ts';
import { peakRssKib } from './peakRss.ts';

interface Job {
  experiment: unknown;
  workers: number;
  outDir: string;
  source: string;
  /** Run only this slice (the bench runs two slices in two processes at once). */
  shard?: { index: number; count: number };
  /** Stop the sweep (its AbortSignal) once this many runs are done: the cost of planning many runs. */
  stopAfterRuns?: number;
  /** Run even one worker's runs in a worker thread, as `contagion run` does. */
  threaded?: boolean;
}

async function main(): Promise<void> {
  const file = process.argv[2];
  if (file === undefined) throw new Error('usage: montecarlo.ts JOB.json');
  const job = JSON.parse(readFileSync(file, 'utf8')) as Job;
  const exp = parseExperiment(job.experiment, job.source);
  // With --expose-gc (the bench passes it): the main thread's live heap after a full collection,
  // before and after the sweep — what the process retains, as opposed to the garbage headroom
  // V8 keeps between collections, which is what the peak RSS mostly measures.
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const retainedAtStart = gc ? process.memoryUsage().heapUsed : null;
  const rssAtStart = process.memoryUsage().rss;
  let firstDoneS: number | null = null;
  let lastDoneS = 0;
  // The peak RSS so far when 10, 100, 1000, … runs are done: shows whether it still grows.
  const maxRssKibAtRuns: Record<string, number> = {};
  const elu0 = performance.eventLoopUtilization();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const stop = new AbortController();
  const run = runExperiment(exp, {
    outDir: job.outDir,
    check: false,
    overrides: [],
    source: job.source,
    workers: job.workers,
    threaded: job.threaded ?? false,
    shard: job.shard ?? null,
    onProgress: (p) => {
      const s = (performance.now() - t0) / 1000;
      firstDoneS ??= s;
      lastDoneS = s;
      if (p.done >= 10 && Number.isInteger(Math.log10(p.done))) maxRssKibAtRuns[p.done] = peakRssKib();
      if (job.stopAfterRuns !== undefined && p.done >= job.stopAfterRuns) stop.abort();
    },
    signal: stop.signal,
  });
  const result = await run.catch((e: unknown) => {
    if (!(e instanceof RunInterrupted)) throw e;
    return { planned: e.planned, runsDone: e.committed, failures: [] as { error: string }[] };
  });
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const elu = performance.eventLoopUtilization(elu0);
  gc?.();
  const retainedAtEnd = gc ? process.memoryUsage().heapUsed : null;
  process.stdout.write(
    JSON.stringify({
      seconds,
      first_run_done_s: firstDoneS,
      last_run_done_s: lastDoneS,
      planned: result.planned,
      runs_done: result.runsDone,
      failed: result.failures.length,
      first_failure: result.failures[0]?.error ?? null,
      max_rss_kib: peakRssKib(),
      max_rss_kib_at_runs: maxRssKibAtRuns,
      // Busy share of the main thread's event loop during runExperiment() (≈1 with one worker).
      main_thread_elu: elu.utilization,
      // CPU time of the whole process (every thread), user and system, during runExperiment().
      cpu_user_s: cpu.user / 1e6,
      cpu_system_s: cpu.system / 1e6,
      rss_at_start_bytes: rssAtStart,
      rss_at_end_bytes: process.memoryUsage().rss,
      retained_heap_at_start_bytes: retainedAtStart,
      retained_heap_at_end_bytes: retainedAtEnd,
    }) + '\n',
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`[bench:montecarlo] failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
