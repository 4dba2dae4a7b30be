// Price impact of trading into an asset's shared market. The state is x, the net sold share of
// depth (positive after net selling); the market price is fundamental × g(x). A trade walks the
// curve from x0 to x1 and fills at the average of g over [x0, x1], so splitting an order into
// pieces gives the same total proceeds as one order (no free lunch from slicing). Every curve is
// bounded to [MIN_IMPACT_FACTOR, MAX_IMPACT_FACTOR] so prices stay positive and finite.
import { ImpactCode } from './world.ts';

/** Smallest impact factor: selling never takes a price below 1/10,000 of the fundamental. */
export const MIN_IMPACT_FACTOR = 1e-4;
/** Largest impact factor: buying never takes a price above 10,000 × the fundamental. */
export const MAX_IMPACT_FACTOR = 1e4;

/** The unbounded curve. */
function rawFactor(model: number, c: number, x: number): number {
  switch (model) {
    case ImpactCode.linear:
      return 1 - c * x;
    case ImpactCode.sqrt:
      return 1 - c * Math.sign(x) * Math.sqrt(Math.abs(x));
    default:
      return Math.exp(-c * x);
  }
}

/** g(x): multiplier of the fundamental price after net selling x (share of depth). */
export function impactFactor(model: number, coefficient: number, x: number): number {
  return Math.min(Math.max(rawFactor(model, coefficient, x), MIN_IMPACT_FACTOR), MAX_IMPACT_FACTOR);
}

/**
 * The x at which the unbounded curve equals factor f (g is decreasing in x). Used for the
 * curve's bounds and for price limits.
 */
export function impactInverse(model: number, c: number, f: number): number {
  switch (model) {
    case ImpactCode.linear:
      return (1 - f) / c;
    case ImpactCode.sqrt:
      return Math.sign(1 - f) * ((1 - f) / c) ** 2;
    default:
      return -Math.log(f) / c;
  }
}

/** Antiderivative of the unbounded curve. */
function rawIntegral(model: number, c: number, x: number): number {
  switch (model) {
    case ImpactCode.linear:
      return x - 0.5 * c * x * x;
    case ImpactCode.sqrt:
      // d/dx [x − (2/3)λ|x|^{3/2}] = 1 − λ·sign(x)·√|x| on both sides of 0.
      return x - (2 / 3) * c * Math.abs(x) ** 1.5;
    default:
      return -Math.exp(-c * x) / c;
  }
}

/**
 * ∫ g over [lo, hi] (lo < hi) of the bounded curve: MAX left of the ceiling point, the raw curve
 * between, MIN right of the floor point.
 */
function boundedIntegral(model: number, c: number, lo: number, hi: number): number {
  const ceilingX = impactInverse(model, c, MAX_IMPACT_FACTOR);
  const floorX = impactInverse(model, c, MIN_IMPACT_FACTOR);
  let sum = 0;
  if (lo < ceilingX) sum += MAX_IMPACT_FACTOR * (Math.min(hi, ceilingX) - lo);
  if (hi > floorX) sum += MIN_IMPACT_FACTOR * (hi - Math.max(lo, floorX));
  const a = Math.max(lo, ceilingX);
  const b = Math.min(hi, floorX);
  if (b > a) sum += rawIntegral(model, c, b) - rawIntegral(model, c, a);
  return sum;
}

/** ∫_{x0}^{x1} g (signed: negative when x1 < x0). */
export function impactIntegral(model: number, coefficient: number, x0: number, x1: number): number {
  if (x1 === x0) return 0;
  return x1 > x0 ? boundedIntegral(model, coefficient, x0, x1) : -boundedIntegral(model, coefficient, x1, x0);
}

/**
 * Average of g over [x0, x1]. A short interval uses the midpoint value: the difference of two
 * large antiderivative values would lose the digits that matter (error O(dx²) instead).
 */
export function averageImpactFactor(model: number, coefficient: number, x0: number, x1: number): number {
  const dx = x1 - x0;
  if (Math.abs(dx) <= 1e-6 * (1 + Math.abs(x0))) return impactFactor(model, coefficient, x0 + 0.5 * dx);
  return impactIntegral(model, coefficient, x0, x1) / dx;
}
