// Stage 6: trader behaviour. A directional account whose equity falls under its cohort's call
// level (a multiple of maintenance) gets a margin call and responds: top up from its wallet (with
// limited cash) with probability p, else deleverage back to initial margin with probability q,
// else nothing. Accounts of cohorts that take margin out (`withdrawal`) do so when their equity is
// well above the initial requirement. Liquidators then sell a share of the inventory they took on to
// the market makers.
// Nothing of this happens on an exchange that is down (scenario.exchanges[].outages).
// Two uniforms are drawn per call whatever the response, so responses do not shift later draws.
import { exchangeOf, Role, roleOf, Status, walletOf, type World } from '../../model/world.ts';
import { EVENT_AMOUNTS, EVENT_PRICE, EVENT_QUANTITY, EVENT_USD, EventKindCode } from '../record.ts';
import { INITIAL_MARGIN, initialMargin, refreshMarks } from '../accounts.ts';
import { TRANSFER_USD } from '../ledger.ts';
import { BookSide, ORDER, ORDER_BAND, ORDER_WANT, tradeIntoBook } from '../book.ts';
import { causeFor, latestTrade } from '../causes.ts';
import { settleClosedOut } from './settleLosses.ts';

export function respondToMarginCalls(w: World): void {
  answerMarginCalls(w);
  if (w.withdrawal.any) withdrawMargin(w);
  unwindLiquidatorInventory(w);
  // An account these trades closed out under water (a deleverage or an unwind into a falling book, or
  // a maker on the other side) goes down the loss waterfall.
  settleClosedOut(w);
}

/**
 * The margin calls of the accounts the last mark looked at. A function of its own, with nothing after
 * its loop: the first step's marks list every account, V8 compiles the loop on the stack (OSR) before
 * the code after it has ever run, and that compiled loop, reused at later long lists, gave up on the
 * call after it each time ("insufficient type feedback").
 */
function answerMarginCalls(w: World): void {
  // Only the accounts the last mark looked at can be under their call level (markToMarket).
  const cand = w.candidates;
  for (let i = 0; i < w.nCandidates; i++) {
    const a = cand[i]!;
    if (w.accountStatus[a] !== Status.active || roleOf(w, a) !== Role.directional) continue;
    if (w.accountNotional[a] === 0) continue;
    const equity = w.accountEquity[a]!;
    const c = w.accountCohort[a]!;
    if (!(equity < w.cohortCallMultiple[c]! * w.accountMaintenance[a]!)) continue;
    const x = exchangeOf(w, a);
    // A venue that is down sends no calls, and its traders cannot reach it.
    if (w.exchangeDown[x] === 1) continue;
    w.acc.marginCalls[x]!++;
    const cause = causeFor(w, a);
    EVENT_AMOUNTS[EVENT_QUANTITY] = 0;
    EVENT_AMOUNTS[EVENT_PRICE] = 0;
    // The call's shortfall, and what topUp and deleverage restore (they read INITIAL_MARGIN[0]).
    initialMargin(w, a);
    EVENT_AMOUNTS[EVENT_USD] = INITIAL_MARGIN[0]! - equity;
    const call = w.events.pushAmounts(w.step, 0, EventKindCode.margin_call, x, a, -1, cause);
    const u1 = w.behaviour.uniform();
    const u2 = w.behaviour.uniform();
    if (u1 < w.cohortTopUpProbability[c]!) topUp(w, a, call);
    else if (u2 < w.cohortDeleverageProbability[c]!) deleverage(w, a, call);
  }
}

/**
 * Margin withdrawal (design decision 58): at the steps its cohort looks (step % everySteps = 0), an
 * active directional account whose equity at mark is above `above` × its initial margin requirement
 * withdraws, with the cohort's probability (one uniform per account over the line), its equity less
 * `downTo` × that requirement, to its trader's wallet. What a venue lets an account take out is what
 * leaves it at its initial requirement, unrealized profit included: dYdX v4 checks a withdrawal like
 * any subaccount update, and one that leaves net collateral (open positions at the oracle included)
 * under the initial margin requirement is valid only if it leaves the subaccount no riskier, which
 * taking collateral out never does (dydxprotocol/v4-chain, protocol/x/subaccounts/keeper/
 * subaccount.go, internalCanUpdateSubaccounts and IsValidStateTransitionForUndercollateralizedSubaccount).
 * So the account's cash may go below zero, backed by its open profit. A venue that is down takes no
 * withdrawal (dYdX also blocks withdrawals for a while after an outage or a negative-equity account;
 * not modelled). What was withdrawn is taken out of what the account put in (cohorts.arrow). The scan
 * is over every account on the steps some cohort looks, and only then: opt-in, and O(accounts) on those steps.
 */
function withdrawMargin(w: World): void {
  const t = w.withdrawal;
  // Most steps no cohort looks (an hourly rule looks one minute-step in 60): no scan of the accounts then.
  let looks = false;
  for (let c = 0; c < t.every.length && !looks; c++) looks = t.every[c]! > 0 && w.step % t.every[c]! === 0;
  if (!looks) return;
  for (let a = 0; a < w.nAccounts; a++) {
    const c = w.accountCohort[a]!;
    const every = t.every[c]!;
    if (every === 0 || w.step % every !== 0) continue;
    if (w.accountStatus[a] !== Status.active || roleOf(w, a) !== Role.directional) continue;
    const x = exchangeOf(w, a);
    if (w.exchangeDown[x] === 1) continue;
    const wallet = walletOf(w, a);
    if (wallet < 0) continue;
    refreshMarks(w, a);
    if (w.accountNotional[a] === 0) continue;
    initialMargin(w, a);
    const keep = t.downTo[c]! * INITIAL_MARGIN[0]!;
    const equity = w.accountEquity[a]!;
    if (!(equity > t.above[c]! * INITIAL_MARGIN[0]!)) continue;
    if (!(w.behaviour.uniform() < t.probability[c]!)) continue;
    const amount = equity - keep;
    if (!(amount > 0)) continue;
    TRANSFER_USD[0] = amount;
    w.ledger.transferAmount(a, wallet);
    w.accountContributedUsd[a] = w.accountContributedUsd[a]! - amount;
    EVENT_AMOUNTS[EVENT_QUANTITY] = 0;
    EVENT_AMOUNTS[EVENT_PRICE] = 0;
    EVENT_AMOUNTS[EVENT_USD] = amount;
    w.events.pushAmounts(w.step, 0, EventKindCode.withdrawal, x, a, -1, -1);
    refreshMarks(w, a);
    // Unlike a top-up, a withdrawal brings an account nearer its line, and may leave it at it (a hedged
    // portfolio whose requirement is about zero withdraws about all of its equity): the liquidation
    // rounds must mark again, which lists it (it is touched), rather than reuse the margin-call mark's
    // list, which may not hold it. Found by the margin index's property test.
    w.marksStale = true;
  }
}

/**
 * Moves wallet cash into the account, up to what restores initial margin (INITIAL_MARGIN[0], set for
 * account a by the caller).
 */
function topUp(w: World, a: number, cause: number): void {
  const wallet = walletOf(w, a);
  if (wallet < 0) return;
  const amount = Math.min(INITIAL_MARGIN[0]! - w.accountEquity[a]!, w.ledger.balance[wallet]!);
  if (!(amount > 0)) return;
  TRANSFER_USD[0] = amount;
  w.ledger.transferAmount(wallet, a);
  w.accountContributedUsd[a] = w.accountContributedUsd[a]! + amount;
  EVENT_AMOUNTS[EVENT_QUANTITY] = 0;
  EVENT_AMOUNTS[EVENT_PRICE] = 0;
  EVENT_AMOUNTS[EVENT_USD] = amount;
  w.events.pushAmounts(w.step, 0, EventKindCode.top_up, exchangeOf(w, a), a, -1, cause);
  refreshMarks(w, a);
}

/**
 * Sells the share f of every position that brings equity back to the initial requirement at
 * mark, f = (IM − E) / IM (requirements are at most proportional to notional, so this suffices
 * before slippage), to the market makers within their capacity. IM is INITIAL_MARGIN[0], set for
 * account a by the caller.
 *
 * An account already at or under zero equity at mark does not deleverage: selling everything would
 * leave it flat with negative cash that no stage of the loss waterfall ever sees (it has no position
 * left to liquidate). Its positions are the liquidation engine's, later in the step, whose close books
 * the shortfall as bad debt. Until session 20 such accounts closed out and kept the negative cash
 * (design decision 40).
 */
function deleverage(w: World, a: number, cause: number): void {
  const initial = INITIAL_MARGIN[0]!;
  const equity = w.accountEquity[a]!;
  if (!(equity > 0)) return;
  const f = Math.min(1, (initial - equity) / initial);
  if (!(f > 0)) return;
  const end = w.posStart[a + 1]!;
  for (let p = w.posStart[a]!; p < end; p++) {
    const q = w.posQty[p]!;
    if (q === 0) continue;
    ORDER[ORDER_WANT] = f === 1 ? -q : -f * q;
    ORDER[ORDER_BAND] = -1;
    tradeIntoBook(w, p, BookSide.makers, EventKindCode.deleverage, cause);
  }
  refreshMarks(w, a);
}

function unwindLiquidatorInventory(w: World): void {
  for (let x = 0; x < w.nExchanges; x++) {
    if (w.exchangeDown[x] === 1) continue;
    for (let i = w.liquidatorStart[x]!; i < w.liquidatorStart[x + 1]!; i++) {
      const a = w.liquidatorAccounts[i]!;
      if (w.accountStatus[a] !== Status.active) continue;
      const share = w.cohortUnwindShare[w.accountCohort[a]!]!;
      if (share === 0) continue;
      const end = w.posStart[a + 1]!;
      for (let p = w.posStart[a]!; p < end; p++) {
        const q = w.posQty[p]!;
        if (q === 0) continue;
        const cause = latestTrade(w, w.marketAsset[w.posMarket[p]!]!);
        ORDER[ORDER_WANT] = share === 1 ? -q : -share * q;
        ORDER[ORDER_BAND] = -1;
        tradeIntoBook(w, p, BookSide.makers, EventKindCode.unwind, cause);
      }
    }
  }
}
