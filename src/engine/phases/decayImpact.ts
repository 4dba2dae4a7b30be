// Stage 2: the temporary part of price impact decays with the market's resilience half-life; the
// market price is re-derived from the new fundamental and the remaining impact.
import type { World } from '../../model/world.ts';
import { updateMarketPrice } from '../market.ts';
import { decayVenueMarkets } from '../venueMarket.ts';

export function decayImpact(w: World): void {
  for (let a = 0; a < w.nAssets; a++) {
    w.impactTemporary[a] = w.impactTemporary[a]! * w.temporaryDecayPerStep[a]!;
    updateMarketPrice(w, a);
  }
  decayVenueMarkets(w);
}
