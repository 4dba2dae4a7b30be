// Hyperliquid (perp DEX on its own L1). Sources, read 2026-11 (stored copies):
//  [L] https://hyperliquid.gitbook.io/hyperliquid-docs/trading/liquidations
//  [A] https://hyperliquid.gitbook.io/hyperliquid-docs/trading/auto-deleveraging
//  [T] https://hyperliquid.gitbook.io/hyperliquid-docs/trading/margin-tiers
//  [P] Hyperliquid announcement of partial liquidations (mirrored at
//      https://tginsight.xyz/channel/hyperliquid_announcements/post/307)
//  [F] https://hyperliquid.gitbook.io/hyperliquid-docs/trading/funding (via its mirrors)
import type { InputIssue } from '../experiment/errors.ts';
import type { ExchangeProfile, Raw } from './types.ts';

export const hyperliquid: ExchangeProfile = {
  name: 'hyperliquid',
  exchange: {
    liquidation: {
      // [L] "the positions are first attempted to be entirely closed by sending market orders to the
      // book. The orders are for the full size of the position".
      mode: 'full',
      // [P] "Unlike CEXs there is no clearance fee on liquidations."
      penaltyFraction: 0,
      // [P] "For liquidatable positions larger than 100k USDC …, only 20% of the position will be sent
      // as a market liquidation order to the book. After a block where any position of a user is
      // partially liquidated, there is a cooldown period of 30 seconds. During this cooldown period,
      // all market liquidation orders for that user will be for the entire position".
      slices: { aboveNotionalUsd: 100_000, fraction: 0.2, cooldownSeconds: 30 },
    },
    adl: {
      // [A] ranks profitable opposite positions by (mark/entry) × (notional/account value); this
      // engine's nearest ranking is PnL% × effective leverage (for a long, mark/entry = 1 + PnL%).
      ranking: 'pnl-leverage',
      // [A] "Those traders' positions are closed at the previous mark price against the now
      // underwater user" (older copies: "previous oracle price").
      price: 'previous-mark',
    },
    // [A] "a user who has no open positions will not socialize any losses of the platform": the
    // haircut falls on accounts with open positions only.
    socialization: 'haircut',
    // [F] F = P + clamp(I − P, ±0.05%) per 8 h, I = 0.01% per 8 h, paid hourly (1/8), capped at 4%/hour.
    funding: { interestRatePer8h: 0.0001, premiumClampPer8h: 0.0005, capPerHour: 0.04 },
  },
  /**
   * [L] "If the account equity drops below 2/3 of the maintenance margin without successful
   * liquidation through the book, a backstop liquidation happens through the liquidator vault." The
   * vault is the experiment's to name (backstop.vault); the profile sets the 2/3.
   */
  adjust(exchange: Raw): Raw {
    const b = exchange.backstop;
    if (typeof b !== 'object' || b === null || Array.isArray(b) || 'takeoverBelowMaintenanceShare' in b) return exchange;
    return { ...exchange, backstop: { ...b, takeoverBelowMaintenanceShare: 2 / 3 } };
  },
  /**
   * [L] "The maintenance margin is half of the initial margin at max leverage": a market given
   * `maxLeverage` L gets one tier, initial 1/L, maintenance 1/(2L). [T] lists L per asset (mainnet,
   * 2025: BTC 40×, ETH 25×, SOL 20×, most others 10×, each lower above a size).
   */
  market(market: Raw, ctx): { market: Raw; issues: InputIssue[] } {
    if (market.marginTiers !== undefined) return { market, issues: [] };
    const L = market.maxLeverage;
    if (typeof L !== 'number' || !(L >= 1)) {
      return {
        market,
        issues: [{ path: `${ctx.at}.maxLeverage`, value: L, message: 'the hyperliquid profile derives the margin tiers from maxLeverage: expected a number ≥ 1 (or give marginTiers)' }],
      };
    }
    return { market: { ...market, marginTiers: [{ upToNotionalUsd: null, initialMarginFraction: 1 / L, maintenanceMarginFraction: 1 / (2 * L) }] }, issues: [] };
  },
};
