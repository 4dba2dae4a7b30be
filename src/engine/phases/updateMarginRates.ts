// Stage 3½, margin rates that move: after the oracles publish, every market of an exchange with
// dynamic margin folds its mark's log return into an EWMA variance (RiskMetrics) and scales its tier
// rates by realised ÷ reference volatility, clamped (src/margin/dynamic.ts) — pro-cyclical by design:
// requirements rise exactly when prices fall fast; and an open-interest surcharge raises them as a
// market's open interest grows past where it started.
import type { World } from '../../model/world.ts';
import { dynamicMarginFraction } from '../../margin/dynamic.ts';
import { invalidateMarks } from '../accounts.ts';

export function updateMarginRates(w: World): void {
  invalidateMarks(w);
  for (let m = 0; m < w.nMarkets; m++) {
    const x = w.marketExchange[m]!;
    const surcharge = w.exchangeOiPerMultiple[x]! > 0 ? openInterestSurcharge(w, m, x) : 1;
    if (w.exchangeDynamic[x] !== 1) {
      w.marketMarginMultiplier[m] = surcharge;
      continue;
    }
    const mark = w.oraclePrice[w.marketOracle[m]!]!;
    const r = Math.log(mark / w.marketLastMark[m]!);
    w.marketLastMark[m] = mark;
    const lambda = w.exchangeEwmaLambda[x]!;
    w.marketVariancePerStep[m] = lambda * w.marketVariancePerStep[m]! + (1 - lambda) * r * r;
    w.marketDynamicMultiplier[m] = dynamicMarginFraction(
      1,
      w.marketVariancePerStep[m]!,
      w.stepSeconds,
      w.exchangeReferenceVol[x]!,
      w.exchangeFloorMultiple[x]!,
      w.exchangeCapMultiple[x]!,
    );
    w.marketMarginMultiplier[m] = w.marketDynamicMultiplier[m]! * surcharge;
  }
}

/**
 * Open-interest surcharge of market m: 1 + rate × (open interest / step-0 open interest − threshold)
 * when above the threshold, in units (so a price move alone does not change it), else 1.
 */
function openInterestSurcharge(w: World, m: number, x: number): number {
  const long = w.marketLongQty[m]!;
  const initial = w.marketInitialGrossQty[m]! / 2;
  if (!(initial > 0)) return 1;
  const excess = long / initial - w.exchangeOiThreshold[x]!;
  return excess > 0 ? 1 + w.exchangeOiPerMultiple[x]! * excess : 1;
}
