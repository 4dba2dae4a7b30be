// A pool of worker threads, one run per task. Each worker holds up to two tasks (the one it runs
// and the next), so it never waits for the main thread between runs; results arrive in completion
// order (the output does not depend on it: each run writes its own part file, and the final files
// are assembled in run order). A worker that dies is replaced, and the runs it had not reported go back
// ahead of the others: which of them killed it is not known (it may have been committing one run's part
// while it ran the next), so each is sent again on its own, to a worker with nothing else in flight; one
// that kills that worker too is reported failed. An abort
// (`signal`) starts no more tasks and terminates the workers: what each was running is lost (its part
// is not committed; a part is renamed into place only once complete), and the pool settles once every
// worker has exited.
import { Worker, type WorkerOptions } from 'node:worker_threads';
import type { MarginChecks } from '../engine/marginIndex.ts';
import type { Experiment } from '../experiment/schema.ts';
import type { SweepPoint } from '../experiment/sweep.ts';
import type { RunOutcome } from './execute.ts';
import { WORKER_RESOURCE_LIMITS } from './heapPolicy.ts';
import { workerScriptUrl } from './workerBundle.ts';

export interface PoolTask {
  point: SweepPoint;
  replicate: number;
}

/** The tasks of a pool, handed out one at a time (the runner makes them as they are asked for): `count` in all. */
export interface TaskSource {
  readonly count: number;
  next(): PoolTask | undefined;
}

/** What a worker is sent: a task, with the point's validated experiment when it is new to the worker. */
export interface TaskMessage extends PoolTask {
  exp?: Experiment;
}

/** How a pool's worker is started: its init data, and the heap policy's limits (young generation capped). */
export function workerOptions(init: PoolInit): WorkerOptions {
  return { workerData: init, resourceLimits: WORKER_RESOURCE_LIMITS };
}

/** What every worker of a pool is started with. */
export interface PoolInit {
  base: Experiment;
  outDir: string;
  check: boolean;
  marginChecks: MarginChecks;
}

/** Tasks a worker holds at once: the one it runs and the next. */
const DEPTH = 2;

/**
 * Runs every task on `size` workers; calls onOutcome for each as it finishes. `experimentOf` gives a point's
 * validated experiment, sent to a worker with its first task of that point (workers do not validate).
 */
export async function runPool(
  size: number,
  init: PoolInit,
  tasks: TaskSource,
  onOutcome: (o: RunOutcome) => void,
  experimentOf: (point: SweepPoint) => Experiment,
  signal?: AbortSignal,
): Promise<void> {
  if (tasks.count === 0 || signal?.aborted) return;
  const workerUrl = await workerScriptUrl();
  // Tasks of a dead worker that it had not started go back here, ahead of the source's.
  const returned: PoolTask[] = [];
  let taken = 0;
  let finished = 0;
  const running = new Set<Worker>();
  let aborted = false;
  let onAbort = () => {};
  const abortListener = () => onAbort();
  signal?.addEventListener('abort', abortListener, { once: true });
  try {
    if (signal?.aborted) return; // while the worker script was being found
    /** The next task from the source: none once aborted. */
    const take = (): PoolTask | undefined => {
      if (aborted) return undefined;
      const task = tasks.next();
      if (task !== undefined) taken++;
      return task;
    };
    await new Promise<void>((resolve, reject) => {
      onAbort = () => {
        aborted = true;
        if (running.size === 0) resolve();
        for (const w of running) void w.terminate();
      };
      const start = () => {
        const worker = new Worker(workerUrl, workerOptions(init));
        running.add(worker);
        const inFlight: PoolTask[] = [];
        let gone = false;
        // True while its only task in flight is one a dead worker had not reported.
        let alone = false;
        // The point whose experiment this worker has (tasks arrive point by point).
        let sentPoint = -1;
        const send = (task: PoolTask) => {
          inFlight.push(task);
          let message: TaskMessage = task;
          if (task.point.index !== sentPoint) {
            message = { ...task, exp: experimentOf(task.point) };
            sentPoint = task.point.index;
          }
          worker.postMessage(message);
        };
        const refill = () => {
          if (alone || aborted) return;
          if (returned.length > 0) {
            // A suspect goes alone, once this worker has nothing else in flight.
            if (inFlight.length === 0) {
              alone = true;
              send(returned.shift()!);
            }
            return;
          }
          while (inFlight.length < DEPTH) {
            const task = take();
            if (task === undefined) break;
            send(task);
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
          if (finished === tasks.count) resolve();
          return true;
        };
        worker.on('message', (o: RunOutcome) => {
          if (aborted) return;
          inFlight.shift();
          alone = false;
          if (report(o)) refill();
        });
        const lost = (why: string) => {
          if (gone || aborted) return;
          gone = true;
          if (alone) {
            // It killed a worker with nothing else in flight: it is the culprit.
            const culprit = inFlight.shift()!;
            if (!report({ point: culprit.point.index, replicate: culprit.replicate, seed: 0, ok: false, error: `worker died: ${why}` })) return;
          } else {
            returned.unshift(...inFlight.splice(0));
          }
          if (returned.length > 0 || taken < tasks.count) start();
        };
        worker.on('error', (e) => lost(e.message));
        worker.on('exit', (code) => {
          running.delete(worker);
          if (aborted && running.size === 0) resolve();
          lost(`exit code ${code}`);
        });
        refill();
      };
      for (let i = 0; i < Math.min(size, tasks.count); i++) start();
    });
  } finally {
    signal?.removeEventListener('abort', abortListener);
  }
}
