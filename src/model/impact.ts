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

/**
 * The curve's doubles in and out. Every fill walks the curve from inside the engine's nested trade
 * calls, where V8 has run out of inlining budget, and a double passed to or returned by a call it
 * does not inline is a fresh heap number: so the …At functions below take the coefficient and their
 * points from CURVE and leave their result in CURVE[CURVE_OUT] (the number-argument functions at the
 * end do the same through them, for callers off the fills' path).
 */
export const CURVE = new Float64Array(5);
/** The curve's coefficient. */
export const CURVE_C = 0;
/** The point x of impactFactorAt (or the factor f of impactInverseAt). */
export const CURVE_X = 1;
/** The interval [x0, x1] of averageImpactFactorAt and impactIntegralAt. */
export const CURVE_X0 = 2;
export const CURVE_X1 = 3;
/** The result. */
export const CURVE_OUT = 4;

/** The unbounded curve at CURVE_X. */
function rawFactorAt(model: number): void {
  const c = CURVE[CURVE_C]!;
  const x = CURVE[CURVE_X]!;
  switch (model) {
    case ImpactCode.linear:
      CURVE[CURVE_OUT] = 1 - c * x;
      return;
    case ImpactCode.sqrt:
      CURVE[CURVE_OUT] = 1 - c * Math.sign(x) * Math.sqrt(Math.abs(x));
      return;
    default:
      CURVE[CURVE_OUT] = Math.exp(-c * x);
  }
}

/** g(x) at x = CURVE_X: multiplier of the fundamental price after net selling x (share of depth). */
export function impactFactorAt(model: number): void {
  rawFactorAt(model);
  CURVE[CURVE_OUT] = Math.min(Math.max(CURVE[CURVE_OUT]!, MIN_IMPACT_FACTOR), MAX_IMPACT_FACTOR);
}

/**
 * The x at which the unbounded curve equals the factor f = CURVE_X (g is decreasing in x). Used for
 * the curve's bounds and for price limits.
 */
export function impactInverseAt(model: number): void {
  const c = CURVE[CURVE_C]!;
  const f = CURVE[CURVE_X]!;
  switch (model) {
    case ImpactCode.linear:
      CURVE[CURVE_OUT] = (1 - f) / c;
      return;
    case ImpactCode.sqrt:
      CURVE[CURVE_OUT] = Math.sign(1 - f) * ((1 - f) / c) ** 2;
      return;
    default:
      CURVE[CURVE_OUT] = -Math.log(f) / c;
  }
}

/** Antiderivative of the unbounded curve at CURVE_X. */
function rawIntegralAt(model: number): void {
  const c = CURVE[CURVE_C]!;
  const x = CURVE[CURVE_X]!;
  switch (model) {
    case ImpactCode.linear:
      CURVE[CURVE_OUT] = x - 0.5 * c * x * x;
      return;
    case ImpactCode.sqrt:
      // d/dx [x − (2/3)λ|x|^{3/2}] = 1 − λ·sign(x)·√|x| on both sides of 0.
      CURVE[CURVE_OUT] = x - (2 / 3) * c * Math.abs(x) ** 1.5;
      return;
    default:
      CURVE[CURVE_OUT] = -Math.exp(-c * x) / c;
  }
}

/**
 * ∫ g over [lo, hi] = [CURVE_X0, CURVE_X1] (lo < hi) of the bounded curve: MAX left of the ceiling
 * point, the raw curve between, MIN right of the floor point.
 */
function boundedIntegralAt(model: number): void {
  const lo = CURVE[CURVE_X0]!;
  const hi = CURVE[CURVE_X1]!;
  CURVE[CURVE_X] = MAX_IMPACT_FACTOR;
  impactInverseAt(model);
  const ceilingX = CURVE[CURVE_OUT]!;
  CURVE[CURVE_X] = MIN_IMPACT_FACTOR;
  impactInverseAt(model);
  const floorX = CURVE[CURVE_OUT]!;
  let sum = 0;
  if (lo < ceilingX) sum += MAX_IMPACT_FACTOR * (Math.min(hi, ceilingX) - lo);
  if (hi > floorX) sum += MIN_IMPACT_FACTOR * (hi - Math.max(lo, floorX));
  const a = Math.max(lo, ceilingX);
  const b = Math.min(hi, floorX);
  if (b > a) {
    CURVE[CURVE_X] = b;
    rawIntegralAt(model);
    const atB = CURVE[CURVE_OUT]!;
    CURVE[CURVE_X] = a;
    rawIntegralAt(model);
    sum += atB - CURVE[CURVE_OUT]!;
  }
  CURVE[CURVE_OUT] = sum;
}

/** ∫ g over [CURVE_X0, CURVE_X1] (signed: negative when x1 < x0; may swap the two slots). */
function impactIntegralAt(model: number): void {
  const x0 = CURVE[CURVE_X0]!;
  const x1 = CURVE[CURVE_X1]!;
  if (x1 === x0) {
    CURVE[CURVE_OUT] = 0;
    return;
  }
  if (x1 > x0) {
    boundedIntegralAt(model);
    return;
  }
  CURVE[CURVE_X0] = x1;
  CURVE[CURVE_X1] = x0;
  boundedIntegralAt(model);
  CURVE[CURVE_OUT] = -CURVE[CURVE_OUT]!;
}

/**
 * Average of g over [CURVE_X0, CURVE_X1]. A short interval uses the midpoint value: the difference of
 * two large antiderivative values would lose the digits that matter (error O(dx²) instead).
 */
export function averageImpactFactorAt(model: number): void {
  const x0 = CURVE[CURVE_X0]!;
  const dx = CURVE[CURVE_X1]! - x0;
  if (Math.abs(dx) <= 1e-6 * (1 + Math.abs(x0))) {
    CURVE[CURVE_X] = x0 + 0.5 * dx;
    impactFactorAt(model);
    return;
  }
  impactIntegralAt(model);
  CURVE[CURVE_OUT] = CURVE[CURVE_OUT]! / dx;
}

/** g(x): multiplier of the fundamental price after net selling x (share of depth). */
export function impactFactor(model: number, coefficient: number, x: number): number {
  CURVE[CURVE_C] = coefficient;
  CURVE[CURVE_X] = x;
  impactFactorAt(model);
  return CURVE[CURVE_OUT]!;
}

/** Sets the curve's coefficient and range [x0, x1] in its slots, runs `at` and returns its CURVE_OUT. */
function overRange(at: (model: number) => void, model: number, coefficient: number, x0: number, x1: number): number {
  CURVE[CURVE_C] = coefficient;
  CURVE[CURVE_X0] = x0;
  CURVE[CURVE_X1] = x1;
  at(model);
  return CURVE[CURVE_OUT]!;
}

/** ∫_{x0}^{x1} g (signed: negative when x1 < x0). */
export function impactIntegral(model: number, coefficient: number, x0: number, x1: number): number {
  return overRange(impactIntegralAt, model, coefficient, x0, x1);
}

/** Average of g over [x0, x1] (averageImpactFactorAt). */
export function averageImpactFactor(model: number, coefficient: number, x0: number, x1: number): number {
  return overRange(averageImpactFactorAt, model, coefficient, x0, x1);
}
