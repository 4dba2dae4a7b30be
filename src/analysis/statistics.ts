// Small statistics for run summaries: quantiles of a sample and a Wilson score interval for a
// proportion (e.g. the share of stress paths that reach ADL), the figures an insurance-fund
// sizing question needs.

/** The q-quantile (0 ≤ q ≤ 1) of `values` by linear interpolation between order statistics (type 7). */
export function quantile(values: readonly number[], q: number): number {
  return sortedQuantile([...values].sort((a, b) => a - b), q);
}

/** quantile of values already sorted ascending (no copy, no sort). */
export function sortedQuantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const h = (sorted.length - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.ceil(h);
  return sorted[lo]! + (h - lo) * (sorted[hi]! - sorted[lo]!);
}

/** Arithmetic mean (NaN for an empty sample). */
export function mean(values: readonly number[]): number {
  return values.length === 0 ? NaN : values.reduce((s, v) => s + v, 0) / values.length;
}

/**
 * Wilson score interval for `successes` out of `n` at normal quantile z (1.96 for 95%):
 * (p̂ + z²/2n ± z·√(p̂(1−p̂)/n + z²/4n²)) / (1 + z²/n). Sound at p̂ = 0 or 1, unlike p̂ ± z·s.e.
 */
export function wilsonInterval(successes: number, n: number, z = 1.96): [number, number] {
  if (n === 0) return [0, 1];
  const p = successes / n;
  const z2 = z * z;
  const centre = p + z2 / (2 * n);
  const half = z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  const denom = 1 + z2 / n;
  return [Math.max(0, (centre - half) / denom), Math.min(1, (centre + half) / denom)];
}
