// Questions about a validated experiment's parts that the engine asks at run time, kept apart from
// the zod schema (schema.ts re-exports them) so that the engine and the sweep's worker threads do
// not load zod and build its schemas: about 0.1 s of every worker's start.
import type { LendingCohort, PerpExchange, TraderCohort } from './schema.ts';

/** The margin model an exchange runs: marginModel if given, else portfolio if that block is given, else dynamic likewise, else tiered. */
export function effectiveMarginModel(x: PerpExchange): 'tiered' | 'portfolio' | 'dynamic' {
  return x.marginModel ?? (x.portfolioMargin ? 'portfolio' : x.dynamicMargin ? 'dynamic' : 'tiered');
}

/** True for the cohorts that trade on lending markets rather than perp exchanges. */
export function isLendingCohort(c: TraderCohort): c is LendingCohort {
  return c.kind === 'looper' || c.kind === 'lendingLiquidator' || c.kind === 'manipulator';
}

/** A market the venue delists: its dense market index (exchange by exchange), its exchange and its delisting. */
export interface DelistedMarket {
  market: number;
  exchange: PerpExchange;
  delisting: NonNullable<PerpExchange['markets'][number]['delisting']>;
  asset: string;
}

/**
 * The delisted markets, in market order: the engine's delistings (World.delistMarket) and the origins of
 * attribution.arrow ("<exchange> <SYMBOL> delisting") both read this list, so their order cannot differ.
 */
export function delistedMarkets(exchanges: readonly PerpExchange[]): DelistedMarket[] {
  return exchanges
    .flatMap((exchange) => exchange.markets.map((m) => ({ exchange, m })))
    .flatMap(({ exchange, m }, market) => (m.delisting == null ? [] : [{ market, exchange, delisting: m.delisting, asset: m.asset }]));
}
