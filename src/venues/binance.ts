// Binance USDⓈ-M futures. Sources, read 2026-11 (stored copies):
//  [B]  "Updates to Leverage and Margin Tiers of Binance Futures Contracts (2021-03-18)",
//       https://www.binance.com/tr/support/announcement/86cf9aa472574b8cb2e05bb751c2a9a6 (BTCUSDT)
//  [M]  "Leverage and Margin of USDⓈ-M Futures", https://www.binance.com/en/support/articles/360033162192:
//       "Maintenance margin calculations are done via a 'Tax Bracket' setup"
//  [L]  Binance Liquidation FAQ, https://www.binance.com/pt-BR/support/faq/360033525271
//  [F]  early Binance Futures documentation, Insurance Fund: "The insurance fund will collect up to
//       0.5% fees from clients in liquidations that do not result in client bankruptcy."
import type { InputIssue } from '../experiment/errors.ts';
import type { ExchangeProfile, Raw } from './types.ts';

/** [B] BTCUSDT brackets from 18 March 2021: notional cap (USD), max leverage, maintenance rate. */
export const BINANCE_BTCUSDT_2021 = [
  { upTo: 50_000, leverage: 125, maintenance: 0.004 },
  { upTo: 250_000, leverage: 100, maintenance: 0.005 },
  { upTo: 1_000_000, leverage: 50, maintenance: 0.01 },
  { upTo: 10_000_000, leverage: 20, maintenance: 0.025 },
  { upTo: 20_000_000, leverage: 10, maintenance: 0.05 },
  { upTo: 50_000_000, leverage: 5, maintenance: 0.1 },
  { upTo: 100_000_000, leverage: 4, maintenance: 0.125 },
  { upTo: 200_000_000, leverage: 3, maintenance: 0.15 },
  { upTo: 300_000_000, leverage: 2, maintenance: 0.25 },
  { upTo: null, leverage: 1, maintenance: 0.5 },
] as const;

export const binance: ExchangeProfile = {
  name: 'binance',
  exchange: {
    liquidation: {
      // [L] "The system will first … attempt to reduce the user's margin limit with one large
      // Immediate or Cancel order without fully liquidating the user… If the user is still margin
      // deficient, the user's position will be closed at the bankruptcy price and the Insurance
      // Fund will take over the position".
      mode: 'partial',
      takeover: true,
      // [F] "up to 0.5%" on liquidations that leave the client solvent.
      penaltyFraction: 0.005,
    },
    // Binance ranks ADL by profit and leverage like BitMEX (its ADL indicator); the profile uses the
    // same ranking.
    adl: { ranking: 'pnl-leverage', price: 'bankruptcy' },
  },
  /**
   * [B]/[M] a market without tiers gets the BTCUSDT 2021 brackets: initial 1/max leverage,
   * maintenance rate per bracket; the engine adds the maintenance amounts that keep the
   * requirement continuous (the "tax bracket": 0; 50; 1,300; 16,300; …).
   */
  market(market: Raw): { market: Raw; issues: InputIssue[] } {
    if (market.marginTiers !== undefined) return { market, issues: [] };
    const marginTiers = BINANCE_BTCUSDT_2021.map((b) => ({ upToNotionalUsd: b.upTo, initialMarginFraction: 1 / b.leverage, maintenanceMarginFraction: b.maintenance }));
    return { market: { ...market, marginTiers }, issues: [] };
  },
};
