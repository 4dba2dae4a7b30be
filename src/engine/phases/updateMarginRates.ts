// Stage 3½, dynamic margin: after the oracles publish, every market of an exchange with dynamic
// margin folds its mark's log return into an EWMA variance (RiskMetrics) and sets the multiplier on
// its tier rates to realised ÷ reference volatility, clamped (src/margin/dynamic.ts). Pro-cyclical
// by design: requirements rise exactly when prices fall fast.
import type { World } from '../../model/world.ts';
import { dynamicMarginFraction } from '../../margin/dynamic.ts';

export function updateMarginRates(w: World): void {
  for (let m = 0; m < w.nMarkets; m++) {
    const x = w.marketExchange[m]!;
    if (w.exchangeDynamic[x] !== 1) continue;
    const mark = w.oraclePrice[w.marketOracle[m]!]!;
    const r = Math.log(mark / w.marketLastMark[m]!);
    w.marketLastMark[m] = mark;
    const lambda = w.exchangeEwmaLambda[x]!;
    w.marketVariancePerStep[m] = lambda * w.marketVariancePerStep[m]! + (1 - lambda) * r * r;
    w.marketMarginMultiplier[m] = dynamicMarginFraction(
      1,
      w.marketVariancePerStep[m]!,
      w.stepSeconds,
      w.exchangeReferenceVol[x]!,
      w.exchangeFloorMultiple[x]!,
      w.exchangeCapMultiple[x]!,
    );
  }
}
