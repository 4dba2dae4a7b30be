// Stage 8: the loss waterfall. A liquidation that leaves an account below zero is a shortfall
// (bad debt). It is paid by the insurance fund; beyond the fund, positions are auto-deleveraged
// against the most profitable, most leveraged opposite accounts at the bankruptcy price (BitMEX
// ranking); what nothing can absorb is socialized as a haircut on unrealized profits, marking the
// winning positions down (accounts without open positions never bear it, as on Hyperliquid). Each stage
// is recorded. An account that someone else's trade or an expiry leaves flat and under water (a book
// counterparty, an unwind, an option seller) goes down the same waterfall after the phase or round that
// closed it out (settleClosedOut).
import { AdlRanking, exchangeOf, Status, type World } from '../../model/world.ts';
import { applyFill, effectiveLeverage, FILL_ORDER, FILL_PRICE, FILL_QTY, hasNothingLeft, markPrice, positionPnl, refreshMarks } from '../accounts.ts';
import { latestTrade } from '../causes.ts';
import { TRANSFER_USD } from '../ledger.ts';
import { EVENT_AMOUNTS, EVENT_PRICE, EVENT_QUANTITY, EVENT_USD, EventKindCode } from '../record.ts';
import { heapify, popBest } from '../rankHeap.ts';
import { growRanks } from '../adlQueue.ts';
import { grown } from '../../model/typedArrays.ts';

/**
 * The insurance fund that backs account a: the own fund of its markets when every one of its position
 * slots is in a market with that same fund (dYdX v4 isolated markets), else its exchange's.
 */
export function fundOf(w: World, a: number): number {
  const first = w.posStart[a]!;
  const end = w.posStart[a + 1]!;
  const own = end > first ? w.marketFund[w.posMarket[first]!]! : -1;
  let isolated = own >= 0;
  for (let p = first + 1; isolated && p < end; p++) isolated = w.marketFund[w.posMarket[p]!] === own;
  return isolated ? own : w.exchangeFund[exchangeOf(w, a)]!;
}

/**
 * Notes that fund f's balance is asked to meet `demandUsd` (a shortfall to pay, perp or lending; a share
 * of lenders' loss on its deposits; or, to sell into the book rather than ADL, the shortfall predicted for
 * the sale): the fund would have met it, and every such demand so far, had it started with
 * (what it has drawn so far) + demand. The largest over the run is the summary's
 * insurance_fund_required_usd — with a fund at least that large the run takes the same course wherever
 * the fund's balance decides it (inflows capped by capUsd aside: a cap that binds makes the balance differ
 * by less than the starting balances do). size-fund takes it as a hint of a path's requirement.
 */
export function noteFundDemand(w: World, f: number, demandUsd: number): void {
  const need = w.fundInitialUsd[f]! - w.ledger.balance[w.fundHolderStart + f]! + demandUsd;
  if (need > w.fundRequiredUsd[f]!) w.fundRequiredUsd[f] = need;
}

/** Whether fund f's balance falls short of `demandUsd`, the demand noted (noteFundDemand). */
export function fundFallsShort(w: World, f: number, demandUsd: number): boolean {
  noteFundDemand(w, f, demandUsd);
  return w.ledger.balance[w.fundHolderStart + f]! < demandUsd;
}

/**
 * Pays `amountUsd` from account a into the insurance fund that backs it; what would take the fund
 * over its cap goes to the exchange's reserve instead.
 */
export function payIntoFund(w: World, a: number, amountUsd: number): void {
  const x = exchangeOf(w, a);
  const from = a;
  const f = fundOf(w, a);
  const holder = w.fundHolderStart + f;
  const room = Math.max(0, w.fundCapUsd[f]! - w.ledger.balance[holder]!);
  const toFund = Math.min(amountUsd, room);
  if (toFund > 0) {
    TRANSFER_USD[0] = toFund;
    w.ledger.transferAmount(from, holder);
  }
  if (amountUsd > toFund) {
    TRANSFER_USD[0] = amountUsd - toFund;
    w.ledger.transferAmount(from, w.reserveHolderStart + x);
  }
}

/**
 * The first time a loss of protocol p goes past its insurance — its fund (and fee pools) on an
 * exchange, its safety module on a lending market — to be socialized or left uncovered: a `default`
 * event (DESIGN.md's event kinds), caused by the bad debt, carrying the amount beyond the insurance.
 * Once per protocol per run; runs.arrow's insolvent_protocols counts them.
 */
export function noteDefault(w: World, p: number, account: number, beyondUsd: number, cause: number): void {
  if (w.protocolDefaulted[p] === 1) return;
  w.protocolDefaulted[p] = 1;
  w.events.push(w.step, w.round, EventKindCode.default, p, account, -1, 0, 0, beyondUsd, cause);
}

/**
 * Covers the negative cash of account a (which has no open positions): the insurance fund that backs
 * it pays first — within each market's claim room where the venue caps claims per market (Drift) —
 * then the fee pools of its markets (Drift), then the rest is socialized. Records bad_debt,
 * fund_payout, fee_pool_payout and socialized_loss events and marks the account bankrupt. Returns
 * the bad debt in USD.
 */
export function settleShortfall(w: World, a: number, cause: number): number {
  const x = exchangeOf(w, a);
  const shortfall = -w.ledger.balance[a]!;
  w.accountStatus[a] = Status.bankrupt;
  if (!(shortfall > 0)) return 0;
  const badDebt = w.events.push(w.step, w.round, EventKindCode.bad_debt, x, a, -1, 0, 0, shortfall, cause);
  w.acc.badDebtUsd[x] = w.acc.badDebtUsd[x]! + shortfall;
  const fund = fundOf(w, a);
  const holder = w.fundHolderStart + fund;
  const room = claimRoom(w, a, shortfall);
  noteFundDemand(w, fund, Math.min(shortfall, room));
  const payout = Math.min(shortfall, Math.max(0, w.ledger.balance[holder]!), room);
  if (payout > 0) {
    useClaimRoom(w, a, shortfall, payout);
    w.ledger.transfer(holder, a, payout);
    w.acc.fundPayoutUsd[x] = w.acc.fundPayoutUsd[x]! + payout;
    w.events.push(w.step, w.round, EventKindCode.fund_payout, x, a, -1, 0, 0, payout, badDebt);
    if (w.fundDepletionStep < 0 && w.ledger.balance[holder]! <= 1e-9 * w.ledger.scaleUsd) {
      w.fundDepletionStep = w.step;
    }
  }
  let rest = shortfall - payout;
  if (rest > 0) rest -= payFromFeePools(w, a, rest, badDebt);
  if (rest > 0) {
    noteDefault(w, x, a, rest, badDebt);
    if (w.socializeByFunding[x] === 1) socializeThroughFunding(w, a, rest, badDebt);
    else socializeLoss(w, a, rest, badDebt);
  }
  return shortfall;
}

/**
 * Sends down the loss waterfall (settleShortfall) every active account touched since the last mark that
 * trading has left with nothing — no open position, no collateral units — and cash below zero, in
 * account order. Such an account was closed out by a fill it could not afford, not by the liquidation
 * engine: a book counterparty (maker, liquidator, vault) whose position a liquidation or deleverage
 * filled down to zero at a price away from mark (its capacity to reduce is not bounded by its equity), a
 * trader whose deleverage or a liquidator whose unwind sold everything into a falling book; an option
 * seller whose last positions expired in the money. Nobody liquidates an account without positions, so
 * its negative cash would otherwise stay a shortfall that no stage of the waterfall books (session 27,
 * found by the check of design decision 51). Called after the margin-call phase's trades, after each
 * liquidation round and after option expiries (the phases that trade perps or options, or close them);
 * `touched` lists every account whose cash or positions changed since the last mark (ledger.touch),
 * which covers every fill.
 */
export function settleClosedOut(w: World): void {
  const touched = w.ledger.touchedList;
  const n = w.ledger.nTouched;
  let found: number[] | null = null;
  for (let i = 0; i < n; i++) {
    const a = touched[i]!;
    if (a >= w.nAccounts || w.accountStatus[a] !== Status.active || !(w.ledger.balance[a]! < 0)) continue;
    if (hasNothingLeft(w, a)) (found ??= []).push(a);
  }
  if (found === null) return;
  found.sort((x, y) => x - y);
  for (const a of found) {
    // The trade that closed it: the latest in the markets it has slots in.
    let cause = -1;
    for (let p = w.posStart[a]!; p < w.posStart[a + 1]!; p++) cause = Math.max(cause, latestTrade(w, w.marketAsset[w.posMarket[p]!]!));
    settleShortfall(w, a, cause);
  }
}

/**
 * Drift's socialization (DOMAIN.md, "Drift (protocol-v2)"): the shortfall is charged to every open
 * position in the markets the bankrupt account traded, pro rata to its size, as a shift of the
 * cumulative funding rate — here applied at once to each position's quote (bankruptcies are rare, so
 * an eager pass costs less than a second index on every mark). Split evenly over those markets that
 * still have open positions; the settlement pool pays the account, and the positions' value falls by
 * as much. Unlike the haircut, losers pay too, and the charge can push an account under water.
 */
export function socializeThroughFunding(w: World, a: number, amountUsd: number, cause: number): void {
  const x = exchangeOf(w, a);
  let markets = 0;
  for (let p = w.posStart[a]!; p < w.posStart[a + 1]!; p++) if (openQty(w, w.posMarket[p]!) > 0) markets++;
  if (markets === 0) {
    w.acc.uncoveredBadDebtUsd[x] = w.acc.uncoveredBadDebtUsd[x]! + amountUsd;
    return;
  }
  for (let p = w.posStart[a]!; p < w.posStart[a + 1]!; p++) {
    const m = w.posMarket[p]!;
    const gross = openQty(w, m);
    if (!(gross > 0)) continue;
    const perUnit = amountUsd / markets / gross;
    for (let i = w.marketPosStart[m]!; i < w.marketPosStart[m + 1]!; i++) {
      const q = w.posQty[w.marketPositions[i]!]!;
      if (q === 0) continue;
      const wp = w.marketPositions[i]!;
      w.posQuote[wp] = w.posQuote[wp]! - Math.abs(q) * perUnit;
      w.ledger.touch(w.posAccount[wp]!);
    }
  }
  w.ledger.transfer(w.poolHolderStart + x, a, amountUsd);
  w.acc.socializedLossUsd[x] = w.acc.socializedLossUsd[x]! + amountUsd;
  w.events.push(w.step, w.round, EventKindCode.socialized_loss, x, a, -1, 0, 0, amountUsd, cause);
  w.marksStale = true;
}

/**
 * How much of a shortfall the fund may pay for account a: everything, unless a market of the
 * account caps its claims (Drift). The shortfall is shared evenly by the account's markets, and each
 * share is paid up to its market's remaining room.
 */
function claimRoom(w: World, a: number, shortfall: number): number {
  const start = w.posStart[a]!;
  const k = w.posStart[a + 1]! - start;
  if (k === 0) return shortfall;
  let room = 0;
  for (let p = start; p < start + k; p++) room += Math.min(shortfall / k, w.marketClaimRoomUsd[w.posMarket[p]!]!);
  return room;
}

/** Takes a payout of `paid` (≤ claimRoom) out of the rooms of account a's markets, in proportion to what each allowed. */
function useClaimRoom(w: World, a: number, shortfall: number, paid: number): void {
  const start = w.posStart[a]!;
  const k = w.posStart[a + 1]! - start;
  const room = claimRoom(w, a, shortfall);
  if (k === 0 || room === Infinity || !(room > 0)) return;
  for (let p = start; p < start + k; p++) {
    const m = w.posMarket[p]!;
    const r = w.marketClaimRoomUsd[m]!;
    if (r === Infinity) continue;
    w.marketClaimRoomUsd[m] = Math.max(0, r - (paid * Math.min(shortfall / k, r)) / room);
  }
}

/**
 * Drift's second line: the fee pools of account a's markets pay what the fund did not, in the order
 * of the account's position slots. Counted with fund payouts (fund_payout_usd); the event kind
 * fee_pool_payout tells them apart. Returns what they paid.
 */
function payFromFeePools(w: World, a: number, amountUsd: number, cause: number): number {
  let paid = 0;
  for (let p = w.posStart[a]!; p < w.posStart[a + 1]! && paid < amountUsd; p++) {
    const m = w.posMarket[p]!;
    if (w.marketHasFeePool[m] !== 1) continue;
    const pool = w.feePoolHolderStart + m;
    const take = Math.min(amountUsd - paid, Math.max(0, w.ledger.balance[pool]!));
    if (!(take > 0)) continue;
    w.ledger.transfer(pool, a, take);
    paid += take;
    const x = exchangeOf(w, a);
    w.acc.fundPayoutUsd[x] = w.acc.fundPayoutUsd[x]! + take;
    w.events.push(w.step, w.round, EventKindCode.fee_pool_payout, x, a, w.marketAsset[m]!, 0, 0, take, cause);
  }
  return paid;
}

/** Σ |qty| of market m's open positions. */
function openQty(w: World, m: number): number {
  let gross = 0;
  for (let i = w.marketPosStart[m]!; i < w.marketPosStart[m + 1]!; i++) gross += Math.abs(w.posQty[w.marketPositions[i]!]!);
  return gross;
}

/**
 * Spreads `amountUsd` of account a's shortfall over the other accounts of its exchange that hold
 * open positions with unrealized profit, in proportion to that profit and never more than it.
 * What exceeds all unrealized profit stays as uncovered bad debt (negative cash of a).
 *
 * The haircut is on the profit itself: each winner's winning positions are marked down (their quotes,
 * the entry side of their value, fall by its share), and the settlement pool, whose liability to them
 * falls by as much, pays account a. So the profit the next failure's haircut sees is what this one left,
 * and over a cascade no account gives up more than it has won. (Until session 26 the haircut was taken
 * from the winners' cash, which left their unrealized profit whole: every later failure could take it
 * again; and profit was equity − cash, which counts the value of non-cash collateral.) Profit is the
 * positions' own: perps at the price the marks use net of unsettled funding, options at the model
 * price; cash and collateral are not profit.
 */
export function socializeLoss(w: World, a: number, amountUsd: number, cause: number): void {
  const x = exchangeOf(w, a);
  // Each account's profit is measured once, then every haircut uses the same snapshot (the profitable
  // accounts in account order).
  const active = Status.active;
  let totalProfit = 0;
  let n = 0;
  for (let b = 0; b < w.nAccounts; b++) {
    if (b === a || exchangeOf(w, b) !== x || w.accountStatus[b] !== active) continue;
    const p = unrealizedPnl(w, b);
    if (p > 0) {
      if (n === w.scratch.profitAccount.length) growProfitList(w);
      w.scratch.profitAccount[n] = b;
      w.scratch.profitUsd[n++] = p;
      totalProfit += p;
    }
  }
  const taken = Math.min(amountUsd, totalProfit);
  if (taken > 0) {
    const who = w.scratch.profitAccount;
    const profit = w.scratch.profitUsd;
    let paid = 0;
    for (let i = 0; i < n; i++) paid += haircut(w, who[i]!, (taken * profit[i]!) / totalProfit);
    w.ledger.transfer(w.poolHolderStart + x, a, paid);
    w.marksStale = true;
    w.acc.socializedLossUsd[x] = w.acc.socializedLossUsd[x]! + taken;
    w.events.push(w.step, w.round, EventKindCode.socialized_loss, x, a, -1, 0, 0, taken, cause);
  }
  const uncovered = amountUsd - taken;
  if (uncovered > 0) w.acc.uncoveredBadDebtUsd[x] = w.acc.uncoveredBadDebtUsd[x]! + uncovered;
}

/** What option slot k has won or lost, USD: qty × the series' model price + quote. */
function optionPnl(w: World, k: number): number {
  const q = w.options.optQty[k]!;
  return q === 0 ? 0 : q * w.options.seriesPrice[w.options.optSeries[k]!]! + w.options.optQuote[k]!;
}

/** Account b's unrealized profit (or loss) on its open perp and option positions, USD. */
export function unrealizedPnl(w: World, b: number): number {
  let u = 0;
  for (let p = w.posStart[b]!; p < w.posStart[b + 1]!; p++) u += positionPnl(w, p);
  if (w.optionsListed) for (let k = w.options.optStart[b]!; k < w.options.optStart[b + 1]!; k++) u += optionPnl(w, k);
  return u;
}

/**
 * Takes `amountUsd` (at most account b's unrealized profit) out of b's winning positions, pro rata to
 * what each has won: their quotes fall by their shares. Returns the USD taken (the quotes' fall).
 */
function haircut(w: World, b: number, amountUsd: number): number {
  const o = w.options;
  const optionSlots = w.optionsListed;
  let won = 0;
  for (let p = w.posStart[b]!; p < w.posStart[b + 1]!; p++) won += Math.max(0, positionPnl(w, p));
  if (optionSlots) for (let k = o.optStart[b]!; k < o.optStart[b + 1]!; k++) won += Math.max(0, optionPnl(w, k));
  let taken = 0;
  for (let p = w.posStart[b]!; p < w.posStart[b + 1]!; p++) {
    const u = positionPnl(w, p);
    if (!(u > 0)) continue;
    const d = (amountUsd * u) / won;
    w.posQuote[p] = w.posQuote[p]! - d;
    taken += d;
  }
  if (optionSlots) {
    for (let k = o.optStart[b]!; k < o.optStart[b + 1]!; k++) {
      const u = optionPnl(w, k);
      if (!(u > 0)) continue;
      const d = (amountUsd * u) / won;
      o.optQuote[k] = o.optQuote[k]! - d;
      taken += d;
    }
  }
  w.ledger.touch(b);
  return taken;
}

/** Doubles the socialization scratch lists, keeping their contents (only in a cascade). */
function growProfitList(w: World): void {
  const n = w.scratch.profitAccount.length + 1;
  w.scratch.profitAccount = grown(w.scratch.profitAccount, n);
  w.scratch.profitUsd = grown(w.scratch.profitUsd, n);
}

/**
 * Auto-deleverages: closes `dq` units (signed change of failed position p) at the bankruptcy price
 * `priceUsd` against opposite positions in the same market, chosen by the exchange's policy:
 * - pnl-leverage (BitMEX): positions with unrealized profit, by PnL% × effective leverage
 *   (PnL% = uPnL / entry value, effective leverage = notional / equity), highest first;
 * - random-start (dYdX v4): every opposite position of a solvent account, in position order from a
 *   random start (one draw from the behaviour stream), wrapping around;
 * - pro-rata: every opposite position with unrealized profit takes a share in proportion to its size;
 * - risk-pro-rata: the same, in proportion to size × its account's effective leverage (the winners
 *   whose failure would hurt most give up most).
 * Ties by position index. A counterparty is never closed at a price worse for it than its entry (a
 * winner gives up at most its profit) or than mark (a loser loses no more than at mark), nor gives up
 * more than its account's equity at mark, so ADL cannot bankrupt it (until session 28 a winner whose
 * negative cash its profit carried could be left under water); whatever that leaves unpaid stays as
 * the failed account's shortfall. Returns
 * the quantity placed (signed like dq) and adds what counterparties gave up against mark to the
 * step's ADL-absorbed bad debt.
 */
export function autoDeleverage(w: World, p: number, dq: number, priceUsd: number, cause: number): number {
  const m = w.posMarket[p]!;
  const x = w.marketExchange[m]!;
  const sign = Math.sign(dq);
  const policy = w.adlRanking[x]!;
  // Ranked: the market side's queue, kept through the round, instead of a scan (engine/adlQueue.ts);
  // the reference engine (every-step margin checks) scans.
  if (policy === AdlRanking['pnl-leverage'] && w.marginIndex.enabled && w.adlQueues.ready(w, m, sign)) {
    return deleverageFromQueue(w, p, dq, priceUsd, cause);
  }
  const failed = w.posAccount[p]!;
  let ranked = w.scratch.ranked;
  let score = w.scratch.rankScore;
  const mark = markPrice(w, m);
  const active = Status.active;
  const ranking = policy === AdlRanking['pnl-leverage'];
  const randomStart = policy === AdlRanking['random-start'];
  const riskProRata = policy === AdlRanking['risk-pro-rata'];
  let n = 0;
  let grossQty = 0;
  let weightSum = 0;
  for (let i = w.marketPosStart[m]!; i < w.marketPosStart[m + 1]!; i++) {
    const wp = w.marketPositions[i]!;
    const q = w.posQty[wp]!;
    // The failed position's counterparty buys back when it sells: opposite positions have the
    // sign of dq.
    if (q * sign <= 0) continue;
    const b = w.posAccount[wp]!;
    if (b === failed || w.accountStatus[b] !== active) continue;
    // markAccount's own shortcut, inline: most counterparties' marks are current.
    if (w.ledger.markStamp[b] !== w.markStampNow) refreshMarks(w, b);
    const equity = w.accountEquity[b]!;
    if (!(equity > 0)) continue;
    const pnl = positionPnl(w, wp);
    if (!randomStart && !(pnl > 0)) continue;
    if (n === ranked.length) {
      growRanks(w, n + 1);
      ranked = w.scratch.ranked;
      score = w.scratch.rankScore;
    }
    if (ranking) {
      score[n] = (pnl / Math.abs(w.posQuote[wp]!)) * (w.accountNotional[b]! / equity);
    } else if (riskProRata) {
      score[n] = Math.abs(q) * (w.accountNotional[b]! / equity);
      weightSum += score[n]!;
    }
    grossQty += Math.abs(q);
    ranked[n++] = wp;
  }
  // Ranked (BitMEX): highest score first, ties by position index. Usually the first few winners fill
  // the order, so the ranking is a heap popped as far as needed rather than a sort of every winner
  // (the same order: the comparison is a total order). Otherwise positions are in index order, and
  // random-start rotates the list to a random first one.
  if (ranking) heapify(ranked, score, n);
  const start = randomStart && n > 0 ? Math.floor(w.behaviour.uniform() * n) : 0;
  const want = Math.abs(dq);
  let remaining = want;
  for (let k = 0; k < n && remaining > 0; k++) {
    const slot = (start + k) % n;
    const wp = ranking ? popBest(ranked, score, n - k) : ranked[slot]!;
    const q = w.posQty[wp]!;
    // Pro rata: each takes its share of the order (all of itself if the order exceeds the side);
    // the last takes what is left, so the shares add up to the order exactly.
    const risk = riskProRata;
    const proRata = (policy === AdlRanking['pro-rata'] || risk) && grossQty > want;
    const weight = risk ? score[slot]! / weightSum : Math.abs(q) / grossQty;
    const share = proRata ? (k === n - 1 ? remaining : want * weight) : Math.abs(q);
    TAKE[TAKE_PRICE] = priceUsd;
    TAKE[TAKE_MARK] = mark;
    TAKE[TAKE_REMAINING] = remaining;
    TAKE[TAKE_SHARE] = share;
    takeFromCounterparty(w, p, wp, sign, cause);
    remaining = TAKE[TAKE_REMAINING]!;
  }
  return sign * (want - Math.max(remaining, 0));
}

/**
 * takeFromCounterparty's doubles, set by the caller just before the call: the price autoDeleverage
 * closes at, the mark, what remains to place (left updated) and the counterparty's share. Slots
 * rather than arguments and a return value: the call is not inlined into the ADL loops, and a double
 * passed to or returned by a call V8 does not inline is a fresh heap number, five per counterparty.
 */
const TAKE = new Float64Array(4);
const TAKE_PRICE = 0;
const TAKE_MARK = 1;
const TAKE_REMAINING = 2;
const TAKE_SHARE = 3;

/**
 * Closes up to min(remaining, share) of counterparty position wp against failed position p (sign:
 * the sign of p's change), at the price autoDeleverage describes, and leaves what remains to place
 * in TAKE[TAKE_REMAINING].
 */
function takeFromCounterparty(w: World, p: number, wp: number, sign: number, cause: number): void {
  const priceUsd = TAKE[TAKE_PRICE]!;
  const mark = TAKE[TAKE_MARK]!;
  const remaining = TAKE[TAKE_REMAINING]!;
  const share = TAKE[TAKE_SHARE]!;
  const q = w.posQty[wp]!;
  const b = w.posAccount[wp]!;
  refreshMarks(w, b);
  const take = Math.min(remaining, share, Math.abs(q));
  if (!(take > 0)) return;
  const m = w.posMarket[wp]!;
  const x = w.marketExchange[m]!;
  // The counterparty closes `take` (its change has the opposite sign of its position, i.e. −sign).
  const change = take >= Math.abs(q) ? -q : -sign * take;
  // The worst price for the counterparty: its entry when winning, mark when losing.
  const entry = -w.posQuote[wp]! / q;
  let price = q < 0 ? Math.min(priceUsd, Math.max(entry, mark)) : Math.max(priceUsd, Math.min(entry, mark));
  // And no more given up than the account's equity at mark (less a part in 1e9, so that rounding leaves
  // it at or above zero): a winner whose cash is below zero, a loss realized earlier and carried by this
  // position's profit, would otherwise be left under water by giving up the profit that backs its debt.
  // dYdX v4 refuses such a deleveraging: ProcessDeleveraging's update fails when the offsetting
  // subaccount's bankruptcy price does not overlap the liquidated one's (dydxprotocol/v4-chain,
  // protocol/x/clob/keeper/deleveraging.go, OffsetSubaccountPerpetualPosition). Design decision 54.
  const room = Math.max(0, w.accountEquity[b]!) * (1 - 1e-9);
  if (change * (price - mark) > room) price = mark + room / change;
  w.fairness.adlLeverage.push(effectiveLeverage(w, b));
  FILL_ORDER[FILL_QTY] = change;
  FILL_ORDER[FILL_PRICE] = price;
  applyFill(w, wp);
  FILL_ORDER[FILL_QTY] = -change;
  applyFill(w, p);
  // What the counterparty gave up against closing at mark: the bad debt ADL absorbed (if any).
  const givenUp = change * (price - mark);
  if (givenUp > 0) w.acc.adlAbsorbedUsd[x] = w.acc.adlAbsorbedUsd[x]! + givenUp;
  EVENT_AMOUNTS[EVENT_QUANTITY] = change;
  EVENT_AMOUNTS[EVENT_PRICE] = price;
  EVENT_AMOUNTS[EVENT_USD] = Math.abs(change) * price;
  w.events.pushAmounts(w.step, w.round, EventKindCode.adl, x, b, w.marketAsset[m]!, cause);
  w.acc.adlVolumeUsd[x] = w.acc.adlVolumeUsd[x]! + Math.abs(change) * price;
  w.acc.adlCount[x]!++;
  TAKE[TAKE_REMAINING] = remaining - Math.abs(change);
}

/** autoDeleverage's ranked policy, popping the market side's queue (the same positions, in the same order). */
function deleverageFromQueue(w: World, p: number, dq: number, priceUsd: number, cause: number): number {
  const m = w.posMarket[p]!;
  const failed = w.posAccount[p]!;
  const sign = Math.sign(dq);
  const mark = markPrice(w, m);
  const queues = w.adlQueues;
  const want = Math.abs(dq);
  let remaining = want;
  // --check: every pop is compared with ranking the candidates afresh, as the scan path does.
  const nCheck = w.marginIndex.verify ? queues.startCheck(w, m, sign, failed) : -1;
  for (let k = 0; remaining > 0; k++) {
    const wp = queues.pop(w, m, sign, failed);
    if (nCheck >= 0) queues.checkNext(w, wp, k, nCheck);
    if (wp < 0) break;
    TAKE[TAKE_PRICE] = priceUsd;
    TAKE[TAKE_MARK] = mark;
    TAKE[TAKE_REMAINING] = remaining;
    TAKE[TAKE_SHARE] = Math.abs(w.posQty[wp]!);
    takeFromCounterparty(w, p, wp, sign, cause);
    remaining = TAKE[TAKE_REMAINING]!;
  }
  queues.release(m, sign);
  return sign * (want - Math.max(remaining, 0));
}
