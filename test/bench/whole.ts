// One timed whole run of the scaled flagship, shared by the benchmark (test/bench/run.ts) and its
// helper for the largest point of the scaling curve (test/bench/curveRun.ts, in a fresh process).
import { performance } from 'node:perf_hooks';
import { worldFor } from '../../src/engine/simulate.ts';
import { step } from '../../src/engine/step.ts';
import { parseExperiment } from '../../src/experiment/load.ts';
import { buildGraph } from '../../src/graph/build.ts';
import { scaledScenario } from './scaled.ts';

/** Result of one timed whole run of the scaled flagship. */
export interface WholeRun {
  accounts: number;
  positions: number;
  steps: number;
  buildS: number;
  runS: number;
  /** Seconds of the steps before the scripted switch to stress (the calm stretch). */
  calmS: number;
  calmSteps: number;
  accountMarks: number;
  marks: number;
  liquidations: number;
}

/**
 * One whole run (build, then every step, crash included) of the flagship scaled to `accounts` on a
 * `steps`-step timeline, events off, the default event-driven margin checks (or `marginChecks`).
 */
export function wholeRun(accounts: number, steps: number, marginChecks: 'event' | 'every-step' = 'event'): WholeRun {
  const { raw } = scaledScenario(accounts, steps);
  const exp = parseExperiment(raw, `bench:whole-${accounts}x${steps}`);
  const graph = buildGraph(exp);
  let t = performance.now();
  const w = worldFor(exp, graph, 0, undefined, { marginChecks });
  const buildS = (performance.now() - t) / 1000;
  const sw = exp.scenario.regimes.switching;
  const calmSteps = sw.kind === 'scripted' ? sw.toStressAtStep : steps;
  t = performance.now();
  let calmS = 0;
  for (let k = 0; k < steps; k++) {
    w.step = k;
    step(w);
    if (k === calmSteps - 1) calmS = (performance.now() - t) / 1000;
  }
  const runS = (performance.now() - t) / 1000;
  return {
    accounts: w.nAccounts,
    positions: w.nPositions,
    steps,
    buildS,
    runS,
    calmS,
    calmSteps,
    accountMarks: w.marginIndex.accountMarks,
    marks: w.marginIndex.marks,
    liquidations: Array.from(w.totals.liquidations).reduce((a, b) => a + b, 0),
  };
}

export const rate = (r: WholeRun) => (r.accounts * r.steps) / r.runS;
