// Options in runs (state in src/model/optionState.ts). Each step: implied volatility moves toward the
// current regime's level; expired series settle in cash at the oracle price; every live series is
// repriced by Black–Scholes (zero rate) at its oracle price, with its value at every point of its
// exchange's portfolio grid cached for the margin. Accounts value option positions like perps
// (qty × price + quote) and are margined on the grid with the options repriced at each move and
// volatility shock. A liquidated account's options are closed first, at the model price, against the
// exchange's market makers — option trades do not walk the underlying's impact curve.
import { exchangeOf, type World } from '../model/world.ts';
import { blackScholes } from '../model/options.ts';
import { yearsToExpiry } from '../model/optionState.ts';
import { EventKindCode } from './record.ts';
import { FILL_ORDER, FILL_PRICE, FILL_QTY, fillArithmetic, settleFill, takesFlow } from './accounts.ts';
import { settleClosedOut } from './phases/settleLosses.ts';

/** Stage 3b: implied volatility, expiries, and the series' prices. */
export function updateOptions(w: World): void {
  const o = w.options;
  if (o.nSeries === 0) return;
  for (let a = 0; a < w.nAssets; a++) {
    const target = w.regime === 0 ? o.ivCalm[a]! : o.ivStress[a]!;
    o.iv[a] = o.iv[a]! + (target - o.iv[a]!) * o.ivReversionPerStep[a]!;
  }
  let settled = false;
  for (let s = 0; s < o.nSeries; s++) {
    if (o.seriesSettled[s] === 0 && w.step >= o.seriesExpiryStep[s]!) {
      settleSeries(w, s);
      settled = true;
    }
  }
  // A seller whose last positions expired in the money beyond its collateral is flat and under water:
  // nobody would liquidate it, so its shortfall goes down the loss waterfall now.
  if (settled) settleClosedOut(w);
  refreshSeries(w);
}

/** Prices every live series at its oracle's price and fills its grid values. */
export function refreshSeries(w: World): void {
  const o = w.options;
  const g = o.greeks;
  for (let s = 0; s < o.nSeries; s++) {
    if (o.seriesSettled[s] === 1) continue;
    const kind = o.seriesIsCall[s] === 1 ? 'call' : 'put';
    const spot = w.oraclePrice[o.seriesOracle[s]!]!;
    const strike = o.seriesStrike[s]!;
    const years = yearsToExpiry(o.seriesExpiryStep[s]!, w.step, w.stepSeconds);
    const vol = o.iv[o.seriesAsset[s]!]!;
    blackScholes(kind, spot, strike, years, vol, 0, g);
    o.seriesPrice[s] = g.price;
    o.seriesDelta[s] = g.delta;
    const x = o.seriesExchange[s]!;
    const k = fillGrid(w, kind, spot, strike, years, vol, x, o.exMoves, o.exMovesStart[x]!, o.exMovesStart[x + 1]!, o.seriesGridStart[s]!);
    fillGrid(w, kind, spot, strike, years, vol, x, o.exTail, o.exTailStart[x]!, o.exTailStart[x + 1]!, k);
  }
}

/** Writes the series' values at moves list[start … end) × the exchange's shocks from gridValue[k]; returns the next k. */
function fillGrid(
  w: World,
  kind: 'call' | 'put',
  spot: number,
  strike: number,
  years: number,
  vol: number,
  x: number,
  list: Float64Array,
  start: number,
  end: number,
  k: number,
): number {
  const o = w.options;
  for (let i = start; i < end; i++) {
    for (let j = o.exShockStart[x]!; j < o.exShockStart[x + 1]!; j++) {
      o.gridValue[k++] = blackScholes(kind, spot * (1 + list[i]!), strike, years, vol * (1 + o.exShocks[j]!), 0, o.greeks).price;
    }
  }
  return k;
}

/** True when account a holds option slots. */
export function hasOptionSlots(w: World, a: number): boolean {
  return w.optionsListed && w.options.optStart[a]! < w.options.optStart[a + 1]!;
}

/** Value of account a's option positions (Σ qty × price + quote) and their underlying notional. */
export function optionMark(w: World, a: number): { value: number; notional: number } {
  const o = w.options;
  let value = 0;
  let notional = 0;
  for (let k = o.optStart[a]!; k < o.optStart[a + 1]!; k++) {
    const q = o.optQty[k]!;
    if (q === 0) continue;
    const s = o.optSeries[k]!;
    value += q * o.seriesPrice[s]! + o.optQuote[k]!;
    notional += Math.abs(q) * w.oraclePrice[o.seriesOracle[s]!]!;
  }
  return { value, notional };
}

/**
 * Portfolio requirement of account a (exchange x) with options: per co-movement group, the worst loss
 * over the grid's moves × volatility shocks, the perps' part linear (Δ·move) and the options repriced
 * (the cached grid values); groups add; the tail moves count at their weight; and at least the net
 * delta charge on Σ |perp Δ + option Δ·S| over groups. `groupDelta` holds the perps' Δ (USD) per group.
 */
export function optionPortfolioRequirementUsd(w: World, a: number, x: number, groupDelta: Float64Array): number {
  const o = w.options;
  const nGroups = w.exchangeGroupCount[x]!;
  const nShocks = o.exShockStart[x + 1]! - o.exShockStart[x]!;
  const nMoves = o.exMovesStart[x + 1]! - o.exMovesStart[x]!;
  const nTail = o.exTailStart[x + 1]! - o.exTailStart[x]!;
  const nPts = (nMoves + nTail) * nShocks;
  const loss = o.scratchLoss;
  for (let g = 0; g < nGroups; g++) {
    const d = groupDelta[g]!;
    let p = g * nPts;
    for (let i = 0; i < nMoves; i++) for (let j = 0; j < nShocks; j++) loss[p++] = -d * o.exMoves[o.exMovesStart[x]! + i]!;
    for (let i = 0; i < nTail; i++) for (let j = 0; j < nShocks; j++) loss[p++] = -d * o.exTail[o.exTailStart[x]! + i]!;
  }
  for (let k = o.optStart[a]!; k < o.optStart[a + 1]!; k++) {
    const q = o.optQty[k]!;
    if (q === 0) continue;
    const s = o.optSeries[k]!;
    const g = o.seriesGroup[s]!;
    const price = o.seriesPrice[s]!;
    const base = o.seriesGridStart[s]!;
    for (let p = 0; p < nPts; p++) loss[g * nPts + p] = loss[g * nPts + p]! - q * (o.gridValue[base + p]! - price);
    groupDelta[g] = groupDelta[g]! + q * o.seriesDelta[s]! * w.oraclePrice[o.seriesOracle[s]!]!;
  }
  let grid = 0;
  let tail = 0;
  let net = 0;
  for (let g = 0; g < nGroups; g++) {
    let worst = 0;
    let worstTail = 0;
    for (let p = 0; p < nMoves * nShocks; p++) worst = Math.max(worst, loss[g * nPts + p]!);
    for (let p = nMoves * nShocks; p < nPts; p++) worstTail = Math.max(worstTail, loss[g * nPts + p]!);
    grid += worst;
    tail += worstTail;
    net += Math.abs(groupDelta[g]!);
  }
  return Math.max(grid, w.exchangeTailWeight[x]! * tail, w.exchangeNetDeltaFraction[x]! * net);
}

/** True when account a holds a non-zero option position. */
export function hasOptionPositions(w: World, a: number): boolean {
  if (!w.optionsListed) return false;
  const o = w.options;
  for (let k = o.optStart[a]!; k < o.optStart[a + 1]!; k++) if (o.optQty[k] !== 0) return true;
  return false;
}

/**
 * Applies a fill of `dq` (positive = bought) at `priceUsd` to option slot k, with the arithmetic of a
 * perp fill: the closing part realizes PnL between the account and its exchange's settlement pool.
 */
export function applyOptionFill(w: World, k: number, dq: number, priceUsd: number): void {
  if (dq === 0) return;
  const o = w.options;
  FILL_ORDER[FILL_QTY] = dq;
  FILL_ORDER[FILL_PRICE] = priceUsd;
  const f = fillArithmetic(o.optQty, o.optQuote, k);
  o.optQty[k] = f.qty;
  o.optQuote[k] = f.quote;
  settleFill(w, o.optAccount[k]!, f);
}

/** Option slot of account a in series s, or -1. */
function optionSlot(w: World, a: number, s: number): number {
  const o = w.options;
  for (let k = o.optStart[a]!; k < o.optStart[a + 1]!; k++) if (o.optSeries[k] === s) return k;
  return -1;
}

/**
 * Closes every option position of account a at the model price against its exchange's active market
 * makers at or above maintenance (takesFlow; split evenly, the last taking the remainder). A series no
 * such maker holds a slot in stays open. Records option_liquidation events and returns the premium
 * value closed (USD).
 */
export function closeOptions(w: World, a: number, cause: number): number {
  const o = w.options;
  const x = exchangeOf(w, a);
  let closedUsd = 0;
  for (let k = o.optStart[a]!; k < o.optStart[a + 1]!; k++) {
    const q = o.optQty[k]!;
    if (q === 0) continue;
    const s = o.optSeries[k]!;
    const price = o.seriesPrice[s]!;
    const makers: number[] = [];
    for (let i = w.makerStart[x]!; i < w.makerStart[x + 1]!; i++) {
      const m = w.makerAccounts[i]!;
      if (m !== a && optionSlot(w, m, s) >= 0 && takesFlow(w, m)) makers.push(m);
    }
    if (makers.length === 0) continue;
    let left = q;
    makers.forEach((m, i) => {
      const share = i === makers.length - 1 ? left : q / makers.length;
      left -= share;
      applyOptionFill(w, optionSlot(w, m, s), share, price);
    });
    applyOptionFill(w, k, -q, price);
    closedUsd += Math.abs(q) * price;
    w.events.push(w.step, w.round, EventKindCode.option_liquidation, x, a, o.seriesAsset[s]!, -q, price, Math.abs(q) * price, cause);
  }
  return closedUsd;
}

/** Cash-settles series s at its intrinsic value at the oracle price: every position closes there. */
function settleSeries(w: World, s: number): void {
  const o = w.options;
  const spot = w.oraclePrice[o.seriesOracle[s]!]!;
  const intrinsic = Math.max(0, (o.seriesIsCall[s] === 1 ? 1 : -1) * (spot - o.seriesStrike[s]!));
  for (let i = o.seriesPosStart[s]!; i < o.seriesPosStart[s + 1]!; i++) {
    const k = o.seriesPositions[i]!;
    const q = o.optQty[k]!;
    if (q === 0) continue;
    applyOptionFill(w, k, -q, intrinsic);
    const a = o.optAccount[k]!;
    w.events.push(w.step, w.round, EventKindCode.option_expiry, exchangeOf(w, a), a, o.seriesAsset[s]!, -q, intrinsic, Math.abs(q) * intrinsic, -1);
  }
  o.seriesSettled[s] = 1;
  o.seriesPrice[s] = intrinsic;
  o.seriesDelta[s] = 0;
  w.marksStale = true;
}
