// A pool of worker threads, one run per task. Each worker holds up to two tasks (the one it runs
// and the next), so it never waits for the main thread between runs; results arrive in completion
// order (the output does not depend on it: each run writes its own part file, and the final files
// are assembled in run order). A worker that dies is replaced, and the runs it had not reported go back
// ahead of the others: which of them killed it is not known (it may have been committing one run's part
// while it ran the next), so each is sent again on its own, to a worker with nothing else in flight; one
// that kills that worker too is reported failed. An abort
// (`signal`) starts no more tasks and terminates the workers: what each was running is lost (its part
// is not committed; a part is renamed into place only once complete), and the batch settles once every
// worker has exited.
//
// A pool runs batches of tasks one after another on the same workers (WorkerPool.run), so a caller
// with several rounds (size-fund's search) starts its workers, and warms their compiled code, once:
// between batches they wait with nothing in flight. runPool is one batch on a pool of its own.
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

/** One worker of the pool and what it holds. */
interface Slot {
  worker: Worker;
  /** Tasks sent and not yet reported, oldest first (a worker reports in the order it was sent). */
  inFlight: PoolTask[];
  /** True while its only task in flight is one a dead worker had not reported. */
  alone: boolean;
  /** The point whose experiment this worker has (tasks arrive point by point). */
  sentPoint: number;
  /** Terminated by the pool, or dead: its exit is not a loss. */
  gone: boolean;
}

/** The batch being run: its tasks, where outcomes go, and how it settles. */
interface Batch {
  tasks: TaskSource;
  onOutcome: (o: RunOutcome) => void;
  experimentOf: (point: SweepPoint) => Experiment;
  /** Tasks of a dead worker that it had not started, ahead of the source's. */
  returned: PoolTask[];
  taken: number;
  finished: number;
  aborted: boolean;
  resolve: () => void;
  reject: (e: unknown) => void;
}

/**
 * Worker threads that run batches of tasks, one batch at a time, and stay up between them. A point's
 * index names one experiment for the pool's whole life: a worker keeps the last point's experiment
 * (and its graph) and is sent it again only for a new index. `close` terminates the workers; an aborted
 * batch closes the pool.
 */
export class WorkerPool {
  private readonly slots = new Set<Slot>();
  private batch: Batch | null = null;
  /** From a batch's call until it settles (the batch itself is made once the worker script is found). */
  private busy = false;
  private closed = false;
  private started = 0;

  /** Workers started over the pool's life (replacements for dead ones included). */
  get workersStarted(): number {
    return this.started;
  }

  /** `size` workers at most; they start with the first batch that has tasks for them. */
  constructor(
    private readonly size: number,
    private readonly init: PoolInit,
  ) {}

  /**
   * Runs every task of `tasks`; calls onOutcome for each as it finishes. `experimentOf` gives a point's
   * validated experiment, sent to a worker with its first task of that point (workers do not validate).
   * Settles once every task is reported, or, after `signal` aborts, once every worker has exited.
   */
  async run(tasks: TaskSource, onOutcome: (o: RunOutcome) => void, experimentOf: (point: SweepPoint) => Experiment, signal?: AbortSignal): Promise<void> {
    if (this.closed) throw new Error('internal: a batch sent to a closed worker pool');
    if (this.busy) throw new Error('internal: a batch sent to a worker pool already running one');
    if (tasks.count === 0 || signal?.aborted) return;
    this.busy = true;
    const onAbort = () => this.abort();
    try {
      const workerUrl = await workerScriptUrl();
      if (signal?.aborted) return; // while the worker script was being found
      signal?.addEventListener('abort', onAbort, { once: true });
      await new Promise<void>((resolve, reject) => {
        this.batch = { tasks, onOutcome, experimentOf, returned: [], taken: 0, finished: 0, aborted: false, resolve, reject };
        for (const slot of this.slots) this.refill(slot);
        this.startWanted(workerUrl);
      });
    } finally {
      signal?.removeEventListener('abort', onAbort);
      this.batch = null;
      this.busy = false;
    }
  }

  /** Terminates the workers; settles once they have exited. */
  async close(): Promise<void> {
    this.closed = true;
    const exits = [...this.slots].map((s) => {
      s.gone = true;
      return s.worker.terminate();
    });
    await Promise.all(exits);
  }

  /** Starts workers until the batch has as many as it can use (the pool's size, or its tasks). */
  private startWanted(workerUrl: URL): void {
    const b = this.batch;
    if (b === null || b.aborted) return;
    const wanted = Math.min(this.size, b.tasks.count);
    const left = b.returned.length > 0 || b.taken < b.tasks.count;
    while (left && this.slots.size < wanted) this.start(workerUrl);
  }

  private start(workerUrl: URL): void {
    const worker = new Worker(workerUrl, workerOptions(this.init));
    this.started++;
    const slot: Slot = { worker, inFlight: [], alone: false, sentPoint: -1, gone: false };
    this.slots.add(slot);
    worker.on('message', (o: RunOutcome) => {
      const b = this.batch;
      if (b === null || b.aborted) return;
      slot.inFlight.shift();
      slot.alone = false;
      if (this.report(b, o)) this.refill(slot);
    });
    const lost = (why: string) => {
      this.slots.delete(slot);
      if (slot.gone) return;
      slot.gone = true;
      const b = this.batch;
      if (b === null || b.aborted) return; // idle between batches: a new worker starts with the next
      if (slot.alone) {
        // It killed a worker with nothing else in flight: it is the culprit.
        const culprit = slot.inFlight.shift()!;
        if (!this.report(b, { point: culprit.point.index, replicate: culprit.replicate, seed: 0, ok: false, error: `worker died: ${why}` })) return;
      } else {
        b.returned.unshift(...slot.inFlight.splice(0));
      }
      // A worker with nothing in flight may take a returned task now, and the dead one is replaced.
      for (const s of this.slots) if (s.inFlight.length === 0) this.refill(s);
      this.startWanted(workerUrl);
    };
    worker.on('error', (e) => lost(e.message));
    worker.on('exit', (code) => {
      lost(`exit code ${code}`);
      const b = this.batch;
      if (b !== null && b.aborted && this.slots.size === 0) b.resolve();
    });
    this.refill(slot);
  }

  /** The next task from the batch's source: none once aborted. */
  private take(b: Batch): PoolTask | undefined {
    if (b.aborted) return undefined;
    const task = b.tasks.next();
    if (task !== undefined) b.taken++;
    return task;
  }

  private send(b: Batch, slot: Slot, task: PoolTask): void {
    slot.inFlight.push(task);
    let message: TaskMessage = task;
    if (task.point.index !== slot.sentPoint) {
      message = { ...task, exp: b.experimentOf(task.point) };
      slot.sentPoint = task.point.index;
    }
    slot.worker.postMessage(message);
  }

  /** Gives the worker tasks up to DEPTH; one that gets none waits for the next batch. */
  private refill(slot: Slot): void {
    const b = this.batch;
    if (b === null || slot.alone || slot.gone || b.aborted) return;
    if (b.returned.length > 0) {
      // A suspect goes alone, once this worker has nothing else in flight.
      if (slot.inFlight.length === 0) {
        slot.alone = true;
        this.send(b, slot, b.returned.shift()!);
      }
      return;
    }
    while (slot.inFlight.length < DEPTH) {
      const task = this.take(b);
      if (task === undefined) break;
      this.send(b, slot, task);
    }
  }

  /** Passes an outcome on; false (the batch rejected) when onOutcome threw. */
  private report(b: Batch, o: RunOutcome): boolean {
    b.finished++;
    try {
      b.onOutcome(o);
    } catch (e) {
      // Tasks still in flight would report into the next batch: the pool takes none.
      this.closed = true;
      b.reject(e);
      return false;
    }
    if (b.finished === b.tasks.count) b.resolve();
    return true;
  }

  /** Starts no more tasks and terminates the workers; the batch settles once they have exited. */
  private abort(): void {
    const b = this.batch;
    if (b === null) return;
    b.aborted = true;
    this.closed = true;
    if (this.slots.size === 0) b.resolve();
    for (const s of this.slots) void s.worker.terminate();
  }
}

/** Runs every task on `size` workers of a pool of its own (WorkerPool.run), then closes it. */
export async function runPool(
  size: number,
  init: PoolInit,
  tasks: TaskSource,
  onOutcome: (o: RunOutcome) => void,
  experimentOf: (point: SweepPoint) => Experiment,
  signal?: AbortSignal,
): Promise<void> {
  const pool = new WorkerPool(size, init);
  try {
    await pool.run(tasks, onOutcome, experimentOf, signal);
  } finally {
    await pool.close();
  }
}
