// Parameter sweeps: the order and values of grid, list and Latin hypercube points, each point's
// experiment, column names, and every way a sweep is rejected before a run (with the exact path
// and message of the issue).
import { describe, expect, test } from 'vitest';
import { ExperimentError, type InputIssue } from '../src/experiment/errors.ts';
import { parseExperiment } from '../src/experiment/load.ts';
import type { Experiment, ExperimentInput } from '../src/experiment/schema.ts';
import {
  MAX_SWEEP_POINTS,
  expandSweep,
  pointExperiment,
  sweepColumnName,
  sweepSize,
  sweptPaths,
  validateSweep,
  type SweepPoint,
} from '../src/experiment/sweep.ts';
import { minimalExperiment } from './fixtures/minimalExperiment.ts';
import { issuesOf } from './fixtures/issues.ts';

const FUND = 'scenario.insuranceFunds.0.initialUsd';
const VOL = 'scenario.assets.0.volatilityAnnual';
const PENALTY = 'scenario.exchanges.0.liquidation.penaltyFraction';
const COUNT = 'scenario.traders.0.count';

/** The fixture with a sweep (and any other top-level fields), parsed and validated. */
function withSweep(sweep: unknown, extra: Partial<ExperimentInput> = {}): Experiment {
  return parseExperiment({ ...minimalExperiment(), ...extra, sweep }, 'test');
}


const sweepIssues = (sweep: unknown): InputIssue[] => issuesOf(() => withSweep(sweep));
const grid = (parameters: Record<string, unknown[]>) => ({ kind: 'grid', parameters });
const lhs = (samples: number, parameters: Record<string, unknown>, seed?: number) => ({ kind: 'latinHypercube', samples, parameters, ...(seed === undefined ? {} : { seed }) });

describe('grid', () => {
  const exp = withSweep(grid({ [FUND]: [1000, 2000], [VOL]: [0.2, 0.4, 0.8] }));

  test('a 2×3 grid gives 6 points, the last parameter varying fastest', () => {
    expect(sweptPaths(exp)).toEqual([FUND, VOL]);
    expect(sweepSize(exp)).toBe(6);
    expect(expandSweep(exp)).toEqual([
      { index: 0, values: { [FUND]: 1000, [VOL]: 0.2 } },
      { index: 1, values: { [FUND]: 1000, [VOL]: 0.4 } },
      { index: 2, values: { [FUND]: 1000, [VOL]: 0.8 } },
      { index: 3, values: { [FUND]: 2000, [VOL]: 0.2 } },
      { index: 4, values: { [FUND]: 2000, [VOL]: 0.4 } },
      { index: 5, values: { [FUND]: 2000, [VOL]: 0.8 } },
    ]);
    // Column order is the key order of every point's values.
    for (const p of expandSweep(exp)) expect(Object.keys(p.values)).toEqual([FUND, VOL]);
  });

  test("each point's experiment has the point's values at their paths and no sweep", () => {
    const seen: Array<[number, number]> = [];
    for (const point of expandSweep(exp)) {
      const e = pointExperiment(exp, point);
      expect(e).not.toHaveProperty('sweep');
      expect(e.independentPoints).toBe(false);
      seen.push([e.scenario.insuranceFunds[0]!.initialUsd, e.scenario.assets[0]!.volatilityAnnual]);
      // Everything else is the base.
      expect(e.scenario.assets[1]).toEqual(exp.scenario.assets[1]);
      expect(e.seed).toBe(42);
      expect(e.runs).toBe(2);
    }
    expect(seen).toEqual([
      [1000, 0.2],
      [1000, 0.4],
      [1000, 0.8],
      [2000, 0.2],
      [2000, 0.4],
      [2000, 0.8],
    ]);
  });

  test("a point's experiment shares nothing with the base, which is never changed", () => {
    const e = pointExperiment(exp, expandSweep(exp)[4]!);
    expect(exp.scenario.insuranceFunds[0]!.initialUsd).toBe(1_000_000);
    expect(exp.scenario.assets[0]!.volatilityAnnual).toBe(0.6);
    e.scenario.assets[1]!.market.depthUsd = 1;
    e.scenario.traders.push(e.scenario.traders[0]!);
    expect(exp.scenario.assets[1]!.market.depthUsd).toBe(20_000_000);
    expect(exp.scenario.traders).toHaveLength(3);
    expect(exp.sweep?.kind).toBe('grid');
  });

  test('objects, bracket paths and steps can be swept; defaults are filled in each point', () => {
    const e = withSweep(
      grid({
        'scenario.traders[0].leverage': [{ kind: 'fixed', value: 5 }, { kind: 'uniform', min: 1, max: 10 }],
        steps: [20, 40],
        stepSeconds: [30],
        'scenario.exchanges.0.funding': [{ capPerHour: 0.01 }],
      }),
    );
    const points = expandSweep(e);
    expect(points).toHaveLength(4);
    const p1 = pointExperiment(e, points[1]!);
    expect(p1.scenario.traders[0]!).toMatchObject({ leverage: { kind: 'fixed', value: 5 } });
    expect(p1.steps).toBe(40);
    expect(p1.stepSeconds).toBe(30);
    expect(p1.scenario.exchanges[0]!.funding).toEqual({ interestRatePer8h: 0.0001, premiumClampPer8h: 0.0005, capPerHour: 0.01, indexPrice: 'fundamental' });
    const p2 = pointExperiment(e, points[2]!);
    expect(p2.scenario.traders[0]!).toMatchObject({ leverage: { kind: 'uniform', min: 1, max: 10 } });
    expect(p2.steps).toBe(20);
  });

  test('independentPoints defaults to false and is kept in every point', () => {
    expect(exp.independentPoints).toBe(false);
    const ind = withSweep(grid({ [VOL]: [0.3, 0.5] }), { independentPoints: true });
    expect(ind.independentPoints).toBe(true);
    expect(pointExperiment(ind, expandSweep(ind)[1]!).independentPoints).toBe(true);
  });
});

describe('list', () => {
  test('explicit points in file order, columns in the first point\'s key order', () => {
    const exp = withSweep({
      kind: 'list',
      points: [
        { [VOL]: 0.3, [FUND]: 10 },
        { [FUND]: 20, [VOL]: 0.9 },
        { [VOL]: 1.5, [FUND]: 0 },
      ],
    });
    expect(sweptPaths(exp)).toEqual([VOL, FUND]);
    const points = expandSweep(exp);
    expect(points).toEqual([
      { index: 0, values: { [VOL]: 0.3, [FUND]: 10 } },
      { index: 1, values: { [VOL]: 0.9, [FUND]: 20 } },
      { index: 2, values: { [VOL]: 1.5, [FUND]: 0 } },
    ]);
    for (const p of points) expect(Object.keys(p.values)).toEqual([VOL, FUND]);
    const e = pointExperiment(exp, points[1]!);
    expect(e.scenario.assets[0]!.volatilityAnnual).toBe(0.9);
    expect(e.scenario.insuranceFunds[0]!.initialUsd).toBe(20);
  });
});

describe('latin hypercube', () => {
  const BOUNDS = { vol: [0.2, 1.2], fund: [1000, 1_000_000] } as const;
  const design = (seed?: number, extra: Partial<ExperimentInput> = {}) =>
    withSweep(
      lhs(
        10,
        {
          [VOL]: { min: BOUNDS.vol[0], max: BOUNDS.vol[1] },
          [FUND]: { min: BOUNDS.fund[0], max: BOUNDS.fund[1], scale: 'log' },
        },
        seed,
      ),
      extra,
    );
  const column = (points: SweepPoint[], path: string): number[] => points.map((p) => p.values[path] as number);
  /** Stratum (0..n-1) of each value on a linear or log scale. */
  const strata = (xs: number[], min: number, max: number, log: boolean, n: number): number[] =>
    xs.map((x) => Math.floor(((log ? Math.log(x) - Math.log(min) : x - min) / (log ? Math.log(max) - Math.log(min) : max - min)) * n));

  test('10 samples over 2 parameters: exactly one sample in each of the 10 strata of each parameter', () => {
    const exp = design();
    const points = expandSweep(exp);
    expect(points).toHaveLength(10);
    expect(points.map((p) => p.index)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const vol = column(points, VOL);
    const fund = column(points, FUND);
    for (const v of vol) expect(v >= 0.2 && v <= 1.2).toBe(true);
    for (const f of fund) expect(f >= 1000 && f <= 1_000_000).toBe(true);
    const all = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
    expect([...strata(vol, 0.2, 1.2, false, 10)].sort((a, b) => a - b)).toEqual(all);
    // The log parameter is stratified in log space (each decade holds 10/3 strata), not linearly.
    expect([...strata(fund, 1000, 1_000_000, true, 10)].sort((a, b) => a - b)).toEqual(all);
    // 10^4 is a third of the way up in log space: strata 0–2 lie below it, stratum 3 straddles it.
    const belowTenThousand = fund.filter((f) => f < 10_000).length;
    expect(belowTenThousand === 3 || belowTenThousand === 4).toBe(true);
    // Linearly, 9 of the 10 strata would lie above 10^5; in log space only strata 7–9 (and part of 6) do.
    expect(fund.filter((f) => f > 100_000).length).toBeLessThanOrEqual(4);
    // The two columns are not permuted the same way.
    expect(strata(vol, 0.2, 1.2, false, 10)).not.toEqual(strata(fund, 1000, 1_000_000, true, 10));
    // Every point is a valid experiment.
    expect(pointExperiment(exp, points[7]!).scenario.assets[0]!.volatilityAnnual).toBe(vol[7]);
  });

  test('deterministic for a seed, different for another; the experiment seed is the default', () => {
    const a = expandSweep(design(7));
    expect(expandSweep(design(7))).toEqual(a);
    expect(column(expandSweep(design(8)), VOL)).not.toEqual(column(a, VOL));
    // The fixture's seed is 42: an explicit seed 42 is the same design as none.
    expect(expandSweep(design(42))).toEqual(expandSweep(design()));
    expect(expandSweep(design(undefined, { seed: 43 }))).toEqual(expandSweep(design(43)));
    expect(expandSweep(design(undefined, { seed: 43 }))).not.toEqual(expandSweep(design()));
  });

  test('adding a parameter at the end does not move the earlier columns', () => {
    const two = expandSweep(design(5));
    const three = expandSweep(
      withSweep(
        lhs(
          10,
          {
            [VOL]: { min: 0.2, max: 1.2 },
            [FUND]: { min: 1000, max: 1_000_000, scale: 'log' },
            [PENALTY]: { min: 0, max: 0.05 },
          },
          5,
        ),
      ),
    );
    expect(column(three, VOL)).toEqual(column(two, VOL));
    expect(column(three, FUND)).toEqual(column(two, FUND));
  });

  test('integer parameters are rounded to the nearest integer inside [min, max]', () => {
    const exp = withSweep(lhs(10, { [COUNT]: { min: 1, max: 50, integer: true }, 'steps': { min: 20.4, max: 22.6, integer: true } }, 3));
    const points = expandSweep(exp);
    const counts = column(points, COUNT);
    for (const c of counts) {
      expect(Number.isInteger(c)).toBe(true);
      expect(c >= 1 && c <= 50).toBe(true);
    }
    // Strata of width 4.9: rounding moves a value by at most 0.5, so 10 distinct counts.
    expect(new Set(counts).size).toBe(10);
    // [20.4, 22.6] holds 21 and 22 only: 20 and 23 would be outside the range.
    const steps = column(points, 'steps');
    expect(steps.every((s) => s === 21 || s === 22)).toBe(true);
    expect(steps.filter((s) => s === 21).length).toBeGreaterThanOrEqual(4);
    expect(steps.filter((s) => s === 22).length).toBeGreaterThanOrEqual(4);
    expect(pointExperiment(exp, points[0]!).scenario.traders[0]!.count).toBe(counts[0]);
  });

  test('log scale with an integer range stays within its bounds', () => {
    const points = expandSweep(withSweep(lhs(50, { [COUNT]: { min: 1, max: 1000, scale: 'log', integer: true } }, 9)));
    const counts = column(points, COUNT);
    expect(Math.min(...counts)).toBeGreaterThanOrEqual(1);
    expect(Math.max(...counts)).toBeLessThanOrEqual(1000);
    // Log stratification: 1/3 of the samples in each decade.
    expect(counts.filter((c) => c < 10).length).toBeGreaterThanOrEqual(15);
    expect(counts.filter((c) => c > 100).length).toBeGreaterThanOrEqual(15);
  });
});

describe('no sweep', () => {
  test('expands to one point with no values, whose experiment is the base', () => {
    const exp = parseExperiment(minimalExperiment(), 'test');
    expect(sweptPaths(exp)).toEqual([]);
    expect(sweepSize(exp)).toBe(1);
    expect(expandSweep(exp)).toEqual([{ index: 0, values: {} }]);
    expect(validateSweep(exp)).toEqual([]);
    expect(pointExperiment(exp, { index: 0, values: {} })).toEqual(exp);
  });
});

describe('sweepColumnName', () => {
  test.each([
    ['scenario.insuranceFunds.0.initialUsd', 'p_scenario_insurance_funds_0_initial_usd'],
    ['scenario.assets.0.volatilityAnnual', 'p_scenario_assets_0_volatility_annual'],
    ['scenario.traders[0].leverage', 'p_scenario_traders_0_leverage'],
    ['scenario.regimes.switching.calmToStressPerHour', 'p_scenario_regimes_switching_calm_to_stress_per_hour'],
    ['scenario.assets.1.market.depthUSD', 'p_scenario_assets_1_market_depth_usd'],
    ['steps', 'p_steps'],
    ['stepSeconds', 'p_step_seconds'],
  ])('%s → %s', (path, name) => {
    expect(sweepColumnName(path)).toBe(name);
  });
});

describe('a bad sweep is rejected before any run', () => {
  test('a path that does not exist is named', () => {
    expect(sweepIssues(grid({ 'scenario.assets.0.volatilityAnual': [0.5] }))).toEqual([
      {
        path: 'sweep.parameters.scenario.assets.0.volatilityAnual',
        value: [0.5],
        message: expect.stringContaining('scenario.assets.0.volatilityAnual does not exist in the experiment'),
      },
    ]);
    const [missingParent] = sweepIssues(grid({ 'scenario.nothing.here': [1] }));
    expect(missingParent?.path).toBe('sweep.parameters.scenario.nothing.here');
    expect(missingParent?.message).toMatch(/^scenario\.nothing does not exist in the experiment/);
    const [outOfRange] = sweepIssues(grid({ 'scenario.assets.5.volatilityAnnual': [1] }));
    expect(outOfRange?.message).toBe('scenario.assets.5 does not exist: scenario.assets has 2 elements');
    // An optional field the base does not set cannot be swept: the sweep would create it.
    const [optional] = sweepIssues(grid({ 'scenario.insuranceFunds.0.capUsd': [1e6] }));
    expect(optional?.path).toBe('sweep.parameters.scenario.insuranceFunds.0.capUsd');
    expect(optional?.message).toContain('scenario.insuranceFunds.0.capUsd does not exist in the experiment');
    const [malformed] = sweepIssues(grid({ 'scenario.assets[x].symbol': ['A'] }));
    expect(malformed?.message).toContain('not a valid path: "[x]" is not an array index');
  });

  test('paths outside the scenario (other than steps, stepSeconds) are forbidden', () => {
    const issues = sweepIssues(grid({ seed: [1, 2], runs: [3], name: ['x'], 'output.steps': [false], scenario: [{}] }));
    expect(issues.map((i) => i.path)).toEqual([
      'sweep.parameters.seed',
      'sweep.parameters.runs',
      'sweep.parameters.name',
      'sweep.parameters.output.steps',
      'sweep.parameters.scenario',
    ]);
    expect(issues[0]!.message).toContain('cannot sweep the seed');
    expect(issues[1]!.message).toBe('cannot sweep "runs": only paths under scenario. and steps, stepSeconds can vary between points');
    expect(issues[3]!.message).toBe('cannot sweep "output.steps": only paths under scenario. and steps, stepSeconds can vary between points');
    expect(issues[4]!.message).toContain('cannot sweep the whole scenario');
    const [inList] = sweepIssues({ kind: 'list', points: [{ sweep: 1 }] });
    expect(inList).toMatchObject({ path: 'sweep.points.0.sweep', value: 1, message: 'cannot sweep "sweep": only paths under scenario. and steps, stepSeconds can vary between points' });
  });

  test('a point that makes the experiment invalid is named with its values and the field', () => {
    const issues = sweepIssues(grid({ [PENALTY]: [0.01, -0.1, 0.6], [VOL]: [0.5, 0.7] }));
    expect(issues).toEqual([
      { path: `sweep point 2 (${PENALTY}=-0.1, ${VOL}=0.5): ${PENALTY}`, value: -0.1, message: 'expected a number ≥ 0' },
      { path: `sweep point 3 (${PENALTY}=-0.1, ${VOL}=0.7): ${PENALTY}`, value: -0.1, message: 'expected a number ≥ 0' },
      { path: `sweep point 4 (${PENALTY}=0.6, ${VOL}=0.5): ${PENALTY}`, value: 0.6, message: 'expected a number ≤ 0.5' },
      { path: `sweep point 5 (${PENALTY}=0.6, ${VOL}=0.7): ${PENALTY}`, value: 0.6, message: 'expected a number ≤ 0.5' },
    ]);
  });

  test('cross-field rules are checked at every point', () => {
    // The fixture's shock starts at step 10: 5 steps would end before it.
    const [shock, ...rest] = sweepIssues(grid({ steps: [50, 5] }));
    expect(rest).toEqual([]);
    expect(shock).toEqual({
      path: 'sweep point 1 (steps=5): scenario.shocks.0.startStep',
      value: 10,
      message: 'the shock would start after the last step: expected a step below steps (5)',
    });
    const [tier] = sweepIssues({ kind: 'list', points: [{ 'scenario.exchanges.0.markets.1.marginTiers.0.maintenanceMarginFraction': 0.05 }] });
    expect(tier?.path).toBe('sweep point 0 (scenario.exchanges.0.markets.1.marginTiers.0.maintenanceMarginFraction=0.05): scenario.exchanges.0.markets.1.marginTiers.0.maintenanceMarginFraction');
    expect(tier?.message).toBe('expected less than initialMarginFraction (0.04) of the same tier');
  });

  test('pointExperiment throws an ExperimentError naming the point', () => {
    const base = parseExperiment(minimalExperiment(), 'test');
    const err = (() => {
      try {
        pointExperiment(base, { index: 3, values: { [FUND]: -5 } });
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(ExperimentError);
    expect((err as ExperimentError).issues).toEqual([
      { path: 'sweep point 3 (scenario.insuranceFunds.0.initialUsd=-5): scenario.insuranceFunds.0.initialUsd', value: -5, message: 'expected a number ≥ 0' },
    ]);
    expect(issuesOf(() => pointExperiment(base, { index: 0, values: { 'scenario.nope.x': 1 } }))).toEqual([
      { path: 'sweep point 0 (scenario.nope.x=1): scenario.nope.x', value: 1, message: expect.stringContaining('scenario.nope does not exist in the experiment') },
    ]);
  });

  test('more than 10 invalid points: the first 10 are listed and the rest counted', () => {
    const vols = Array.from({ length: 25 }, (_, i) => 0.1 + i / 100);
    const issues = sweepIssues(grid({ [PENALTY]: [-1], [VOL]: vols }));
    expect(issues).toHaveLength(11);
    expect(issues[9]!.path).toBe(`sweep point 9 (${PENALTY}=-1, ${VOL}=0.19): ${PENALTY}`);
    expect(issues[10]).toEqual({
      path: 'sweep',
      value: Array.from({ length: 15 }, (_, i) => i + 10),
      message: '25 of the 25 points are invalid; the first 10 are listed above, the other points are given here by index',
    });
  });

  test('a log scale needs min > 0', () => {
    expect(sweepIssues(lhs(5, { [FUND]: { min: 0, max: 1e6, scale: 'log' } }))).toEqual([
      { path: `sweep.parameters.${FUND}.min`, value: 0, message: 'a log scale needs min > 0' },
    ]);
  });

  test('min must not exceed max', () => {
    expect(sweepIssues(lhs(5, { [VOL]: { min: 2, max: 1 } }))).toEqual([
      { path: `sweep.parameters.${VOL}.min`, value: 2, message: 'expected min ≤ max (1)' },
    ]);
  });

  test('an integer range with no integer in it', () => {
    expect(sweepIssues(lhs(5, { [COUNT]: { min: 1.2, max: 1.8, integer: true } }))).toEqual([
      { path: `sweep.parameters.${COUNT}.min`, value: 1.2, message: 'no integer lies in [1.2, 1.8]: widen the range or drop "integer"' },
    ]);
  });

  test('list points that set different paths', () => {
    const issues = sweepIssues({ kind: 'list', points: [{ [VOL]: 0.5, [FUND]: 1 }, { [VOL]: 0.6, [FUND]: 2 }, { [VOL]: 0.7, [COUNT]: 3 }] });
    expect(issues).toEqual([
      {
        path: 'sweep.points.2',
        value: { [VOL]: 0.7, [COUNT]: 3 },
        message: `does not set ${FUND} and sets ${COUNT}, which point 0 does not: every point must set the same paths as point 0 (${VOL}, ${FUND})`,
      },
    ]);
  });

  test('two keys for the same field (duplicate column name) or overlapping fields', () => {
    expect(sweepIssues(grid({ [VOL]: [0.5], 'scenario.assets[0].volatilityAnnual': [0.6] }))).toEqual([
      {
        path: 'sweep.parameters.scenario.assets[0].volatilityAnnual',
        value: [0.6],
        message: `its column name "p_scenario_assets_0_volatility_annual" is the same as that of the swept path ${VOL}: each swept path needs a distinct column`,
      },
    ]);
    const [overlap] = sweepIssues(grid({ 'scenario.assets.0.market': [{ depthUsd: 1, impact: 'sqrt', impactCoefficient: 0.01, resilienceHalfLifeSeconds: 300, permanentShare: 0.2 }], 'scenario.assets.0.market.depthUsd': [5] }));
    expect(overlap).toMatchObject({
      path: 'sweep.parameters.scenario.assets.0.market.depthUsd',
      message: 'overlaps with the swept path scenario.assets.0.market: a sweep cannot set a value and also a field inside it',
    });
  });

  test('a grid too large to run is rejected without expanding it', () => {
    const values = Array.from({ length: 101 }, (_, i) => 0.1 + i / 1000);
    const t0 = performance.now();
    const issues = sweepIssues(grid({ [VOL]: values, 'scenario.assets.1.volatilityAnnual': values, [PENALTY]: values.map((v) => v / 100) }));
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(issues).toEqual([{ path: 'sweep.parameters', value: '101 × 101 × 101', message: `the grid has 1030301 points: expected at most ${MAX_SWEEP_POINTS}` }]);
  });

  test('the schema rejects malformed sweeps with their paths', () => {
    expect(sweepIssues(grid({ [VOL]: [] })).map((i) => [i.path, i.message])).toEqual([[`sweep.parameters.${VOL}`, 'expected at least 1 item']]);
    expect(sweepIssues(grid({})).map((i) => [i.path, i.message])).toEqual([['sweep.parameters', 'expected at least one parameter']]);
    expect(sweepIssues({ kind: 'list', points: [] }).map((i) => [i.path, i.message])).toEqual([['sweep.points', 'expected at least 1 item']]);
    expect(sweepIssues({ kind: 'random', samples: 3 }).map((i) => [i.path, i.message])).toEqual([
      ['sweep.kind', 'expected "kind" to be one of "grid", "list", "latinHypercube"'],
    ]);
    expect(sweepIssues(lhs(0, { [VOL]: { min: 0, max: 1 } })).map((i) => [i.path, i.message])).toEqual([['sweep.samples', 'expected a number ≥ 1']]);
    expect(sweepIssues(lhs(3, { [VOL]: { min: 0, max: 1, scale: 'exp' } })).map((i) => i.path)).toEqual([`sweep.parameters.${VOL}.scale`]);
  });

  test('validateSweep on a parsed experiment gives the same issues as loading', () => {
    const base = parseExperiment(minimalExperiment(), 'test');
    const exp: Experiment = { ...base, sweep: { kind: 'latinHypercube', samples: 4, parameters: { [FUND]: { min: -1, max: 5, scale: 'log', integer: false } } } };
    expect(validateSweep(exp)).toEqual([{ path: `sweep.parameters.${FUND}.min`, value: -1, message: 'a log scale needs min > 0' }]);
  });
});

describe('performance', () => {
  test('a 10,000-point sweep validates in well under a second', () => {
    const values = (n: number, f: (i: number) => number) => Array.from({ length: n }, (_, i) => f(i));
    const raw = { ...minimalExperiment(), sweep: grid({ [VOL]: values(100, (i) => 0.1 + i / 100), [FUND]: values(100, (i) => i * 1000) }) };
    parseExperiment(raw, 'warm-up'); // zod compiles its parsers on first use
    const t0 = performance.now();
    const exp = parseExperiment(raw, 'test');
    const ms = performance.now() - t0;
    if (process.env.SWEEP_TIMING) console.log(`10,000-point sweep validated in ${ms.toFixed(0)} ms`);
    expect(sweepSize(exp)).toBe(10_000);
    // Typically ~0.2 s; the bound leaves room for a loaded CI machine.
    expect(ms).toBeLessThan(2000);
  });
});
