// Dynamic margin: the RiskMetrics EWMA recursion by hand over three returns, the margin fraction of a
// calm and then a stressed hourly series (it rises with volatility: pro-cyclical), clamping at the
// floor and cap, and monotonicity in the variance (fast-check).
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import './fixtures/fcSeed.ts';
import { mixedReal } from './fixtures/reals.ts';
import { createDynamicMarginState, dynamicMarginFraction, SECONDS_PER_YEAR, updateEwmaVariance } from '../src/margin/dynamic.ts';

describe('EWMA variance (RiskMetrics, λ = 0.94)', () => {
  it('Three returns by hand from a seed of 0.0001', () => {
    // σ²₀ = 0.0001
    // r₁ = 0.01:  0.94 × 0.0001   + 0.06 × 0.0001 = 0.000094   + 0.000006 = 0.0001
    // r₂ = 0.02:  0.94 × 0.0001   + 0.06 × 0.0004 = 0.000094   + 0.000024 = 0.000118
    // r₃ = −0.03: 0.94 × 0.000118 + 0.06 × 0.0009 = 0.00011092 + 0.000054 = 0.00016492
    const state = createDynamicMarginState(2, 0.0001);
    const expected = [0.0001, 0.000118, 0.00016492];
    [0.01, 0.02, -0.03].forEach((r, k) => {
      updateEwmaVariance(state, 1, r, 0.94);
      expect(state.variancePerStep[1]).toBeCloseTo(expected[k]!, 18);
    });
    // The other asset is untouched.
    expect(state.variancePerStep[0]).toBe(0.0001);
  });
  it('λ = 0 forgets everything but the last squared return; λ = 1 never moves', () => {
    const state = createDynamicMarginState(1, 0.0004);
    updateEwmaVariance(state, 0, 0.05, 1);
    expect(state.variancePerStep[0]).toBe(0.0004);
    updateEwmaVariance(state, 0, 0.05, 0);
    expect(state.variancePerStep[0]).toBeCloseTo(0.0025, 18);
  });
  it('The estimate stays between the seed and the largest squared return', () => {
    fc.assert(
      fc.property(
        mixedReal(0, 0.01),
        fc.array(mixedReal(-0.2, 0.2), { minLength: 1, maxLength: 50 }),
        mixedReal(0, 0.999),
        (seed, returns, lambda) => {
          const state = createDynamicMarginState(1, seed);
          let lo = seed, hi = seed;
          for (const r of returns) {
            updateEwmaVariance(state, 0, r, lambda);
            lo = Math.min(lo, r * r);
            hi = Math.max(hi, r * r);
          }
          const v = state.variancePerStep[0]!;
          return v >= lo * (1 - 1e-12) && v <= hi * (1 + 1e-12);
        },
      ),
    );
  });
});

describe('volatility-scaled margin fraction', () => {
  // Hourly steps (3,600 s → 8,760 steps a year), base fraction 5% at a reference vol of 60%,
  // multiples clamped to [0.5, 3].
  const step = 3_600, base = 0.05, ref = 0.6, floor = 0.5, cap = 3, lambda = 0.94;
  const fraction = (v: number) => dynamicMarginFraction(base, v, step, ref, floor, cap);

  it('A calm series then a stressed one: the fraction rises from 3.90% to 13.32% (pro-cyclical)', () => {
    const state = createDynamicMarginState(1, 0.005 ** 2);
    // Calm: a day of ±0.5% hourly moves leaves σ² at 0.005² = 0.000025 (r² equals the seed).
    for (let h = 0; h < 24; h++) updateEwmaVariance(state, 0, h % 2 === 0 ? 0.005 : -0.005, lambda);
    const calmVariance = state.variancePerStep[0]!;
    expect(calmVariance).toBeCloseTo(0.000025, 18);
    // σ_annual = 0.005 × √8760 = 0.005 × 93.5948716543807 = 0.467974358271904;
    // multiple 0.467974358271904 / 0.6 = 0.779957263786506; fraction 0.05 × that = 0.0389978631893253.
    const calm = fraction(calmVariance);
    expect(calm).toBeCloseTo(0.0389978631893253, 14);

    // Stress: three hourly −4% returns. σ² = 0.94³ × 0.000025 + (1 − 0.94³) × 0.0016
    //   = 0.830584 × 0.000025 + 0.169416 × 0.0016 = 0.0000207646 + 0.0002710656 = 0.0002918302.
    for (let h = 0; h < 3; h++) updateEwmaVariance(state, 0, -0.04, lambda);
    const stressedVariance = state.variancePerStep[0]!;
    expect(stressedVariance).toBeCloseTo(0.0002918302, 16);
    // σ_annual = √(0.0002918302 × 8760) = √2.556432552 = 1.59888478384154;
    // multiple 1.59888478384154 / 0.6 = 2.66480797306923; fraction 0.133240398653462.
    const stressed = fraction(stressedVariance);
    expect(stressed).toBeCloseTo(0.133240398653462, 14);
    expect(stressed).toBeGreaterThan(calm);
  });

  const clampCases: [string, number, number][] = [
    // σ² per hour for a 60% annual vol: 0.36 / 8760 = 0.0000410958904109589 → multiple exactly 1.
    ['At the reference volatility the fraction is the base fraction', 0.36 / 8760, 0.05],
    // 10% annual: multiple 1/6 < 0.5 → floor: 0.05 × 0.5 = 0.025.
    ['A very calm market is held at the floor multiple', 0.01 / 8760, 0.025],
    ['Zero variance is held at the floor multiple', 0, 0.025],
    // 300% annual: multiple 5 > 3 → cap: 0.05 × 3 = 0.15.
    ['A very turbulent market is held at the cap multiple', 9 / 8760, 0.15],
    // 180% annual: multiple exactly 3 → the cap itself.
    ['Exactly at the cap volatility the cap applies', 3.24 / 8760, 0.15],
  ];
  for (const [name, variance, expected] of clampCases) {
    it(name, () => expect(fraction(variance)).toBeCloseTo(expected, 14));
  }
  it('The step length annualises: one day of variance over a daily step equals 24 hourly steps', () => {
    // Same annual vol whether 0.0024 per 86,400 s or 0.0001 per 3,600 s: √(0.0001 × 8760) = 0.935948716543807.
    const daily = dynamicMarginFraction(1, 0.0024, 86_400, 1, 0, 100);
    const hourly = dynamicMarginFraction(1, 0.0001, 3_600, 1, 0, 100);
    expect(daily).toBeCloseTo(0.935948716543807, 14);
    expect(hourly).toBeCloseTo(daily, 14);
    expect(SECONDS_PER_YEAR).toBe(365 * 24 * 3600);
  });
  it('The fraction is non-decreasing in the variance', () => {
    fc.assert(
      fc.property(
        mixedReal(0, 0.01),
        mixedReal(0, 0.01),
        mixedReal(0.001, 0.5),
        mixedReal(0.05, 2),
        mixedReal(0, 1),
        mixedReal(1, 10),
        fc.constantFrom(1, 60, 3_600, 28_800, 86_400),
        (a, b, baseFraction, refVol, floorMultiple, capMultiple, stepSeconds) => {
          const [lo, hi] = a <= b ? [a, b] : [b, a];
          const fLo = dynamicMarginFraction(baseFraction, lo, stepSeconds, refVol, floorMultiple, capMultiple);
          const fHi = dynamicMarginFraction(baseFraction, hi, stepSeconds, refVol, floorMultiple, capMultiple);
          return fHi >= fLo && fLo >= baseFraction * floorMultiple && fHi <= baseFraction * capMultiple;
        },
      ),
    );
  });
});
