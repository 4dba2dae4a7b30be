// Stage 2, after the impact decay: the arbitrageurs (scenario.arbitrageurs; src/model/arbitrage.ts)
// trade the gap that earlier flow left between an asset's market and its fundamental, before the
// oracles read the market, and those with betweenRounds again before every liquidation round after
// the first (liquidate.ts). Each one, in the order listed:
//   market < fundamental × (1 − entryDiscount): it buys up to the quantity that lifts the marginal
//     price back to that line, as much of it as its cash (and maxBuyUsdPerStep) pays for;
//   market > fundamental × (1 − exitDiscount) and it holds inventory: it sells, down to that line.
// The trades walk the asset's shared impact curve like every other trade (market.ts); cash goes to
// and comes from the outside market's holder in the USD ledger, units from and to its holder in the
// unit ledger, so both ledgers stay balanced. Arbitrage moves are not an origin of losses: the latest
// mover of a price (attribution) stays what it was.
import type { World } from '../../model/world.ts';
import { MARKET, MARKET_LIMIT, MARKET_WITHIN, quantityWithinLimitAt, quoteFill, tradeIntoMarket } from '../market.ts';

/** Bisection steps that find the units a budget buys (the cost is monotone in the units). */
const BUDGET_BISECTIONS = 64;

export function arbitrage(w: World): void {
  const A = w.arbitrage;
  if (A.n === 0) return;
  A.boughtThisStepUsd.fill(0);
  for (let k = 0; k < A.n; k++) trade(w, k);
  noteCash(w);
}

/**
 * Before a liquidation round after the first (liquidate.ts): the arbitrageurs with betweenRounds trade
 * the gap the last round's sales opened, as in the phase; the round then re-reads the oracles and
 * marks every account again, as every round after the first does.
 */
export function arbitrageBetweenRounds(w: World): void {
  const A = w.arbitrage;
  for (let k = 0; k < A.n; k++) if (A.betweenRounds[k] === 1) trade(w, k);
  noteCash(w);
}

/** Arbitrageur k's trade against the market as it is now (the rules above). */
function trade(w: World, k: number): void {
  const A = w.arbitrage;
  const a = A.asset[k]!;
  const f = w.fundamental[a]!;
  const m = w.market[a]!;
  if (m < f * A.entryFactor[k]!) buy(w, k, a, f * A.entryFactor[k]!);
  else if (m > f * A.exitFactor[k]! && w.units.qty[A.unitHolder[k]!]! > 0) sell(w, k, a, f * A.exitFactor[k]!);
}

/** Keeps the lowest share of their starting cash the arbitrageurs have held. */
function noteCash(w: World): void {
  const A = w.arbitrage;
  if (!(A.totalInitialCashUsd > 0)) return;
  let cash = 0;
  for (let k = 0; k < A.n; k++) cash += w.ledger.balance[A.cashHolder[k]!]!;
  const share = cash / A.totalInitialCashUsd;
  if (share < A.minCashShare) A.minCashShare = share;
}

/** Cost (USD) of buying q units of asset a now, without trading. */
function costOf(w: World, a: number, q: number): number {
  return q * quoteFill(w, a, -q);
}

function buy(w: World, k: number, a: number, limit: number): void {
  const A = w.arbitrage;
  const budget = Math.min(w.ledger.balance[A.cashHolder[k]!]!, A.maxBuyUsdPerStep[k]! - A.boughtThisStepUsd[k]!);
  if (!(budget > 0)) return;
  MARKET[MARKET_LIMIT] = limit;
  quantityWithinLimitAt(w, a, -1);
  let q = MARKET[MARKET_WITHIN]!;
  if (!(q > 0)) return;
  if (costOf(w, a, q) > budget) {
    // The most units the budget pays for: cost(lo) ≤ budget < cost(hi) throughout.
    let lo = 0;
    let hi = q;
    for (let i = 0; i < BUDGET_BISECTIONS; i++) {
      const mid = 0.5 * (lo + hi);
      if (costOf(w, a, mid) <= budget) lo = mid;
      else hi = mid;
    }
    q = lo;
    if (!(q > 0)) return;
  }
  // The fill is costOf's quote: never more than the budget.
  const usd = settle(w, k, a, -q);
  A.boughtUsd[k] = A.boughtUsd[k]! + usd;
  A.boughtThisStepUsd[k] = A.boughtThisStepUsd[k]! + usd;
}

function sell(w: World, k: number, a: number, limit: number): void {
  const A = w.arbitrage;
  MARKET[MARKET_LIMIT] = limit;
  quantityWithinLimitAt(w, a, 1);
  const q = Math.min(MARKET[MARKET_WITHIN]!, w.units.qty[A.unitHolder[k]!]!);
  if (!(q > 0)) return;
  A.soldUsd[k] = A.soldUsd[k]! + settle(w, k, a, q);
}

/**
 * Arbitrageur k sells `soldQty` units of asset a (negative: buys) into its shared market: the units
 * go to the outside market's holder and its cash comes back (both ways signed). Returns the USD that
 * changed hands.
 */
function settle(w: World, k: number, a: number, soldQty: number): number {
  const A = w.arbitrage;
  const proceeds = soldQty * tradeIntoMarket(w, a, soldQty);
  w.ledger.transfer(w.lending.externalCashHolder, A.cashHolder[k]!, proceeds);
  w.units.transfer(A.unitHolder[k]!, w.lending.externalUnitHolder[a]!, soldQty);
  return Math.abs(proceeds);
}
