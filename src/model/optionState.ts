// Options in runs: European option series listed on exchanges, priced by Black–Scholes at an implied
// volatility that follows the regime, held by option sellers and the market makers who bought from
// them. This module holds their state (struct of arrays, like the perp positions) and builds it; the
// step arithmetic is in src/engine/optionBook.ts.
import type { Experiment } from '../experiment/schema.ts';
import type { DependencyGraph } from '../graph/build.ts';
import { denseId } from '../graph/build.ts';
import { blackScholes, type OptionGreeks } from './options.ts';

export const SECONDS_PER_YEAR_OPTIONS = 365 * 24 * 3600;

export interface OptionState {
  readonly nSeries: number;
  readonly seriesIds: string[];
  readonly seriesExchange: Int32Array;
  readonly seriesAsset: Int32Array;
  readonly seriesOracle: Int32Array;
  /** 1 for a call, 0 for a put. */
  readonly seriesIsCall: Uint8Array;
  readonly seriesStrike: Float64Array;
  readonly seriesExpiryStep: Int32Array;
  /** Co-movement group of the series within its exchange's portfolio margin (its asset's perp market's). */
  readonly seriesGroup: Int32Array;
  /** 1 once the series has expired and been settled. */
  readonly seriesSettled: Uint8Array;
  /** Model price and delta per unit of the underlying at the last refresh. */
  readonly seriesPrice: Float64Array;
  readonly seriesDelta: Float64Array;
  /** Per series, its value at every grid point of its exchange (moves × shocks, then tail moves × shocks). */
  readonly seriesGridStart: Int32Array;
  readonly gridValue: Float64Array;
  /** Per exchange: the portfolio grid's moves, tail moves and volatility shocks (flattened). */
  readonly exMovesStart: Int32Array;
  readonly exMoves: Float64Array;
  readonly exTailStart: Int32Array;
  readonly exTail: Float64Array;
  readonly exShockStart: Int32Array;
  readonly exShocks: Float64Array;
  /** Implied volatility per asset (annualised), its regime levels and reversion per step. */
  readonly iv: Float64Array;
  readonly ivCalm: Float64Array;
  readonly ivStress: Float64Array;
  readonly ivReversionPerStep: Float64Array;
  /**
   * Option positions, in account order: slots optStart[a] … optStart[a + 1] − 1. Empty when no
   * exchange lists options (World.optionsListed false): readers check that first.
   */
  readonly optStart: Int32Array;
  readonly optAccount: Int32Array;
  readonly optSeries: Int32Array;
  readonly optQty: Float64Array;
  /** −qty × entry price, like a perp's quote: value = qty × price + quote. */
  readonly optQuote: Float64Array;
  /** The series' positions (zero-sum checks, settlement): seriesPosStart[s] … seriesPosStart[s + 1] − 1. */
  readonly seriesPosStart: Int32Array;
  readonly seriesPositions: Int32Array;
  /** Scratch for the portfolio requirement: one loss per (group, grid point). */
  readonly scratchLoss: Float64Array;
  readonly greeks: OptionGreeks;
}

/** An account's option slots before packing. */
export interface OptionDraft {
  series: number;
  qty: number;
}

type Scenario = Experiment['scenario'];

/** Years to expiry of a series at `step`. */
export function yearsToExpiry(expiryStep: number, step: number, stepSeconds: number): number {
  return Math.max(0, expiryStep - step) * (stepSeconds / SECONDS_PER_YEAR_OPTIONS);
}

/** The series, the grids and the implied-volatility process; positions come from packOptionPositions. */
export function buildOptionSeries(exp: Experiment, graph: DependencyGraph, marketOf: Map<string, number>, marketGroup: Int32Array) {
  const s: Scenario = exp.scenario;
  const list = s.exchanges.flatMap((x) => x.optionSeries.map((o) => ({ x, o })));
  const nSeries = list.length;
  const nEx = s.exchanges.length;
  const nAssets = s.assets.length;
  const flat = (get: (x: Scenario['exchanges'][number]) => number[]) => {
    const start = new Int32Array(nEx + 1);
    const values: number[] = [];
    s.exchanges.forEach((x, i) => {
      start[i] = values.length;
      values.push(...get(x));
      start[i + 1] = values.length;
    });
    return { start, values: Float64Array.from(values) };
  };
  // The grid options are valued on: the exchange's portfolio moves (0 included), tails, shocks.
  const moves = flat((x) => (x.portfolioMargin ? [...new Set([0, ...x.portfolioMargin.moves])] : [0]));
  const tail = flat((x) => x.portfolioMargin?.tailMoves ?? []);
  const shocks = flat((x) => x.portfolioMargin?.volShocks ?? [0]);
  const seriesExchange = new Int32Array(nSeries);
  const seriesAsset = new Int32Array(nSeries);
  const seriesOracle = new Int32Array(nSeries);
  const seriesIsCall = new Uint8Array(nSeries);
  const seriesStrike = new Float64Array(nSeries);
  const seriesExpiryStep = new Int32Array(nSeries);
  const seriesGroup = new Int32Array(nSeries);
  const seriesGridStart = new Int32Array(nSeries + 1);
  list.forEach(({ x, o }, k) => {
    const xi = denseId(graph, 'protocol', x.id);
    seriesExchange[k] = xi;
    seriesAsset[k] = denseId(graph, 'asset', o.asset);
    seriesOracle[k] = denseId(graph, 'oracle', o.oracle);
    seriesIsCall[k] = o.kind === 'call' ? 1 : 0;
    seriesStrike[k] = o.strike;
    seriesExpiryStep[k] = o.expiryStep;
    seriesGroup[k] = marketGroup[marketOf.get(`${xi}/${seriesAsset[k]}`)!]!;
    const points = (moves.start[xi + 1]! - moves.start[xi]! + tail.start[xi + 1]! - tail.start[xi]!) * (shocks.start[xi + 1]! - shocks.start[xi]!);
    seriesGridStart[k + 1] = seriesGridStart[k]! + points;
  });
  const iv = new Float64Array(nAssets);
  const ivCalm = new Float64Array(nAssets);
  const ivStress = new Float64Array(nAssets);
  const ivReversionPerStep = new Float64Array(nAssets);
  s.assets.forEach((a) => {
    if (!a.impliedVol) return;
    const i = denseId(graph, 'asset', a.symbol);
    ivCalm[i] = a.impliedVol.calm;
    ivStress[i] = a.impliedVol.stress;
    iv[i] = s.regimes.initial === 'calm' ? a.impliedVol.calm : a.impliedVol.stress;
    ivReversionPerStep[i] = 1 - Math.pow(0.5, exp.stepSeconds / a.impliedVol.halfLifeSeconds);
  });
  let maxPoints = 1;
  for (let k = 0; k < nSeries; k++) maxPoints = Math.max(maxPoints, seriesGridStart[k + 1]! - seriesGridStart[k]!);
  let maxGroups = 1;
  for (const x of s.exchanges) maxGroups = Math.max(maxGroups, x.markets.length);
  return {
    nSeries,
    seriesIds: list.map(({ o }) => o.id),
    seriesExchange,
    seriesAsset,
    seriesOracle,
    seriesIsCall,
    seriesStrike,
    seriesExpiryStep,
    seriesGroup,
    seriesSettled: new Uint8Array(nSeries),
    seriesPrice: new Float64Array(nSeries),
    seriesDelta: new Float64Array(nSeries),
    seriesGridStart,
    gridValue: new Float64Array(seriesGridStart[nSeries]!),
    exMovesStart: moves.start,
    exMoves: moves.values,
    exTailStart: tail.start,
    exTail: tail.values,
    exShockStart: shocks.start,
    exShocks: shocks.values,
    iv,
    ivCalm,
    ivStress,
    ivReversionPerStep,
    scratchLoss: new Float64Array(maxGroups * maxPoints),
    greeks: { price: 0, delta: 0, gamma: 0, vega: 0, theta: 0 },
  };
}
export type OptionSeries = ReturnType<typeof buildOptionSeries>;

/**
 * Adds the packed positions of every account's option drafts: `options` holds the accounts that
 * have option slots, keys ascending (the others have none).
 */
export function packOptionPositions(
  series: OptionSeries,
  nAccounts: number,
  options: ReadonlyMap<number, readonly OptionDraft[]>,
  initialPrice: Float64Array,
  stepSeconds: number,
): OptionState {
  // Nothing to look up without option series: no per-account offsets (4 bytes an account).
  const optStart = new Int32Array(series.nSeries > 0 ? nAccounts + 1 : 0);
  const rows: { a: number; series: number; qty: number }[] = [];
  let next = 0;
  for (const [a, list] of options) {
    while (next < a) optStart[++next] = rows.length;
    for (const o of list) rows.push({ a, series: o.series, qty: o.qty });
    optStart[++next] = rows.length;
  }
  if (series.nSeries > 0) while (next < nAccounts) optStart[++next] = rows.length;
  const n = rows.length;
  const optAccount = Int32Array.from(rows, (r) => r.a);
  const optSeries = Int32Array.from(rows, (r) => r.series);
  const optQty = Float64Array.from(rows, (r) => r.qty);
  // Every position opens at the step-0 model price: value 0 at step 0, as for perps.
  const price0 = Float64Array.from({ length: series.nSeries }, (_, k) =>
    blackScholes(
      series.seriesIsCall[k] === 1 ? 'call' : 'put',
      initialPrice[series.seriesAsset[k]!]!,
      series.seriesStrike[k]!,
      yearsToExpiry(series.seriesExpiryStep[k]!, 0, stepSeconds),
      series.iv[series.seriesAsset[k]!]!,
      0,
      series.greeks,
    ).price,
  );
  const optQuote = Float64Array.from(rows, (r) => (r.qty === 0 ? 0 : -r.qty * price0[r.series]!));
  series.seriesPrice.set(price0);
  const seriesPosStart = new Int32Array(series.nSeries + 1);
  for (const r of rows) seriesPosStart[r.series + 1]!++;
  for (let k = 0; k < series.nSeries; k++) seriesPosStart[k + 1] = seriesPosStart[k + 1]! + seriesPosStart[k]!;
  const fill = seriesPosStart.slice(0, series.nSeries);
  const seriesPositions = new Int32Array(n);
  rows.forEach((r, i) => (seriesPositions[fill[r.series]!++] = i));
  return { ...series, optStart, optAccount, optSeries, optQty, optQuote, seriesPosStart, seriesPositions };
}
