// Portfolio (risk-based, scenario) margin: the requirement of a book is its worst loss over a grid
// of price moves × volatility shocks, with tail moves counted at a reduced weight, and at least a
// charge on the net delta. How assets move together in the grid (the correlation the venue assumes)
// is an explicit parameter, so a study can show the requirement collapse when hedges are netted.

import { blackScholes, type OptionGreeks } from '../model/options.ts';

/**
 * A scenario grid in the style of Deribit's and Paradex's portfolio margin. Deribit (support article
 * "Portfolio Margin", support.deribit.com/hc/en-us/articles/25944756247837) stresses each currency's
 * book over a maximum underlying move of e.g. ±16% in 9 evenly spaced buckets including 0, each with
 * volatility up / same / down, plus an extended table of moves e.g. −66%, −33%, +50% … +500% counted
 * at only a fraction of the simulated P&L. Paradex (docs.paradex.trade/risk/portfolio-margin) takes
 * the greater of the maximum weighted scenario loss ("SCAN risk") and a minimum delta requirement.
 * Every number is a parameter here; none of the venues' current values is built in.
 */
export interface ScenarioGrid {
  /** Price-move fractions of the regular grid, e.g. [−0.16, −0.12, …, 0.16]. Non-empty. */
  moves: number[];
  /** Additive shocks to every option's annual volatility (fraction, 0.1 = +10 vol points); [0] for linear books. Non-empty. */
  volShocks: number[];
  /** Tail price-move fractions, e.g. [−0.66, 5.0]; may be empty. */
  tailMoves: number[];
  /** A tail scenario's loss counts × this fraction (e.g. 0.1..0.3). */
  tailWeight: number;
  /**
   * Minimum requirement = this fraction × the absolute net delta notional (USD). Netting deltas is
   * itself a correlation assumption, so the netting follows `comovement`: one net over the whole
   * book for 'joint' (|Σ net delta notional|), one per group for 'groups', one per asset for
   * 'independent'; the charge is the sum of the absolute nets.
   */
  netDeltaChargeFraction: number;
  /** How assets move together in the grid: 'joint' = all assets move by the same fraction (correlation 1 assumed);
   * 'independent' = full Cartesian product of moves per asset (no correlation assumed, most conservative);
   * 'groups' = assets in the same group move together, groups independently (groups: number[] group id per asset). */
  comovement: { kind: 'joint' } | { kind: 'independent' } | { kind: 'groups'; groups: number[] };
  /** Volatility shocks applied in tail scenarios (Deribit: volatility-up only). Default: `volShocks`. */
  tailVolShocks?: number[];
}

/**
 * One position. `qty` is signed units of the underlying (or of options on one unit each); linear
 * positions (perp or spot) are worth qty × price. Options need `strike` (USD), `years` to expiry
 * and `vol` (annual implied volatility, fraction); they are valued by Black–Scholes.
 */
export interface Position {
  asset: number;
  kind: 'linear' | 'call' | 'put';
  qty: number;
  strike?: number;
  years?: number;
  vol?: number;
}

/** Result of {@link portfolioRequirementUsd}. */
export interface PortfolioRequirement {
  /** max(worst weighted scenario loss, net delta charge, 0), USD. */
  requirementUsd: number;
  /** Price-move fraction per asset (indexed like `spot`) of the worst scenario; 0 for assets whose
   * comovement factor holds no position. */
  worstScenario: number[];
  /** Volatility shock of the worst scenario (ties go to the first in grid order). */
  worstVolShock: number;
  /** Worst scenario loss, USD, tail scenarios already multiplied by `tailWeight` (negative if every scenario gains). */
  scenarioLossUsd: number;
  /** netDeltaChargeFraction × Σ over comovement factors of |net delta notional|, USD. */
  netDeltaChargeUsd: number;
}

const greeks: OptionGreeks = { price: 0, delta: 0, gamma: 0, vega: 0, theta: 0 };
// Scratch, grown on demand: factor of each asset, P&L table [factor × move], best move per factor.
let factorOfAsset = new Int32Array(16);
let pnlTable = new Float64Array(64);
let bestMoveIndex = new Int32Array(16);
let chosenMoveIndex = new Int32Array(16);
let factorHeld = new Uint8Array(16);
let factorDelta = new Float64Array(16);

/** Value per unit of a position's instrument at `price` with volatility shifted by `volShock`. */
function unitValue(p: Position, price: number, volShock: number, rate: number): number {
  if (p.kind === 'linear') return price;
  const vol = p.vol! + volShock;
  return blackScholes(p.kind, price, p.strike!, p.years!, vol > 0 ? vol : 0, rate, greeks).price;
}

/**
 * Fill pnlTable[f × m + i] with the P&L (USD) of the positions of factor f when every asset of f moves
 * by `moves[i]` and volatility by `volShock`.
 */
function fillPnl(positions: Position[], spot: ArrayLike<number>, moves: number[], volShock: number, rate: number, factors: number): void {
  const m = moves.length;
  pnlTable.fill(0, 0, factors * m);
  for (const p of positions) {
    const s = spot[p.asset]!;
    const row = factorOfAsset[p.asset]! * m;
    if (p.kind === 'linear') {
      const notional = p.qty * s;
      for (let i = 0; i < m; i++) {
        const move = moves[i]!;
        pnlTable[row + i]! += notional * (move > -1 ? move : -1);
      }
    } else {
      const base = unitValue(p, s, 0, rate);
      for (let i = 0; i < m; i++) {
        const moved = s * (1 + moves[i]!);
        pnlTable[row + i]! += p.qty * (unitValue(p, moved > 0 ? moved : 0, volShock, rate) - base);
      }
    }
  }
}

/**
 * Worst loss (USD, unweighted) over the Cartesian product of moves across factors, for the table
 * filled by fillPnl; the argmax move index per factor goes to bestMoveIndex. Factors move
 * independently and the loss is a sum over factors, so the worst of the product is the sum of each
 * factor's worst: exact, and linear in the number of factors rather than exponential.
 */
function worstOverProduct(m: number, factors: number): number {
  let loss = 0;
  for (let f = 0; f < factors; f++) {
    const row = f * m;
    let best = 0;
    let bestLoss = -pnlTable[row]!;
    for (let i = 1; i < m; i++) {
      const l = -pnlTable[row + i]!;
      if (l > bestLoss) {
        bestLoss = l;
        best = i;
      }
    }
    bestMoveIndex[f] = best;
    loss += bestLoss;
  }
  return loss;
}

function ensureScratch(assets: number, cells: number): void {
  if (factorOfAsset.length < assets) {
    factorOfAsset = new Int32Array(assets);
    bestMoveIndex = new Int32Array(assets);
    chosenMoveIndex = new Int32Array(assets);
    factorHeld = new Uint8Array(assets);
    factorDelta = new Float64Array(assets);
  }
  if (pnlTable.length < cells) pnlTable = new Float64Array(cells);
}

function validate(positions: Position[], spot: ArrayLike<number>, grid: ScenarioGrid): void {
  const fail = (what: string): never => {
    throw new Error(`portfolioRequirementUsd: ${what}`);
  };
  if (grid.moves.length === 0) fail('grid.moves is empty');
  if (grid.volShocks.length === 0) fail('grid.volShocks is empty (use [0] for a linear book)');
  if (grid.tailVolShocks !== undefined && grid.tailVolShocks.length === 0 && grid.tailMoves.length > 0) fail('grid.tailVolShocks is empty but grid.tailMoves is not');
  if (!(grid.tailWeight >= 0)) fail(`grid.tailWeight must be ≥ 0, got ${grid.tailWeight}`);
  if (!(grid.netDeltaChargeFraction >= 0)) fail(`grid.netDeltaChargeFraction must be ≥ 0, got ${grid.netDeltaChargeFraction}`);
  if (grid.comovement.kind === 'groups' && grid.comovement.groups.length !== spot.length) {
    fail(`comovement.groups has ${grid.comovement.groups.length} entries for ${spot.length} assets`);
  }
  positions.forEach((p, k) => {
    if (!Number.isInteger(p.asset) || p.asset < 0 || p.asset >= spot.length) fail(`positions[${k}].asset ${p.asset} is not an asset index below ${spot.length}`);
    if (!Number.isFinite(p.qty)) fail(`positions[${k}].qty is ${p.qty}`);
    if (!(spot[p.asset]! >= 0)) fail(`spot[${p.asset}] is ${spot[p.asset]}`);
    if (p.kind !== 'linear') {
      if (!(p.strike! > 0)) fail(`positions[${k}] (${p.kind}) needs strike > 0, got ${p.strike}`);
      if (!(p.years! >= 0)) fail(`positions[${k}] (${p.kind}) needs years ≥ 0, got ${p.years}`);
      if (!(p.vol! >= 0)) fail(`positions[${k}] (${p.kind}) needs vol ≥ 0, got ${p.vol}`);
    }
  });
}

/**
 * Portfolio margin requirement of a book, USD.
 *
 * Every scenario moves each asset's price by a fraction (spot × (1 + move), floored at 0) and every
 * option's volatility by an additive shock (floored at 0); time does not pass. The scenario loss is
 * the fall in the book's value. Regular scenarios combine each entry of `grid.moves` with each of
 * `grid.volShocks`; tail scenarios combine `grid.tailMoves` with `grid.tailVolShocks` (default
 * `volShocks`) and count × `grid.tailWeight`. Which combinations of per-asset moves exist is set by
 * `grid.comovement`: one common move ('joint'), one per group ('groups'), or any move for each asset
 * independently ('independent', m^n combinations for n assets and m moves); tail scenarios follow the
 * same comovement, every factor taking one of the tail moves (so 'independent' includes BTC −66% with
 * ETH +500%), and never mix regular and tail moves. The volatility shock is
 * common to all options of a scenario. Since the factors are independent and losses add, the worst
 * of the m^n combinations is found exactly in O(n·m) per volatility shock, so there is no bound on
 * the number of assets.
 *
 * @param positions the book; options need strike, years and vol.
 * @param spot      price per asset, USD.
 * @param grid      scenario grid and comovement assumption.
 * @param rate      risk-free rate per year for option values, fraction (default 0).
 */
export function portfolioRequirementUsd(
  positions: Position[],
  spot: Float64Array | number[],
  grid: ScenarioGrid,
  rate = 0,
): PortfolioRequirement {
  validate(positions, spot, grid);
  const assets = spot.length;
  const como = grid.comovement;
  // Map assets to comovement factors 0..factors−1.
  let factors: number;
  ensureScratch(assets, 1);
  if (como.kind === 'joint') {
    factorOfAsset.fill(0, 0, assets);
    factors = assets > 0 ? 1 : 0;
  } else if (como.kind === 'independent') {
    for (let a = 0; a < assets; a++) factorOfAsset[a] = a;
    factors = assets;
  } else {
    factors = 0;
    for (let a = 0; a < assets; a++) {
      const g = como.groups[a]!;
      let f = -1;
      for (let b = 0; b < a && f < 0; b++) if (como.groups[b] === g) f = factorOfAsset[b]!;
      factorOfAsset[a] = f >= 0 ? f : factors++;
    }
  }
  const m = grid.moves.length;
  const t = grid.tailMoves.length;
  ensureScratch(assets, factors * Math.max(m, t));

  // Net delta notional per factor, and which factors hold anything.
  factorHeld.fill(0, 0, factors);
  factorDelta.fill(0, 0, factors);
  for (const p of positions) {
    const s = spot[p.asset]!;
    const f = factorOfAsset[p.asset]!;
    factorHeld[f] = 1;
    const delta = p.kind === 'linear' ? 1 : blackScholes(p.kind, s, p.strike!, p.years!, p.vol!, rate, greeks).delta;
    factorDelta[f]! += p.qty * s * delta;
  }
  let netDeltaAbs = 0;
  for (let f = 0; f < factors; f++) netDeltaAbs += Math.abs(factorDelta[f]!);
  const netDeltaChargeUsd = grid.netDeltaChargeFraction * netDeltaAbs;

  let worstLoss = -Infinity;
  let worstVolShock = 0;
  let worstIsTail = false;
  for (const v of grid.volShocks) {
    fillPnl(positions, spot, grid.moves, v, rate, factors);
    const loss = worstOverProduct(m, factors);
    if (loss > worstLoss) {
      worstLoss = loss;
      worstVolShock = v;
      worstIsTail = false;
      for (let f = 0; f < factors; f++) chosenMoveIndex[f] = bestMoveIndex[f]!;
    }
  }
  if (t > 0) {
    for (const v of grid.tailVolShocks ?? grid.volShocks) {
      fillPnl(positions, spot, grid.tailMoves, v, rate, factors);
      const loss = grid.tailWeight * worstOverProduct(t, factors);
      if (loss > worstLoss) {
        worstLoss = loss;
        worstVolShock = v;
        worstIsTail = true;
        for (let f = 0; f < factors; f++) chosenMoveIndex[f] = bestMoveIndex[f]!;
      }
    }
  }
  const moveSet = worstIsTail ? grid.tailMoves : grid.moves;
  const worstScenario = new Array<number>(assets);
  for (let a = 0; a < assets; a++) {
    const f = factorOfAsset[a]!;
    worstScenario[a] = factorHeld[f] ? moveSet[chosenMoveIndex[f]!]! : 0;
  }
  const requirementUsd = Math.max(worstLoss, netDeltaChargeUsd, 0);
  return { requirementUsd, worstScenario, worstVolShock, scenarioLossUsd: worstLoss, netDeltaChargeUsd };
}
