// One run of an experiment: build the world from the dependency graph and the replicate's seeds,
// step it, check the invariants, and summarise. Pure computation: no I/O.
import type { Experiment } from '../experiment/schema.ts';
import { deriveSeed, Streams } from '../experiment/seeds.ts';
import type { DependencyGraph } from '../graph/build.ts';
import { buildWorld, Status, type World, type WorldOptions } from '../model/world.ts';
import { accountValueUsd, markAccount } from './accounts.ts';
import type { MarginChecks } from './marginIndex.ts';
import { checkInvariants } from './invariants.ts';
import { installHolderChecks } from './holders.ts';
import { InvariantError } from '../experiment/errors.ts';
import type { RunResult, RunSummary } from './record.ts';
import { step } from './step.ts';
import { accountLossesUsd, cohortTable, gini, median, quantileOf } from './fairness.ts';
import { attribute, causeChainDepth } from './attribution.ts';
import { lendingInsolventDebtUsd } from './phases/lending.ts';
import { checkBalanceSheet } from './participants.ts';

export interface SimulateOptions {
  /** Check every invariant after every step (else once at the end). */
  check: boolean;
  /** The sweep point this run belongs to (0 without a sweep). */
  pointIndex?: number;
  /** Mix the point into the seeds (independent samples per point instead of common random numbers). */
  independentPoints?: boolean;
  /** How margin checks find accounts: 'event' (default, the margin index) or 'every-step'. Same results. */
  marginChecks?: MarginChecks;
}

/**
 * Seeds of replicate r. By default the same at every point of a sweep (common random numbers);
 * with `point` given, the point is mixed in and every point gets independent draws.
 */
export function replicateSeeds(experimentSeed: number, replicate: number, point?: number) {
  return {
    replicate: deriveSeed(experimentSeed, replicate, Streams.replicate, point),
    prices: deriveSeed(experimentSeed, replicate, Streams.prices, point),
    behaviour: deriveSeed(experimentSeed, replicate, Streams.behaviour, point),
    init: deriveSeed(experimentSeed, replicate, Streams.init, point),
    lendingBehaviour: deriveSeed(experimentSeed, replicate, Streams.lendingBehaviour, point),
  };
}

/** Builds the world of replicate r (exposed for tests and notebooks). */
export function worldFor(exp: Experiment, graph: DependencyGraph, replicate: number, seedPoint?: number, opts: WorldOptions = {}): World {
  return buildWorld(exp, graph, replicateSeeds(exp.seed, replicate, seedPoint), opts);
}

/** Runs replicate r to the end and returns its tables and summary. */
export function simulateRun(exp: Experiment, graph: DependencyGraph, replicate: number, opts: SimulateOptions): RunResult {
  const pointIndex = opts.pointIndex ?? 0;
  const seedPoint = opts.independentPoints ? pointIndex : undefined;
  const w = worldFor(exp, graph, replicate, seedPoint, { marginChecks: opts.marginChecks });
  runWorld(w, opts.check);
  const cohorts = cohortTable(w);
  // The rows of cohorts.arrow must be the whole balance sheet: a run that loses a dollar stops here.
  checkBalanceSheet(w, cohorts);
  return {
    pointIndex,
    replicate,
    seed: replicateSeeds(exp.seed, replicate, seedPoint).replicate,
    steps: w.stepTable,
    prices: w.priceTable,
    events: w.events,
    accountCohort: eventAccountCohort(w),
    attribution: attribute(w),
    cohorts,
    summary: summarize(w),
  };
}

/** Cohort of every event account id: perp accounts, then lending borrowers (id nAccounts + b). */
export function eventAccountCohort(w: World): Int32Array {
  const L = w.lending;
  // (Int32: the engine keeps 16-bit codes; the results carry Int32 arrays.)
  const out = new Int32Array(w.nAccounts + L.nBorrowers);
  out.set(w.accountCohort);
  out.set(L.borrowerCohort, w.nAccounts);
  return out;
}

/** Steps a built world through all its steps. */
export function runWorld(w: World, check: boolean): void {
  // --check also proves, at every mark, that the margin index skipped no account it should have looked at.
  w.marginIndex.verify = check;
  // Ledger errors name holders by role; --check also holds every transfer to the flow rules.
  installHolderChecks(w, check);
  for (let s = 0; s < w.steps; s++) {
    w.step = s;
    try {
      step(w);
    } catch (e) {
      // The ledger does not know the step; say where the run stopped.
      if (e instanceof InvariantError && e.step < 0) throw new InvariantError(e.detail, s, e.where);
      throw e;
    }
    if (check) {
      checkInvariants(w);
      // Under --check the balance sheet too, so that a dollar in no row stops the run at the step that lost it.
      checkBalanceSheet(w, cohortTable(w));
    }
  }
  if (!check) checkInvariants(w);
}

function sum(a: Float64Array | Int32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]!;
  return s;
}

/**
 * Σ over perp accounts still open at the end of max(0, −equity) at mark, USD: losses not booked as bad
 * debt — positions the liquidation engine had not closed yet (no room in the book within its price
 * band, no winner to deleverage). Until session 20 also the negative cash of flat accounts that had
 * closed themselves under water answering a margin call (design decision 40; property e2 now checks
 * that none is left).
 */
export function perpInsolventUsd(w: World): number {
  let sum = 0;
  for (let a = 0; a < w.nAccounts; a++) {
    if (w.accountStatus[a] !== Status.active) continue;
    const equity = markAccount(w, a);
    if (equity < 0) sum -= equity;
  }
  return sum;
}

/** The run's summary metrics (one row of runs.arrow). */
export function summarize(w: World): RunSummary {
  const t = w.totals;
  let worst = 0;
  for (let a = 1; a < w.nAssets; a++) if (w.maxDrawdownMarket[a]! > w.maxDrawdownMarket[worst]!) worst = a;
  const marketDd = w.maxDrawdownMarket[worst]!;
  const fundamentalDd = w.maxDrawdownFundamental[worst]!;
  // Protocols that defaulted (a loss past their insurance: a `default` event), lending markets
  // included since schema 7 (before, exchanges that socialized or left a loss uncovered).
  let insolvent = 0;
  for (let p = 0; p < w.nProtocols; p++) insolvent += w.protocolDefaulted[p]!;
  let fundMin = Infinity;
  for (let f = 0; f < w.nFunds; f++) fundMin = Math.min(fundMin, w.fundMinUsd[f]!);
  let fundRequired = 0;
  for (let f = 0; f < w.nFunds; f++) fundRequired = Math.max(fundRequired, w.fundRequiredUsd[f]!);
  return {
    totalBadDebtUsd: sum(t.badDebtUsd),
    insuranceFundMinUsd: fundMin,
    insuranceFundDepletionStep: w.fundDepletionStep,
    fundPayoutUsd: sum(t.fundPayoutUsd),
    adlVolumeUsd: sum(t.adlVolumeUsd),
    adlCount: sum(t.adlCount),
    adlAbsorbedUsd: sum(t.adlAbsorbedUsd),
    socializedLossUsd: sum(t.socializedLossUsd),
    uncoveredBadDebtUsd: sum(t.uncoveredBadDebtUsd),
    insolventDebtUsd: lendingInsolventDebtUsd(w) + perpInsolventUsd(w),
    exposureLossUsd: sum(t.exposureLossUsd),
    liquidationCount: sum(t.liquidations),
    liquidationVolumeUsd: sum(t.liquidationVolumeUsd),
    backstopVolumeUsd: sum(t.backstopVolumeUsd),
    marginCalls: sum(t.marginCalls),
    maxCascadeDepth: w.maxCascadeDepth,
    causeChainDepth: causeChainDepth(w),
    maxMarketDrawdown: marketDd,
    fundamentalDrawdown: fundamentalDd,
    drawdownAmplification: fundamentalDd > 0 ? marketDd / fundamentalDd : NaN,
    insolventProtocols: insolvent,
    stressSteps: w.stressSteps,
    adlHitMedianLeverage: median(w.fairness.adlLeverage),
    liquidatedMedianLeverage: median(w.fairness.liquidatedLeverage),
    adlHitP95Leverage: quantileOf(w.fairness.adlLeverage, 0.95),
    liquidatedP95Leverage: quantileOf(w.fairness.liquidatedLeverage, 0.95),
    lossGini: gini(accountLossesUsd(w)),
    totalValueUsd: w.ledger.totalUsd(),
    ledgerErrorUsd: w.ledger.errorUsd(),
    insuranceFundRequiredUsd: fundRequired,
    ...arbitrageSummary(w),
    ...stableSummary(w),
    fundingLongsPaidUsd: sum(w.fundingLongsPaidUsd),
    backstopVaultPnlUsd: vaultPnlUsd(w),
  };
}

/**
 * Σ over the exchanges' backstop vaults of what each holds at the final marks less what it put in — its
 * capital: a vault has no wallet to top up from (accountValueUsd − accountContributedUsd, as in
 * cohorts.arrow), USD.
 */
function vaultPnlUsd(w: World): number {
  let pnl = 0;
  for (let x = 0; x < w.nExchanges; x++) {
    const v = w.exchangeVaultAccount[x]!;
    if (v >= 0) pnl += accountValueUsd(w, v) - w.accountContributedUsd[v]!;
  }
  return pnl;
}

/** What the algorithmic stables' runs sold, their swaps redeemed and minted, what their holders lost, and how low they traded. */
function stableSummary(w: World): Pick<RunSummary, 'stableRunSoldUsd' | 'stableRedeemedUsd' | 'stableHolderLossUsd' | 'collateralHolderLossUsd' | 'stableMinPriceShare' | 'collateralSupplyMultiple'> {
  const S = w.stables;
  let sold = 0;
  let redeemed = 0;
  let holderLoss = 0;
  let collateralLoss = 0;
  let minShare = NaN;
  let multiple = NaN;
  for (let k = 0; k < S.n; k++) {
    sold += S.runSoldUsd[k]!;
    redeemed += S.redeemedUsd[k]!;
    const stillHeld = w.units.qty[S.holderUnits[k]!]! * w.market[S.asset[k]!]!;
    holderLoss += S.supply0[k]! * S.faceUsd[k]! - S.runSoldUsd[k]! - stillHeld;
    const c = S.collateral[k]!;
    const collateralHeld = w.units.qty[S.collateralHolderUnits[k]!]! * w.market[c]!;
    collateralLoss += S.collateralSupply0[k]! * S.collateralInitialPrice[k]! - w.ledger.balance[S.collateralHolderCash[k]!]! - collateralHeld;
    minShare = k === 0 ? S.minMarketShare[k]! : Math.min(minShare, S.minMarketShare[k]!);
    const m = (S.collateralSupply0[k]! + S.collateralMinted[k]!) / S.collateralSupply0[k]!;
    multiple = k === 0 ? m : Math.max(multiple, m);
  }
  return { stableRunSoldUsd: sold, stableRedeemedUsd: redeemed, stableHolderLossUsd: holderLoss, collateralHolderLossUsd: collateralLoss, stableMinPriceShare: minShare, collateralSupplyMultiple: multiple };
}

/** What the arbitrageurs traded, earned and kept (src/engine/phases/arbitrage.ts). */
function arbitrageSummary(w: World): Pick<RunSummary, 'arbitrageVolumeUsd' | 'arbitrageurPnlUsd' | 'arbitrageurMinCashShare'> {
  const A = w.arbitrage;
  let volume = 0;
  let pnl = 0;
  for (let k = 0; k < A.n; k++) {
    volume += A.boughtUsd[k]! + A.soldUsd[k]!;
    const held = w.units.qty[A.unitHolder[k]!]! * w.market[A.asset[k]!]!;
    pnl += w.ledger.balance[A.cashHolder[k]!]! + held - A.initialCashUsd[k]! - A.initialInventoryUsd[k]!;
  }
  return { arbitrageVolumeUsd: volume, arbitrageurPnlUsd: pnl, arbitrageurMinCashShare: A.minCashShare };
}
