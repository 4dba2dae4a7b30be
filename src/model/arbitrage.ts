// The arbitrageurs' state (scenario.arbitrageurs, schema.ts Arbitrageur): one pooled balance sheet per
// entry — USD cash in the ledger, inventory of its asset in the unit ledger — and what they did over
// the run. The phase that trades is engine/phases/arbitrage.ts.
import type { Scenario } from '../experiment/schema.ts';
import { denseId, type DependencyGraph } from '../graph/build.ts';

export interface ArbitrageState {
  readonly n: number;
  /** The asset each arbitrageur trades. */
  readonly asset: Int32Array;
  /** USD ledger holder of its cash. */
  readonly cashHolder: Int32Array;
  /** Unit-ledger holder of its inventory. */
  readonly unitHolder: Int32Array;
  /** 1 − entryDiscount: it buys while market < fundamental × this. */
  readonly entryFactor: Float64Array;
  /** 1 − exitDiscount: it sells inventory while market > fundamental × this. */
  readonly exitFactor: Float64Array;
  /** Most cash spent buying in one step, USD (Infinity: no limit). */
  readonly maxBuyUsdPerStep: Float64Array;
  /** Cash spent buying so far this step, USD (against maxBuyUsdPerStep). */
  readonly boughtThisStepUsd: Float64Array;
  /** 1: it also trades before every liquidation round after the first. */
  readonly betweenRounds: Uint8Array;
  /** Whether any arbitrageur trades between rounds. */
  readonly anyBetweenRounds: boolean;
  readonly initialCashUsd: Float64Array;
  /** Its inventory at step 0 valued at the asset's initial price, USD (what its PnL is measured from, with the cash). */
  readonly initialInventoryUsd: Float64Array;
  /** Σ initialCashUsd. */
  readonly totalInitialCashUsd: number;
  /** Over the run so far: cash spent buying, cash received selling, USD. */
  readonly boughtUsd: Float64Array;
  readonly soldUsd: Float64Array;
  /** Lowest Σ cash / Σ initial cash seen after a step's trades (1 until they buy; NaN without arbitrageurs or cash). */
  minCashShare: number;
}

/**
 * The arbitrageurs of a scenario: their cash holders are USD ledger holders cashHolderStart … (one
 * each, initial balance cashUsd, in the order the caller appends them), their inventories unit-ledger
 * holders unitHolderStart … (arbitrageurInventory's units at step 0).
 */
export function buildArbitrage(s: Scenario, graph: DependencyGraph, cashHolderStart: number, unitHolderStart: number): ArbitrageState {
  const list = s.arbitrageurs;
  const n = list.length;
  const initialCashUsd = Float64Array.from(list, (x) => x.cashUsd);
  let total = 0;
  for (let k = 0; k < n; k++) total += initialCashUsd[k]!;
  return {
    n,
    asset: Int32Array.from(list, (x) => denseId(graph, 'asset', x.asset)),
    cashHolder: Int32Array.from(list, (_, k) => cashHolderStart + k),
    unitHolder: Int32Array.from(list, (_, k) => unitHolderStart + k),
    entryFactor: Float64Array.from(list, (x) => 1 - x.entryDiscount),
    exitFactor: Float64Array.from(list, (x) => 1 - x.exitDiscount),
    maxBuyUsdPerStep: Float64Array.from(list, (x) => x.maxBuyUsdPerStep ?? Infinity),
    boughtThisStepUsd: new Float64Array(n),
    betweenRounds: Uint8Array.from(list, (x) => (x.betweenRounds ? 1 : 0)),
    anyBetweenRounds: list.some((x) => x.betweenRounds),
    initialCashUsd,
    initialInventoryUsd: Float64Array.from(list, (x) => x.inventoryUsd),
    totalInitialCashUsd: total,
    boughtUsd: new Float64Array(n),
    soldUsd: new Float64Array(n),
    minCashShare: total > 0 ? 1 : NaN,
  };
}

/** The arbitrageurs' inventories at step 0, in order: asset and units (inventoryUsd at the asset's initial price). */
export function arbitrageurInventory(s: Scenario, graph: DependencyGraph, initialPrice: Float64Array): { asset: number; qty: number }[] {
  return s.arbitrageurs.map((x) => {
    const asset = denseId(graph, 'asset', x.asset);
    return { asset, qty: x.inventoryUsd / initialPrice[asset]! };
  });
}
