// Block space for liquidations, and venues that are down. A protocol on a chain shares that chain's
// per-step capacity with every other protocol there: liquidations, and lending borrowers' own
// repayments and sales, each take one slot; once the slots are used up, the rest wait for the next
// step while prices keep moving, and after a full step borrowers are priced out altogether (12 March
// 2020: keepers' and borrowers' transactions stuck behind gas).
import type { World } from '../model/world.ts';

/** True when protocol p may execute one more liquidation this step. */
export function chainHasRoom(w: World, p: number): boolean {
  const c = w.protocolChain[p]!;
  return c < 0 || w.chainCapacity[c]! < 0 || w.chainUsed[c]! < w.chainCapacity[c]!;
}

/** Records one liquidation executed by protocol p on its chain. */
export function useChain(w: World, p: number): void {
  const c = w.protocolChain[p]!;
  if (c >= 0) w.chainUsed[c]!++;
}

/**
 * True when protocol p's chain was full in the previous step. Borrowers' own transactions are then
 * priced out (keepers, who earn the bonus, outbid them for block space), as on 12 March 2020.
 */
export function chainCongested(w: World, p: number): boolean {
  const c = w.protocolChain[p]!;
  return c >= 0 && w.chainCongested[c] === 1;
}

/** Start of a step (the first phase): remember which chains were full, then free the block space. */
export function resetChains(w: World): void {
  for (let c = 0; c < w.chainUsed.length; c++) {
    w.chainCongested[c] = w.chainCapacity[c]! >= 0 && w.chainUsed[c]! >= w.chainCapacity[c]! ? 1 : 0;
    w.chainUsed[c] = 0;
  }
}

/**
 * Which exchanges are down this step (the second phase): an exchange in one of its outages takes no
 * liquidations, sends no margin calls and lets no liquidator unwind (liquidate.ts,
 * respondToMarginCalls.ts), while marks, funding and the shared markets go on; once it is back, its
 * accounts below maintenance are liquidated as usual (12–13 March 2020: BitMEX down for about 25
 * minutes in the crash).
 */
export function updateOutages(w: World): void {
  if (w.outageExchange.length === 0) return;
  w.exchangeDown.fill(0);
  for (let k = 0; k < w.outageExchange.length; k++) {
    if (w.step >= w.outageFrom[k]! && w.step < w.outageTo[k]!) w.exchangeDown[w.outageExchange[k]!] = 1;
  }
}
