// experiments/profit-taking.json (design decision 58): longs that take their profit out in a rally before
// the crash. The shipped file is loaded and run in-process, one point at a time (its sweep removed), on
// the same seeded paths both ways, with every invariant and the balance sheet checked after every step.
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseExperiment } from '../src/experiment/load.ts';
import type { Experiment, ExperimentInput } from '../src/experiment/schema.ts';
import { buildGraph } from '../src/graph/build.ts';
import { simulateRun } from '../src/engine/simulate.ts';
import { EventKindCode, type RunResult } from '../src/engine/record.ts';
import { participantList } from '../src/engine/participants.ts';

const FILE = new URL('../experiments/profit-taking.json', import.meta.url);
const REPLICATES = [0, 1, 2];

/** The shipped experiment at sweep point p (its rule for both long cohorts), without its sweep, events on. */
function point(p: number): Experiment {
  const raw = JSON.parse(readFileSync(FILE, 'utf8')) as ExperimentInput & { sweep: { points: Record<string, unknown>[] } };
  const values = raw.sweep.points[p]!;
  delete (raw as { sweep?: unknown }).sweep;
  for (const [path, value] of Object.entries(values)) {
    const i = Number(/^scenario\.traders\.(\d+)\.withdrawal$/.exec(path)![1]);
    (raw.scenario.traders[i] as { withdrawal?: unknown }).withdrawal = value;
  }
  raw.output = { ...raw.output, events: true };
  return parseExperiment(raw, 'profit-taking');
}

function withdrawnUsd(r: RunResult): number {
  let sum = 0;
  for (let i = 0; i < r.events.length; i++) if (r.events.kind[i] === EventKindCode.withdrawal) sum += r.events.amountUsd[i]!;
  return sum;
}

describe('profit-taking before a crash (experiments/profit-taking.json)', () => {
  const keep = point(0);
  const take = point(1);
  let runs: { keep: RunResult; take: RunResult }[] = [];
  beforeAll(() => {
    runs = REPLICATES.map((rep) => ({
      keep: simulateRun(keep, buildGraph(keep), rep, { check: true }),
      take: simulateRun(take, buildGraph(take), rep, { check: true }),
    }));
  }, 120_000);

  it('the sweep is the two long cohorts keeping their margin, then taking out what is above 1.5× their initial requirement every hour', () => {
    const raw = JSON.parse(readFileSync(FILE, 'utf8')) as { sweep: { points: Record<string, unknown>[] } };
    expect(raw.sweep.points).toHaveLength(2);
    expect(Object.values(raw.sweep.points[0]!)).toEqual([null, null]);
    for (const v of Object.values(raw.sweep.points[1]!)) expect(v).toEqual({ aboveInitialMarginMultiple: 1.5, downToInitialMarginMultiple: 1, everySteps: 60, probability: 1 });
  });

  it('on the same paths, the longs that take profit withdraw millions in the rally, and the crash then liquidates more and leaves more bad debt', () => {
    expect(runs).toHaveLength(REPLICATES.length);
    for (const [i, r] of runs.entries()) {
      expect(withdrawnUsd(r.keep), `replicate ${i}`).toBe(0);
      expect(withdrawnUsd(r.take), `replicate ${i}`).toBeGreaterThan(1e6);
      expect(r.take.summary.liquidationVolumeUsd, `replicate ${i}`).toBeGreaterThan(r.keep.summary.liquidationVolumeUsd);
      expect(r.take.summary.totalBadDebtUsd, `replicate ${i}`).toBeGreaterThan(r.keep.summary.totalBadDebtUsd);
    }
  });

  it('who pays moves: the longs lose less (they took their gains out), the makers and the fund gain less', () => {
    // Rows by the names cohorts.arrow gives them (participantList), so a row at the wrong code fails here.
    const { names } = participantList(take.scenario);
    const pnl = (r: RunResult, name: string) => {
      const row = [...r.cohorts.cohort].findIndex((c) => names[c] === name);
      expect(row, name).toBeGreaterThanOrEqual(0);
      return r.cohorts.valueUsd[row]! - r.cohorts.contributedUsd[row]!;
    };
    const longs = (r: RunResult) => pnl(r, 'isolated-longs') + pnl(r, 'cross-longs');
    for (const [i, r] of runs.entries()) {
      expect(longs(r.take), `replicate ${i}`).toBeGreaterThan(longs(r.keep));
      expect(pnl(r.take, 'makers'), `replicate ${i}`).toBeLessThan(pnl(r.keep, 'makers'));
      expect(pnl(r.take, 'fund shared-fund'), `replicate ${i}`).toBeLessThan(pnl(r.keep, 'fund shared-fund'));
    }
  });
});
