// Black–Scholes pricing against published textbook values (Hull), the normal CDF against
// high-precision values, put–call parity and the Greeks against finite differences of the price
// (fast-check), and the expiry / zero-volatility limits.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import './fixtures/fcSeed.ts';
import { mixedReal } from './fixtures/reals.ts';
import { blackScholes, normCdf, normPdf, type OptionGreeks } from '../src/model/options.ts';

const greeks = (): OptionGreeks => ({ price: 0, delta: 0, gamma: 0, vega: 0, theta: 0 });
/** x rounded to `digits` decimals, as a textbook prints it. */
const rounded = (x: number, digits: number): number => Math.round(x * 10 ** digits) / 10 ** digits;

describe('normal distribution', () => {
  // Reference values: Φ(1.96) and Φ(−3) as given in the brief; every value in this table was also
  // checked against mpmath.ncdf at 30 significant digits (e.g. Φ(−10) = 7.61985302416052607e-24).
  const cdfCases: [string, number, number][] = [
    ['Φ(0) is one half', 0, 0.5],
    ['Φ(1.96) is the two-sided 95% point', 1.96, 0.9750021048517795],
    ['Φ(−3) is the three-sigma lower tail', -3, 0.0013498980316301],
    ['Φ(0.3) sits in Cody’s first interval (|x|/√2 ≤ 0.46875)', 0.3, 0.6179114221889526],
    ['Φ(−0.7) sits in Cody’s second interval', -0.7, 0.24196365222307303],
    ['Φ(2.5) sits in Cody’s second interval', 2.5, 0.9937903346742238],
    ['Φ(5) sits in Cody’s third interval (|x|/√2 > 4)', 5, 0.9999997133484281],
  ];
  for (const [name, x, expected] of cdfCases) {
    it(name, () => expect(Math.abs(normCdf(x) - expected)).toBeLessThanOrEqual(1e-12));
  }
  const tailCases: [string, number, number][] = [
    ['Φ(−6) keeps twelve significant digits in the far tail', -6, 9.865876450376981e-10],
    ['Φ(−10) keeps twelve significant digits in the far tail', -10, 7.619853024160526e-24],
    ['Φ(−37) keeps twelve significant digits near the bottom of double range', -37, 5.725571222524577e-300],
  ];
  for (const [name, x, expected] of tailCases) {
    it(name, () => expect(Math.abs(normCdf(x) / expected - 1)).toBeLessThanOrEqual(1e-12));
  }
  it('Φ saturates at 0 and 1 far out', () => {
    expect(normCdf(-40)).toBe(0);
    expect(normCdf(40)).toBe(1);
    expect(normCdf(-Infinity)).toBe(0);
    expect(normCdf(Infinity)).toBe(1);
  });
  it('φ(0) = 1/√(2π) and φ(1) = e^{−1/2}/√(2π)', () => {
    // 1/√(2π) = 0.3989422804014327; × e^{−0.5} = 0.3989422804014327 × 0.6065306597126334 = 0.24197072451914337.
    expect(normPdf(0)).toBeCloseTo(0.3989422804014327, 15);
    expect(normPdf(1)).toBeCloseTo(0.24197072451914337, 15);
    expect(normPdf(-1)).toBe(normPdf(1));
  });
  it('Φ(x) + Φ(−x) = 1 for any x', () => {
    fc.assert(fc.property(mixedReal(-30, 30), (x) => Math.abs(normCdf(x) + normCdf(-x) - 1) <= 2e-16));
  });
  it('Φ is non-decreasing', () => {
    fc.assert(
      fc.property(mixedReal(-30, 30), mixedReal(0, 1), (x, dx) => normCdf(x + dx) >= normCdf(x)),
    );
  });
});

describe('Black–Scholes against published values', () => {
  it('Hull’s example: S=42, K=40, r=10%, σ=20%, T=0.5 gives a call of 4.76 and a put of 0.81', () => {
    // Hull, Options, Futures, and Other Derivatives, ch. "The Black–Scholes–Merton model" (Example 15.6
    // in the 9th ed.): d1 = (ln(42/40) + (0.1 + 0.02)·0.5)/(0.2·√0.5) = 0.7693, d2 = 0.6278,
    // c = 42·N(0.7693) − 40e^{−0.05}·N(0.6278) = 4.76, p = 40e^{−0.05}·N(−0.6278) − 42·N(−0.7693) = 0.81.
    const call = blackScholes('call', 42, 40, 0.5, 0.2, 0.1, greeks());
    const put = blackScholes('put', 42, 40, 0.5, 0.2, 0.1, greeks());
    expect(rounded(call.price, 2)).toBe(4.76);
    expect(rounded(put.price, 2)).toBe(0.81);
    // Unrounded, against mpmath at 30 digits: 4.75942239287153, 0.808599372900094.
    expect(call.price).toBeCloseTo(4.75942239287153, 12);
    expect(put.price).toBeCloseTo(0.808599372900094, 12);
  });
  it('Hull’s Greek-letters example: S=49, K=50, r=5%, σ=20%, T=0.3846 has call delta 0.522', () => {
    // Hull, ch. "The Greek Letters": d1 = (ln(49/50) + (0.05 + 0.02)·0.3846)/(0.2·√0.3846) = 0.0542,
    // Δ = N(0.0542) = 0.522. The same chapter gives Γ = 0.066, vega = 12.1 (per 1.00 of σ, i.e. 0.121
    // per 1%) and Θ = −4.31 per year for this option.
    const g = blackScholes('call', 49, 50, 0.3846, 0.2, 0.05, greeks());
    expect(rounded(g.delta, 3)).toBe(0.522);
    expect(rounded(g.gamma, 3)).toBe(0.066);
    expect(rounded(g.vega, 1)).toBe(12.1);
    expect(rounded(g.theta, 2)).toBe(-4.31);
  });
  it('A continuous carry q discounts the underlying: S=100, K=95, r=4%, q=2%, σ=30%, T=0.75', () => {
    // d1 = (ln(100/95) + (0.04 − 0.02 + 0.045)·0.75)/(0.3·√0.75) = 0.385066819635129;
    // values from mpmath at 30 digits: call 13.3319161501416, put 7.01304787694357.
    const call = blackScholes('call', 100, 95, 0.75, 0.3, 0.04, greeks(), 0.02);
    const put = blackScholes('put', 100, 95, 0.75, 0.3, 0.04, greeks(), 0.02);
    expect(call.price).toBeCloseTo(13.3319161501416, 11);
    expect(put.price).toBeCloseTo(7.01304787694357, 11);
    expect(call.delta).toBeCloseTo(Math.exp(-0.015) * normCdf(0.385066819635129), 12);
  });
  it('The result is written into the object passed and that object is returned', () => {
    const out = greeks();
    expect(blackScholes('put', 42, 40, 0.5, 0.2, 0.1, out)).toBe(out);
  });
});

describe('Black–Scholes properties', () => {
  const inputs = fc.record({
    spot: mixedReal(1, 200_000),
    moneyness: mixedReal(0.5, 2),
    years: mixedReal(0.05, 3),
    vol: mixedReal(0.1, 2),
    rate: mixedReal(-0.02, 0.15),
    carry: mixedReal(-0.05, 0.1),
  });
  it('Put–call parity: C − P = S e^{−qT} − K e^{−rT}', () => {
    fc.assert(
      fc.property(inputs, ({ spot, moneyness, years, vol, rate, carry }) => {
        const strike = spot * moneyness;
        const c = blackScholes('call', spot, strike, years, vol, rate, greeks(), carry).price;
        const p = blackScholes('put', spot, strike, years, vol, rate, greeks(), carry).price;
        const forward = spot * Math.exp(-carry * years) - strike * Math.exp(-rate * years);
        return Math.abs(c - p - forward) <= 1e-12 * (spot + strike);
      }),
    );
  });
  it('Delta equals a central finite difference of the price', () => {
    fc.assert(
      fc.property(inputs, fc.constantFrom<'call' | 'put'>('call', 'put'), ({ spot, moneyness, years, vol, rate, carry }, kind) => {
        const strike = spot * moneyness;
        const h = 1e-5 * spot;
        const up = blackScholes(kind, spot + h, strike, years, vol, rate, greeks(), carry).price;
        const down = blackScholes(kind, spot - h, strike, years, vol, rate, greeks(), carry).price;
        const delta = blackScholes(kind, spot, strike, years, vol, rate, greeks(), carry).delta;
        return Math.abs((up - down) / (2 * h) - delta) <= 1e-6;
      }),
    );
  });
  it('Put and call deltas differ by e^{−qT} and share gamma and vega', () => {
    fc.assert(
      fc.property(inputs, ({ spot, moneyness, years, vol, rate, carry }) => {
        const strike = spot * moneyness;
        const c = blackScholes('call', spot, strike, years, vol, rate, greeks(), carry);
        const p = blackScholes('put', spot, strike, years, vol, rate, greeks(), carry);
        return (
          Math.abs(c.delta - p.delta - Math.exp(-carry * years)) <= 1e-14 &&
          Math.abs(c.gamma - p.gamma) <= 1e-15 * (1 + c.gamma) &&
          Math.abs(c.vega - p.vega) <= 1e-12 * (1 + c.vega)
        );
      }),
    );
  });
  // Gamma, vega and theta against central differences (relative tolerance 1e-6) on fixed cases.
  const fdCases: [string, 'call' | 'put', number, number, number, number, number, number][] = [
    ['An at-the-money BTC call a month out', 'call', 100_000, 100_000, 30 / 365, 0.6, 0.05, 0],
    ['An out-of-the-money ETH put a week out', 'put', 5_000, 4_200, 7 / 365, 0.8, 0.03, 0],
    ['An in-the-money call with carry a year out', 'call', 120, 100, 1, 0.25, 0.04, 0.02],
    ['Hull’s 49/50 call', 'call', 49, 50, 0.3846, 0.2, 0.05, 0],
  ];
  for (const [name, kind, s, k, t, v, r, q] of fdCases) {
    it(`${name}: gamma, vega and theta match finite differences`, () => {
      const price = (ss: number, tt: number, vv: number) => blackScholes(kind, ss, k, tt, vv, r, greeks(), q).price;
      const dlt = (ss: number) => blackScholes(kind, ss, k, t, v, r, greeks(), q).delta;
      const g = blackScholes(kind, s, k, t, v, r, greeks(), q);
      const hs = 1e-4 * s, hv = 1e-5, ht = 1e-6;
      const gammaFd = (dlt(s + hs) - dlt(s - hs)) / (2 * hs);
      const vegaFd = (price(s, t, v + hv) - price(s, t, v - hv)) / (2 * hv);
      const thetaFd = -(price(s, t + ht, v) - price(s, t - ht, v)) / (2 * ht);
      expect(Math.abs(gammaFd / g.gamma - 1)).toBeLessThan(1e-6);
      expect(Math.abs(vegaFd / g.vega - 1)).toBeLessThan(1e-6);
      expect(Math.abs(thetaFd / g.theta - 1)).toBeLessThan(1e-6);
    });
  }
});

describe('Black–Scholes limits', () => {
  // [case, kind, spot, strike, years, vol, rate, price, delta, theta]
  const cases: [string, 'call' | 'put', number, number, number, number, number, number, number, number][] = [
    ['An expired in-the-money call is worth S − K = 10 with delta 1', 'call', 110, 100, 0, 0.5, 0.05, 10, 1, 0],
    ['An expired out-of-the-money call is worthless with delta 0', 'call', 90, 100, 0, 0.5, 0.05, 0, 0, 0],
    ['An expired in-the-money put is worth K − S = 10 with delta −1', 'put', 90, 100, 0, 0.5, 0.05, 10, -1, 0],
    ['An expired out-of-the-money put is worthless with delta 0', 'put', 110, 100, 0, 0.5, 0.05, 0, 0, 0],
    ['An expired at-the-money call has delta ½, the limit of N(d1)', 'call', 100, 100, 0, 0.5, 0.05, 0, 0.5, 0],
    ['Negative time to expiry is treated as expired', 'put', 80, 100, -1, 0.5, 0.05, 20, -1, 0],
    // σ → 0 limit: the forward is certain. 100 − 100e^{−0.05} = 4.877057549928594; Θ = −rKe^{−rT} = −4.75614712250357.
    ['A zero-volatility call is worth the discounted forward intrinsic value', 'call', 100, 100, 1, 0, 0.05, 4.877057549928594, 1, -4.75614712250357],
    ['A zero-volatility put that the forward puts out of the money is worthless', 'put', 100, 100, 1, 0, 0.05, 0, 0, 0],
    ['A negative volatility is treated as zero', 'put', 90, 100, 1, -0.3, 0, 10, -1, 0],
  ];
  for (const [name, kind, s, k, t, v, r, price, delta, theta] of cases) {
    it(name, () => {
      const g = blackScholes(kind, s, k, t, v, r, greeks());
      expect(g.price).toBeCloseTo(price, 12);
      expect(g.delta).toBe(delta);
      expect(g.gamma).toBe(0);
      expect(g.vega).toBe(0);
      expect(g.theta).toBeCloseTo(theta, 12);
    });
  }
  it('The price converges to the zero-volatility limit as σ → 0', () => {
    const tiny = blackScholes('call', 100, 100, 1, 1e-9, 0.05, greeks());
    expect(tiny.price).toBeCloseTo(4.877057549928594, 9);
    expect(tiny.delta).toBeCloseTo(1, 12);
  });
  it('A worthless underlying leaves the call worthless and the put at K e^{−rT}', () => {
    // 100e^{−0.05} = 95.1229424500714
    expect(blackScholes('call', 0, 100, 1, 0.5, 0.05, greeks()).price).toBe(0);
    expect(blackScholes('put', 0, 100, 1, 0.5, 0.05, greeks()).price).toBeCloseTo(95.1229424500714, 12);
  });
});
