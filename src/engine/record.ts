// What one run produces, held in typed arrays so the engine never builds row objects: a per-step
// table per protocol, a per-step table per asset, an append-only event log and a run summary.
// io/ turns these into Arrow record batches; nothing here does I/O.

/** Event kinds, in the order of their dictionary codes in events.arrow (append only). */
export const EVENT_KINDS = [
  'shock',
  'regime_switch',
  'margin_call',
  'top_up',
  'deleverage',
  'liquidation',
  'backstop',
  'adl',
  'bad_debt',
  'fund_payout',
  'socialized_loss',
  'unwind',
  'depeg',
  'bridge_failure',
  'manipulation',
  'borrow',
  'exposure_loss',
  'governance_mint',
  'fee_pool_payout',
  'option_liquidation',
  'option_expiry',
  'default',
  'stable_run',
  'stable_swap',
  'delisting',
  'settlement',
  'withdrawal',
] as const;
export type EventKind = (typeof EVENT_KINDS)[number];
export const EventKindCode: Record<EventKind, number> = Object.fromEntries(
  EVENT_KINDS.map((k, i) => [k, i]),
) as Record<EventKind, number>;

/**
 * Channels through which a loss reaches a protocol (attribution.arrow), in dictionary-code order:
 * exogenous — a shock or regime switch moved a price the protocol reads, with no other protocol
 * in between; market_impact — another protocol's forced or voluntary sales moved a shared market;
 * oracle — a venue market an oracle reads was pushed (a manipulation); derived_asset — a derived
 * asset's value moved (a depeg); bridge — a bridge failed; direct_exposure — a debt between
 * protocols (reserved); internal — the chain of causes never leaves the protocol.
 */
export const CHANNELS = ['exogenous', 'market_impact', 'oracle', 'derived_asset', 'bridge', 'direct_exposure', 'internal'] as const;
export const ChannelCode: Record<(typeof CHANNELS)[number], number> = Object.fromEntries(CHANNELS.map((k, i) => [k, i])) as Record<
  (typeof CHANNELS)[number],
  number
>;

/**
 * Losses of one run split by protocol, originating shock and channel: one row per combination
 * that lost something. `origin` codes index the origins list: the experiment's shocks in order, its
 * bridges (a failure), then "regime_switch", then "endogenous" (a chain of causes with no root event).
 */
export class AttributionTable {
  constructor(
    readonly rows: number,
    readonly protocol: Int32Array = new Int32Array(rows),
    readonly origin: Int32Array = new Int32Array(rows),
    readonly channel: Uint8Array = new Uint8Array(rows),
    readonly lossUsd: Float64Array = new Float64Array(rows),
    readonly events: Int32Array = new Int32Array(rows),
  ) {}
}

/**
 * What each cohort (trader cohorts, then backstop vaults, as RunResult.accountCohort codes) put in and
 * what it holds at the end of one run: one row per cohort with accounts, borrowers or keepers, in code
 * order (cohorts.arrow). For perp accounts `contributedUsd` is cash and collateral at the initial price
 * at step 0 plus top-ups (a vault's capital), `valueUsd` cash, open positions at the final marks (net of
 * unsettled funding; options at the model price) and collateral at its oracle price, unweighted; for
 * lending borrowers and keepers see addLendingCohorts; then one row per other participant of the
 * balance sheet (codes after the vaults' and accounts 0; engine/participants.ts). valueUsd −
 * contributedUsd is what the cohort or participant gained or lost.
 */
export class CohortTable {
  constructor(
    readonly rows: number,
    readonly cohort: Int32Array = new Int32Array(rows),
    readonly accounts: Int32Array = new Int32Array(rows),
    readonly contributedUsd: Float64Array = new Float64Array(rows),
    readonly valueUsd: Float64Array = new Float64Array(rows),
  ) {}
}

/**
 * Roles of cohorts.arrow's rows, in the order of their dictionary codes (engine/participants.ts); not
 * model/world.ts's Role, the role of an account (directional, maker, liquidator, vault).
 */
export const PARTICIPANT_ROLES = [
  'trader',
  'backstop_vault',
  'arbitrageur',
  'insurance_fund',
  'exchange',
  'lenders',
  'lending_treasury',
  'stable_holders',
  'stable_desk',
  'stable_collateral_holders',
  'outside_market',
] as const;
export const ParticipantRole = Object.fromEntries(PARTICIPANT_ROLES.map((r, i) => [r, i])) as { readonly [K in (typeof PARTICIPANT_ROLES)[number]]: number };

/** Regime names, in the order of their dictionary codes. */
export const REGIMES = ['calm', 'stress'] as const;

/**
 * An event's quantity, price and amount (USD) for EventLog.pushAmounts, set by the caller just before
 * the call: the events of trades, margin calls and ADL are pushed from calls V8 does not always
 * inline push() into, where its three double arguments were three fresh heap numbers per event.
 */
export const EVENT_AMOUNTS = new Float64Array(3);
export const EVENT_QUANTITY = 0;
export const EVENT_PRICE = 1;
export const EVENT_USD = 2;

/**
 * Append-only event log. Row i has event id i (per run); `cause` is the id of the event that
 * caused it, or -1. `protocol`, `account` and `asset` are dense ids, -1 when not applicable.
 */
export class EventLog {
  length = 0;
  step: Int32Array;
  round: Int32Array;
  kind: Uint8Array;
  protocol: Int32Array;
  account: Int32Array;
  asset: Int32Array;
  quantity: Float64Array;
  price: Float64Array;
  amountUsd: Float64Array;
  cause: Int32Array;
  /** When false, push() only counts ids (so causes stay consistent) and stores nothing. */
  readonly enabled: boolean;

  constructor(enabled: boolean, initialCapacity = 1024) {
    this.enabled = enabled;
    const c = enabled ? initialCapacity : 0;
    this.step = new Int32Array(c);
    this.round = new Int32Array(c);
    this.kind = new Uint8Array(c);
    this.protocol = new Int32Array(c);
    this.account = new Int32Array(c);
    this.asset = new Int32Array(c);
    this.quantity = new Float64Array(c);
    this.price = new Float64Array(c);
    this.amountUsd = new Float64Array(c);
    this.cause = new Int32Array(c);
  }

  /** Appends an event and returns its id. Quantities are signed (positive = bought). */
  push(
    step: number,
    round: number,
    kind: number,
    protocol: number,
    account: number,
    asset: number,
    quantity: number,
    price: number,
    amountUsd: number,
    cause: number,
  ): number {
    EVENT_AMOUNTS[EVENT_QUANTITY] = quantity;
    EVENT_AMOUNTS[EVENT_PRICE] = price;
    EVENT_AMOUNTS[EVENT_USD] = amountUsd;
    return this.pushAmounts(step, round, kind, protocol, account, asset, cause);
  }

  /** push() with the quantity, price and amount in EVENT_AMOUNTS (set by the caller just before). */
  pushAmounts(step: number, round: number, kind: number, protocol: number, account: number, asset: number, cause: number): number {
    const i = this.length++;
    if (!this.enabled) return i;
    if (i >= this.step.length) this.grow();
    this.step[i] = step;
    this.round[i] = round;
    this.kind[i] = kind;
    this.protocol[i] = protocol;
    this.account[i] = account;
    this.asset[i] = asset;
    this.quantity[i] = EVENT_AMOUNTS[EVENT_QUANTITY]!;
    this.price[i] = EVENT_AMOUNTS[EVENT_PRICE]!;
    this.amountUsd[i] = EVENT_AMOUNTS[EVENT_USD]!;
    this.cause[i] = cause;
    return i;
  }

  /** Number of rows actually stored (0 when disabled). */
  get storedRows(): number {
    return this.enabled ? this.length : 0;
  }

  private grow(): void {
    const c = Math.max(1024, this.step.length * 2);
    const g = <T extends Int32Array | Uint8Array | Float64Array>(a: T, ctor: new (n: number) => T): T => {
      const b = new ctor(c);
      b.set(a);
      return b;
    };
    this.step = g(this.step, Int32Array);
    this.round = g(this.round, Int32Array);
    this.kind = g(this.kind, Uint8Array);
    this.protocol = g(this.protocol, Int32Array);
    this.account = g(this.account, Int32Array);
    this.asset = g(this.asset, Int32Array);
    this.quantity = g(this.quantity, Float64Array);
    this.price = g(this.price, Float64Array);
    this.amountUsd = g(this.amountUsd, Float64Array);
    this.cause = g(this.cause, Int32Array);
  }
}

/** One row per (step, protocol); row index = step × nProtocols + protocol. */
export class StepTable {
  readonly rows: number;
  readonly openInterestUsd: Float64Array;
  readonly marginCalls: Int32Array;
  readonly liquidations: Int32Array;
  readonly liquidationVolumeUsd: Float64Array;
  readonly backstopVolumeUsd: Float64Array;
  readonly badDebtUsd: Float64Array;
  readonly fundPayoutUsd: Float64Array;
  readonly insuranceFundUsd: Float64Array;
  readonly adlVolumeUsd: Float64Array;
  readonly socializedLossUsd: Float64Array;
  readonly cascadeRounds: Int32Array;
  readonly regime: Uint8Array;

  constructor(
    readonly steps: number,
    readonly nProtocols: number,
  ) {
    const n = steps * nProtocols;
    this.rows = n;
    this.openInterestUsd = new Float64Array(n);
    this.marginCalls = new Int32Array(n);
    this.liquidations = new Int32Array(n);
    this.liquidationVolumeUsd = new Float64Array(n);
    this.backstopVolumeUsd = new Float64Array(n);
    this.badDebtUsd = new Float64Array(n);
    this.fundPayoutUsd = new Float64Array(n);
    this.insuranceFundUsd = new Float64Array(n);
    this.adlVolumeUsd = new Float64Array(n);
    this.socializedLossUsd = new Float64Array(n);
    this.cascadeRounds = new Int32Array(n);
    this.regime = new Uint8Array(n);
  }
}

/** One row per (step, asset); row index = step × nAssets + asset. */
export class PriceTable {
  readonly rows: number;
  readonly fundamental: Float64Array;
  readonly market: Float64Array;
  /** Price of the first oracle reading the asset; NaN when no oracle reads it (written as null). */
  readonly oracle: Float64Array;

  constructor(
    readonly steps: number,
    readonly nAssets: number,
  ) {
    const n = steps * nAssets;
    this.rows = n;
    this.fundamental = new Float64Array(n);
    this.market = new Float64Array(n);
    this.oracle = new Float64Array(n);
  }
}

/** Summary metrics of one run (one row of runs.arrow). Money in USD. */
export interface RunSummary {
  totalBadDebtUsd: number;
  insuranceFundMinUsd: number;
  /** First step at which some insurance fund was empty after paying out; -1 if never. */
  insuranceFundDepletionStep: number;
  fundPayoutUsd: number;
  adlVolumeUsd: number;
  adlCount: number;
  /** Bad debt borne by ADL'd accounts: total bad debt = fund payout + this + socialized + uncovered. */
  adlAbsorbedUsd: number;
  socializedLossUsd: number;
  /** Bad debt that no stage of the waterfall could cover (left as negative account cash). */
  uncoveredBadDebtUsd: number;
  /**
   * Lending markets at the end of the run: Σ over borrowers still open of max(0, debt − collateral)
   * at oracle prices — losses not yet booked because nobody liquidated them (the "insolvent debt"
   * whose 95th percentile lending-risk reports call value at risk).
   */
  insolventDebtUsd: number;
  /** Losses of insurance funds through their deposits in lending markets (the direct-exposure channel). */
  exposureLossUsd: number;
  liquidationCount: number;
  liquidationVolumeUsd: number;
  backstopVolumeUsd: number;
  marginCalls: number;
  maxCascadeDepth: number;
  /** Longest chain of causes in the event log (0 without events): how many hops a loss travelled. */
  causeChainDepth: number;
  /** Largest peak-to-trough fall of any asset's market price, as a fraction. */
  maxMarketDrawdown: number;
  /** The fundamental drawdown of the same asset over the run. */
  fundamentalDrawdown: number;
  /** maxMarketDrawdown / fundamentalDrawdown (1 = no amplification; NaN when no fundamental fall). */
  drawdownAmplification: number;
  /** Protocols that socialized a loss or left bad debt uncovered. */
  insolventProtocols: number;
  stressSteps: number;
  /** Median effective leverage (notional / equity) of accounts when hit by ADL; NaN without ADL. */
  adlHitMedianLeverage: number;
  /** Median effective leverage of accounts when liquidated (Infinity if at or below zero equity). */
  liquidatedMedianLeverage: number;
  /** 95th percentiles of the same two distributions. */
  adlHitP95Leverage: number;
  liquidatedP95Leverage: number;
  /** Gini coefficient of account losses (contributed − final equity, if positive) over all accounts. */
  lossGini: number;
  totalValueUsd: number;
  ledgerErrorUsd: number;
  /**
   * The largest, over the run's insurance funds, of the starting balance that would have met every demand
   * on the fund where its balance decided the course (an ADL decision, a payout): with at least that
   * much the run takes the same course (settleLosses.ts noteFundDemand). 0 when no demand was met.
   */
  insuranceFundRequiredUsd: number;
  /** The arbitrageurs' purchases plus sales over the run, USD (0 without arbitrageurs). */
  arbitrageVolumeUsd: number;
  /** Their cash plus inventory at the final market price, less their starting cash and inventory (at the initial price), USD. */
  arbitrageurPnlUsd: number;
  /** Lowest share of their starting cash they held after a step's trades (how close their capital came to running out); NaN without arbitrageurs or without their cash. */
  arbitrageurMinCashShare: number;
  /** Algorithmic stables (src/model/algorithmicStable.ts), summed over them: USD their holders' run raised selling into the market (0 without a run). */
  stableRunSoldUsd: number;
  /** Face value of the stable tokens redeemed through their swaps, USD (0 without stables). */
  stableRedeemedUsd: number;
  /** What the holders lost against the peg, USD: face × supply at step 0 − what their sales raised − what they still hold at the final market price (0 without stables). */
  stableHolderLossUsd: number;
  /** What the collateral's holders lost, USD: its supply at step 0 × its initial price − what their panic sales raised − what they still hold at the final market price (0 without stables). */
  collateralHolderLossUsd: number;
  /** Lowest market price of a stable over the run after a step's run and swap, as a share of its face value (NaN without stables). */
  stableMinPriceShare: number;
  /** Largest collateral supply at the end over at step 0 (1: nothing minted; NaN without stables). */
  collateralSupplyMultiple: number;
  /**
   * Funding the longs paid the shorts over the run, net, summed over the perp markets, USD (negative: the
   * shorts paid the longs): Σ over steps and markets of the step's accrual per unit × the long open
   * interest. Accrual only: a loss socialized through the funding rate (Drift) is not in it.
   */
  fundingLongsPaidUsd: number;
  /**
   * What the exchanges' backstop vaults gained (negative: lost) over the run, USD: Σ over vaults of
   * what each holds at the final marks (accountValueUsd) − the capital it started with (0 without
   * vaults). Who pays when a vault takes over a position the market then runs against (JELLY, 26 March 2025).
   */
  backstopVaultPnlUsd: number;
}

/** Everything one run produced. `seed` is the replicate's base seed (uint32). */
export interface RunResult {
  pointIndex: number;
  replicate: number;
  seed: number;
  steps: StepTable | null;
  prices: PriceTable | null;
  events: EventLog;
  /** Cohort code of every account (trader cohorts, then backstop vaults); maps events to cohorts. */
  accountCohort: Int32Array;
  /** Losses by protocol, originating shock and channel (src/engine/attribution.ts). */
  attribution: AttributionTable;
  /** What each cohort of accounts and every other participant put in and holds at the end (src/engine/fairness.ts cohortTable, engine/participants.ts). */
  cohorts: CohortTable;
  summary: RunSummary;
}

/** Ordered column names of runs.arrow after point_index, replicate and seed. */
export const RUN_SUMMARY_COLUMNS: ReadonlyArray<[keyof RunSummary, string, 'f64' | 'i32']> = [
  ['totalBadDebtUsd', 'total_bad_debt_usd', 'f64'],
  ['insuranceFundMinUsd', 'insurance_fund_min_usd', 'f64'],
  ['insuranceFundDepletionStep', 'insurance_fund_depletion_step', 'i32'],
  ['fundPayoutUsd', 'fund_payout_usd', 'f64'],
  ['adlVolumeUsd', 'adl_volume_usd', 'f64'],
  ['adlCount', 'adl_count', 'i32'],
  ['adlAbsorbedUsd', 'adl_absorbed_usd', 'f64'],
  ['socializedLossUsd', 'socialized_loss_usd', 'f64'],
  ['uncoveredBadDebtUsd', 'uncovered_bad_debt_usd', 'f64'],
  ['insolventDebtUsd', 'insolvent_debt_usd', 'f64'],
  ['exposureLossUsd', 'exposure_loss_usd', 'f64'],
  ['liquidationCount', 'liquidation_count', 'i32'],
  ['liquidationVolumeUsd', 'liquidation_volume_usd', 'f64'],
  ['backstopVolumeUsd', 'backstop_volume_usd', 'f64'],
  ['marginCalls', 'margin_calls', 'i32'],
  ['maxCascadeDepth', 'max_cascade_depth', 'i32'],
  ['causeChainDepth', 'cause_chain_depth', 'i32'],
  ['maxMarketDrawdown', 'max_market_drawdown', 'f64'],
  ['fundamentalDrawdown', 'fundamental_drawdown', 'f64'],
  ['drawdownAmplification', 'drawdown_amplification', 'f64'],
  ['insolventProtocols', 'insolvent_protocols', 'i32'],
  ['stressSteps', 'stress_steps', 'i32'],
  ['adlHitMedianLeverage', 'adl_hit_median_leverage', 'f64'],
  ['liquidatedMedianLeverage', 'liquidated_median_leverage', 'f64'],
  ['adlHitP95Leverage', 'adl_hit_p95_leverage', 'f64'],
  ['liquidatedP95Leverage', 'liquidated_p95_leverage', 'f64'],
  ['lossGini', 'loss_gini', 'f64'],
  ['totalValueUsd', 'total_value_usd', 'f64'],
  ['ledgerErrorUsd', 'ledger_error_usd', 'f64'],
  ['insuranceFundRequiredUsd', 'insurance_fund_required_usd', 'f64'],
  ['arbitrageVolumeUsd', 'arbitrage_volume_usd', 'f64'],
  ['arbitrageurPnlUsd', 'arbitrageur_pnl_usd', 'f64'],
  ['arbitrageurMinCashShare', 'arbitrageur_min_cash_share', 'f64'],
  ['stableRunSoldUsd', 'stable_run_sold_usd', 'f64'],
  ['stableRedeemedUsd', 'stable_redeemed_usd', 'f64'],
  ['stableHolderLossUsd', 'stable_holder_loss_usd', 'f64'],
  ['collateralHolderLossUsd', 'collateral_holder_loss_usd', 'f64'],
  ['stableMinPriceShare', 'stable_min_price_share', 'f64'],
  ['collateralSupplyMultiple', 'collateral_supply_multiple', 'f64'],
  ['fundingLongsPaidUsd', 'funding_longs_paid_usd', 'f64'],
  ['backstopVaultPnlUsd', 'backstop_vault_pnl_usd', 'f64'],
];
