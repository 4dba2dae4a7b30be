// Portfolio (scenario) margin: a hedged two-asset book whose requirement collapses to nothing when
// the grid assumes the assets move together and is 320,000 when they may move apart; tail weights;
// a short call under a volatility-up shock; and, on random books against a brute-force enumeration
// of every scenario, that the requirement covers every scenario and orders independent ≥ groups ≥ joint.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import './fixtures/fcSeed.ts';
import { portfolioRequirementUsd, type Position, type ScenarioGrid } from '../src/margin/portfolio.ts';
import { blackScholes, type OptionGreeks } from '../src/model/options.ts';
import { mixedReal, real } from './fixtures/reals.ts';

const linearGrid = (comovement: ScenarioGrid['comovement'], netDeltaChargeFraction = 0.01): ScenarioGrid => ({
  moves: [-0.16, -0.08, 0, 0.08, 0.16],
  volShocks: [0],
  tailMoves: [],
  tailWeight: 0,
  netDeltaChargeFraction,
  comovement,
});

describe('a long BTC / short ETH book under each correlation assumption', () => {
  // Long 10 BTC at 100,000 and short 200 ETH at 5,000: 1,000,000 of notional each way.
  const book: Position[] = [
    { asset: 0, kind: 'linear', qty: 10 },
    { asset: 1, kind: 'linear', qty: -200 },
  ];
  const spot = Float64Array.of(100_000, 5_000);
  it('Joint moves see a perfect hedge: every scenario loses 1,000,000·m − 1,000,000·m = 0 and the net delta charge is 1% × |1,000,000 − 1,000,000| = 0', () => {
    const r = portfolioRequirementUsd(book, spot, linearGrid({ kind: 'joint' }));
    expect(r.scenarioLossUsd).toBe(0);
    expect(r.netDeltaChargeUsd).toBe(0);
    expect(r.requirementUsd).toBe(0);
  });
  it('Independent moves find BTC −16% with ETH +16%: 160,000 + 160,000 = 320,000', () => {
    const r = portfolioRequirementUsd(book, spot, linearGrid({ kind: 'independent' }));
    expect(r.scenarioLossUsd).toBeCloseTo(320_000, 6);
    expect(r.worstScenario).toEqual([-0.16, 0.16]);
    expect(r.worstVolShock).toBe(0);
    // Deltas netted per asset: 1% × (1,000,000 + 1,000,000) = 20,000, below the scenario loss.
    expect(r.netDeltaChargeUsd).toBeCloseTo(20_000, 9);
    expect(r.requirementUsd).toBeCloseTo(320_000, 6);
  });
  it('Both assets in one group is the joint assumption', () => {
    const joint = portfolioRequirementUsd(book, spot, linearGrid({ kind: 'joint' }));
    const grouped = portfolioRequirementUsd(book, spot, linearGrid({ kind: 'groups', groups: [7, 7] }));
    expect(grouped).toEqual(joint);
  });
  it('Each asset in its own group is the independent assumption', () => {
    const independent = portfolioRequirementUsd(book, spot, linearGrid({ kind: 'independent' }));
    const grouped = portfolioRequirementUsd(book, spot, linearGrid({ kind: 'groups', groups: [3, 1] }));
    expect(grouped).toEqual(independent);
  });
  it('A 5% imbalance under joint moves: loss 50,000 × 16% = 8,000, and the net delta charge binds when it is larger', () => {
    // Short 190 ETH instead: net delta 1,000,000 − 950,000 = +50,000; worst joint move −16% → 8,000.
    const imbalanced: Position[] = [book[0]!, { asset: 1, kind: 'linear', qty: -190 }];
    const r = portfolioRequirementUsd(imbalanced, spot, linearGrid({ kind: 'joint' }));
    expect(r.scenarioLossUsd).toBeCloseTo(8_000, 6);
    expect(r.worstScenario).toEqual([-0.16, -0.16]);
    expect(r.netDeltaChargeUsd).toBeCloseTo(500, 9); // 1% × 50,000
    expect(r.requirementUsd).toBeCloseTo(8_000, 6);
    // With a 20% minimum charge: 0.2 × 50,000 = 10,000 > 8,000.
    const floored = portfolioRequirementUsd(imbalanced, spot, linearGrid({ kind: 'joint' }, 0.2));
    expect(floored.requirementUsd).toBeCloseTo(10_000, 9);
  });
  it('Many independent assets are evaluated without enumerating m^n scenarios', () => {
    // 60 assets at 100, alternately long and short one unit: joint loss 0; independent 60 × 16 = 960.
    // (5^60 scenarios; the worst of a product of independent factors is the sum of their worsts.)
    const n = 60;
    const many: Position[] = Array.from({ length: n }, (_, a) => ({ asset: a, kind: 'linear' as const, qty: a % 2 === 0 ? 1 : -1 }));
    const prices = new Float64Array(n).fill(100);
    expect(portfolioRequirementUsd(many, prices, linearGrid({ kind: 'joint' })).requirementUsd).toBe(0);
    expect(portfolioRequirementUsd(many, prices, linearGrid({ kind: 'independent' })).scenarioLossUsd).toBeCloseTo(960, 9);
  });
});

describe('tail scenarios', () => {
  const longBtc: Position[] = [{ asset: 0, kind: 'linear', qty: 10 }];
  const spot = [100_000];
  const grid = (tailWeight: number): ScenarioGrid => ({ ...linearGrid({ kind: 'joint' }, 0), tailMoves: [-0.66, 5], tailWeight });
  const cases: [string, number, number, number][] = [
    // Regular worst: 1,000,000 × 16% = 160,000. Tail: 1,000,000 × 66% × w.
    ['At weight 0.2 the tail counts 132,000 and the regular −16% (160,000) still binds', 0.2, 160_000, -0.16],
    ['At weight 0.3 the tail counts 198,000 and binds', 0.3, 198_000, -0.66],
    ['At weight 0 the tail is ignored', 0, 160_000, -0.16],
  ];
  for (const [name, w, expected, move] of cases) {
    it(name, () => {
      const r = portfolioRequirementUsd(longBtc, spot, grid(w));
      expect(r.requirementUsd).toBeCloseTo(expected, 6);
      expect(r.worstScenario).toEqual([move]);
    });
  }
  it('A short position’s tail is the +500% move: 1,000,000 × 5 × 0.1 = 500,000', () => {
    const r = portfolioRequirementUsd([{ asset: 0, kind: 'linear', qty: -10 }], spot, grid(0.1));
    expect(r.requirementUsd).toBeCloseTo(500_000, 6);
    expect(r.worstScenario).toEqual([5]);
  });
  // Short put K = 100,000 at S = 100,000, σ = 0.6, 30 days, tail weight 1; a −66% crash beats every
  // regular move. Black–Scholes (mpmath, 30 digits): P now 6,853.94071825355; at S = 34,000 with σ 0.8
  // 66,000.0033395507, with σ 0.4 66,000.0000000000 (deep in the money). Tail losses:
  // 66,000.0033395507 − 6,853.94071825355 = 59,146.0626212972 and 66,000 − 6,853.94071825355 = 59,146.0592817465.
  const tailVolCases: [string, number[], number, number][] = [
    ['Tail scenarios priced at volatility-up only (Deribit’s extended table) take +0.2', [0.2], 0.2, 59_146.0626212972],
    ['Tail scenarios use only the tail volatility shocks given, even when another would lose more', [-0.2], -0.2, 59_146.0592817465],
  ];
  for (const [name, tailVolShocks, shock, loss] of tailVolCases) {
    it(name, () => {
      const shortPut: Position[] = [{ asset: 0, kind: 'put', qty: -1, strike: 100_000, years: 30 / 365, vol: 0.6 }];
      const g: ScenarioGrid = { ...linearGrid({ kind: 'joint' }, 0), volShocks: [-0.2, 0, 0.2], tailMoves: [-0.66], tailWeight: 1, tailVolShocks };
      const r = portfolioRequirementUsd(shortPut, spot, g);
      expect(r.worstScenario).toEqual([-0.66]);
      expect(r.worstVolShock).toBe(shock);
      expect(r.scenarioLossUsd).toBeCloseTo(loss, 6);
    });
  }
});

describe('a short call under volatility shocks', () => {
  // Short 1 BTC call, S = 100,000, K = 110,000, 30 days (T = 30/365), σ = 0.6, r = 0. Black–Scholes
  // values (also mpmath at 30 digits):
  //   C(100,000; σ 0.6) = 3,270.26050470941   (d1 = −0.46807442, d2 = −0.64008907)
  //   C(116,000; σ 0.6) = 11,110.1928367235   (d1 =  0.39475908, d2 =  0.22274442)
  //   C(116,000; σ 0.8) = 13,590.8057606955   (d1 =  0.34624025, d2 =  0.11688738)
  // Without a vol shock the worst is +16%: 11,110.1928367235 − 3,270.26050470941 = 7,839.93233201409.
  // With vol +0.2 the worst is +16% and σ 0.8: 13,590.8057606955 − 3,270.26050470941 = 10,320.5452559861.
  const shortCall: Position[] = [{ asset: 0, kind: 'call', qty: -1, strike: 110_000, years: 30 / 365, vol: 0.6 }];
  const spot = [100_000];
  const grid = (volShocks: number[]): ScenarioGrid => ({
    moves: [-0.16, 0, 0.16],
    volShocks,
    tailMoves: [],
    tailWeight: 0,
    netDeltaChargeFraction: 0.01,
    comovement: { kind: 'joint' },
  });
  it('Without a volatility shock the requirement is the +16% loss, 7,839.93', () => {
    const r = portfolioRequirementUsd(shortCall, spot, grid([0]));
    expect(r.requirementUsd).toBeCloseTo(7_839.93233201409, 6);
    expect(r.worstScenario).toEqual([0.16]);
    // Net delta: −1 × 100,000 × N(−0.46807442) = −31,986.57; 1% of it = 319.87.
    expect(r.netDeltaChargeUsd).toBeCloseTo(319.8656907, 4);
  });
  it('A volatility-up shock of +0.2 raises it to 10,320.55', () => {
    const r = portfolioRequirementUsd(shortCall, spot, grid([-0.2, 0, 0.2]));
    expect(r.requirementUsd).toBeCloseTo(10_320.5452559861, 6);
    expect(r.worstScenario).toEqual([0.16]);
    expect(r.worstVolShock).toBe(0.2);
  });
});

describe('input checks', () => {
  const grid = linearGrid({ kind: 'joint' });
  const cases: [string, Position[], number[], ScenarioGrid, RegExp][] = [
    ['An asset index beyond the price array', [{ asset: 2, kind: 'linear', qty: 1 }], [1, 1], grid, /positions\[0\]\.asset 2/],
    ['An option without a strike', [{ asset: 0, kind: 'call', qty: 1, years: 1, vol: 0.5 }], [1], grid, /needs strike/],
    ['An option without a volatility', [{ asset: 0, kind: 'put', qty: 1, strike: 1, years: 1 }], [1], grid, /needs vol/],
    ['A group list of the wrong length', [], [1, 1], linearGrid({ kind: 'groups', groups: [0] }), /groups has 1 entries for 2 assets/],
    ['An empty move list', [], [1], { ...grid, moves: [] }, /moves is empty/],
    ['An empty volatility-shock list', [], [1], { ...grid, volShocks: [] }, /volShocks is empty/],
  ];
  for (const [name, positions, spot, g, message] of cases) {
    it(`rejects ${name.toLowerCase()}`, () => expect(() => portfolioRequirementUsd(positions, spot, g)).toThrow(message));
  }
  it('An empty book needs nothing', () => {
    const r = portfolioRequirementUsd([], [100, 200], linearGrid({ kind: 'independent' }));
    expect(r.requirementUsd).toBe(0);
    expect(r.worstScenario).toEqual([0, 0]);
  });
});

// ----- Random books against a brute-force enumeration of every scenario -----

const scratch: OptionGreeks = { price: 0, delta: 0, gamma: 0, vega: 0, theta: 0 };
function bookValue(book: Position[], prices: number[], volShock: number): number {
  let v = 0;
  for (const p of book) {
    const s = prices[p.asset]!;
    v += p.qty * (p.kind === 'linear' ? s : blackScholes(p.kind, s, p.strike!, p.years!, p.vol! + volShock, 0, scratch).price);
  }
  return v;
}

/** Every (weighted) scenario loss of the grid, by enumerating the move of each comovement factor. */
function allScenarioLosses(book: Position[], spot: number[], grid: ScenarioGrid): number[] {
  const n = spot.length;
  const como = grid.comovement;
  const factorOf = como.kind === 'joint' ? spot.map(() => 0) : como.kind === 'independent' ? spot.map((_, a) => a) : como.groups.slice();
  const factorIds = [...new Set(factorOf)];
  const base = bookValue(book, spot, 0);
  const losses: number[] = [];
  const sets: [number[], number[], number][] = [
    [grid.moves, grid.volShocks, 1],
    [grid.tailMoves, grid.tailVolShocks ?? grid.volShocks, grid.tailWeight],
  ];
  for (const [moves, vols, weight] of sets) {
    if (moves.length === 0) continue;
    const idx = factorIds.map(() => 0);
    for (;;) {
      const prices = Array.from({ length: n }, (_, a) => spot[a]! * (1 + moves[idx[factorIds.indexOf(factorOf[a]!)]!]!));
      for (const v of vols) losses.push(weight * (base - bookValue(book, prices, v)));
      let k = 0;
      while (k < idx.length && ++idx[k]! === moves.length) idx[k++] = 0;
      if (k === idx.length) break;
    }
  }
  return losses;
}

// Quantities uniform over [−20, 20] (fc.double's are almost always tiny, which made most books ~0).
const positionArb = (assets: number) =>
  fc.oneof(
    fc.record({ asset: fc.integer({ min: 0, max: assets - 1 }), kind: fc.constant<'linear'>('linear'), qty: real(-20, 20) }),
    fc.record({
      asset: fc.integer({ min: 0, max: assets - 1 }),
      kind: fc.constantFrom<'call' | 'put'>('call', 'put'),
      qty: real(-20, 20),
      strikeMoneyness: real(0.6, 1.6),
      years: real(0.01, 1),
      vol: real(0.25, 1.5),
    }),
  );
const caseArb = fc.integer({ min: 1, max: 3 }).chain((n) =>
  fc.record({
    spot: fc.array(mixedReal(1, 100_000), { minLength: n, maxLength: n }),
    raw: fc.array(positionArb(n), { minLength: 1, maxLength: 5 }),
    groups: fc.array(fc.integer({ min: 0, max: 2 }), { minLength: n, maxLength: n }),
    tailWeight: mixedReal(0, 0.3),
    netDeltaChargeFraction: mixedReal(0, 0.05),
  }),
);
function materialise(c: { spot: number[]; raw: ({ asset: number; kind: 'linear'; qty: number } | { asset: number; kind: 'call' | 'put'; qty: number; strikeMoneyness: number; years: number; vol: number })[] }): Position[] {
  return c.raw.map((p) =>
    p.kind === 'linear' ? p : { asset: p.asset, kind: p.kind, qty: p.qty, strike: c.spot[p.asset]! * p.strikeMoneyness, years: p.years, vol: p.vol },
  );
}
// Deribit-style grid: ±16% in 4% steps, vol −0.2/0/+0.2, tails −66% and +500%.
const deribitLike = (comovement: ScenarioGrid['comovement'], tailWeight: number, netDeltaChargeFraction: number): ScenarioGrid => ({
  moves: [-0.16, -0.12, -0.08, -0.04, 0, 0.04, 0.08, 0.12, 0.16],
  volShocks: [-0.2, 0, 0.2],
  tailMoves: [-0.66, 5],
  tailWeight,
  netDeltaChargeFraction,
  comovement,
});

describe('properties on random books', () => {
  it('The requirement covers every grid scenario (tails weighted) and the net delta charge, and equals the worst of them', () => {
    let material = 0;
    fc.assert(
      fc.property(caseArb, fc.constantFrom('joint', 'independent', 'groups'), (c, kind) => {
        const book = materialise(c);
        const como: ScenarioGrid['comovement'] = kind === 'groups' ? { kind, groups: c.groups } : { kind: kind as 'joint' | 'independent' };
        const grid = deribitLike(como, c.tailWeight, c.netDeltaChargeFraction);
        const r = portfolioRequirementUsd(book, c.spot, grid);
        const losses = allScenarioLosses(book, c.spot, grid);
        const worst = Math.max(...losses);
        const tol = 1e-9 * (1 + Math.abs(worst) + book.reduce((s, p) => s + Math.abs(p.qty) * c.spot[p.asset]!, 0));
        expect(r.requirementUsd).toBeGreaterThanOrEqual(r.netDeltaChargeUsd);
        for (const l of losses) expect(r.requirementUsd).toBeGreaterThanOrEqual(l - tol);
        expect(Math.abs(r.scenarioLossUsd - worst)).toBeLessThanOrEqual(tol);
        if (worst > 1e6 * tol) material++;
      }),
      { numRuns: 150 },
    );
    // Not books of dust: in most cases the worst scenario loses a million times the tolerance.
    expect(material).toBeGreaterThanOrEqual(100);
  });
  it('Independent ≥ groups ≥ joint: each assumption’s scenarios contain the next one’s', () => {
    let strict = 0;
    fc.assert(
      fc.property(caseArb, (c) => {
        const book = materialise(c);
        const req = (como: ScenarioGrid['comovement']) => portfolioRequirementUsd(book, c.spot, deribitLike(como, c.tailWeight, c.netDeltaChargeFraction)).requirementUsd;
        const independent = req({ kind: 'independent' });
        const groups = req({ kind: 'groups', groups: c.groups });
        const joint = req({ kind: 'joint' });
        const tol = 1e-9 * (1 + independent);
        expect(independent).toBeGreaterThanOrEqual(groups - tol);
        expect(groups).toBeGreaterThanOrEqual(joint - tol);
        if (independent > joint * (1 + 1e-6) + 1) strict++;
      }),
      { numRuns: 300 },
    );
    // The order is strict in many books (hedges across assets that joint moves net away).
    expect(strict).toBeGreaterThanOrEqual(30);
  });
});
