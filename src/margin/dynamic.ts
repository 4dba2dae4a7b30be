// Dynamic (volatility-scaled) margin: an exponentially weighted estimate of each asset's return
// variance scales a base margin fraction up in turbulent markets and down in calm ones, within a
// floor and a cap. Scaling margin with recent volatility is pro-cyclical: requirements rise just
// as prices fall, which is the mechanism the simulator studies.

/** Seconds in a year of continuous (24/7) crypto trading: 365 × 24 × 3600. */
export const SECONDS_PER_YEAR = 31_536_000;

/** EWMA variance of per-step log returns, one entry per asset (variance per step, not annualised). */
export interface DynamicMarginState {
  variancePerStep: Float64Array /* per asset */;
}

/**
 * A state for `assetCount` assets, every variance seeded at `initialVariancePerStep` (e.g. the
 * square of a reference volatility scaled to one step: σ_ref² × stepSeconds / SECONDS_PER_YEAR).
 */
export function createDynamicMarginState(assetCount: number, initialVariancePerStep: number): DynamicMarginState {
  return { variancePerStep: new Float64Array(assetCount).fill(initialVariancePerStep) };
}

/**
 * One RiskMetrics EWMA step for `asset`: σ²_t = λ σ²_{t−1} + (1 − λ) r²_t (J.P. Morgan/Reuters,
 * RiskMetrics — Technical Document, 4th ed., 1996, ch. 5, the recursive form of the exponentially
 * weighted variance with zero mean return; decay factor λ = 0.94 for daily data).
 *
 * @param logReturn ln(P_t / P_{t−1}) over one step.
 * @param lambda    decay factor in [0, 1) (0.94 in RiskMetrics for daily returns).
 */
export function updateEwmaVariance(state: DynamicMarginState, asset: number, logReturn: number, lambda: number): void {
  const v = state.variancePerStep;
  v[asset] = lambda * v[asset]! + (1 - lambda) * logReturn * logReturn;
}

/**
 * Margin fraction scaled by volatility: baseFraction × clamp(σ_ewma / σ_reference, floorMultiple,
 * capMultiple), where σ_ewma = √(variancePerStep × SECONDS_PER_YEAR / stepSeconds) is the annualised
 * EWMA volatility (variance scales linearly with time under independent returns).
 *
 * @param baseFraction        margin fraction at the reference volatility (e.g. 0.05 of notional).
 * @param variancePerStep     EWMA variance of one step's log return.
 * @param stepSeconds         length of one step, seconds (> 0).
 * @param referenceAnnualVol  annual volatility at which the fraction equals baseFraction (> 0).
 * @param floorMultiple       lowest multiple of baseFraction (≤ capMultiple).
 * @param capMultiple         highest multiple of baseFraction.
 * @returns margin fraction of notional, in [baseFraction × floorMultiple, baseFraction × capMultiple].
 */
export function dynamicMarginFraction(
  baseFraction: number,
  variancePerStep: number,
  stepSeconds: number,
  referenceAnnualVol: number,
  floorMultiple: number,
  capMultiple: number,
): number {
  const annualVol = Math.sqrt((variancePerStep * SECONDS_PER_YEAR) / stepSeconds);
  const multiple = annualVol / referenceAnnualVol;
  return baseFraction * (multiple < floorMultiple ? floorMultiple : multiple > capMultiple ? capMultiple : multiple);
}
