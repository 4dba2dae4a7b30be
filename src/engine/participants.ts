// Everyone else on the balance sheet: the rows of cohorts.arrow after the trader cohorts and backstop
// vaults (design decision 57). Each participant that is not a cohort of accounts — an arbitrageur, an
// insurance fund or safety module, an exchange (its reserve and fee pools), a lending market's lenders
// and its treasury, an algorithmic stable's holders, swap desk and collateral holders, and the outside
// market (the counterparty of every spot trade) — gets one row with what it held at step 0 and what it
// holds at the end, so that cohorts.arrow says who gained and who paid for every dollar: the rows' P&L
// sum to what the prices did to the units in existence, which checkBalanceSheet holds every run to.
//
// Valuation, the same for every row that holds the units: a lending market's units (collateral, debt,
// liquidity, treasury, keepers' inventory) at the reserve's oracle, as the protocol values them; a perp
// account's collateral at its oracle, unweighted; every other unit (the outside market's, arbitrageurs',
// a stable's, a manipulator's loan taken out) at the asset's market price; step 0 at the initial price.
import type { Scenario } from '../experiment/schema.ts';
import { stableAssets } from '../model/algorithmicStable.ts';
import type { World } from '../model/world.ts';
import { InvariantError } from '../experiment/errors.ts';
import { LEDGER_TOLERANCE } from './invariants.ts';
import { UnitHolderKind, unitHolderTable } from './holders.ts';
import { ParticipantRole, type CohortTable } from './record.ts';
import { takenOutUsd } from './phases/lending.ts';

/** The outside market's name in cohorts.arrow. */
export const OUTSIDE_MARKET = 'outside market';

/**
 * cohorts.arrow's participants, by code: the trader cohorts, the backstop vaults, then one row each for
 * the arbitrageurs, the insurance funds, the exchanges, every lending market's lenders and then its
 * treasury, every algorithmic stable's holders, desk and collateral holders, and the outside market —
 * each in the scenario's order (the dense ids of the world). `names[c]` is code c's name in the
 * `cohort` column (a cohort or vault by its id; the others by role and id, "fund safety", "lend
 * lenders", "UST desk", "outside market": with a space, which no id has, so no name is taken twice),
 * `roles[c]` its PARTICIPANT_ROLES code. Depends on the scenario only, so every run and shard shares it.
 */
export function participantList(s: Scenario): { names: string[]; roles: number[] } {
  const names: string[] = [];
  const roles: number[] = [];
  const add = (role: number, name: string) => {
    names.push(name);
    roles.push(role);
  };
  for (const c of s.traders) add(ParticipantRole.trader, c.id);
  for (const v of s.backstopVaults) add(ParticipantRole.backstop_vault, v.id);
  for (const x of s.arbitrageurs) add(ParticipantRole.arbitrageur, `arbitrageur ${x.id}`);
  for (const f of s.insuranceFunds) add(ParticipantRole.insurance_fund, `fund ${f.id}`);
  for (const x of s.exchanges) add(ParticipantRole.exchange, `exchange ${x.id}`);
  for (const l of s.lendingMarkets) add(ParticipantRole.lenders, `${l.id} lenders`);
  for (const l of s.lendingMarkets) add(ParticipantRole.lending_treasury, `${l.id} treasury`);
  for (const { asset } of stableAssets(s)) {
    add(ParticipantRole.stable_holders, `${asset.symbol} holders`);
    add(ParticipantRole.stable_desk, `${asset.symbol} desk`);
    add(ParticipantRole.stable_collateral_holders, `${asset.symbol} collateral holders`);
  }
  add(ParticipantRole.outside_market, OUTSIDE_MARKET);
  return { names, roles };
}

/** Number of participant rows after the cohorts and vaults: the length of participantList past them. */
export function participantRows(w: World): number {
  const L = w.lending;
  return w.arbitrage.n + w.nFunds + w.nExchanges + 2 * L.nMarkets + 3 * w.stables.n + 1;
}

/** USD balance of ledger holder h at step 0. */
function cashAtStart(w: World, h: number): number {
  return w.usdAtStart[h - w.fundHolderStart]!;
}

/** Unit holder u's units now at their asset's market price, USD. */
function atMarket(w: World, u: number): number {
  return w.units.qty[u]! * w.market[w.units.holderAsset[u]!]!;
}

/** Unit holder u's units at step 0 at their asset's initial price, USD. */
function atStart(w: World, u: number): number {
  return w.unitsAtStart[u]! * w.initialPrice[w.units.holderAsset[u]!]!;
}

/**
 * Writes the participant rows (codes `first` …, in participantList's order) into t from row `row`:
 * each participant's holdings at step 0 (contributedUsd) and now (valueUsd), accounts 0. Returns the
 * next free row.
 */
export function addParticipantRows(w: World, t: CohortTable, row: number, first: number): number {
  let r = row;
  let code = first;
  const put = (contributed: number, value: number) => {
    t.cohort[r] = code++;
    t.accounts[r] = 0;
    t.contributedUsd[r] = contributed;
    t.valueUsd[r] = value;
    r++;
  };
  const balance = w.ledger.balance;
  // An arbitrageur: its cash and its inventory at market.
  const A = w.arbitrage;
  for (let k = 0; k < A.n; k++) {
    const h = A.cashHolder[k]!;
    const u = A.unitHolder[k]!;
    put(cashAtStart(w, h) + atStart(w, u), balance[h]! + atMarket(w, u));
  }
  for (let f = 0; f < w.nFunds; f++) {
    const h = w.fundHolderStart + f;
    put(cashAtStart(w, h), balance[h]!);
  }
  // An exchange's reserve (a capped fund's overflow) and the fee pools of its markets.
  for (let x = 0; x < w.nExchanges; x++) {
    const h = w.reserveHolderStart + x;
    let start = cashAtStart(w, h);
    let now = balance[h]!;
    for (let m = 0; m < w.nMarkets; m++) {
      if (w.marketExchange[m] !== x) continue;
      start += cashAtStart(w, w.feePoolHolderStart + m);
      now += balance[w.feePoolHolderStart + m]!;
    }
    put(start, now);
  }
  const L = w.lending;
  // The lenders: each reserve's liquidity and the debt owed to it at the reserve's oracle, and the
  // recovery account's cash (what the safety module, a governance token's sale and depositor funds paid in).
  const owed = new Float64Array(L.nReserves);
  for (let b = 0; b < L.nBorrowers; b++) owed[L.borrowerDebtReserve[b]!] = owed[L.borrowerDebtReserve[b]!]! + L.borrowerDebtQty[b]!;
  const owedAtStart = (r: number) => L.supplyQty[r]! - w.unitsAtStart[L.liquidityHolder[r]!]!;
  for (let l = 0; l < L.nMarkets; l++) {
    const h = L.marketRecoveryHolder[l]!;
    let start = cashAtStart(w, h);
    let now = balance[h]!;
    for (let r = L.marketFirstReserve[l]!; r < L.marketFirstReserve[l + 1]!; r++) {
      const a = L.reserveAsset[r]!;
      start += (w.unitsAtStart[L.liquidityHolder[r]!]! + owedAtStart(r)) * w.initialPrice[a]!;
      now += (L.units.qty[L.liquidityHolder[r]!]! + owed[r]!) * w.oraclePrice[L.reserveOracle[r]!]!;
    }
    put(start, now);
  }
  for (let l = 0; l < L.nMarkets; l++) {
    let start = 0;
    let now = 0;
    for (let r = L.marketFirstReserve[l]!; r < L.marketFirstReserve[l + 1]!; r++) {
      const u = L.treasuryHolder[r]!;
      start += atStart(w, u);
      now += L.units.qty[u]! * w.oraclePrice[L.reserveOracle[r]!]!;
    }
    put(start, now);
  }
  const S = w.stables;
  for (let k = 0; k < S.n; k++) {
    put(cashAtStart(w, S.holderCash[k]!) + atStart(w, S.holderUnits[k]!), balance[S.holderCash[k]!]! + atMarket(w, S.holderUnits[k]!));
    put(
      cashAtStart(w, S.deskCash[k]!) + atStart(w, S.deskStableUnits[k]!) + atStart(w, S.deskCollateralUnits[k]!),
      balance[S.deskCash[k]!]! + atMarket(w, S.deskStableUnits[k]!) + atMarket(w, S.deskCollateralUnits[k]!),
    );
    put(
      cashAtStart(w, S.collateralHolderCash[k]!) + atStart(w, S.collateralHolderUnits[k]!),
      balance[S.collateralHolderCash[k]!]! + atMarket(w, S.collateralHolderUnits[k]!),
    );
  }
  // The outside market: its cash and units, less the units a manipulator took out with its loan (they
  // are the manipulator's, in its row at the same market price).
  let start = cashAtStart(w, L.externalCashHolder);
  let now = balance[L.externalCashHolder]!;
  for (let a = 0; a < w.nAssets; a++) {
    start += atStart(w, L.externalUnitHolder[a]!);
    now += atMarket(w, L.externalUnitHolder[a]!);
  }
  for (let b = 0; b < L.nBorrowers; b++) now -= takenOutUsd(w, b);
  put(start, now);
  return r;
}

/**
 * Holds a run's cohorts.arrow rows to the balance sheet (design decision 57): Σ over every row of
 * value − contributed must be Σ over every unit-ledger holder of its units now at the price its owner's
 * row values them at, less its units at step 0 at the initial price — what the prices did to the units
 * in existence. USD only moves between holders (the ledger checks that), and debts cancel between a
 * borrower and its lenders, so a holder left out of every row, counted in two, or valued at two prices
 * breaks it. Walks the unit ledger by holder kind (engine/holders.ts), not by row, so it is a second
 * account of the same holdings. Throws an InvariantError naming the gap.
 */
export function checkBalanceSheet(w: World, t: CohortTable): void {
  let pnl = 0;
  let scale = w.ledger.scaleUsd;
  for (let r = 0; r < t.rows; r++) {
    pnl += t.valueUsd[r]! - t.contributedUsd[r]!;
    scale += Math.abs(t.valueUsd[r]!) + Math.abs(t.contributedUsd[r]!);
  }
  let revalued = 0;
  const n = w.units.qty.length;
  if (n > 0) {
    const table = unitHolderTable(w);
    const K = UnitHolderKind;
    const L = w.lending;
    const firstColl = w.collHolder.length > 0 ? w.collHolder[0]! : 0;
    for (let u = 0; u < n; u++) {
      const i = table.index[u]!;
      let price: number;
      switch (table.kind[u]) {
        case K.borrowerCollateral:
          price = w.oraclePrice[L.reserveOracle[L.borrowerCollReserve[i]!]!]!;
          break;
        case K.liquidity:
        case K.treasury:
          price = w.oraclePrice[L.reserveOracle[i]!]!;
          break;
        case K.inventory:
          price = w.oraclePrice[L.reserveOracle[table.reserve[u]!]!]!;
          break;
        case K.perpCollateral:
          price = w.oraclePrice[w.collOracle[u - firstColl]!]!;
          break;
        default:
          price = w.market[w.units.holderAsset[u]!]!;
      }
      revalued += w.units.qty[u]! * price - atStart(w, u);
    }
  }
  const gap = pnl - revalued;
  if (!(Math.abs(gap) <= LEDGER_TOLERANCE * scale)) {
    throw new InvariantError(
      `cohorts.arrow's rows gained ${pnl} USD in all, the units in existence were revalued by ${revalued}: ${gap} USD is in no row or in two`,
      w.step,
      'balance sheet',
    );
  }
}
