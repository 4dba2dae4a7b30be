// What caused an account's trouble: the latest shock or fire sale on any asset it holds. Event ids
// grow with time, so the largest id is the most recent; the chain of causes makes a cascade a tree.
import type { World } from '../model/world.ts';

/**
 * Event id of the latest event that moved the price an oracle reports for its asset: a shock or
 * depeg of the fundamental, and — when the oracle reads the market — a forced sale into it.
 */
export function priceCause(w: World, oracle: number): number {
  const asset = w.oracleAsset[oracle]!;
  const fundamental = w.assetShockEvent[asset]!;
  const source = w.oracleSource[oracle]!;
  if (source === 1) return fundamental;
  const shared = Math.max(fundamental, w.assetLiquidationEvent[asset]!);
  // A venue market rides on the shared one and on the trades made on the venue itself.
  return source === 2 ? Math.max(shared, w.venueLastTradeEvent[oracle]!) : shared;
}

/** Event id of the most recent event that moved a price account a is marked with, or -1. */
export function causeFor(w: World, a: number): number {
  let cause = -1;
  const end = w.posStart[a + 1]!;
  for (let p = w.posStart[a]!; p < end; p++) {
    if (w.posQty[p] === 0) continue;
    cause = Math.max(cause, priceCause(w, w.marketOracle[w.posMarket[p]!]!));
  }
  // Non-cash collateral: its price moves the account's margin as much as a position's does.
  if (!w.collateralListed) return cause;
  for (let k = w.collStart[a]!; k < w.collStart[a + 1]!; k++) {
    if (w.units.qty[w.collHolder[k]!]! > 0) cause = Math.max(cause, priceCause(w, w.collOracle[k]!));
  }
  return cause;
}
