// Size-tiered margin requirements. A market's brackets give a rate per notional range; the
// requirement is notional × rate − amount for the bracket the notional falls in, with the amount
// chosen so the requirement is continuous (Binance USDⓈ-M "maintenance amount" form). With a
// single tier this is simply notional × rate.

/**
 * Margin requirement in USD of a position of `notionalUsd` (≥ 0) in market `market`, from the
 * tier arrays of that market (initial or maintenance rates and amounts).
 */
export function requirementUsd(
  tierStart: Int32Array,
  tierUpperUsd: Float64Array,
  rate: Float64Array,
  amount: Float64Array,
  market: number,
  notionalUsd: number,
): number {
  const end = tierStart[market + 1]! - 1;
  let k = tierStart[market]!;
  while (k < end && notionalUsd > tierUpperUsd[k]!) k++;
  return notionalUsd * rate[k]! - amount[k]!;
}
