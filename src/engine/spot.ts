// Spot trades of an asset "where an oracle prices it": the venue's own book for a venue oracle,
// the asset's shared market otherwise. One place for what lending liquidations, deleveraging
// borrowers, manipulators and perp accounts' non-cash collateral all do: walk that impact curve,
// move the units to the outside market and the cash back, and remember the trade as the latest
// cause of that price.
import { OracleSource, type World } from '../model/world.ts';
import { quoteFill, tradeIntoMarket } from './market.ts';
import { quoteVenue, tradeOnVenue, venuePrice } from './venueMarket.ts';
import { noteMarketTrade, noteVenueTrade } from './causes.ts';

/** True when oracle o reads a venue book of its own. */
export function onVenue(w: World, o: number): boolean {
  return w.oracleSource[o] === OracleSource.venue;
}

/** Price now where oracle o's asset trades (its venue book, or the shared market), USD. */
export function tradePrice(w: World, o: number): number {
  return onVenue(w, o) ? venuePrice(w, o) : w.market[w.oracleAsset[o]!]!;
}

/** Average fill price (USD) of selling `soldQty` units (negative = buying) where oracle o prices the asset. */
export function quoteWhereOraclePrices(w: World, o: number, soldQty: number): number {
  return onVenue(w, o) ? quoteVenue(w, o, soldQty) : quoteFill(w, w.oracleAsset[o]!, soldQty);
}

/** Trades `soldQty` units (negative = buys) where oracle o prices the asset; returns the average fill price. */
export function tradeWhereOraclePrices(w: World, o: number, soldQty: number): number {
  const price = onVenue(w, o) ? tradeOnVenue(w, o, soldQty) : tradeIntoMarket(w, w.oracleAsset[o]!, soldQty);
  // Marks read these prices: what was marked before this trade is stale now.
  w.marksStale = true;
  return price;
}

/**
 * Sells `qty` units held by unit-ledger holder `from` where oracle o prices the asset, for USD paid
 * by the outside market to ledger holder `to`. Returns the proceeds.
 */
export function sellUnits(w: World, o: number, from: number, to: number, qty: number): number {
  const proceeds = qty * tradeWhereOraclePrices(w, o, qty);
  w.units.transfer(from, w.lending.externalUnitHolder[w.oracleAsset[o]!]!, qty);
  w.ledger.transfer(w.lending.externalCashHolder, to, proceeds);
  return proceeds;
}

/**
 * Records `event`, a trade of `soldQty` units (negative: bought), as the latest trade where oracle o
 * prices its asset (the cause of what that price does next, in the direction it moved it).
 */
export function noteTrade(w: World, o: number, event: number, soldQty: number): void {
  if (onVenue(w, o)) noteVenueTrade(w, o, event, soldQty);
  else noteMarketTrade(w, w.oracleAsset[o]!, event, soldQty);
}
