// Derived-asset valuation rules against hand-computed numbers: the LST peg's reversion, stress
// target and redemption pressure; vault share prices; a basis-trade synthetic dollar's backing
// and fundamental; bridged tokens and bridge failure (scripted and seeded-random); and minting a
// governance token to cover bad debt on the project's impact curves.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  bridgedTokenFundamental,
  bridgeFails,
  bridgeSolvency,
  lstFundamentalUsd,
  MAX_LST_PEG,
  MIN_LST_PEG,
  mintAndSellToCover,
  nextPeg,
  syntheticDollarBacking,
  syntheticDollarFundamental,
  vaultSharePrice,
  type LstPegStep,
  type SyntheticDollarBook,
} from '../src/model/derived.ts';
import { makeStream, normal, type Stream } from '../src/model/random.ts';
import { ImpactCode } from '../src/model/world.ts';
import { averageImpactFactor, impactFactor } from '../src/model/impact.ts';
import { mixedReal, real } from './fixtures/reals.ts';

const FC_SEED = 20220613;

/** A stream that returns a constant and counts its draws. */
function countingStream(value: number): Stream & { draws: number } {
  const s = {
    draws: 0,
    spareNormal: NaN,
    uniform: () => {
      s.draws++;
      return value;
    },
  };
  return s;
}

function pegStep(over: Partial<LstPegStep>): LstPegStep {
  return {
    meanReversionPerStep: 0.2,
    volPerStep: 0,
    stressDiscount: 0.05,
    inStress: false,
    redemptionQueuePressure: 0,
    pressureImpact: 0,
    ...over,
  };
}

describe('liquid-staking token peg', () => {
  const cases: [string, number, Partial<LstPegStep>, number][] = [
    // 0.9 + 0.2 × (1 − 0.9) = 0.92
    ['A discounted peg closes a fifth of its gap to 1 in calm', 0.9, {}, 0.92],
    // 1 + 0.2 × (0.95 − 1) = 0.99
    ['Under stress a par peg moves a fifth of the way to 1 − discount', 1, { inStress: true }, 0.99],
    // 1 + 0.2 × 0 − 0.3 × 0.1 = 0.97
    ['Exits of 10% of supply at impact 0.3 take 3 points off a par peg', 1, { redemptionQueuePressure: 0.1, pressureImpact: 0.3 }, 0.97],
    // 0.96 + 0.2 × (0.95 − 0.96) − 0.5 × 0.04 = 0.958 − 0.02 = 0.938
    ['Stress and pressure add up', 0.96, { inStress: true, redemptionQueuePressure: 0.04, pressureImpact: 0.5 }, 0.938],
    // pressure clamped to 1: 1 − 0.3 × 1 = 0.7
    ['Pressure above the whole supply counts as the whole supply', 1, { redemptionQueuePressure: 3, pressureImpact: 0.3 }, 0.7],
    // 1 − 2 × 1 = −1 → floor
    ['A peg pushed below zero stops at the floor', 1, { redemptionQueuePressure: 1, pressureImpact: 2 }, MIN_LST_PEG],
    // 1.2 + 0.2 × (1 − 1.2) = 1.16 → cap
    ['A peg above the cap is brought back to the cap', 1.2, {}, MAX_LST_PEG],
  ];
  for (const [name, peg, over, expected] of cases) {
    it(name, () => expect(nextPeg(peg, pegStep(over), makeStream(1))).toBeCloseTo(expected, 12));
  }

  it('With no noise the peg reverts geometrically to 1 in calm', () => {
    // gap after n steps = 0.1 × 0.8^n; after 10 steps 0.1 × 0.8^10 = 0.0107374…
    const s = makeStream(2);
    let peg = 0.9;
    for (let t = 0; t < 10; t++) peg = nextPeg(peg, pegStep({}), s);
    expect(peg).toBeCloseTo(1 - 0.1 * 0.8 ** 10, 12);
    for (let t = 0; t < 200; t++) peg = nextPeg(peg, pegStep({}), s);
    expect(peg).toBeCloseTo(1, 12);
  });

  it('With no noise the peg reverts to 1 − discount in stress and back to 1 after', () => {
    const s = makeStream(3);
    let peg = 1;
    for (let t = 0; t < 200; t++) peg = nextPeg(peg, pegStep({ inStress: true, stressDiscount: 0.06 }), s);
    expect(peg).toBeCloseTo(0.94, 12);
    for (let t = 0; t < 200; t++) peg = nextPeg(peg, pegStep({}), s);
    expect(peg).toBeCloseTo(1, 12);
  });

  it('The noise is volPerStep times one normal draw of the stream', () => {
    // The same seed gives the same z: peg' = 0.92 + 0.01 z.
    const z = normal(makeStream(7));
    expect(nextPeg(0.9, pegStep({ volPerStep: 0.01 }), makeStream(7))).toBeCloseTo(0.92 + 0.01 * z, 12);
  });

  it('Exactly one normal is drawn per step whatever the volatility, so a sweep over it keeps the stream aligned', () => {
    const a = makeStream(11);
    const b = makeStream(11);
    for (let t = 0; t < 5; t++) {
      nextPeg(1, pegStep({ volPerStep: 0 }), a);
      nextPeg(1, pegStep({ volPerStep: 0.02 }), b);
    }
    expect(a.uniform()).toBe(b.uniform());
  });

  it('The peg stays in [MIN_LST_PEG, 1.05] for any inputs', () => {
    fc.assert(
      fc.property(
        mixedReal(MIN_LST_PEG, MAX_LST_PEG),
        mixedReal(0, 1),
        mixedReal(0, 0.5),
        mixedReal(0, 0.5),
        fc.boolean(),
        mixedReal(-1, 2),
        mixedReal(0, 3),
        fc.nat(),
        (peg, kappa, vol, discount, inStress, pressure, pressureImpact, seed) => {
          const next = nextPeg(
            peg,
            { meanReversionPerStep: kappa, volPerStep: vol, stressDiscount: discount, inStress, redemptionQueuePressure: pressure, pressureImpact },
            makeStream(seed),
          );
          expect(next).toBeGreaterThan(0);
          expect(next).toBeGreaterThanOrEqual(MIN_LST_PEG);
          expect(next).toBeLessThanOrEqual(MAX_LST_PEG);
        },
      ),
      { seed: FC_SEED, numRuns: 300 },
    );
  });

  it('The LST is worth the underlying times the peg', () => {
    // 2,000 × 0.94 = 1,880
    expect(lstFundamentalUsd(2_000, 0.94)).toBeCloseTo(1_880, 9);
  });
});

describe('vault share price', () => {
  const cases: [string, number, number, number][] = [
    // 1,050,000 / 1,000,000 = 1.05
    ['A vault with 1.05M of NAV over 1M shares prices a share at 1.05', 1_050_000, 1_000_000, 1.05],
    // 250,000 / 400,000 = 0.625
    ['A vault that lost three eighths of its NAV prices a share at 0.625', 250_000, 400_000, 0.625],
    ['A vault with negative NAV is worth nothing', -10_000, 1_000_000, 0],
    ['A vault with zero NAV is worth nothing', 0, 1_000_000, 0],
    ['A vault with no shares outstanding prices a share at 0', 5_000, 0, 0],
  ];
  for (const [name, nav, supply, expected] of cases) {
    it(name, () => expect(vaultSharePrice(nav, supply)).toBeCloseTo(expected, 12));
  }
});

describe('synthetic dollar backed by a basis trade', () => {
  const book = (over: Partial<SyntheticDollarBook>): SyntheticDollarBook => ({
    spotCollateralUsd: 1_000_000,
    perpUnrealizedPnlUsd: 0,
    accruedFundingUsd: 0,
    socializedLossUsd: 0,
    supply: 1_000_000,
    ...over,
  });
  const backingCases: [string, Partial<SyntheticDollarBook>, number][] = [
    ['A hedged book with no funding is backed one for one', {}, 1],
    // ETH −20%: spot 800k, short PnL +200k → (800k + 200k) / 1M = 1
    ['A price fall is offset by the short', { spotCollateralUsd: 800_000, perpUnrealizedPnlUsd: 200_000 }, 1],
    // positive funding: (1M + 20k) / 1M = 1.02
    ['Positive funding paid to the shorts adds to the backing', { accruedFundingUsd: 20_000 }, 1.02],
    // negative funding: (1M − 30k) / 1M = 0.97
    ['Negative funding paid by the shorts reduces the backing', { accruedFundingUsd: -30_000 }, 0.97],
    // socialized loss: (1M − 50k) / 1M = 0.95
    ['A socialized loss on the hedge venue reduces the backing', { socializedLossUsd: 50_000 }, 0.95],
    // (800,000 + 150,000 − 10,000 − 40,000) / 1,200,000 = 900,000 / 1,200,000 = 0.75
    [
      'Every term counts: (800k + 150k − 10k − 40k) / 1.2M = 0.75',
      { spotCollateralUsd: 800_000, perpUnrealizedPnlUsd: 150_000, accruedFundingUsd: -10_000, socializedLossUsd: 40_000, supply: 1_200_000 },
      0.75,
    ],
    // (100k − 300k) / 1M = −0.2: the backing is gone and the number says by how much
    ['Losses beyond the collateral give a negative backing', { spotCollateralUsd: 100_000, socializedLossUsd: 300_000 }, -0.2],
    ['No tokens outstanding give a backing of 0', { supply: 0 }, 0],
  ];
  for (const [name, over, expected] of backingCases) {
    it(name, () => expect(syntheticDollarBacking(book(over))).toBeCloseTo(expected, 12));
  }

  it('Each step of negative funding lowers the backing further', () => {
    // Shorts pay 0.01% of 1M = 100 a step for 8 steps: (1M − 800) / 1M = 0.9992
    let accrued = 0;
    let last = syntheticDollarBacking(book({}));
    for (let t = 0; t < 8; t++) {
      accrued -= 100;
      const backing = syntheticDollarBacking(book({ accruedFundingUsd: accrued }));
      expect(backing).toBeLessThan(last);
      last = backing;
    }
    expect(last).toBeCloseTo(0.9992, 12);
  });

  const fundamentalCases: [string, number, boolean, number, number][] = [
    ['A fully backed redeemable token is worth 1', 1.02, true, 0.1, 1],
    // 0.9 × (1 − 0.1) = 0.81
    ['An under-backed redeemable token is worth its backing less the confidence discount', 0.9, true, 0.1, 0.81],
    // 1 × (1 − 0.05) = 0.95
    ['A fully backed token with redemptions gated trades at the confidence discount', 1.3, false, 0.05, 0.95],
    // 0.8 × (1 − 0.05) = 0.76
    ['An under-backed gated token is worth its backing less the discount', 0.8, false, 0.05, 0.76],
    ['A negative backing is worth nothing', -0.2, true, 0.1, 0],
    ['With no confidence discount an under-backed redeemable token is worth its backing', 0.97, true, 0, 0.97],
  ];
  for (const [name, backing, redeemable, discount, expected] of fundamentalCases) {
    it(name, () => expect(syntheticDollarFundamental(backing, redeemable, discount)).toBeCloseTo(expected, 12));
  }

  it('The fundamental is in [0, 1] and never rises when the backing falls', () => {
    fc.assert(
      fc.property(
        mixedReal(-2, 3),
        mixedReal(-2, 3),
        fc.boolean(),
        mixedReal(0, 1),
        (a, b, redeemable, discount) => {
          const lo = Math.min(a, b);
          const hi = Math.max(a, b);
          const fLo = syntheticDollarFundamental(lo, redeemable, discount);
          const fHi = syntheticDollarFundamental(hi, redeemable, discount);
          expect(fLo).toBeGreaterThanOrEqual(0);
          expect(fHi).toBeLessThanOrEqual(1);
          expect(fLo).toBeLessThanOrEqual(fHi);
        },
      ),
      { seed: FC_SEED, numRuns: 300 },
    );
  });
});

describe('bridged token', () => {
  const cases: [string, number, number, number, boolean, number, number][] = [
    ['A fully reserved bridge passes the underlying price through', 30_000, 1_000, 1_000, false, 0, 30_000],
    ['Reserves above the wrapped supply do not lift the price above the underlying', 30_000, 1_200, 1_000, false, 0, 30_000],
    // 30,000 × 800 / 1,000 = 24,000
    ['A bridge holding 80% of the wrapped supply prices the token at 80%', 30_000, 800, 1_000, false, 0, 24_000],
    ['A failed bridge with no recovery is worth nothing', 30_000, 1_000, 1_000, true, 0, 0],
    // 30,000 × 0.25 = 7,500, whatever the reserves said before
    ['A failed bridge pays its recovery fraction', 30_000, 1_000, 1_000, true, 0.25, 7_500],
    ['A bridge with no wrapped supply is solvent', 30_000, 0, 0, false, 0, 30_000],
  ];
  for (const [name, price, reserves, supply, failed, recovery, expected] of cases) {
    it(name, () => expect(bridgedTokenFundamental(price, reserves, supply, failed, recovery)).toBeCloseTo(expected, 9));
  }

  it('Solvency is capped at 1 and never negative', () => {
    expect(bridgeSolvency(2_000, 1_000, false, 0)).toBe(1);
    expect(bridgeSolvency(-50, 1_000, false, 0)).toBe(0);
  });

  it('A scripted failure happens at failAtStep, stays, and draws nothing', () => {
    const s = countingStream(0);
    const rule = { failAtStep: 5 };
    expect([3, 4, 5, 6, 100].map((t) => bridgeFails(t, rule, s))).toEqual([false, false, true, true, true]);
    expect(s.draws).toBe(0);
  });

  it('A bridge with no failure rule never fails and draws nothing', () => {
    const s = countingStream(0);
    expect(bridgeFails(10, {}, s)).toBe(false);
    expect(s.draws).toBe(0);
  });

  it('A per-step probability draws exactly one uniform per step, whatever the outcome', () => {
    // u = 0.05 < 0.1 → fails; u = 0.5 ≥ 0.1 → holds; one draw each, and one even at p = 0.
    const low = countingStream(0.05);
    const high = countingStream(0.5);
    const zero = countingStream(0);
    expect(bridgeFails(0, { failProbabilityPerStep: 0.1 }, low)).toBe(true);
    expect(bridgeFails(0, { failProbabilityPerStep: 0.1 }, high)).toBe(false);
    expect(bridgeFails(0, { failProbabilityPerStep: 0 }, zero)).toBe(false);
    expect([low.draws, high.draws, zero.draws]).toEqual([1, 1, 1]);
  });

  it('Adding a scripted failure does not shift the other draws of the stream', () => {
    const a = makeStream(99);
    const b = makeStream(99);
    for (let t = 0; t < 20; t++) {
      const random = bridgeFails(t, { failProbabilityPerStep: 0.3 }, a);
      const scripted = bridgeFails(t, { failProbabilityPerStep: 0.3, failAtStep: 10 }, b);
      // Before step 10 both see the same draw; from step 10 the script makes it fail regardless.
      expect(scripted).toBe(t >= 10 ? true : random);
    }
    expect(a.uniform()).toBe(b.uniform());
  });

  it('Random failures happen with frequency p over many steps', () => {
    // 10,000 steps at p = 0.1: expected 1,000, sd √(10,000 × 0.1 × 0.9) = 30. Seed 20220613 gives
    // exactly 1,023 (the seeded count, within one sd of the expected 1,000).
    const s = makeStream(20220613);
    let failures = 0;
    for (let t = 0; t < 10_000; t++) if (bridgeFails(t, { failProbabilityPerStep: 0.1 }, s)) failures++;
    expect(failures).toBe(1_023);
    expect(Math.abs(failures - 1_000)).toBeLessThan(3 * 30);
  });
});

describe('governance token minted and sold to cover bad debt', () => {
  // The governance token's market: fundamental $10, depth $1,000, so one token moves x by 0.01.
  const P = 10;
  const D = 1_000;

  it('On a linear curve a 375 deficit mints 50 tokens and leaves the price at 5', () => {
    // Proceeds of moving x from 0 to x1: D × (x1 − x1²/2) = 375 → x1² − 2x1 + 0.75 = 0 → x1 = 0.5.
    // Minted = 0.5 × 1,000 / 10 = 50 (average fill 375 / 50 = 7.5); price after = 10 × (1 − 0.5) = 5.
    const r = mintAndSellToCover(375, P, 0, ImpactCode.linear, 1, D, Infinity);
    expect(r.minted).toBeCloseTo(50, 9);
    expect(r.proceedsUsd).toBeCloseTo(375, 9);
    expect(r.uncoveredUsd).toBeCloseTo(0, 9);
    expect(r.priceAfter).toBeCloseTo(5, 9);
  });

  it('A cap of 20 tokens raises 180 and leaves 195 uncovered', () => {
    // x1 = 20 × 10 / 1,000 = 0.2; proceeds = 1,000 × (0.2 − 0.02) = 180; uncovered = 375 − 180 = 195;
    // price after = 10 × 0.8 = 8.
    const r = mintAndSellToCover(375, P, 0, ImpactCode.linear, 1, D, 20);
    expect(r.minted).toBe(20);
    expect(r.proceedsUsd).toBeCloseTo(180, 9);
    expect(r.uncoveredUsd).toBeCloseTo(195, 9);
    expect(r.priceAfter).toBeCloseTo(8, 9);
  });

  it('Selling the rest from the depressed market completes the single sale (no gain from slicing)', () => {
    // From x0 = 0.2: D × [(x1 − x1²/2) − (0.2 − 0.02)] = 195 → x1 − x1²/2 = 0.375 → x1 = 0.5;
    // minted = 0.3 × 1,000 / 10 = 30, and 20 + 30 = 50 as in one sale; price after 5.
    const r = mintAndSellToCover(195, P, 0.2, ImpactCode.linear, 1, D, Infinity);
    expect(r.minted).toBeCloseTo(30, 9);
    expect(r.proceedsUsd).toBeCloseTo(195, 9);
    expect(r.priceAfter).toBeCloseTo(5, 9);
  });

  it('On an exponential curve a 500 deficit halves the price', () => {
    // Proceeds D × (1 − e^{−x1}) = 500 → x1 = ln 2; minted = ln 2 × 1,000 / 10 = 69.3147…;
    // price after = 10 × e^{−ln 2} = 5.
    const r = mintAndSellToCover(500, P, 0, ImpactCode.exponential, 1, D, Infinity);
    expect(r.minted).toBeCloseTo(100 * Math.LN2, 9);
    expect(r.priceAfter).toBeCloseTo(5, 9);
  });

  it('On a square-root curve a deficit of 1,000/6 mints 25 tokens', () => {
    // Proceeds D × (x1 − (2/3) x1^{3/2}); at x1 = 0.25: 0.25 − (2/3)(0.125) = 1/6 → 1,000/6;
    // minted = 0.25 × 1,000 / 10 = 25; price after = 10 × (1 − √0.25) = 5.
    const r = mintAndSellToCover(1_000 / 6, P, 0, ImpactCode.sqrt, 1, D, Infinity);
    expect(r.minted).toBeCloseTo(25, 9);
    expect(r.priceAfter).toBeCloseTo(5, 9);
  });

  it('The sale fills at the average price the shared market quotes for the minted quantity', () => {
    // engine/market.ts quoteFill: fundamental × averageImpactFactor(x0, x0 + q × P / D).
    const r = mintAndSellToCover(2_345, 7, 0.05, ImpactCode.sqrt, 0.8, 12_000, Infinity);
    const fill = 7 * averageImpactFactor(ImpactCode.sqrt, 0.8, 0.05, 0.05 + (r.minted * 7) / 12_000);
    expect(r.minted * fill).toBeCloseTo(2_345, 6);
  });

  const degenerate: [string, number, number, number, number, number][] = [
    // [name, deficit, fundamental, depth, maxMint, expected uncovered]
    ['No deficit mints nothing', 0, P, D, Infinity, 0],
    ['A zero cap mints nothing and leaves the whole deficit', 100, P, D, 0, 100],
    ['A worthless token raises nothing', 100, 0, D, Infinity, 100],
    ['A market with no depth raises nothing', 100, P, 0, Infinity, 100],
  ];
  for (const [name, deficit, fundamental, depth, maxMint, uncovered] of degenerate) {
    it(name, () => {
      const r = mintAndSellToCover(deficit, fundamental, 0, ImpactCode.linear, 1, depth, maxMint);
      expect(r.minted).toBe(0);
      expect(r.proceedsUsd).toBe(0);
      expect(r.uncoveredUsd).toBe(uncovered);
    });
  }

  it('A result object passed in is filled and returned', () => {
    const out = { minted: -1, proceedsUsd: -1, uncoveredUsd: -1, priceAfter: -1 };
    expect(mintAndSellToCover(375, P, 0, ImpactCode.linear, 1, D, Infinity, out)).toBe(out);
    expect(out.minted).toBeCloseTo(50, 9);
  });

  const model = fc.constantFrom(ImpactCode.linear, ImpactCode.sqrt, ImpactCode.exponential);
  const market = fc.record({
    model,
    coefficient: mixedReal(0.05, 3),
    fundamentalUsd: mixedReal(0.01, 1_000),
    depthUsd: mixedReal(1_000, 1e8),
    x0: real(0, 0.5),
  });
  type Market = { model: number; coefficient: number; fundamentalUsd: number; depthUsd: number; x0: number };
  /** The impact state where the sale of r.minted tokens ends. */
  const saleEnd = (m: Market, r: { minted: number }) => m.x0 + (r.minted * m.fundamentalUsd) / m.depthUsd;
  /**
   * Relative 1e-9 of the deficit, or the solver's resolution where that is coarser: it bisects the
   * impact state x to adjacent doubles, each step of which sells depth × ulp(x) ≤ depth × 2^-52 ×
   * max(1, x) USD (a $1 deficit on an $18M book at x ≈ 0.26 comes within 1.0000001e-9).
   */
  const solverTolerance = (m: Market, r: { minted: number }, deficit: number) =>
    1e-9 * deficit + 2 * m.depthUsd * Number.EPSILON * Math.max(1, saleEnd(m, r));

  it('Uncapped, the proceeds equal the deficit to within 1e-9 of it', () => {
    fc.assert(
      fc.property(market, mixedReal(1, 1e7), (m, deficit) => {
        const r = mintAndSellToCover(deficit, m.fundamentalUsd, m.x0, m.model, m.coefficient, m.depthUsd, Infinity);
        const tol = solverTolerance(m, r, deficit);
        expect(Math.abs(r.proceedsUsd - deficit)).toBeLessThanOrEqual(tol);
        expect(r.uncoveredUsd).toBeLessThanOrEqual(tol);
        // The market is left where the minted tokens' sale ends on the curve (relative: prices go down to 0.01).
        const after = m.fundamentalUsd * impactFactor(m.model, m.coefficient, saleEnd(m, r));
        expect(Math.abs(r.priceAfter - after)).toBeLessThanOrEqual(1e-12 * after);
      }),
      { seed: FC_SEED, numRuns: 300 },
    );
  });

  it('Capped or not, minted ≤ cap and proceeds + uncovered = deficit', () => {
    fc.assert(
      fc.property(market, mixedReal(1, 1e7), mixedReal(0, 1e6), (m, deficit, cap) => {
        const r = mintAndSellToCover(deficit, m.fundamentalUsd, m.x0, m.model, m.coefficient, m.depthUsd, cap);
        expect(r.minted).toBeLessThanOrEqual(cap);
        expect(r.minted).toBeGreaterThanOrEqual(0);
        expect(Math.abs(r.proceedsUsd + r.uncoveredUsd - deficit)).toBeLessThanOrEqual(solverTolerance(m, r, deficit));
      }),
      { seed: FC_SEED, numRuns: 300 },
    );
  });

  it('Regression: the mint stays within its cap where x0 plus the cap\'s move rounds (found by the property above)', () => {
    // Linear λ = 0.05 on a $806k book of a $0.01 token, x0 ≈ 0.254, a $1 deficit, 101.286… tokens left to
    // mint: the cap's move is 1.26e-6 of depth, which x0's doubles (ulp 5.6e-17) carry to ~4e-11, and
    // (x1 − x0) × depth / price read 101.28603234267833, 2e-11 over the cap.
    const cap = 101.28603234044029;
    const r = mintAndSellToCover(1, 0.01, 0.2539400807581842, ImpactCode.linear, 0.05, 806340.9486088792, cap);
    expect(r.minted).toBeLessThanOrEqual(cap);
    expect(r.minted).toBeGreaterThan(cap * (1 - 1e-9));
  });

  it('The price after the sale falls monotonically with the deficit', () => {
    // Deficits uniform over [0, 1e7] (fc.double's are almost always under $1, which moves no price).
    let strictly = 0;
    fc.assert(
      fc.property(market, real(0, 1e7), real(0, 1e7), (m, a, b) => {
        const small = Math.min(a, b);
        const large = Math.max(a, b);
        const rSmall = mintAndSellToCover(small, m.fundamentalUsd, m.x0, m.model, m.coefficient, m.depthUsd, Infinity);
        const rLarge = mintAndSellToCover(large, m.fundamentalUsd, m.x0, m.model, m.coefficient, m.depthUsd, Infinity);
        expect(rLarge.priceAfter).toBeLessThanOrEqual(rSmall.priceAfter);
        expect(rLarge.minted).toBeGreaterThanOrEqual(rSmall.minted);
        if (rLarge.priceAfter < rSmall.priceAfter * (1 - 1e-9)) strictly++;
      }),
      { seed: FC_SEED, numRuns: 300 },
    );
    // Pairs that leave prices measurably apart: 177 of 300 with the default seed; in the other 123 both
    // sales reach the curve's floor (deficits up to $10M against depths from $1,000).
    expect(strictly).toBeGreaterThanOrEqual(100);
  });
});
