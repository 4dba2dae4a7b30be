// Stage 5: mark every active account to its oracle prices (equity, requirements, notional).
import { Status, type World } from '../../model/world.ts';
import { markAccount } from '../accounts.ts';

export function markToMarket(w: World): void {
  w.marksStale = false;
  const status = w.accountStatus;
  for (let a = 0; a < w.nAccounts; a++) {
    if (status[a] === Status.active) markAccount(w, a);
  }
}
