// One run, start to finish, in whatever thread executes it: the point's experiment (validated and
// cached per point), the simulation, and the run's part file committed atomically. Shared by the
// in-process runner and the worker threads, so both write identical parts.
import type { Experiment } from '../experiment/schema.ts';
import type { MarginChecks } from '../engine/marginIndex.ts';
import type { SweepPoint } from '../experiment/sweep.ts';
import { buildGraph, type DependencyGraph } from '../graph/build.ts';
import { simulateRun } from '../engine/simulate.ts';
import { commitPart, commitPartAsync, startPart, type PendingPart } from '../io/parts.ts';
import type { RunSummary } from '../engine/record.ts';

/** What the runner learns about a finished run (the tables stay in the part file). */
export interface RunOutcome {
  point: number;
  replicate: number;
  seed: number;
  ok: boolean;
  summary?: RunSummary;
  error?: string;
  /** The system error code of a failure (ENOSPC: the disk is full), when it has one. */
  errorCode?: string;
}

export interface ExecuteContext {
  base: Experiment;
  outDir: string;
  check: boolean;
  /** How margin checks find accounts (same results either way; 'every-step' is the reference). */
  marginChecks: MarginChecks;
  /**
   * Runs to fail on purpose, to test failure handling: CONTAGION_FAIL_RUNS="P/R,…", each "P/R" or
   * "P/R:CODE" to fail it as a system error of that code (ENOSPC: a full disk), or "P/R:EXIT" to end the
   * thread running it (a worker dying; with workers only).
   */
  failRuns: ReadonlyMap<string, string | null>;
  /**
   * The validated experiment of a sweep point: pointExperiment in the calling thread; in a worker, the
   * one the pool sent with the point's first task (so workers need not load zod to validate it).
   */
  resolve: (point: SweepPoint) => Experiment;
  /** The last point's experiment and graph: runs arrive point by point, so one entry suffices. */
  cache: { point: number; exp: Experiment; graph: DependencyGraph } | null;
  /** Settles once every part started by executeRunOverlapped is committed and reported. */
  committing: Promise<void>;
}

export function makeContext(
  base: Experiment,
  outDir: string,
  check: boolean,
  env: NodeJS.ProcessEnv,
  marginChecks: MarginChecks,
  resolve: (point: SweepPoint) => Experiment,
): ExecuteContext {
  const failRuns = new Map<string, string | null>();
  for (const entry of (env.CONTAGION_FAIL_RUNS ?? '').split(',').map((s) => s.trim()).filter(Boolean)) {
    const [key, code] = entry.split(':');
    failRuns.set(key!, code ?? null);
  }
  return { base, outDir, check, marginChecks, failRuns, resolve, cache: null, committing: Promise.resolve() };
}

/** Runs one (point, replicate) and writes its part; a throw becomes a failed outcome. */
export function executeRun(ctx: ExecuteContext, point: SweepPoint, replicate: number): RunOutcome {
  const started = startRun(ctx, point, replicate);
  if (started.part === null) return started.outcome;
  try {
    commitPart(started.part);
    return started.outcome;
  } catch (e) {
    return failed(started.outcome, e);
  }
}

/**
 * executeRun for a worker thread: the part's fsync runs on the thread pool while this thread goes on
 * with its next run, and `done` gets the outcome once the part is in place. Parts are committed and
 * reported in the order the runs were started (the pool pairs outcomes with its tasks in that order).
 */
export function executeRunOverlapped(ctx: ExecuteContext, point: SweepPoint, replicate: number, done: (o: RunOutcome) => void): void {
  const { outcome, part } = startRun(ctx, point, replicate);
  ctx.committing = ctx.committing.then(
    () =>
      new Promise<void>((resolve) => {
        const report = (o: RunOutcome) => {
          done(o);
          resolve();
        };
        if (part === null) report(outcome);
        else commitPartAsync(part, (err) => report(err ? failed(outcome, err) : outcome));
      }),
  );
}

/** Simulates the run and writes its part's bytes (not yet committed); a throw becomes a failed outcome. */
function startRun(ctx: ExecuteContext, point: SweepPoint, replicate: number): { outcome: RunOutcome; part: PendingPart | null } {
  let seed = 0;
  try {
    if (!ctx.cache || ctx.cache.point !== point.index) {
      const exp = ctx.resolve(point);
      ctx.cache = { point: point.index, exp, graph: buildGraph(exp) };
    }
    const { exp, graph } = ctx.cache;
    const injected = ctx.failRuns.get(`${point.index}/${replicate}`);
    if (injected === null) throw new Error(`injected failure (CONTAGION_FAIL_RUNS=${point.index}/${replicate})`);
    // A worker dying in the middle of a run (in a worker thread, process.exit ends only that thread).
    if (injected === 'EXIT') process.exit(70);
    if (injected !== undefined) {
      throw Object.assign(new Error(`${injected}: injected system error, write (CONTAGION_FAIL_RUNS=${point.index}/${replicate}:${injected})`), { code: injected });
    }
    const result = simulateRun(exp, graph, replicate, {
      check: ctx.check,
      marginChecks: ctx.marginChecks,
      pointIndex: point.index,
      independentPoints: ctx.base.independentPoints,
    });
    seed = result.seed;
    const part = startPart(ctx.outDir, result);
    return { outcome: { point: point.index, replicate, seed, ok: true, summary: result.summary }, part };
  } catch (e) {
    return { outcome: failed({ point: point.index, replicate, seed }, e), part: null };
  }
}

function failed(o: Pick<RunOutcome, 'point' | 'replicate' | 'seed'>, e: unknown): RunOutcome {
  const error = e instanceof Error ? e.message : String(e);
  const code = (e as NodeJS.ErrnoException | null)?.code;
  return { point: o.point, replicate: o.replicate, seed: o.seed, ok: false, error, ...(typeof code === 'string' ? { errorCode: code } : {}) };
}
