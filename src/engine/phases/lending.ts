// The lending markets' share of stages 6 and 7 (Aave v3 rules, src/lending/aave.ts): borrowers whose
// health factor falls under their call level repay from the wallet or sell collateral; borrowers
// under HF 1 are liquidated, weakest first, by cash-limited liquidators who repay debt, seize the
// collateral with the bonus (the treasury skims its fee) and sell it straight into the asset's shared
// market — the fire sale that reaches every venue marking that asset. A borrower left with no
// collateral has its debt written off as the reserve deficit; the safety module covers what it can.
// Prices are the reserves' oracles (what the protocol believes); trades fill at market.
import { Status, type World } from '../../model/world.ts';
import { sortByKey } from '../sortPrefix.ts';
import { refreshOracles } from './updateOracles.ts';
import { collateralHolder, type LendingState } from '../../model/lending.ts';
import { EventKindCode } from '../record.ts';
import { healthFactor, quoteLiquidation } from '../../lending/aave.ts';
import { mintAndSellToCover, type MintAndSellResult } from '../../model/derived.ts';
import { tradeIntoMarket } from '../market.ts';
import { noteTrade, quoteWhereOraclePrices, sellUnits, tradePrice, tradeWhereOraclePrices } from '../spot.ts';
import { noteMarketTrade, priceCause, priceCauseAgainst } from '../causes.ts';
import { chainCongested, chainHasRoom, useChain } from '../chains.ts';
import { noteDefault, noteFundDemand } from './settleLosses.ts';

/** Units below this share of a position are dust: the position counts as empty. */
const DUST = 1e-12;

/** Oracle price of reserve r, USD. */
function reservePrice(w: World, r: number): number {
  return w.oraclePrice[w.lending.reserveOracle[r]!]!;
}

function collateralQty(L: LendingState, b: number): number {
  return L.units.qty[collateralHolder(b)]!;
}

/**
 * Adds each lending borrower and keeper to its cohort's totals in cohorts.arrow (cohortTable): a borrower
 * put in borrowerContributedUsd and holds its collateral less its debt at the market's oracles, plus
 * what it borrowed and took out of the system (a manipulator's loan, at the debt asset's market price); a keeper put
 * in its starting cash and holds its cash and its inventory at the oracles. A wallet's unspent cash is in
 * neither (as for perp accounts: what it paid in is counted as put in).
 */
export function addLendingCohorts(w: World, accounts: Int32Array, contributed: Float64Array, value: Float64Array): void {
  const L = w.lending;
  for (let b = 0; b < L.nBorrowers; b++) {
    const c = L.borrowerCohort[b]!;
    const cr = L.borrowerCollReserve[b]!;
    const dr = L.borrowerDebtReserve[b]!;
    accounts[c]!++;
    contributed[c] = contributed[c]! + L.borrowerContributedUsd[b]!;
    // Its debt at the oracle, as its lenders value the claim.
    value[c] = value[c]! + collateralQty(L, b) * reservePrice(w, cr) - L.borrowerDebtQty[b]! * reservePrice(w, dr) + takenOutUsd(w, b);
  }
  for (let k = 0; k < L.nLiquidators; k++) {
    const c = L.liquidatorCohort[k]!;
    accounts[c]!++;
    contributed[c] = contributed[c]! + L.liquidatorInitialCashUsd[k]!;
    let held = w.ledger.balance[L.liquidatorCashHolder[k]!]!;
    const l = L.liquidatorMarket[k]!;
    for (let r = L.marketFirstReserve[l]!; r < L.marketFirstReserve[l + 1]!; r++) {
      held += L.units.qty[L.liquidatorInventoryStart[k]! + r - L.marketFirstReserve[l]!]! * reservePrice(w, r);
    }
    value[c] = value[c]! + held;
  }
}

/**
 * What borrower b borrowed and took out of the system (a manipulator's loan) is worth now, USD: units in
 * the outside market's hands, valued at market as the outside market's are. Counted in the borrower's
 * row of cohorts.arrow and taken out of the outside market's (engine/participants.ts), at this one price.
 */
export function takenOutUsd(w: World, b: number): number {
  const L = w.lending;
  return L.borrowerTakenOutQty[b]! * w.market[L.reserveAsset[L.borrowerDebtReserve[b]!]!]!;
}

/** Health factor of borrower b at oracle prices (Infinity without debt). */
export function borrowerHealthFactor(w: World, b: number): number {
  const L = w.lending;
  const cr = L.borrowerCollReserve[b]!;
  const dr = L.borrowerDebtReserve[b]!;
  return healthFactor(collateralQty(L, b) * reservePrice(w, cr) * L.liquidationThreshold[cr]!, L.borrowerDebtQty[b]! * reservePrice(w, dr));
}

/**
 * Event id of the latest event that moved a price borrower b is valued with against it (design
 * decision 45): its collateral's down, its debt's up; or -1. A manipulator's own pump, a rise of its
 * collateral, is what sets up the loss its loan leaves: for a manipulator any move of either price.
 */
function borrowerCause(w: World, b: number): number {
  const L = w.lending;
  const coll = L.reserveOracle[L.borrowerCollReserve[b]!]!;
  const debt = L.reserveOracle[L.borrowerDebtReserve[b]!]!;
  if (L.borrowerManipulator[b]! >= 0) return Math.max(priceCause(w, coll), priceCause(w, debt));
  return Math.max(priceCauseAgainst(w, coll, true), priceCauseAgainst(w, debt, false));
}

/**
 * Repays `debtQty` units of borrower b's debt with USD from holder `payer`: the payer buys the debt
 * asset from the outside market at the market price (buy-side impact ignored: repayments are small
 * against depth) and the units go back to the pool's liquidity. Returns the USD paid.
 */
function repay(w: World, b: number, debtQty: number, payer: number): number {
  const L = w.lending;
  const dr = L.borrowerDebtReserve[b]!;
  const costUsd = debtQty * w.market[L.reserveAsset[dr]!]!;
  w.ledger.transfer(payer, L.externalCashHolder, costUsd);
  L.units.transfer(L.externalUnitHolder[L.reserveAsset[dr]!]!, L.liquidityHolder[dr]!, debtQty);
  L.borrowerDebtQty[b] = L.borrowerDebtQty[b]! - debtQty;
  return costUsd;
}

/**
 * Stage 6 for borrowers: under the call level (one margin_call event per episode), top up (repay from the wallet back to the call
 * level) with the cohort's probability, else deleverage (sell collateral, repay) with its
 * probability, else nothing. Two uniforms per call whatever the response, from the lending
 * markets' own behaviour stream (so a change here never moves a perp trader's draws).
 */
export function respondToHealthCalls(w: World): void {
  const L = w.lending;
  for (let b = 0; b < L.nBorrowers; b++) {
    if (L.borrowerStatus[b] !== Status.active || !(L.borrowerDebtQty[b]! > 0)) continue;
    const c = L.borrowerCohort[b]!;
    const target = L.callHealthFactor[c]!;
    const hf = borrowerHealthFactor(w, b);
    if (!(hf < target)) {
      L.borrowerCallEvent[b] = -1; // the episode is over
      continue;
    }
    const p = L.marketProtocol[L.borrowerMarket[b]!]!;
    const account = w.nAccounts + b;
    const cr = L.borrowerCollReserve[b]!;
    const dr = L.borrowerDebtReserve[b]!;
    const lt = L.liquidationThreshold[cr]!;
    const collUsd = collateralQty(L, b) * reservePrice(w, cr);
    const debtPrice = reservePrice(w, dr);
    const debtUsd = L.borrowerDebtQty[b]! * debtPrice;
    // One call per episode under the call level (an event and a count); the borrower then decides
    // again every step until it is back above.
    if (L.borrowerCallEvent[b]! < 0) {
      w.acc.marginCalls[p]!++;
      L.borrowerCallEvent[b] = w.events.push(w.step, 0, EventKindCode.margin_call, p, account, L.reserveAsset[cr]!, 0, 0, debtUsd - (collUsd * lt) / target, borrowerCause(w, b));
    }
    const call = L.borrowerCallEvent[b]!;
    const u1 = w.lendingBehaviour.uniform();
    const u2 = w.lendingBehaviour.uniform();
    // On a chain that was full last step, the borrower's transaction is priced out (keepers bid
    // more for block space); else it takes a slot like a liquidation.
    if (chainCongested(w, p) || !chainHasRoom(w, p)) continue;
    if (u1 < L.topUpProbability[c]!) {
      // Repay x USD so that coll × LT / (debt − x) = target.
      const wallet = L.borrowerWallet[b]!;
      const wantUsd = debtUsd - (collUsd * lt) / target;
      const affordable = w.ledger.balance[wallet]! / w.market[L.reserveAsset[dr]!]!;
      const qty = Math.min(wantUsd / debtPrice, affordable, L.borrowerDebtQty[b]!);
      if (!(qty > 0)) continue;
      useChain(w, p);
      const paid = repay(w, b, qty, wallet);
      L.borrowerContributedUsd[b] = L.borrowerContributedUsd[b]! + paid;
      w.events.push(w.step, 0, EventKindCode.top_up, p, account, L.reserveAsset[dr]!, qty, debtPrice, paid, call);
    } else if (u2 < L.deleverageProbability[c]!) {
      // Sell s USD of collateral and repay with it: (coll − s)·LT = target·(debt − s)
      // ⇒ s = (target·debt − coll·LT) / (target − LT) (at oracle prices; the fill decides).
      // Selling collateral to repay only helps a borrower who is solvent at market prices (then
      // HF rises with every unit sold); an insolvent one keeps its collateral and waits.
      const asset = L.reserveAsset[cr]!;
      if (!(collateralQty(L, b) * w.market[asset]! > L.borrowerDebtQty[b]! * w.market[L.reserveAsset[dr]!]!)) continue;
      const sUsd = Math.min((target * debtUsd - collUsd * lt) / (target - lt), collUsd);
      if (!(sUsd > 0)) continue;
      const qty = sUsd / reservePrice(w, cr);
      const wallet = L.borrowerWallet[b]!;
      useChain(w, p);
      const proceeds = sellUnits(w, L.reserveOracle[cr]!, collateralHolder(b), wallet, qty);
      const repayQty = Math.min(proceeds / w.market[L.reserveAsset[dr]!]!, L.borrowerDebtQty[b]!);
      const repaid = repayQty > 0 ? repay(w, b, repayQty, wallet) : 0;
      // A sale that raised more than the debt left leaves the rest in its wallet: cash taken back out
      // of what it put in (cohorts.arrow counts a wallet's cash in neither; found by the balance
      // sheet check, design decision 57).
      L.borrowerContributedUsd[b] = L.borrowerContributedUsd[b]! - (proceeds - repaid);
      const id = w.events.push(w.step, 0, EventKindCode.deleverage, p, account, asset, -qty, proceeds / qty, proceeds, call);
      noteTrade(w, L.reserveOracle[cr]!, id, qty);
    }
  }
}

/**
 * One round of lending liquidations (stage 7, alongside the perp rounds): every borrower under
 * HF 1 in a market still within its round limit, weakest first (HF, then index), is liquidated by
 * the first of its market's liquidators with cash. Returns the number of liquidations done.
 */
export function liquidateLendingRound(w: World, round: number): number {
  const L = w.lending;
  const { queue, queueKey } = L;
  let n = 0;
  for (let b = 0; b < L.nBorrowers; b++) {
    if (L.borrowerStatus[b] !== Status.active || !(L.borrowerDebtQty[b]! > 0)) continue;
    if (round >= L.maxRoundsPerStep[L.borrowerMarket[b]!]!) continue;
    const hf = borrowerHealthFactor(w, b);
    if (!(hf < 1)) continue;
    queueKey[b] = hf;
    queue[n++] = b;
  }
  if (n === 0) return 0;
  sortByKey(queue, n, queueKey);
  let done = 0;
  for (let i = 0; i < n; i++) if (liquidateBorrower(w, queue[i]!)) done++;
  return done;
}

/** Liquidates borrower b once if it is (still) under HF 1 and a liquidator has cash. */
function liquidateBorrower(w: World, b: number): boolean {
  const L = w.lending;
  const hf = borrowerHealthFactor(w, b);
  if (!(hf < 1)) return false;
  const l = L.borrowerMarket[b]!;
  const p = L.marketProtocol[l]!;
  if (!chainHasRoom(w, p)) return false;
  const cr = L.borrowerCollReserve[b]!;
  const dr = L.borrowerDebtReserve[b]!;
  const collAsset = L.reserveAsset[cr]!;
  const collPrice = reservePrice(w, cr);
  const debtPrice = reservePrice(w, dr);
  const collQty = collateralQty(L, b);
  const collUsd = collQty * collPrice;
  const debtUsd = L.borrowerDebtQty[b]! * debtPrice;
  const account = w.nAccounts + b;
  const cause = borrowerCause(w, b);
  // Collateral already gone (dust): nothing to liquidate, only the deficit to book.
  if (!(collQty > DUST * (collQty + L.borrowerDebtQty[b]!))) {
    writeOffDeficit(w, b, cause);
    return true;
  }
  // The first liquidator of this market with cash; repayment costs market price, so cap by that.
  let k = -1;
  for (let j = 0; j < L.nLiquidators; j++) {
    if (L.liquidatorMarket[j] === l && w.ledger.balance[L.liquidatorCashHolder[j]!]! > 0) {
      k = j;
      break;
    }
  }
  if (k < 0) return false;
  const cash = w.ledger.balance[L.liquidatorCashHolder[k]!]!;
  const debtMarket = w.market[L.reserveAsset[dr]!]!;
  const cashUsd = (cash / debtMarket) * debtPrice; // cash in the protocol's (oracle) valuation
  // Keepers liquidate only what pays: the seized collateral, sold into the market at once, must
  // fetch at least the cost of the repaid debt. In a thin market the bonus is eaten by the fire
  // sale's slippage and liquidations stop (Black Thursday, 2020; the stETH discount, 2022): find
  // the largest profitable size by bisection on the repaid amount.
  let wantedUsd = cashUsd;
  if (!liquidationPays(w, hf, debtUsd, collUsd, wantedUsd, cr, dr, l)) {
    let lo = 0;
    let hi = wantedUsd;
    for (let it = 0; it < 40; it++) {
      const mid = 0.5 * (lo + hi);
      if (liquidationPays(w, hf, debtUsd, collUsd, mid, cr, dr, l)) lo = mid;
      else hi = mid;
    }
    wantedUsd = lo;
  }
  if (!(wantedUsd > 0)) return false;
  const q = quoteLiquidation(hf, debtUsd, collUsd, wantedUsd, L.liquidationBonus[cr]!, L.protocolFee[cr]!, L.rules[l]!, L.quote);
  // A quote forced up to a full close by the dust rule can exceed what the keeper chose: it waits.
  if (!(q.debtRepaidUsd > 0) || q.debtRepaidUsd > wantedUsd * (1 + 1e-12)) return false;
  const repaidQty = Math.min(q.debtRepaidUsd / debtPrice, L.borrowerDebtQty[b]!);
  const seizedQty = Math.min(q.collateralSeizedUsd / collPrice, collQty);
  const feeQty = Math.min(q.protocolFeeUsd / collPrice, seizedQty);
  const liquidatorQty = seizedQty - feeQty;
  useChain(w, p);
  repay(w, b, repaidQty, L.liquidatorCashHolder[k]!);
  L.units.transfer(collateralHolder(b), L.treasuryHolder[cr]!, feeQty);
  const inventory = L.liquidatorInventoryStart[k]! + (cr - L.marketFirstReserve[l]!);
  L.units.transfer(collateralHolder(b), inventory, liquidatorQty);
  w.acc.liquidations[p]!++;
  w.acc.liquidationVolumeUsd[p] = w.acc.liquidationVolumeUsd[p]! + q.debtRepaidUsd;
  if (w.acc.cascadeRounds[p]! < w.round + 1) w.acc.cascadeRounds[p] = w.round + 1;
  const event = w.events.push(w.step, w.round, EventKindCode.liquidation, p, account, collAsset, -seizedQty, collPrice, q.debtRepaidUsd, cause);
  // The liquidator sells what it seized at once: the fire sale every venue on this asset sees.
  const proceeds = sellUnits(w, L.reserveOracle[cr]!, inventory, L.liquidatorCashHolder[k]!, liquidatorQty);
  const sale = w.events.push(w.step, w.round, EventKindCode.unwind, p, account, collAsset, -liquidatorQty, liquidatorQty > 0 ? proceeds / liquidatorQty : 0, proceeds, event);
  noteTrade(w, L.reserveOracle[cr]!, sale, liquidatorQty);
  // Aave v3.3: a borrower left with no collateral has its remaining debt written off.
  if (!(collateralQty(L, b) > DUST * collQty)) writeOffDeficit(w, b, event);
  return true;
}

/**
 * True when repaying up to `wantedUsd` (oracle USD) of the debt, seizing collateral with the bonus
 * and selling the keeper's share into the market now yields at least the repayment's market cost.
 */
function liquidationPays(w: World, hf: number, debtUsd: number, collUsd: number, wantedUsd: number, cr: number, dr: number, l: number): boolean {
  const L = w.lending;
  const q = quoteLiquidation(hf, debtUsd, collUsd, wantedUsd, L.liquidationBonus[cr]!, L.protocolFee[cr]!, L.rules[l]!, L.quote);
  if (!(q.debtRepaidUsd > 0) || q.debtRepaidUsd > wantedUsd * (1 + 1e-12)) return false;
  const qty = q.liquidatorCollateralUsd / reservePrice(w, cr);
  const proceeds = qty * quoteWhereOraclePrices(w, L.reserveOracle[cr]!, qty);
  const cost = (q.debtRepaidUsd / reservePrice(w, dr)) * w.market[L.reserveAsset[dr]!]!;
  return proceeds >= cost;
}

/**
 * Books borrower b's remaining debt as the reserve deficit (bad debt of the market) and has the
 * safety module cover what it can, in USD at the oracle price; the rest stays uncovered — a loss
 * of the lenders.
 */
function writeOffDeficit(w: World, b: number, cause: number): void {
  const L = w.lending;
  const l = L.borrowerMarket[b]!;
  const p = L.marketProtocol[l]!;
  const dr = L.borrowerDebtReserve[b]!;
  const qty = L.borrowerDebtQty[b]!;
  L.borrowerStatus[b] = Status.bankrupt;
  // Dust of collateral left behind goes to the treasury, so the borrower holds nothing.
  const left = collateralQty(L, b);
  if (left !== 0) L.units.transfer(collateralHolder(b), L.treasuryHolder[L.borrowerCollReserve[b]!]!, left);
  if (!(qty > 0)) return;
  L.borrowerDebtQty[b] = 0;
  L.deficitQty[dr] = L.deficitQty[dr]! + qty;
  const deficitUsd = qty * reservePrice(w, dr);
  const account = w.nAccounts + b;
  const badDebt = w.events.push(w.step, w.round, EventKindCode.bad_debt, p, account, L.reserveAsset[dr]!, qty, reservePrice(w, dr), deficitUsd, cause);
  w.acc.badDebtUsd[p] = w.acc.badDebtUsd[p]! + deficitUsd;
  const fund = w.fundHolderStart + L.marketFund[l]!;
  noteFundDemand(w, L.marketFund[l]!, deficitUsd);
  const payout = Math.min(deficitUsd, Math.max(0, w.ledger.balance[fund]!));
  if (payout > 0) {
    w.ledger.transfer(fund, L.marketRecoveryHolder[l]!, payout);
    w.acc.fundPayoutUsd[p] = w.acc.fundPayoutUsd[p]! + payout;
    w.events.push(w.step, w.round, EventKindCode.fund_payout, p, account, -1, 0, 0, payout, badDebt);
    if (w.fundDepletionStep < 0 && w.ledger.balance[fund]! <= 1e-9 * w.ledger.scaleUsd) w.fundDepletionStep = w.step;
  }
  let minted = 0;
  if (deficitUsd > payout) {
    noteDefault(w, p, account, deficitUsd - payout, badDebt);
    if (L.governanceAsset[l]! >= 0) minted = mintToCover(w, l, deficitUsd - payout, badDebt);
  }
  if (deficitUsd > payout + minted) {
    const uncovered = deficitUsd - payout - minted;
    w.acc.uncoveredBadDebtUsd[p] = w.acc.uncoveredBadDebtUsd[p]! + uncovered;
    chargeDepositors(w, dr, uncovered, badDebt);
  }
}

/**
 * The last resort before lenders lose: mint the market's governance token and sell it into its
 * market until the sale raises `shortUsd` or the mint cap is reached (src/model/derived.ts
 * mintAndSellToCover). The sale walks the token's impact curve, so its holders everywhere lose value;
 * the dilution is booked as a socialized loss of the market. Returns the USD raised.
 */
function mintToCover(w: World, l: number, shortUsd: number, cause: number): number {
  const L = w.lending;
  const g = L.governanceAsset[l]!;
  const x0 = w.impactPermanent[g]! + w.impactTemporary[g]!;
  const plan = mintAndSellToCover(shortUsd, w.fundamental[g]!, x0, w.impactModel[g]!, w.impactCoefficient[g]!, w.depthUsd[g]!, L.governanceMintLeft[l]!, mintPlan);
  const qty = plan.minted;
  if (!(qty > 0)) return 0;
  const price = tradeIntoMarket(w, g, qty);
  const proceeds = Math.min(qty * price, shortUsd);
  L.governanceMintLeft[l] = L.governanceMintLeft[l]! - qty;
  L.governanceMinted[l] = L.governanceMinted[l]! + qty;
  L.units.mint(L.externalUnitHolder[g]!, qty); // minted straight to the buyers
  w.ledger.transfer(L.externalCashHolder, L.marketRecoveryHolder[l]!, proceeds);
  const p = L.marketProtocol[l]!;
  w.acc.socializedLossUsd[p] = w.acc.socializedLossUsd[p]! + proceeds;
  noteMarketTrade(w, g, w.events.push(w.step, w.round, EventKindCode.governance_mint, p, -1, g, -qty, price, proceeds, cause), qty);
  w.marksStale = true;
  return proceeds;
}

/** Reused result of mintAndSellToCover. */
const mintPlan: MintAndSellResult = { minted: 0, proceedsUsd: 0, uncoveredUsd: 0, priceAfter: 0 };

/**
 * The direct-exposure channel: what no safety module covered is the lenders' loss, and a protocol's
 * insurance fund that deposited into the reserve bears its share of it — moved from the fund to the
 * market (the depositor's claim written down), an `exposure_loss` event at the protocol it backs.
 */
function chargeDepositors(w: World, r: number, uncoveredUsd: number, cause: number): void {
  const L = w.lending;
  for (let e = 0; e < L.nExposures; e++) {
    if (L.exposureReserve[e] !== r) continue;
    const fund = w.fundHolderStart + L.exposureFund[e]!;
    noteFundDemand(w, L.exposureFund[e]!, uncoveredUsd * L.exposureShare[e]!);
    const loss = Math.min(uncoveredUsd * L.exposureShare[e]!, Math.max(0, w.ledger.balance[fund]!));
    if (!(loss > 0)) continue;
    w.ledger.transfer(fund, L.marketRecoveryHolder[L.reserveMarket[r]!]!, loss);
    const p = L.exposureProtocol[e]!;
    if (p >= 0) w.acc.exposureLossUsd[p] = w.acc.exposureLossUsd[p]! + loss;
    w.events.push(w.step, w.round, EventKindCode.exposure_loss, p, -1, L.reserveAsset[r]!, 0, 0, loss, cause);
    if (w.fundDepletionStep < 0 && w.ledger.balance[fund]! <= 1e-9 * w.ledger.scaleUsd) w.fundDepletionStep = w.step;
  }
}

/** Σ debt of lending market l at oracle prices, USD (its "open interest" row in steps.arrow). */
export function lendingDebtUsd(w: World, l: number): number {
  const L = w.lending;
  let sum = 0;
  for (let b = 0; b < L.nBorrowers; b++) {
    if (L.borrowerMarket[b] === l) sum += L.borrowerDebtQty[b]! * reservePrice(w, L.borrowerDebtReserve[b]!);
  }
  return sum;
}

/** Σ over open borrowers of max(0, debt − collateral) at oracle prices, USD (unbooked insolvency). */
export function lendingInsolventDebtUsd(w: World): number {
  const L = w.lending;
  let sum = 0;
  for (let b = 0; b < L.nBorrowers; b++) {
    if (L.borrowerStatus[b] !== Status.active) continue;
    const gap = L.borrowerDebtQty[b]! * reservePrice(w, L.borrowerDebtReserve[b]!) - collateralQty(L, b) * reservePrice(w, L.borrowerCollReserve[b]!);
    if (gap > 0) sum += gap;
  }
  return sum;
}

/** Slices a manipulator's purchase is cut into (each walks the curve from where the last left it). */
const PUMP_SLICES = 20;

/**
 * Stage 6½, the Mango Markets pattern: at its step, a manipulator buys its token with its cash where
 * the lending market prices it (the venue's own thin market when the oracle reads one), the oracle
 * re-reads, and it borrows `borrowShareOfLimit` of what the inflated collateral allows and leaves
 * with it. The purchase is a `manipulation` event (a root cause: the oracle channel), the loan a
 * `borrow` event.
 */
export function manipulateMarkets(w: World): void {
  const L = w.lending;
  for (let b = 0; b < L.nBorrowers; b++) {
    if (L.borrowerPumpStep[b] !== w.step || L.borrowerStatus[b] !== Status.active) continue;
    const cr = L.borrowerCollReserve[b]!;
    const dr = L.borrowerDebtReserve[b]!;
    const asset = L.reserveAsset[cr]!;
    const o = L.reserveOracle[cr]!;
    const wallet = L.borrowerWallet[b]!;
    const p = L.marketProtocol[L.borrowerMarket[b]!]!;
    const account = w.nAccounts + b;
    let remaining = Math.min(L.borrowerPumpUsd[b]!, w.ledger.balance[wallet]!);
    let spent = 0;
    let bought = 0;
    for (let k = 0; k < PUMP_SLICES && remaining > 0; k++) {
      const slice = remaining / (PUMP_SLICES - k);
      let qty = slice / tradePrice(w, o);
      // Buying walks the price up: scale the slice so that it never costs more than what is left.
      const quoted = qty * quoteWhereOraclePrices(w, o, -qty);
      if (quoted > remaining) qty *= remaining / quoted;
      const cost = qty * tradeWhereOraclePrices(w, o, -qty);
      w.ledger.transfer(wallet, L.externalCashHolder, cost);
      L.units.transfer(L.externalUnitHolder[asset]!, collateralHolder(b), qty);
      remaining -= cost;
      spent += cost;
      bought += qty;
    }
    // The pump is cash the manipulator put into its own collateral.
    L.borrowerContributedUsd[b] = L.borrowerContributedUsd[b]! + spent;
    const pumped = w.events.push(w.step, 0, EventKindCode.manipulation, -1, account, asset, bought, tradePrice(w, o), spent, -1);
    noteTrade(w, o, pumped, -bought);
    w.marksStale = true;
    refreshOracles(w);
    // Borrow against the inflated collateral, as far as the pool's liquidity goes, and leave.
    const debtPrice = reservePrice(w, dr);
    const limitUsd = collateralQty(L, b) * reservePrice(w, cr) * L.ltv[cr]! * L.borrowerBorrowShare[b]! - L.borrowerDebtQty[b]! * debtPrice;
    const qty = Math.min(limitUsd / debtPrice, L.units.qty[L.liquidityHolder[dr]!]!);
    if (!(qty > 0)) continue;
    L.units.transfer(L.liquidityHolder[dr]!, L.externalUnitHolder[L.reserveAsset[dr]!]!, qty);
    L.borrowerDebtQty[b] = L.borrowerDebtQty[b]! + qty;
    L.borrowerTakenOutQty[b] = L.borrowerTakenOutQty[b]! + qty;
    w.events.push(w.step, 0, EventKindCode.borrow, p, account, L.reserveAsset[dr]!, qty, debtPrice, qty * debtPrice, pumped);
  }
}
