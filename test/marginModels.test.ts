// Margin models in the engine: portfolio (scenario-grid) margin for linear books, checked against
// the general scenario evaluator of src/margin/portfolio.ts, and dynamic margin rising with realised
// volatility in a run.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseExperiment } from '../src/experiment/load.ts';
import type { ExperimentInput } from '../src/experiment/schema.ts';
import { buildGraph } from '../src/graph/build.ts';
import { worldFor } from '../src/engine/simulate.ts';
import { step } from '../src/engine/step.ts';
import { initialMarginUsd, markAccount, portfolioRequirementUsd as engineRequirement } from '../src/engine/accounts.ts';
import { portfolioRequirementUsd as gridRequirement, type ScenarioGrid } from '../src/margin/portfolio.ts';
import type { World } from '../src/model/world.ts';
import { minimalExperiment } from './fixtures/minimalExperiment.ts';
import { real } from './fixtures/reals.ts';

const FC = { numRuns: Number(process.env.FC_RUNS ?? 200), seed: Number(process.env.FC_SEED ?? 51) };

/** A World-shaped stand-in holding only what the engine's portfolio requirement reads. */
function portfolioWorld(grid: ScenarioGrid, groups: number): World {
  return {
    exchangeGridDown: Float64Array.of(Math.min(0, ...grid.moves)),
    exchangeGridUp: Float64Array.of(Math.max(0, ...grid.moves)),
    exchangeTailDown: Float64Array.of(Math.min(0, ...grid.tailMoves)),
    exchangeTailUp: Float64Array.of(Math.max(0, ...grid.tailMoves)),
    exchangeTailWeight: Float64Array.of(grid.tailWeight),
    exchangeNetDeltaFraction: Float64Array.of(grid.netDeltaChargeFraction),
    exchangeGroupCount: Int32Array.of(groups),
  } as unknown as World;
}

describe('portfolio margin in the engine (linear books)', () => {
  it('the hedged BTC/ETH book: 0 when the grid assumes they move together, 320,000 when it does not', () => {
    // Long 10 BTC at 100,000 (Δ = +1,000,000), short 200 ETH at 5,000 (Δ = −1,000,000); grid ±16%.
    // joint: one group, Δ = 0 → nothing to lose. independent: BTC −16% and ETH +16% → 160,000 × 2.
    const grid: ScenarioGrid = { moves: [-0.16, -0.08, 0, 0.08, 0.16], volShocks: [0], tailMoves: [], tailWeight: 0, netDeltaChargeFraction: 0, comovement: { kind: 'joint' } };
    expect(engineRequirement(portfolioWorld(grid, 1), 0, Float64Array.of(0))).toBe(0);
    expect(engineRequirement(portfolioWorld(grid, 2), 0, Float64Array.of(1_000_000, -1_000_000))).toBeCloseTo(320_000, 6);
  });

  it('counts the no-move scenario in every group: on a grid of up moves only, a long group that can only gain does not offset a short one', () => {
    // Moves [+10%] only, independent, Δ = −1,000 (short) and +1,000 (long). Engine: the short group's
    // worst is max(−(−1,000)·0, −(−1,000)·0.1, 0) = 100, the long group's max(0, −100, 0) = 0: 100.
    // The general evaluator takes the grid as given: both assets up 10%, the short loses 100 and the
    // long gains 100, a loss of 0.
    const grid: ScenarioGrid = { moves: [0.1], volShocks: [0], tailMoves: [], tailWeight: 0, netDeltaChargeFraction: 0, comovement: { kind: 'independent' } };
    expect(engineRequirement(portfolioWorld(grid, 2), 0, Float64Array.of(-1_000, 1_000))).toBeCloseTo(100, 9);
    const book = [
      { asset: 0, kind: 'linear' as const, qty: -10 },
      { asset: 1, kind: 'linear' as const, qty: 10 },
    ];
    expect(gridRequirement(book, [100, 100], grid).requirementUsd).toBeCloseTo(0, 9);
    // With 0 among the moves the two agree.
    expect(gridRequirement(book, [100, 100], { ...grid, moves: [0, 0.1] }).requirementUsd).toBeCloseTo(100, 9);
  });

  it('equals the general scenario evaluator on random linear books, grids and co-movements', () => {
    // Uniform over each range (fc.double's are almost always tiny, which made most requirements ~0).
    const book = fc.array(fc.record({ asset: fc.integer({ min: 0, max: 3 }), qty: real(-50, 50) }), { minLength: 1, maxLength: 6 });
    const moves = fc.array(real(-0.5, 0.5), { minLength: 1, maxLength: 7 });
    const tails = fc.array(real(-0.9, 5), { maxLength: 3 });
    let material = 0;
    fc.assert(
      fc.property(book, moves, tails, real(0, 1), real(0, 0.2), fc.constantFrom('joint', 'independent', 'groups'), (positions, mv, tl, tw, nd, kind) => {
        const spot = [100, 50, 10, 1];
        const groupsOf = [0, 0, 1, 1]; // for 'groups': assets 0-1 together, 2-3 together
        const comovement = kind === 'groups' ? { kind: 'groups' as const, groups: groupsOf } : { kind: kind as 'joint' | 'independent' };
        const grid: ScenarioGrid = { moves: mv, volShocks: [0], tailMoves: tl, tailWeight: tw, netDeltaChargeFraction: nd, comovement };
        // The engine counts the no-move scenario in every group (the test above): the evaluator's grid
        // gets it added, which changes nothing for a grid with moves on both sides of 0.
        const withNoMove: ScenarioGrid = { ...grid, moves: [0, ...mv], tailMoves: tl.length > 0 ? [0, ...tl] : [] };
        const expected = gridRequirement(positions.map((p) => ({ ...p, kind: 'linear' as const })), spot, withNoMove).requirementUsd;
        const nGroups = kind === 'joint' ? 1 : kind === 'groups' ? 2 : 4;
        const delta = new Float64Array(nGroups);
        for (const p of positions) {
          const g = kind === 'joint' ? 0 : kind === 'groups' ? groupsOf[p.asset]! : p.asset;
          delta[g] = delta[g]! + p.qty * spot[p.asset]!;
        }
        expect(engineRequirement(portfolioWorld(grid, nGroups), 0, delta)).toBeCloseTo(expected, 6);
        if (expected > 1) material++;
      }),
      FC,
    );
    // Requirements of dollars, not ~0 on both sides, in most cases.
    expect(material).toBeGreaterThanOrEqual(FC.numRuns / 2);
  });

  it('in a run, a cross account long BTC and short ETH needs only the net-delta minimum under joint co-movement', () => {
    const e = minimalExperiment();
    e.scenario.exchanges[0]!.portfolioMargin = { moves: [-0.16, 0.16], netDeltaChargeFraction: 0.01, comovement: { kind: 'joint' } };
    const exp = parseExperiment(e, 'pm');
    const w = worldFor(exp, buildGraph(exp), 0);
    // Account 0 holds BTC and ETH (cross); set it to +1 BTC (60,000) and −20 ETH (60,000) at step 0.
    const p0 = w.posStart[0]!;
    w.posQty[p0] = 1;
    w.posQuote[p0] = -60_000;
    w.posQty[p0 + 1] = -20;
    w.posQuote[p0 + 1] = 60_000;
    w.ledger.touch(0); // what a fill does: the account's stored marks are stale
    markAccount(w, 0);
    // Δ = 60,000 − 60,000 = 0 → grid loss 0, net-delta charge 1% × 0 = 0.
    expect(w.accountMaintenance[0]).toBe(0);
    w.posQty[p0 + 1] = -10; // half hedged: Δ = +30,000 → grid 16% × 30,000 = 4,800; IM = 1.5 × 4,800
    w.ledger.touch(0);
    markAccount(w, 0);
    expect(w.accountMaintenance[0]).toBeCloseTo(4_800, 9);
    expect(initialMarginUsd(w, 0)).toBeCloseTo(7_200, 9);
  });
});

describe('dynamic margin', () => {
  function dynamicRun(shock: number): World {
    const e: ExperimentInput = minimalExperiment();
    e.scenario.assets = e.scenario.assets.map((a) => ({ ...a, volatilityAnnual: 0 }));
    e.scenario.shocks = [{ id: 'crash', asset: 'BTC', totalReturn: shock, startStep: 5, overSteps: 1 }];
    e.scenario.exchanges[0]!.dynamicMargin = { referenceAnnualVol: 0.6, floorMultiple: 1, capMultiple: 4 };
    const exp = parseExperiment(e, 'dynamic');
    const w = worldFor(exp, buildGraph(exp), 0);
    for (let s = 0; s <= 5; s++) {
      w.step = s;
      step(w);
    }
    return w;
  }

  it('raises the BTC requirement after a sharp move and leaves a calm market at the tiers', () => {
    const calm = dynamicRun(-0.0001);
    const crash = dynamicRun(-0.1);
    // Calm: the EWMA decays from the reference variance; the floor (1×) holds the tiers.
    expect(calm.marketMarginMultiplier[0]).toBe(1);
    // Crash: r = ln 0.9 = −0.1054 in one step; σ₀² = 0.6² × 60/31,536,000 = 6.85e−7, decayed by
    // 0.94⁵ over the five calm steps = 5.03e−7; then σ² = 0.94 × 5.03e−7 + 0.06 × 0.0111 = 6.66e−4
    // per step → annualised √(6.66e−4 × 525,600) = 18.7, 31× the reference → capped at 4×.
    expect(crash.marketMarginMultiplier[0]).toBe(4);
    expect(crash.marketMarginMultiplier[1]).toBe(1); // ETH did not move
  });

  it('the multiplier never falls as the move that caused it grows (pro-cyclical)', () => {
    let last = 0;
    for (const shock of [-0.001, -0.005, -0.01, -0.02, -0.05]) {
      const m = dynamicRun(shock).marketMarginMultiplier[0]!;
      expect(m).toBeGreaterThanOrEqual(last);
      last = m;
    }
    expect(last).toBeGreaterThan(1);
  });
});

describe('open-interest surcharge', () => {
  it('raises the rates by the rate per multiple of step-0 open interest above the threshold', () => {
    // Threshold 1×, 0.5 per multiple. Open interest (long units) at step 0 is the market's initial
    // long quantity; double it by hand → excess 1 → multiplier 1 + 0.5 × 1 = 1.5; below → 1.
    const e = minimalExperiment();
    e.scenario.exchanges[0]!.openInterestSurcharge = { aboveInitialMultiple: 1, perMultiple: 0.5 };
    const exp = parseExperiment(e, 'oi');
    const w = worldFor(exp, buildGraph(exp), 0);
    w.step = 0;
    step(w);
    expect(w.marketMarginMultiplier[0]).toBe(1);
    for (let i = w.marketPosStart[0]!; i < w.marketPosStart[0 + 1]!; i++) {
      const p = w.marketPositions[i]!;
      // Everyone doubles (both sides: Σ qty stays 0), as a fill would (accounts.applyFill).
      w.marketLongQty[0] = w.marketLongQty[0]! + Math.max(w.posQty[p]!, 0);
      w.posQty[p] = w.posQty[p]! * 2;
      w.posQuote[p] = w.posQuote[p]! * 2;
      w.ledger.touch(w.posAccount[p]!);
    }
    w.step = 1;
    step(w);
    expect(w.marketMarginMultiplier[0]).toBeCloseTo(1.5, 9);
    expect(w.marketMarginMultiplier[1]).toBe(1); // ETH untouched
  });
});

describe('marginModel picks one declared block', () => {
  it('tiered ignores the portfolio and dynamic blocks; portfolio uses its grid; dynamic its EWMA', () => {
    const e = minimalExperiment();
    e.scenario.exchanges[0]!.portfolioMargin = { moves: [-0.02, 0.02] };
    e.scenario.exchanges[0]!.dynamicMargin = { referenceAnnualVol: 0.6 };
    const world = (model: 'tiered' | 'portfolio' | 'dynamic') => {
      e.scenario.exchanges[0]!.marginModel = model;
      const exp = parseExperiment(e, 'models');
      return worldFor(exp, buildGraph(exp), 0);
    };
    expect([world('tiered').exchangePortfolio[0], world('tiered').exchangeDynamic[0]]).toEqual([0, 0]);
    expect([world('portfolio').exchangePortfolio[0], world('portfolio').exchangeDynamic[0]]).toEqual([1, 0]);
    expect([world('dynamic').exchangePortfolio[0], world('dynamic').exchangeDynamic[0]]).toEqual([0, 1]);
  });
});
