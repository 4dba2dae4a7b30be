// A pool of worker threads, one run per task. Each worker holds up to two tasks (the one it runs
// and the next), so it never waits for the main thread between runs; results arrive in completion
// order (the output does not depend on it: each run writes its own part file, and the final files
// are assembled in run order). A worker that dies takes only its current run with it: that run is
// reported failed, its queued task goes back to the queue, and the worker is replaced. An abort
// (`signal`) starts no more tasks and terminates the workers: what each was running is lost (its part
// is not committed; a part is renamed into place only once complete), and the pool settles once every
// worker has exited.
import { Worker } from 'node:worker_threads';
import type { MarginChecks } from '../engine/marginIndex.ts';
import type { Experiment } from '../experiment/schema.ts';
import type { SweepPoint } from '../experiment/sweep.ts';
import type { RunOutcome } from './execute.ts';
import { workerScriptUrl } from './workerBundle.ts';

export interface PoolTask {
  point: SweepPoint;
  replicate: number;
}

/** What a worker is sent: a task, with the point's validated experiment when it is new to the worker. */
export interface TaskMessage extends PoolTask {
  exp?: Experiment;
}

/** Tasks a worker holds at once: the one it runs and the next. */
const DEPTH = 2;

/**
 * Runs every task on `size` workers; calls onOutcome for each as it finishes. `experimentOf` gives a point's
 * validated experiment, sent to a worker with its first task of that point (workers do not validate).
 */
export async function runPool(
  size: number,
  init: { base: Experiment; outDir: string; check: boolean; marginChecks: MarginChecks },
  tasks: PoolTask[],
  onOutcome: (o: RunOutcome) => void,
  experimentOf: (point: SweepPoint) => Experiment,
  signal?: AbortSignal,
): Promise<void> {
  if (tasks.length === 0 || signal?.aborted) return;
  const workerUrl = await workerScriptUrl();
  const queue = tasks.slice();
  let finished = 0;
  const running = new Set<Worker>();
  let aborted = false;
  let onAbort = () => {};
  const abortListener = () => onAbort();
  signal?.addEventListener('abort', abortListener, { once: true });
  try {
    if (signal?.aborted) return; // while the worker script was being found
    await new Promise<void>((resolve, reject) => {
      onAbort = () => {
        aborted = true;
        queue.length = 0;
        if (running.size === 0) resolve();
        for (const w of running) void w.terminate();
      };
      const start = () => {
        const worker = new Worker(workerUrl, { workerData: init });
        running.add(worker);
        const inFlight: PoolTask[] = [];
        let gone = false;
        // The point whose experiment this worker has (tasks arrive point by point).
        let sentPoint = -1;
        const refill = () => {
          while (inFlight.length < DEPTH && queue.length > 0) {
            const task = queue.shift()!;
            inFlight.push(task);
            let message: TaskMessage = task;
            if (task.point.index !== sentPoint) {
              message = { ...task, exp: experimentOf(task.point) };
              sentPoint = task.point.index;
            }
            worker.postMessage(message);
          }
          if (inFlight.length === 0) {
            gone = true;
            void worker.terminate();
          }
        };
        const report = (o: RunOutcome): boolean => {
          finished++;
          try {
            onOutcome(o);
          } catch (e) {
            reject(e);
            return false;
          }
          if (finished === tasks.length) resolve();
          return true;
        };
        worker.on('message', (o: RunOutcome) => {
          if (aborted) return;
          inFlight.shift();
          if (report(o)) refill();
        });
        const lost = (why: string) => {
          if (gone || aborted) return;
          gone = true;
          const current = inFlight.shift();
          // Tasks it had not started go back to the front of the queue, in order.
          queue.unshift(...inFlight.splice(0));
          if (current && !report({ point: current.point.index, replicate: current.replicate, seed: 0, ok: false, error: `worker died: ${why}` })) return;
          if (queue.length > 0) start();
        };
        worker.on('error', (e) => lost(e.message));
        worker.on('exit', (code) => {
          running.delete(worker);
          if (aborted && running.size === 0) resolve();
          lost(`exit code ${code}`);
        });
        refill();
      };
      for (let i = 0; i < Math.min(size, tasks.length); i++) start();
    });
  } finally {
    signal?.removeEventListener('abort', abortListener);
  }
}
