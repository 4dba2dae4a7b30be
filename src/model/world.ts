// The state of one run as struct-of-arrays: one typed array per field, indexed by dense ids that
// the dependency graph assigns (assets, oracles, protocols, funds, cohorts) or that the builder
// assigns in a fixed order (markets, accounts, positions, ledger holders). The step loop reads and
// writes these arrays only; no per-account objects exist.
import { withStableShape } from './shape.ts';
import { buildLending, type LendingState } from './lending.ts';
import { arbitrageurInventory, buildArbitrage, type ArbitrageState } from './arbitrage.ts';
import { buildStables, STABLE_CASH_HOLDERS, stableUnits, type StableState } from './algorithmicStable.ts';
import { buildOptionSeries, packOptionPositions, yearsToExpiry, type OptionDraft, type OptionSeries, type OptionState } from './optionState.ts';
import { blackScholes } from './options.ts';
import type { UnitLedger } from '../engine/unitLedger.ts';
import type { Experiment } from '../experiment/schema.ts';
import { delistedMarkets, effectiveMarginModel, isLendingCohort } from '../experiment/kinds.ts';
import type { DependencyGraph } from '../graph/build.ts';
import { denseId } from '../graph/build.ts';
import { cholesky } from './cholesky.ts';
import { Ledger } from '../engine/ledger.ts';
import { MarginIndex, type MarginChecks } from '../engine/marginIndex.ts';
import { AdlQueues } from '../engine/adlQueue.ts';
import { exactly, grown, listStart } from './typedArrays.ts';
import { EventLog, PriceTable, StepTable } from '../engine/record.ts';
import { drawDistribution, makeStream, type Stream } from './random.ts';
import { requirementUsd } from './margin.ts';

/** What an account is for. */
export const Role = { directional: 0, marketMaker: 1, liquidator: 2, vault: 3 } as const;
/** Accounts are never deleted: a status says where they are in their life. */
export const Status = { active: 0, liquidated: 1, bankrupt: 2 } as const;
export const ImpactCode = { linear: 0, sqrt: 1, exponential: 2 } as const;
export const LiquidationMode = { partial: 0, full: 1 } as const;
/** ADL counterparty selection (see settleLosses.autoDeleverage). */
/** Oracle source codes. */
export const OracleSource = { market: 0, fundamental: 1, venue: 2 } as const;
/** What an exchange's funding premium is measured against (schema: funding.indexPrice). */
export const FundingIndexPrice = { fundamental: 0, 'after-permanent-impact': 1, oracle: 2 } as const;
export const DerivedKind = { none: 0, liquidStaking: 1, bridged: 2, vaultShare: 3, syntheticDollar: 4, algorithmicStable: 5 } as const;
export const AdlRanking = { 'pnl-leverage': 0, 'random-start': 1, 'pro-rata': 2, 'risk-pro-rata': 3, none: 4 } as const;

const SECONDS_PER_YEAR = 365 * 24 * 3600;

/** Per-step totals per protocol, reset at the start of every step. */
export interface StepAccumulators {
  marginCalls: Int32Array;
  liquidations: Int32Array;
  liquidationVolumeUsd: Float64Array;
  backstopVolumeUsd: Float64Array;
  badDebtUsd: Float64Array;
  fundPayoutUsd: Float64Array;
  adlVolumeUsd: Float64Array;
  socializedLossUsd: Float64Array;
  uncoveredBadDebtUsd: Float64Array;
  /** Bad debt borne by auto-deleveraged winners (closed at the bankruptcy price, not mark). */
  adlAbsorbedUsd: Float64Array;
  adlCount: Int32Array;
  cascadeRounds: Int32Array;
  /** Losses of the protocol's insurance fund through its deposits in other protocols (direct exposure). */
  exposureLossUsd: Float64Array;
}

export interface World {
  readonly steps: number;
  readonly stepSeconds: number;
  /** Current step (0-based) and cascade round, for event records. */
  step: number;
  round: number;
  /**
   * True when a trade or a margin withdrawal happened since the last full markToMarket (the stored marks, or
   * the list of accounts they looked at, may be stale): the first liquidation round marks again.
   */
  marksStale: boolean;
  /**
   * Advanced whenever prices, funding, margin multipliers or option marks may have changed (every
   * phase, every oracle refresh): an account's stored marks from the current epoch, untouched since,
   * are what marking it again would compute (accounts.markAccount).
   */
  markEpoch: number;
  /**
   * The current epoch's stamp, 1…255: what ledger.markStamp holds for an account whose marks are from
   * this epoch (one byte per account instead of a 32-bit epoch). After 255 it starts again at 1 and
   * every stamp is cleared, so no stamp from an earlier lap can pass for a current one.
   */
  markStampNow: number;

  // ---- assets
  readonly nAssets: number;
  readonly assetSymbols: string[];
  readonly initialPrice: Float64Array;
  /** Exogenous price, USD. */
  readonly fundamental: Float64Array;
  /** fundamental × impact factor, USD. */
  readonly market: Float64Array;
  readonly impactModel: Uint8Array;
  readonly impactCoefficient: Float64Array;
  /** Market depth now: baseDepthUsd × the current regime's depthMultiplier (set at a switch). */
  readonly depthUsd: Float64Array;
  /** assets[].market.depthUsd, the depth at multiplier 1. */
  readonly baseDepthUsd: Float64Array;
  readonly permanentShare: Float64Array;
  /** Multiplier applied to the temporary impact each step: 0.5^(stepSeconds / half-life). */
  readonly temporaryDecayPerStep: Float64Array;
  /** Net sold share of depth that never decays / that decays (positive = net selling). */
  readonly impactPermanent: Float64Array;
  readonly impactTemporary: Float64Array;
  /** Net USD sold into each asset's market since the last fundamental update (buys negative). */
  readonly soldUsdThisStep: Float64Array;
  /** Derived assets: the underlying asset (-1 for an exogenous asset) and the peg (underlying per token). */
  readonly derivedUnderlying: Int32Array;
  readonly peg: Float64Array;
  /** DerivedKind code per asset (0 = exogenous) and, for bridged tokens, their bridge. */
  readonly derivedKind: Uint8Array;
  readonly derivedBridge: Int32Array;
  /** Tokens backed by an account's equity (vault shares, synthetic dollars): the account, the supply, and for synthetic dollars whether redeemable and the confidence discount. */
  readonly derivedAccount: Int32Array;
  readonly derivedSupply: Float64Array;
  readonly derivedRedeemable: Uint8Array;
  readonly derivedConfidenceDiscount: Float64Array;
  /** Bridges: scripted failure step (-1 none), chance per step (NaN none), recovery, state, failure event. */
  readonly nBridges: number;
  readonly bridgeFailAtStep: Int32Array;
  readonly bridgeFailProbability: Float64Array;
  readonly bridgeRecoveryFraction: Float64Array;
  readonly bridgeFailed: Uint8Array;
  readonly bridgeEventId: Int32Array;
  /** Peg when the last depeg event was recorded (or its high since). */
  readonly pegAtLastEvent: Float64Array;
  /** Peg dynamics of liquid-staking tokens (see src/model/derived.ts nextPeg). */
  readonly pegReversionPerStep: Float64Array;
  readonly pegVolPerStep: Float64Array;
  readonly pegStressDiscount: Float64Array;
  readonly pegPressureImpact: Float64Array;
  /** Log-price drift per step, including the Itô and jump compensators. */
  readonly driftPerStep: Float64Array;
  /** σ·√dt per asset. */
  readonly volPerStep: Float64Array;
  readonly jumpLambdaPerStep: Float64Array;
  readonly jumpMean: Float64Array;
  readonly jumpStd: Float64Array;
  /**
   * Replayed price paths (assets[].pricePath): asset a's series from its fromRow is
   * replayPrices[replayStart[a]] …; replayStart[a] = −1 for an asset that diffuses.
   */
  readonly replayStart: Int32Array;
  readonly replayPrices: Float64Array;
  /** Per asset: the `shock` event its replayed path starts with (the origin of its moves), −1 before or none. */
  readonly replayEventId: Int32Array;
  /** 0 calm, 1 stress. */
  regime: number;
  /** Event id of the latest regime switch, -1 before any. */
  regimeEvent: number;
  readonly choleskyByRegime: [Float64Array, Float64Array];
  readonly volMultiplier: Float64Array;
  readonly jumpMultiplier: Float64Array;
  /** Per regime: the multiple of baseDepthUsd every shared market has (Regime.depthMultiplier). */
  readonly depthMultiplier: Float64Array;
  readonly switching: {
    kind: 'none' | 'markov' | 'scripted';
    calmToStressPerStep: number;
    stressToCalmPerStep: number;
    toStressAtStep: number;
    toCalmAtStep: number;
  };
  readonly peakMarket: Float64Array;
  readonly maxDrawdownMarket: Float64Array;
  readonly peakFundamental: Float64Array;
  readonly maxDrawdownFundamental: Float64Array;
  /** Scratch for independent normals, one per asset. */
  readonly normals: Float64Array;

  // ---- shocks
  readonly nShocks: number;
  readonly shockIds: string[];
  readonly shockAsset: Int32Array;
  /** Gross return applied per step: (1 + totalReturn)^(1/overSteps). */
  readonly shockFactorPerStep: Float64Array;
  readonly shockStartStep: Int32Array;
  readonly shockEndStep: Int32Array;
  /** Event id of the shock's start event in this run, -1 before it starts. */
  readonly shockEventId: Int32Array;
  /**
   * The causes of what a price does next, by direction (engine/causes.ts; design decision 45): per
   * asset, the event id of the latest shock or depeg that moved its fundamental down / up, and of the
   * latest trade into its shared market (a liquidation's fill, a sale of seized collateral, a pump)
   * that moved it down / up; -1 if none. The latest in either direction is the larger of the two
   * (latestShock, latestTrade).
   */
  readonly assetShockDown: Int32Array;
  readonly assetShockUp: Int32Array;
  readonly assetTradeDown: Int32Array;
  readonly assetTradeUp: Int32Array;

  // ---- oracles
  readonly nOracles: number;
  readonly oracleAsset: Int32Array;
  /** OracleSource code: 0 market, 1 fundamental, 2 venue. */
  readonly oracleSource: Uint8Array;
  readonly oracleLag: Int32Array;
  readonly oraclePrice: Float64Array;
  /** Each oracle's price at the end of the previous step (Hyperliquid's ADL closes at the previous mark). */
  readonly oraclePrevPrice: Float64Array;
  /** Steps averaged into a reading (1 = spot). */
  readonly oracleTwapSteps: Int32Array;
  /** Push feeds: publish on a move of this fraction (0 = every step), or every heartbeat steps. */
  readonly oracleDeviation: Float64Array;
  readonly oracleHeartbeatSteps: Int32Array;
  /** Lowest price a feed reports (0 = none); step from which it stops updating (-1 = never). */
  readonly oracleFloorUsd: Float64Array;
  readonly oracleFreezeStep: Int32Array;
  /** The step from which oracle o's floor and freeze no longer apply (−1: never). */
  readonly oracleResumeStep: Int32Array;
  /**
   * Venue-local markets of oracles with source venue (OracleSource.venue): the venue's own thin book.
   * Local price = shared market price × g(permanent + temporary), g the impact curve; only trades on
   * that venue move it (src/engine/venueMarket.ts). lastTradeEvent: latest event that traded there.
   */
  readonly venueModel: Uint8Array;
  readonly venueCoefficient: Float64Array;
  readonly venueDepthUsd: Float64Array;
  readonly venuePermanentShare: Float64Array;
  readonly venueDecayPerStep: Float64Array;
  readonly venuePermanent: Float64Array;
  readonly venueTemporary: Float64Array;
  /** The latest trade on a venue book that moved it down / up (as assetTradeDown / Up). */
  readonly venueTradeDown: Int32Array;
  readonly venueTradeUp: Int32Array;
  /** Step of the last published update. */
  readonly oracleLastUpdateStep: Int32Array;
  /** Ring buffer of source prices, historyLength slots per oracle. */
  readonly oracleHistory: Float64Array;
  readonly historyLength: number;
  readonly assetFirstOracle: Int32Array;

  // ---- protocols: perp exchanges (ids 0 … nExchanges − 1), then lending markets
  readonly nExchanges: number;
  readonly exchangeIds: string[];
  readonly nProtocols: number;
  readonly protocolIds: string[];
  /** Chain of each protocol (-1 off-chain); per chain: liquidations allowed per step (-1 unlimited) and used this step. */
  readonly protocolChain: Int32Array;
  readonly chainCapacity: Int32Array;
  readonly chainUsed: Int32Array;
  /** 1 when the chain's capacity was used up in the previous step. */
  readonly chainCongested: Uint8Array;
  /** Exchanges' outages (scenario.exchanges[].outages): exchange, first step down, first step back. */
  readonly outageExchange: Int32Array;
  readonly outageFrom: Int32Array;
  readonly outageTo: Int32Array;
  /** 1 while the exchange is down this step (engine/chains.ts updateOutages). */
  readonly exchangeDown: Uint8Array;
  /**
   * Delistings (scenario.exchanges[].markets[].delisting), in market order: the market, the step, the
   * settlement price (0: the mark at that step; a given price is positive), and the id of its `delisting` event once it came (-1
   * before; the root of its settlements' losses in attribution.arrow).
   */
  readonly delistMarket: Int32Array;
  readonly delistStep: Int32Array;
  readonly delistPriceUsd: Float64Array;
  readonly delistEventId: Int32Array;
  /** Lending markets, their reserves, borrowers and liquidators (src/model/lending.ts). */
  readonly lending: LendingState;
  /** Option series, implied volatility and option positions (src/model/optionState.ts). */
  readonly options: OptionState;
  /** The arbitrageurs: cash, inventory and what they traded (src/model/arbitrage.ts). */
  readonly arbitrage: ArbitrageState;
  /** Algorithmic stables: supply, swap pool, run, holders and desks (src/model/algorithmicStable.ts). */
  readonly stables: StableState;
  /** True when any exchange lists options (keeps the option checks off the perp-only hot path). */
  readonly optionsListed: boolean;
  readonly exchangeFund: Int32Array;
  /**
   * Per market: its own insurance fund (dYdX v4 isolated markets), −1 when it has none. The fund that
   * backs an account is its market's own when every position slot of the account is in markets with
   * that one fund, else its exchange's (fundOf in engine/phases/settleLosses.ts; slots never move).
   */
  readonly marketFund: Int32Array;
  /** Venue rules (src/venues/): Hyperliquid's slices — above this notional (Infinity = off), this share per slice, then a cooldown. */
  readonly sliceAboveNotionalUsd: Float64Array;
  readonly sliceFraction: Float64Array;
  readonly sliceCooldownSteps: Int32Array;
  /**
   * First step after each account's slice cooldown (before it, its liquidations close whole
   * positions). Empty when no exchange slices: it is only read once a notional exceeds a finite
   * sliceAboveNotionalUsd.
   */
  readonly accountNextLiquidationStep: Int32Array;
  /** dYdX v4's fillable price per exchange: SMMR (0 = off) and the bankruptcy adjustment BA. */
  readonly fillableSmmr: Float64Array;
  readonly fillableBa: Float64Array;
  /** 1 when ADL closes at the previous step's mark (Hyperliquid) instead of the bankruptcy price. */
  readonly adlAtPreviousOracle: Uint8Array;
  /** Per market: the insurance fund's remaining room for this market's bankruptcies (Drift's cap; Infinity = none). */
  readonly marketClaimRoomUsd: Float64Array;
  /** Per market: 1 when it has a fee pool (Drift), a ledger holder at feePoolHolderStart + market. */
  readonly marketHasFeePool: Uint8Array;
  readonly feePoolHolderStart: number;
  /** Account id of the exchange's backstop vault, -1 if none. */
  readonly exchangeVaultAccount: Int32Array;
  readonly takeoverBelowMaintenanceShare: Float64Array;
  readonly liquidationMode: Uint8Array;
  /** 1 when the fund takes over a fully closed position at the bankruptcy price and keeps the margin left (Binance, BitMEX). */
  readonly liquidationTakeover: Uint8Array;
  /** AdlRanking code per exchange. */
  readonly adlRanking: Uint8Array;
  readonly penaltyFraction: Float64Array;
  readonly partialMinNotionalUsd: Float64Array;
  /** Book orders fill only while the marginal price is within this fraction of the mark. */
  readonly priceBandFraction: Float64Array;
  readonly maxRoundsPerStep: Int32Array;
  readonly fundingInterestPer8h: Float64Array;
  readonly fundingClampPer8h: Float64Array;
  readonly fundingCapPerHour: Float64Array;
  /** FundingIndexPrice code per exchange: what its funding premium is measured against. */
  readonly fundingIndexPrice: Uint8Array;
  /** 1 when the exchange socializes losses through the funding rate (Drift), 0 for a profit haircut. */
  readonly socializeByFunding: Uint8Array;
  /**
   * Portfolio margin per exchange (1 = on): requirement = max(worst grid loss, tailWeight × worst
   * tail loss, netDeltaFraction × Σ|net delta|) over co-movement groups, for linear books in closed
   * form (a linear book's worst move is an extreme move); initial = imToMm × that.
   */
  readonly exchangePortfolio: Uint8Array;
  readonly exchangeGridDown: Float64Array;
  readonly exchangeGridUp: Float64Array;
  readonly exchangeTailDown: Float64Array;
  readonly exchangeTailUp: Float64Array;
  readonly exchangeTailWeight: Float64Array;
  readonly exchangeNetDeltaFraction: Float64Array;
  readonly exchangeImToMm: Float64Array;
  /** Co-movement group of each market within its exchange (joint: all 0; independent: one each). */
  readonly marketGroup: Int32Array;
  readonly exchangeGroupCount: Int32Array;
  /** Dynamic margin per exchange (1 = on): EWMA decay, reference vol, clamp; per market the EWMA variance, last mark, and the multiplier on its tier rates. */
  readonly exchangeDynamic: Uint8Array;
  readonly exchangeEwmaLambda: Float64Array;
  readonly exchangeReferenceVol: Float64Array;
  readonly exchangeFloorMultiple: Float64Array;
  readonly exchangeCapMultiple: Float64Array;
  readonly marketVariancePerStep: Float64Array;
  readonly marketLastMark: Float64Array;
  /** Multiplier on market m's tier rates: dynamic × open-interest surcharge (1 when both are off). */
  readonly marketMarginMultiplier: Float64Array;
  readonly marketDynamicMultiplier: Float64Array;
  /** Open-interest surcharge per exchange: threshold (multiple of step-0 open interest) and rate per multiple above it (0 = off). */
  readonly exchangeOiThreshold: Float64Array;
  readonly exchangeOiPerMultiple: Float64Array;
  /** 1 when the exchange has liquidator accounts (else market makers take liquidation flow). */
  readonly exchangeHasLiquidators: Uint8Array;
  /** Market-maker accounts of exchange x: makerAccounts[makerStart[x] .. makerStart[x+1]-1]. */
  readonly makerStart: Int32Array;
  readonly makerAccounts: Int32Array;
  /** Liquidator accounts of exchange x, in the same layout. */
  readonly liquidatorStart: Int32Array;
  readonly liquidatorAccounts: Int32Array;

  // ---- markets (one per asset per exchange)
  readonly nMarkets: number;
  readonly marketExchange: Int32Array;
  readonly marketAsset: Int32Array;
  readonly marketOracle: Int32Array;
  /** Σ |qty| of each market at step 0: the scale for its zero-sum check. */
  readonly marketInitialGrossQty: Float64Array;
  /**
   * Long open interest of each market in units: Σ of its positive positions at build, then moved by
   * every fill (accounts.applyFill), so no step needs to sum the positions.
   */
  readonly marketLongQty: Float64Array;
  /** Cumulative funding paid by one unit of long position, USD per unit. */
  readonly fundingIndex: Float64Array;
  /** Funding the longs of each market paid its shorts so far, net, USD (negative: the shorts paid): Σ accrual × long open interest. */
  readonly fundingLongsPaidUsd: Float64Array;
  /** Margin brackets of market m are tiers tierStart[m] .. tierStart[m+1]-1. */
  readonly tierStart: Int32Array;
  readonly tierUpperUsd: Float64Array;
  readonly tierImRate: Float64Array;
  readonly tierMmRate: Float64Array;
  /** Binance-style "maintenance amount": requirement = notional × rate − amount, continuous. */
  readonly tierImAmount: Float64Array;
  readonly tierMmAmount: Float64Array;
  /** Positions of market m are marketPositions[marketPosStart[m] .. marketPosStart[m+1]-1]. */
  readonly marketPosStart: Int32Array;
  readonly marketPositions: Int32Array;

  // ---- accounts
  readonly nAccounts: number;
  /**
   * Dense cohort id; a backstop vault's account has nCohorts + its vault id. An account's exchange,
   * role and wallet are functions of its cohort and its place in it (the cohort tables below), not
   * stored per account: exchangeOf(w, a), roleOf(w, a), walletOf(w, a).
   */
  readonly accountCohort: Uint16Array;
  readonly accountStatus: Uint8Array;
  /** Per cohort code (as accountCohort): the exchange and role of its accounts. */
  readonly cohortExchange: Uint16Array;
  readonly cohortRole: Uint8Array;
  /**
   * Per cohort code, its traders' wallets (walletOf): the ledger holder of the first trader's wallet,
   * that trader's first account, and the accounts per trader (0: the cohort has no wallets). A
   * trader's accounts are consecutive and each trader has one wallet, added in the same order.
   */
  readonly cohortWalletHolder: Int32Array;
  readonly cohortWalletAccount: Int32Array;
  readonly cohortAccountsPerWallet: Int32Array;
  /**
   * Largest notional / equity at which a counterparty account still takes flow, per cohort (market
   * makers, liquidators; a backstop vault at nCohorts + its vault id, as in accountCohort; 0 for
   * directional cohorts): read as cohortMaxLeverage[accountCohort[a]], not stored per account.
   */
  readonly cohortMaxLeverage: Float64Array;
  /** Positions of account a are posStart[a] .. posStart[a+1]-1. */
  readonly posStart: Int32Array;
  /** Results of the last markToMarket, USD. */
  readonly accountEquity: Float64Array;
  readonly accountMaintenance: Float64Array;
  readonly accountNotional: Float64Array;

  // ---- positions
  readonly nPositions: number;
  readonly posAccount: Int32Array;
  readonly posMarket: Uint16Array;
  /** Signed size in units of the asset (positive = long). */
  readonly posQty: Float64Array;
  /** Quote balance, USD: value of the position = qty × price + quote. */
  readonly posQuote: Float64Array;
  /** Funding index at the last settlement of this position. */
  readonly posFundingIndex: Float64Array;

  // ---- cohorts
  readonly cohortCallMultiple: Float64Array;
  readonly cohortTopUpProbability: Float64Array;
  readonly cohortDeleverageProbability: Float64Array;
  readonly cohortUnwindShare: Float64Array;
  /** Margin withdrawal by cohort (scenario `withdrawal` of directional cohorts; engine/phases/respondToMarginCalls.ts). */
  readonly withdrawal: WithdrawalTables;

  // ---- funds and ledger
  readonly nFunds: number;
  /** Each insurance fund's id (scenario.insuranceFunds[].id), by dense index. */
  readonly fundIds: string[];
  readonly fundCapUsd: Float64Array;
  readonly ledger: Ledger;
  readonly walletHolderStart: number;
  readonly fundHolderStart: number;
  /** Per exchange: the settlement pool that pays realized PnL (balance = Σ open quote). */
  readonly poolHolderStart: number;
  /** Per exchange: fees and fund overflow. */
  readonly reserveHolderStart: number;

  // ---- run record
  readonly acc: StepAccumulators;
  readonly events: EventLog;
  readonly stepTable: StepTable | null;
  readonly priceTable: PriceTable | null;
  readonly fundMinUsd: Float64Array;
  /** Per fund: its balance at the start of the run. */
  readonly fundInitialUsd: Float64Array;
  /**
   * Per fund: the largest draw-so-far + demand met where the fund's balance decided what happened (an ADL
   * decision, a payout): the smallest starting balance that would have met every one of them
   * (settleLosses.ts noteFundDemand).
   */
  readonly fundRequiredUsd: Float64Array;
  fundDepletionStep: number;
  /**
   * Per protocol: 1 once it has defaulted — a loss went past its insurance fund (and, on an exchange,
   * ADL) to be socialized or left uncovered (settleLosses.ts noteDefault; a `default` event).
   */
  readonly protocolDefaulted: Uint8Array;
  /**
   * Fairness: effective leverage (notional / equity; Infinity at or below zero equity) of every
   * account hit by ADL and every account liquidated, at that moment; and what each account put in
   * (initial collateral plus top-ups), for the distribution of losses.
   */
  readonly fairness: { adlLeverage: number[]; liquidatedLeverage: number[] };
  readonly accountContributedUsd: Float64Array;
  /**
   * Non-cash collateral of perp accounts: slots collStart[a] … collStart[a+1]−1 of account a, each
   * units held by unit-ledger holder collHolder[k], valued at oracle collOracle[k] × weight collWeight[k].
   */
  readonly collStart: Int32Array;
  /** True when any perp account has non-cash collateral; collStart is empty when none does. */
  readonly collateralListed: boolean;
  readonly collHolder: Int32Array;
  readonly collOracle: Int32Array;
  readonly collWeight: Float64Array;
  /** Holdings of assets in units (lending markets and perp collateral); see engine/unitLedger.ts. */
  readonly units: UnitLedger;
  /**
   * The balance sheet at step 0, for cohorts.arrow's participant rows (engine/participants.ts): USD
   * balances of ledger holders fundHolderStart … (funds, pools, reserves, fee pools, lending, arbitrage and
   * stable holders; not the accounts and wallets), and every unit-ledger holding.
   */
  readonly usdAtStart: Float64Array;
  readonly unitsAtStart: Float64Array;
  stressSteps: number;
  maxCascadeDepth: number;
  readonly totals: StepAccumulators;

  readonly prices: Stream;
  readonly behaviour: Stream;
  readonly lendingBehaviour: Stream;
  /** Scratch arrays reused by phases (no allocation in the step loop). */
  readonly scratch: {
    /**
     * A round's liquidatable accounts, weakest first; while it is made, slot k's account and sort key
     * (equity / maintenance) in queueAccount[k] and queueKey[k]. The three grow together on demand.
     */
    queue: Int32Array;
    queueAccount: Int32Array;
    queueKey: Float64Array;
    /** ADL candidates of one market and their scores, by rank slot (grown together on demand: growRanks). */
    ranked: Int32Array;
    rankScore: Float64Array;
    /** Capacity of each counterparty of a book, by its place in makerAccounts or liquidatorAccounts. */
    capacity: Float64Array;
    /** Accounts with unrealized profit and that profit, for socializing a loss (grown on demand). */
    profitAccount: Int32Array;
    profitUsd: Float64Array;
    /** Net delta per co-movement group of the account being marked (portfolio margin). */
    groupDelta: Float64Array;
  };
  /**
   * The accounts the last mark looked at, in account order: w.candidates[0 … nCandidates). Every
   * other active account is above its margin-call level and maintenance (engine/marginIndex.ts).
   */
  readonly candidates: Int32Array;
  nCandidates: number;
  readonly marginIndex: MarginIndex;
  /** Ranked-ADL candidates per market side, kept within a cascade round (engine/adlQueue.ts). */
  readonly adlQueues: AdlQueues;
}

/** Random streams of one run. */
export interface RunSeeds {
  prices: number;
  behaviour: number;
  init: number;
  /** Lending borrowers' responses: a stream of their own, so a change on a lending market leaves every perp trader's draws alone. */
  lendingBehaviour: number;
}

function accumulators(n: number): StepAccumulators {
  return {
    marginCalls: new Int32Array(n),
    liquidations: new Int32Array(n),
    liquidationVolumeUsd: new Float64Array(n),
    backstopVolumeUsd: new Float64Array(n),
    badDebtUsd: new Float64Array(n),
    fundPayoutUsd: new Float64Array(n),
    adlVolumeUsd: new Float64Array(n),
    socializedLossUsd: new Float64Array(n),
    uncoveredBadDebtUsd: new Float64Array(n),
    adlAbsorbedUsd: new Float64Array(n),
    adlCount: new Int32Array(n),
    cascadeRounds: new Int32Array(n),
    exposureLossUsd: new Float64Array(n),
  };
}

/** Non-cash collateral of one account slot before packing: asset, oracle, weight and units. */
interface CollDraft {
  asset: number;
  oracle: number;
  weight: number;
  qty: number;
}

/**
 * Every account before it is packed into arrays (only used while building), as columns rather than
 * one object per account (10^7 accounts did not fit the heap): the scalars per account, position
 * slots slotStart[a] … slotStart[a + 1] − 1, and the rare parts (non-cash collateral, option slots)
 * in side tables keyed by account, in account order. The columns are sized in advance by
 * draftCapacity (exact), so the cohort, slot offset, market and quantity columns become the world's
 * own arrays (packAccounts) and no doubling copies are left behind: at 10^7 accounts the builder left
 * 890 MiB of dead buffers when the columns grew by doubling from 16 entries, which a late collection
 * kept resident into the first step (a peak RSS of 2.0 GB instead of 1.5 GB, one run in three). A
 * column still doubles (grown) should the capacity fall short, and is then copied to its length.
 */
class AccountDrafts {
  length = 0;
  exchange: Int32Array;
  /** 16-bit codes, as the world keeps them (the schema caps cohorts and vaults to fit). */
  cohort: Uint16Array;
  role: Uint8Array;
  /** Index of its wallet in `walletInitial`, or −1. */
  wallet: Int32Array;
  collateralUsd: Float64Array;
  slotStart: Int32Array;
  nSlots = 0;
  /** Market ids (16-bit, as the world keeps them) and signed quantities of the position slots. */
  slotMarket: Uint16Array;
  slotQty: Float64Array;
  /** Non-cash collateral by account (keys ascending). */
  readonly coll = new Map<number, CollDraft[]>();
  /** Option slots by account (keys ascending): option sellers; market makers hold every series of their exchange. */
  readonly options = new Map<number, OptionDraft[]>();
  nWallets = 0;
  /** Each wallet's initial balance, USD (wallets 0 … nWallets − 1). */
  walletInitial: Float64Array;

  constructor(capacity: DraftCapacity) {
    const n = Math.max(1, capacity.accounts);
    this.exchange = new Int32Array(n);
    this.cohort = new Uint16Array(n);
    this.role = new Uint8Array(n);
    this.wallet = new Int32Array(n);
    this.collateralUsd = new Float64Array(n);
    this.slotStart = new Int32Array(n + 1);
    this.slotMarket = new Uint16Array(Math.max(1, capacity.slots));
    this.slotQty = new Float64Array(Math.max(1, capacity.slots));
    this.walletInitial = new Float64Array(Math.max(1, capacity.wallets));
  }

  /** Appends an account with no slots yet; its slots are the addSlot calls until the next add. */
  add(exchange: number, cohort: number, role: number, wallet: number, collateralUsd: number): number {
    const a = this.length;
    if (a === this.exchange.length) {
      this.exchange = grown(this.exchange, a + 1);
      this.cohort = grown(this.cohort, a + 1);
      this.role = grown(this.role, a + 1);
      this.wallet = grown(this.wallet, a + 1);
      this.collateralUsd = grown(this.collateralUsd, a + 1);
      this.slotStart = grown(this.slotStart, a + 2);
    }
    this.exchange[a] = exchange;
    this.cohort[a] = cohort;
    this.role[a] = role;
    this.wallet[a] = wallet;
    this.collateralUsd[a] = collateralUsd;
    this.slotStart[a] = this.nSlots;
    this.slotStart[a + 1] = this.nSlots;
    this.length = a + 1;
    return a;
  }

  /** Adds a position slot to the last account. */
  addSlot(market: number, qty: number): void {
    const p = this.nSlots;
    if (p === this.slotMarket.length) {
      this.slotMarket = grown(this.slotMarket, p + 1);
      this.slotQty = grown(this.slotQty, p + 1);
    }
    this.slotMarket[p] = market;
    this.slotQty[p] = qty;
    this.nSlots = p + 1;
    this.slotStart[this.length] = this.nSlots;
  }

  /** The slot of account a in market mk, or −1. */
  slotOf(a: number, mk: number): number {
    for (let p = this.slotStart[a]!; p < this.slotStart[a + 1]!; p++) if (this.slotMarket[p] === mk) return p;
    return -1;
  }

  /** Gives the last account its non-cash collateral. */
  setColl(list: CollDraft[]): void {
    this.coll.set(this.length - 1, list);
  }

  /** Gives the last account its option slots. */
  setOptions(list: OptionDraft[]): void {
    this.options.set(this.length - 1, list);
  }

  /** Appends a wallet with its initial balance; returns its index. */
  addWallet(usd: number): number {
    const i = this.nWallets;
    if (i === this.walletInitial.length) this.walletInitial = grown(this.walletInitial, i + 1);
    this.walletInitial[i] = usd;
    this.nWallets = i + 1;
    return i;
  }
}

/** The portfolio- and dynamic-margin parameters of every exchange and market (see World). */
function marginModels(exp: Experiment, graph: DependencyGraph, nExchanges: number, nMarkets: number, marketExchange: Int32Array, marketAsset: Int32Array) {
  const s = exp.scenario;
  const f64 = () => new Float64Array(nExchanges);
  const m = {
    exchangePortfolio: new Uint8Array(nExchanges),
    exchangeGridDown: f64(),
    exchangeGridUp: f64(),
    exchangeTailDown: f64(),
    exchangeTailUp: f64(),
    exchangeTailWeight: f64(),
    exchangeNetDeltaFraction: f64(),
    exchangeImToMm: f64(),
    marketGroup: new Int32Array(nMarkets),
    exchangeGroupCount: new Int32Array(nExchanges).fill(1),
    exchangeDynamic: new Uint8Array(nExchanges),
    exchangeEwmaLambda: f64(),
    exchangeReferenceVol: f64(),
    exchangeFloorMultiple: f64(),
    exchangeCapMultiple: f64(),
    marketVariancePerStep: new Float64Array(nMarkets),
    marketLastMark: new Float64Array(nMarkets),
    marketMarginMultiplier: new Float64Array(nMarkets).fill(1),
    marketDynamicMultiplier: new Float64Array(nMarkets).fill(1),
    exchangeOiThreshold: f64(),
    exchangeOiPerMultiple: f64(),
  };
  const dtYears = exp.stepSeconds / SECONDS_PER_YEAR;
  for (const x of s.exchanges) {
    const xi = denseId(graph, 'protocol', x.id);
    // An explicit marginModel picks one block; without it, whichever blocks are given apply.
    const model = effectiveMarginModel(x);
    const pm = model === 'portfolio' ? x.portfolioMargin : undefined;
    if (pm) {
      m.exchangePortfolio[xi] = 1;
      m.exchangeGridDown[xi] = Math.min(0, ...pm.moves);
      m.exchangeGridUp[xi] = Math.max(0, ...pm.moves);
      m.exchangeTailDown[xi] = Math.min(0, ...pm.tailMoves);
      m.exchangeTailUp[xi] = Math.max(0, ...pm.tailMoves);
      m.exchangeTailWeight[xi] = pm.tailWeight;
      m.exchangeNetDeltaFraction[xi] = pm.netDeltaChargeFraction;
      m.exchangeImToMm[xi] = pm.initialToMaintenance;
      const c = pm.comovement;
      const names: string[] = [];
      let local = 0;
      for (let mk = 0; mk < nMarkets; mk++) {
        if (marketExchange[mk] !== xi) continue;
        if (c.kind === 'joint') m.marketGroup[mk] = 0;
        else if (c.kind === 'independent') m.marketGroup[mk] = local;
        else {
          const name = c.groups[s.assets[marketAsset[mk]!]!.symbol] ?? `asset:${s.assets[marketAsset[mk]!]!.symbol}`;
          let g = names.indexOf(name);
          if (g < 0) g = names.push(name) - 1;
          m.marketGroup[mk] = g;
        }
        local++;
      }
      m.exchangeGroupCount[xi] = c.kind === 'joint' ? 1 : c.kind === 'independent' ? Math.max(1, local) : Math.max(1, names.length);
    }
    if (x.openInterestSurcharge) {
      m.exchangeOiThreshold[xi] = x.openInterestSurcharge.aboveInitialMultiple;
      m.exchangeOiPerMultiple[xi] = x.openInterestSurcharge.perMultiple;
    }
    const dm = model === 'dynamic' || x.marginModel === undefined ? x.dynamicMargin : undefined;
    if (dm) {
      m.exchangeDynamic[xi] = 1;
      m.exchangeEwmaLambda[xi] = dm.lambda;
      m.exchangeReferenceVol[xi] = dm.referenceAnnualVol;
      m.exchangeFloorMultiple[xi] = dm.floorMultiple;
      m.exchangeCapMultiple[xi] = dm.capMultiple;
      // Start at the reference volatility: the tiers apply unchanged until prices move.
      for (let mk = 0; mk < nMarkets; mk++) {
        if (marketExchange[mk] !== xi) continue;
        m.marketVariancePerStep[mk] = dm.referenceAnnualVol * dm.referenceAnnualVol * dtYears;
        m.marketLastMark[mk] = s.assets[marketAsset[mk]!]!.initialPrice;
        m.marketDynamicMultiplier[mk] = Math.min(Math.max(1, dm.floorMultiple), dm.capMultiple);
        m.marketMarginMultiplier[mk] = m.marketDynamicMultiplier[mk]!;
      }
    }
  }
  return m;
}

/** What each account put in at step 0, USD: cash plus non-cash collateral at the initial price. */
function contributedUsd(balances: Float64Array, nAccounts: number, collStart: Int32Array, coll: { asset: number; qty: number }[], price: Float64Array): Float64Array {
  const out = balances.slice(0, nAccounts);
  for (let a = 0; a < nAccounts; a++) {
    for (let k = collStart[a]!; k < collStart[a + 1]!; k++) out[a] = out[a]! + coll[k]!.qty * price[coll[k]!.asset]!;
  }
  return out;
}

/**
 * The cohort tables behind an account's exchange, role and wallet (World.cohortExchange …), checked
 * against every drafted account: a layout they cannot express is a bug in the drafting, and throws.
 */
function packCohortTables(drafts: AccountDrafts, nAccounts: number, walletHolderStart: number) {
  let nCodes = 0;
  for (let a = 0; a < nAccounts; a++) nCodes = Math.max(nCodes, drafts.cohort[a]! + 1);
  const cohortExchange = new Uint16Array(nCodes);
  const cohortRole = new Uint8Array(nCodes);
  const cohortWalletHolder = new Int32Array(nCodes).fill(-1);
  const cohortWalletAccount = new Int32Array(nCodes).fill(-1);
  const cohortAccountsPerWallet = new Int32Array(nCodes);
  const seen = new Uint8Array(nCodes);
  for (let a = 0; a < nAccounts; a++) {
    const c = drafts.cohort[a]!;
    if (seen[c] === 0) {
      seen[c] = 1;
      cohortExchange[c] = drafts.exchange[a]!;
      cohortRole[c] = drafts.role[a]!;
    }
    const wallet = drafts.wallet[a]!;
    if (wallet < 0) continue;
    if (cohortWalletAccount[c]! < 0) {
      cohortWalletAccount[c] = a;
      cohortWalletHolder[c] = walletHolderStart + wallet;
    }
    if (walletHolderStart + wallet === cohortWalletHolder[c]) cohortAccountsPerWallet[c]!++;
  }
  const tables = { cohortExchange, cohortRole, cohortWalletHolder, cohortWalletAccount, cohortAccountsPerWallet };
  for (let a = 0; a < nAccounts; a++) {
    const c = drafts.cohort[a]!;
    const wallet = drafts.wallet[a]! < 0 ? -1 : walletHolderStart + drafts.wallet[a]!;
    if (cohortExchange[c] !== drafts.exchange[a] || cohortRole[c] !== drafts.role[a] || walletFromTables(tables, c, a) !== wallet) {
      throw new Error(`internal: account ${a} of cohort ${c} does not follow its cohort's exchange, role or wallet layout`);
    }
  }
  return tables;
}

/** The ledger holder of the wallet of account a (of cohort c) by the cohort tables, or −1. */
function walletFromTables(t: Pick<World, 'cohortWalletHolder' | 'cohortWalletAccount' | 'cohortAccountsPerWallet'>, c: number, a: number): number {
  const per = t.cohortAccountsPerWallet[c]!;
  return per === 0 ? -1 : t.cohortWalletHolder[c]! + Math.floor((a - t.cohortWalletAccount[c]!) / per);
}

/** Ledger holder of the wallet of account a's trader, −1 if none. */
export function walletOf(w: World, a: number): number {
  return walletFromTables(w, w.accountCohort[a]!, a);
}

/** The insurance funds' ids, each at its dense id. */
function fundIdsByDenseId(s: Scenario, graph: DependencyGraph): string[] {
  const ids: string[] = new Array<string>(s.insuranceFunds.length);
  for (const f of s.insuranceFunds) ids[denseId(graph, 'fund', f.id)] = f.id;
  return ids;
}

/** Dense id of account a's exchange (its cohort's). */
export function exchangeOf(w: World, a: number): number {
  return w.cohortExchange[w.accountCohort[a]!]!;
}

/** Role code of account a (its cohort's). */
export function roleOf(w: World, a: number): number {
  return w.cohortRole[w.accountCohort[a]!]!;
}

/** CSR list of the accounts of one role, by exchange: accounts[start[x]] … accounts[start[x + 1] − 1]. */
function roleCsr(drafts: AccountDrafts, nExchanges: number, role: number): { start: Int32Array; accounts: Int32Array } {
  const { length: n, role: accountRole, exchange } = drafts;
  const start = new Int32Array(nExchanges + 1);
  for (let a = 0; a < n; a++) if (accountRole[a] === role) start[exchange[a]! + 1]!++;
  for (let x = 0; x < nExchanges; x++) start[x + 1] = start[x + 1]! + start[x]!;
  const accounts = new Int32Array(start[nExchanges]!);
  const next = start.slice(0, nExchanges);
  for (let a = 0; a < n; a++) if (accountRole[a] === role) accounts[next[exchange[a]!]!++] = a;
  return { start, accounts };
}

/** CSR lists of the market-maker and liquidator accounts of every exchange. */
function roleIndex(drafts: AccountDrafts, nExchanges: number) {
  // A module-level function, not a closure made per run: TurboFan compiled the closure again in
  // each run of a sweep (30 times in 100 runs).
  const makers = roleCsr(drafts, nExchanges, Role.marketMaker);
  const liquidators = roleCsr(drafts, nExchanges, Role.liquidator);
  return {
    makerStart: makers.start,
    makerAccounts: makers.accounts,
    liquidatorStart: liquidators.start,
    liquidatorAccounts: liquidators.accounts,
  };
}

/**
 * Builds the initial state of one run. Trader draws use the `init` stream only, so a change of a
 * price or behaviour parameter never changes who holds what at step 0.
 */
type Scenario = Experiment['scenario'];

// buildWorld is split into the stages below. Besides readability, this keeps each function small
// enough for V8 to optimize cheaply: as one 700-line function it was re-optimized by TurboFan
// several times per sweep at ~200 ms and tens of MB of compiler memory each, which alone made a
// 10,000-run sweep's peak RSS exceed a 100-run sweep's (see the README, "Bounded memory").

/** Assets: the price process, market impact, and the parameters of derived tokens. */
function buildAssets(s: Scenario, graph: DependencyGraph, dt: number) {
  const dtYears = dt / SECONDS_PER_YEAR;
  const nAssets = s.assets.length;
  const initialPrice = new Float64Array(nAssets);
  const impactModel = new Uint8Array(nAssets);
  const impactCoefficient = new Float64Array(nAssets);
  const depthUsd = new Float64Array(nAssets);
  const permanentShare = new Float64Array(nAssets);
  const temporaryDecayPerStep = new Float64Array(nAssets);
  const driftPerStep = new Float64Array(nAssets);
  const volPerStep = new Float64Array(nAssets);
  const jumpLambdaPerStep = new Float64Array(nAssets);
  const jumpMean = new Float64Array(nAssets);
  const jumpStd = new Float64Array(nAssets);
  const replayStart = new Int32Array(nAssets).fill(-1);
  const replayed: number[] = [];
  for (const a of s.assets) {
    const i = denseId(graph, 'asset', a.symbol);
    initialPrice[i] = a.initialPrice;
    const path = a.pricePath;
    if (path?.prices !== undefined) {
      replayStart[i] = replayed.length;
      for (let r = path.fromRow; r < path.prices.length; r++) replayed.push(path.prices[r]!);
    }
    impactModel[i] = ImpactCode[a.market.impact];
    impactCoefficient[i] = a.market.impactCoefficient;
    depthUsd[i] = a.market.depthUsd;
    permanentShare[i] = a.market.permanentShare;
    temporaryDecayPerStep[i] = Math.pow(0.5, dt / a.market.resilienceHalfLifeSeconds);
    volPerStep[i] = a.volatilityAnnual * Math.sqrt(dtYears);
    // Drift of the log-price: the Itô term is applied per step with the regime's volatility
    // (see evolveFundamentals); the jump compensator keeps E[price] growing at driftAnnual.
    driftPerStep[i] = a.driftAnnual * dtYears;
    if (a.jumps) {
      jumpLambdaPerStep[i] = a.jumps.intensityPerYear * dtYears;
      jumpMean[i] = a.jumps.meanLogJump;
      jumpStd[i] = a.jumps.stdLogJump;
    }
  }
  // Derived assets (liquid-staking tokens): fundamental = underlying × peg, peg from src/model/derived.ts.
  const derivedUnderlying = new Int32Array(nAssets).fill(-1);
  const peg = new Float64Array(nAssets).fill(1);
  const pegReversionPerStep = new Float64Array(nAssets);
  const pegVolPerStep = new Float64Array(nAssets);
  const pegStressDiscount = new Float64Array(nAssets);
  const pegPressureImpact = new Float64Array(nAssets);
  const derivedKind = new Uint8Array(nAssets);
  const derivedBridge = new Int32Array(nAssets).fill(-1);
  for (const a of s.assets) {
    const d = a.derived;
    if (!d) continue;
    const i = denseId(graph, 'asset', a.symbol);
    // Tokens backed by an account's equity: the account is known once accounts are built.
    if (d.kind === 'vaultShare') {
      derivedKind[i] = DerivedKind.vaultShare;
      continue;
    }
    if (d.kind === 'syntheticDollar') {
      derivedKind[i] = DerivedKind.syntheticDollar;
      continue;
    }
    // Valued from its collateral's market cap (model/algorithmicStable.ts), not from an underlying.
    if (d.kind === 'algorithmicStable') {
      derivedKind[i] = DerivedKind.algorithmicStable;
      continue;
    }
    const u = denseId(graph, 'asset', d.underlying);
    derivedUnderlying[i] = u;
    peg[i] = a.initialPrice / initialPrice[u]!;
    if (d.kind === 'bridged') {
      derivedKind[i] = DerivedKind.bridged;
      derivedBridge[i] = s.bridges.findIndex((b) => b.id === d.bridge);
      continue;
    }
    derivedKind[i] = DerivedKind.liquidStaking;
    pegReversionPerStep[i] = 1 - Math.pow(0.5, dt / d.pegHalfLifeSeconds);
    pegVolPerStep[i] = d.pegVolatilityAnnual * Math.sqrt(dtYears);
    pegStressDiscount[i] = d.stressDiscount;
    pegPressureImpact[i] = d.pressureImpact;
  }
  return {
    nAssets,
    initialPrice,
    impactModel,
    impactCoefficient,
    depthUsd,
    permanentShare,
    temporaryDecayPerStep,
    driftPerStep,
    volPerStep,
    jumpLambdaPerStep,
    jumpMean,
    jumpStd,
    replayStart,
    replayPrices: Float64Array.from(replayed),
    derivedUnderlying,
    peg,
    pegReversionPerStep,
    pegVolPerStep,
    pegStressDiscount,
    pegPressureImpact,
    derivedKind,
    derivedBridge,
  };
}

/** Oracles, their history ring buffers, venue-local markets, and each protocol's chain. */
function buildOracles(s: Scenario, graph: DependencyGraph, dt: number, initialPrice: Float64Array) {
  const nAssets = s.assets.length;
  const nOracles = s.oracles.length;
  const oracleAsset = new Int32Array(nOracles);
  const oracleSource = new Uint8Array(nOracles);
  const oracleLag = new Int32Array(nOracles);
  const oracleTwapSteps = new Int32Array(nOracles);
  const oracleDeviation = new Float64Array(nOracles);
  const oracleHeartbeatSteps = new Int32Array(nOracles);
  const oracleFloorUsd = new Float64Array(nOracles);
  const oracleFreezeStep = new Int32Array(nOracles);
  const oracleResumeStep = new Int32Array(nOracles);
  const assetFirstOracle = new Int32Array(nAssets).fill(-1);
  let historyLength = 1;
  // Chains add their latency to the oracles their protocols read (validation made it unambiguous).
  const chainLatency = new Map<string, number>();
  const chainIndexOf = (id: string | undefined) => (id === undefined ? -1 : s.chains.findIndex((c) => c.id === id));
  const protocolChain = Int32Array.from([...s.exchanges.map((x) => chainIndexOf(x.chain)), ...s.lendingMarkets.map((l) => chainIndexOf(l.chain))]);
  s.exchanges.forEach((x, i) => x.markets.forEach((m) => protocolChain[i]! >= 0 && chainLatency.set(m.oracle, s.chains[protocolChain[i]!]!.oracleLatencySteps)));
  s.lendingMarkets.forEach((l, i) =>
    l.reserves.forEach((r) => protocolChain[s.exchanges.length + i]! >= 0 && chainLatency.set(r.oracle, s.chains[protocolChain[s.exchanges.length + i]!]!.oracleLatencySteps)),
  );
  // Venue-local markets of `venue` oracles (unused slots keep depth 0).
  const venueModel = new Uint8Array(nOracles);
  const venueCoefficient = new Float64Array(nOracles);
  const venueDepthUsd = new Float64Array(nOracles);
  const venuePermanentShare = new Float64Array(nOracles);
  const venueDecayPerStep = new Float64Array(nOracles);
  for (const o of s.oracles) {
    const i = denseId(graph, 'oracle', o.id);
    const a = denseId(graph, 'asset', o.asset);
    oracleAsset[i] = a;
    oracleSource[i] = OracleSource[o.source];
    if (o.venueMarket) {
      const v = o.venueMarket;
      venueModel[i] = ImpactCode[v.impact];
      venueCoefficient[i] = v.impactCoefficient;
      venueDepthUsd[i] = v.depthUsd;
      venuePermanentShare[i] = v.permanentShare;
      venueDecayPerStep[i] = Math.pow(0.5, dt / v.resilienceHalfLifeSeconds);
    }
    oracleLag[i] = o.lagSteps + (chainLatency.get(o.id) ?? 0);
    oracleTwapSteps[i] = o.twapSteps;
    oracleDeviation[i] = o.deviationThreshold;
    oracleHeartbeatSteps[i] = o.heartbeatSteps;
    oracleFloorUsd[i] = o.floorUsd ?? 0;
    oracleFreezeStep[i] = o.freezeAtStep ?? -1;
    oracleResumeStep[i] = o.resumeAtStep ?? -1;
    if (assetFirstOracle[a] === -1) assetFirstOracle[a] = i;
    // The ring buffer holds every reading a lagged average needs.
    historyLength = Math.max(historyLength, oracleLag[i]! + o.twapSteps);
  }
  const oracleHistory = new Float64Array(nOracles * historyLength);
  const oraclePrice = new Float64Array(nOracles);
  for (let o = 0; o < nOracles; o++) {
    const p = initialPrice[oracleAsset[o]!]!;
    oraclePrice[o] = Math.max(p, oracleFloorUsd[o]!);
    oracleHistory.fill(p, o * historyLength, (o + 1) * historyLength);
  }
  return {
    nOracles,
    oracleAsset,
    oracleSource,
    oracleLag,
    oraclePrice,
    oracleTwapSteps,
    oracleDeviation,
    oracleHeartbeatSteps,
    oracleFloorUsd,
    oracleFreezeStep,
    oracleResumeStep,
    venueModel,
    venueCoefficient,
    venueDepthUsd,
    venuePermanentShare,
    venueDecayPerStep,
    oracleHistory,
    historyLength,
    assetFirstOracle,
    protocolChain,
  };
}

/** Perp markets and their margin tiers (rate and continuity amount per bracket). */
function buildMarkets(s: Scenario, graph: DependencyGraph) {
  const nMarkets = s.exchanges.reduce((n, x) => n + x.markets.length, 0);
  const marketExchange = new Int32Array(nMarkets);
  const marketAsset = new Int32Array(nMarkets);
  const marketOracle = new Int32Array(nMarkets);
  const tierStart = new Int32Array(nMarkets + 1);
  const tiers: { upper: number; im: number; mm: number }[] = [];
  const marketOf = new Map<string, number>(); // `${exchange}/${asset}` → market id
  let m = 0;
  for (const x of s.exchanges) {
    const xi = denseId(graph, 'protocol', x.id);
    for (const mk of x.markets) {
      marketExchange[m] = xi;
      marketAsset[m] = denseId(graph, 'asset', mk.asset);
      marketOracle[m] = denseId(graph, 'oracle', mk.oracle);
      marketOf.set(`${xi}/${marketAsset[m]}`, m);
      tierStart[m] = tiers.length;
      for (const t of mk.marginTiers) {
        tiers.push({ upper: t.upToNotionalUsd ?? Infinity, im: t.initialMarginFraction, mm: t.maintenanceMarginFraction });
      }
      m++;
    }
  }
  tierStart[nMarkets] = tiers.length;
  const tierUpperUsd = Float64Array.from(tiers, (t) => t.upper);
  const tierImRate = Float64Array.from(tiers, (t) => t.im);
  const tierMmRate = Float64Array.from(tiers, (t) => t.mm);
  const tierImAmount = new Float64Array(tiers.length);
  const tierMmAmount = new Float64Array(tiers.length);
  for (let mm = 0; mm < nMarkets; mm++) {
    // amount_k = amount_{k-1} + lower_k × (rate_k − rate_{k-1}) keeps the requirement continuous
    // at bracket boundaries (Binance USDⓈ-M "maintenance amount").
    for (let k = tierStart[mm]! + 1; k < tierStart[mm + 1]!; k++) {
      const lower = tierUpperUsd[k - 1]!;
      tierImAmount[k] = tierImAmount[k - 1]! + lower * (tierImRate[k]! - tierImRate[k - 1]!);
      tierMmAmount[k] = tierMmAmount[k - 1]! + lower * (tierMmRate[k]! - tierMmRate[k - 1]!);
    }
  }
  return { nMarkets, marketExchange, marketAsset, marketOracle, tierStart, tierUpperUsd, tierImRate, tierMmRate, tierImAmount, tierMmAmount, marketOf };
}
type Markets = ReturnType<typeof buildMarkets>;

type DirectionalCohort = Extract<Scenario['traders'][number], { kind: 'directional' }>;

/**
 * The scale groupRequirement applies (set by the caller) and the requirement it leaves. Slots, not an
 * argument and a return value: the leverage cap's bisection calls it 60 times per capped trader, and
 * a double passed to or returned by a call V8 does not inline is a fresh heap number (most of what
 * building a 10^4-account world allocated: 4.8 MB).
 */
const GROUP = new Float64Array(2);
const GROUP_SCALE = 0;
const GROUP_REQUIREMENT = 1;

/**
 * Initial requirement (USD) of the positions k0 … k1 − 1 of a group at GROUP[GROUP_SCALE] × their
 * drawn notionals, into GROUP[GROUP_REQUIREMENT].
 */
function groupRequirement(markets: Markets, specMarkets: Int32Array, notional: Float64Array, k0: number, k1: number): void {
  const scale = GROUP[GROUP_SCALE]!;
  let sum = 0;
  for (let k = k0; k < k1; k++) {
    sum = sum + requirementUsd(markets.tierStart, markets.tierUpperUsd, markets.tierImRate, markets.tierImAmount, specMarkets[k]!, notional[k]! * scale);
  }
  GROUP[GROUP_REQUIREMENT] = sum;
}

/**
 * The accounts of one directional cohort: draws its traders, capped at the venue's leverage.
 * Written as plain loops over per-cohort typed arrays: it runs for every trader of every run, and
 * its first form (closures and arrays per trader) allocated about 1.2 kB per trader and was compiled
 * again by TurboFan several times per sweep.
 */
function draftDirectional(
  c: DirectionalCohort,
  ctx: { s: Scenario; graph: DependencyGraph; init: Stream; initialPrice: Float64Array; markets: Markets; ci: number; xi: number },
  drafts: AccountDrafts,
  netQty: Float64Array,
): void {
  const { s, graph, init, initialPrice, markets, ci, xi } = ctx;
  const n = c.positions.length;
  const specMarkets = new Int32Array(n);
  const weight = new Float64Array(n);
  /** +1 long, −1 short, 0 drawn per trader (long with probability longShare). */
  const fixedSign = new Int8Array(n);
  let weightSum = 0;
  for (let k = 0; k < n; k++) {
    const p = c.positions[k]!;
    specMarkets[k] = markets.marketOf.get(`${xi}/${denseId(graph, 'asset', p.asset)}`)!;
    weight[k] = p.weight;
    fixedSign[k] = p.side === 'long' ? 1 : p.side === 'short' ? -1 : 0;
    weightSum = weightSum + p.weight;
  }
  // Collateral posted in other assets counts at its weight: the leverage cap uses that margin.
  const mix = c.collateralMix.map((m) => {
    const accepted = s.exchanges[xi]!.collateralAssets.find((x) => x.asset === m.asset)!;
    return { asset: denseId(graph, 'asset', m.asset), oracle: denseId(graph, 'oracle', accepted.oracle), weight: accepted.weight, share: m.share };
  });
  const mixShare = mix.reduce((sum, m) => sum + m.share, 0);
  const marginFactor = 1 - mixShare + mix.reduce((sum, m) => sum + m.share * m.weight, 0);
  // Accounts per trader: one holding every position (cross), or one per position (isolated).
  // Either way group g holds the positions groupStart[g] … groupStart[g + 1] − 1, in order.
  const cross = c.marginMode === 'cross';
  const nGroups = cross ? 1 : n;
  const groupStart = new Int32Array(nGroups + 1);
  for (let g = 0; g <= nGroups; g++) groupStart[g] = cross ? g * n : g;
  const groupWeight = new Float64Array(nGroups);
  for (let g = 0; g < nGroups; g++) {
    let sum = 0;
    for (let k = groupStart[g]!; k < groupStart[g + 1]!; k++) sum = sum + weight[k]!;
    groupWeight[g] = sum / weightSum;
  }
  const sign = new Float64Array(n);
  const notional = new Float64Array(n);
  for (let t = 0; t < c.count; t++) {
    const collateral = drawDistribution(init, c.collateralUsd);
    const leverage = drawDistribution(init, c.leverage);
    const wallet = drawDistribution(init, c.walletUsd);
    for (let k = 0; k < n; k++) sign[k] = fixedSign[k] !== 0 ? fixedSign[k]! : init.uniform() < c.longShare ? 1 : -1;
    const walletHolder = drafts.addWallet(wallet);
    for (let g = 0; g < nGroups; g++) {
      const k0 = groupStart[g]!;
      const k1 = groupStart[g + 1]!;
      const accCollateral = collateral * groupWeight[g]!;
      for (let k = k0; k < k1; k++) notional[k] = (leverage * collateral * weight[k]!) / weightSum;
      // Leverage draws are capped at the venue maximum: scale the notionals until the initial
      // requirement fits the collateral (requirement is increasing in notional: bisection).
      let scale = 1;
      const margin = accCollateral * marginFactor;
      GROUP[GROUP_SCALE] = 1;
      groupRequirement(markets, specMarkets, notional, k0, k1);
      if (GROUP[GROUP_REQUIREMENT]! > margin) {
        let lo = 0;
        let hi = 1;
        for (let it = 0; it < 60; it++) {
          const mid = 0.5 * (lo + hi);
          GROUP[GROUP_SCALE] = mid;
          groupRequirement(markets, specMarkets, notional, k0, k1);
          if (GROUP[GROUP_REQUIREMENT]! <= margin) lo = mid;
          else hi = mid;
        }
        scale = lo;
      }
      drafts.add(xi, ci, Role.directional, walletHolder, accCollateral * (1 - mixShare));
      if (mix.length > 0) {
        drafts.setColl(mix.map((m) => ({ asset: m.asset, oracle: m.oracle, weight: m.weight, qty: (accCollateral * m.share) / initialPrice[m.asset]! })));
      }
      for (let k = k0; k < k1; k++) {
        const mk = specMarkets[k]!;
        const q = (sign[k]! * notional[k]! * scale) / initialPrice[markets.marketAsset[mk]!]!;
        drafts.addSlot(mk, q);
        netQty[mk] = netQty[mk]! + q;
      }
    }
  }
}

type OptionSellerCohort = Extract<Scenario['traders'][number], { kind: 'optionSeller' }>;

/** What drafting option sellers needs: the series, and each exchange's grid and margin factors. */
interface OptionContext {
  series: OptionSeries;
  seriesIndex: Map<string, number>;
  seriesOf(xi: number): number[];
  /** Initial requirement of a short position of one unit of series k at step 0 (USD). */
  initialPerShortUnit(k: number): number;
}

/** The accounts of one option-seller cohort: each sells its contracts, capped by initial margin. */
function draftOptionSellers(c: OptionSellerCohort, ci: number, xi: number, init: Stream, opt: OptionContext, drafts: AccountDrafts): void {
  const k = opt.seriesIndex.get(`${xi}/${c.series}`)!;
  const perUnit = opt.initialPerShortUnit(k);
  for (let t = 0; t < c.count; t++) {
    const contracts = drawDistribution(init, c.contracts);
    const collateral = drawDistribution(init, c.collateralUsd);
    // Sell what the initial (portfolio) requirement allows: it is linear in the size of one series.
    const qty = perUnit > 0 ? Math.min(contracts, collateral / perUnit) : contracts;
    drafts.add(xi, ci, Role.directional, -1, collateral);
    drafts.setOptions([{ series: k, qty: -qty }]);
  }
}

/** Series lookups and the step-0 initial requirement of a short unit of each series (on its exchange's grid). */
function optionContext(exp: Experiment, series: OptionSeries, margin: ReturnType<typeof marginModels>): OptionContext {
  const seriesIndex = new Map<string, number>();
  for (let k = 0; k < series.nSeries; k++) seriesIndex.set(`${series.seriesExchange[k]}/${series.seriesIds[k]}`, k);
  const g = series.greeks;
  return {
    series,
    seriesIndex,
    seriesOf: (xi) => Array.from({ length: series.nSeries }, (_, k) => k).filter((k) => series.seriesExchange[k] === xi),
    initialPerShortUnit(k) {
      const x = series.seriesExchange[k]!;
      const kind = series.seriesIsCall[k] === 1 ? 'call' : 'put';
      const asset = series.seriesAsset[k]!;
      const spot = exp.scenario.assets[asset]!.initialPrice;
      const strike = series.seriesStrike[k]!;
      const years = yearsToExpiry(series.seriesExpiryStep[k]!, 0, exp.stepSeconds);
      const vol = series.iv[asset]!;
      const p0 = blackScholes(kind, spot, strike, years, vol, 0, g).price;
      const delta = g.delta;
      const worst = (start: number, end: number, list: Float64Array) => {
        let w = 0;
        for (let i = start; i < end; i++) {
          for (let j = series.exShockStart[x]!; j < series.exShockStart[x + 1]!; j++) {
            w = Math.max(w, blackScholes(kind, spot * (1 + list[i]!), strike, years, vol * (1 + series.exShocks[j]!), 0, g).price - p0);
          }
        }
        return w;
      };
      const grid = worst(series.exMovesStart[x]!, series.exMovesStart[x + 1]!, series.exMoves);
      const tail = worst(series.exTailStart[x]!, series.exTailStart[x + 1]!, series.exTail);
      const req = Math.max(grid, margin.exchangeTailWeight[x]! * tail, margin.exchangeNetDeltaFraction[x]! * Math.abs(delta) * spot);
      return margin.exchangeImToMm[x]! * req;
    },
  };
}

/** How many perp accounts, position slots and wallets draftAccounts makes. */
export interface DraftCapacity {
  accounts: number;
  slots: number;
  wallets: number;
}

/**
 * What draftAccounts will make, counted from the scenario alone (tested equal to what it makes): a
 * directional trader gets a wallet and one account per position (isolated) or one for all (cross);
 * an option seller an account without slots; a basis issuer one account with one slot; a liquidator
 * or market maker an account with a slot in every market of its exchange, as does each backstop vault.
 */
export function draftCapacity(s: Scenario, graph: DependencyGraph, marketExchange: Int32Array): DraftCapacity {
  const marketsOf = new Int32Array(s.exchanges.length);
  for (let mk = 0; mk < marketExchange.length; mk++) marketsOf[marketExchange[mk]!]!++;
  let accounts = 0;
  let slots = 0;
  let wallets = 0;
  for (const c of s.traders) {
    if (isLendingCohort(c)) continue;
    if (c.kind === 'directional') {
      const n = c.positions.length;
      accounts += c.count * (c.marginMode === 'cross' ? 1 : n);
      slots += c.count * n;
      wallets += c.count;
    } else if (c.kind === 'optionSeller') {
      accounts += c.count;
    } else if (c.kind === 'basisIssuer') {
      accounts += 1;
      slots += 1;
    } else {
      accounts += c.count;
      slots += c.count * marketsOf[denseId(graph, 'protocol', c.exchange)]!;
    }
  }
  for (const x of s.exchanges) {
    if (!x.backstop) continue;
    accounts += 1;
    slots += marketsOf[denseId(graph, 'protocol', x.id)]!;
  }
  return { accounts, slots, wallets };
}

/** Every perp account as a draft: cohorts in order (makers take the other side), then vaults. */
function draftAccounts(s: Scenario, graph: DependencyGraph, init: Stream, initialPrice: Float64Array, markets: Markets, opt: OptionContext) {
  const { nMarkets, marketExchange } = markets;
  const nExchanges = s.exchanges.length;
  const drafts = new AccountDrafts(draftCapacity(s, graph, marketExchange));
  const exchangeMarkets = (xi: number) => {
    const out: number[] = [];
    for (let mm = 0; mm < nMarkets; mm++) if (marketExchange[mm] === xi) out.push(mm);
    return out;
  };
  const exchangeHasLiquidators = new Uint8Array(nExchanges);
  const nCohorts = s.traders.length;
  const cohortCallMultiple = new Float64Array(nCohorts);
  const cohortTopUpProbability = new Float64Array(nCohorts);
  const cohortDeleverageProbability = new Float64Array(nCohorts);
  const cohortUnwindShare = new Float64Array(nCohorts);
  const cohortMaxLeverage = new Float64Array(nCohorts + s.backstopVaults.length);
  const netQty = new Float64Array(nMarkets); // directional net position per market
  const makersOf: number[][] = Array.from({ length: nExchanges }, () => []);
  const issuerAccount = new Map<string, number>();

  for (const c of s.traders) {
    // Lending cohorts hold no perp account (src/model/lending.ts builds them).
    if (isLendingCohort(c)) continue;
    const ci = denseId(graph, 'cohort', c.id);
    const xi = denseId(graph, 'protocol', c.exchange);
    if (c.kind === 'directional') {
      cohortCallMultiple[ci] = c.marginCall.callBelowMaintenanceMultiple;
      cohortTopUpProbability[ci] = c.marginCall.topUpProbability;
      cohortDeleverageProbability[ci] = c.marginCall.deleverageProbability;
      draftDirectional(c, { s, graph, init, initialPrice, markets, ci, xi }, drafts, netQty);
    } else if (c.kind === 'optionSeller') {
      cohortCallMultiple[ci] = 1;
      draftOptionSellers(c, ci, xi, init, opt, drafts);
    } else if (c.kind === 'basisIssuer') {
      // One delta-neutral account: spot of the hedge asset as collateral, the same notional short.
      const asset = denseId(graph, 'asset', c.hedgeAsset);
      const mk = markets.marketOf.get(`${xi}/${asset}`)!;
      const accepted = s.exchanges[xi]!.collateralAssets.find((x) => x.asset === c.hedgeAsset)!;
      const q = -c.backingUsd / initialPrice[asset]!;
      issuerAccount.set(c.id, drafts.length);
      netQty[mk] = netQty[mk]! + q;
      drafts.add(xi, ci, Role.directional, -1, 0);
      drafts.addSlot(mk, q);
      drafts.setColl([{ asset, oracle: denseId(graph, 'oracle', accepted.oracle), weight: accepted.weight, qty: c.backingUsd / initialPrice[asset]! }]);
    } else {
      if (c.kind === 'liquidator') {
        exchangeHasLiquidators[xi] = 1;
        cohortUnwindShare[ci] = c.unwindSharePerStep;
      }
      cohortMaxLeverage[ci] = c.maxLeverage;
      const ms = exchangeMarkets(xi);
      for (let t = 0; t < c.count; t++) {
        if (c.kind === 'marketMaker') makersOf[xi]!.push(drafts.length);
        const maker = c.kind === 'marketMaker';
        const series = maker ? opt.seriesOf(xi) : [];
        drafts.add(xi, ci, maker ? Role.marketMaker : Role.liquidator, -1, c.collateralUsd);
        for (const mk of ms) drafts.addSlot(mk, 0);
        if (series.length > 0) drafts.setOptions(series.map((k) => ({ series: k, qty: 0 })));
      }
    }
  }
  // Market makers hold the other side of the directional open interest, split evenly, so that
  // every market starts with Σ qty = 0 (perp PnL is zero-sum).
  for (let mk = 0; mk < nMarkets; mk++) {
    const makers = makersOf[marketExchange[mk]!]!;
    if (makers.length === 0) continue;
    let assigned = 0;
    makers.forEach((d, i) => {
      const slot = drafts.slotOf(d, mk);
      // The last maker takes the remainder, so the makers' quantities add up to exactly −net.
      const q = i === makers.length - 1 ? -netQty[mk]! - assigned : -netQty[mk]! / makers.length;
      if (slot >= 0) drafts.slotQty[slot] = q;
      assigned += q;
    });
  }
  // Makers hold the other side of what the option sellers sold, split evenly.
  for (let k = 0; k < opt.series.nSeries; k++) {
    const makers = makersOf[opt.series.seriesExchange[k]!]!;
    let net = 0;
    for (const list of drafts.options.values()) for (const o of list) if (o.series === k) net += o.qty;
    let assigned = 0;
    makers.forEach((d, i) => {
      const slot = drafts.options.get(d)!.find((o) => o.series === k)!;
      slot.qty = i === makers.length - 1 ? -net - assigned : -net / makers.length;
      assigned += slot.qty;
    });
  }
  const exchangeVaultAccount = new Int32Array(nExchanges).fill(-1);
  const takeoverBelowMaintenanceShare = new Float64Array(nExchanges);
  for (const x of s.exchanges) {
    if (!x.backstop) continue;
    const xi = denseId(graph, 'protocol', x.id);
    const vault = s.backstopVaults.find((v) => v.id === x.backstop!.vault)!;
    const vaultIndex = denseId(graph, 'vault', vault.id);
    exchangeVaultAccount[xi] = drafts.length;
    takeoverBelowMaintenanceShare[xi] = x.backstop.takeoverBelowMaintenanceShare;
    drafts.add(xi, nCohorts + vaultIndex, Role.vault, -1, vault.initialUsd);
    cohortMaxLeverage[nCohorts + vaultIndex] = vault.maxLeverage;
    for (const mk of exchangeMarkets(xi)) drafts.addSlot(mk, 0);
  }
  return {
    drafts,
    issuerAccount,
    exchangeVaultAccount,
    takeoverBelowMaintenanceShare,
    cohorts: { exchangeHasLiquidators, cohortCallMultiple, cohortTopUpProbability, cohortDeleverageProbability, cohortUnwindShare, cohortMaxLeverage },
  };
}

/** Each cohort's margin withdrawal rule (design decision 58), by cohort code; every[c] = 0: it never withdraws. */
export interface WithdrawalTables {
  readonly every: Int32Array;
  readonly above: Float64Array;
  readonly downTo: Float64Array;
  readonly probability: Float64Array;
  /** Whether any cohort withdraws (the phase returns at once otherwise). */
  readonly any: boolean;
}

function withdrawalTables(s: Scenario, graph: DependencyGraph): WithdrawalTables {
  const n = s.traders.length;
  const t = { every: new Int32Array(n), above: new Float64Array(n), downTo: new Float64Array(n), probability: new Float64Array(n), any: false };
  for (const c of s.traders) {
    if (c.kind !== 'directional' || c.withdrawal == null) continue;
    const ci = denseId(graph, 'cohort', c.id);
    t.every[ci] = c.withdrawal.everySteps;
    t.above[ci] = c.withdrawal.aboveInitialMarginMultiple;
    t.downTo[ci] = c.withdrawal.downToInitialMarginMultiple;
    t.probability[ci] = c.withdrawal.probability;
    t.any = true;
  }
  return t;
}

/** Tokens backed by an account's equity (vault shares, synthetic dollars): which account, how many tokens. */
function derivedAccounts(s: Scenario, graph: DependencyGraph, exchangeVaultAccount: Int32Array, issuerAccount: Map<string, number>) {
  const nAssets = s.assets.length;
  const derivedAccount = new Int32Array(nAssets).fill(-1);
  const derivedSupply = new Float64Array(nAssets);
  const derivedRedeemable = new Uint8Array(nAssets);
  const derivedConfidenceDiscount = new Float64Array(nAssets);
  for (const a of s.assets) {
    const d = a.derived;
    const i = denseId(graph, 'asset', a.symbol);
    if (d?.kind === 'vaultShare') {
      const xi = s.exchanges.findIndex((x) => x.backstop?.vault === d.vault);
      derivedAccount[i] = exchangeVaultAccount[xi]!;
      derivedSupply[i] = s.backstopVaults.find((v) => v.id === d.vault)!.initialUsd / a.initialPrice;
    } else if (d?.kind === 'syntheticDollar') {
      derivedAccount[i] = issuerAccount.get(d.issuer)!;
      const issuer = s.traders.find((c) => c.id === d.issuer) as { backingUsd: number };
      derivedSupply[i] = issuer.backingUsd / a.initialPrice;
      derivedRedeemable[i] = d.redeemable ? 1 : 0;
      derivedConfidenceDiscount[i] = d.confidenceDiscount;
    }
  }
  return { derivedAccount, derivedSupply, derivedRedeemable, derivedConfidenceDiscount };
}

/**
 * Packs the drafts into struct-of-arrays accounts and positions, lays out the ledger's holders
 * (accounts, wallets, funds, pools, reserves, then lending's), and builds the lending markets.
 */
function packAccounts(
  exp: Experiment,
  graph: DependencyGraph,
  init: Stream,
  initialPrice: Float64Array,
  markets: Markets,
  drafts: AccountDrafts,
) {
  const s = exp.scenario;
  const { nMarkets, marketAsset } = markets;
  const nExchanges = s.exchanges.length;
  const nAccounts = drafts.length;
  const nPositions = drafts.nSlots;
  const { slotStart, slotMarket, slotQty } = drafts;
  // 16-bit codes (the schema caps exchanges, markets, cohorts and vaults to fit): 2 bytes an account.
  // The drafts' columns, sized exactly (draftCapacity), become the world's: no copy.
  const accountCohort = exactly(drafts.cohort, nAccounts);
  const posStart = exactly(slotStart, nAccounts + 1);
  const posAccount = new Int32Array(nPositions);
  const posMarket = exactly(slotMarket, nPositions);
  const posQty = exactly(slotQty, nPositions);
  const posQuote = new Float64Array(nPositions);
  const marketCount = new Int32Array(nMarkets);
  const marketInitialGrossQty = new Float64Array(nMarkets);
  const nWallets = drafts.nWallets;
  const nFunds = s.insuranceFunds.length;
  const walletHolderStart = nAccounts;
  const fundHolderStart = walletHolderStart + nWallets;
  const poolHolderStart = fundHolderStart + nFunds;
  const reserveHolderStart = poolHolderStart + nExchanges;
  // Each market's fee pool (Drift), then lending markets: borrowers drawn after every perp
  // account; their USD holders come last.
  const feePoolHolderStart = reserveHolderStart + nExchanges;
  const lendingHolderStart = feePoolHolderStart + nMarkets;
  // Non-cash perp collateral, in account order: units held in the unit ledger.
  const collStart = new Int32Array(nAccounts + 1);
  const perpCollateral: { asset: number; qty: number }[] = [];
  const collOracleList: number[] = [];
  const collWeightList: number[] = [];
  // The side table's keys ascend: accounts without collateral take the count so far.
  let collAccount = 0;
  for (const [a, list] of drafts.coll) {
    while (collAccount < a) collStart[++collAccount] = perpCollateral.length;
    for (const c of list) {
      perpCollateral.push({ asset: c.asset, qty: c.qty });
      collOracleList.push(c.oracle);
      collWeightList.push(c.weight);
    }
    collStart[++collAccount] = perpCollateral.length;
  }
  while (collAccount < nAccounts) collStart[++collAccount] = perpCollateral.length;
  // Units held outside the lending markets: perp accounts' non-cash collateral, then the arbitrageurs'
  // inventories, one unit-ledger holder each.
  const arbitrageInventory = arbitrageurInventory(s, graph, initialPrice);
  const held = [...perpCollateral, ...arbitrageInventory, ...stableUnits(s, graph)];
  const lendingBuild = buildLending(exp, graph, init, nExchanges, initialPrice, lendingHolderStart, held);
  const collHolder = Int32Array.from(perpCollateral, (_, k) => lendingBuild.heldHolderStart + k);
  // The arbitrageurs' cash holders come last.
  const arbitrageHolderStart = lendingHolderStart + lendingBuild.usdInitial.length;
  const arbitrage = buildArbitrage(s, graph, arbitrageHolderStart, lendingBuild.heldHolderStart + perpCollateral.length);
  // Then the algorithmic stables' holders and swap desks (all without cash at step 0).
  const stables = buildStables(s, graph, exp.stepSeconds, lendingBuild.heldHolderStart + perpCollateral.length + arbitrageInventory.length, arbitrageHolderStart + arbitrage.n);
  const initialBalances = new Float64Array(arbitrageHolderStart + arbitrage.n + STABLE_CASH_HOLDERS * stables.n);
  lendingBuild.usdInitial.forEach((v, i) => (initialBalances[lendingHolderStart + i] = v));
  initialBalances.set(arbitrage.initialCashUsd, arbitrageHolderStart);
  const cohortTables = packCohortTables(drafts, nAccounts, walletHolderStart);
  initialBalances.set(drafts.collateralUsd.subarray(0, nAccounts));
  for (let a = 0; a < nAccounts; a++) {
    for (let p = slotStart[a]!; p < slotStart[a + 1]!; p++) {
      posAccount[p] = a;
      const mk = slotMarket[p]!;
      const q = slotQty[p]!;
      marketInitialGrossQty[mk] = marketInitialGrossQty[mk]! + Math.abs(q);
      // Every position opens at the initial price: quote = −qty × price, so value = 0 at step 0.
      posQuote[p] = q === 0 ? 0 : -q * initialPrice[marketAsset[mk]!]!;
      marketCount[mk]!++;
    }
  }
  initialBalances.set(drafts.walletInitial.subarray(0, nWallets), walletHolderStart);
  const fundCapUsd = new Float64Array(nFunds);
  for (const f of s.insuranceFunds) {
    const fi = denseId(graph, 'fund', f.id);
    initialBalances[fundHolderStart + fi] = f.initialUsd;
    fundCapUsd[fi] = f.capUsd ?? Infinity;
  }
  // Per market: its own fund (-1 none), its claim room on the fund, its fee pool.
  const marketFund = new Int32Array(nMarkets).fill(-1);
  const marketClaimRoomUsd = new Float64Array(nMarkets).fill(Infinity);
  const marketHasFeePool = new Uint8Array(nMarkets);
  let mk0 = 0;
  for (const x of s.exchanges) {
    for (const mkt of x.markets) {
      if (mkt.insuranceFund !== undefined) marketFund[mk0] = denseId(graph, 'fund', mkt.insuranceFund);
      if (mkt.insuranceClaimCapUsd !== undefined) marketClaimRoomUsd[mk0] = mkt.insuranceClaimCapUsd;
      if (mkt.feePoolUsd !== undefined) {
        marketHasFeePool[mk0] = 1;
        initialBalances[feePoolHolderStart + mk0] = mkt.feePoolUsd;
      }
      mk0++;
    }
  }
  const marketPosStart = new Int32Array(nMarkets + 1);
  for (let mk = 0; mk < nMarkets; mk++) marketPosStart[mk + 1] = marketPosStart[mk]! + marketCount[mk]!;
  const marketPositions = new Int32Array(nPositions);
  const fill = marketPosStart.slice(0, nMarkets);
  for (let q = 0; q < nPositions; q++) marketPositions[fill[posMarket[q]!]!++] = q;
  return {
    nAccounts,
    nPositions,
    accountCohort,
    cohortTables,
    posStart,
    posAccount,
    posMarket,
    posQty,
    posQuote,
    marketInitialGrossQty,
    marketPosStart,
    marketPositions,
    nFunds,
    fundCapUsd,
    marketFund,
    marketClaimRoomUsd,
    marketHasFeePool,
    feePoolHolderStart,
    walletHolderStart,
    fundHolderStart,
    poolHolderStart,
    reserveHolderStart,
    initialBalances,
    collStart,
    collHolder,
    collOracle: Int32Array.from(collOracleList),
    collWeight: Float64Array.from(collWeightList),
    perpCollateral,
    lending: lendingBuild.state,
    arbitrage,
    stables,
  };
}

/** The scenario's delistings, in market order (World.delistMarket …). */
function delistings(s: Scenario) {
  const listed = delistedMarkets(s.exchanges);
  return {
    delistMarket: Int32Array.from(listed, (l) => l.market),
    delistStep: Int32Array.from(listed, (l) => l.delisting.atStep),
    delistPriceUsd: Float64Array.from(listed, (l) => l.delisting.priceUsd ?? 0),
    delistEventId: new Int32Array(listed.length).fill(-1),
  };
}

/** Each exchange's liquidation, ADL, funding and socialization rules. */
function exchangeRules(s: Scenario, graph: DependencyGraph, stepSeconds: number) {
  const nExchanges = s.exchanges.length;
  const exchangeFund = new Int32Array(nExchanges);
  const liquidationMode = new Uint8Array(nExchanges);
  const adlRanking = new Uint8Array(nExchanges);
  const penaltyFraction = new Float64Array(nExchanges);
  const partialMinNotionalUsd = new Float64Array(nExchanges);
  const priceBandFraction = new Float64Array(nExchanges);
  const maxRoundsPerStep = new Int32Array(nExchanges);
  const fundingInterestPer8h = new Float64Array(nExchanges);
  const fundingClampPer8h = new Float64Array(nExchanges);
  const fundingCapPerHour = new Float64Array(nExchanges);
  const fundingIndexPrice = new Uint8Array(nExchanges);
  const socializeByFunding = new Uint8Array(nExchanges);
  const sliceAboveNotionalUsd = new Float64Array(nExchanges).fill(Infinity);
  const sliceFraction = new Float64Array(nExchanges).fill(1);
  const sliceCooldownSteps = new Int32Array(nExchanges);
  const fillableSmmr = new Float64Array(nExchanges);
  const fillableBa = new Float64Array(nExchanges);
  const adlAtPreviousOracle = new Uint8Array(nExchanges);
  const liquidationTakeover = new Uint8Array(nExchanges);
  for (const x of s.exchanges) {
    const xi = denseId(graph, 'protocol', x.id);
    exchangeFund[xi] = denseId(graph, 'fund', x.insuranceFund);
    liquidationMode[xi] = LiquidationMode[x.liquidation.mode];
    adlRanking[xi] = AdlRanking[x.adl.ranking];
    penaltyFraction[xi] = x.liquidation.penaltyFraction;
    partialMinNotionalUsd[xi] = x.liquidation.partialMinNotionalUsd;
    priceBandFraction[xi] = x.liquidation.priceBandFraction;
    maxRoundsPerStep[xi] = x.liquidation.maxRoundsPerStep;
    fundingInterestPer8h[xi] = x.funding.interestRatePer8h;
    fundingClampPer8h[xi] = x.funding.premiumClampPer8h;
    fundingCapPerHour[xi] = x.funding.capPerHour;
    fundingIndexPrice[xi] = FundingIndexPrice[x.funding.indexPrice];
    socializeByFunding[xi] = x.socialization === 'funding-index' ? 1 : 0;
    const sl = x.liquidation.slices;
    if (sl) {
      sliceAboveNotionalUsd[xi] = sl.aboveNotionalUsd;
      sliceFraction[xi] = sl.fraction;
      // A slice at step t opens a cooldown over steps t … t + c − 1: the rest of its own step's
      // rounds, and as many more steps as the cooldown lasts.
      sliceCooldownSteps[xi] = Math.max(1, Math.ceil(sl.cooldownSeconds / stepSeconds - 1e-9));
    }
    if (x.liquidation.fillablePrice) {
      fillableSmmr[xi] = x.liquidation.fillablePrice.spreadToMaintenanceRatio;
      fillableBa[xi] = x.liquidation.fillablePrice.bankruptcyAdjustment;
    }
    adlAtPreviousOracle[xi] = x.adl.price === 'previous-mark' ? 1 : 0;
    liquidationTakeover[xi] = x.liquidation.takeover ? 1 : 0;
  }
  return {
    exchangeFund,
    liquidationMode,
    adlRanking,
    penaltyFraction,
    partialMinNotionalUsd,
    priceBandFraction,
    maxRoundsPerStep,
    fundingInterestPer8h,
    fundingClampPer8h,
    fundingCapPerHour,
    fundingIndexPrice,
    socializeByFunding,
    sliceAboveNotionalUsd,
    sliceFraction,
    sliceCooldownSteps,
    fillableSmmr,
    fillableBa,
    adlAtPreviousOracle,
    liquidationTakeover,
  };
}

/** The most positions any market has. */
function largestMarket(marketPosStart: Int32Array): number {
  let most = 0;
  for (let m = 0; m + 1 < marketPosStart.length; m++) most = Math.max(most, marketPosStart[m + 1]! - marketPosStart[m]!);
  return most;
}

/** Σ of the positive positions of each market, in position order. */
function longQtyByMarket(nMarkets: number, posMarket: Uint16Array, posQty: Float64Array): Float64Array {
  const out = new Float64Array(nMarkets);
  for (let p = 0; p < posQty.length; p++) if (posQty[p]! > 0) out[posMarket[p]!] = out[posMarket[p]!]! + posQty[p]!;
  return out;
}

/** How a world is run (not part of the experiment: results are the same either way). */
export interface WorldOptions {
  /** 'event' (default): the margin index picks the accounts to check; 'every-step': all of them. */
  marginChecks?: MarginChecks;
}

export function buildWorld(exp: Experiment, graph: DependencyGraph, seeds: RunSeeds, opts: WorldOptions = {}): World {
  const s = exp.scenario;
  const dt = exp.stepSeconds;
  const init = makeStream(seeds.init);
  const assets = buildAssets(s, graph, dt);
  const { nAssets, initialPrice, peg } = assets;
  const oracles = buildOracles(s, graph, dt, initialPrice);
  const { nOracles } = oracles;
  const markets = buildMarkets(s, graph);
  const { nMarkets, marketExchange, marketAsset } = markets;
  const nExchanges = s.exchanges.length;
  // Margin models beyond the tiers: portfolio (scenario grid, linear books) and dynamic (EWMA).
  const margin = marginModels(exp, graph, nExchanges, nMarkets, marketExchange, marketAsset);
  const optionSeries = buildOptionSeries(exp, graph, markets.marketOf, margin.marketGroup);
  const drafted = draftAccounts(s, graph, init, initialPrice, markets, optionContext(exp, optionSeries, margin));
  const { drafts, exchangeVaultAccount, takeoverBelowMaintenanceShare } = drafted;
  const derived = derivedAccounts(s, graph, exchangeVaultAccount, drafted.issuerAccount);
  const packed = packAccounts(exp, graph, init, initialPrice, markets, drafts);
  const { nAccounts, nPositions, nFunds, initialBalances, fundHolderStart } = packed;
  const nProtocols = nExchanges + s.lendingMarkets.length;
  const rules = exchangeRules(s, graph, dt);
  const options = packOptionPositions(optionSeries, drafts.length, drafts.options, initialPrice, dt);

  const chol = (m: number[][], path: string): Float64Array => {
    const l = cholesky(m);
    if (!l) throw new Error(`${path} is not positive definite (validation should have caught this)`);
    return l;
  };
  const sw = s.regimes.switching;
  const perStep = (ratePerHour: number) => 1 - Math.exp(-ratePerHour * (dt / 3600));

  // Shocks.
  const nShocks = s.shocks.length;
  const shockAsset = Int32Array.from(s.shocks, (k) => denseId(graph, 'asset', k.asset));
  const shockFactorPerStep = Float64Array.from(s.shocks, (k) => Math.pow(1 + k.totalReturn, 1 / k.overSteps));
  const shockStartStep = Int32Array.from(s.shocks, (k) => k.startStep);
  const shockEndStep = Int32Array.from(s.shocks, (k) => k.startStep + k.overSteps);

  const regimeMultiplier = (key: 'volatilityMultiplier' | 'jumpIntensityMultiplier' | 'depthMultiplier') =>
    Float64Array.of(s.regimes.calm[key], s.regimes.stress[key]);
  const initialRegime = s.regimes.initial === 'calm' ? 0 : 1;
  const depthMultiplier = regimeMultiplier('depthMultiplier');
  const maxQueue = nAccounts;
  const roles = roleIndex(drafts, nExchanges);
  // Through withStableShape: a literal this large gets a hidden class per call (see shape.ts).
  const w = withStableShape<World>({
    steps: exp.steps,
    stepSeconds: dt,
    step: 0,
    round: 0,
    marksStale: false,
    markEpoch: 1,
    markStampNow: 1,
    nAssets,
    assetSymbols: s.assets.map((a) => a.symbol),
    initialPrice,
    fundamental: initialPrice.slice(),
    market: initialPrice.slice(),
    impactModel: assets.impactModel,
    impactCoefficient: assets.impactCoefficient,
    depthUsd: assets.depthUsd.map((d) => d * depthMultiplier[initialRegime]!),
    baseDepthUsd: assets.depthUsd,
    permanentShare: assets.permanentShare,
    temporaryDecayPerStep: assets.temporaryDecayPerStep,
    impactPermanent: new Float64Array(nAssets),
    soldUsdThisStep: new Float64Array(nAssets),
    derivedUnderlying: assets.derivedUnderlying,
    peg,
    derivedKind: assets.derivedKind,
    derivedBridge: assets.derivedBridge,
    derivedAccount: derived.derivedAccount,
    derivedSupply: derived.derivedSupply,
    derivedRedeemable: derived.derivedRedeemable,
    derivedConfidenceDiscount: derived.derivedConfidenceDiscount,
    nBridges: s.bridges.length,
    bridgeFailAtStep: Int32Array.from(s.bridges, (b) => b.failAtStep ?? -1),
    bridgeFailProbability: Float64Array.from(s.bridges, (b) => b.failProbabilityPerStep ?? NaN),
    bridgeRecoveryFraction: Float64Array.from(s.bridges, (b) => b.recoveryFraction),
    bridgeFailed: new Uint8Array(s.bridges.length),
    bridgeEventId: new Int32Array(s.bridges.length).fill(-1),
    pegAtLastEvent: peg.slice(),
    pegReversionPerStep: assets.pegReversionPerStep,
    pegVolPerStep: assets.pegVolPerStep,
    pegStressDiscount: assets.pegStressDiscount,
    pegPressureImpact: assets.pegPressureImpact,
    impactTemporary: new Float64Array(nAssets),
    driftPerStep: assets.driftPerStep,
    volPerStep: assets.volPerStep,
    jumpLambdaPerStep: assets.jumpLambdaPerStep,
    jumpMean: assets.jumpMean,
    jumpStd: assets.jumpStd,
    replayStart: assets.replayStart,
    replayPrices: assets.replayPrices,
    replayEventId: new Int32Array(nAssets).fill(-1),
    regime: initialRegime,
    regimeEvent: -1,
    choleskyByRegime: [
      chol(s.regimes.calm.correlation, 'scenario.regimes.calm.correlation'),
      chol(s.regimes.stress.correlation, 'scenario.regimes.stress.correlation'),
    ],
    volMultiplier: regimeMultiplier('volatilityMultiplier'),
    jumpMultiplier: regimeMultiplier('jumpIntensityMultiplier'),
    depthMultiplier,
    switching: {
      kind: sw.kind,
      calmToStressPerStep: sw.kind === 'markov' ? perStep(sw.calmToStressPerHour) : 0,
      stressToCalmPerStep: sw.kind === 'markov' ? perStep(sw.stressToCalmPerHour) : 0,
      toStressAtStep: sw.kind === 'scripted' ? sw.toStressAtStep : -1,
      toCalmAtStep: sw.kind === 'scripted' ? (sw.toCalmAtStep ?? -1) : -1,
    },
    peakMarket: initialPrice.slice(),
    maxDrawdownMarket: new Float64Array(nAssets),
    peakFundamental: initialPrice.slice(),
    maxDrawdownFundamental: new Float64Array(nAssets),
    normals: new Float64Array(nAssets),
    nShocks,
    shockIds: s.shocks.map((k) => k.id),
    shockAsset,
    shockFactorPerStep,
    shockStartStep,
    shockEndStep,
    shockEventId: new Int32Array(nShocks).fill(-1),
    assetShockDown: new Int32Array(nAssets).fill(-1),
    assetShockUp: new Int32Array(nAssets).fill(-1),
    assetTradeDown: new Int32Array(nAssets).fill(-1),
    assetTradeUp: new Int32Array(nAssets).fill(-1),
    nOracles,
    oracleAsset: oracles.oracleAsset,
    oracleSource: oracles.oracleSource,
    oracleLag: oracles.oracleLag,
    oraclePrice: oracles.oraclePrice,
    oraclePrevPrice: oracles.oraclePrice.slice(),
    oracleTwapSteps: oracles.oracleTwapSteps,
    oracleDeviation: oracles.oracleDeviation,
    oracleHeartbeatSteps: oracles.oracleHeartbeatSteps,
    oracleFloorUsd: oracles.oracleFloorUsd,
    oracleFreezeStep: oracles.oracleFreezeStep,
    oracleResumeStep: oracles.oracleResumeStep,
    venueModel: oracles.venueModel,
    venueCoefficient: oracles.venueCoefficient,
    venueDepthUsd: oracles.venueDepthUsd,
    venuePermanentShare: oracles.venuePermanentShare,
    venueDecayPerStep: oracles.venueDecayPerStep,
    venuePermanent: new Float64Array(nOracles),
    venueTemporary: new Float64Array(nOracles),
    venueTradeDown: new Int32Array(nOracles).fill(-1),
    venueTradeUp: new Int32Array(nOracles).fill(-1),
    oracleLastUpdateStep: new Int32Array(nOracles),
    oracleHistory: oracles.oracleHistory,
    historyLength: oracles.historyLength,
    assetFirstOracle: oracles.assetFirstOracle,
    nExchanges,
    exchangeIds: s.exchanges.map((x) => x.id),
    fundIds: fundIdsByDenseId(s, graph),
    nProtocols,
    protocolChain: oracles.protocolChain,
    chainCapacity: Int32Array.from(s.chains, (c) => c.liquidationsPerStep ?? -1),
    chainUsed: new Int32Array(s.chains.length),
    chainCongested: new Uint8Array(s.chains.length),
    outageExchange: Int32Array.from(s.exchanges.flatMap((x, xi) => x.outages.map(() => xi))),
    outageFrom: Int32Array.from(s.exchanges.flatMap((x) => x.outages.map((o) => o.fromStep))),
    outageTo: Int32Array.from(s.exchanges.flatMap((x) => x.outages.map((o) => o.toStep))),
    exchangeDown: new Uint8Array(nExchanges),
    ...delistings(s),
    protocolIds: [...s.exchanges.map((x) => x.id), ...s.lendingMarkets.map((l) => l.id)],
    lending: packed.lending,
    options,
    arbitrage: packed.arbitrage,
    stables: packed.stables,
    optionsListed: options.nSeries > 0,
    exchangeFund: rules.exchangeFund,
    marketFund: packed.marketFund,
    sliceAboveNotionalUsd: rules.sliceAboveNotionalUsd,
    sliceFraction: rules.sliceFraction,
    sliceCooldownSteps: rules.sliceCooldownSteps,
    accountNextLiquidationStep: new Int32Array(rules.sliceAboveNotionalUsd.some((v) => v < Infinity) ? nAccounts : 0),
    fillableSmmr: rules.fillableSmmr,
    fillableBa: rules.fillableBa,
    adlAtPreviousOracle: rules.adlAtPreviousOracle,
    liquidationTakeover: rules.liquidationTakeover,
    marketClaimRoomUsd: packed.marketClaimRoomUsd,
    marketHasFeePool: packed.marketHasFeePool,
    feePoolHolderStart: packed.feePoolHolderStart,
    exchangeVaultAccount,
    takeoverBelowMaintenanceShare,
    liquidationMode: rules.liquidationMode,
    adlRanking: rules.adlRanking,
    penaltyFraction: rules.penaltyFraction,
    partialMinNotionalUsd: rules.partialMinNotionalUsd,
    priceBandFraction: rules.priceBandFraction,
    maxRoundsPerStep: rules.maxRoundsPerStep,
    fundingInterestPer8h: rules.fundingInterestPer8h,
    fundingClampPer8h: rules.fundingClampPer8h,
    fundingCapPerHour: rules.fundingCapPerHour,
    fundingIndexPrice: rules.fundingIndexPrice,
    socializeByFunding: rules.socializeByFunding,
    ...margin,
    exchangeHasLiquidators: drafted.cohorts.exchangeHasLiquidators,
    makerStart: roles.makerStart,
    makerAccounts: roles.makerAccounts,
    liquidatorStart: roles.liquidatorStart,
    liquidatorAccounts: roles.liquidatorAccounts,
    nMarkets,
    marketExchange,
    marketAsset,
    marketOracle: markets.marketOracle,
    marketInitialGrossQty: packed.marketInitialGrossQty,
    marketLongQty: longQtyByMarket(nMarkets, packed.posMarket, packed.posQty),
    fundingIndex: new Float64Array(nMarkets),
    fundingLongsPaidUsd: new Float64Array(nMarkets),
    tierStart: markets.tierStart,
    tierUpperUsd: markets.tierUpperUsd,
    tierImRate: markets.tierImRate,
    tierMmRate: markets.tierMmRate,
    tierImAmount: markets.tierImAmount,
    tierMmAmount: markets.tierMmAmount,
    marketPosStart: packed.marketPosStart,
    marketPositions: packed.marketPositions,
    nAccounts,
    accountCohort: packed.accountCohort,
    accountStatus: new Uint8Array(nAccounts),
    ...packed.cohortTables,
    posStart: packed.posStart,
    accountEquity: new Float64Array(nAccounts),
    accountMaintenance: new Float64Array(nAccounts),
    accountNotional: new Float64Array(nAccounts),
    nPositions,
    posAccount: packed.posAccount,
    posMarket: packed.posMarket,
    posQty: packed.posQty,
    posQuote: packed.posQuote,
    posFundingIndex: new Float64Array(nPositions),
    cohortCallMultiple: drafted.cohorts.cohortCallMultiple,
    cohortTopUpProbability: drafted.cohorts.cohortTopUpProbability,
    cohortDeleverageProbability: drafted.cohorts.cohortDeleverageProbability,
    cohortUnwindShare: drafted.cohorts.cohortUnwindShare,
    withdrawal: withdrawalTables(s, graph),
    cohortMaxLeverage: drafted.cohorts.cohortMaxLeverage,
    nFunds,
    fundCapUsd: packed.fundCapUsd,
    ledger: new Ledger(initialBalances, nAccounts),
    walletHolderStart: packed.walletHolderStart,
    fundHolderStart,
    poolHolderStart: packed.poolHolderStart,
    reserveHolderStart: packed.reserveHolderStart,
    acc: accumulators(nProtocols),
    events: new EventLog(exp.output.events || exp.output.attribution),
    stepTable: exp.output.steps ? new StepTable(exp.steps, nProtocols) : null,
    priceTable: exp.output.prices ? new PriceTable(exp.steps, nAssets) : null,
    fundMinUsd: Float64Array.from({ length: nFunds }, (_, f) => initialBalances[fundHolderStart + f]!),
    fundInitialUsd: Float64Array.from({ length: nFunds }, (_, f) => initialBalances[fundHolderStart + f]!),
    fundRequiredUsd: new Float64Array(nFunds),
    fundDepletionStep: -1,
    protocolDefaulted: new Uint8Array(nProtocols),
    fairness: { adlLeverage: [], liquidatedLeverage: [] },
    accountContributedUsd: contributedUsd(initialBalances, nAccounts, packed.collStart, packed.perpCollateral, initialPrice),
    // No slots anywhere: no per-account offsets (4 bytes an account); readers check collateralListed.
    collStart: packed.perpCollateral.length > 0 ? packed.collStart : new Int32Array(0),
    collateralListed: packed.perpCollateral.length > 0,
    collHolder: packed.collHolder,
    collOracle: packed.collOracle,
    collWeight: packed.collWeight,
    units: packed.lending.units,
    usdAtStart: initialBalances.slice(fundHolderStart),
    unitsAtStart: packed.lending.units.qty.slice(),
    stressSteps: 0,
    maxCascadeDepth: 0,
    totals: accumulators(nProtocols),
    prices: makeStream(seeds.prices),
    behaviour: makeStream(seeds.behaviour),
    lendingBehaviour: makeStream(seeds.lendingBehaviour),
    scratch: {
      queue: new Int32Array(listStart(maxQueue)),
      queueAccount: new Int32Array(listStart(maxQueue)),
      queueKey: new Float64Array(listStart(maxQueue)),
      ranked: new Int32Array(listStart(largestMarket(packed.marketPosStart))),
      rankScore: new Float64Array(listStart(largestMarket(packed.marketPosStart))),
      capacity: new Float64Array(Math.max(roles.makerAccounts.length, roles.liquidatorAccounts.length)),
      profitAccount: new Int32Array(64),
      profitUsd: new Float64Array(64),
      groupDelta: new Float64Array(Math.max(1, nMarkets)),
    },
    candidates: new Int32Array(nAccounts),
    nCandidates: 0,
    marginIndex: undefined as unknown as MarginIndex,
    adlQueues: new AdlQueues(nMarkets),
  });
  // The index reads the built world (prices, positions), so it is made last.
  (w as { marginIndex: MarginIndex }).marginIndex = new MarginIndex(w, opts.marginChecks !== 'every-step');
  return w;
}
