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
