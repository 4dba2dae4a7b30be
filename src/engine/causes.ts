// What caused an account's trouble: the latest shock or fire sale that moved a price it is marked with
// against it — a perp account's here, a lending borrower's in phases/lending.ts (design decision 45).
// Event ids grow with time, so the largest id is the most recent; the chain of causes makes a cascade
// a tree. The notes below are the one place movers are recorded, by direction; the latest either way
// is the larger of a pair.
import { FundingIndexPrice, OracleSource, type World } from '../model/world.ts';
import { fundingPremium } from './phases/accrueFunding.ts';

/**
 * Event id of the latest event that moved the price oracle o reports in direction `down` (true: down,
 * false: up): a shock or depeg of the fundamental, and — when the oracle reads the market — a trade
 * into it; -1 if none did.
 */
export function priceCauseAgainst(w: World, oracle: number, down: boolean): number {
  const asset = w.oracleAsset[oracle]!;
  const source = w.oracleSource[oracle]!;
  if (source === OracleSource.fundamental) return down ? w.assetShockDown[asset]! : w.assetShockUp[asset]!;
  // A venue market rides on the shared one and on the trades made on the venue itself.
  return source === OracleSource.venue ? venueMove(w, oracle, down) : latestMove(w, asset, down);
}

/** Event id of the latest event that moved the price oracle o reports, either way (priceCauseAgainst's two). */
export function priceCause(w: World, oracle: number): number {
  return Math.max(priceCauseAgainst(w, oracle, true), priceCauseAgainst(w, oracle, false));
}

/** Event id of the latest shock or depeg of asset a's fundamental, either way, or -1. */
export function latestShock(w: World, a: number): number {
  return Math.max(w.assetShockDown[a]!, w.assetShockUp[a]!);
}

/**
 * Event id of the latest event that moved asset a's market price in direction `down` (true: down,
 * false: up) — a shock or depeg of its fundamental, a trade into its market — or -1.
 */
export function latestMove(w: World, a: number, down: boolean): number {
  return down ? Math.max(w.assetShockDown[a]!, w.assetTradeDown[a]!) : Math.max(w.assetShockUp[a]!, w.assetTradeUp[a]!);
}

/** The same for the venue book of oracle o (source venue): its asset's market moves and the trades on the book itself. */
function venueMove(w: World, o: number, down: boolean): number {
  return Math.max(latestMove(w, w.oracleAsset[o]!, down), down ? w.venueTradeDown[o]! : w.venueTradeUp[o]!);
}

/** Event id of the latest trade into asset a's shared market, either way, or -1. */
export function latestTrade(w: World, a: number): number {
  return Math.max(w.assetTradeDown[a]!, w.assetTradeUp[a]!);
}

/**
 * Event id of the most recent event that moved a price account a is marked with against it — down for
 * a long position or for collateral it holds, up for a short — or -1. (Until session 21 any move: a
 * long's losses booked in a rebound went to the rebound.)
 */
export function causeFor(w: World, a: number): number {
  let cause = -1;
  const end = w.posStart[a + 1]!;
  for (let p = w.posStart[a]!; p < end; p++) {
    const q = w.posQty[p]!;
    if (q === 0) continue;
    const m = w.posMarket[p]!;
    cause = Math.max(cause, priceCauseAgainst(w, w.marketOracle[m]!, q > 0), fundingCauseAgainst(w, m, q > 0));
  }
  // Non-cash collateral: its price moves the account's margin as much as a position's does.
  if (!w.collateralListed) return cause;
  for (let k = w.collStart[a]!; k < w.collStart[a + 1]!; k++) {
    if (w.units.qty[w.collHolder[k]!]! > 0) cause = Math.max(cause, priceCauseAgainst(w, w.collOracle[k]!, true));
  }
  return cause;
}

/**
 * Event id of the latest event that holds market m's funding against a long (`long`) or a short, or -1
 * (design decision 47). Measured against the fundamental, with or without the permanent impact, the
 * premium is the gap that trades hold open in the market, so shorts pay while sales hold it under and
 * longs while purchases hold it over; measured against the oracle (design decision 48), it is the perp's
 * price moved away from the published index, by whatever moved it last that way (a shock, a trade, a
 * trade on the venue's own book).
 */
export function fundingCauseAgainst(w: World, m: number, long: boolean): number {
  const premium = fundingPremium(w, m);
  if (long ? !(premium > 0) : !(premium < 0)) return -1;
  const a = w.marketAsset[m]!;
  if (w.fundingIndexPrice[w.marketExchange[m]!] !== FundingIndexPrice.oracle) return long ? w.assetTradeUp[a]! : w.assetTradeDown[a]!;
  const o = w.marketOracle[m]!;
  return w.oracleSource[o] === OracleSource.venue ? venueMove(w, o, !long) : latestMove(w, a, !long);
}

/** Records shock or depeg `event` as the latest mover of asset a's fundamental; `direction` −1 down, +1 up, 0 either (a replayed path). */
export function noteShock(w: World, a: number, event: number, direction: number): void {
  if (direction <= 0) w.assetShockDown[a] = event;
  if (direction >= 0) w.assetShockUp[a] = event;
}

/** A derived asset's fundamental follows its underlying u: so do its movers, where u's are later. */
export function followUnderlying(w: World, a: number, u: number): void {
  if (w.assetShockDown[u]! > w.assetShockDown[a]!) w.assetShockDown[a] = w.assetShockDown[u]!;
  if (w.assetShockUp[u]! > w.assetShockUp[a]!) w.assetShockUp[a] = w.assetShockUp[u]!;
}

/** Records `event`, a trade of `soldQty` units (negative: bought) into asset a's shared market, as the latest mover of its market price. */
export function noteMarketTrade(w: World, a: number, event: number, soldQty: number): void {
  if (soldQty > 0) w.assetTradeDown[a] = event;
  else w.assetTradeUp[a] = event;
}

/** The same for a trade on oracle o's venue book. */
export function noteVenueTrade(w: World, o: number, event: number, soldQty: number): void {
  if (soldQty > 0) w.venueTradeDown[o] = event;
  else w.venueTradeUp[o] = event;
}
