// The experiment file format: one zod schema, the single source of truth for what a valid
// experiment is. `contagion schema` prints it as JSON Schema; every object is strict, so a typo
// in a key is an error rather than a silently applied default.
import { z } from 'zod';

const id = z
  .string()
  .regex(/^[A-Za-z0-9_.-]+$/, 'expected an identifier of letters, digits, "_", "." or "-"');
const fraction = z.number().min(0).max(1);
const positive = z.number().gt(0);
const nonNegative = z.number().min(0);
const step = z.number().int().min(0);

/** A distribution to draw a per-trader quantity from (at initialisation, on the init stream). */
export const Distribution = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('fixed'), value: nonNegative }),
  z.strictObject({ kind: z.literal('uniform'), min: nonNegative, max: nonNegative }),
  z.strictObject({
    kind: z.literal('lognormal'),
    median: positive.describe('exp(mu) of the underlying normal'),
    sigma: nonNegative.describe('standard deviation of the log'),
  }),
]);
export type Distribution = z.infer<typeof Distribution>;

export const ImpactModel = z.enum(['linear', 'sqrt', 'exponential']);
export type ImpactModel = z.infer<typeof ImpactModel>;

export const Asset = z.strictObject({
  symbol: id,
  initialPrice: positive.describe('USD per unit at step 0'),
  impliedVol: z
    .strictObject({
      calm: positive.describe('annualised implied volatility the options market quotes in the calm regime'),
      stress: positive.describe('… and in the stress regime'),
      halfLifeSeconds: positive.default(3600).describe('implied volatility reverts toward the current regime\'s level with this half-life'),
    })
    .optional()
    .describe('the implied-volatility process of options on this asset, tied to the regime (it starts at the initial regime\'s level)'),
  volatilityAnnual: nonNegative.describe('annualised volatility of the fundamental log-price, e.g. 0.6'),
  driftAnnual: z.number().default(0).describe('annualised drift of the fundamental log-price'),
  jumps: z
    .strictObject({
      intensityPerYear: nonNegative.describe('Merton jump arrival rate (per year)'),
      meanLogJump: z.number().describe('mean of the log jump size'),
      stdLogJump: nonNegative.describe('standard deviation of the log jump size'),
    })
    .optional(),
  pricePath: z
    .strictObject({
      csv: z
        .string()
        .min(1)
        .optional()
        .describe('a CSV file with a header row, relative to the experiment file; loadExperiment (every command) reads its column into `prices`'),
      column: z.string().min(1).optional().describe('the CSV column to replay (its header)'),
      fromRow: step.default(0).describe('the first data row used: 0 is the first row after the header'),
      prices: z
        .array(positive)
        .optional()
        .describe('the series itself, one price per step boundary: at least steps + 1 values from fromRow (filled from the CSV, so a resolved experiment and its hash carry the data)'),
    })
    .optional()
    .describe(
      'replay a recorded price path: the fundamental moves by the series\' returns, initialPrice × prices[fromRow + k] / prices[fromRow] after k steps, instead of by its diffusion and jumps (their draws are still made, so no other asset\'s path changes); scripted shocks apply on top',
    ),
  derived: z
    .discriminatedUnion('kind', [
      z.strictObject({
        kind: z.literal('liquidStaking'),
        underlying: id.describe('the staked asset; fundamental = underlying fundamental × peg (the peg starts at initialPrice / the underlying\'s)'),
        pegHalfLifeSeconds: positive.default(86_400).describe('half-life of the peg\'s reversion to its target'),
        pegVolatilityAnnual: nonNegative.default(0.02).describe('annualised volatility of the peg'),
        stressDiscount: fraction.default(0.06).describe('peg target under the stress regime is 1 − this (stETH: about 6% in June 2022)'),
        pressureImpact: nonNegative
          .default(1)
          .describe('peg drop per unit of the previous step\'s net market sales of the token as a share of its market depth'),
      }),
      z.strictObject({
        kind: z.literal('vaultShare'),
        vault: id.describe('the backstop vault (scenario.backstopVaults); price = its account\'s equity / shares, shares = initialUsd / initialPrice'),
      }),
      z.strictObject({
        kind: z.literal('syntheticDollar'),
        issuer: id.describe('the basisIssuer cohort whose delta-neutral account backs it; backing per token = its equity / supply'),
        redeemable: z.boolean().default(true).describe('fully backed tokens are worth 1 while redemptions are open'),
        confidenceDiscount: fraction.default(0).describe('discount on the backing when under-backed or not redeemable'),
      }),
      z.strictObject({
        kind: z.literal('algorithmicStable'),
        collateral: id.describe('the token the protocol mints to redeem the stable (LUNA for UST): an asset with an exogenous price, diluted by every mint'),
        oracle: id.describe("the oracle (of the collateral) whose price the swap mints at: Terra's validators' exchange-rate vote"),
        supplyUnits: positive.describe('stable tokens outstanding at step 0 (the backing ratio\'s denominator, less what the swap burns), held by the holders who run'),
        collateralSupplyUnits: positive.describe('collateral tokens outstanding at step 0; with those minted since, × the collateral\'s market price, the market cap that backs the stable'),
        confidenceDiscount: fraction
          .default(0)
          .describe('fundamental = initialPrice × min(1, backing × (1 − this)), backing = collateral market cap / (supply × initialPrice): the peg holds while the discounted cap covers the supply'),
        swap: z
          .strictObject({
            basePoolUsd: nonNegative.describe("depth of each side of the swap's virtual constant-product pool, USD (Terra's BasePool: 50M SDR, about $67.5M, in May 2022; 0 shuts the swap)"),
            poolRecoveryBlocks: z.number().min(1).describe('blocks in which the pool delta recovers: δ −= δ / this every block (Terra: 36, 18 after proposal 1164)'),
            minSpread: fraction.describe("the swap's least spread (Terra: 0.5% on mainnet, 2% the code default)"),
            blockSeconds: positive.default(6).describe("seconds per block (Terra: 14,400 blocks a day); a step's swaps are spread evenly over its blocks (a step shorter than a block is one swap, the pool recovering by the step's share of a block)"),
            haltBelowPriceUsd: positive
              .optional()
              .describe("the swap shuts for the rest of the run once the oracle's price of the collateral is below this (Terra's validators halted the chain on 12 May 2022); without it, only the model's floor shuts it: a mint that would take the collateral's fundamental under 1e-12 × its initial price"),
          })
          .describe("Terra's market module: offer stable tokens, receive their face value less the spread in newly minted collateral at the oracle's price"),
        run: z
          .strictObject({
            startStep: step.describe('the first step the holders sell'),
            sharePerStep: fraction.describe('share of what they still hold that the holders sell each step'),
            panicSharePerDiscount: nonNegative.default(0).describe('added share per unit of the market\'s discount to the peg (0.1 off the peg × 2 = 0.2 more)'),
            maxSharePerStep: fraction.default(1).describe('the most they sell in one step, as a share of what they hold'),
            collateralPanicSharePerDiscount: nonNegative
              .default(0)
              .describe("the collateral's holders (collateralSupplyUnits at step 0) sell this × the stable's discount to the peg of what they still hold each step, at most maxSharePerStep: LUNA's holders dumping it as UST breaks"),
          })
          .optional()
          .describe('a run: the holders sell into the stable\'s market every step from startStep (its root event is the origin "<symbol> run" of attribution.arrow)'),
      }),
      z.strictObject({
        kind: z.literal('bridged'),
        underlying: id.describe('the asset locked on the other side; fundamental = underlying fundamental × bridge solvency'),
        bridge: id.describe('the bridge (scenario.bridges) whose failure the token carries'),
      }),
    ])
    .optional()
    .describe('an asset whose fundamental value is computed from another part of the system each step'),
  market: z.strictObject({
    depthUsd: positive.describe('USD of net selling that moves the price by the impact coefficient'),
    impact: ImpactModel,
    impactCoefficient: positive.describe('lambda (linear, sqrt) or alpha (exponential)'),
    resilienceHalfLifeSeconds: positive.describe('half-life of the temporary part of impact'),
    permanentShare: fraction.describe('share of impact that never decays'),
  }),
});
export type Asset = z.infer<typeof Asset>;

export const Regime = z.strictObject({
  correlation: z.array(z.array(z.number().min(-1).max(1))).describe('assets × assets, in the order of scenario.assets'),
  volatilityMultiplier: positive.default(1),
  jumpIntensityMultiplier: nonNegative.default(1),
  depthMultiplier: positive
    .default(1)
    .describe(
      'every shared market\'s depth under this regime, as a multiple of its depthUsd: below 1 a book that thins (makers pulling their quotes), so a sale moves the price more and a liquidation fills less within its price band',
    ),
});

export const RegimeSwitching = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('none') }),
  z.strictObject({
    kind: z.literal('markov'),
    calmToStressPerHour: nonNegative.describe('transition intensity calm→stress, per hour'),
    stressToCalmPerHour: nonNegative.describe('transition intensity stress→calm, per hour'),
  }),
  z.strictObject({
    kind: z.literal('scripted'),
    toStressAtStep: step,
    toCalmAtStep: step.optional(),
  }),
]);

export const Shock = z.strictObject({
  id,
  asset: id,
  totalReturn: z.number().gt(-1).describe('simple return applied to the fundamental, e.g. -0.4'),
  startStep: step,
  overSteps: z.number().int().min(1),
});
export type Shock = z.infer<typeof Shock>;

export const Oracle = z.strictObject({
  id,
  asset: id,
  source: z
    .enum(['market', 'fundamental', 'venue'])
    .default('market')
    .describe('market: the asset\'s shared market; fundamental: its exogenous value (an exchange rate); venue: a thin market of the venue\'s own (venueMarket) that only trades there move'),
  venueMarket: z
    .strictObject({
      depthUsd: positive.describe('USD of net selling that moves the local price by the impact coefficient'),
      impact: ImpactModel,
      impactCoefficient: positive,
      resilienceHalfLifeSeconds: positive.describe('half-life of the temporary part of local impact'),
      permanentShare: fraction.default(0),
    })
    .optional()
    .describe('the venue\'s own order book for source venue: local price = shared market price × its own impact'),
  lagSteps: z.number().int().min(0).default(0),
  twapSteps: z.number().int().min(1).default(1).describe('the reading is the mean of this many steps of the source (1 = spot)'),
  deviationThreshold: nonNegative
    .default(0)
    .describe('push feed: publish only when the reading moves this fraction from the last published price (0 = every step)'),
  heartbeatSteps: z.number().int().min(0).default(0).describe('push feed: publish at least this often whatever the move (0 = no heartbeat)'),
  floorUsd: positive.optional().describe('the feed never reports below this price (the LUNA feed held a $0.107 floor)'),
  freezeAtStep: step.optional().describe('the feed stops updating from this step on'),
  resumeAtStep: z
    .number()
    .int()
    .min(1)
    .optional()
    .describe('from this step on the floor and the freeze no longer apply: the feed reads its source again and publishes at once (Venus restored its price feeds on 15 May 2022, after the LUNA feed had held its floor)'),
});

export const InsuranceFund = z.strictObject({
  id,
  initialUsd: nonNegative,
  capUsd: positive.optional().describe('inflows beyond the cap go to the protocol fee reserve'),
});

export const BackstopVault = z.strictObject({
  id,
  initialUsd: nonNegative.describe('USD capital of the vault (an account on its exchange)'),
  maxLeverage: positive.describe('the vault takes over positions while notional/equity stays under this'),
});

export const MarginTier = z.strictObject({
  upToNotionalUsd: positive.nullable().describe('upper bound of the bracket; null for the last'),
  initialMarginFraction: z.number().gt(0).max(1),
  maintenanceMarginFraction: z.number().gt(0).max(1),
});

export const PerpMarket = z.strictObject({
  asset: id,
  oracle: id,
  marginTiers: z.array(MarginTier).min(1),
  maxLeverage: positive.optional().describe('with the hyperliquid profile: the tiers are derived from it (initial 1/maxLeverage, maintenance half of that)'),
  liquidityTier: z
    .enum(['large-cap', 'mid-cap', 'small-cap', 'long-tail', 'isolated'])
    .optional()
    .describe('with the dydx-v4 profile: the tiers are those of this liquidity tier'),
  insuranceFund: id
    .optional()
    .describe('a fund of this market alone (dYdX v4 isolated markets): shortfalls of accounts that trade only this market are paid from it, and their penalties go to it'),
  insuranceClaimCapUsd: nonNegative
    .optional()
    .describe('most the insurance fund pays over the run for bankruptcies in this market (Drift: the per-market cap on insurance claims); the rest goes to the fee pool, then to socialization'),
  feePoolUsd: nonNegative.optional().describe('the market\'s fee pool (Drift), which pays a bankruptcy after the insurance fund and before socialization'),
  delisting: z
    .strictObject({
      atStep: step.describe('the step at which the venue delists the market (after the oracles and options update): every open position closes at priceUsd, and the market takes no position again'),
      priceUsd: positive
        .optional()
        .describe('the settlement price, decided by the venue (Hyperliquid settled JELLY at $0.0095 on 26 March 2025); default: the market\'s mark (its oracle) at atStep'),
    })
    .nullable()
    .optional()
    .describe('a delisting with settlement by decision (null: none, so that a sweep can switch it on and off): an account the settlement leaves with nothing but negative cash goes down the loss waterfall'),
});

export const PerpExchange = z.strictObject({
  id,
  kind: z.literal('perp').default('perp'),
  chain: id.optional().describe('the chain it runs on (scenario.chains); none = an off-chain venue'),
  insuranceFund: id,
  backstop: z
    .strictObject({
      vault: id,
      takeoverBelowMaintenanceShare: z
        .number()
        .gt(0)
        .max(1)
        .describe('the vault takes over an account whose equity is below this share of maintenance (Hyperliquid: 2/3)'),
    })
    .optional(),
  profile: z
    .enum(['hyperliquid', 'dydx-v4', 'drift', 'bitmex', 'binance'])
    .optional()
    .describe('a named bundle of a venue\'s rules (src/venues/): fills every field not given here; fields given override it'),
  liquidation: z.strictObject({
    mode: z.enum(['partial', 'full']).describe('partial: back to initial margin; full: the whole position'),
    takeover: z
      .boolean()
      .default(false)
      .describe('when a liquidation closes the whole position, the insurance fund has taken it over at the bankruptcy price: it keeps the margin left after the close (Binance, BitMEX) instead of a penalty'),
    penaltyFraction: z.number().min(0).max(0.5).describe('share of closed notional paid to the insurance fund'),
    partialMinNotionalUsd: nonNegative.default(0).describe('a partial liquidation that would leave less than this closes fully'),
    priceBandFraction: z
      .number()
      .gt(0)
      .max(1)
      .default(0.1)
      .describe('an order sold into the book fills only while its marginal price stays within this fraction of the mark; the rest waits'),
    maxRoundsPerStep: z.number().int().min(1).default(20),
    slices: z
      .strictObject({
        aboveNotionalUsd: nonNegative.describe('accounts with more notional than this are liquidated in slices (Hyperliquid: $100k)'),
        fraction: z.number().gt(0).max(1).describe('share of each position closed per slice (Hyperliquid: 20%)'),
        cooldownSeconds: nonNegative.describe('after a slice, for this long the account\'s liquidation orders are for its whole position (Hyperliquid: 30 s); rounds of the same step fall within it'),
      })
      .optional()
      .describe('large accounts go to the book a slice at a time, with a cooldown between slices'),
    fillablePrice: z
      .strictObject({
        spreadToMaintenanceRatio: z.number().gt(0).describe('SMMR (dYdX v4 x/clob)'),
        bankruptcyAdjustment: z.number().gt(0).default(1).describe('BA (dYdX v4: 1.0)'),
      })
      .optional()
      .describe('the liquidation order fills only up to the fillable price, which worsens with account health (dYdX v4): band = min(1, BA × (1 − equity/maintenance)) × SMMR × maintenance/notional, instead of priceBandFraction'),
  }),
  adl: z
    .strictObject({
      ranking: z
        .enum(['pnl-leverage', 'random-start', 'pro-rata', 'risk-pro-rata', 'none'])
        .describe(
          'pnl-leverage: profitable opposite positions by PnL% × effective leverage (BitMEX); random-start: opposite positions in index order from a random start (dYdX v4); none: no ADL, shortfalls go down the waterfall (Drift); pro-rata: every profitable opposite position in proportion to its size; risk-pro-rata: in proportion to size × effective leverage, so the riskiest winners give up most',
        ),
      price: z
        .enum(['bankruptcy', 'previous-mark'])
        .default('bankruptcy')
        .describe('where ADL closes the counterparties: at the failed account\'s bankruptcy price, or at the previous step\'s mark (Hyperliquid; the mark is the market\'s oracle); a shortfall the close leaves goes down the rest of the waterfall'),
    })
    .default({ ranking: 'pnl-leverage', price: 'bankruptcy' }),
  socialization: z
    .enum(['haircut', 'funding-index'])
    .default('haircut')
    .describe('haircut: on the unrealized profit of accounts with open positions (Hyperliquid); funding-index: charged to every open position of the bankrupt account\'s markets pro rata to size, as a shift of the cumulative funding rate (Drift)'),
  funding: z
    .strictObject({
      interestRatePer8h: z.number().default(0.0001),
      premiumClampPer8h: nonNegative.default(0.0005),
      capPerHour: nonNegative.default(0.04),
      indexPrice: z
        .enum(['fundamental', 'after-permanent-impact', 'oracle'])
        .default('fundamental')
        .describe(
          "what the premium P is measured against. fundamental: the asset's fundamental, so every impact the shared market carries is a premium, a fire sale's permanent part too, for as long as it lasts; after-permanent-impact: the fundamental moved by the permanent part of the market's impact, so only the temporary part (which decays with the resilience) is a premium; oracle: the market's oracle as it publishes (lag, TWAP, push threshold, floor, freeze), against the book the market trades in (the venue's own for a venue oracle), the venues' mark–index rule: with a spot oracle of the shared market the premium is 0",
        ),
    })
    .default({ interestRatePer8h: 0.0001, premiumClampPer8h: 0.0005, capPerHour: 0.04, indexPrice: 'fundamental' }),
  outages: z
    .array(
      z.strictObject({
        fromStep: step.describe('first step the venue is down'),
        toStep: step.describe('first step it is back up (after fromStep)'),
      }),
    )
    .default([])
    .describe(
      'steps during which the venue is down (12–13 March 2020: BitMEX, about 25 minutes; 19 May 2021): no liquidations, no margin calls or responses to them, no liquidator unwinds; marks, funding and the shared markets go on, and accounts below maintenance are liquidated once it is back',
    ),
  // At most 255 × 255 markets in all: the engine keeps a position's market in 16 bits.
  markets: z.array(PerpMarket).min(1).max(255),
  marginModel: z
    .enum(['tiered', 'portfolio', 'dynamic'])
    .optional()
    .describe('which margin model applies (default: portfolio if portfolioMargin is given, else tiered, scaled by dynamicMargin if given); lets a sweep switch models while every block stays declared'),
  portfolioMargin: z
    .strictObject({
      moves: z.array(z.number().gt(-1)).min(1).describe('price-move fractions of the grid, e.g. [-0.16, -0.12, …, 0.16] (Deribit: ±16% in 9 buckets)'),
      tailMoves: z.array(z.number().gt(-1)).default([]).describe('extended moves counted at tailWeight, e.g. [-0.66, 5]'),
      tailWeight: fraction.default(0),
      netDeltaChargeFraction: fraction.default(0).describe('minimum requirement = this × |net delta notional|, netted as comovement nets'),
      comovement: z
        .discriminatedUnion('kind', [
          z.strictObject({ kind: z.literal('joint') }).describe('all assets move together: hedges across assets net fully (correlation 1 assumed)'),
          z.strictObject({ kind: z.literal('independent') }).describe('each asset moves on its own: nothing nets across assets'),
          z.strictObject({ kind: z.literal('groups'), groups: z.record(id, id).describe('asset → group; a group moves together') }),
        ])
        .default({ kind: 'joint' }),
      initialToMaintenance: z.number().min(1).default(1.5).describe('initial requirement = this × the scenario requirement'),
      volShocks: z
        .array(z.number().gt(-1))
        .min(1)
        .default([0])
        .describe('relative shocks to implied volatility applied at every price move of the grid, e.g. [-0.3, 0, 0.5]: options are repriced at each (linear books do not care)'),
    })
    .optional()
    .describe('portfolio (scenario) margin for linear books instead of the tiers: the requirement is the worst loss over the grid'),
  dynamicMargin: z
    .strictObject({
      lambda: z.number().gt(0).lt(1).default(0.94).describe('EWMA decay of squared log returns per step (RiskMetrics 1996: 0.94 daily)'),
      referenceAnnualVol: positive.describe('annual volatility at which the tiers apply unchanged'),
      floorMultiple: positive.default(1),
      capMultiple: positive.default(5),
    })
    .optional()
    .describe('scale every margin fraction by realised volatility (EWMA of the mark\'s returns) / reference, clamped: pro-cyclical by design'),
  openInterestSurcharge: z
    .strictObject({
      aboveInitialMultiple: nonNegative.default(1).describe('no surcharge while a market\'s open interest is at most this multiple of its step-0 open interest'),
      perMultiple: nonNegative.describe('margin rates rise by this fraction per multiple of step-0 open interest above the threshold'),
    })
    .optional()
    .describe('raise a market\'s margin rates as its open interest grows past where it started (crowded markets cost more to hold)'),
  optionSeries: z
    .array(
      z.strictObject({
        id,
        asset: id.describe('the underlying'),
        oracle: id.describe('the feed the series is marked from'),
        kind: z.enum(['call', 'put']),
        strike: positive.describe('USD'),
        expiryStep: z.number().int().min(1).describe('cash-settled at the oracle price at the start of this step'),
      }),
    )
    .default([])
    .describe('European options, priced by Black–Scholes at the asset\'s implied volatility; margined under portfolio margin only'),
  collateralAssets: z
    .array(
      z.strictObject({
        asset: id,
        oracle: id.describe('the feed the venue values it with (a venue oracle marks it from its own book)'),
        weight: fraction.describe('collateral weight (1 − haircut): 1 USD of the asset counts as this much margin'),
      }),
    )
    .default([])
    .describe('assets other than USD cash that accounts may post as margin'),
});
export type PerpExchange = z.infer<typeof PerpExchange>;


/** A blockchain a protocol runs on: its liquidations compete for block space, its oracles arrive late. */
export const Chain = z.strictObject({
  id,
  liquidationsPerStep: z
    .number()
    .int()
    .min(0)
    .nullable()
    .default(null)
    .describe('most liquidations all protocols on the chain can execute in one step (congestion, as on 12 March 2020); null = unlimited'),
  oracleLatencySteps: z.number().int().min(0).default(0).describe('steps added to the lag of every oracle read by a protocol on this chain'),
});

/** A bridge: tokens wrapped through it are worth the underlying until it fails, then what holders recover. */
export const Bridge = z.strictObject({
  id,
  fromChain: id.optional().describe('chain where the underlying is locked (for the graph)'),
  toChain: id.optional().describe('chain where the wrapped token lives (for the graph)'),
  failAtStep: step.optional().describe('the bridge fails at this step (scripted)'),
  failProbabilityPerStep: fraction.optional().describe('chance of failing in any one step (one draw per step from the prices stream)'),
  recoveryFraction: fraction.default(0).describe('share of the underlying a wrapped token is worth once the bridge has failed (0 = drained)'),
});

/**
 * A direct exposure: an insurance fund's deposit in a lending market (part of a reserve's supply).
 * When that reserve is left with a deficit its safety module cannot cover, the depositor loses its
 * share of it.
 */
export const Exposure = z.strictObject({
  fund: id.describe('the depositor: an insurance fund (and so the protocols it backs)'),
  lendingMarket: id,
  asset: id.describe('the reserve it deposited into'),
  amountUsd: positive.describe('USD deposited at step 0; part of the reserve\'s supplyUsd'),
});

/** One asset of a lending market (an Aave v3 reserve). */
export const LendingReserve = z.strictObject({
  asset: id,
  preset: z
    .enum(['WETH', 'wstETH', 'WBTC', 'USDC', 'USDT'])
    .optional()
    .describe('with the aave-v3 profile: LTV, threshold, bonus and protocol fee of this Aave v3 Ethereum reserve (src/venues/aave-v3.ts)'),
  oracle: id.describe('the feed this market prices the asset with'),
  ltv: fraction.describe('loan-to-value: the most a deposit of 1 USD lets one borrow (Aave v3 WETH: 0.805)'),
  liquidationThreshold: fraction.describe('collateral weight in the health factor (Aave v3 WETH: 0.83)'),
  liquidationBonus: z.number().min(1).max(1.5).describe('collateral seized per unit of debt repaid, as Aave encodes it: 1.05 = 5% bonus'),
  liquidationProtocolFee: fraction.default(0.1).describe('share of the bonus taken by the protocol treasury (Aave v3: 10%)'),
  borrowable: z.boolean().default(false),
  supplyUsd: nonNegative.default(0).describe('lenders\' deposits of the asset at step 0 (USD at the initial price): what borrowers can draw'),
});

/** A lending market with Aave v3 rules: health factor, close factor, bonus, deficit. */
export const LendingMarket = z.strictObject({
  id,
  kind: z.literal('lending').default('lending'),
  profile: z.enum(['aave-v3']).optional().describe('a named bundle of the protocol\'s rules (src/venues/): fills every field not given here'),
  chain: id.optional().describe('the chain it runs on (scenario.chains); none = no congestion or latency'),
  safetyModule: id.describe('insurance fund that covers bad debt (the reserve deficit)'),
  governanceToken: z
    .strictObject({
      asset: id.describe('the token minted and sold into its market to cover what the safety module cannot'),
      maxMintQty: positive.optional().describe('most tokens that may be minted over the run (none = no cap)'),
    })
    .optional()
    .describe('the last resort before lenders lose (MakerDAO\'s MKR auctions of March 2020)'),
  reserves: z.array(LendingReserve).min(1),
  liquidation: z
    .strictObject({
      closeFactor: fraction.default(0.5).describe('share of a debt repayable in one call (Aave v3: 50%)'),
      fullCloseHealthFactor: positive.default(0.95).describe('at or below this health factor the whole debt may be repaid (Aave v3: 0.95)'),
      minBaseMaxCloseFactorUsd: nonNegative.default(2000).describe('positions under this (debt or collateral, USD) may be closed in full (Aave v3.3)'),
      minLeftoverBaseUsd: nonNegative.default(1000).describe('a partial liquidation may not leave less than this of debt or collateral (Aave v3.3)'),
      maxRoundsPerStep: z.number().int().min(1).default(20),
    })
    .default({ closeFactor: 0.5, fullCloseHealthFactor: 0.95, minBaseMaxCloseFactorUsd: 2000, minLeftoverBaseUsd: 1000, maxRoundsPerStep: 20 }),
});
export type LendingMarket = z.infer<typeof LendingMarket>;

export const PositionSpec = z.strictObject({
  asset: id,
  side: z.enum(['long', 'short', 'random']),
  weight: positive.default(1).describe('share of the trader notional in this asset (normalised)'),
});

export const MarginCallResponse = z.strictObject({
  callBelowMaintenanceMultiple: z.number().min(1).default(1.25).describe('a margin call is issued when equity < this × maintenance'),
  topUpProbability: fraction,
  deleverageProbability: fraction.describe('probability of deleveraging when not topping up'),
});

/**
 * Margin withdrawal (design decision 58): every `everySteps` steps (from step 0) an account whose equity
 * at mark is above `aboveInitialMarginMultiple` × its initial margin requirement withdraws, with
 * `probability`, what takes it down to `downToInitialMarginMultiple` × that requirement, to its trader's wallet.
 */
export const MarginWithdrawal = z.strictObject({
  aboveInitialMarginMultiple: z.number().gt(1).describe('withdraw when equity > this × the initial margin requirement'),
  downToInitialMarginMultiple: z
    .number()
    .min(1)
    .default(1)
    .describe('withdraw down to this × the initial margin requirement (1: all the venue lets it take); below aboveInitialMarginMultiple'),
  everySteps: z.number().int().min(1).default(60).describe('how often the traders look'),
  probability: fraction.default(1).describe('probability that an account over the line withdraws when its traders look'),
});

export const DirectionalCohort = z.strictObject({
  id,
  kind: z.literal('directional'),
  exchange: id,
  count: z.number().int().min(1),
  marginMode: z.enum(['isolated', 'cross']),
  longShare: fraction.default(0.5).describe('probability that a "random" side is long'),
  positions: z.array(PositionSpec).min(1),
  leverage: Distribution.describe('notional / collateral; capped at the venue maximum'),
  collateralUsd: Distribution,
  walletUsd: Distribution.describe('cash outside the exchange, available for top-ups'),
  marginCall: MarginCallResponse,
  withdrawal: MarginWithdrawal.nullable()
    .default(null)
    .describe('taking margin out of the exchange when equity is well above the initial requirement (profit-taking); null: never'),
  collateralMix: z
    .array(z.strictObject({ asset: id, share: fraction.describe('share of the collateral posted in this asset (the rest is USD cash)') }))
    .default([])
    .describe('collateral posted in the exchange\'s collateral assets instead of cash'),
});

/** Fields shared by the book's cohorts: capital-limited accounts that take the other side of trades. */
const bookCohortFields = {
  id,
  exchange: id,
  count: z.number().int().min(1),
  collateralUsd: positive.describe('per account'),
  maxLeverage: positive.describe('the account takes flow while notional/equity stays under this'),
};

export const MarketMakerCohort = z.strictObject({
  ...bookCohortFields,
  kind: z.literal('marketMaker'),
});

export const LiquidatorCohort = z.strictObject({
  ...bookCohortFields,
  kind: z.literal('liquidator'),
  unwindSharePerStep: fraction.default(0.1).describe('share of inventory sold to market makers each step'),
});

/**
 * Borrowers who loop on a lending market: deposit the collateral asset, borrow the debt asset, buy
 * more collateral with it and deposit again, up to a target leverage (collateral / equity). Built
 * at step 0 as the finished loop; from then on they answer health-factor calls.
 */
export const LooperCohort = z.strictObject({
  id,
  kind: z.literal('looper'),
  lendingMarket: id,
  count: z.number().int().min(1),
  collateral: id.describe('asset deposited (must be a reserve of the lending market)'),
  debt: id.describe('asset borrowed (a borrowable reserve of the lending market)'),
  equityUsd: Distribution.describe('own capital per borrower at step 0, USD'),
  leverage: Distribution.describe('collateral / equity; held strictly under the loan-to-value limit 1 / (1 − ltv)'),
  walletUsd: Distribution.describe('cash outside the market, available to repay debt on a call'),
  healthCall: z
    .strictObject({
      callBelowHealthFactor: z.number().gt(1).default(1.1).describe('the borrower acts when its health factor falls below this'),
      topUpProbability: fraction.describe('repay debt from the wallet back to the call level'),
      deleverageProbability: fraction.describe('when not topping up: sell collateral into the market and repay, back to the call level'),
    })
    .default({ callBelowHealthFactor: 1.1, topUpProbability: 0, deleverageProbability: 0 }),
});

/**
 * Liquidators of a lending market: cash-limited keepers that repay debt, seize collateral with the
 * bonus and sell it straight into the asset's shared market (the fire sale that reaches other venues).
 */
export const LendingLiquidatorCohort = z.strictObject({
  id,
  kind: z.literal('lendingLiquidator'),
  lendingMarket: id,
  count: z.number().int().min(1),
  cashUsd: positive.describe('per liquidator: the most debt it can repay before its sales come back in'),
});

/**
 * The Mango Markets pattern (October 2022): a trader deposits a token on a lending market whose
 * oracle reads a thin venue-local market, buys that market up at one step, and borrows as much as the
 * inflated collateral allows; it never repays.
 */
export const ManipulatorCohort = z.strictObject({
  id,
  kind: z.literal('manipulator'),
  lendingMarket: id,
  count: z.number().int().min(1),
  collateral: id.describe('the token deposited and pumped (a reserve of the lending market)'),
  debt: id.describe('what it borrows and walks away with (a borrowable reserve)'),
  depositUsd: positive.describe('tokens deposited at step 0, USD at the initial price'),
  pumpUsd: positive.describe('cash spent buying the token on the oracle\'s venue market at pumpAtStep'),
  pumpAtStep: step,
  borrowShareOfLimit: fraction.default(1).describe('share of the loan-to-value limit borrowed right after the pump'),
});

/**
 * The issuer of a synthetic dollar (USDe-style): one account on an exchange holding spot of the hedge
 * asset as collateral and an equal perp short — delta-neutral; funding paid to shorts adds to the
 * backing, negative funding, ADL and socialized losses take from it.
 */
export const BasisIssuerCohort = z.strictObject({
  id,
  kind: z.literal('basisIssuer'),
  exchange: id,
  count: z.literal(1).default(1),
  hedgeAsset: id.describe('held as spot collateral (the exchange must accept it) and shorted as a perp'),
  backingUsd: positive.describe('USD of spot collateral at step 0; the short has the same notional'),
});

/**
 * Option sellers: each account sells `contracts` of one option series (units of the underlying) at
 * the model price to the exchange's market makers and holds the premium; leverage is capped at what
 * the venue's initial (portfolio) margin allows. They neither top up nor deleverage.
 */
export const OptionSellerCohort = z.strictObject({
  id,
  kind: z.literal('optionSeller'),
  exchange: id,
  count: z.number().int().min(1),
  series: id.describe('an option series of the exchange (optionSeries)'),
  contracts: Distribution.describe('units of the underlying sold per account'),
  collateralUsd: Distribution.describe('per account'),
});

/**
 * Arbitrageurs (DESIGN.md's traders "that pull market prices back to fundamentals"): one pooled,
 * capital-limited balance sheet trading one asset's shared market. Once a step, before the oracles
 * read the market (stage 2, with the impact decay), and with betweenRounds also before every
 * liquidation round after the first, they buy while the market is more than entryDiscount below the
 * fundamental — up to lifting it back to that line, with the cash they have — and sell the inventory
 * they hold while the market is above fundamental × (1 − exitDiscount), down to that line. Long only:
 * they neither borrow nor short, so a market pushed above its fundamental is pulled back only by what
 * they hold (bought earlier, or inventoryUsd at step 0). Cash spent on a falling asset is capital they
 * no longer have (Brunnermeier and Pedersen's liquidity spiral, 2009); without them the resilience
 * half-life alone pulls the market back (design decision 42).
 */
export const Arbitrageur = z.strictObject({
  id,
  asset: id.describe('the asset whose shared market they trade'),
  cashUsd: nonNegative.describe('USD they hold at step 0 to buy with (the whole cohort\'s, pooled); 0 = no arbitrage capital, a sweep\'s baseline'),
  inventoryUsd: nonNegative.default(0).describe('units of the asset they hold at step 0, as USD at its initial price: what they can sell into a market pushed above its fundamental'),
  entryDiscount: z.number().gt(0).lt(1).default(0.01).describe('they buy while market < fundamental × (1 − this), up to lifting the market back to that line'),
  exitDiscount: z
    .number()
    .min(0)
    .lt(1)
    .default(0.0025)
    .describe('they sell inventory while market > fundamental × (1 − this), down to that line; below entryDiscount'),
  maxBuyUsdPerStep: positive.optional().describe('most cash spent buying in one step (how fast their balance sheet turns); none = all of it'),
  betweenRounds: z
    .boolean()
    .default(false)
    .describe('also trade before every liquidation round after the first, meeting a cascade within the step (maxBuyUsdPerStep still caps the step)'),
});
export type Arbitrageur = z.infer<typeof Arbitrageur>;

export const TraderCohort = z.discriminatedUnion('kind', [
  DirectionalCohort,
  OptionSellerCohort,
  MarketMakerCohort,
  LiquidatorCohort,
  LooperCohort,
  LendingLiquidatorCohort,
  ManipulatorCohort,
  BasisIssuerCohort,
]);
export type TraderCohort = z.infer<typeof TraderCohort>;
/** The cohorts that trade on a lending market rather than an exchange. */
export type LendingCohort = Extract<TraderCohort, { kind: 'looper' | 'lendingLiquidator' | 'manipulator' }>;
// effectiveMarginModel and isLendingCohort live in kinds.ts (no zod there), re-exported here.
export { effectiveMarginModel, isLendingCohort } from './kinds.ts';

export const Scenario = z.strictObject({
  assets: z.array(Asset).min(1),
  regimes: z.strictObject({
    initial: z.enum(['calm', 'stress']).default('calm'),
    calm: Regime,
    stress: Regime,
    switching: RegimeSwitching,
  }),
  shocks: z.array(Shock).default([]),
  oracles: z.array(Oracle).min(1),
  insuranceFunds: z.array(InsuranceFund).min(1),
  // Cohorts and vaults share a 16-bit code per account (traders then vaults): at most 65,534.
  backstopVaults: z.array(BackstopVault).max(32767).default([]),
  exchanges: z.array(PerpExchange).min(1).max(255),
  lendingMarkets: z.array(LendingMarket).default([]),
  chains: z.array(Chain).default([]),
  bridges: z.array(Bridge).default([]),
  exposures: z.array(Exposure).default([]),
  arbitrageurs: z.array(Arbitrageur).max(255).default([]).describe('capital-limited spot arbitrageurs, one pooled balance sheet per entry'),
  traders: z.array(TraderCohort).min(1).max(32767),
});
export type Scenario = z.infer<typeof Scenario>;

export const OutputOptions = z.strictObject({
  steps: z.boolean().default(true),
  prices: z.boolean().default(true),
  events: z.boolean().default(true),
  attribution: z
    .boolean()
    .default(true)
    .describe('write attribution.arrow (losses by protocol, originating shock and channel); keeps the event log in memory even when events is false'),
  cohorts: z
    .boolean()
    .default(true)
    .describe('write cohorts.arrow (what each cohort of accounts and every other participant — funds, exchanges, lenders, treasuries, arbitrageurs, stables, the outside market — put in, holds at the end, and gained or lost)'),
});

/** A JSON value given to a swept path (validated later, as part of each point's experiment). */
const SweepValue = z.unknown();
const nonEmptyRecord = <T extends z.ZodType>(value: T, what: string) =>
  z
    .record(z.string(), value)
    .refine((r) => Object.keys(r).length > 0, `expected at least one ${what}`)
    .meta({ minProperties: 1 });
const sweepPathNote = 'keys are dotted paths as in --set: scenario.… (numeric array indices), steps or stepSeconds';

export const GridSweep = z.strictObject({
  kind: z.literal('grid'),
  parameters: nonEmptyRecord(z.array(SweepValue).min(1), 'parameter').describe(
    `Cartesian product of the listed values; the last parameter varies fastest. ${sweepPathNote}`,
  ),
});

export const ListSweep = z.strictObject({
  kind: z.literal('list'),
  points: z
    .array(nonEmptyRecord(SweepValue, 'path'))
    .min(1)
    .describe(`explicit points, each an object path → value; every point sets the same paths. ${sweepPathNote}`),
});

export const LatinHypercubeParameter = z.strictObject({
  min: z.number(),
  max: z.number(),
  scale: z.enum(['linear', 'log']).default('linear').describe('log stratifies log(value) (requires min > 0)'),
  integer: z.boolean().default(false).describe('round each value to the nearest integer within [min, max]'),
});

export const LatinHypercubeSweep = z.strictObject({
  kind: z.literal('latinHypercube'),
  samples: z.number().int().min(1).describe('number of points; each parameter range is cut into this many strata, one sample in each'),
  seed: z.number().int().min(0).max(0xffffffff).optional().describe('seed of the design (default: the experiment seed)'),
  parameters: nonEmptyRecord(LatinHypercubeParameter, 'parameter').describe(`ranges to sample. ${sweepPathNote}`),
});

/** A parameter sweep: every point is a variant of the base experiment, each run `runs` times. */
export const Sweep = z.discriminatedUnion('kind', [GridSweep, ListSweep, LatinHypercubeSweep]);
export type Sweep = z.infer<typeof Sweep>;

export const Experiment = z.strictObject({
  $schema: z.string().optional(),
  name: id,
  note: z.string().min(1).describe('the question this experiment answers'),
  seed: z.number().int().min(0).max(0xffffffff),
  steps: z.number().int().min(1),
  runs: z.number().int().min(1),
  stepSeconds: positive.default(60),
  output: OutputOptions.default({ steps: true, prices: true, events: true, attribution: true, cohorts: true }),
  scenario: Scenario,
  sweep: Sweep.optional().describe('vary scenario values (or steps, stepSeconds) across points; each point is run `runs` times'),
  independentPoints: z
    .boolean()
    .default(false)
    .describe('mix the point index into run seeds (independent samples) instead of common random numbers across points'),
});
/** A validated experiment, every default filled in. */
export type Experiment = z.infer<typeof Experiment>;
/** What a user writes (defaults may be omitted). */
export type ExperimentInput = z.input<typeof Experiment>;
