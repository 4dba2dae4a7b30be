// Stage 8: the loss waterfall. A liquidation that leaves an account below zero is a shortfall
// (bad debt). It is paid by the insurance fund; beyond the fund, positions are auto-deleveraged
// against the most profitable, most leveraged opposite accounts at the bankruptcy price (BitMEX
// ranking); what nothing can absorb is socialized as a haircut on unrealized profits (accounts
// without open positions never bear it, as on Hyperliquid). Each stage is recorded.
import { Status, type World } from '../../model/world.ts';
import { applyFill, markAccount, markPrice } from '../accounts.ts';
import { EventKindCode } from '../record.ts';

/** Balance of exchange x's insurance fund, USD. */
export function fundBalance(w: World, x: number): number {
  return w.ledger.balance[w.fundHolderStart + w.exchangeFund[x]!]!;
}

/**
 * Pays `amountUsd` from holder `from` into exchange x's insurance fund; what would take the fund
 * over its cap goes to the exchange's reserve instead.
 */
export function payIntoFund(w: World, x: number, from: number, amountUsd: number): void {
  const f = w.exchangeFund[x]!;
  const holder = w.fundHolderStart + f;
  const room = Math.max(0, w.fundCapUsd[f]! - w.ledger.balance[holder]!);
  const toFund = Math.min(amountUsd, room);
  if (toFund > 0) w.ledger.transfer(from, holder, toFund);
  if (amountUsd > toFund) w.ledger.transfer(from, w.reserveHolderStart + x, amountUsd - toFund);
}

/**
 * Covers the negative cash of account a (which has no open positions): the insurance fund pays
 * first, then the rest is socialized. Records bad_debt, fund_payout and socialized_loss events and
 * marks the account bankrupt. Returns the bad debt in USD.
 */
export function settleShortfall(w: World, a: number, cause: number): number {
  const x = w.accountExchange[a]!;
  const shortfall = -w.ledger.balance[a]!;
  w.accountStatus[a] = Status.bankrupt;
  if (!(shortfall > 0)) return 0;
  const badDebt = w.events.push(w.step, w.round, EventKindCode.bad_debt, x, a, -1, 0, 0, shortfall, cause);
  w.acc.badDebtUsd[x] = w.acc.badDebtUsd[x]! + shortfall;
  const holder = w.fundHolderStart + w.exchangeFund[x]!;
  const payout = Math.min(shortfall, Math.max(0, w.ledger.balance[holder]!));
  if (payout > 0) {
    w.ledger.transfer(holder, a, payout);
    w.acc.fundPayoutUsd[x] = w.acc.fundPayoutUsd[x]! + payout;
    w.events.push(w.step, w.round, EventKindCode.fund_payout, x, a, -1, 0, 0, payout, badDebt);
    if (w.fundDepletionStep < 0 && w.ledger.balance[holder]! <= 1e-9 * w.ledger.scaleUsd) {
      w.fundDepletionStep = w.step;
    }
  }
  const rest = shortfall - payout;
  if (rest > 0) socializeLoss(w, a, rest, badDebt);
  return shortfall;
}

/**
 * Spreads `amountUsd` of account a's shortfall over the other accounts of its exchange that hold
 * open positions with unrealized profit, in proportion to that profit and never more than it.
 * What exceeds all unrealized profit stays as uncovered bad debt (negative cash of a).
 */
export function socializeLoss(w: World, a: number, amountUsd: number, cause: number): void {
  const x = w.accountExchange[a]!;
  let totalProfit = 0;
  for (let b = 0; b < w.nAccounts; b++) {
    if (b === a || w.accountExchange[b] !== x || w.accountStatus[b] !== Status.active) continue;
    const profit = unrealizedPnl(w, b);
    if (profit > 0) totalProfit += profit;
  }
  const taken = Math.min(amountUsd, totalProfit);
  if (taken > 0) {
    for (let b = 0; b < w.nAccounts; b++) {
      if (b === a || w.accountExchange[b] !== x || w.accountStatus[b] !== Status.active) continue;
      const profit = unrealizedPnl(w, b);
      if (profit > 0) w.ledger.transfer(b, a, (taken * profit) / totalProfit);
    }
    w.acc.socializedLossUsd[x] = w.acc.socializedLossUsd[x]! + taken;
    w.events.push(w.step, w.round, EventKindCode.socialized_loss, x, a, -1, 0, 0, taken, cause);
  }
  const uncovered = amountUsd - taken;
  if (uncovered > 0) w.acc.uncoveredBadDebtUsd[x] = w.acc.uncoveredBadDebtUsd[x]! + uncovered;
}

/** Unrealized PnL of account b at mark (equity − collateral), USD. */
function unrealizedPnl(w: World, b: number): number {
  return markAccount(w, b) - w.ledger.balance[b]!;
}

/**
 * Auto-deleverages: closes `dq` units (signed change of failed position p) at the bankruptcy
 * price `priceUsd` against opposite positions in the same market with unrealized profit, ranked
 * by BitMEX's score PnL% × effective leverage (PnL% = uPnL / entry value, effective leverage =
 * notional / equity), highest first, ties by position index. A winner is never closed beyond its
 * own entry price: ADL takes at most its profit, so it cannot bankrupt the winner (an account far
 * under water can have a bankruptcy price beyond any winner's entry, or even below zero). Whatever
 * that leaves unpaid stays as the failed account's shortfall for the rest of the waterfall.
 * Returns the quantity placed (signed like dq) and adds the loss winners bore against the mark to
 * the step's ADL-absorbed bad debt.
 */
export function autoDeleverage(w: World, p: number, dq: number, priceUsd: number, cause: number): number {
  const m = w.posMarket[p]!;
  const x = w.marketExchange[m]!;
  const failed = w.posAccount[p]!;
  const sign = Math.sign(dq);
  const ranked = w.scratch.ranked;
  const score = w.scratch.rankScore;
  const mark = markPrice(w, m);
  let n = 0;
  for (let i = w.marketPosStart[m]!; i < w.marketPosStart[m + 1]!; i++) {
    const wp = w.marketPositions[i]!;
    const q = w.posQty[wp]!;
    // The failed position's counterparty buys back when it sells: opposite positions have the
    // sign of dq.
    if (q * sign <= 0) continue;
    const b = w.posAccount[wp]!;
    if (b === failed || w.accountStatus[b] !== Status.active) continue;
    const pnl = q * mark + w.posQuote[wp]! - q * (w.fundingIndex[m]! - w.posFundingIndex[wp]!);
    if (!(pnl > 0)) continue;
    const equity = markAccount(w, b);
    if (!(equity > 0)) continue;
    const entryValue = Math.abs(w.posQuote[wp]!);
    score[wp] = (pnl / entryValue) * (w.accountNotional[b]! / equity);
    ranked[n++] = wp;
  }
  const order = ranked.subarray(0, n);
  order.sort((i, j) => score[j]! - score[i]! || i - j);
  let remaining = Math.abs(dq);
  for (let k = 0; k < n && remaining > 0; k++) {
    const wp = order[k]!;
    const q = w.posQty[wp]!;
    const take = Math.min(remaining, Math.abs(q));
    // The winner closes `take` (its change has the opposite sign of its position, i.e. −sign).
    const winnerChange = take === Math.abs(q) ? -q : -sign * take;
    // Winner's entry (break-even) price: a short buys back no higher, a long sells no lower.
    const entry = -w.posQuote[wp]! / q;
    const price = q < 0 ? Math.min(priceUsd, entry) : Math.max(priceUsd, entry);
    applyFill(w, wp, winnerChange, price);
    applyFill(w, p, -winnerChange, price);
    remaining -= take;
    // What the winner gave up against closing at mark: the bad debt ADL absorbed (if any).
    const givenUp = winnerChange * (price - mark);
    if (givenUp > 0) w.acc.adlAbsorbedUsd[x] = w.acc.adlAbsorbedUsd[x]! + givenUp;
    const b = w.posAccount[wp]!;
    w.events.push(w.step, w.round, EventKindCode.adl, x, b, w.marketAsset[m]!, winnerChange, price, take * price, cause);
    w.acc.adlVolumeUsd[x] = w.acc.adlVolumeUsd[x]! + take * price;
    w.acc.adlCount[x]!++;
  }
  return sign * (Math.abs(dq) - remaining);
}
