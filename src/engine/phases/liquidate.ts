// Stage 7: the liquidation cascade. In rounds: re-read zero-lag oracles and re-mark everyone;
// queue every account below maintenance, weakest first (equity / maintenance, index tie-break);
// then liquidate the queue in order. An account goes to the backstop vault when its equity is
// below the takeover share of maintenance (Hyperliquid: 2/3) or the book cannot absorb it;
// otherwise it sells into the book (partially, back to initial margin, or fully), walking the
// shared market's impact curve, and pays a penalty to the insurance fund. A full close that would
// leave a shortfall the fund cannot pay is closed by ADL at the bankruptcy price instead. Rounds
// stop when nobody is liquidatable or at the exchange's round limit; their count is the depth.
// Lending markets liquidate in the same rounds (phases/lending.ts), so a fire sale of collateral
// and the perp liquidations it triggers belong to one cascade.
import { AdlRanking, exchangeOf, Status, LiquidationMode, type World } from '../../model/world.ts';
import { noteTrade, sellUnits } from '../spot.ts';
import { EVENT_AMOUNTS, EVENT_PRICE, EVENT_QUANTITY, EVENT_USD, EventKindCode } from '../record.ts';
import { applyFill, bankruptcyPrice, effectiveLeverage, FILL_ORDER, FILL_PRICE, FILL_QTY, hasCollateral, hasPerpPositions, hasPositions, INITIAL_MARGIN, initialMargin, markPrice, positionIn, refreshMarks } from '../accounts.ts';
import { ORDER, ORDER_BAND, ORDER_FILLED, ORDER_WANT, tradeLiquidationIntoBook } from '../book.ts';
import { MARKET, MARKET_PRICE, MARKET_SOLD, quoteFillAt } from '../market.ts';
import { causeFor } from '../causes.ts';
import { autoDeleverage, fundFallsShort, fundOf, payIntoFund, settleClosedOut, settleShortfall } from './settleLosses.ts';
import { refreshOracles } from './updateOracles.ts';
import { markForLiquidation } from './markToMarket.ts';
import { sortByKey } from '../sortPrefix.ts';
import { InvariantError } from '../../experiment/errors.ts';
import { grown } from '../../model/typedArrays.ts';
import { liquidateLendingRound } from './lending.ts';
import { chainHasRoom, useChain } from '../chains.ts';
import { closeOptions, hasOptionPositions } from '../optionBook.ts';
import { arbitrageBetweenRounds } from './arbitrage.ts';

/**
 * Doubles between liquidateAccount and its helpers: the account's equity and notional at mark (in),
 * the share to close (liquidationFraction's result, closeIntoBook's input) and predictedSlippage's
 * result. Slots rather than arguments and return values: liquidateAccount is too large for V8 to
 * inline these calls, and a double passed to or returned by a call it does not inline is a fresh
 * heap number (predictedSlippage's alone were 0.8 MB of a Monte Carlo run).
 */
const LIQ = new Float64Array(4);
const LIQ_EQUITY = 0;
const LIQ_NOTIONAL = 1;
const LIQ_FRACTION = 2;
const LIQ_SLIPPAGE = 3;

export function liquidate(w: World): void {
  let maxRounds = 0;
  for (let x = 0; x < w.nExchanges; x++) maxRounds = Math.max(maxRounds, w.maxRoundsPerStep[x]!);
  for (let l = 0; l < w.lending.nMarkets; l++) maxRounds = Math.max(maxRounds, w.lending.maxRoundsPerStep[l]!);
  for (let round = 0; round < maxRounds; round++) {
    w.round = round;
    // Arbitrageurs that meet the cascade within the step trade the gap the last round opened.
    if (round > 0 && w.arbitrage.anyBetweenRounds) arbitrageBetweenRounds(w);
    // Stage 5's marks still hold in round 0 unless an oracle moved or someone traded or withdrew since.
    const oraclesMoved = refreshOracles(w);
    if (round > 0 || oraclesMoved || w.marksStale) markForLiquidation(w);
    const n = queueLiquidatable(w, round);
    let progressed = 0;
    for (let i = 0; i < n; i++) if (liquidateAccount(w, w.scratch.queue[i]!)) progressed++;
    // Lending markets liquidate in the same round, on the same oracle readings.
    if (w.lending.nBorrowers > 0) progressed += liquidateLendingRound(w, round);
    // A counterparty the round's fills closed out under water goes down the waterfall too.
    settleClosedOut(w);
    // Accounts that nobody can absorb wait for the next step; a round that moved nothing ends it.
    if (progressed === 0) break;
    w.maxCascadeDepth = Math.max(w.maxCascadeDepth, round + 1);
  }
  w.round = 0;
}

/**
 * Fills scratch.queue with the liquidatable accounts, weakest first (ties: lower account id); returns
 * their count. listLiquidatable leaves slot k's account and key in queueAccount[k] and queueKey[k],
 * slots in account order; the queue, listing slots 0 … n − 1, is sorted by key (ties by slot, which is
 * by account) and then turned into accounts. Keys by slot rather than by account: the arrays hold a
 * round's liquidatable accounts, not one entry per account.
 */
function queueLiquidatable(w: World, round: number): number {
  const n = listLiquidatable(w, round);
  const queue = w.scratch.queue;
  for (let k = 0; k < n; k++) queue[k] = k;
  sortByKey(queue, n, w.scratch.queueKey);
  const account = w.scratch.queueAccount;
  for (let i = 0; i < n; i++) queue[i] = account[queue[i]!]!;
  return n;
}

/**
 * The loop of queueLiquidatable (unsorted); returns the count. A function of its own, with nothing
 * after the loop: the first step's marks list every account, V8 compiles the loop on the stack (OSR)
 * before the sort after it has ever run, and that compiled loop, reused at later long lists, gave up
 * on the sort's call each time ("insufficient type feedback"; up to 76 deoptimizations in three
 * 10^4-account runs).
 */
function listLiquidatable(w: World, round: number): number {
  const s = w.scratch;
  const cand = w.candidates;
  let n = 0;
  let previous = -1;
  // Only the accounts the last mark looked at can be below maintenance (markToMarket).
  for (let i = 0; i < w.nCandidates; i++) {
    const a = cand[i]!;
    // Ties in the queue go by slot, which is by account only while the candidates are in account order.
    if (a <= previous) throw new InvariantError(`candidate ${a} listed after ${previous}: not in account order`, w.step, 'liquidate');
    previous = a;
    if (w.accountStatus[a] !== Status.active || w.accountNotional[a] === 0) continue;
    const x = exchangeOf(w, a);
    if (round >= w.maxRoundsPerStep[x]!) continue;
    const maintenance = w.accountMaintenance[a]!;
    if (!(w.accountEquity[a]! < maintenance)) continue;
    if (n === s.queue.length) {
      s.queue = grown(s.queue, n + 1);
      s.queueAccount = grown(s.queueAccount, n + 1);
      s.queueKey = grown(s.queueKey, n + 1);
    }
    s.queueAccount[n] = a;
    s.queueKey[n] = w.accountEquity[a]! / maintenance;
    n++;
  }
  return n;
}

/**
 * Sells all of account a's non-cash collateral into the market its oracle reads (the venue's own book
 * for a venue oracle: the USDe pattern of October 2025) for cash in the account, one `unwind` event
 * per asset. Returns true if anything was sold.
 */
function sellPerpCollateral(w: World, a: number, cause: number): boolean {
  const x = exchangeOf(w, a);
  let sold = false;
  for (let k = w.collStart[a]!; k < w.collStart[a + 1]!; k++) {
    const holder = w.collHolder[k]!;
    const qty = w.units.qty[holder]!;
    if (!(qty > 0)) continue;
    const o = w.collOracle[k]!;
    const proceeds = sellUnits(w, o, holder, a, qty);
    const id = w.events.push(w.step, w.round, EventKindCode.unwind, x, a, w.oracleAsset[o]!, -qty, proceeds / qty, proceeds, cause);
    noteTrade(w, o, id, qty);
    sold = true;
  }
  if (sold) refreshMarks(w, a);
  return sold;
}

/**
 * Liquidates account a if it is (still) below maintenance. Returns true if any of its positions
 * changed hands (false when it must wait for capacity).
 */
export function liquidateAccount(w: World, a: number): boolean {
  refreshMarks(w, a);
  const equity = w.accountEquity[a]!;
  const maintenance = w.accountMaintenance[a]!;
  const notional = w.accountNotional[a]!;
  if (!(equity < maintenance) || notional === 0) return false;
  const x = exchangeOf(w, a);
  // A venue that is down liquidates nothing; a full chain, nothing more this step.
  if (w.exchangeDown[x] === 1 || !chainHasRoom(w, x)) return false;
  const cause = causeFor(w, a);
  // Non-cash collateral is sold first, where the venue values it; then the account is looked at again.
  if (hasCollateral(w, a) && sellPerpCollateral(w, a, cause)) {
    useChain(w, x);
    w.acc.liquidations[x]!++;
    return true;
  }
  // Option positions are closed next, at the model price, against the market makers.
  if (hasOptionPositions(w, a)) {
    const leverageBefore = effectiveLeverage(w, a);
    const closedUsd = closeOptions(w, a, cause);
    if (closedUsd > 0) {
      refreshMarks(w, a);
      const left = w.accountEquity[a]!;
      const penalty = Math.min(w.penaltyFraction[x]! * closedUsd, Math.max(0, left));
      if (penalty > 0) payIntoFund(w, a, penalty);
      w.acc.liquidationVolumeUsd[x] = w.acc.liquidationVolumeUsd[x]! + closedUsd;
      useChain(w, x);
      w.fairness.liquidatedLeverage.push(leverageBefore);
      w.acc.liquidations[x]!++;
      finishIfClosed(w, a, cause);
      return true;
    }
    // No maker could take them (none at or above maintenance holds the series): with no perp position
    // either, there is nothing to sell, and the account waits as it would for a book without capacity.
    if (!hasPerpPositions(w, a)) return false;
  }
  const leverage = effectiveLeverage(w, a);
  let progressed = true;
  const vault = w.exchangeVaultAccount[x]!;
  if (equity > 0 && equity < w.takeoverBelowMaintenanceShare[x]! * maintenance && vaultCanTake(w, vault, a)) {
    backstopTakeover(w, a, vault, cause);
  } else {
    LIQ[LIQ_EQUITY] = equity;
    LIQ[LIQ_NOTIONAL] = notional;
    liquidationFraction(w, a);
    let fraction = LIQ[LIQ_FRACTION]!;
    // Hyperliquid: a solvent account over the size threshold sends only a slice to the book; for the
    // cooldown that follows, its liquidation orders are for the whole position again.
    const sliced =
      equity > 0 && notional > w.sliceAboveNotionalUsd[x]! && fraction > w.sliceFraction[x]! && w.step >= w.accountNextLiquidationStep[a]!;
    if (sliced) fraction = w.sliceFraction[x]!;
    let slippage = 0;
    if (fraction === 1) {
      predictedSlippage(w, a);
      slippage = LIQ[LIQ_SLIPPAGE]!;
    }
    // Without ADL (Drift), the shortfall goes down the waterfall after a book sale.
    if (fraction === 1 && equity - slippage < 0 && w.adlRanking[x] !== AdlRanking.none && fundFallsShort(w, fundOf(w, a), slippage - equity)) {
      progressed = closeByAdl(w, a, cause);
    } else {
      LIQ[LIQ_FRACTION] = fraction;
      progressed = closeIntoBook(w, a, cause);
      if (sliced && progressed) w.accountNextLiquidationStep[a] = w.step + w.sliceCooldownSteps[x]!;
    }
  }
  if (progressed) {
    useChain(w, x);
    w.fairness.liquidatedLeverage.push(leverage);
    w.acc.liquidations[x]!++;
    if (w.acc.cascadeRounds[x]! < w.round + 1) w.acc.cascadeRounds[x] = w.round + 1;
  }
  return progressed;
}

/**
 * Share of every position to close, from equity E and notional N in LIQ, into LIQ[LIQ_FRACTION].
 * Partial mode restores initial margin at mark:
 * E − pen·f·N ≥ (1 − f)·IM  ⇒  f = (IM − E) / (IM − pen·N). Tiered requirements are convex with
 * zero at zero notional, so IM((1 − f)N) ≤ (1 − f)·IM(N) and this f is enough before slippage.
 * Full close when bankrupt at mark, when f falls outside (0, 1), or when the rest would be small.
 */
function liquidationFraction(w: World, a: number): void {
  const equity = LIQ[LIQ_EQUITY]!;
  const notional = LIQ[LIQ_NOTIONAL]!;
  LIQ[LIQ_FRACTION] = 1;
  const x = exchangeOf(w, a);
  if (w.liquidationMode[x] === LiquidationMode.full || equity <= 0) return;
  initialMargin(w, a);
  const initial = INITIAL_MARGIN[0]!;
  const f = (initial - equity) / (initial - w.penaltyFraction[x]! * notional);
  if (!(f > 0 && f < 1) || (1 - f) * notional < w.partialMinNotionalUsd[x]!) return;
  LIQ[LIQ_FRACTION] = f;
}

/**
 * dYdX v4's fillable price as a band around the oracle price (x/clob GetFillablePrice): the order may
 * fill down to (PNN − ABR × SMMR × PMMR) / size, ABR = BA × (1 − TNC / TMMR), so its distance from
 * the oracle is ABR × SMMR × PMMR / |PNN|. With the account's equity for TNC, its maintenance for
 * TMMR and PMMR, and its notional for |PNN|: the weaker the account, the worse the price it accepts.
 */
function fillableBand(w: World, a: number): number {
  const x = exchangeOf(w, a);
  const maintenance = w.accountMaintenance[a]!;
  const notional = w.accountNotional[a]!;
  if (!(maintenance > 0) || !(notional > 0)) return 0;
  // x/clob bounds the ABR between 0 and 1.
  const abr = Math.min(1, Math.max(0, w.fillableBa[x]! * (1 - w.accountEquity[a]! / maintenance)));
  return Math.min(1, (abr * w.fillableSmmr[x]! * maintenance) / notional);
}

/**
 * Equity lost (USD, ≥ 0 when prices fall under selling) if every position were sold into the book
 * now, into LIQ[LIQ_SLIPPAGE].
 */
function predictedSlippage(w: World, a: number): void {
  let loss = 0;
  const end = w.posStart[a + 1]!;
  for (let p = w.posStart[a]!; p < end; p++) {
    const q = w.posQty[p]!;
    if (q === 0) continue;
    const m = w.posMarket[p]!;
    // Closing q at fill X instead of mark P changes equity by q·(X − P).
    MARKET[MARKET_SOLD] = q;
    quoteFillAt(w, w.marketAsset[m]!);
    loss -= q * (MARKET[MARKET_PRICE]! - markPrice(w, m));
  }
  LIQ[LIQ_SLIPPAGE] = loss;
}

/**
 * Sells the share LIQ[LIQ_FRACTION] of every position into the book (liquidators first, then the
 * market makers: tradeLiquidationIntoBook), charges the
 * penalty on what closed, and settles a shortfall if the account ended with no positions and
 * negative cash. What the book cannot absorb goes to the backstop vault if it can take it; otherwise
 * it waits for the next round or step.
 */
function closeIntoBook(w: World, a: number, cause: number): boolean {
  const fraction = LIQ[LIQ_FRACTION]!;
  const x = exchangeOf(w, a);
  const band = w.fillableSmmr[x]! > 0 ? fillableBand(w, a) : -1;
  let closedUsd = 0;
  let unfilled = false;
  const end = w.posStart[a + 1]!;
  for (let p = w.posStart[a]!; p < end; p++) {
    const q = w.posQty[p]!;
    if (q === 0) continue;
    const want = fraction === 1 ? -q : -fraction * q;
    ORDER[ORDER_WANT] = want;
    ORDER[ORDER_BAND] = band;
    tradeLiquidationIntoBook(w, p, cause);
    const dq = ORDER[ORDER_FILLED]!;
    if (dq !== want) unfilled = true;
    if (dq !== 0) closedUsd += Math.abs(dq) * markPrice(w, w.posMarket[p]!);
  }
  w.acc.liquidationVolumeUsd[x] = w.acc.liquidationVolumeUsd[x]! + closedUsd;
  refreshMarks(w, a);
  const equity = w.accountEquity[a]!;
  // Takeover (Binance, BitMEX): once every position is closed, the fund keeps what margin is left —
  // it took the positions over at the bankruptcy price. Otherwise a penalty on what closed.
  const takenOver = w.liquidationTakeover[x] === 1 && !unfilled && !hasPositions(w, a);
  const penalty = takenOver ? Math.max(0, equity) : Math.min(w.penaltyFraction[x]! * closedUsd, Math.max(0, equity));
  if (penalty > 0) payIntoFund(w, a, penalty);
  if (unfilled) {
    const vault = w.exchangeVaultAccount[x]!;
    refreshMarks(w, a);
    const left = w.accountEquity[a]!;
    if (left > 0 && vaultCanTake(w, vault, a)) {
      backstopTakeover(w, a, vault, cause);
      return true;
    }
    return closedUsd > 0;
  }
  finishIfClosed(w, a, cause);
  return true;
}

/** After the last position closed: a shortfall goes down the waterfall, else the account is done. */
function finishIfClosed(w: World, a: number, cause: number): void {
  if (hasPositions(w, a)) return;
  if (w.ledger.balance[a]! < 0) settleShortfall(w, a, cause);
  else w.accountStatus[a] = Status.liquidated;
}

/**
 * The fund cannot pay the shortfall a book sale would leave: close every position at its
 * bankruptcy price against ranked opposite winners (ADL), which leaves equity at 0 — the winners
 * bear what the account owed beyond its collateral, up to their profit (recorded as bad debt
 * absorbed by ADL). What ADL cannot place is sold into the book; any shortfall left goes down the
 * rest of the waterfall. The account's equity and notional at mark are in LIQ. Returns true if any
 * position changed hands.
 */
function closeByAdl(w: World, a: number, cause: number): boolean {
  const equity = LIQ[LIQ_EQUITY]!;
  const notional = LIQ[LIQ_NOTIONAL]!;
  const x = exchangeOf(w, a);
  const absorbedBefore = w.acc.adlAbsorbedUsd[x]!;
  // What changed hands, at mark: ADL and the book may both be unable to take a position (no winner
  // with profit on the other side, a full book), and then the account waits like any other.
  let closedUsd = 0;
  const end = w.posStart[a + 1]!;
  for (let p = w.posStart[a]!; p < end; p++) {
    const q = w.posQty[p]!;
    if (q === 0) continue;
    // At the bankruptcy price, or (Hyperliquid) at the previous step's oracle price.
    const price = w.adlAtPreviousOracle[x] === 1 ? w.oraclePrevPrice[w.marketOracle[w.posMarket[p]!]!]! : bankruptcyPrice(w, p, equity, notional);
    const placed = autoDeleverage(w, p, -q, price, cause);
    const left = -q - placed;
    if (left !== 0) {
      ORDER[ORDER_WANT] = left;
      ORDER[ORDER_BAND] = -1;
      tradeLiquidationIntoBook(w, p, cause);
    }
    const dq = q - w.posQty[p]!;
    if (dq !== 0) closedUsd += Math.abs(dq) * markPrice(w, w.posMarket[p]!);
  }
  // Closed in full: the account's notional at mark, as before (the same bits as the sum above up to
  // rounding); in part, what closed.
  const open = hasPositions(w, a);
  w.acc.liquidationVolumeUsd[x] = w.acc.liquidationVolumeUsd[x]! + (open ? closedUsd : notional);
  // Closing at a price other than the bankruptcy price (Hyperliquid's previous mark) can take more
  // from the winners than the account owed at mark; only the shortfall at mark was bad debt.
  const absorbed = Math.min(w.acc.adlAbsorbedUsd[x]! - absorbedBefore, Math.max(0, -equity));
  w.acc.adlAbsorbedUsd[x] = absorbedBefore + absorbed;
  if (absorbed > 0) {
    w.acc.badDebtUsd[x] = w.acc.badDebtUsd[x]! + absorbed;
    w.events.push(w.step, w.round, EventKindCode.bad_debt, x, a, -1, 0, 0, absorbed, cause);
  }
  if (open) return closedUsd > 0;
  // Rounding leaves dust; a real shortfall remains when the book or a winner's entry bound
  // kept the close from reaching the bankruptcy price.
  if (w.ledger.balance[a]! < -1e-9 * notional) settleShortfall(w, a, cause);
  else w.accountStatus[a] = equity < 0 ? Status.bankrupt : Status.liquidated;
  return true;
}

/** The vault can take over account a while its notional stays under max leverage × equity. */
function vaultCanTake(w: World, vault: number, a: number): boolean {
  if (vault < 0 || vault === a || w.accountStatus[vault] !== Status.active) return false;
  refreshMarks(w, vault);
  const vaultEquity = w.accountEquity[vault]!;
  const vaultNotional = w.accountNotional[vault]!;
  refreshMarks(w, a);
  return vaultNotional + w.accountNotional[a]! <= w.cohortMaxLeverage[w.accountCohort[vault]!]! * (vaultEquity + w.accountEquity[a]!);
}

/** The vault inherits every position at mark and the account's remaining collateral. */
function backstopTakeover(w: World, a: number, vault: number, cause: number): void {
  const x = exchangeOf(w, a);
  const end = w.posStart[a + 1]!;
  for (let p = w.posStart[a]!; p < end; p++) {
    const q = w.posQty[p]!;
    if (q === 0) continue;
    const m = w.posMarket[p]!;
    const price = markPrice(w, m);
    FILL_ORDER[FILL_QTY] = -q;
    FILL_ORDER[FILL_PRICE] = price;
    applyFill(w, p);
    FILL_ORDER[FILL_QTY] = q;
    applyFill(w, positionIn(w, vault, m));
    w.acc.backstopVolumeUsd[x] = w.acc.backstopVolumeUsd[x]! + Math.abs(q) * price;
    w.acc.liquidationVolumeUsd[x] = w.acc.liquidationVolumeUsd[x]! + Math.abs(q) * price;
    EVENT_AMOUNTS[EVENT_QUANTITY] = -q;
    EVENT_AMOUNTS[EVENT_PRICE] = price;
    EVENT_AMOUNTS[EVENT_USD] = Math.abs(q) * price;
    w.events.pushAmounts(w.step, w.round, EventKindCode.backstop, x, a, w.marketAsset[m]!, cause);
  }
  const cash = w.ledger.balance[a]!;
  if (cash !== 0) w.ledger.transfer(a, vault, cash);
  w.accountStatus[a] = Status.liquidated;
}
