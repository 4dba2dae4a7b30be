// Model building blocks against hand-computed and published numbers: size-tiered margin
// (Binance brackets), the impact curves and their fill prices, funding accrual, Cholesky,
// correlated returns, scripted shocks and regime switches, and seed derivation.
import { describe, expect, it } from 'vitest';
import { requirementUsd } from '../src/model/margin.ts';
import { averageImpactFactor, impactFactor, impactIntegral, MIN_IMPACT_FACTOR } from '../src/model/impact.ts';
import { draftCapacity, exchangeOf, ImpactCode, Role, roleOf, walletOf } from '../src/model/world.ts';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { caseArb } from './fixtures/randomScenario.ts';
import { cholesky } from '../src/model/cholesky.ts';
import { exactly } from '../src/model/typedArrays.ts';
import { deriveSeed, Streams } from '../src/experiment/seeds.ts';
import { accrueFunding, fundingPremium } from '../src/engine/phases/accrueFunding.ts';
import { updateOracles } from '../src/engine/phases/updateOracles.ts';
import { evolveFundamentals } from '../src/engine/phases/evolveFundamentals.ts';
import { markAccount } from '../src/engine/accounts.ts';
import { tradeIntoMarket, updateMarketPrice } from '../src/engine/market.ts';
import { EventKindCode } from '../src/engine/record.ts';
import { accountOf, handExperiment, handWorld, setPrice } from './fixtures/handWorld.ts';
import { parseExperiment } from '../src/experiment/load.ts';
import { buildGraph } from '../src/graph/build.ts';
import { worldFor } from '../src/engine/simulate.ts';

describe('size-tiered margin (Binance USDⓈ-M form)', () => {
  // BTCUSDT brackets (Binance, 2021): ≤50k 0.40%, ≤250k 0.50%, ≤1M 1.00%, then 2.50%.
  // Maintenance amount of a bracket = previous amount + lower bound × (rate − previous rate):
  // 50k × 0.001 = 50; 50 + 250k × 0.005 = 1,300; 1,300 + 1M × 0.015 = 16,300 — Binance's published
  // amounts for those brackets.
  const tierStart = Int32Array.of(0, 4);
  const upper = Float64Array.of(50_000, 250_000, 1_000_000, Infinity);
  const rate = Float64Array.of(0.004, 0.005, 0.01, 0.025);
  const amount = Float64Array.of(0, 50, 1300, 16300);
  const cases: [string, number, number][] = [
    ['A 10k position pays 0.40%', 10_000, 40],
    ['A 100k position pays 0.5% less the 50 amount', 100_000, 450],
    ['A 600k position pays 1% less 1,300', 600_000, 4_700],
    ['A 2M position pays 2.5% less 16,300', 2_000_000, 33_700],
  ];
  for (const [name, notional, expected] of cases) {
    it(name, () => expect(requirementUsd(tierStart, upper, rate, amount, 0, notional)).toBeCloseTo(expected, 9));
  }
  it('The requirement is continuous at every bracket boundary', () => {
    for (const b of [50_000, 250_000, 1_000_000]) {
      const below = requirementUsd(tierStart, upper, rate, amount, 0, b);
      const above = requirementUsd(tierStart, upper, rate, amount, 0, b * (1 + 1e-12));
      // Both ways: a jump down at the boundary is as much a discontinuity as a jump up.
      expect(Math.abs(above - below)).toBeLessThan(1e-6);
    }
  });
  it('The world builds the same amounts from the experiment tiers', () => {
    const input = handExperiment({ traders: [{ id: 't', marginMode: 'isolated', positions: [{ asset: 'BTC', side: 'long' }], collateralUsd: 1000, leverage: 2 }] });
    input.scenario.exchanges[0]!.markets[0]!.marginTiers = [
      { upToNotionalUsd: 50_000, initialMarginFraction: 0.008, maintenanceMarginFraction: 0.004 },
      { upToNotionalUsd: 250_000, initialMarginFraction: 0.01, maintenanceMarginFraction: 0.005 },
      { upToNotionalUsd: 1_000_000, initialMarginFraction: 0.02, maintenanceMarginFraction: 0.01 },
      { upToNotionalUsd: null, initialMarginFraction: 0.05, maintenanceMarginFraction: 0.025 },
    ];
    const exp = parseExperiment(input, 'tiers');
    const w = worldFor(exp, buildGraph(exp), 0);
    expect(Array.from(w.tierMmAmount)).toEqual([0, 50, 1300, 16300].map((x) => expect.closeTo(x, 9)));
    expect(Array.from(w.tierImAmount)).toEqual([0, 100, 2600, 32600].map((x) => expect.closeTo(x, 9)));
  });
});

describe('price impact', () => {
  it('Linear impact fills at the midpoint of the curve', () => {
    // g(x) = 1 − 0.2x; selling from x = 0.01 to 0.03 averages 1 − 0.2 × 0.02 = 0.996.
    expect(averageImpactFactor(ImpactCode.linear, 0.2, 0.01, 0.03)).toBeCloseTo(0.996, 12);
  });
  it('Exponential impact averages (e^{−αx0} − e^{−αx1}) / (α(x1 − x0))', () => {
    // α = 2, x 0 → 0.5: (1 − e^{−1}) / 1 = 0.6321205588…
    expect(averageImpactFactor(ImpactCode.exponential, 2, 0, 0.5)).toBeCloseTo(1 - Math.exp(-1), 12);
    expect(impactFactor(ImpactCode.exponential, 2, 0.5)).toBeCloseTo(Math.exp(-1), 12);
  });
  it('Square-root impact averages 1 − (2/3)λ√x over [0, x]', () => {
    // λ = 0.3, x = 0.04: 1 − (2/3)(0.3)(0.2) = 0.96; the marginal price is 1 − 0.3 × 0.2 = 0.94.
    expect(averageImpactFactor(ImpactCode.sqrt, 0.3, 0, 0.04)).toBeCloseTo(0.96, 12);
    expect(impactFactor(ImpactCode.sqrt, 0.3, 0.04)).toBeCloseTo(0.94, 12);
    // Buying (x < 0) raises the price symmetrically.
    expect(impactFactor(ImpactCode.sqrt, 0.3, -0.04)).toBeCloseTo(1.06, 12);
  });
  it('The floor keeps prices positive past the point where the curve would cross zero', () => {
    // Linear λ = 1: floor from x = 1 − 1e-4. Over [0, 2]: ∫ = (x − x²/2 at xc) + 1e-4 (2 − xc).
    const xc = 1 - MIN_IMPACT_FACTOR;
    const expected = (xc - 0.5 * xc * xc + MIN_IMPACT_FACTOR * (2 - xc)) / 2;
    expect(averageImpactFactor(ImpactCode.linear, 1, 0, 2)).toBeCloseTo(expected, 12);
    expect(impactFactor(ImpactCode.linear, 1, 5)).toBe(MIN_IMPACT_FACTOR);
  });
  it('One sale\'s proceeds are the curve\'s integral, and splitting it into pieces (one of them short) yields the same', () => {
    // λ = 0.5 over x ∈ [0, 0.3], by hand (no floor or ceiling is reached):
    //   linear  ∫ 1 − 0.5x     = 0.3 − 0.25 × 0.09                    = 0.2775
    //   sqrt    ∫ 1 − 0.5√x    = 0.3 − 0.5 × (2/3) × 0.3^1.5          = 0.3 − 0.0547722558 = 0.2452277442
    //   exp.    ∫ e^(−0.5x)    = (1 − e^(−0.15)) / 0.5 = 2 × (1 − 0.8607079764) = 0.2785840471
    const byHand = [
      [ImpactCode.linear, 0.2775],
      [ImpactCode.sqrt, 0.3 - (0.5 * (2 / 3) * 0.3 * Math.sqrt(0.3))],
      [ImpactCode.exponential, 2 * (1 - Math.exp(-0.15))],
    ] as const;
    expect(byHand[1][1]).toBeCloseTo(0.2452277442, 10);
    expect(byHand[2][1]).toBeCloseTo(0.2785840471, 10);
    for (const [model, integral] of byHand) {
      const whole = impactIntegral(model, 0.5, 0, 0.3);
      expect(whole).toBeCloseTo(integral, 12);
      // The piece [0.1, 0.1 + 1e-7] is short enough for the midpoint rule (averageImpactFactor's
      // branch for intervals under 1e-6), so the sum does not merely telescope the antiderivative.
      const pieces = [0, 0.1, 0.1 + 1e-7, 0.15, 0.3].reduce(
        (sum, x, i, xs) => (i === 0 ? 0 : sum + averageImpactFactor(model, 0.5, xs[i - 1]!, x) * (x - xs[i - 1]!)),
        0,
      );
      expect(pieces).toBeCloseTo(integral, 12);
    }
  });
  it('A sale into a market splits impact into permanent and temporary parts', () => {
    // Depth 1M, price 100: selling 1000 units = 100k USD → x = 0.1. Linear λ = 0.5, permanent share 1
    // in the hand world: fill = 100 × (1 − 0.5 × 0.05) = 97.5, market after = 100 × (1 − 0.05) = 95.
    const w = handWorld({
      assets: [{ symbol: 'BTC', price: 100, depthUsd: 1e6, impactCoefficient: 0.5 }],
      traders: [{ id: 't', marginMode: 'isolated', positions: [{ asset: 'BTC', side: 'long' }], collateralUsd: 1000, leverage: 1 }],
    });
    w.impactModel[0] = ImpactCode.linear;
    expect(tradeIntoMarket(w, 0, 1000)).toBeCloseTo(97.5, 12);
    expect(w.market[0]).toBeCloseTo(95, 12);
    expect(w.impactPermanent[0]).toBeCloseTo(0.1, 12);
  });
});

describe('funding', () => {
  // Interest 0.01% per 8 h and no premium: F = 0 + clamp(0.0001 − 0, ±0.0005) = 0.0001 per 8 h.
  // Over 480 one-minute steps (8 h), a 100-unit long at 100 pays 0.0001 × 100 × 100 = 1 USD.
  it('Longs pay the interest rate when mark equals index', () => {
    const w = handWorld({
      traders: [{ id: 't', marginMode: 'isolated', positions: [{ asset: 'BTC', side: 'long' }], collateralUsd: 1000, leverage: 10 }],
    });
    const a = accountOf(w, 0);
    setPrice(w, 'BTC', 100);
    for (let s = 0; s < 480; s++) accrueFunding(w);
    expect(w.fundingIndex[0]).toBeCloseTo(0.01, 12);
    expect(markAccount(w, a)).toBeCloseTo(1000 - 1, 9);
    // The long open interest is that one long's 100 units: the longs paid the shorts 0.01 × 100 = 1 USD.
    expect(w.marketLongQty[0]).toBe(100);
    expect(w.fundingLongsPaidUsd[0]).toBeCloseTo(1, 12);
  });
  it('A discount of the market to the index makes shorts pay longs', () => {
    // Market 99, index 100: premium P = −0.01; F = −0.01 + clamp(0.0001 + 0.01, ±0.0005) = −0.0095 per 8 h,
    // hourly −0.0011875 (under the 4% cap). One 60 s step: index change = −0.0011875/60 × mark.
    const w = handWorld({
      traders: [{ id: 't', marginMode: 'isolated', positions: [{ asset: 'BTC', side: 'long' }], collateralUsd: 1000, leverage: 10 }],
    });
    setPrice(w, 'BTC', 100);
    w.market[0] = 99;
    accrueFunding(w);
    expect(w.fundingIndex[0]).toBeCloseTo((-0.0011875 / 60) * 100, 15);
    // Negative: the shorts paid the 100 long units −0.0011875 / 60 × 100 × 100 = −0.19792 USD.
    expect(w.fundingLongsPaidUsd[0]).toBeCloseTo((-0.0011875 / 60) * 100 * 100, 12);
  });
  it('The index a venue measures the premium against: the fundamental, the fundamental after the permanent impact, or the oracle as published', () => {
    // Fundamental 100, linear impact g(x) = 1 − 0.5x, permanent 0.02 and temporary 0.02 of depth sold:
    // market = 100 × (1 − 0.5 × 0.04) = 98. One 60 s step, interest 0.0001, clamp 0.0005 per 8 h:
    // F = P + clamp(0.0001 − P, ±0.0005) = P + 0.0005 for any P ≤ −0.0004; hourly F/8, the step 1/60 of it.
    const at = (indexPrice: 'fundamental' | 'after-permanent-impact' | 'oracle', oracle: number | null) => {
      const w = handWorld({
        assets: [{ symbol: 'BTC', price: 100, depthUsd: 1e6, impactCoefficient: 0.5 }],
        fundingIndexPrice: indexPrice,
        traders: [{ id: 't', marginMode: 'isolated', positions: [{ asset: 'BTC', side: 'long' }], collateralUsd: 1000, leverage: 10 }],
      });
      w.impactModel[0] = ImpactCode.linear;
      setPrice(w, 'BTC', 100);
      w.impactPermanent[0] = 0.02;
      w.impactTemporary[0] = 0.02;
      updateMarketPrice(w, 0);
      expect(w.market[0]).toBeCloseTo(98, 12);
      if (oracle !== null) w.oraclePrice[w.marketOracle[0]!] = oracle;
      const before = w.fundingIndex[0]!;
      accrueFunding(w);
      return { delta: w.fundingIndex[0]! - before, premium: fundingPremium(w, 0) };
    };
    const stepOf = (p: number, mark: number) => ((p + 0.0005) / 8 / 60) * mark;
    // fundamental: P = 98 / 100 − 1 = −0.02 (the permanent part counts); the mark is the oracle, 100.
    const f = at('fundamental', null);
    expect(f.premium).toBeCloseTo(-0.02, 15);
    expect(f.delta).toBeCloseTo(stepOf(-0.02, 100), 15); // −0.0195 / 480 × 100 = −0.0040625
    expect(f.delta).toBeCloseTo(-0.0040625, 15);
    // after-permanent-impact: index = 100 × (1 − 0.5 × 0.02) = 99, P = 98 / 99 − 1 = −0.010101…
    const p = at('after-permanent-impact', null);
    expect(p.premium).toBeCloseTo(98 / 99 - 1, 15);
    expect(p.delta).toBeCloseTo(stepOf(98 / 99 - 1, 100), 15); // (−0.0101010 + 0.0005) / 480 × 100 = −0.0020002
    // oracle: the feed (read at 100 before the sale) publishes 98.5: P = 98 / 98.5 − 1 = −0.0050761, and
    // the mark the step is paid at is 98.5.
    const o = at('oracle', 98.5);
    expect(o.premium).toBeCloseTo(98 / 98.5 - 1, 15);
    expect(o.delta).toBeCloseTo(stepOf(98 / 98.5 - 1, 98.5), 15); // −0.0045761 / 480 × 98.5 = −0.00093906
    // oracle, the feed having read the market (a spot feed, no lag): no premium, longs pay the interest,
    // 0.0001 / 480 × 98 per step.
    const spot = at('oracle', 98);
    expect(spot.premium).toBe(0);
    expect(spot.delta).toBeCloseTo((0.0001 / 480) * 98, 15);
  });
});

describe('price process', () => {
  it('Cholesky reproduces a correlation matrix and rejects one that is not positive definite', () => {
    const m = [[1, 0.8, 0.3], [0.8, 1, 0.5], [0.3, 0.5, 1]];
    const l = cholesky(m)!;
    for (let i = 0; i < 3; i++) {
      for (let j = 0; j < 3; j++) {
        let s = 0;
        for (let k = 0; k < 3; k++) s += l[i * 3 + k]! * l[j * 3 + k]!;
        expect(s).toBeCloseTo(m[i]![j]!, 12);
      }
    }
    expect(cholesky([[1, 0.9, -0.9], [0.9, 1, 0.9], [-0.9, 0.9, 1]])).toBeNull();
  });

  it('Returns have the regime correlation and √dt-scaled volatility', () => {
    // Two assets, 80% annual volatility, calm correlation 0.8; 60 s steps: σ√dt = 0.8 × √(60/31,536,000).
    // Over 20,000 seeded steps the sample correlation and volatility sit within sampling error
    // (s.e. of ρ ≈ (1 − ρ²)/√n = 0.0025; of σ ≈ σ/√(2n) = 0.5%).
    const input = handExperiment({
      assets: [
        { symbol: 'A', price: 100, depthUsd: 1e12, impactCoefficient: 0.1 },
        { symbol: 'B', price: 100, depthUsd: 1e12, impactCoefficient: 0.1 },
      ],
      traders: [{ id: 't', marginMode: 'isolated', positions: [{ asset: 'A', side: 'long' }], collateralUsd: 1000, leverage: 1 }],
    });
    input.scenario.assets.forEach((a) => (a.volatilityAnnual = 0.8));
    input.scenario.regimes.calm.correlation = [[1, 0.8], [0.8, 1]];
    const exp = parseExperiment(input, 'corr');
    const w = worldFor(exp, buildGraph(exp), 0);
    const n = 20_000;
    const ra = new Float64Array(n);
    const rb = new Float64Array(n);
    for (let s = 0; s < n; s++) {
      const [a0, b0] = [w.fundamental[0]!, w.fundamental[1]!];
      w.step = s;
      evolveFundamentals(w);
      ra[s] = Math.log(w.fundamental[0]! / a0);
      rb[s] = Math.log(w.fundamental[1]! / b0);
    }
    const mean = (x: Float64Array) => x.reduce((p, v) => p + v, 0) / x.length;
    const [ma, mb] = [mean(ra), mean(rb)];
    let cov = 0, va = 0, vb = 0;
    for (let i = 0; i < n; i++) {
      cov += (ra[i]! - ma) * (rb[i]! - mb);
      va += (ra[i]! - ma) ** 2;
      vb += (rb[i]! - mb) ** 2;
    }
    const rho = cov / Math.sqrt(va * vb);
    const sigmaStep = 0.8 * Math.sqrt(60 / (365 * 24 * 3600));
    expect(Math.abs(rho - 0.8)).toBeLessThan(4 * 0.0025);
    expect(Math.abs(Math.sqrt(va / (n - 1)) / sigmaStep - 1)).toBeLessThan(4 * 0.005);
  });

  it('A scripted shock applies its total return over its steps and a scripted switch flips the regime', () => {
    // Zero volatility: BTC 100 × (1 − 0.4) = 60 after 3 steps of (0.6)^(1/3) each.
    const input = handExperiment({ traders: [{ id: 't', marginMode: 'isolated', positions: [{ asset: 'BTC', side: 'long' }], collateralUsd: 1000, leverage: 1 }] });
    input.steps = 10;
    input.scenario.shocks = [{ id: 'crash', asset: 'BTC', totalReturn: -0.4, startStep: 2, overSteps: 3 }];
    input.scenario.regimes.switching = { kind: 'scripted', toStressAtStep: 3, toCalmAtStep: 6 };
    const exp = parseExperiment(input, 'shock');
    const w = worldFor(exp, buildGraph(exp), 0);
    const path: number[] = [];
    const regimes: number[] = [];
    for (let s = 0; s < 8; s++) {
      w.step = s;
      evolveFundamentals(w);
      path.push(w.fundamental[0]!);
      regimes.push(w.regime);
    }
    expect(path[1]).toBe(100);
    expect(path[2]).toBeCloseTo(100 * Math.cbrt(0.6), 12);
    expect(path[4]).toBeCloseTo(60, 10);
    expect(path[7]).toBeCloseTo(60, 10);
    expect(regimes).toEqual([0, 0, 0, 1, 1, 1, 0, 0]);
    expect(w.stressSteps).toBe(3);
    const kinds = Array.from(w.events.kind.subarray(0, w.events.length));
    expect(kinds).toEqual([EventKindCode.shock, EventKindCode.regime_switch, EventKindCode.regime_switch]);
    expect(w.events.amountUsd[0]).toBeCloseTo(-0.4, 12);
  });
});

describe('seeds', () => {
  it('Streams, replicates and points get distinct seeds; the point is left out by default', () => {
    const seeds = new Set<number>();
    for (let r = 0; r < 100; r++) for (const s of Object.values(Streams)) seeds.add(deriveSeed(7, r, s));
    expect(seeds.size).toBe(100 * Object.values(Streams).length);
    expect(deriveSeed(7, 3, Streams.prices)).toBe(deriveSeed(7, 3, Streams.prices));
    expect(deriveSeed(7, 3, Streams.prices, 5)).not.toBe(deriveSeed(7, 3, Streams.prices));
    expect(deriveSeed(8, 3, Streams.prices)).not.toBe(deriveSeed(7, 3, Streams.prices));
  });
});

describe('oracle feeds', () => {
  /** Drives one asset's market (= fundamental) through `path`, one step each; returns the oracle's prices. */
  function feed(oracle: Record<string, unknown>, path: number[], price = path[0]!): number[] {
    const input = handExperiment({
      assets: [{ symbol: 'BTC', price, depthUsd: 1e12, impactCoefficient: 0.1 }],
      traders: [{ id: 't', marginMode: 'isolated', positions: [{ asset: 'BTC', side: 'long' }], collateralUsd: 1000, leverage: 1 }],
    });
    Object.assign(input.scenario.oracles[0]!, oracle);
    input.steps = path.length;
    const exp = parseExperiment(input, 'oracle');
    const w = worldFor(exp, buildGraph(exp), 0);
    return path.map((p, s) => {
      w.step = s;
      w.market[0] = p;
      w.fundamental[0] = p;
      updateOracles(w);
      return w.oraclePrice[0]!;
    });
  }

  it('A TWAP averages the last n readings, the steps before the start reading the initial price', () => {
    // n = 3 over 100, 103, 106, 109: step 0 (100+100+100)/3 = 100; step 1 (100+100+103)/3 = 101;
    // step 2 (100+103+106)/3 = 103; step 3 (103+106+109)/3 = 106.
    expect(feed({ twapSteps: 3 }, [100, 103, 106, 109])).toEqual([100, 101, 103, 106].map((x) => expect.closeTo(x, 12)));
  });
  it('A lagged TWAP averages the n readings ending lag steps ago', () => {
    // lag 1, n = 2 over 100, 104, 108, 112: step 2 reads (104+100)/2 = 102, step 3 (108+104)/2 = 106.
    expect(feed({ twapSteps: 2, lagSteps: 1 }, [100, 104, 108, 112])).toEqual([100, 100, 102, 106].map((x) => expect.closeTo(x, 12)));
  });
  it('A push feed publishes on a 1% move or when its 5-step heartbeat is due', () => {
    // Last published 100: 100.5 and 100.8 are under 1%; 101.2 is 1.2% → published at step 3; then
    // nothing moves 1% from 101.2 until the heartbeat at step 3 + 5 = 8 publishes 101.6.
    const path = [100, 100.5, 100.8, 101.2, 101.3, 101.4, 101.5, 101.55, 101.6];
    expect(feed({ deviationThreshold: 0.01, heartbeatSteps: 5 }, path)).toEqual([100, 100, 100, 101.2, 101.2, 101.2, 101.2, 101.2, 101.6]);
  });
  it('A floored feed holds its floor while the market trades lower (the LUNA feed at $0.107)', () => {
    expect(feed({ floorUsd: 0.107 }, [1, 0.5, 0.1, 0.01])).toEqual([1, 0.5, 0.107, 0.107]);
  });
  it('A frozen feed keeps its last price from the freeze step on', () => {
    expect(feed({ freezeAtStep: 2 }, [100, 90, 80, 70])).toEqual([100, 90, 90, 90]);
  });
  it('A floored feed resumed at a step reports its source again from that step (Venus restoring its feeds, May 2022)', () => {
    // Floor 0.107 until step 3: 1, 0.5, max(0.1, 0.107), then the market's 0.01 and 0.012.
    expect(feed({ floorUsd: 0.107, resumeAtStep: 3 }, [1, 0.5, 0.1, 0.01, 0.012])).toEqual([1, 0.5, 0.107, 0.01, 0.012]);
  });
  it('A frozen push feed resumed at a step publishes there at once, even under its deviation threshold', () => {
    // Frozen at 90 from step 2; resumed at step 4 it publishes 89.5 (a 0.6% move, under the 1%
    // threshold, and no heartbeat); step 5's 89.2 is 0.3% from 89.5: not published.
    expect(feed({ freezeAtStep: 2, resumeAtStep: 4, deviationThreshold: 0.01 }, [100, 90, 80, 70, 89.5, 89.2])).toEqual([100, 90, 90, 90, 89.5, 89.5]);
  });
});

describe("an account's exchange, role and wallet come from its cohort (World.cohortExchange …, walletOf)", () => {
  it('the flagship: 1,500 isolated traders × 3 accounts share a wallet each, the cross cohorts have one account per wallet, makers and liquidators none', () => {
    const raw = JSON.parse(readFileSync(new URL('../experiments/cross-margin-flaw.json', import.meta.url), 'utf8'));
    delete raw.sweep;
    const exp = parseExperiment(raw, 'flagship');
    const w = worldFor(exp, buildGraph(exp), 0);
    // Cohorts in file order: isolated-longs (1,500 traders, 3 markets: accounts 0 … 4,499), cross-longs
    // (4,500 … 5,999), shorts (6,000 … 6,999), pairs (7,000 … 7,999), then 4 makers, 3 liquidators and
    // the backstop vault (cohort code nCohorts + 0 = 6). Wallets in the same order: 1,500 + 1,500 +
    // 1,000 + 1,000 = 5,000, the ledger holders after the accounts.
    expect(w.nAccounts).toBe(8_008);
    expect(w.accountCohort[8_007]).toBe(6);
    expect(w.fundHolderStart - w.walletHolderStart).toBe(5_000);
    const h = w.walletHolderStart;
    const expected = (a: number): number =>
      a < 4_500 ? h + Math.floor(a / 3) : a < 8_000 ? h + 1_500 + (a - 4_500) : -1;
    for (let a = 0; a < w.nAccounts; a++) expect(walletOf(w, a), `account ${a}`).toBe(expected(a));
    expect([walletOf(w, 2), walletOf(w, 3), walletOf(w, 4_499), walletOf(w, 4_500)]).toEqual([h, h + 1, h + 1_499, h + 1_500]);
    const role = (a: number) => roleOf(w, a);
    expect([role(0), role(7_999), role(8_000), role(8_003), role(8_004), role(8_006), role(8_007)]).toEqual([
      Role.directional, Role.directional, Role.marketMaker, Role.marketMaker, Role.liquidator, Role.liquidator, Role.vault,
    ]);
    for (let a = 0; a < w.nAccounts; a++) expect(exchangeOf(w, a)).toBe(0);
  });

  it('exactly() returns the array itself when it holds n entries, else a copy of the first n', () => {
    const a = Float64Array.of(1, 2, 3);
    expect(exactly(a, 3)).toBe(a);
    const b = exactly(a, 2);
    expect(b).not.toBe(a);
    expect(Array.from(b)).toEqual([1, 2]);
    b[0] = 9; // a copy: the original is untouched
    expect(a[0]).toBe(1);
  });

  it('draftCapacity counts the flagship\'s accounts, position slots and wallets before drafting them', () => {
    const raw = JSON.parse(readFileSync(new URL('../experiments/cross-margin-flaw.json', import.meta.url), 'utf8'));
    delete raw.sweep;
    const exp = parseExperiment(raw, 'flagship');
    const graph = buildGraph(exp);
    const w = worldFor(exp, graph, 0);
    // Accounts: isolated-longs 1,500 traders × 3 positions, one account each = 4,500; cross-longs
    // 1,500, shorts 1,000, pairs 1,000 (cross: one account a trader); 4 makers, 3 liquidators, 1
    // vault → 8,008. Slots: 1,500 × 3 + 1,500 × 3 + 1,000 × 3 + 1,000 × 2 = 14,000 directional; the
    // makers, liquidators and the vault hold a slot in each of perp-dex's 3 markets: (4 + 3 + 1) × 3
    // = 24 → 14,024. Wallets: one a directional trader, 1,500 + 1,500 + 1,000 + 1,000 = 5,000.
    expect(draftCapacity(exp.scenario, graph, w.marketExchange)).toEqual({ accounts: 8_008, slots: 14_024, wallets: 5_000 });
    expect([w.nAccounts, w.nPositions, w.fundHolderStart - w.walletHolderStart]).toEqual([8_008, 14_024, 5_000]);
  });

  it('draftCapacity equals what the builder drafts, on random worlds (so exactly() hands the drafts\' columns over uncopied)', () => {
    fc.assert(
      fc.property(caseArb, ({ experiment, replicate }) => {
        const exp = parseExperiment(experiment, 'random world');
        const graph = buildGraph(exp);
        const w = worldFor(exp, graph, replicate);
        expect(draftCapacity(exp.scenario, graph, w.marketExchange)).toEqual({
          accounts: w.nAccounts,
          slots: w.nPositions,
          wallets: w.fundHolderStart - w.walletHolderStart,
        });
      }),
      { seed: 14, numRuns: 60 },
    );
  });

  it('random worlds of 1–2 exchanges: every position is in a market of its account\'s exchange', () => {
    let onSecond = 0;
    fc.assert(
      fc.property(caseArb, ({ experiment, replicate }) => {
        const exp = parseExperiment(experiment, 'random world');
        const w = worldFor(exp, buildGraph(exp), replicate);
        for (let a = 0; a < w.nAccounts; a++) {
          const x = exchangeOf(w, a);
          if (x === 1) onSecond++;
          for (let p = w.posStart[a]!; p < w.posStart[a + 1]!; p++) expect(w.marketExchange[w.posMarket[p]!], `account ${a}`).toBe(x);
        }
      }),
      { seed: 6, numRuns: 40 },
    );
    // Not vacuous: accounts of the second exchange were seen.
    expect(onSecond).toBeGreaterThan(0);
  });
});
