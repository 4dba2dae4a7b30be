// Statistics used by the reports: quantiles (type 7, as R and numpy default) and the Wilson
// score interval (Wilson 1927; values as tabulated by Newcombe 1998, Stat. Med. 17:857, table I).
import { describe, expect, it } from 'vitest';
import { mean, quantile, wilsonInterval } from '../src/analysis/statistics.ts';
import { expectedShortfall, quantileEstimate, riskMetrics } from '../src/analysis/riskMetrics.ts';

describe('statistics', () => {
  it('Quantiles interpolate between order statistics', () => {
    // Sorted [1,2,3,4,10]: q=0.5 → 3; q=0.95 → h = 3.8 → 4 + 0.8·6 = 8.8; q=0.25 → h=1 → 2.
    expect(quantile([10, 1, 3, 2, 4], 0.5)).toBe(3);
    expect(quantile([10, 1, 3, 2, 4], 0.95)).toBeCloseTo(8.8, 12);
    expect(quantile([10, 1, 3, 2, 4], 0.25)).toBe(2);
    expect(mean([1, 2, 3, 4, 10])).toBe(4);
  });
  it('Wilson intervals match Newcombe (1998) table I', () => {
    // 81/263 → 0.2553–0.3662; 15/148 → 0.0624–0.1605; 0/20 → 0–0.1611.
    const cases: [number, number, number, number][] = [
      [81, 263, 0.2553, 0.3662],
      [15, 148, 0.0624, 0.1605],
      [0, 20, 0, 0.1611],
    ];
    for (const [k, n, lo, hi] of cases) {
      const [l, h] = wilsonInterval(k, n);
      expect(l).toBeCloseTo(lo, 4);
      expect(h).toBeCloseTo(hi, 4);
    }
  });
  it('VaR95 with its distribution-free interval: open above under 72 paths, bounded at 100', () => {
    const ramp = (n: number) => Array.from({ length: n }, (_, i) => n - i); // n … 1, unsorted on purpose
    // n = 20: h = 19 × 0.95 = 18.05 → 19 + 0.05 × (20 − 19) = 19.05. B ~ Bin(20, 0.95): P(B ≤ 16) =
    // 0.0159 ≤ 0.025 < P(B ≤ 17) = 0.0755, so the lower bound is the 17th value; P(B ≥ 20) = 0.95^20
    // = 0.358 > 0.025: no rank bounds it above.
    expect(quantileEstimate(ramp(20), 0.95, 0.95)).toEqual({ value: expect.closeTo(19.05, 12), lower: 17, upper: null });
    // n = 100: h = 94.05 → 95.05; P(B ≤ 89) = 0.0115, P(B ≥ 100) = 0.0059 ≤ 0.025 < P(B ≥ 99) = 0.0371:
    // the 90th and 100th values.
    expect(quantileEstimate(ramp(100), 0.95, 0.95)).toEqual({ value: expect.closeTo(95.05, 12), lower: 90, upper: 100 });
    // 71 paths leave it open above (0.95^71 = 0.0262), 72 bound it (0.95^72 = 0.0249).
    expect(quantileEstimate(ramp(71), 0.95, 0.95).upper).toBeNull();
    expect(quantileEstimate(ramp(72), 0.95, 0.95).upper).toBe(72);
  });
  it('ES99 is the mean of the worst ⌈1% of paths⌉ (at least one)', () => {
    // 100 paths: (1 − 0.99) × 100 is 1.0000000000000009 in doubles, still one path: 100.
    expect(expectedShortfall(Array.from({ length: 100 }, (_, i) => i + 1), 0.99)).toEqual({ value: 100, paths: 1 });
    // 250 paths: ⌈2.5⌉ = 3: (250 + 249 + 248) / 3 = 249.
    expect(expectedShortfall(Array.from({ length: 250 }, (_, i) => i + 1), 0.99)).toEqual({ value: 249, paths: 3 });
    // 10 paths: the worst one.
    expect(expectedShortfall([3, 9, 1, 4], 0.99)).toEqual({ value: 9, paths: 1 });
  });
  it('riskMetrics puts them together: losses and liquidated values of one point', () => {
    // Losses 0 … 19 (h = 18.05 → 18.05), liquidated 100 × 1 … 20 (→ 1,905).
    const r = riskMetrics(Array.from({ length: 20 }, (_, i) => i), Array.from({ length: 20 }, (_, i) => 100 * (i + 1)));
    expect(r.paths).toBe(20);
    expect(r.valueAtRisk.value).toBeCloseTo(18.05, 12);
    expect(r.valueAtRisk.lower).toBe(16);
    expect(r.liquidationsAtRisk.value).toBeCloseTo(1905, 9);
    expect(r.expectedShortfall).toEqual({ value: 19, paths: 1 });
  });
});
