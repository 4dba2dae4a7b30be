// The book: the capital-limited accounts that take the other side of trades sold into a market.
// Market makers take voluntary flow; liquidators take liquidation flow first and the market makers
// what the liquidators cannot (all of it when an exchange has no liquidators). Each takes a share in
// proportion to its capacity, and the whole trade walks the asset's shared impact curve once.
import type { World } from '../model/world.ts';
import { applyFill, FILL_ORDER, FILL_PRICE, FILL_QTY, markPrice, positionIn, takesFlow } from './accounts.ts';
import { MARKET, MARKET_LIMIT, MARKET_PRICE, MARKET_SOLD, MARKET_WITHIN, quantityWithinLimitAt, tradeIntoMarketAt } from './market.ts';
import { EVENT_AMOUNTS, EVENT_PRICE, EVENT_QUANTITY, EVENT_USD, EventKindCode } from './record.ts';
import { noteMarketTrade } from './causes.ts';

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
 * The order tradeIntoBook places, set by the caller just before the call: ORDER[ORDER_WANT] units
 * (positive = buy) within ORDER[ORDER_BAND] (a fraction of the mark; −1 for the exchange's band); it
 * leaves the units filled in ORDER[ORDER_FILLED]. ORDER_CAPACITY and ORDER_PRICE carry the book's
 * capacity and the fill price between the calls below. Typed-array slots rather than arguments and
 * return values: a double passed to or returned by a call V8 does not inline is a fresh heap number,
 * and these calls, nested in the liquidation and margin-call phases, are past its inlining budget.
 */
export const ORDER = new Float64Array(5);
export const ORDER_WANT = 0;
export const ORDER_BAND = 1;
export const ORDER_FILLED = 2;
const ORDER_CAPACITY = 3;
const ORDER_PRICE = 4;

/**
 * Stores in scratch.capacity[i] the units of market m the counterparty account c can take when its
 * position changes by a trade in direction `sign` (+1 it buys): what it can reduce, plus what it can
 * add while its notional / equity stays ≤ its max leverage. None at all below maintenance (takesFlow: the
 * venue has cancelled its orders). Until session 28 its whole position counted as capacity to reduce,
 * whatever its equity (design decision 53).
 */
function storeCounterpartyCapacity(w: World, i: number, c: number, m: number, sign: number): void {
  w.scratch.capacity[i] = 0;
  const p = positionIn(w, c, m);
  if (p < 0 || !takesFlow(w, c)) return; // takesFlow: active, at or above maintenance
  const equity = w.accountEquity[c]!;
  const q = w.posQty[p]!;
  const reducible = q * sign < 0 ? Math.abs(q) : 0;
  const headroomUsd = Math.max(0, w.cohortMaxLeverage[w.accountCohort[c]!]! * equity - w.accountNotional[c]!);
  w.scratch.capacity[i] = reducible + headroomUsd / markPrice(w, m);
}

/**
 * Capacity (units) of the book of exchange x, side `side`, to take a trade in market m where the
 * trader's position changes by a quantity of sign `traderSign`, into ORDER[ORDER_CAPACITY]. Fills
 * scratch.capacity per counterparty for fillAgainstBook, by its place in the side's list
 * (accounts[i] → capacity[i]). `trader` is the account trading (excluded from the book).
 */
function bookCapacity(w: World, x: number, m: number, traderSign: number, side: number, trader: number): void {
  const accounts = counterpartyAccounts(w, x, side);
  const starts = counterpartyStarts(w, x, side);
  const end = starts[x + 1]!;
  let total = 0;
  for (let i = starts[x]!; i < end; i++) {
    const c = accounts[i]!;
    // A book account that is itself being liquidated cannot take its own flow.
    if (c === trader) w.scratch.capacity[i] = 0;
    else storeCounterpartyCapacity(w, i, c, m, -traderSign);
    total += w.scratch.capacity[i]!;
  }
  ORDER[ORDER_CAPACITY] = total;
}

/**
 * Trades `dq` = ORDER[ORDER_FILLED] units (positive = the trader buys) of position p against the
 * book, which must have been sized by bookCapacity() just before with the same arguments
 * (|dq| ≤ capacity). The trade walks the asset's impact curve; every counterparty fills at the same
 * average price, in proportion to its capacity. Leaves the fill price (USD) in ORDER[ORDER_PRICE].
 */
function fillAgainstBook(w: World, p: number, side: number): void {
  const dq = ORDER[ORDER_FILLED]!;
  const capacity = ORDER[ORDER_CAPACITY]!;
  const m = w.posMarket[p]!;
  const x = w.marketExchange[m]!;
  MARKET[MARKET_SOLD] = -dq;
  tradeIntoMarketAt(w, w.marketAsset[m]!);
  const price = MARKET[MARKET_PRICE]!;
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
    FILL_ORDER[FILL_QTY] = share;
    FILL_ORDER[FILL_PRICE] = price;
    applyFill(w, positionIn(w, c, m));
  }
  FILL_ORDER[FILL_QTY] = dq;
  FILL_ORDER[FILL_PRICE] = price;
  applyFill(w, p);
  ORDER[ORDER_PRICE] = price;
}

/**
 * Trades up to ORDER[ORDER_WANT] units (positive = buy) of position p into the book of its exchange,
 * limited by the book's capacity and by a price band (ORDER[ORDER_BAND] of the mark; −1 for the
 * exchange's), records an event of `kind` and leaves the quantity filled in ORDER[ORDER_FILLED] (0 if
 * the book had no capacity). Liquidation fills also become the latest fire sale on their asset.
 */
export function tradeIntoBook(w: World, p: number, side: number, kind: number, cause: number): void {
  const want = ORDER[ORDER_WANT]!;
  const bandFraction = ORDER[ORDER_BAND]!;
  ORDER[ORDER_FILLED] = 0;
  if (want === 0) return;
  const a = w.posAccount[p]!;
  const m = w.posMarket[p]!;
  const x = w.marketExchange[m]!;
  bookCapacity(w, x, m, Math.sign(want), side, a);
  const capacity = ORDER[ORDER_CAPACITY]!;
  // Price protection: the order walks the book only while the marginal price stays within the
  // exchange's band around the mark (or the caller's, e.g. dYdX's fillable price); what is left
  // waits for the next round or step.
  const asset = w.marketAsset[m]!;
  const band = bandFraction >= 0 ? bandFraction : w.priceBandFraction[x]!;
  const mark = markPrice(w, m);
  const sells = want < 0;
  MARKET[MARKET_LIMIT] = sells ? mark * (1 - band) : mark * (1 + band);
  quantityWithinLimitAt(w, asset, sells ? 1 : -1);
  const fillable = Math.min(capacity, MARKET[MARKET_WITHIN]!);
  const dq = Math.abs(want) <= fillable ? want : Math.sign(want) * fillable;
  if (dq === 0) return;
  ORDER[ORDER_FILLED] = dq;
  fillAgainstBook(w, p, side);
  const price = ORDER[ORDER_PRICE]!;
  EVENT_AMOUNTS[EVENT_QUANTITY] = dq;
  EVENT_AMOUNTS[EVENT_PRICE] = price;
  EVENT_AMOUNTS[EVENT_USD] = Math.abs(dq) * price;
  const id = w.events.pushAmounts(w.step, w.round, kind, x, a, asset, cause);
  if (kind === EventKindCode.liquidation) noteMarketTrade(w, asset, id, -dq);
}

/**
 * A liquidation order, set in ORDER as for tradeIntoBook: the liquidators take what they can and
 * the market makers the rest, within the same price band (a second event: the book walks on from
 * where the first fill left the price). A venue's liquidation is an order into its public book —
 * Hyperliquid's first step is market orders to the book, before its liquidator vault (DOMAIN.md,
 * venue rules; Hyperliquid docs, trading/liquidations); dYdX v4's x/clob matches the liquidation
 * orders it generates against resting orders — so the liquidators here are the book's first takers,
 * not its only ones. ORDER[ORDER_FILLED] is the total filled, exactly ORDER_WANT when both
 * together filled it.
 *
 * Until session 20 liquidation flow went to the liquidators alone: once the crash had used up their
 * capital (or liquidated them) an under-water account waited, its loss growing, while the makers
 * still had room (design decision 40).
 */
export function tradeLiquidationIntoBook(w: World, p: number, cause: number): void {
  const want = ORDER[ORDER_WANT]!;
  const band = ORDER[ORDER_BAND]!;
  tradeIntoBook(w, p, BookSide.liquidators, EventKindCode.liquidation, cause);
  const first = ORDER[ORDER_FILLED]!;
  if (first === want || w.exchangeHasLiquidators[w.marketExchange[w.posMarket[p]!]!] !== 1) return;
  const rest = want - first;
  ORDER[ORDER_WANT] = rest;
  ORDER[ORDER_BAND] = band;
  tradeIntoBook(w, p, BookSide.makers, EventKindCode.liquidation, cause);
  const second = ORDER[ORDER_FILLED]!;
  ORDER[ORDER_FILLED] = second === rest ? want : first + second;
}
