// Statistics used by the reports: quantiles (type 7, as R and numpy default) and the Wilson
// score interval (Wilson 1927; values as tabulated by Newcombe 1998, Stat. Med. 17:857, table I).
import { describe, expect, it } from 'vitest';
import { mean, quantile, wilsonInterval } from '../src/analysis/statistics.ts';

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
});
