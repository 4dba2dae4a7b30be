// A venue's own thin market for an asset (an oracle with source "venue"): its price is the shared
// market price times its own impact, and only trades made on that venue move it — the pattern of
// the USDe mark at 0.65 on one exchange (October 2025) and of Mango Markets' MNGO (October 2022).
import { averageImpactFactor, impactFactor } from '../model/impact.ts';
import type { World } from '../model/world.ts';

/** Current local price of oracle o's venue market, USD. */
export function venuePrice(w: World, o: number): number {
  const x = w.venuePermanent[o]! + w.venueTemporary[o]!;
  return w.market[w.oracleAsset[o]!]! * impactFactor(w.venueModel[o]!, w.venueCoefficient[o]!, x);
}

/** Impact-state increment of selling `soldQty` units (negative = buying) on o's venue. */
function venueStep(w: World, o: number, soldQty: number): number {
  return (soldQty * w.market[w.oracleAsset[o]!]!) / w.venueDepthUsd[o]!;
}

/** Average fill price (USD) of selling `soldQty` units (negative = buying) on o's venue now. */
export function quoteVenue(w: World, o: number, soldQty: number): number {
  const x0 = w.venuePermanent[o]! + w.venueTemporary[o]!;
  const x1 = x0 + venueStep(w, o, soldQty);
  return w.market[w.oracleAsset[o]!]! * averageImpactFactor(w.venueModel[o]!, w.venueCoefficient[o]!, x0, x1);
}

/** Trades `soldQty` units (negative = buys) on o's venue market; returns the average fill price. */
export function tradeOnVenue(w: World, o: number, soldQty: number): number {
  const price = quoteVenue(w, o, soldQty);
  const dx = venueStep(w, o, soldQty);
  const perm = w.venuePermanentShare[o]!;
  w.venuePermanent[o] = w.venuePermanent[o]! + perm * dx;
  w.venueTemporary[o] = w.venueTemporary[o]! + (1 - perm) * dx;
  return price;
}

/** Stage 2: the temporary part of every venue market's impact decays with its resilience. */
export function decayVenueMarkets(w: World): void {
  for (let o = 0; o < w.nOracles; o++) {
    if (w.venueDepthUsd[o]! > 0) w.venueTemporary[o] = w.venueTemporary[o]! * w.venueDecayPerStep[o]!;
  }
}
