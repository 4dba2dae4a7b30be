// Trading into an asset's shared market: every venue's forced and voluntary flow on an asset
// walks the same impact curve, which is how one venue's liquidations reach another's marks.
import { averageImpactFactor, impactFactor, impactInverse, MAX_IMPACT_FACTOR, MIN_IMPACT_FACTOR } from '../model/impact.ts';
import type { World } from '../model/world.ts';

/** Impact-state increment of selling `soldQty` units (negative = buying) of asset `a`. */
function impactStep(w: World, a: number, soldQty: number): number {
  return (soldQty * w.fundamental[a]!) / w.depthUsd[a]!;
}

/** Average fill price (USD) of selling `soldQty` units of asset a now, without trading. */
export function quoteFill(w: World, a: number, soldQty: number): number {
  const x0 = w.impactPermanent[a]! + w.impactTemporary[a]!;
  const x1 = x0 + impactStep(w, a, soldQty);
  return w.fundamental[a]! * averageImpactFactor(w.impactModel[a]!, w.impactCoefficient[a]!, x0, x1);
}

/**
 * Sells `soldQty` units (negative = buys) of asset a into its market: moves the impact state
 * (permanent and temporary parts), updates the market price and returns the average fill price.
 */
export function tradeIntoMarket(w: World, a: number, soldQty: number): number {
  const price = quoteFill(w, a, soldQty);
  const dx = impactStep(w, a, soldQty);
  w.soldUsdThisStep[a] = w.soldUsdThisStep[a]! + soldQty * price;
  const perm = w.permanentShare[a]!;
  w.impactPermanent[a] = w.impactPermanent[a]! + perm * dx;
  w.impactTemporary[a] = w.impactTemporary[a]! + (1 - perm) * dx;
  updateMarketPrice(w, a);
  return price;
}

/** market = fundamental × g(permanent + temporary impact). */
export function updateMarketPrice(w: World, a: number): void {
  const x = w.impactPermanent[a]! + w.impactTemporary[a]!;
  w.market[a] = w.fundamental[a]! * impactFactor(w.impactModel[a]!, w.impactCoefficient[a]!, x);
}

/**
 * Units of asset a that can be sold (`side` +1) or bought (−1) before the marginal price crosses
 * `limitPriceUsd`: the quantity a price-protected order fills. 0 when the price is already past
 * the limit; Infinity when the bounded curve never reaches it.
 */
export function quantityWithinLimit(w: World, a: number, side: number, limitPriceUsd: number): number {
  const f = limitPriceUsd / w.fundamental[a]!;
  if (side > 0 ? f <= MIN_IMPACT_FACTOR : f >= MAX_IMPACT_FACTOR) return Infinity;
  const x0 = w.impactPermanent[a]! + w.impactTemporary[a]!;
  const xLimit = impactInverse(w.impactModel[a]!, w.impactCoefficient[a]!, f);
  const dx = side > 0 ? xLimit - x0 : x0 - xLimit;
  return dx > 0 ? (dx * w.depthUsd[a]!) / w.fundamental[a]! : 0;
}
