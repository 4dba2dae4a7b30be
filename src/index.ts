// contagion's public API: what a program importing the package (package.json "main") may use.
// The CLI (src/cli/) is the other entry point. Everything exported here is documented where it is
// defined; anything not re-exported here is internal and may change without notice.

export { clearingVector, NetworkInputError } from './graph/clearing.ts';
export type { ClearingInput, ClearingResult } from './graph/clearing.ts';
export { debtRank } from './graph/debtRank.ts';
export type { DebtRankInput, DebtRankResult } from './graph/debtRank.ts';

// Experiments: load and validate (throws ExperimentError with every problem), sweeps, seeds.
export { loadExperiment, parseExperiment } from './experiment/load.ts';
export { Experiment as ExperimentSchema } from './experiment/schema.ts';
export type { Experiment, ExperimentInput } from './experiment/schema.ts';
export { ExperimentError, InvariantError, UsageError } from './experiment/errors.ts';
export type { InputIssue } from './experiment/errors.ts';
export { expandSweep, pointExperiment, sweptPaths, sweepColumnName } from './experiment/sweep.ts';
export type { SweepPoint } from './experiment/sweep.ts';
export { deriveSeed, Streams } from './experiment/seeds.ts';

// The dependency graph and its export.
export { buildGraph, nodeKey } from './graph/build.ts';
export type { DependencyGraph, EdgeChannel, NodeKind } from './graph/build.ts';
export { exportGraph } from './graph/export.ts';

// The engine: one run, or a world to step by hand.
export { simulateRun, worldFor, runWorld, summarize, replicateSeeds } from './engine/simulate.ts';
export type { SimulateOptions } from './engine/simulate.ts';
export type { MarginChecks } from './engine/marginIndex.ts';
export type { WorldOptions } from './model/world.ts';
export { step, PHASES } from './engine/step.ts';
export { checkInvariants } from './engine/invariants.ts';
export { EVENT_KINDS, RUN_SUMMARY_COLUMNS, CHANNELS } from './engine/record.ts';
export { attribute, causeChainDepth, experimentOrigins } from './engine/attribution.ts';
export type { RunResult, RunSummary } from './engine/record.ts';
export type { World } from './model/world.ts';

// Monte Carlo runs and their results.
export { runExperiment } from './runner/runExperiment.ts';
export { mergeResults } from './runner/merge.ts';
export { readArrowTable, columnToArray } from './io/readArrow.ts';
export { quantile, mean, wilsonInterval } from './analysis/statistics.ts';
export { pointTable } from './analysis/pointTable.ts';

// Margin, option and lending arithmetic (used by the engine; exported for studies).
export { blackScholes, normCdf, normPdf } from './model/options.ts';
export type { OptionGreeks } from './model/options.ts';
export { portfolioRequirementUsd } from './margin/portfolio.ts';
export type { ScenarioGrid, Position as PortfolioPosition, PortfolioRequirement } from './margin/portfolio.ts';
export { dynamicMarginFraction, updateEwmaVariance } from './margin/dynamic.ts';
export { AAVE_V3, healthFactor, quoteLiquidation, loopPosition, liquidationDrawdown } from './lending/aave.ts';
export { nextPeg, vaultSharePrice, syntheticDollarBacking, syntheticDollarFundamental, bridgedTokenFundamental, mintAndSellToCover } from './model/derived.ts';
