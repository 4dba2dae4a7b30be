// Account arithmetic on the struct-of-arrays state: marking an account to the oracle price,
// settling funding, and applying a fill to a position. A position's value is qty × price + quote;
// realized PnL moves between the account's collateral and its exchange's settlement pool through
// the ledger, so the pool always equals the open quote balances (perp PnL is zero-sum).
import { exchangeOf, Status, type World } from '../model/world.ts';
import { InvariantError } from '../experiment/errors.ts';
import { TRANSFER_USD } from './ledger.ts';
import { hasOptionPositions, hasOptionSlots, optionMark, optionPortfolioRequirementUsd } from './optionBook.ts';

/** Relative size below which a remainder of a fill is rounding, not a position (≈ 50 ulps). */
const DUST = 1e-14;

/** The price a protocol marks market m at: its oracle's price, USD. */
export function markPrice(w: World, m: number): number {
  return w.oraclePrice[w.marketOracle[m]!]!;
}

/**
 * What perp position p has won or lost at mark, USD: qty × mark + quote − unsettled funding (markAccount's
 * arithmetic, which its hot loop keeps inline). A closed position's quote is 0, so it has won nothing.
 */
export function positionPnl(w: World, p: number): number {
  const q = w.posQty[p]!;
  if (q === 0) return 0;
  const m = w.posMarket[p]!;
  return q * markPrice(w, m) + w.posQuote[p]! - q * (w.fundingIndex[m]! - w.posFundingIndex[p]!);
}

/**
 * Marks account a to its oracle prices and stores equity, maintenance requirement and gross notional
 * (USD) in the account arrays (the initial requirement: initialMargin). Returns the equity. Marks
 * stored in the current mark epoch by an account untouched since are exactly what marking again would
 * compute (the same function of the same inputs), so they are returned as they are: in a cascade, ADL
 * and socialization read every counterparty's marks once per failed account, and most of them have
 * not changed.
 */
export function markAccount(w: World, a: number): number {
  refreshMarks(w, a);
  return w.accountEquity[a]!;
}

/**
 * What account a holds, USD: its equity at the current marks with non-cash collateral at its oracle
 * price unweighted (the margin's weight, 1 − haircut, is a rule for lending against it, not a loss). What
 * `accountContributedUsd` is measured against (loss_gini, cohorts.arrow).
 */
export function accountValueUsd(w: World, a: number): number {
  let value = markAccount(w, a);
  if (w.collateralListed) {
    for (let k = w.collStart[a]!; k < w.collStart[a + 1]!; k++) {
      value += w.units.qty[w.collHolder[k]!]! * w.oraclePrice[w.collOracle[k]!]! * (1 - w.collWeight[k]!);
    }
  }
  return value;
}

/**
 * markAccount without the return value (the marks are then read from the account arrays,
 * w.accountEquity[a] …), for the engine's calls: where V8 does not inline markAccount, the equity it
 * returns is a fresh heap number (as with storeMarks below).
 */
export function refreshMarks(w: World, a: number): void {
  if (w.ledger.markStamp[a] !== w.markStampNow) storeMarks(w, a);
  else if (w.marginIndex.verify) verifyStoredMarks(w, a);
}

/**
 * Whether account c may take the other side of someone's trade (a book fill, an option close): active,
 * and at or above maintenance at its marks. A venue cancels the open orders of an account it liquidates
 * (Drift's liquidate_perp calls orders::cancel_orders with OrderActionExplanation::Liquidation as the
 * user enters liquidation: drift-labs/protocol-v2, programs/drift/src/controller/liquidation.rs), so an
 * account below maintenance fills nobody's trade; the liquidation engine closes its own positions and
 * books its shortfall (design decision 53). Refreshes c's marks.
 */
export function takesFlow(w: World, c: number): boolean {
  if (w.accountStatus[c] !== Status.active) return false;
  refreshMarks(w, c);
  return w.accountEquity[c]! >= w.accountMaintenance[c]!;
}

/**
 * --check: stored marks about to be reused (or whose inputs initialMargin is about to read) must be
 * exactly what marking again computes.
 */
function verifyStoredMarks(w: World, a: number): void {
  const equity = w.accountEquity[a]!;
  const maintenance = w.accountMaintenance[a]!;
  const notional = w.accountNotional[a]!;
  storeMarks(w, a);
  if (
    !Object.is(equity, w.accountEquity[a]) ||
    !Object.is(maintenance, w.accountMaintenance[a]) ||
    !Object.is(notional, w.accountNotional[a])
  ) {
    throw new InvariantError(
      `account ${a}: stored marks (equity ${equity}, maintenance ${maintenance}) reused, but marking again gives ${w.accountEquity[a]}, ${w.accountMaintenance[a]}`,
      w.step,
      'markAccount',
    );
  }
}

/** Starts a new mark epoch: stored marks may no longer match prices, funding or margin rates. */
export function invalidateMarks(w: World): void {
  w.markEpoch++;
  if (w.markStampNow === 255) {
    w.ledger.markStamp.fill(0);
    w.markStampNow = 1;
  } else {
    w.markStampNow++;
  }
  // The ADL queues belong to the epoch that ended: nothing reads the change log until they restart it.
  w.ledger.changeLogOn = false;
}

/**
 * The margin tier of market m that a position of notional n (USD) falls in: the first whose upper
 * bound is at or above n, else the last.
 */
function tierOf(w: World, m: number, n: number): number {
  const last = w.tierStart[m + 1]! - 1;
  let t = w.tierStart[m]!;
  while (t < last && n > w.tierUpperUsd[t]!) t++;
  return t;
}

/**
 * markAccount without the return value, for loops over every account (markToMarket): a function
 * that returns a double V8 does not inline boxes it in a fresh heap number on every call — 16 bytes
 * per account per step, the whole of a quiet step's allocation before this split. The initial
 * requirement is not stored: initialMargin computes it where it is read.
 */
export function storeMarks(w: World, a: number): void {
  let equity = w.ledger.balance[a]!;
  let notional = 0;
  let maintenance = 0;
  const x = exchangeOf(w, a);
  const portfolio = w.exchangePortfolio[x] === 1;
  const groupDelta = w.scratch.groupDelta;
  if (portfolio) groupDelta.fill(0, 0, w.exchangeGroupCount[x]!);
  const end = w.posStart[a + 1]!;
  for (let p = w.posStart[a]!; p < end; p++) {
    const q = w.posQty[p]!;
    if (q === 0) continue;
    const m = w.posMarket[p]!;
    const price = w.oraclePrice[w.marketOracle[m]!]!;
    // Unsettled funding: a long owes qty × (index now − index at last settlement).
    equity += q * price + w.posQuote[p]! - q * (w.fundingIndex[m]! - w.posFundingIndex[p]!);
    const n = Math.abs(q) * price;
    notional += n;
    if (portfolio) {
      groupDelta[w.marketGroup[m]!] = groupDelta[w.marketGroup[m]!]! + q * price;
    } else {
      // Dynamic margin scales the tier rates by realised volatility (1 when off); as requirementUsd
      // computes it: notional × rate − amount.
      const k = w.marketMarginMultiplier[m]!;
      const t = tierOf(w, m, n);
      maintenance += k * (n * w.tierMmRate[t]! - w.tierMmAmount[t]!);
    }
  }
  // Option positions (only on portfolio-margin venues): valued at the model price, margined on the
  // grid with the options repriced at every move and volatility shock.
  const hasOptions = hasOptionSlots(w, a);
  if (hasOptions) {
    const o = optionMark(w, a);
    equity += o.value;
    notional += o.notional;
  }
  if (portfolio) {
    maintenance = hasOptions ? optionPortfolioRequirementUsd(w, a, x, groupDelta) : portfolioRequirementUsd(w, x, groupDelta);
  }
  // Non-cash collateral counts at its oracle price × its weight (1 − haircut).
  let withCollateral = false;
  if (w.collateralListed) {
    const cEnd = w.collStart[a + 1]!;
    for (let k = w.collStart[a]!; k < cEnd; k++) {
      equity += w.units.qty[w.collHolder[k]!]! * w.oraclePrice[w.collOracle[k]!]! * w.collWeight[k]!;
    }
    withCollateral = cEnd > w.collStart[a]!;
  }
  w.accountEquity[a] = equity;
  w.accountMaintenance[a] = maintenance;
  w.accountNotional[a] = notional;
  // Options move with implied volatility and collateral with its unit holdings, neither of which the
  // epoch or the ledger tracks: such accounts are always marked afresh.
  w.ledger.markStamp[a] = hasOptions || withCollateral ? 0 : w.markStampNow;
}

/** Doubles per market in a mark's market table (fillMarketTable): six used, a 64-byte line each. */
export const TABLE_STRIDE = 8;

/**
 * Fills a mark's market table: per market m, at m × TABLE_STRIDE, its mark price, funding index and
 * margin multiplier, then its first tier's upper bound (the largest double when it is the only tier:
 * the world's arrays hold no infinities, test/properties.test.ts), maintenance rate and amount.
 * Prices, funding and multipliers do not move during a mark, so one table serves every account the
 * mark looks at, in one cache line per market instead of the six arrays (and the oracle indirection)
 * storeMarks reads per position.
 */
export function fillMarketTable(w: World, table: Float64Array): void {
  for (let m = 0; m < w.nMarkets; m++) {
    const o = m * TABLE_STRIDE;
    const t = w.tierStart[m]!;
    table[o] = w.oraclePrice[w.marketOracle[m]!]!;
    table[o + 1] = w.fundingIndex[m]!;
    table[o + 2] = w.marketMarginMultiplier[m]!;
    table[o + 3] = t < w.tierStart[m + 1]! - 1 ? Math.min(w.tierUpperUsd[t]!, Number.MAX_VALUE) : Number.MAX_VALUE;
    table[o + 4] = w.tierMmRate[t]!;
    table[o + 5] = w.tierMmAmount[t]!;
  }
}

/**
 * True when storeMarks would take only its tiered path for account a: its exchange does not margin
 * by portfolio, and it has no option slots and no non-cash collateral.
 */
export function isPlainAccount(w: World, a: number): boolean {
  return w.exchangePortfolio[exchangeOf(w, a)] === 0 && !hasOptionSlots(w, a) && !hasCollateral(w, a);
}

/**
 * storeMarks for the active accounts in [from, to), every one of them plain (isPlainAccount), during a
 * mark: prices, funding and the first tier come from the mark's market table. The same operations in
 * the same order as storeMarks, so the same bits (test/marginIndex.test.ts compares the two on random
 * worlds). One loop over a range, so that V8 reads each array's base once per call rather than once per
 * account: the every-account mark runs it over all of them (the kernel of the benchmark). Returns how
 * many it stored, and lists them, in account order, in `list` when one is given; MARKED[0] is how many it
 * marked (the active ones).
 *
 * With `onlyUnderLine`, an account is stored and listed only when it may be at or under its margin-call
 * level or maintenance: unless 0 ≤ maintenance and equity ≥ ĉ × maintenance, ĉ the largest call
 * multiple of any cohort (≥ 1: experiment/schema.ts). The margin calls (equity < c × maintenance, c ≤ ĉ)
 * and the liquidation queue (equity < maintenance) look only at listed accounts, and fl(c × M) ≤ fl(ĉ × M)
 * for M ≥ 0, so they decide the same; the others keep older stamps, and whoever reads their marks
 * marks them again (refreshMarks). So the every-account mark reads every account and writes only the
 * few near their line.
 */
export function storePlainMarks(w: World, table: Float64Array, from: number, to: number, list: Int32Array | null = null, onlyUnderLine = false): number {
  const status = w.accountStatus;
  const balance = w.ledger.balance;
  const posStart = w.posStart;
  const posQty = w.posQty;
  const posMarket = w.posMarket;
  const posQuote = w.posQuote;
  const posFunding = w.posFundingIndex;
  const equityOut = w.accountEquity;
  const maintenanceOut = w.accountMaintenance;
  const notionalOut = w.accountNotional;
  const stamp = w.ledger.markStamp;
  const epoch = w.markStampNow;
  const active = Status.active;
  // ĉ, or 0 when every account is stored (the test below then never skips).
  let line = 0;
  if (onlyUnderLine) {
    line = 1;
    for (let c = 0; c < w.cohortCallMultiple.length; c++) line = Math.max(line, w.cohortCallMultiple[c]!);
  }
  let marked = 0;
  let listed = 0;
  for (let a = from; a < to; a++) {
    if (status[a] !== active) continue;
    marked++;
    let equity = balance[a]!;
    let notional = 0;
    let maintenance = 0;
    const end = posStart[a + 1]!;
    for (let p = posStart[a]!; p < end; p++) {
      const q = posQty[p]!;
      if (q === 0) continue;
      const o = posMarket[p]! * TABLE_STRIDE;
      const price = table[o]!;
      equity += q * price + posQuote[p]! - q * (table[o + 1]! - posFunding[p]!);
      const n = Math.abs(q) * price;
      notional += n;
      const k = table[o + 2]!;
      if (n <= table[o + 3]!) {
        maintenance += k * (n * table[o + 4]! - table[o + 5]!);
      } else {
        // Past the first tier (or NaN): storeMarks's bracket search.
        const t = tierOf(w, posMarket[p]!, n);
        maintenance += k * (n * w.tierMmRate[t]! - w.tierMmAmount[t]!);
      }
    }
    if (line > 0 && maintenance >= 0 && equity >= line * maintenance) continue;
    if (list !== null) list[listed] = a;
    listed++;
    equityOut[a] = equity;
    maintenanceOut[a] = maintenance;
    notionalOut[a] = notional;
    stamp[a] = epoch;
  }
  MARKED[0] = marked;
  return listed;
}

/** How many active accounts storePlainMarks's last call marked (a slot: it returns the stored count). */
export const MARKED = new Int32Array(1);

/** The result of {@link initialMargin} (a typed-array slot: a returned double would be boxed). */
export const INITIAL_MARGIN = new Float64Array(1);

/**
 * Account a's initial margin requirement, USD, into INITIAL_MARGIN[0]: Σ over its open positions of
 * multiplier × (notional × tier IM rate − tier IM amount), the tier found by notional as for
 * maintenance; on a portfolio-margin venue the venue's IM/MM ratio × its stored maintenance.
 *
 * Not stored with the marks (8 bytes an account, and two multiply-adds per position in every mark):
 * only a margin call (top-up, deleverage) and a partial liquidation read it, for accounts under their
 * call level. Its inputs are those of the account's stored marks at every such read: prices, funding and
 * margin rates move only in the phases before markToMarket and between cascade rounds (each round marks
 * again, and liquidateAccount refreshes the account's marks before it reads), and a margin call reads
 * it before the account's own top-up or trades. So it is the value marking would have stored, bit for
 * bit (the same operations in the same order as storeMarks's maintenance; test/marginIndex.test.ts
 * compares it with model/margin.ts on random worlds).
 */
export function initialMargin(w: World, a: number): void {
  // --check: the stored marks must be what marking now computes, i.e. these are their inputs.
  if (w.marginIndex.verify) verifyStoredMarks(w, a);
  const x = exchangeOf(w, a);
  if (w.exchangePortfolio[x] === 1) {
    INITIAL_MARGIN[0] = w.exchangeImToMm[x]! * w.accountMaintenance[a]!;
    return;
  }
  let initial = 0;
  const end = w.posStart[a + 1]!;
  for (let p = w.posStart[a]!; p < end; p++) {
    const q = w.posQty[p]!;
    if (q === 0) continue;
    const m = w.posMarket[p]!;
    const n = Math.abs(q) * w.oraclePrice[w.marketOracle[m]!]!;
    const t = tierOf(w, m, n);
    initial += w.marketMarginMultiplier[m]! * (n * w.tierImRate[t]! - w.tierImAmount[t]!);
  }
  INITIAL_MARGIN[0] = initial;
}

/** initialMargin's value, for callers off the hot paths (a returned double is boxed). */
export function initialMarginUsd(w: World, a: number): number {
  initialMargin(w, a);
  return INITIAL_MARGIN[0]!;
}

/**
 * What account a is worth at oracle prices, USD: its equity with non-cash collateral at full value
 * (no haircut) — the NAV behind a vault share or a synthetic dollar. Re-marks the account.
 */
export function accountNavUsd(w: World, a: number): number {
  let nav = markAccount(w, a);
  if (!w.collateralListed) return nav;
  for (let k = w.collStart[a]!; k < w.collStart[a + 1]!; k++) {
    nav += w.units.qty[w.collHolder[k]!]! * w.oraclePrice[w.collOracle[k]!]! * (1 - w.collWeight[k]!);
  }
  return nav;
}

/**
 * Portfolio margin of a linear book from its net delta (USD) per co-movement group: a group's P&L
 * under a move μ is Δ·μ, so its worst loss over a grid is at an extreme move, max(−Δ·down, −Δ·up, 0);
 * groups move independently (worst losses add), the tails count at their weight, and the net-delta
 * charge is on the sum of |Δ| over groups. Equals src/margin/portfolio.ts on linear books (tested).
 */
export function portfolioRequirementUsd(w: World, x: number, groupDelta: Float64Array): number {
  const down = w.exchangeGridDown[x]!;
  const up = w.exchangeGridUp[x]!;
  const tailDown = w.exchangeTailDown[x]!;
  const tailUp = w.exchangeTailUp[x]!;
  let grid = 0;
  let tail = 0;
  let net = 0;
  for (let g = 0; g < w.exchangeGroupCount[x]!; g++) {
    const d = groupDelta[g]!;
    grid += Math.max(-d * down, -d * up, 0);
    tail += Math.max(-d * tailDown, -d * tailUp, 0);
    net += Math.abs(d);
  }
  return Math.max(grid, w.exchangeTailWeight[x]! * tail, w.exchangeNetDeltaFraction[x]! * net);
}

/** True when account a has non-cash collateral slots. */
export function hasCollateral(w: World, a: number): boolean {
  return w.collateralListed && w.collStart[a]! < w.collStart[a + 1]!;
}

/** Whether account a holds units of any non-cash collateral (hasCollateral: whether it has slots for them). */
export function holdsCollateral(w: World, a: number): boolean {
  if (!w.collateralListed) return false;
  for (let k = w.collStart[a]!; k < w.collStart[a + 1]!; k++) if (w.units.qty[w.collHolder[k]!]! > 0) return true;
  return false;
}

/**
 * Whether trading has left account a with nothing: no open position (perp or option) and no collateral
 * units. Such an account with cash below zero is a shortfall only the loss waterfall can settle: what
 * settleClosedOut sends down it and what the check of booked shortfalls counts.
 */
export function hasNothingLeft(w: World, a: number): boolean {
  return !hasPositions(w, a) && !holdsCollateral(w, a);
}

/** True when account a holds any non-zero position (perp or option). */
export function hasPositions(w: World, a: number): boolean {
  return hasPerpPositions(w, a) || hasOptionPositions(w, a);
}

/** Whether account a has an open perp position. */
export function hasPerpPositions(w: World, a: number): boolean {
  const end = w.posStart[a + 1]!;
  for (let p = w.posStart[a]!; p < end; p++) if (w.posQty[p] !== 0) return true;
  return false;
}

/** Position slot of account a in market m, or -1. */
export function positionIn(w: World, a: number, m: number): number {
  const end = w.posStart[a + 1]!;
  for (let p = w.posStart[a]!; p < end; p++) if (w.posMarket[p] === m) return p;
  return -1;
}

/** Folds accrued funding into the position's quote balance (zero-sum across a market). */
export function settleFunding(w: World, p: number): void {
  const m = w.posMarket[p]!;
  const index = w.fundingIndex[m]!;
  w.posQuote[p] = w.posQuote[p]! - w.posQty[p]! * (index - w.posFundingIndex[p]!);
  w.posFundingIndex[p] = index;
  w.ledger.touch(w.posAccount[p]!);
}

/** The result of {@link fillArithmetic} (one shared object: read it before the next call). */
export interface FillResult {
  qty: number;
  quote: number;
  /** PnL realized by the closing part (positive = the holder gained); 0 when nothing closed. */
  realized: number;
  /** True when part of the fill reduced the position. */
  closing: boolean;
}
const FILL: FillResult = { qty: 0, quote: 0, realized: 0, closing: false };

/**
 * The fill that applyFill and fillArithmetic apply, set by the caller just before the call:
 * FILL_ORDER[FILL_QTY] units (positive = bought) at FILL_ORDER[FILL_PRICE] USD. A typed-array slot
 * rather than arguments: fills are called from code that V8 does not inline them into, where a
 * double argument is a fresh heap number (fills were the largest share of what a cascade allocated).
 */
export const FILL_ORDER = new Float64Array(2);
export const FILL_QTY = 0;
export const FILL_PRICE = 1;

/**
 * The fill in FILL_ORDER, of `dq` units at `priceUsd`, on the position of `q` = qty[i] units with
 * quote balance `quote` = quotes[i] (read, not written): the part that reduces the position realizes
 * −closed × price + (closed share) × quote; the rest opens at the fill price. A close within rounding
 * of the whole position closes it exactly (pro-rata splits leave residues of a few ulps that would
 * otherwise live on as positions without a counterparty). Shared by perp and option positions.
 */
export function fillArithmetic(qty: Float64Array, quotes: Float64Array, i: number): FillResult {
  const q = qty[i]!;
  let quote = quotes[i]!;
  const dq = FILL_ORDER[FILL_QTY]!;
  const priceUsd = FILL_ORDER[FILL_PRICE]!;
  let newQty = q;
  let realized = 0;
  let open = dq;
  let closing = false;
  if (q !== 0 && q * dq < 0) {
    closing = true;
    const closed = Math.abs(dq) >= Math.abs(q) * (1 - DUST) ? -q : dq;
    const share = -closed / q;
    realized = -closed * priceUsd + share * quote;
    quote = closed === -q ? 0 : quote - share * quote;
    open = dq - closed;
    if (Math.abs(open) <= DUST * Math.abs(dq)) open = 0;
    newQty = closed === -q ? 0 : q + closed;
  }
  if (open !== 0) {
    newQty = newQty + open;
    quote -= open * priceUsd;
  }
  FILL.qty = newQty;
  FILL.quote = quote;
  FILL.realized = realized;
  FILL.closing = closing;
  return FILL;
}

/**
 * Applies the fill in FILL_ORDER (units, positive = bought, at a price in USD) to position p
 * (funding settled first); the realized PnL is paid between the account and its exchange's
 * settlement pool.
 */
export function applyFill(w: World, p: number): void {
  if (FILL_ORDER[FILL_QTY] === 0) return;
  settleFunding(w, p);
  const f = fillArithmetic(w.posQty, w.posQuote, p);
  const m = w.posMarket[p]!;
  w.marketLongQty[m] = w.marketLongQty[m]! + Math.max(f.qty, 0) - Math.max(w.posQty[p]!, 0);
  w.posQty[p] = f.qty;
  w.posQuote[p] = f.quote;
  settleFill(w, w.posAccount[p]!, f);
}

/**
 * After a fill of account a's perp or option slot: its stored marks are stale (the margin index and
 * the mark cache look again), and the closing part's PnL moves between it and the settlement pool.
 */
export function settleFill(w: World, a: number, f: FillResult): void {
  w.ledger.touch(a);
  if (!f.closing) return;
  TRANSFER_USD[0] = f.realized;
  w.ledger.transferAmount(w.poolHolderStart + exchangeOf(w, a), a);
}

/**
 * Bankruptcy price of position p of an account with equity `equityUsd` and gross notional
 * `notionalUsd` at mark: closing every position of the account at its bankruptcy price leaves
 * equity exactly 0, each position bearing the equity in proportion to its notional:
 * P_bk = P × (1 − sign(q) × E / N).
 */
export function bankruptcyPrice(w: World, p: number, equityUsd: number, notionalUsd: number): number {
  const price = markPrice(w, w.posMarket[p]!);
  return price * (1 - (Math.sign(w.posQty[p]!) * equityUsd) / notionalUsd);
}

/** Effective leverage of account a from its last mark: notional / equity, Infinity when equity ≤ 0. */
export function effectiveLeverage(w: World, a: number): number {
  const equity = w.accountEquity[a]!;
  return equity > 0 ? w.accountNotional[a]! / equity : Infinity;
}
