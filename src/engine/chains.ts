// Block space for liquidations. A protocol on a chain shares that chain's per-step capacity with
// every other protocol there: liquidations, and lending borrowers' own repayments and sales, each
// take one slot; once the slots are used up, the rest wait for the next step while prices keep
// moving (12 March 2020: keepers' and borrowers' transactions stuck behind gas).
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

/** Start of a step (the first phase): every chain's block space is free again. */
export function resetChains(w: World): void {
  w.chainUsed.fill(0);
}
