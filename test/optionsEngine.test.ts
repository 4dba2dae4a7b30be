// Options in runs: a 30-day put on BTC sold by option sellers to the market makers, on a
// portfolio-margin venue. Black–Scholes values below are from src/model/options.ts (checked against
// published values in options.test.ts): put, K = 90, T = 43,200 steps × 60 s = 30/365 years, r = 0:
//   S = 100, σ = 0.6 → 2.691568 (delta −0.2424)     S = 84, σ = 0.6 × 1.3 → 11.109259
//   S = 84, σ = 0.6 → 9.434832                        S = 80, σ = 0.6 → 12.135494
import { describe, expect, it } from 'vitest';
import { accountOf, eventsOf, handExperiment, setPrice } from './fixtures/handWorld.ts';
import { checkExperiment, parseExperiment } from '../src/experiment/load.ts';
import { buildGraph } from '../src/graph/build.ts';
import { simulateRun, worldFor } from '../src/engine/simulate.ts';
import { liquidateAccount } from '../src/engine/phases/liquidate.ts';
import { updateOptions } from '../src/engine/optionBook.ts';
import { markToMarket } from '../src/engine/phases/markToMarket.ts';
import { initialMarginUsd, hasPositions } from '../src/engine/accounts.ts';
import { EventKindCode } from '../src/engine/record.ts';
import { checkInvariants } from '../src/engine/invariants.ts';
import { Status, type World } from '../src/model/world.ts';
import { blackScholes } from '../src/model/options.ts';

type Raw = Record<string, any>;
const MOVES = [-0.16, -0.12, -0.08, -0.04, 0, 0.04, 0.08, 0.12, 0.16];

interface OptionBook {
  contracts: number;
  collateralUsd: number;
  expiryStep?: number;
  volShocks?: number[];
  edit?: (raw: Raw) => void;
}

function optionRaw(o: OptionBook): Raw {
  const raw = structuredClone(handExperiment({ traders: [] })) as Raw;
  raw.scenario.assets[0].impliedVol = { calm: 0.6, stress: 1.2, halfLifeSeconds: 3600 };
  const ex = raw.scenario.exchanges[0];
  ex.marginModel = 'portfolio';
  ex.portfolioMargin = { moves: MOVES, volShocks: o.volShocks ?? [-0.3, 0, 0.3] };
  ex.optionSeries = [{ id: 'put-90', asset: 'BTC', oracle: 'BTC-oracle', kind: 'put', strike: 90, expiryStep: o.expiryStep ?? 43_200 }];
  raw.scenario.traders.push({
    id: 'sellers',
    kind: 'optionSeller',
    exchange: 'dex',
    count: 1,
    series: 'put-90',
    contracts: { kind: 'fixed', value: o.contracts },
    collateralUsd: { kind: 'fixed', value: o.collateralUsd },
  });
  o.edit?.(raw);
  return raw;
}

/** The world at step 0, marked (series priced on their grids, accounts marked). */
function optionWorld(o: OptionBook): World {
  const exp = parseExperiment(optionRaw(o), 'options');
  const w = worldFor(exp, buildGraph(exp), 0);
  markToMarket(w);
  return w;
}

const P0 = 2.69156849327452;
const cash = (w: World, a: number) => w.ledger.balance[a]!;
const seller = (w: World) => accountOf(w, 2); // cohorts: makers, liquidators, sellers
const maker = (w: World) => accountOf(w, 0);

describe('option positions', () => {
  it('A seller sells to the makers at the model price: equity starts at its collateral', () => {
    const w = optionWorld({ contracts: 10, collateralUsd: 1000 });
    const s = seller(w);
    expect(w.options.seriesPrice[0]).toBeCloseTo(P0, 10);
    expect(w.options.optQty[w.options.optStart[s]!]).toBe(-10);
    expect(w.options.optQty[w.options.optStart[maker(w)]!]).toBe(10);
    expect(w.accountEquity[s]).toBeCloseTo(1000, 9);
    checkInvariants(w);
  });

  it('Marks the short put at Black–Scholes: at 80, equity = 1,000 − 10 × (12.135494 − 2.691568)', () => {
    const w = optionWorld({ contracts: 10, collateralUsd: 1000 });
    const s = seller(w);
    setPrice(w, 'BTC', 80);
    expect(w.accountEquity[s]).toBeCloseTo(1000 - 10 * (12.135494497799272 - P0), 6);
    expect(w.accountEquity[maker(w)]! - 1e9).toBeCloseTo(10 * (12.135494497799272 - P0), 6);
    checkInvariants(w);
  });
});

describe('options under portfolio margin', () => {
  it('The requirement is the worst loss over moves × volatility shocks: −16% with vol +30%', () => {
    // Short 10: loss at (−16%, +30%) = 10 × (11.109259 − 2.691568) = 84.17691 — larger than at any
    // other point; initial = 1.5 × that. Without volatility shocks: 10 × (9.434832 − 2.691568) = 67.43264.
    const w = optionWorld({ contracts: 10, collateralUsd: 1000 });
    expect(w.accountMaintenance[seller(w)]).toBeCloseTo(10 * (11.109259235870148 - P0), 6);
    expect(initialMarginUsd(w, seller(w))).toBeCloseTo(1.5 * 10 * (11.109259235870148 - P0), 6);
    const flat = optionWorld({ contracts: 10, collateralUsd: 1000, volShocks: [0] });
    expect(flat.accountMaintenance[seller(flat)]).toBeCloseTo(10 * (9.434831890060074 - P0), 6);
  });

  it('A seller sells only what its collateral margins: 100 / (1.5 × 8.417691) = 7.9198 contracts', () => {
    const w = optionWorld({ contracts: 10, collateralUsd: 100 });
    const q = -w.options.optQty[w.options.optStart[seller(w)]!]!;
    expect(q).toBeCloseTo(100 / (1.5 * (11.109259235870148 - P0)), 9);
    expect(initialMarginUsd(w, seller(w))).toBeCloseTo(100, 6);
  });
});

describe('the implied-volatility process and expiry', () => {
  it('Implied volatility moves to the stress level with its half-life: 0.6 → 0.9 in one hour', () => {
    // Per step (60 s, half-life 3,600 s) the gap shrinks by 0.5^(1/60); after 60 steps it has halved.
    const w = optionWorld({ contracts: 10, collateralUsd: 1000 });
    w.regime = 1;
    for (let t = 1; t <= 60; t++) {
      w.step = t;
      updateOptions(w);
    }
    expect(w.options.iv[0]).toBeCloseTo(0.9, 12);
    // The put is repriced at the new volatility (and 60 steps less to expiry).
    const g = { price: 0, delta: 0, gamma: 0, vega: 0, theta: 0 };
    expect(w.options.seriesPrice[0]).toBeCloseTo(blackScholes('put', 100, 90, (43_200 - 60) * 60 / (365 * 86_400), 0.9, 0, g).price, 12);
  });

  it('At expiry the put settles in cash at its intrinsic value: the seller pays 10 × (90 − 80)', () => {
    // A 2-step put: premium p0 = BS(100, 90, 2 minutes, 0.6) ≈ 0; at step 2 with BTC at 80 the seller
    // pays 10 × 10 = 100 and receives its premium: cash = 1,000 + 10 × p0 − 100.
    const w = optionWorld({ contracts: 10, collateralUsd: 1000, expiryStep: 2 });
    const s = seller(w);
    const p0 = w.options.seriesPrice[0]!;
    setPrice(w, 'BTC', 80);
    w.step = 2;
    updateOptions(w);
    expect(cash(w, s)).toBeCloseTo(1000 + 10 * p0 - 100, 9);
    expect(hasPositions(w, s)).toBe(false);
    const expiry = eventsOf(w, EventKindCode.option_expiry);
    expect(expiry.map((e) => [e.account, e.quantity, e.price])).toEqual([
      [maker(w), -10, 10],
      [s, 10, 10],
    ]);
    checkInvariants(w);
  });
});

describe('an option seller that expiry leaves under water', () => {
  it('Goes down the loss waterfall at expiry: bankrupt, its shortfall paid by the fund', () => {
    // As above on 50 of collateral. The seller sells only what its collateral margins: two minutes from
    // expiry the put's worst loss on the grid is at −16% (S = 84), about 90 − 84 = 6 a contract, so
    // q = 50 / (1.5 × 6) = 5.5556 contracts. At step 2 with BTC at 80 it pays q × 10 = 55.556 and is left
    // flat with cash 50 + q × p0 − 55.556 ≈ −5.556. Nobody liquidates an account without positions:
    // before session 27 it stayed active with that cash (and, from the check of booked shortfalls on,
    // the run stopped). Now the expiry sends it down the waterfall: bad debt q × 10 − 50 − q × p0, paid by
    // the $10,000 fund; its cash is 0 and it is bankrupt.
    const w = optionWorld({ contracts: 10, collateralUsd: 50, expiryStep: 2 });
    const s = seller(w);
    const p0 = w.options.seriesPrice[0]!;
    const q = -w.options.optQty[w.options.optStart[s]!]!;
    expect(q).toBeCloseTo(50 / 9, 2);
    const fundBefore = w.ledger.balance[w.fundHolderStart]!;
    setPrice(w, 'BTC', 80);
    w.step = 2;
    updateOptions(w);
    const shortfall = q * 10 - 50 - q * p0;
    expect(shortfall).toBeGreaterThan(5.5);
    expect(hasPositions(w, s)).toBe(false);
    expect(w.accountStatus[s]).toBe(Status.bankrupt);
    expect(cash(w, s)).toBeCloseTo(0, 9);
    expect(eventsOf(w, EventKindCode.bad_debt).map((e) => [e.account, e.amountUsd])).toEqual([[s, expect.closeTo(shortfall, 9)]]);
    expect(fundBefore - w.ledger.balance[w.fundHolderStart]!).toBeCloseTo(shortfall, 9);
    checkInvariants(w);
  });
});

describe('liquidating an option seller', () => {
  it('Closes its options first, at the model price, against the makers', () => {
    // 7.9198 puts on 100 of collateral; at 80 equity = 100 − 7.9198 × (12.135494 − 2.691568) = 25.21
    // is below the grid requirement: the puts are bought back at 12.135494 and nothing is left open.
    const w = optionWorld({ contracts: 10, collateralUsd: 100 });
    const s = seller(w);
    const q = -w.options.optQty[w.options.optStart[s]!]!;
    setPrice(w, 'BTC', 80);
    expect(w.accountEquity[s]! < w.accountMaintenance[s]!).toBe(true);
    expect(liquidateAccount(w, s)).toBe(true);
    const [close] = eventsOf(w, EventKindCode.option_liquidation);
    expect(close!.quantity).toBeCloseTo(q, 12);
    expect(close!.price).toBeCloseTo(12.135494497799272, 9);
    expect(cash(w, s)).toBeCloseTo(100 - q * (12.135494497799272 - P0), 6);
    expect(w.accountStatus[s]).toBe(Status.liquidated);
    expect(w.options.optQty[w.options.optStart[maker(w)]!]).toBe(0);
    checkInvariants(w);
  });
});

describe('an option close when the maker is below maintenance', () => {
  // As above, plus a trader short 10 BTC perps at 100 (isolated, $100 at 10×), so the maker is also long
  // 10 BTC. Cohorts: the short trader, makers, liquidators, sellers.
  const withPerpShort = (makerUsd: number) =>
    optionWorld({
      contracts: 10,
      collateralUsd: 100,
      edit: (raw) => {
        raw.scenario.traders[0].collateralUsd = makerUsd;
        raw.scenario.traders.unshift({
          id: 'short',
          kind: 'directional',
          exchange: 'dex',
          count: 1,
          marginMode: 'isolated',
          positions: [{ asset: 'BTC', side: 'short' }],
          leverage: { kind: 'fixed', value: 10 },
          collateralUsd: { kind: 'fixed', value: 100 },
          walletUsd: { kind: 'fixed', value: 0 },
          marginCall: { topUpProbability: 0, deleverageProbability: 0 },
        });
      },
    });

  it('Takes none of the seller\'s puts: the seller waits, and nothing is counted as a liquidation', () => {
    // At 80 the maker ($100) has lost 10 × 20 = 200 on its perp long and won 7.9198 × (12.135494 −
    // 2.691568) = 74.7943 on its puts: equity 100 − 200 + 74.7943 = −25.2057, under its grid requirement
    // (43.35). A venue has cancelled its orders (design decision 53): the seller (equity 25.2057 under its
    // 90.62) finds nobody to buy its puts back and keeps them. Before session 28 the maker took them
    // whatever its equity. With a $1,000 maker (equity 874.79) the close happens as in the case above.
    const w = withPerpShort(100);
    const [m, s] = [accountOf(w, 1), accountOf(w, 3)];
    const q = w.options.optQty[w.options.optStart[s]!]!;
    expect(q).toBeCloseTo(-100 / (1.5 * 8.417691), 4);
    setPrice(w, 'BTC', 80);
    expect(w.accountEquity[m]).toBeCloseTo(100 - 200 - q * (12.135494497799272 - P0), 6);
    expect(w.accountEquity[m]).toBeCloseTo(-25.2057, 4);
    expect(w.accountEquity[m]! < w.accountMaintenance[m]!).toBe(true);
    expect(w.accountEquity[s]! < w.accountMaintenance[s]!).toBe(true);
    expect(liquidateAccount(w, s)).toBe(false);
    expect(eventsOf(w, EventKindCode.option_liquidation)).toHaveLength(0);
    expect(w.options.optQty[w.options.optStart[s]!]).toBe(q);
    expect(w.accountStatus[s]).toBe(Status.active);
    expect(w.acc.liquidations[0]).toBe(0);
    checkInvariants(w);

    const rich = withPerpShort(1000);
    const [m2, s2] = [accountOf(rich, 1), accountOf(rich, 3)];
    setPrice(rich, 'BTC', 80);
    expect(rich.accountEquity[m2]).toBeCloseTo(874.7943, 4);
    expect(liquidateAccount(rich, s2)).toBe(true);
    expect(eventsOf(rich, EventKindCode.option_liquidation).map((e) => e.quantity)).toEqual([expect.closeTo(-q, 12)]);
    expect(rich.accountStatus[s2]).toBe(Status.liquidated);
    checkInvariants(rich);
  });
});

describe('validation and whole runs', () => {
  it('Rejects options off portfolio margin, underlyings without implied volatility, unknown series', () => {
    const paths = (raw: Raw) => {
      const r = checkExperiment(raw);
      return r.ok ? [] : r.issues.map((i) => i.path);
    };
    expect(paths(optionRaw({ contracts: 1, collateralUsd: 100, edit: (r) => (r.scenario.exchanges[0].marginModel = 'tiered') }))).toEqual([
      'scenario.exchanges.0.optionSeries.0',
    ]);
    expect(paths(optionRaw({ contracts: 1, collateralUsd: 100, edit: (r) => delete r.scenario.assets[0].impliedVol }))).toEqual(['scenario.assets.0.impliedVol']);
    expect(paths(optionRaw({ contracts: 1, collateralUsd: 100, edit: (r) => (r.scenario.traders.at(-1).series = 'call-110') }))).toEqual(['scenario.traders.2.series']);
  });

  it('A crash with the stress regime runs with every invariant checked at every step, and twice the same', () => {
    const raw = optionRaw({
      contracts: 50,
      collateralUsd: 500,
      edit: (r) => {
        r.steps = 120;
        r.scenario.traders.at(-1).count = 20;
        r.scenario.traders.at(-1).contracts = { kind: 'uniform', min: 10, max: 60 };
        r.scenario.shocks = [{ id: 'crash', asset: 'BTC', startStep: 30, overSteps: 10, totalReturn: -0.3 }];
        r.scenario.regimes.switching = { kind: 'scripted', toStressAtStep: 30 };
      },
    });
    const exp = parseExperiment(raw, 'options-run');
    const a = simulateRun(exp, buildGraph(exp), 0, { check: true });
    const b = simulateRun(exp, buildGraph(exp), 0, { check: true });
    expect(a.summary).toEqual(b.summary);
    expect(a.summary.liquidationCount).toBeGreaterThan(0);
    const kinds = new Set(Array.from(a.events.kind.subarray(0, a.events.length)));
    expect(kinds.has(EventKindCode.option_liquidation)).toBe(true);
  });
});
