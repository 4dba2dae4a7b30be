// Stage 4: funding, O(markets) per step. The rate follows the Binance/Hyperliquid form
// F = P + clamp(I − P, ±c) per 8 hours, P the premium of the perp's price over the index; paid per
// hour at F/8, capped per hour (Hyperliquid: 4%/h). It accrues into a cumulative index; positions
// settle against it only when they trade (accounts.settleFunding).
//
// The index is the exchange's funding.indexPrice (design decision 48): the fundamental (the default),
// the fundamental moved by the permanent part of the shared market's impact, or the market's oracle as
// published. The perp's price is the shared market's, or with an oracle of the venue's own book and
// the oracle index, that book's.
import { FundingIndexPrice, OracleSource, type World } from '../../model/world.ts';
import { impactFactor } from '../../model/impact.ts';
import { invalidateMarks, markPrice } from '../accounts.ts';
import { noteFunding } from '../marginIndex.ts';
import { venuePrice } from '../venueMarket.ts';

/** The premium of market m's perp price over its exchange's index (a share of the index). */
export function fundingPremium(w: World, m: number): number {
  const a = w.marketAsset[m]!;
  switch (w.fundingIndexPrice[w.marketExchange[m]!]) {
    case FundingIndexPrice.oracle: {
      const o = w.marketOracle[m]!;
      const index = w.oraclePrice[o]!;
      const perp = w.oracleSource[o] === OracleSource.venue ? venuePrice(w, o) : w.market[a]!;
      return (perp - index) / index;
    }
    case FundingIndexPrice['after-permanent-impact']: {
      const index = w.fundamental[a]! * impactFactor(w.impactModel[a]!, w.impactCoefficient[a]!, w.impactPermanent[a]!);
      return (w.market[a]! - index) / index;
    }
    default:
      return (w.market[a]! - w.fundamental[a]!) / w.fundamental[a]!;
  }
}

export function accrueFunding(w: World): void {
  invalidateMarks(w);
  const hours = w.stepSeconds / 3600;
  for (let m = 0; m < w.nMarkets; m++) {
    const x = w.marketExchange[m]!;
    const premium = fundingPremium(w, m);
    const interest = w.fundingInterestPer8h[x]!;
    const clamp = w.fundingClampPer8h[x]!;
    const rate8h = premium + Math.min(Math.max(interest - premium, -clamp), clamp);
    const cap = w.fundingCapPerHour[x]!;
    const hourly = Math.min(Math.max(rate8h / 8, -cap), cap);
    // USD per unit of long position: longs pay when positive.
    const delta = hourly * hours * markPrice(w, m);
    w.fundingIndex[m] = w.fundingIndex[m]! + delta;
    // Every long pays it and every short receives it (Σ qty = 0): the long open interest's worth changes hands.
    w.fundingLongsPaidUsd[m] = w.fundingLongsPaidUsd[m]! + delta * w.marketLongQty[m]!;
    noteFunding(w, m, delta);
  }
}
