// Non-cash collateral in perp accounts (collateral weights) and venue-local marks: a collateral
// asset's fall and a position's loss hit the same account; selling the collateral on the venue's own
// thin book marks every other account's collateral down with it (the USDe pattern, October 2025).
import { describe, expect, it } from 'vitest';
import { parseExperiment } from '../src/experiment/load.ts';
import type { ExperimentInput } from '../src/experiment/schema.ts';
import { buildGraph } from '../src/graph/build.ts';
import { runWorld, worldFor } from '../src/engine/simulate.ts';
import { markToMarket } from '../src/engine/phases/markToMarket.ts';
import { checkInvariants } from '../src/engine/invariants.ts';
import { accountValueUsd } from '../src/engine/accounts.ts';
import { accountLossesUsd, cohortTable } from '../src/engine/fairness.ts';
import { EventKindCode } from '../src/engine/record.ts';
import type { World } from '../src/model/world.ts';
import { minimalExperiment } from './fixtures/minimalExperiment.ts';
import { uncorrelatedRegimes } from './fixtures/regimes.ts';

/**
 * Two BTC longs at 5×, 10,000 USD of collateral each, half of it in USDe, which the exchange counts at
 * 0.9 and marks from its own USDe book (1M USD deep, linear impact 1, no permanent share); no vol.
 */
function usdeExperiment(oracle: 'usde-venue' | 'usde-index', shock: number): ExperimentInput {
  const e = minimalExperiment();
  const s = e.scenario;
  e.steps = 8;
  s.assets = s.assets.map((a) => ({ ...a, volatilityAnnual: 0 }));
  s.assets.push({
    symbol: 'USDe',
    initialPrice: 1,
    volatilityAnnual: 0,
    market: { depthUsd: 1_000_000_000, impact: 'linear', impactCoefficient: 0.01, resilienceHalfLifeSeconds: 600, permanentShare: 0 },
  });
  s.regimes = uncorrelatedRegimes(3);
  s.shocks = [{ id: 'crash', asset: 'BTC', totalReturn: shock, startStep: 2, overSteps: 1 }];
  s.oracles.push(
    { id: 'usde-index', asset: 'USDe' },
    { id: 'usde-venue', asset: 'USDe', source: 'venue', venueMarket: { depthUsd: 1_000_000, impact: 'linear', impactCoefficient: 1, resilienceHalfLifeSeconds: 600 } },
  );
  s.exchanges[0]!.collateralAssets = [{ asset: 'USDe', oracle, weight: 0.9 }];
  const degens = s.traders[0]! as Extract<ExperimentInput['scenario']['traders'][number], { kind: 'directional' }>;
  Object.assign(degens, {
    count: 2,
    positions: [{ asset: 'BTC', side: 'long' }],
    leverage: { kind: 'fixed', value: 5 },
    collateralUsd: { kind: 'fixed', value: 10_000 },
    walletUsd: { kind: 'fixed', value: 0 },
    marginCall: { topUpProbability: 0, deleverageProbability: 0 },
    collateralMix: [{ asset: 'USDe', share: 0.5 }],
  });
  return e;
}

/** The USDe (asset 2) sales of a run, in event order. */
function usdeSales(w: World): { row: number; account: number; price: number; amount: number; step: number }[] {
  const sales = [];
  for (let i = 0; i < w.events.length; i++) {
    if (w.events.kind[i] === EventKindCode.unwind && w.events.asset[i] === 2) {
      sales.push({ row: i, account: w.events.account[i]!, price: w.events.price[i]!, amount: w.events.amountUsd[i]!, step: w.events.step[i]! });
    }
  }
  return sales;
}

/** The event a row's chain of causes starts from (its cause's cause …, until an event with none). */
function rootCause(w: World, row: number): number {
  let i = row;
  while (w.events.cause[i]! >= 0) i = w.events.cause[i]!;
  return i;
}

function build(input: ExperimentInput): World {
  const exp = parseExperiment(input, 'collateral');
  return worldFor(exp, buildGraph(exp), 0);
}

describe('non-cash collateral in perp accounts', () => {
  it('counts at oracle price × weight: 5,000 cash + 5,000 USDe × 0.9 = 9,500 of equity at step 0', () => {
    const w = build(usdeExperiment('usde-venue', -0.1));
    markToMarket(w);
    expect(w.accountEquity[0]).toBeCloseTo(9_500, 9);
    expect(w.accountEquity[1]).toBeCloseTo(9_500, 9);
    // 5× on 10,000 of collateral is 50,000 of BTC: initial requirement 2% = 1,000 ≤ 9,500, uncapped.
    expect(w.accountNotional[0]).toBeCloseTo(50_000, 6);
    // The 10,000 USD each put in is what the loss split measures against.
    expect(w.accountContributedUsd[0]).toBeCloseTo(10_000, 9);
  });

  it('what an account holds counts the collateral unweighted: no loss, in loss_gini or cohorts.arrow, before any price moves', () => {
    const w = build(usdeExperiment('usde-venue', -0.1));
    markToMarket(w);
    // 5,000 cash + 5,000 USDe at $1: 10,000 held, where the margin counts 9,500 (the weight is a lending rule).
    expect(accountValueUsd(w, 0)).toBeCloseTo(10_000, 9);
    expect(w.accountEquity[0]).toBeCloseTo(9_500, 9);
    // Until session 29 each degen showed a 500 loss here (contributed 10,000 − equity 9,500).
    expect([...accountLossesUsd(w).subarray(0, 2)]).toEqual([0, 0]);
    const t = cohortTable(w);
    const degens = [...t.cohort].indexOf(0);
    expect(t.accounts[degens]).toBe(2);
    expect(t.contributedUsd[degens]).toBeCloseTo(20_000, 9);
    expect(t.valueUsd[degens]).toBeCloseTo(20_000, 9);
  });

  it('a liquidated account sells its USDe on the venue book first, which marks the other account down', () => {
    // BTC −20%: each long loses 10,000 → equity 9,500 − 10,000 < 0 → liquidated. The first sells its
    // 5,000 USDe on the 1M book: x = 5,000 / 1M = 0.005, average factor 1 − 0.005/2 = 0.9975 →
    // 4,987.50 USD; the book now quotes 1 − 0.005 = 0.995, and the second account's USDe with it.
    const w = build(usdeExperiment('usde-venue', -0.2));
    runWorld(w, true);
    const sales = usdeSales(w);
    expect(sales.length).toBe(2);
    expect(sales[0]!.step).toBe(2);
    expect(sales[0]!.price).toBeCloseTo(0.9975, 12);
    expect(sales[0]!.amount).toBeCloseTo(4_987.5, 9);
    // The second sale starts where the first left the book: x from 0.005 to 0.010, average 0.9925.
    expect(sales[1]!.price).toBeCloseTo(0.9925, 12);
    // Each sale's cause chain reaches the BTC shock; the second one's immediate cause is the BTC
    // shock or the first sale (the latest event on a price the account is marked with).
    const shocks = [...Array(w.events.length).keys()].filter((i) => w.events.kind[i] === EventKindCode.shock);
    expect(shocks).toHaveLength(1);
    for (const sale of sales) expect(rootCause(w, sale.row)).toBe(shocks[0]);
    expect([shocks[0], sales[0]!.row]).toContain(w.events.cause[sales[1]!.row]);
    checkInvariants(w);
  });

  it('with an index oracle, the same sales barely move the mark: the venue book is what spreads the loss', () => {
    const venue = build(usdeExperiment('usde-venue', -0.2));
    const index = build(usdeExperiment('usde-index', -0.2));
    runWorld(venue, true);
    runWorld(index, true);
    // Index: USDe sold into the 1B-deep broad market: 5,000 / 1B × 0.01 → a price within 1e-7 of 1.
    // The same two accounts sell their 5,000 USDe each there too, so the index's mark is read after
    // the same sales.
    const indexSales = usdeSales(index);
    expect(indexSales.map((x) => x.account)).toEqual(usdeSales(venue).map((x) => x.account));
    for (const sale of indexSales) {
      expect(sale.price).toBeLessThan(1);
      expect(sale.price).toBeGreaterThan(1 - 1e-7);
      expect(sale.amount).toBeCloseTo(5_000 * sale.price, 6);
    }
    expect(index.oraclePrice[2]).toBeGreaterThan(1 - 1e-6);
    expect(venue.oraclePrice[3]).toBeLessThan(0.9951);
  });
});
