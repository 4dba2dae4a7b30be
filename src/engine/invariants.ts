// Run-time invariants (checked every step with --check, otherwise once after the last step): the ledger
// balances, perp positions net to zero in every market, each settlement pool equals the open
// positions' value (zero-sum PnL), no arbitrageur or stable's swap desk overdraws its cash, prices are positive, and no
// state array holds NaN or Infinity.
// A violation stops the run and names the step, the array and the index. Every comparison is written
// so that NaN fails it (!(x <= tol), not x > tol: a NaN compares false both ways).
import { InvariantError } from '../experiment/errors.ts';
import { exchangeOf, Status, type World } from '../model/world.ts';
import { hasNothingLeft, markPrice } from './accounts.ts';
import { lendingMarketName, reserveName, unitHolderName } from './holders.ts';

/** Relative tolerance of the ledger and zero-sum checks. */
export const LEDGER_TOLERANCE = 1e-9;

export function checkInvariants(w: World): void {
  checkFinite(w);
  checkPrices(w);
  checkLedger(w);
  checkZeroSum(w);
  checkBookedShortfalls(w);
  if (w.units.qty.length > 0) checkLending(w);
}

/**
 * Unit holdings (lending markets, perp collateral): units of every asset are conserved (nothing seized or sold appears or vanishes);
 * each reserve's liquidity + outstanding debt + written-off deficit equals the lenders' deposits;
 * no collateral, debt or liquidity is negative beyond rounding.
 */
function checkLending(w: World): void {
  const L = w.lending;
  for (let a = 0; a < w.nAssets; a++) {
    const err = L.units.errorUnits(a);
    const scale = L.units.scaleUnits(a);
    if (!(err <= LEDGER_TOLERANCE * (scale + 1))) {
      throw new InvariantError(`units of ${w.assetSymbols[a]} off by ${err} (scale ${scale})`, w.step, 'units');
    }
  }
  // Units are minted at two sites and burned at one, each keeping its own count: the unit ledger's
  // totals must be theirs, so that a mint or burn anywhere else (one meant as a transfer) shows.
  const minted = new Float64Array(w.nAssets);
  const burned = new Float64Array(w.nAssets);
  for (let l = 0; l < L.nMarkets; l++) {
    const g = L.governanceAsset[l]!;
    if (g >= 0) minted[g] = minted[g]! + L.governanceMinted[l]!;
  }
  const S = w.stables;
  for (let k = 0; k < S.n; k++) {
    minted[S.collateral[k]!] = minted[S.collateral[k]!]! + S.collateralMinted[k]!;
    burned[S.asset[k]!] = burned[S.asset[k]!]! + S.burned[k]!;
  }
  for (let a = 0; a < w.nAssets; a++) {
    const tol = LEDGER_TOLERANCE * (L.units.scaleUnits(a) + 1);
    if (!(Math.abs(L.units.minted[a]! - minted[a]!) <= tol)) {
      throw new InvariantError(
        `units of ${w.assetSymbols[a]}: the unit ledger minted ${L.units.minted[a]}, the governance mints and stable swaps ${minted[a]}`,
        w.step,
        'units.minted',
      );
    }
    if (!(Math.abs(L.units.burned[a]! - burned[a]!) <= tol)) {
      throw new InvariantError(`units of ${w.assetSymbols[a]}: the unit ledger burned ${L.units.burned[a]}, the stable swaps ${burned[a]}`, w.step, 'units.burned');
    }
  }
  const debt = new Float64Array(L.nReserves);
  for (let b = 0; b < L.nBorrowers; b++) {
    const d = L.borrowerDebtQty[b]!;
    if (!Number.isFinite(d) || !(d >= -LEDGER_TOLERANCE * L.supplyQty[L.borrowerDebtReserve[b]!]!)) {
      throw new InvariantError(`borrowerDebtQty[${b}] = ${d} (borrower ${b} of ${lendingMarketName(w, L.borrowerMarket[b]!)})`, w.step, 'borrowerDebtQty');
    }
    debt[L.borrowerDebtReserve[b]!] = debt[L.borrowerDebtReserve[b]!]! + d;
  }
  for (let h = 0; h < L.units.qty.length; h++) {
    const q = L.units.qty[h]!;
    const external = h >= L.externalUnitHolder[0]! && h <= L.externalUnitHolder[w.nAssets - 1]!;
    if (!Number.isFinite(q) || (!external && q < -LEDGER_TOLERANCE * (L.units.scaleUnits(L.units.holderAsset[h]!) + 1))) {
      throw new InvariantError(`units.qty[${h}] = ${q}: ${unitHolderName(w, h)}`, w.step, 'units.qty');
    }
  }
  for (let r = 0; r < L.nReserves; r++) {
    const held = L.units.qty[L.liquidityHolder[r]!]! + debt[r]! + L.deficitQty[r]!;
    if (!(Math.abs(held - L.supplyQty[r]!) <= LEDGER_TOLERANCE * (L.supplyQty[r]! + 1))) {
      throw new InvariantError(`reserve ${r} (${reserveName(w, r)}): liquidity + debt + deficit = ${held}, deposits ${L.supplyQty[r]}`, w.step, 'reserve');
    }
  }
}

function checkFinite(w: World): void {
  const arrays: [string, Float64Array][] = [
    ['fundamental', w.fundamental],
    ['market', w.market],
    ['oraclePrice', w.oraclePrice],
    ['fundingIndex', w.fundingIndex],
    ['posQty', w.posQty],
    ['posQuote', w.posQuote],
    ['posFundingIndex', w.posFundingIndex],
    ['marketLongQty', w.marketLongQty],
    ['impactPermanent', w.impactPermanent],
    ['impactTemporary', w.impactTemporary],
    ['venuePermanent', w.venuePermanent],
    ['venueTemporary', w.venueTemporary],
    ['ledger.balance', w.ledger.balance],
    ['accountEquity', w.accountEquity],
    ['options.optQty', w.options.optQty],
    ['options.optQuote', w.options.optQuote],
    ['options.seriesPrice', w.options.seriesPrice],
    ['lending.deficitQty', w.lending.deficitQty],
    ['lending.supplyQty', w.lending.supplyQty],
  ];
  for (const [name, arr] of arrays) {
    for (let i = 0; i < arr.length; i++) {
      if (!Number.isFinite(arr[i]!)) throw new InvariantError(`${name}[${i}] = ${arr[i]}`, w.step, name);
    }
  }
}

function checkPrices(w: World): void {
  for (let a = 0; a < w.nAssets; a++) {
    if (!(w.fundamental[a]! > 0)) throw new InvariantError(`fundamental[${a}] = ${w.fundamental[a]} is not positive`, w.step, 'fundamental');
    if (!(w.market[a]! > 0)) throw new InvariantError(`market[${a}] = ${w.market[a]} is not positive`, w.step, 'market');
  }
  for (let o = 0; o < w.nOracles; o++) {
    if (!(w.oraclePrice[o]! > 0)) throw new InvariantError(`oraclePrice[${o}] = ${w.oraclePrice[o]} is not positive`, w.step, 'oraclePrice');
  }
}

function checkLedger(w: World): void {
  const error = w.ledger.errorUsd();
  if (!(error <= LEDGER_TOLERANCE * w.ledger.scaleUsd)) {
    throw new InvariantError(`ledger off by ${error} USD (scale ${w.ledger.scaleUsd})`, w.step, 'ledger');
  }
  // Arbitrageurs buy with the cash they have: none may overdraw.
  const A = w.arbitrage;
  for (let k = 0; k < A.n; k++) {
    const cash = w.ledger.balance[A.cashHolder[k]!]!;
    if (!(cash >= -LEDGER_TOLERANCE * A.initialCashUsd[k]!)) {
      throw new InvariantError(`arbitrageur ${k} holds ${cash} USD of cash`, w.step, 'arbitrage.cash');
    }
  }
  // An algorithmic stable's swap desk only trades at a profit (phases/stablecoins.ts), and its
  // holders sell only what they hold.
  const S = w.stables;
  for (let k = 0; k < S.n; k++) {
    const cash = w.ledger.balance[S.deskCash[k]!]!;
    if (!(cash >= -LEDGER_TOLERANCE * S.redeemedUsd[k]!)) {
      throw new InvariantError(`the swap desk of ${w.assetSymbols[S.asset[k]!]} holds ${cash} USD of cash`, w.step, 'stables.deskCash');
    }
    const held = w.units.qty[S.holderUnits[k]!]!;
    if (!(held >= 0)) throw new InvariantError(`the holders of ${w.assetSymbols[S.asset[k]!]} hold ${held} units`, w.step, 'stables.holderUnits');
  }
}

/**
 * What the loss waterfall left unpaid is what it booked as uncovered. A perp account with nothing left —
 * no open position, no collateral units — and cash below zero is a shortfall nobody paid: it must have
 * gone down the waterfall (the account bankrupt), and on each exchange those accounts' negative cash must
 * add up to the uncovered bad debt booked so far (the run's totals and the step's). The amounts check:
 * a fund payout, fee-pool payout or socialized loss that moved a different amount from what it booked
 * leaves the two apart. (Session 19's defect, an under-water account that closed itself out and kept
 * its negative cash, is the other case: unpaid, not bankrupt, never booked.) Dust below the ledger's
 * tolerance, which a close at the bankruptcy price leaves, is not a shortfall.
 */
function checkBookedShortfalls(w: World): void {
  const tol = LEDGER_TOLERANCE * w.ledger.scaleUsd;
  const unpaid = new Float64Array(w.nExchanges);
  for (let a = 0; a < w.nAccounts; a++) {
    const cash = w.ledger.balance[a]!;
    if (!(cash < 0) || !hasNothingLeft(w, a)) continue;
    const x = exchangeOf(w, a);
    unpaid[x] = unpaid[x]! - cash;
    if (cash < -tol && w.accountStatus[a] !== Status.bankrupt) {
      throw new InvariantError(
        `account ${a} (${w.exchangeIds[x]}) has no position and ${cash} USD of cash, but is not bankrupt: a shortfall that did not go down the loss waterfall`,
        w.step,
        'accountStatus',
      );
    }
  }
  for (let x = 0; x < w.nExchanges; x++) {
    const booked = w.totals.uncoveredBadDebtUsd[x]! + w.acc.uncoveredBadDebtUsd[x]!;
    if (!(Math.abs(unpaid[x]! - booked) <= tol)) {
      throw new InvariantError(
        `${w.exchangeIds[x]}: the accounts with nothing left hold ${-unpaid[x]!} USD of cash, but ${booked} USD of bad debt is booked as uncovered`,
        w.step,
        'uncoveredBadDebtUsd',
      );
    }
  }
}

/** "3 (venue-a BTC)": a market's index and what it is (exchange id, asset symbol). */
function marketName(w: World, m: number): string {
  return `${m} (${w.exchangeIds[w.marketExchange[m]!]} ${w.assetSymbols[w.marketAsset[m]!]})`;
}

/**
 * Σ qty = 0 in every market and option series, and each exchange's settlement pool equals Σ over
 * its positions of qty × mark + quote − unsettled funding, plus its option positions' qty × model
 * price + quote (the realized side of zero-sum PnL).
 */
function checkZeroSum(w: World): void {
  const poolValue = new Float64Array(w.nExchanges);
  const poolScale = new Float64Array(w.nExchanges);
  for (let m = 0; m < w.nMarkets; m++) {
    let net = 0;
    let gross = 0;
    let long = 0;
    const price = markPrice(w, m);
    const x = w.marketExchange[m]!;
    for (let i = w.marketPosStart[m]!; i < w.marketPosStart[m + 1]!; i++) {
      const p = w.marketPositions[i]!;
      const q = w.posQty[p]!;
      net += q;
      gross += Math.abs(q);
      if (q > 0) long += q;
      poolValue[x] = poolValue[x]! + q * price + w.posQuote[p]! - q * (w.fundingIndex[m]! - w.posFundingIndex[p]!);
      poolScale[x] = poolScale[x]! + Math.abs(w.posQuote[p]!) + Math.abs(q * price);
    }
    // Floating-point drift in Σ qty grows with the size positions have had, not with what is left
    // open: measure it against the market's initial gross open interest too.
    if (!(Math.abs(net) <= LEDGER_TOLERANCE * Math.max(gross, w.marketInitialGrossQty[m]!) + 1e-12)) {
      throw new InvariantError(`market ${marketName(w, m)}: positions net to ${net}, not 0`, w.step, 'posQty');
    }
    // The long open interest kept by fills (recordStep reads it) must be the positions' own.
    if (!(Math.abs(w.marketLongQty[m]! - long) <= LEDGER_TOLERANCE * Math.max(gross, w.marketInitialGrossQty[m]!) + 1e-12)) {
      throw new InvariantError(`market ${marketName(w, m)}: long open interest kept as ${w.marketLongQty[m]}, positions hold ${long}`, w.step, 'marketLongQty');
    }
  }
  // A delisted market closed every position at its settlement and takes none again.
  for (let k = 0; k < w.delistMarket.length; k++) {
    const m = w.delistMarket[k]!;
    if (w.step < w.delistStep[k]!) continue;
    for (let i = w.marketPosStart[m]!; i < w.marketPosStart[m + 1]!; i++) {
      const p = w.marketPositions[i]!;
      if (w.posQty[p] !== 0) {
        throw new InvariantError(`market ${marketName(w, m)} was delisted at step ${w.delistStep[k]}, but position ${p} holds ${w.posQty[p]}`, w.step, 'posQty');
      }
    }
  }
  // Options share their exchange's settlement pool: Σ qty = 0 per series, and their value counts.
  const o = w.options;
  for (let s = 0; s < o.nSeries; s++) {
    let net = 0;
    let gross = 0;
    const x = o.seriesExchange[s]!;
    for (let i = o.seriesPosStart[s]!; i < o.seriesPosStart[s + 1]!; i++) {
      const k = o.seriesPositions[i]!;
      const q = o.optQty[k]!;
      net += q;
      gross += Math.abs(q);
      poolValue[x] = poolValue[x]! + q * o.seriesPrice[s]! + o.optQuote[k]!;
      poolScale[x] = poolScale[x]! + Math.abs(o.optQuote[k]!) + Math.abs(q * o.seriesPrice[s]!);
    }
    if (!(Math.abs(net) <= LEDGER_TOLERANCE * gross + 1e-12)) {
      throw new InvariantError(`option series ${o.seriesIds[s]}: positions net to ${net}, not 0`, w.step, 'optQty');
    }
  }
  for (let x = 0; x < w.nExchanges; x++) {
    const pool = w.ledger.balance[w.poolHolderStart + x]!;
    if (!(Math.abs(pool - poolValue[x]!) <= LEDGER_TOLERANCE * (poolScale[x]! + w.ledger.scaleUsd))) {
      throw new InvariantError(
        `exchange ${w.exchangeIds[x]}: settlement pool ${pool} ≠ open position value ${poolValue[x]}`,
        w.step,
        'settlementPool',
      );
    }
  }
}
