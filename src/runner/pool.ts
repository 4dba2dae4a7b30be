// A pool of worker threads, one run per task. Tasks are handed out in order as workers become
// free; results arrive in completion order (the output does not depend on it: each run writes
// its own part file, and the final files are assembled in run order). A worker that dies takes
// only its current run with it: the run is reported failed and the worker replaced.
import { Worker } from 'node:worker_threads';
import type { Experiment } from '../experiment/schema.ts';
import type { SweepPoint } from '../experiment/sweep.ts';
import type { RunOutcome } from './execute.ts';

export interface PoolTask {
  point: SweepPoint;
  replicate: number;
}

const WORKER_URL = new URL('./worker.js', import.meta.url);

/** Runs every task on `size` workers; calls onOutcome for each as it finishes. */
export async function runPool(
  size: number,
  init: { base: Experiment; outDir: string; check: boolean },
  tasks: PoolTask[],
  onOutcome: (o: RunOutcome) => void,
): Promise<void> {
  let next = 0;
  let finished = 0;
  if (tasks.length === 0) return;
  await new Promise<void>((resolve, reject) => {
    const start = () => {
      const worker = new Worker(WORKER_URL, { workerData: init });
      let current: PoolTask | null = null;
      let settled = false;
      const dispatch = () => {
        if (next >= tasks.length) {
          current = null;
          settled = true;
          void worker.terminate();
          return;
        }
        current = tasks[next++]!;
        worker.postMessage(current);
      };
      const report = (o: RunOutcome) => {
        finished++;
        try {
          onOutcome(o);
        } catch (e) {
          reject(e);
          return;
        }
        if (finished === tasks.length) resolve();
      };
      worker.on('message', (o: RunOutcome) => {
        report(o);
        dispatch();
      });
      const lost = (why: string) => {
        if (settled) return;
        settled = true;
        if (current) {
          const task = current;
          current = null;
          report({ point: task.point.index, replicate: task.replicate, seed: 0, ok: false, error: `worker died: ${why}` });
        }
        if (next < tasks.length) start();
      };
      worker.on('error', (e) => lost(e.message));
      worker.on('exit', (code) => {
        if (!settled) lost(`exit code ${code}`);
      });
      dispatch();
    };
    for (let i = 0; i < Math.min(size, tasks.length); i++) start();
  });
}
