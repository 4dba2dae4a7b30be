// What caused an account's trouble: the latest shock or fire sale on any asset it holds. Event ids
// grow with time, so the largest id is the most recent; the chain of causes makes a cascade a tree.
import type { World } from '../model/world.ts';

/** Event id of the most recent shock or liquidation on an asset account a holds, or -1. */
export function causeFor(w: World, a: number): number {
  let cause = -1;
  const end = w.posStart[a + 1]!;
  for (let p = w.posStart[a]!; p < end; p++) {
    if (w.posQty[p] === 0) continue;
    const asset = w.marketAsset[w.posMarket[p]!]!;
    cause = Math.max(cause, w.assetShockEvent[asset]!, w.assetLiquidationEvent[asset]!);
  }
  return cause;
}
