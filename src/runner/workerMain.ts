// The body of a worker thread: receives the validated experiment once, then (point, replicate)
// tasks one at a time; runs each, writes its part file, and reports the outcome.
import { parentPort, workerData } from 'node:worker_threads';
import type { Experiment } from '../experiment/schema.ts';
import type { SweepPoint } from '../experiment/sweep.ts';
import { executeRunOverlapped, makeContext } from './execute.ts';
import type { MarginChecks } from '../engine/marginIndex.ts';

interface Init {
  base: Experiment;
  outDir: string;
  check: boolean;
  marginChecks: MarginChecks;
}
export interface Task {
  point: SweepPoint;
  replicate: number;
}

const init = workerData as Init;
const ctx = makeContext(init.base, init.outDir, init.check, process.env, init.marginChecks);
parentPort!.on('message', (task: Task) => {
  executeRunOverlapped(ctx, task.point, task.replicate, (o) => parentPort!.postMessage(o));
});
