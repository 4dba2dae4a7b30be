// State of the lending markets (Aave v3 rules) as struct-of-arrays: reserves, borrowers (loopers,
// one collateral and one debt reserve each), liquidators, and the unit ledger that holds deposited
// collateral, pool liquidity, treasury fees and liquidator inventory. Built once per run from the
// experiment; the phases in src/engine/phases/lending.ts read and move it.
import type { Experiment } from '../experiment/schema.ts';
import type { DependencyGraph } from '../graph/build.ts';
import { denseId } from '../graph/build.ts';
import { ExperimentError } from '../experiment/errors.ts';
import { UnitLedger } from '../engine/unitLedger.ts';
import { createLiquidationQuote, loopPosition, type AaveLiquidationRules, type LiquidationQuote } from '../lending/aave.ts';
import { drawDistribution, type Stream } from './random.ts';

export interface LendingState {
  /** Lending markets; market l is protocol nExchanges + l. */
  readonly nMarkets: number;
  readonly marketProtocol: Int32Array;
  /** Insurance-fund index of the market's safety module. */
  readonly marketFund: Int32Array;
  readonly rules: AaveLiquidationRules[];
  readonly maxRoundsPerStep: Int32Array;
  /** USD ledger holder that receives the safety module's cover of a deficit. */
  readonly marketRecoveryHolder: Int32Array;

  // ---- reserves (global index over all markets)
  readonly nReserves: number;
  readonly reserveMarket: Int32Array;
  readonly reserveAsset: Int32Array;
  readonly reserveOracle: Int32Array;
  readonly ltv: Float64Array;
  readonly liquidationThreshold: Float64Array;
  readonly liquidationBonus: Float64Array;
  readonly protocolFee: Float64Array;
  /** Lenders' deposits at step 0, units: liquidity + Σ debt + written-off deficit always equals it. */
  readonly supplyQty: Float64Array;
  /** Debt written off as the v3.3 reserve deficit, units. */
  readonly deficitQty: Float64Array;
  /** Unit-ledger holders of each reserve: pool liquidity and the treasury (protocol fees). */
  readonly liquidityHolder: Int32Array;
  readonly treasuryHolder: Int32Array;

  // ---- borrowers (event account id = nAccounts + b)
  readonly nBorrowers: number;
  readonly borrowerMarket: Int32Array;
  readonly borrowerCohort: Int32Array;
  /** Status codes as for perp accounts (0 active, 2 bankrupt once a deficit is written off). */
  readonly borrowerStatus: Uint8Array;
  readonly borrowerCollReserve: Int32Array;
  readonly borrowerDebtReserve: Int32Array;
  /** Debt owed, units of the debt asset (a claim of the pool, not a holding). */
  readonly borrowerDebtQty: Float64Array;
  /** USD ledger holder of the borrower's wallet. */
  readonly borrowerWallet: Int32Array;
  /**
   * What the borrower put in, USD: equity at step 0 (collateral − debt at initial prices), plus top-ups
   * and a manipulator's pump (cash spent on its own collateral). cohorts.arrow's contributed_usd.
   */
  readonly borrowerContributedUsd: Float64Array;
  /** Debt-asset units the borrower borrowed and took out of the system (a manipulator's loan), for cohorts.arrow. */
  readonly borrowerTakenOutQty: Float64Array;
  /** Event id of the margin call that opened the borrower's current episode under its call level, -1 if none. */
  readonly borrowerCallEvent: Int32Array;
  /** Manipulators (-1 / 0 for everyone else): step of the pump, cash for it, share of the LTV limit then borrowed, cohort index among manipulator cohorts. */
  readonly borrowerPumpStep: Int32Array;
  readonly borrowerPumpUsd: Float64Array;
  readonly borrowerBorrowShare: Float64Array;
  readonly borrowerManipulator: Int32Array;
  /** Manipulator cohort ids (attribution origins, indexed by borrowerManipulator). */
  readonly manipulatorIds: string[];
  readonly callHealthFactor: Float64Array;
  readonly topUpProbability: Float64Array;
  readonly deleverageProbability: Float64Array;

  // ---- liquidators
  readonly nLiquidators: number;
  readonly liquidatorMarket: Int32Array;
  readonly liquidatorCashHolder: Int32Array;
  /** Each keeper's cohort code and its cash at step 0 (cohorts.arrow). */
  readonly liquidatorCohort: Int32Array;
  readonly liquidatorInitialCashUsd: Float64Array;
  /** Unit-ledger holder of liquidator k's inventory of reserve r: liquidatorInventoryStart[k] + (r − first reserve of its market). */
  readonly liquidatorInventoryStart: Int32Array;
  readonly marketFirstReserve: Int32Array;

  /**
   * Direct exposures: insurance fund exposureFund[e] holds exposureShare[e] of reserve
   * exposureReserve[e]'s deposits; its losses are recorded at protocol exposureProtocol[e] (the first
   * protocol the fund backs, -1 if none).
   */
  /** Governance token of each market (-1 none), the most it may still mint, units. */
  readonly governanceAsset: Int32Array;
  readonly governanceMintLeft: Float64Array;
  /**
   * Units of its governance token each market has minted, kept apart from the unit ledger's own count
   * so that the invariants can tell a mint at another site (src/engine/invariants.ts).
   */
  readonly governanceMinted: Float64Array;
  readonly nExposures: number;
  readonly exposureFund: Int32Array;
  readonly exposureReserve: Int32Array;
  readonly exposureShare: Float64Array;
  readonly exposureProtocol: Int32Array;
  readonly units: UnitLedger;
  /** Unit-ledger holder of the outside market of each asset (counterparty of spot trades). */
  readonly externalUnitHolder: Int32Array;
  /** USD ledger holder of the outside market's cash. */
  readonly externalCashHolder: number;

  // ---- scratch (no allocation in the step loop)
  readonly queue: Int32Array;
  readonly queueKey: Float64Array;
  readonly quote: LiquidationQuote;
}

/** What buildLending needs from the world being built, and what it gives back for the USD ledger. */
export interface LendingBuild {
  state: LendingState;
  /** Initial balances of the USD holders it appended (from usdHolderStart on). */
  usdInitial: number[];
  /** Unit-ledger holder of the first of the `held` holdings (the rest follow in order). */
  heldHolderStart: number;
}

/** Unit-ledger holder of borrower b's collateral (holders 0 … nBorrowers − 1). */
export function collateralHolder(b: number): number {
  return b;
}

/**
 * Builds the lending markets. Draws borrowers on the `init` stream after every perp account was
 * drawn, so adding a lending market never changes who holds what on the exchanges.
 */
export function buildLending(
  exp: Experiment,
  graph: DependencyGraph,
  init: Stream,
  nExchanges: number,
  initialPrice: Float64Array,
  usdHolderStart: number,
  held: readonly { asset: number; qty: number }[] = [],
): LendingBuild {
  const s = exp.scenario;
  const nAssets = s.assets.length;
  const markets = s.lendingMarkets;
  const nMarkets = markets.length;
  const marketFirstReserve = new Int32Array(nMarkets + 1);
  markets.forEach((l, i) => (marketFirstReserve[i + 1] = marketFirstReserve[i]! + l.reserves.length));
  const nReserves = marketFirstReserve[nMarkets]!;
  const reserveMarket = new Int32Array(nReserves);
  const reserveAsset = new Int32Array(nReserves);
  const reserveOracle = new Int32Array(nReserves);
  const ltv = new Float64Array(nReserves);
  const liquidationThreshold = new Float64Array(nReserves);
  const liquidationBonus = new Float64Array(nReserves);
  const protocolFee = new Float64Array(nReserves);
  const supplyQty = new Float64Array(nReserves);
  markets.forEach((l, i) =>
    l.reserves.forEach((r, k) => {
      const g = marketFirstReserve[i]! + k;
      reserveMarket[g] = i;
      reserveAsset[g] = denseId(graph, 'asset', r.asset);
      reserveOracle[g] = denseId(graph, 'oracle', r.oracle);
      ltv[g] = r.ltv;
      liquidationThreshold[g] = r.liquidationThreshold;
      liquidationBonus[g] = r.liquidationBonus;
      protocolFee[g] = r.liquidationProtocolFee;
      supplyQty[g] = r.supplyUsd / initialPrice[reserveAsset[g]!]!;
    }),
  );
  const reserveOf = (market: number, asset: string) =>
    marketFirstReserve[market]! + markets[market]!.reserves.findIndex((r) => r.asset === asset);

  // Borrowers and liquidators, cohort by cohort.
  const b = { market: [] as number[], cohort: [] as number[], coll: [] as number[], debt: [] as number[], collQty: [] as number[], debtQty: [] as number[], wallet: [] as number[], equity: [] as number[] };
  const liq = { market: [] as number[], cash: [] as number[], cohort: [] as number[] };
  const nCohorts = s.traders.length;
  const callHealthFactor = new Float64Array(nCohorts);
  const topUpProbability = new Float64Array(nCohorts);
  const deleverageProbability = new Float64Array(nCohorts);
  const borrowed = new Float64Array(nReserves);
  const pump = { step: [] as number[], usd: [] as number[], share: [] as number[], cohort: [] as number[] };
  const manipulatorIds: string[] = [];
  s.traders.forEach((c) => {
    if (c.kind !== 'looper' && c.kind !== 'lendingLiquidator' && c.kind !== 'manipulator') return;
    const li = denseId(graph, 'protocol', c.lendingMarket) - nExchanges;
    const ci = denseId(graph, 'cohort', c.id);
    if (c.kind === 'lendingLiquidator') {
      for (let k = 0; k < c.count; k++) {
        liq.market.push(li);
        liq.cash.push(c.cashUsd);
        liq.cohort.push(ci);
      }
      return;
    }
    if (c.kind === 'manipulator') {
      // Deposits the token (no debt yet) and holds the cash it will pump the venue market with.
      const cr = reserveOf(li, c.collateral);
      const dr = reserveOf(li, c.debt);
      const m = manipulatorIds.length;
      manipulatorIds.push(c.id);
      for (let k = 0; k < c.count; k++) {
        b.market.push(li);
        b.cohort.push(ci);
        b.coll.push(cr);
        b.debt.push(dr);
        b.collQty.push(c.depositUsd / initialPrice[reserveAsset[cr]!]!);
        b.debtQty.push(0);
        b.wallet.push(c.pumpUsd);
        b.equity.push(c.depositUsd);
        pump.step.push(c.pumpAtStep);
        pump.usd.push(c.pumpUsd);
        pump.share.push(c.borrowShareOfLimit);
        pump.cohort.push(m);
      }
      return;
    }
    callHealthFactor[ci] = c.healthCall.callBelowHealthFactor;
    topUpProbability[ci] = c.healthCall.topUpProbability;
    deleverageProbability[ci] = c.healthCall.deleverageProbability;
    const cr = reserveOf(li, c.collateral);
    const dr = reserveOf(li, c.debt);
    const collPrice = initialPrice[reserveAsset[cr]!]!;
    const debtPrice = initialPrice[reserveAsset[dr]!]!;
    // Strictly under the LTV limit: a loop at exactly 1/(1 − ltv) could not have been borrowed.
    const maxLeverage = (1 / (1 - ltv[cr]!)) * (1 - 1e-9);
    for (let k = 0; k < c.count; k++) {
      const equity = drawDistribution(init, c.equityUsd);
      const target = Math.min(drawDistribution(init, c.leverage), maxLeverage);
      const wallet = drawDistribution(init, c.walletUsd);
      const loop = loopPosition(equity, target, ltv[cr]!, liquidationThreshold[cr]!);
      b.market.push(li);
      b.cohort.push(ci);
      b.coll.push(cr);
      b.debt.push(dr);
      b.collQty.push(loop.collateralUsd / collPrice);
      b.debtQty.push(loop.debtUsd / debtPrice);
      b.wallet.push(wallet);
      b.equity.push(equity);
      pump.step.push(-1);
      pump.usd.push(0);
      pump.share.push(0);
      pump.cohort.push(-1);
      borrowed[dr] = borrowed[dr]! + loop.debtUsd / debtPrice;
    }
  });
  // Borrowers draw on lenders' deposits: a loop the pool cannot fund is a configuration error.
  for (let r = 0; r < nReserves; r++) {
    if (borrowed[r]! > supplyQty[r]! * (1 + 1e-12)) {
      const l = reserveMarket[r]!;
      const k = r - marketFirstReserve[l]!;
      const asset = markets[l]!.reserves[k]!;
      throw new ExperimentError('scenario', [
        {
          path: `scenario.lendingMarkets.${l}.reserves.${k}.supplyUsd`,
          value: asset.supplyUsd,
          message: `the loopers of "${markets[l]!.id}" borrow ${(borrowed[r]! * initialPrice[reserveAsset[r]!]!).toFixed(0)} USD of ${asset.asset} at step 0: expected a supply at least that large`,
        },
      ]);
    }
  }

  const nBorrowers = b.market.length;
  const nLiquidators = liq.market.length;
  // Unit holders: borrower collateral, reserve liquidity, reserve treasury, liquidator inventory, outside
  // market, then the units held outside the lending markets (`held`: perp collateral, arbitrageurs).
  const liquidityStart = nBorrowers;
  const treasuryStart = liquidityStart + nReserves;
  const inventoryStart = treasuryStart + nReserves;
  const liquidatorInventoryStart = new Int32Array(nLiquidators);
  let nInventory = 0;
  for (let k = 0; k < nLiquidators; k++) {
    liquidatorInventoryStart[k] = inventoryStart + nInventory;
    const l = liq.market[k]!;
    nInventory += marketFirstReserve[l + 1]! - marketFirstReserve[l]!;
  }
  const externalStart = inventoryStart + nInventory;
  const heldHolderStart = externalStart + nAssets;
  const nUnitHolders = heldHolderStart + held.length;
  const unitQty = new Float64Array(nUnitHolders);
  const holderAsset = new Int32Array(nUnitHolders);
  for (let i = 0; i < nBorrowers; i++) {
    unitQty[i] = b.collQty[i]!;
    holderAsset[i] = reserveAsset[b.coll[i]!]!;
  }
  const liquidityHolder = new Int32Array(nReserves);
  const treasuryHolder = new Int32Array(nReserves);
  for (let r = 0; r < nReserves; r++) {
    liquidityHolder[r] = liquidityStart + r;
    treasuryHolder[r] = treasuryStart + r;
    unitQty[liquidityStart + r] = supplyQty[r]! - borrowed[r]!;
    holderAsset[liquidityStart + r] = reserveAsset[r]!;
    holderAsset[treasuryStart + r] = reserveAsset[r]!;
  }
  for (let k = 0; k < nLiquidators; k++) {
    const l = liq.market[k]!;
    for (let r = marketFirstReserve[l]!; r < marketFirstReserve[l + 1]!; r++) {
      holderAsset[liquidatorInventoryStart[k]! + r - marketFirstReserve[l]!] = reserveAsset[r]!;
    }
  }
  held.forEach((h, k) => {
    unitQty[heldHolderStart + k] = h.qty;
    holderAsset[heldHolderStart + k] = h.asset;
  });
  const externalUnitHolder = new Int32Array(nAssets);
  for (let a = 0; a < nAssets; a++) {
    externalUnitHolder[a] = externalStart + a;
    holderAsset[externalStart + a] = a;
  }

  // USD holders: liquidator cash, borrower wallets, market recovery, outside market cash.
  const usdInitial: number[] = [];
  const liquidatorCashHolder = new Int32Array(nLiquidators);
  for (let k = 0; k < nLiquidators; k++) {
    liquidatorCashHolder[k] = usdHolderStart + usdInitial.length;
    usdInitial.push(liq.cash[k]!);
  }
  const borrowerWallet = new Int32Array(nBorrowers);
  for (let i = 0; i < nBorrowers; i++) {
    borrowerWallet[i] = usdHolderStart + usdInitial.length;
    usdInitial.push(b.wallet[i]!);
  }
  const marketRecoveryHolder = new Int32Array(nMarkets);
  for (let l = 0; l < nMarkets; l++) {
    marketRecoveryHolder[l] = usdHolderStart + usdInitial.length;
    usdInitial.push(0);
  }
  const externalCashHolder = usdHolderStart + usdInitial.length;
  usdInitial.push(0);

  const state: LendingState = {
    nMarkets,
    marketProtocol: Int32Array.from(markets, (_, l) => nExchanges + l),
    marketFund: Int32Array.from(markets, (l) => denseId(graph, 'fund', l.safetyModule)),
    rules: markets.map((l) => ({
      closeFactor: l.liquidation.closeFactor,
      fullCloseHealthFactor: l.liquidation.fullCloseHealthFactor,
      minBaseMaxCloseFactorUsd: l.liquidation.minBaseMaxCloseFactorUsd,
      minLeftoverBaseUsd: l.liquidation.minLeftoverBaseUsd,
    })),
    maxRoundsPerStep: Int32Array.from(markets, (l) => l.liquidation.maxRoundsPerStep),
    marketRecoveryHolder,
    nReserves,
    reserveMarket,
    reserveAsset,
    reserveOracle,
    ltv,
    liquidationThreshold,
    liquidationBonus,
    protocolFee,
    supplyQty,
    deficitQty: new Float64Array(nReserves),
    liquidityHolder,
    treasuryHolder,
    nBorrowers,
    borrowerMarket: Int32Array.from(b.market),
    borrowerCohort: Int32Array.from(b.cohort),
    borrowerStatus: new Uint8Array(nBorrowers),
    borrowerCollReserve: Int32Array.from(b.coll),
    borrowerDebtReserve: Int32Array.from(b.debt),
    borrowerDebtQty: Float64Array.from(b.debtQty),
    borrowerWallet,
    borrowerContributedUsd: Float64Array.from(b.equity),
    borrowerTakenOutQty: new Float64Array(nBorrowers),
    borrowerCallEvent: new Int32Array(b.market.length).fill(-1),
    borrowerPumpStep: Int32Array.from(pump.step),
    borrowerPumpUsd: Float64Array.from(pump.usd),
    borrowerBorrowShare: Float64Array.from(pump.share),
    borrowerManipulator: Int32Array.from(pump.cohort),
    manipulatorIds,
    callHealthFactor,
    topUpProbability,
    deleverageProbability,
    nLiquidators,
    liquidatorMarket: Int32Array.from(liq.market),
    liquidatorCashHolder,
    liquidatorCohort: Int32Array.from(liq.cohort),
    liquidatorInitialCashUsd: Float64Array.from(liq.cash),
    liquidatorInventoryStart,
    marketFirstReserve,
    governanceAsset: Int32Array.from(markets, (l) => (l.governanceToken ? denseId(graph, 'asset', l.governanceToken.asset) : -1)),
    governanceMintLeft: Float64Array.from(markets, (l) => l.governanceToken?.maxMintQty ?? Infinity),
    governanceMinted: new Float64Array(nMarkets),
    nExposures: s.exposures.length,
    exposureFund: Int32Array.from(s.exposures, (x) => denseId(graph, 'fund', x.fund)),
    exposureReserve: Int32Array.from(s.exposures, (x) => reserveOf(denseId(graph, 'protocol', x.lendingMarket) - nExchanges, x.asset)),
    exposureShare: Float64Array.from(s.exposures, (x) => {
      const l = denseId(graph, 'protocol', x.lendingMarket) - nExchanges;
      return x.amountUsd / markets[l]!.reserves.find((r) => r.asset === x.asset)!.supplyUsd;
    }),
    exposureProtocol: Int32Array.from(s.exposures, (x) => {
      const ex = s.exchanges.findIndex((e) => e.insuranceFund === x.fund);
      if (ex >= 0) return ex;
      const l = markets.findIndex((m) => m.safetyModule === x.fund);
      return l >= 0 ? nExchanges + l : -1;
    }),
    units: new UnitLedger(unitQty, holderAsset, nAssets),
    externalUnitHolder,
    externalCashHolder,
    queue: new Int32Array(nBorrowers),
    queueKey: new Float64Array(nBorrowers),
    quote: createLiquidationQuote(),
  };
  return { state, usdInitial, heldHolderStart };
}
