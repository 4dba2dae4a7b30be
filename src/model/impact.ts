// Price impact of trading into an asset's shared market. The state is x, the net sold share of
// depth (positive after net selling); the market price is fundamental × g(x). A trade walks the
// curve from x0 to x1 and fills at the average of g over [x0, x1], so splitting an order into
// pieces gives the same total proceeds as one order (no free lunch from slicing).
import { ImpactCode } from './world.ts';

/** Smallest impact factor: linear and square-root curves are floored so prices stay positive. */
export const MIN_IMPACT_FACTOR = 1e-4;

/** g(x): multiplier of the fundamental price after net selling x (share of depth). */
export function impactFactor(model: number, coefficient: number, x: number): number {
  switch (model) {
    case ImpactCode.linear:
      return Math.max(1 - coefficient * x, MIN_IMPACT_FACTOR);
    case ImpactCode.sqrt:
      return Math.max(1 - coefficient * Math.sign(x) * Math.sqrt(Math.abs(x)), MIN_IMPACT_FACTOR);
    default:
      return Math.exp(-coefficient * x);
  }
}

/** The x beyond which a floored curve sits at MIN_IMPACT_FACTOR (Infinity for exponential). */
function floorPoint(model: number, coefficient: number): number {
  if (model === ImpactCode.linear) return (1 - MIN_IMPACT_FACTOR) / coefficient;
  if (model === ImpactCode.sqrt) return ((1 - MIN_IMPACT_FACTOR) / coefficient) ** 2;
  return Infinity;
}

/** Antiderivative of the unfloored curve. */
function rawIntegral(model: number, coefficient: number, x: number): number {
  switch (model) {
    case ImpactCode.linear:
      return x - 0.5 * coefficient * x * x;
    case ImpactCode.sqrt:
      // d/dx [x − (2/3)λ|x|^{3/2}] = 1 − λ·sign(x)·√|x| on both sides of 0.
      return x - (2 / 3) * coefficient * Math.abs(x) ** 1.5;
    default:
      return -Math.exp(-coefficient * x) / coefficient;
  }
}

/** Antiderivative G of g (with the floor), so ∫_{x0}^{x1} g = G(x1) − G(x0). */
export function impactIntegral(model: number, coefficient: number, x: number): number {
  const xc = floorPoint(model, coefficient);
  if (x <= xc) return rawIntegral(model, coefficient, x);
  return rawIntegral(model, coefficient, xc) + MIN_IMPACT_FACTOR * (x - xc);
}

/** Average of g over [x0, x1] (g(x0) when the interval is empty). */
export function averageImpactFactor(model: number, coefficient: number, x0: number, x1: number): number {
  const dx = x1 - x0;
  if (Math.abs(dx) < 1e-15) return impactFactor(model, coefficient, x0);
  return (impactIntegral(model, coefficient, x1) - impactIntegral(model, coefficient, x0)) / dx;
}
