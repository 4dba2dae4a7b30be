// Stage 10: record the step: one row per protocol (open interest, the step's liquidation and
// waterfall totals, fund balance, cascade rounds) and one per asset (fundamental, market and
// oracle prices); fold the step's totals into the run's and reset them.
import type { StepAccumulators, World } from '../../model/world.ts';
import { markPrice } from '../accounts.ts';
import { lendingDebtUsd } from './lending.ts';

export function recordStep(w: World): void {
  trackDrawdowns(w);
  for (let f = 0; f < w.nFunds; f++) {
    w.fundMinUsd[f] = Math.min(w.fundMinUsd[f]!, w.ledger.balance[w.fundHolderStart + f]!);
  }
  const st = w.stepTable;
  if (st) {
    const acc = w.acc;
    for (let x = 0; x < w.nProtocols; x++) {
      const r = w.step * w.nProtocols + x;
      // Lending markets: outstanding debt stands in for open interest.
      if (x < w.nExchanges) storeOpenInterestUsd(w, x, st.openInterestUsd, r);
      else st.openInterestUsd[r] = lendingDebtUsd(w, x - w.nExchanges);
      st.marginCalls[r] = acc.marginCalls[x]!;
      st.liquidations[r] = acc.liquidations[x]!;
      st.liquidationVolumeUsd[r] = acc.liquidationVolumeUsd[x]!;
      st.backstopVolumeUsd[r] = acc.backstopVolumeUsd[x]!;
      st.badDebtUsd[r] = acc.badDebtUsd[x]!;
      st.fundPayoutUsd[r] = acc.fundPayoutUsd[x]!;
      st.insuranceFundUsd[r] =
        x < w.nExchanges ? w.ledger.balance[w.fundHolderStart + w.exchangeFund[x]!]! : w.ledger.balance[w.fundHolderStart + w.lending.marketFund[x - w.nExchanges]!]!;
      st.adlVolumeUsd[r] = acc.adlVolumeUsd[x]!;
      st.socializedLossUsd[r] = acc.socializedLossUsd[x]!;
      st.cascadeRounds[r] = acc.cascadeRounds[x]!;
      st.regime[r] = w.regime;
    }
  }
  const pt = w.priceTable;
  if (pt) {
    for (let a = 0; a < w.nAssets; a++) {
      const r = w.step * w.nAssets + a;
      pt.fundamental[r] = w.fundamental[a]!;
      pt.market[r] = w.market[a]!;
      const o = w.assetFirstOracle[a]!;
      // Two stores, not one of a choice: V8 reads NaN as a value of any type, and a choice between it
      // and a price is kept boxed (a fresh heap number per asset per step).
      if (o < 0) pt.oracle[r] = NaN;
      else pt.oracle[r] = w.oraclePrice[o]!;
    }
  }
  foldInto(w.totals, w.acc);
}

/**
 * Long open interest of exchange x at mark, USD (equal to short open interest): Σ over its markets of
 * long units × mark, the units kept per market by fills (accounts.applyFill). Stored into out[r]
 * rather than returned: a returned double is a fresh heap number wherever V8 does not inline the call.
 */
function storeOpenInterestUsd(w: World, x: number, out: Float64Array, r: number): void {
  let oi = 0;
  for (let m = 0; m < w.nMarkets; m++) {
    if (w.marketExchange[m] === x) oi += w.marketLongQty[m]! * markPrice(w, m);
  }
  out[r] = oi;
}

function trackDrawdowns(w: World): void {
  for (let a = 0; a < w.nAssets; a++) {
    const m = w.market[a]!;
    if (m > w.peakMarket[a]!) w.peakMarket[a] = m;
    w.maxDrawdownMarket[a] = Math.max(w.maxDrawdownMarket[a]!, 1 - m / w.peakMarket[a]!);
    const f = w.fundamental[a]!;
    if (f > w.peakFundamental[a]!) w.peakFundamental[a] = f;
    w.maxDrawdownFundamental[a] = Math.max(w.maxDrawdownFundamental[a]!, 1 - f / w.peakFundamental[a]!);
  }
}

/** The accumulators' keys (listed once: Object.keys would allocate an array every step). */
let ACC_KEYS: (keyof StepAccumulators)[] | null = null;

/** Adds the step's totals to the run's and zeroes the step's. */
function foldInto(total: StepAccumulators, step: StepAccumulators): void {
  ACC_KEYS ??= Object.keys(step) as (keyof StepAccumulators)[];
  for (let k = 0; k < ACC_KEYS.length; k++) {
    const key = ACC_KEYS[k]!;
    const s = step[key];
    const t = total[key];
    if (key === 'cascadeRounds') {
      for (let i = 0; i < s.length; i++) t[i] = Math.max(t[i]!, s[i]!);
    } else {
      for (let i = 0; i < s.length; i++) t[i] = t[i]! + s[i]!;
    }
    s.fill(0);
  }
}
