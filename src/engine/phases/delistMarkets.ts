// Stage 3c: delistings with settlement by decision (scenario.exchanges[].markets[].delisting). At its
// step a delisted market closes every open position at the settlement price the venue decided (by
// default its mark): the pattern of JELLY on Hyperliquid, 26 March 2025 (DOMAIN.md, "What happened"),
// whose validators delisted the market and settled every position at $0.0095 while the market traded
// near four times that. Every position closes against the exchange's settlement pool like any fill, so
// PnL stays zero-sum (the open positions net to zero, so the pool pays out exactly what it held for
// them); an account the settlement leaves with nothing but negative cash goes down the loss waterfall,
// caused by its own settlement. One `delisting` event per market (no account; its amount the positions
// settled, Σ |qty| × price over both sides; cause -1: the venue's decision is a root of attribution.arrow)
// and one `settlement` event per position it closed.
import { Status, type World } from '../../model/world.ts';
import { applyFill, FILL_ORDER, FILL_PRICE, FILL_QTY, hasNothingLeft, markPrice } from '../accounts.ts';
import { EventKindCode } from '../record.ts';
import { settleShortfall } from './settleLosses.ts';

export function delistMarkets(w: World): void {
  for (let k = 0; k < w.delistMarket.length; k++) {
    if (w.delistStep[k] === w.step) delist(w, k);
  }
}

/** Settles delisting k's market: every position closes at the settlement price, then the under-water go down the waterfall. */
function delist(w: World, k: number): void {
  const m = w.delistMarket[k]!;
  const x = w.marketExchange[m]!;
  const asset = w.marketAsset[m]!;
  const decided = w.delistPriceUsd[k]!;
  const price = decided > 0 ? decided : markPrice(w, m);
  let openUsd = 0;
  for (let i = w.marketPosStart[m]!; i < w.marketPosStart[m + 1]!; i++) openUsd += Math.abs(w.posQty[w.marketPositions[i]!]!) * price;
  const root = w.events.push(w.step, w.round, EventKindCode.delisting, x, -1, asset, 0, price, openUsd, -1);
  w.delistEventId[k] = root;
  // Close every position first, so that a shortfall's socialization sees the market settled.
  const underWater: number[] = [];
  const cause: number[] = [];
  for (let i = w.marketPosStart[m]!; i < w.marketPosStart[m + 1]!; i++) {
    const p = w.marketPositions[i]!;
    const q = w.posQty[p]!;
    if (q === 0) continue;
    const a = w.posAccount[p]!;
    FILL_ORDER[FILL_QTY] = -q;
    FILL_ORDER[FILL_PRICE] = price;
    applyFill(w, p);
    const id = w.events.push(w.step, w.round, EventKindCode.settlement, x, a, asset, -q, price, Math.abs(q) * price, root);
    if (w.accountStatus[a] === Status.active && w.ledger.balance[a]! < 0 && hasNothingLeft(w, a)) {
      underWater.push(a);
      cause.push(id);
    }
  }
  w.marksStale = true;
  // marketPositions lists a market's positions in account order, so these are too.
  for (let j = 0; j < underWater.length; j++) settleShortfall(w, underWater[j]!, cause[j]!);
}
