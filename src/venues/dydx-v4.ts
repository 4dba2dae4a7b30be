// dYdX v4 (Cosmos app chain). Sources: github.com/dydxprotocol/v4-chain, read 2026-11 (stored copies):
//  [LT]  protocol/x/perpetuals/types/liquidity_tier.go — GetMaintenanceMarginPpm:
//        "maintenance margin = initial margin * maintenance fraction"
//  [G]   protocol/scripts/genesis/sample_pregenesis.json and the liquidity-tier governance proposal
//        https://dydx.forum/t/liquidity-tier-maintenance/2939 (tiers: initial_margin_ppm,
//        maintenance_fraction_ppm)
//  [LQ]  protocol/x/clob/keeper/liquidations.go — GetFillablePrice, GetLiquidationInsuranceFundDelta
//  [LC]  protocol/x/clob/types/liquidations_config_keeper.go — LiquidationsConfig_Default
//  [D]   protocol/x/clob/keeper/deleveraging.go — OffsetSubaccountPerpetualPosition
//  [K]   protocol/x/perpetuals/keeper/perpetual.go — GetInsuranceFundName (isolated markets)
import type { InputIssue } from '../experiment/errors.ts';
import type { ExchangeProfile, Raw } from './types.ts';

/**
 * [G] liquidity tiers: initial margin and the maintenance fraction of it. Large-Cap 50 000 ppm with
 * maintenance fraction 600 000 ppm (5%, 3%); Mid-Cap the same with open-interest caps; Small-Cap
 * 100 000 / 500 000 (10%, 5%); Long-Tail 200 000 / 500 000 (20%, 10%); Isolated 50 000 / 600 000
 * (5%, 3%). (Mainnet governance later raised BTC and ETH to 50×; not confirmed from a stored source.)
 * The open-interest scaling of the initial margin between the tier's caps is not modelled.
 */
export const DYDX_LIQUIDITY_TIERS = {
  'large-cap': { initial: 0.05, maintenanceFraction: 0.6 },
  'mid-cap': { initial: 0.05, maintenanceFraction: 0.6 },
  'small-cap': { initial: 0.1, maintenanceFraction: 0.5 },
  'long-tail': { initial: 0.2, maintenanceFraction: 0.5 },
  isolated: { initial: 0.05, maintenanceFraction: 0.6 },
} as const;

export const dydxV4: ExchangeProfile = {
  name: 'dydx-v4',
  exchange: {
    liquidation: {
      // [LC] MaxPositionPortionLiquidatedPpm 1 000 000: a liquidation order is for the whole position.
      mode: 'full',
      // [LC] MaxLiquidationFeePpm 5 000; [LQ] "The liquidation fee paid by the user is the minimum of
      // the max liquidation fee and the leftover collateral", paid to the insurance fund.
      penaltyFraction: 0.005,
      // [LQ] fillable = (PNNV − ABR × SMMR × PMMR) / PS, ABR = BA × (1 − TNC/TMMR) bounded to [0, 1];
      // [LC] SpreadToMaintenanceMarginRatioPpm 100 000, BankruptcyAdjustmentPpm 1 000 000.
      fillablePrice: { spreadToMaintenanceRatio: 0.1, bankruptcyAdjustment: 1 },
    },
    adl: {
      // [D] "Start from a random subaccount"; the offset is "Calculated at bankruptcy price for
      // standard deleveraging".
      ranking: 'random-start',
      price: 'bankruptcy',
    },
  },
  /**
   * A market given `liquidityTier` gets that tier's requirement (initial, initial × maintenance
   * fraction). [K] an isolated market has its own fund ("insurance_fund:<perpetualId>"): an
   * `isolated` market must name it (`insuranceFund`).
   */
  market(market: Raw, ctx): { market: Raw; issues: InputIssue[] } {
    const issues: InputIssue[] = [];
    const tier = market.liquidityTier;
    if (tier === 'isolated' && market.insuranceFund === undefined) {
      issues.push({ path: `${ctx.at}.insuranceFund`, value: undefined, message: 'a dYdX v4 isolated market has an insurance fund of its own: expected the id of one in scenario.insuranceFunds' });
    }
    if (market.marginTiers !== undefined) return { market, issues };
    if (typeof tier !== 'string' || !(tier in DYDX_LIQUIDITY_TIERS)) {
      issues.push({
        path: `${ctx.at}.liquidityTier`,
        value: tier,
        message: `the dydx-v4 profile derives the margin tiers from the liquidity tier: expected one of ${Object.keys(DYDX_LIQUIDITY_TIERS).map((k) => `"${k}"`).join(', ')} (or give marginTiers)`,
      });
      return { market, issues };
    }
    const t = DYDX_LIQUIDITY_TIERS[tier as keyof typeof DYDX_LIQUIDITY_TIERS];
    return {
      market: { ...market, marginTiers: [{ upToNotionalUsd: null, initialMarginFraction: t.initial, maintenanceMarginFraction: t.initial * t.maintenanceFraction }] },
      issues,
    };
  },
};
