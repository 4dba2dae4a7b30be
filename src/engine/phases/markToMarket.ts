// Stage 5: mark the accounts to their oracle prices (equity, requirements, notional), after
// repricing the option series at those prices. Which accounts: all active ones, or with the margin
// index (the default) only those that could be at or below their margin-call level or maintenance;
// either way the marked accounts are listed in w.candidates for the margin calls and the liquidation
// queue, and the decisions are the same (engine/marginIndex.ts).
import type { World } from '../../model/world.ts';
import { refreshSeries } from '../optionBook.ts';
import { markCandidates } from '../marginIndex.ts';

export function markToMarket(w: World, forCalls = true): void {
  w.marksStale = false;
  // Option series follow their oracles (which may have moved since the last refresh).
  if (w.options.nSeries > 0) refreshSeries(w);
  markCandidates(w, forCalls);
}

/** The liquidation rounds' mark: only accounts that may be below maintenance need looking at. */
export function markForLiquidation(w: World): void {
  markToMarket(w, false);
}
