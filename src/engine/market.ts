// Trading into an asset's shared market: every venue's forced and voluntary flow on an asset
// walks the same impact curve, which is how one venue's liquidations reach another's marks.
import {
  averageImpactFactorAt,
  CURVE,
  CURVE_C,
  CURVE_OUT,
  CURVE_X,
  CURVE_X0,
  CURVE_X1,
  impactFactorAt,
  impactInverseAt,
  MAX_IMPACT_FACTOR,
  MIN_IMPACT_FACTOR,
} from '../model/impact.ts';
import type { World } from '../model/world.ts';

/**
 * The trade's doubles in and out of the …At functions below, set by the caller just before the call
 * and read just after: every fill goes through them from calls V8 does not inline, where a double
 * argument or return value is a fresh heap number (src/model/impact.ts CURVE, likewise). The
 * number-argument functions do the same through them, for callers off the fills' path.
 */
export const MARKET = new Float64Array(4);
/** Units sold (negative = bought), in. */
export const MARKET_SOLD = 0;
/** Average fill price, USD, out. */
export const MARKET_PRICE = 1;
/** quantityWithinLimitAt: the limit price, USD, in; the units within it, out. */
export const MARKET_LIMIT = 2;
export const MARKET_WITHIN = 3;

/** Impact-state increment of selling `soldQty` units (negative = buying) of asset `a`. */
function impactStep(w: World, a: number, soldQty: number): number {
  return (soldQty * w.fundamental[a]!) / w.depthUsd[a]!;
}

/** Average fill price (USD) of selling MARKET_SOLD units of asset a now, without trading, into MARKET_PRICE. */
export function quoteFillAt(w: World, a: number): void {
  const soldQty = MARKET[MARKET_SOLD]!;
  const x0 = w.impactPermanent[a]! + w.impactTemporary[a]!;
  const x1 = x0 + impactStep(w, a, soldQty);
  CURVE[CURVE_C] = w.impactCoefficient[a]!;
  CURVE[CURVE_X0] = x0;
  CURVE[CURVE_X1] = x1;
  averageImpactFactorAt(w.impactModel[a]!);
  MARKET[MARKET_PRICE] = w.fundamental[a]! * CURVE[CURVE_OUT]!;
}

/**
 * Sells MARKET_SOLD units (negative = buys) of asset a into its market: moves the impact state
 * (permanent and temporary parts), updates the market price and leaves the average fill price in
 * MARKET_PRICE.
 */
export function tradeIntoMarketAt(w: World, a: number): void {
  quoteFillAt(w, a);
  const soldQty = MARKET[MARKET_SOLD]!;
  const price = MARKET[MARKET_PRICE]!;
  const dx = impactStep(w, a, soldQty);
  w.soldUsdThisStep[a] = w.soldUsdThisStep[a]! + soldQty * price;
  const perm = w.permanentShare[a]!;
  w.impactPermanent[a] = w.impactPermanent[a]! + perm * dx;
  w.impactTemporary[a] = w.impactTemporary[a]! + (1 - perm) * dx;
  updateMarketPrice(w, a);
}

/** market = fundamental × g(permanent + temporary impact). */
export function updateMarketPrice(w: World, a: number): void {
  CURVE[CURVE_C] = w.impactCoefficient[a]!;
  CURVE[CURVE_X] = w.impactPermanent[a]! + w.impactTemporary[a]!;
  impactFactorAt(w.impactModel[a]!);
  w.market[a] = w.fundamental[a]! * CURVE[CURVE_OUT]!;
}

/**
 * Units of asset a that can be sold (`side` +1) or bought (−1) before the marginal price crosses
 * the limit price MARKET_LIMIT, into MARKET_WITHIN: the quantity a price-protected order fills. 0
 * when the price is already past the limit; Infinity when the bounded curve never reaches it.
 */
export function quantityWithinLimitAt(w: World, a: number, side: number): void {
  const f = MARKET[MARKET_LIMIT]! / w.fundamental[a]!;
  if (side > 0 ? f <= MIN_IMPACT_FACTOR : f >= MAX_IMPACT_FACTOR) {
    MARKET[MARKET_WITHIN] = Infinity;
    return;
  }
  const x0 = w.impactPermanent[a]! + w.impactTemporary[a]!;
  CURVE[CURVE_C] = w.impactCoefficient[a]!;
  CURVE[CURVE_X] = f;
  impactInverseAt(w.impactModel[a]!);
  const xLimit = CURVE[CURVE_OUT]!;
  const dx = side > 0 ? xLimit - x0 : x0 - xLimit;
  MARKET[MARKET_WITHIN] = dx > 0 ? (dx * w.depthUsd[a]!) / w.fundamental[a]! : 0;
}

/** Average fill price (USD) of selling `soldQty` units of asset a now, without trading (quoteFillAt). */
export function quoteFill(w: World, a: number, soldQty: number): number {
  MARKET[MARKET_SOLD] = soldQty;
  quoteFillAt(w, a);
  return MARKET[MARKET_PRICE]!;
}

/** Sells `soldQty` units (negative = buys) of asset a into its market; returns the average fill price (tradeIntoMarketAt). */
export function tradeIntoMarket(w: World, a: number, soldQty: number): number {
  MARKET[MARKET_SOLD] = soldQty;
  tradeIntoMarketAt(w, a);
  return MARKET[MARKET_PRICE]!;
}
