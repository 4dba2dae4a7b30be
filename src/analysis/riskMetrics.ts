// The figures lending-risk firms publish from their Monte Carlo paths (DOMAIN.md, "Published risk
// methodology to match"): value at risk, the 95th percentile of insolvent debt; liquidations at risk,
// the 95th percentile of liquidated value; and expected shortfall at 99%. Here a path's loss is the
// bad debt it booked plus the lending debt it left open under water (total_bad_debt_usd +
// insolvent_debt_usd), its liquidated value liquidation_volume_usd (perp notional closed and lending
// debt repaid by liquidators).
import { quantileRanks } from './fundSizing.ts';
import { sortedQuantile } from './statistics.ts';

/** A quantile's estimate and its distribution-free interval (a bound is null where the sample cannot give it). */
export interface QuantileEstimate {
  value: number;
  lower: number | null;
  upper: number | null;
}

/**
 * The q-quantile of `values` (type 7, as `quantile`) with the interval between the order statistics
 * whose ranks bound it with at least `confidence` (quantileRanks: a binomial argument that assumes
 * nothing about the distribution). With few paths a side is open: the 95th percentile's upper bound at
 * 95% needs 72 paths (0.95^72 ≤ 0.025).
 */
export function quantileEstimate(values: readonly number[], q: number, confidence: number): QuantileEstimate {
  const n = values.length;
  const sorted = [...values].sort((a, b) => a - b);
  const { lower, upper } = quantileRanks(n, q, confidence);
  return {
    value: sortedQuantile(sorted, q),
    lower: lower >= 1 ? sorted[lower - 1]! : null,
    upper: upper <= n ? sorted[upper - 1]! : null,
  };
}

/**
 * Expected shortfall at `level`: the mean of the k = ⌈(1 − level)·n⌉ largest values (at least one), and
 * k. With 10 paths ES99 is the worst path; with 250 the mean of the worst 3.
 */
export function expectedShortfall(values: readonly number[], level: number): { value: number; paths: number } {
  const n = values.length;
  if (n === 0) return { value: NaN, paths: 0 };
  // (1 − 0.99) × 100 is 1.0000000000000009 in doubles: round before the ceiling.
  const k = Math.max(1, Math.ceil(Math.round((1 - level) * n * 1e9) / 1e9));
  const sorted = [...values].sort((a, b) => b - a);
  let sum = 0;
  for (let i = 0; i < k; i++) sum += sorted[i]!;
  return { value: sum / k, paths: k };
}

/** One point's risk figures over its paths. */
export interface RiskMetrics {
  paths: number;
  valueAtRisk: QuantileEstimate;
  liquidationsAtRisk: QuantileEstimate;
  expectedShortfall: { value: number; paths: number };
}

/** VaR95 and LaR95 (with intervals at `confidence`) and ES99 of one point's paths. */
export function riskMetrics(loss: readonly number[], liquidated: readonly number[], confidence = 0.95): RiskMetrics {
  return {
    paths: loss.length,
    valueAtRisk: quantileEstimate(loss, 0.95, confidence),
    liquidationsAtRisk: quantileEstimate(liquidated, 0.95, confidence),
    expectedShortfall: expectedShortfall(loss, 0.99),
  };
}
