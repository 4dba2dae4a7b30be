// Stage 5: mark every active account to its oracle prices (equity, requirements, notional), after
// repricing the option series at those prices.
import { Status, type World } from '../../model/world.ts';
import { storeMarks } from '../accounts.ts';
import { refreshSeries } from '../optionBook.ts';

export function markToMarket(w: World): void {
  w.marksStale = false;
  // Option series follow their oracles (which may have moved since the last refresh).
  if (w.options.nSeries > 0) refreshSeries(w);
  const status = w.accountStatus;
  for (let a = 0; a < w.nAccounts; a++) {
    if (status[a] === Status.active) storeMarks(w, a);
  }
}
