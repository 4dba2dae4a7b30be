// The book: the capital-limited accounts that take the other side of trades sold into a market.
// Market makers take voluntary flow; liquidators take liquidation flow (market makers do when an
// exchange has no liquidators). Each takes a share in proportion to its capacity, and the whole
// trade walks the asset's shared impact curve once.
import { Status, type World } from '../model/world.ts';
import { applyFill, markAccount, markPrice, positionIn } from './accounts.ts';
import { quantityWithinLimit, tradeIntoMarket } from './market.ts';
import { EventKindCode } from './record.ts';

/** Which accounts take the flow. */
export const BookSide = { makers: 0, liquidators: 1 } as const;

// The side's accounts of exchange x are accounts[starts[x]] … accounts[starts[x + 1] − 1] of the CSR
// pair below (two lookups rather than one function returning a tuple: the tuple was an allocation
// per trade wherever V8 did not inline it).
function takesFromLiquidators(w: World, x: number, side: number): boolean {
  return side === BookSide.liquidators && w.exchangeHasLiquidators[x] === 1;
}
function counterpartyAccounts(w: World, x: number, side: number): Int32Array {
  return takesFromLiquidators(w, x, side) ? w.liquidatorAccounts : w.makerAccounts;
}
function counterpartyStarts(w: World, x: number, side: number): Int32Array {
  return takesFromLiquidators(w, x, side) ? w.liquidatorStart : w.makerStart;
}

/**
 * Units of market m the counterparty account c can take when its position changes by a trade in
 * direction `sign` (+1 it buys): what it can reduce, plus what it can add while its
 * notional / equity stays ≤ its max leverage.
 */
function counterpartyCapacity(w: World, c: number, m: number, sign: number): number {
  if (w.accountStatus[c] !== Status.active) return 0;
  const p = positionIn(w, c, m);
  if (p < 0) return 0;
  const equity = markAccount(w, c);
  const q = w.posQty[p]!;
  const reducible = q * sign < 0 ? Math.abs(q) : 0;
  const headroomUsd = Math.max(0, w.accountMaxLeverage[c]! * equity - w.accountNotional[c]!);
  return reducible + headroomUsd / markPrice(w, m);
}

/**
 * Capacity (units) of the book of exchange x, side `side`, to take a trade in market m where the
 * trader's position changes by a quantity of sign `traderSign`. Fills scratch.capacity per
 * counterparty for fillAgainstBook, by its place in the side's list (accounts[i] → capacity[i]). `trader` is the account trading (excluded from the book).
 */
export function bookCapacity(w: World, x: number, m: number, traderSign: number, side: number, trader: number): number {
  const accounts = counterpartyAccounts(w, x, side);
  const starts = counterpartyStarts(w, x, side);
  const end = starts[x + 1]!;
  let total = 0;
  for (let i = starts[x]!; i < end; i++) {
    const c = accounts[i]!;
    // A book account that is itself being liquidated cannot take its own flow.
    const cap = c === trader ? 0 : counterpartyCapacity(w, c, m, -traderSign);
    w.scratch.capacity[i] = cap;
    total += cap;
  }
  return total;
}

/**
 * Trades `dq` units (positive = the trader buys) of position p against the book, which must have
 * been sized by bookCapacity() just before with the same arguments (|dq| ≤ capacity). The trade
 * walks the asset's impact curve; every counterparty fills at the same average price, in
 * proportion to its capacity. Returns the fill price in USD.
 */
export function fillAgainstBook(w: World, p: number, dq: number, side: number, capacity: number): number {
  const m = w.posMarket[p]!;
  const x = w.marketExchange[m]!;
  const price = tradeIntoMarket(w, w.marketAsset[m]!, -dq);
  w.marksStale = true;
  const accounts = counterpartyAccounts(w, x, side);
  const starts = counterpartyStarts(w, x, side);
  const start = starts[x]!;
  const end = starts[x + 1]!;
  let remaining = -dq;
  let last = -1;
  for (let i = start; i < end; i++) if (w.scratch.capacity[i]! > 0) last = i;
  for (let i = start; i <= last; i++) {
    const c = accounts[i]!;
    const cap = w.scratch.capacity[i]!;
    if (cap <= 0) continue;
    // The last counterparty takes the remainder, so the quantities sum exactly to dq.
    const share = i === last ? remaining : (-dq * cap) / capacity;
    remaining -= share;
    applyFill(w, positionIn(w, c, m), share, price);
  }
  applyFill(w, p, dq, price);
  return price;
}

/**
 * Trades up to `want` units (positive = buy) of position p into the book of its exchange, limited
 * by the book's capacity and by a price band (`bandFraction` of the mark; default the exchange's),
 * records an event of `kind` and returns the quantity filled (0 if the book had no capacity).
 * Liquidation fills also become the latest fire sale on their asset.
 */
export function tradeIntoBook(w: World, p: number, want: number, side: number, kind: number, cause: number, bandFraction = -1): number {
  if (want === 0) return 0;
  const a = w.posAccount[p]!;
  const m = w.posMarket[p]!;
  const x = w.marketExchange[m]!;
  const capacity = bookCapacity(w, x, m, Math.sign(want), side, a);
  // Price protection: the order walks the book only while the marginal price stays within the
  // exchange's band around the mark (or the caller's, e.g. dYdX's fillable price); what is left
  // waits for the next round or step.
  const asset = w.marketAsset[m]!;
  const band = bandFraction >= 0 ? bandFraction : w.priceBandFraction[x]!;
  const mark = markPrice(w, m);
  const sells = want < 0;
  const withinBand = quantityWithinLimit(w, asset, sells ? 1 : -1, sells ? mark * (1 - band) : mark * (1 + band));
  const fillable = Math.min(capacity, withinBand);
  const dq = Math.abs(want) <= fillable ? want : Math.sign(want) * fillable;
  if (dq === 0) return 0;
  const price = fillAgainstBook(w, p, dq, side, capacity);
  const id = w.events.push(w.step, w.round, kind, x, a, asset, dq, price, Math.abs(dq) * price, cause);
  if (kind === EventKindCode.liquidation) w.assetLiquidationEvent[asset] = id;
  return dq;
}
