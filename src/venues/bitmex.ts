// BitMEX. Sources, read 2026-11 (stored copies):
//  [L]  https://www.bitmex.com/app/liquidation
//  [A]  https://www.bitmex.com/app/autoDeleveraging
//  [R]  https://www.bitmex.com/app/riskLimitsExamples and the announcement "Reduction in Base
//       Maintenance Margin – XBT and ETH Series – 5 May 2020" (XBTUSD 0.45% → 0.40%, initial 1.00%)
import type { InputIssue } from '../experiment/errors.ts';
import type { ExchangeProfile, Raw } from './types.ts';

/** [R] XBTUSD: base risk limit 200 XBT, steps of 100 XBT, each step adds the base maintenance (0.40%) to both rates. */
export const BITMEX_XBTUSD = { baseMaintenance: 0.004, baseInitial: 0.01, baseLimitXbt: 200, stepXbt: 100, steps: 10 } as const;

export const bitmex: ExchangeProfile = {
  name: 'bitmex',
  exchange: {
    liquidation: {
      // [L] "the liquidation engine takes over the position including any remaining maintenance
      // margin, and then attempts to liquidate the position with a Limit order at the bankruptcy
      // price"; "If BitMEX is able to liquidate the position at better than the bankruptcy price, the
      // additional funds will be added to the Insurance Fund."
      mode: 'full',
      takeover: true,
      penaltyFraction: 0,
    },
    adl: {
      // [A] Ranking = PnL% × effective leverage (PnL% > 0), PnL% / effective leverage otherwise;
      // "The price at which a traders' positions are closed out is the bankruptcy price of the
      // initial liquidated order."
      ranking: 'pnl-leverage',
      price: 'bankruptcy',
    },
  },
  /**
   * [R] risk limits of XBTUSD in USD at the scenario's BTC (or XBT) initial price: tier k covers up to
   * (200 + 100k) XBT with maintenance 0.40% × (1 + k) and initial 1.00% + 0.40% × k. BitMEX applies
   * a step's rates to the whole position; the tiers here apply them per bracket (continuous).
   */
  market(market: Raw, ctx): { market: Raw; issues: InputIssue[] } {
    if (market.marginTiers !== undefined) return { market, issues: [] };
    const xbt = ctx.assetPrice('BTC') ?? ctx.assetPrice('XBT');
    if (xbt === undefined) {
      return { market, issues: [{ path: `${ctx.at}.marginTiers`, value: undefined, message: 'the bitmex profile prices its risk limits in XBT: expected a BTC (or XBT) asset in scenario.assets, or marginTiers' }] };
    }
    const r = BITMEX_XBTUSD;
    const marginTiers = Array.from({ length: r.steps }, (_, k) => ({
      upToNotionalUsd: k === r.steps - 1 ? null : (r.baseLimitXbt + r.stepXbt * k) * xbt,
      initialMarginFraction: r.baseInitial + r.baseMaintenance * k,
      maintenanceMarginFraction: r.baseMaintenance * (1 + k),
    }));
    return { market: { ...market, marginTiers }, issues: [] };
  },
};
