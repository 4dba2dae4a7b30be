// The body of a worker thread: receives the base experiment once, then (point, replicate) tasks one
// at a time, the first of each point with that point's experiment as the main thread validated it
// (so a worker neither loads zod nor validates); runs each, writes its part file, and reports the
// outcome.
import { parentPort, workerData } from 'node:worker_threads';
import type { Experiment } from '../experiment/schema.ts';
import type { SweepPoint } from '../experiment/sweep.ts';
import { executeRunOverlapped, makeContext } from './execute.ts';
import type { PoolInit } from './pool.ts';

export interface Task {
  point: SweepPoint;
  replicate: number;
  /** The point's validated experiment, with the first task of each point (pool.ts). */
  exp?: Experiment;
}

const init = workerData as PoolInit;
let current: { point: number; exp: Experiment } | null = null;
const ctx = makeContext(init.base, init.outDir, init.check, process.env, init.marginChecks, (point) => {
  if (current?.point !== point.index) throw new Error(`internal: the pool sent no experiment for point ${point.index}`);
  return current.exp;
});
parentPort!.on('message', (task: Task) => {
  if (task.exp !== undefined) current = { point: task.point.index, exp: task.exp };
  executeRunOverlapped(ctx, task.point, task.replicate, (o) => parentPort!.postMessage(o));
});
