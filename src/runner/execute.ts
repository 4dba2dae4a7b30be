// One run, start to finish, in whatever thread executes it: the point's experiment (validated and
// cached per point), the simulation, and the run's part file committed atomically. Shared by the
// in-process runner and the worker threads, so both write identical parts.
import type { Experiment } from '../experiment/schema.ts';
import type { MarginChecks } from '../engine/marginIndex.ts';
import { pointExperiment, type SweepPoint } from '../experiment/sweep.ts';
import { buildGraph, type DependencyGraph } from '../graph/build.ts';
import { simulateRun } from '../engine/simulate.ts';
import { writePart } from '../io/parts.ts';
import type { RunSummary } from '../engine/record.ts';

/** What the runner learns about a finished run (the tables stay in the part file). */
export interface RunOutcome {
  point: number;
  replicate: number;
  seed: number;
  ok: boolean;
  summary?: RunSummary;
  error?: string;
}

export interface ExecuteContext {
  base: Experiment;
  outDir: string;
  check: boolean;
  /** How margin checks find accounts (same results either way; 'every-step' is the reference). */
  marginChecks: MarginChecks;
  /** Runs to fail on purpose ("P/R" keys), to test failure handling: CONTAGION_FAIL_RUNS. */
  failRuns: ReadonlySet<string>;
  /** The last point's experiment and graph: runs arrive point by point, so one entry suffices. */
  cache: { point: number; exp: Experiment; graph: DependencyGraph } | null;
}

export function makeContext(
  base: Experiment,
  outDir: string,
  check: boolean,
  env: NodeJS.ProcessEnv,
  marginChecks: MarginChecks = 'event',
): ExecuteContext {
  const failRuns = new Set((env.CONTAGION_FAIL_RUNS ?? '').split(',').map((s) => s.trim()).filter(Boolean));
  return { base, outDir, check, marginChecks, failRuns, cache: null };
}

/** Runs one (point, replicate) and writes its part; a throw becomes a failed outcome. */
export function executeRun(ctx: ExecuteContext, point: SweepPoint, replicate: number): RunOutcome {
  let seed = 0;
  try {
    if (!ctx.cache || ctx.cache.point !== point.index) {
      const exp = pointExperiment(ctx.base, point);
      ctx.cache = { point: point.index, exp, graph: buildGraph(exp) };
    }
    const { exp, graph } = ctx.cache;
    if (ctx.failRuns.has(`${point.index}/${replicate}`)) {
      throw new Error(`injected failure (CONTAGION_FAIL_RUNS=${point.index}/${replicate})`);
    }
    const result = simulateRun(exp, graph, replicate, {
      check: ctx.check,
      marginChecks: ctx.marginChecks,
      pointIndex: point.index,
      independentPoints: ctx.base.independentPoints,
    });
    seed = result.seed;
    writePart(ctx.outDir, result);
    return { point: point.index, replicate, seed, ok: true, summary: result.summary };
  } catch (e) {
    const error = e instanceof Error ? e.message : String(e);
    return { point: point.index, replicate, seed, ok: false, error };
  }
}
