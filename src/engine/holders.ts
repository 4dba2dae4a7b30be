// Who each ledger holder is, and which of them value may move between.
//
// The double-entry identity (engine/invariants.ts) holds by construction: a transfer of the wrong
// amount, or to the wrong holder, keeps Σ balances unchanged. The settlement pools are checked against
// the positions, but a payout from another exchange's fund, a wallet paying a settlement pool, or a
// liquidator's cash paying a trader would pass. The flow rule below closes that gap under --check: every
// USD transfer must join two holders of kinds that the model lets trade with each other, and where both
// belong to a venue, the same venue (an account and the settlement pool or other accounts of its own
// exchange; its exchange's reserve, over a capped fund; the fee pools of its own markets; the fund that
// backs it; its trader's wallet; a lending market's recovery and its safety module or a fund holding
// deposits in it). The outside market (the counterparty of every spot trade) trades with those who sell
// or buy spot: an account posting non-cash collateral, liquidators, borrowers, arbitrageurs, a stable's
// holders and desk, a lending market selling its governance token.
// Units have a rule of their own (mayMoveUnits): every unit transfer is a trade with the outside market,
// or a lending liquidation's seizure into its own reserve's treasury and its own market's liquidators.
//
// The rule is derived from the engine's transfer sites (the ledger's callers, listed in
// test/holders.test.ts's comment): a new kind of flow needs a line here, on purpose.
import { InvariantError } from '../experiment/errors.ts';
import { exchangeOf, walletOf, type World } from '../model/world.ts';
import { collateralHolder } from '../model/lending.ts';
import { fundOf } from './phases/settleLosses.ts';
import { hasCollateral, positionIn } from './accounts.ts';

/** Kinds of USD ledger holders. */
export const HolderKind = {
  account: 0,
  wallet: 1,
  fund: 2,
  pool: 3,
  reserve: 4,
  feePool: 5,
  liquidatorCash: 6,
  borrowerWallet: 7,
  recovery: 8,
  outside: 9,
  arbitrageur: 10,
  stableHolders: 11,
  stableDesk: 12,
  stableCollateralHolders: 13,
} as const;

/** Every USD holder's kind and its index within the kind (account, wallet, fund, exchange, market, liquidator, …). */
export interface HolderTable {
  readonly kind: Uint8Array;
  readonly index: Int32Array;
}

/** Setter of one holder's kind and index within the kind. */
type SetKind = (h: number, kind: number, index: number) => void;

/** A table of n holders filled by `fill`; throws naming the first holder it left without a kind. */
function classify(n: number, what: string, fill: (set: SetKind) => void): HolderTable {
  const kind = new Uint8Array(n).fill(255);
  const index = new Int32Array(n).fill(-1);
  fill((h, k, i) => {
    kind[h] = k;
    index[h] = i;
  });
  const missing = kind.indexOf(255);
  if (missing >= 0) throw new Error(`${what} ${missing} of ${n} has no kind: the world's layout and engine/holders.ts disagree`);
  return { kind, index };
}

/** Classifies every holder of w's USD ledger from the world's own layout arrays; throws if one is left out. */
export function holderTable(w: World): HolderTable {
  return classify(w.ledger.balance.length, 'ledger holder', (set) => {
    for (let a = 0; a < w.nAccounts; a++) set(a, HolderKind.account, a);
    for (let h = w.walletHolderStart; h < w.fundHolderStart; h++) set(h, HolderKind.wallet, h - w.walletHolderStart);
    for (let f = 0; f < w.nFunds; f++) set(w.fundHolderStart + f, HolderKind.fund, f);
    for (let x = 0; x < w.nExchanges; x++) {
      set(w.poolHolderStart + x, HolderKind.pool, x);
      set(w.reserveHolderStart + x, HolderKind.reserve, x);
    }
    for (let m = 0; m < w.nMarkets; m++) set(w.feePoolHolderStart + m, HolderKind.feePool, m);
    const L = w.lending;
    L.liquidatorCashHolder.forEach((h, k) => set(h, HolderKind.liquidatorCash, k));
    L.borrowerWallet.forEach((h, b) => set(h, HolderKind.borrowerWallet, b));
    L.marketRecoveryHolder.forEach((h, l) => set(h, HolderKind.recovery, l));
    set(L.externalCashHolder, HolderKind.outside, 0);
    w.arbitrage.cashHolder.forEach((h, k) => set(h, HolderKind.arbitrageur, k));
    const S = w.stables;
    for (let k = 0; k < S.n; k++) {
      set(S.holderCash[k]!, HolderKind.stableHolders, k);
      set(S.deskCash[k]!, HolderKind.stableDesk, k);
      set(S.collateralHolderCash[k]!, HolderKind.stableCollateralHolders, k);
    }
  });
}

/** Lending market l's id. */
export function lendingMarketName(w: World, l: number): string {
  return w.protocolIds[w.nExchanges + l]!;
}

/** "lend's ETH reserve": lending reserve r by its market and asset. */
export function reserveName(w: World, r: number): string {
  return `${lendingMarketName(w, w.lending.reserveMarket[r]!)}'s ${w.assetSymbols[w.lending.reserveAsset[r]!]} reserve`;
}

/** A role name of the kind's i-th holder: "the insurance fund ins-a", "account 12 (a liquidator of venue-a)". */
function nameOf(w: World, kind: number, i: number): string {
  const L = w.lending;
  const market = (m: number) => `${w.exchangeIds[w.marketExchange[m]!]} ${w.assetSymbols[w.marketAsset[m]!]}`;
  const stable = (k: number) => w.assetSymbols[w.stables.asset[k]!];
  switch (kind) {
    case HolderKind.account:
      return `account ${i} (${ROLE_NAMES[w.cohortRole[w.accountCohort[i]!]!] ?? 'a trader'} of ${w.exchangeIds[exchangeOf(w, i)]})`;
    case HolderKind.wallet:
      return `wallet ${i}`;
    case HolderKind.fund:
      return `the insurance fund ${w.fundIds[i]}`;
    case HolderKind.pool:
      return `the settlement pool of ${w.exchangeIds[i]}`;
    case HolderKind.reserve:
      return `the reserve of ${w.exchangeIds[i]}`;
    case HolderKind.feePool:
      return `the fee pool of market ${i} (${market(i)})`;
    case HolderKind.liquidatorCash:
      return `the cash of liquidator ${i} of ${lendingMarketName(w, L.liquidatorMarket[i]!)}`;
    case HolderKind.borrowerWallet:
      return `the wallet of borrower ${i} of ${lendingMarketName(w, L.borrowerMarket[i]!)}`;
    case HolderKind.recovery:
      return `the recovery account of ${lendingMarketName(w, i)}`;
    case HolderKind.outside:
      return `the outside market's cash`;
    case HolderKind.arbitrageur:
      return `the cash of arbitrageur ${i}`;
    case HolderKind.stableHolders:
      return `the cash of ${stable(i)}'s holders`;
    case HolderKind.stableDesk:
      return `the cash of ${stable(i)}'s swap desk`;
    default:
      return `the cash of the holders of ${stable(i)}'s collateral`;
  }
}

const ROLE_NAMES = ['a directional trader', 'a market maker', 'a liquidator', 'the backstop vault'];

/** "ledger holder 7, the insurance fund ins-a": holder h of w's USD ledger by index and role. */
export function holderName(w: World, h: number, table: HolderTable = holderTable(w)): string {
  if (!(h >= 0 && h < table.kind.length)) return `ledger holder ${h} (there are ${table.kind.length})`;
  return `ledger holder ${h}, ${nameOf(w, table.kind[h]!, table.index[h]!)}`;
}

/**
 * Whether value may move between holders h1 and h2 (either way: transfers are signed): see the
 * file's comment.
 */
export function mayTransfer(w: World, table: HolderTable, h1: number, h2: number): boolean {
  if (table.kind[h1]! > table.kind[h2]!) {
    const h = h1;
    h1 = h2;
    h2 = h;
  }
  const k1 = table.kind[h1]!;
  const k2 = table.kind[h2]!;
  const i1 = table.index[h1]!;
  const i2 = table.index[h2]!;
  const K = HolderKind;
  const L = w.lending;
  if (k1 === K.account) {
    const x = exchangeOf(w, i1);
    switch (k2) {
      case K.account:
        return exchangeOf(w, i2) === x; // an ADL haircut, a backstop vault's takeover
      case K.wallet:
        return walletOf(w, i1) === w.walletHolderStart + i2; // a margin top-up
      case K.fund:
        return fundOf(w, i1) === i2; // a liquidation penalty paid in, a shortfall paid out
      case K.pool:
        return i2 === x; // realized PnL; socialized loss
      case K.reserve:
        return i2 === x && w.fundCapUsd[fundOf(w, i1)]! < Infinity; // a penalty over the fund's cap
      case K.feePool:
        return w.marketHasFeePool[i2] === 1 && positionIn(w, i1, i2) >= 0; // Drift's second line: a market of the account's
      case K.outside:
        return hasCollateral(w, i1); // its non-cash collateral sold
      default:
        return false;
    }
  }
  if (k1 === K.fund && k2 === K.recovery) {
    if (L.marketFund[i2] === i1) return true; // the safety module covers a deficit
    for (let e = 0; e < L.nExposures; e++) {
      // a fund's loss on its deposits in the market
      if (L.exposureFund[e] === i1 && L.reserveMarket[L.exposureReserve[e]!] === i2) return true;
    }
    return false;
  }
  // A lending market's recovery buys from the outside market only its governance token's sale.
  if (k1 === K.recovery && k2 === K.outside) return L.governanceAsset[i1]! >= 0;
  // Every other spot buyer and seller trades with the outside market, and with no one else.
  if (k2 === K.outside) return k1 >= K.liquidatorCash && k1 < K.outside;
  if (k1 === K.outside) return k2 > K.outside;
  return false;
}

/** A flow rule for w: throws an InvariantError naming both holders when value moves where mayTransfer says it may not. */
export function flowRule(w: World): (from: number, to: number) => void {
  return ruleOf(w, holderTable(w), mayTransfer, holderName, 'a transfer', 'value does not', 'ledger.flow');
}

/**
 * The check a ledger calls before every transfer: `may` over the holders' table, else an InvariantError
 * that names both holders (`name`) and says what did not move.
 */
function ruleOf<T extends HolderTable>(
  w: World,
  table: T,
  may: (w: World, table: T, h1: number, h2: number) => boolean,
  name: (w: World, h: number, table: T) => string,
  what: string,
  verb: string,
  where: string,
): (from: number, to: number) => void {
  return (from, to) => {
    if (may(w, table, from, to)) return;
    throw new InvariantError(`${what} from ${name(w, from, table)}, to ${name(w, to, table)}: ${verb} move between these two`, w.step, where);
  };
}

/** Kinds of unit-ledger holders. */
export const UnitHolderKind = {
  borrowerCollateral: 0,
  liquidity: 1,
  treasury: 2,
  inventory: 3,
  outside: 4,
  perpCollateral: 5,
  arbitrageur: 6,
  stableHolders: 7,
  stableDesk: 8,
  stableDeskCollateral: 9,
  stableCollateralHolders: 10,
} as const;

/**
 * Every unit holder's kind and index within the kind (borrower, reserve, liquidator, asset, account,
 * arbitrageur, stable); `reserve` is the lending reserve a liquidator's inventory holder belongs to
 * (−1 for the other kinds).
 */
export interface UnitHolderTable extends HolderTable {
  readonly reserve: Int32Array;
}

/** Classifies every holder of w's unit ledger from the world's layout arrays; throws if one is left out. */
export function unitHolderTable(w: World): UnitHolderTable {
  const n = w.units.qty.length;
  const reserve = new Int32Array(n).fill(-1);
  const K = UnitHolderKind;
  const L = w.lending;
  const table = classify(n, 'unit holder', (set) => {
    for (let b = 0; b < L.nBorrowers; b++) set(collateralHolder(b), K.borrowerCollateral, b);
    for (let r = 0; r < L.nReserves; r++) {
      set(L.liquidityHolder[r]!, K.liquidity, r);
      set(L.treasuryHolder[r]!, K.treasury, r);
    }
    for (let k = 0; k < L.liquidatorMarket.length; k++) {
      const l = L.liquidatorMarket[k]!;
      for (let r = L.marketFirstReserve[l]!; r < L.marketFirstReserve[l + 1]!; r++) {
        const h = L.liquidatorInventoryStart[k]! + r - L.marketFirstReserve[l]!;
        set(h, K.inventory, k);
        reserve[h] = r;
      }
    }
    for (let a = 0; a < w.nAssets; a++) set(L.externalUnitHolder[a]!, K.outside, a);
    for (let a = 0; a < w.nAccounts && w.collStart.length > 0; a++) {
      for (let s = w.collStart[a]!; s < w.collStart[a + 1]!; s++) set(w.collHolder[s]!, K.perpCollateral, a);
    }
    w.arbitrage.unitHolder.forEach((h, k) => set(h, K.arbitrageur, k));
    const S = w.stables;
    for (let k = 0; k < S.n; k++) {
      set(S.holderUnits[k]!, K.stableHolders, k);
      set(S.deskStableUnits[k]!, K.stableDesk, k);
      set(S.deskCollateralUnits[k]!, K.stableDeskCollateral, k);
      set(S.collateralHolderUnits[k]!, K.stableCollateralHolders, k);
    }
  });
  return { ...table, reserve };
}

/** A role name of unit holder h (kind and index from the table). */
function unitNameOf(w: World, t: UnitHolderTable, h: number): string {
  const L = w.lending;
  const K = UnitHolderKind;
  const i = t.index[h]!;
  const stable = () => w.assetSymbols[w.stables.asset[i]!];
  const collateral = () => w.assetSymbols[w.stables.collateral[i]!];
  switch (t.kind[h]) {
    case K.borrowerCollateral:
      return `the collateral of borrower ${i} of ${lendingMarketName(w, L.borrowerMarket[i]!)}`;
    case K.liquidity:
      return `the liquidity of ${reserveName(w, i)}`;
    case K.treasury:
      return `the treasury of ${reserveName(w, i)}`;
    case K.inventory:
      return `the inventory of liquidator ${i} of ${lendingMarketName(w, L.liquidatorMarket[i]!)} in ${reserveName(w, t.reserve[h]!)}`;
    case K.outside:
      return `the outside market's ${w.assetSymbols[i]}`;
    case K.perpCollateral:
      return `the ${w.assetSymbols[w.units.holderAsset[h]!]} collateral of account ${i}`;
    case K.arbitrageur:
      return `the inventory of arbitrageur ${i}`;
    case K.stableHolders:
      return `the ${stable()} held by its holders`;
    case K.stableDesk:
      return `the ${stable()} held by its swap desk`;
    case K.stableDeskCollateral:
      return `the ${collateral()} held by ${stable()}'s swap desk`;
    default:
      return `the ${collateral()} held by the holders of ${stable()}'s collateral`;
  }
}

/** "unit holder 46, the liquidity of lend's ETH reserve": holder h of w's unit ledger by index and role. */
export function unitHolderName(w: World, h: number, table: UnitHolderTable = unitHolderTable(w)): string {
  const n = table.kind.length;
  if (!(h >= 0 && h < n)) return `unit holder ${h} (there are ${n})`;
  return `unit holder ${h}, ${unitNameOf(w, table, h)}`;
}

/**
 * Whether units may move between unit holders h1 and h2 (either way). Every trade of units is with the
 * outside market, except a lending liquidation's seizure: a borrower's collateral goes to the treasury
 * of its own reserve (the protocol fee and what is left of a written-off position) and to the
 * inventory, in that reserve, of a liquidator of its own market. A treasury only receives.
 */
export function mayMoveUnits(w: World, t: UnitHolderTable, h1: number, h2: number): boolean {
  const K = UnitHolderKind;
  const L = w.lending;
  if (t.kind[h1]! > t.kind[h2]!) {
    const h = h1;
    h1 = h2;
    h2 = h;
  }
  const k1 = t.kind[h1]!;
  const k2 = t.kind[h2]!;
  if (k1 === K.outside || k2 === K.outside) {
    const other = k1 === K.outside ? k2 : k1;
    return other !== K.outside && other !== K.treasury;
  }
  if (k1 === K.borrowerCollateral && (k2 === K.treasury || k2 === K.inventory)) {
    const b = t.index[h1]!;
    const r = k2 === K.treasury ? t.index[h2]! : t.reserve[h2]!;
    if (r !== L.borrowerCollReserve[b]) return false;
    return k2 === K.treasury || L.liquidatorMarket[t.index[h2]!] === L.borrowerMarket[b];
  }
  return false;
}

/** The unit ledger's flow rule for w: throws an InvariantError naming both holders when mayMoveUnits says no. */
export function unitFlowRule(w: World): (from: number, to: number) => void {
  return ruleOf(w, unitHolderTable(w), mayMoveUnits, unitHolderName, 'a unit transfer', 'units do not', 'units.flow');
}

/**
 * Has both ledgers name their holders by role in their errors and, with `check` (--check), hold every
 * transfer to their flow rules (none without it).
 */
export function installHolderChecks(w: World, check: boolean): void {
  w.ledger.describeHolder = (h) => holderName(w, h);
  w.units.describeHolder = (h) => unitHolderName(w, h);
  w.ledger.flowRule = check ? flowRule(w) : null;
  w.units.flowRule = check ? unitFlowRule(w) : null;
}
