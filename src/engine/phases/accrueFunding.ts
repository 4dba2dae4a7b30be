// Stage 4: funding, O(markets) per step. The rate follows the Binance/Hyperliquid form
// F = P + clamp(I − P, ±c) per 8 hours, P the premium of the perp's market price over the
// fundamental index; paid per hour at F/8, capped per hour (Hyperliquid: 4%/h). It accrues into
// a cumulative index; positions settle against it only when they trade (accounts.settleFunding).
import type { World } from '../../model/world.ts';
import { invalidateMarks, markPrice } from '../accounts.ts';
import { noteFunding } from '../marginIndex.ts';

export function accrueFunding(w: World): void {
  invalidateMarks(w);
  const hours = w.stepSeconds / 3600;
  for (let m = 0; m < w.nMarkets; m++) {
    const x = w.marketExchange[m]!;
    const a = w.marketAsset[m]!;
    const premium = (w.market[a]! - w.fundamental[a]!) / w.fundamental[a]!;
    const interest = w.fundingInterestPer8h[x]!;
    const clamp = w.fundingClampPer8h[x]!;
    const rate8h = premium + Math.min(Math.max(interest - premium, -clamp), clamp);
    const cap = w.fundingCapPerHour[x]!;
    const hourly = Math.min(Math.max(rate8h / 8, -cap), cap);
    // USD per unit of long position: longs pay when positive.
    const delta = hourly * hours * markPrice(w, m);
    w.fundingIndex[m] = w.fundingIndex[m]! + delta;
    noteFunding(w, m, delta);
  }
}
