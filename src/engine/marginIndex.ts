// Event-driven margin checks: which accounts a step must look at.
//
// Checking every account every step costs O(accounts) however quiet the market. An account can only
// cross its margin-call level or maintenance when something it depends on changes: its own balance
// or positions (a fill, a transfer), the price of a market it holds, that market's funding index, or
// its margin rates. Each account is therefore filed, when it is marked, under how far prices must
// move before it could need looking at; a step marks only the accounts whose band a price left, those
// touched since their last mark, and those already near the line. The rest provably stay above it, so
// the engine decides exactly what checking every account would decide (test/marginIndex.test.ts runs
// both on random scenarios and compares every output byte; `--check` verifies the guarantee for every
// skipped account at every mark).
//
// The guarantee. With c the account's threshold multiple (its cohort's call level for a directional
// account, at least 1; 1 otherwise), g = E − c·M is what must stay ≥ 0. Bands are kept in each
// market's funding-adjusted price X = P − F (P the mark, F the cumulative funding index), in which a
// position's equity is exactly linear: q·P − q·(F − F₀) moves by q·ΔX. Maintenance depends on P alone;
// it is convex, increasing and piecewise linear in each position's notional with slope at most μ
// (k × the highest tier rate the band lets the notional reach; under portfolio margin the largest grid
// or tail move or the net-delta fraction, which bound how fast the grid's worst loss grows with the
// deltas). P = X + F moves by ΔX + ΔF, and until the account's funding allowance runs out |ΔF| ≤ B
// (below), so c·ΔM ≤ c·μ·|q|·(|ΔX| + B) for a rise of the notional and ≤ c·μ·|q|·B when X moves the
// other way. Let H = g − A − S at the mark, with A = c·μ·Σ|q|·B the funding reserve and S a rounding
// allowance.
//  - One open position q at X₀ (the liquidation-price case). A fall in X lowers a long's equity by
//    q·|ΔX| (and can raise c·M by at most its share of A), so g stays positive above L = X₀ − H/q; a
//    rise adds q·ΔX to equity and at most c·μ·q·ΔX to c·M, harmless unless c·μ > 1. For a short the
//    mirror image: a rise costs at most |q|·ΔX·(1 + c·μ), so the band's top is X₀ + H/(|q|(1 + c·μ));
//    a fall only helps.
//  - Several positions (cross margin, several assets): maintenance grows by at most μ·Σ|q|·|ΔX| + the
//    funding term whichever way each X moves, so a leg that moves against its holder by τ·X₀ costs g at
//    most (1 + c·μ)·|q|·τ·X₀, and one that moves its holder's way gains |q|·|ΔX| against at most
//    c·μ·|q|·|ΔX|: nothing when c·μ ≤ 1. Hence τ = H / (N·(1 + c·μ)) (N = Σ|q|·X₀) on each leg's adverse
//    side (both sides when c·μ > 1). Conservative: it assumes every leg moves against the account at
//    once, which is the failure of correlation this simulator is about.
//  - Pair trades (exactly two open positions, long one market and short another, on a tiered venue,
//    c·μ ≤ 1) are filed on the ratio of their two prices and on the short leg (filePair) when that
//    band is wider: legs that move together, which cost a hedged pair nothing, leave the ratio where
//    it was. Each pair of markets gets a ratio grid of its own (at most MAX_PAIRS of them).
//  - Bands never let a notional more than double (τ ≤ 1; upper bounds at most X₀ + P₀), which is
//    what bounds the tiers μ is taken over.
//  - Funding: a global clock G adds Σ over markets of |ΔF| / (the market's reference price) at every
//    accrual, so |F(t) − F(t₀)| ≤ (G(t) − G(t₀)) × reference price in every market. Each account gets
//    an allowance β (B = β × reference price per unit) sized so that its reserve A is a tenth of its
//    headroom (at most 100% of the price), and is looked at again once G has advanced by β since its
//    mark: far-from-the-line accounts get long allowances, near ones short.
//  - A change of a market's margin multiplier (dynamic margin, open-interest surcharge) marks every
//    account in it again: its bands were computed with the old rates.
//  - Accounts with options (repriced with implied volatility, which moves without the underlying) or
//    non-cash collateral are marked at every step.
//  - Accounts under their margin-call level but above maintenance ("callers") are marked at every
//    step's margin-call stage (they get a call each step) and are filed with their maintenance band
//    (c = 1) for the liquidation rounds, which only need the accounts that may be below maintenance.
// A band is filed as two entries per position — the bucket of its lower and of its upper bound on a
// geometric price grid of the market (KEY_SHIFT) — in doubly linked lists, so filing and unfiling
// are O(1) and a step visits only the buckets its price moved through.
import { Role, roleOf, Status, type World } from '../model/world.ts';
import { InvariantError } from '../experiment/errors.ts';
import { fillMarketTable, hasCollateral, isPlainAccount, MARKED, storeMarks, storePlainMarks, TABLE_STRIDE } from './accounts.ts';
import { hasOptionSlots } from './optionBook.ts';
import { sortAscending } from './sortPrefix.ts';
import { grown, listStart } from '../model/typedArrays.ts';
import { IN_CALL_LIST, LISTED, TOUCHED } from './ledger.ts';

/**
 * A price's bucket key: the high 32 bits of its IEEE-754 double shifted right by KEY_SHIFT, i.e. its
 * binary exponent and the top 20 − KEY_SHIFT = 9 bits of its mantissa. For positive doubles the bits
 * read as an integer grow with the value, so the key is a monotone step function of the price with
 * 512 steps per octave (each 0.1–0.2% wide) — what the index needs: a bound and a price compare the
 * same way as their buckets, whatever the grid (Math.log gave a grid of even width but cost ~20 ns
 * a filing, 4–5% of a crash's time).
 */
const KEY_SHIFT = 11;
const KEY_F64 = new Float64Array(1);
const KEY_HI = new Int32Array(KEY_F64.buffer, new Uint8Array(Uint16Array.of(1).buffer)[0] === 1 ? 4 : 0, 1);
/**
 * Buckets on each side of the reference price: 6144 / 512 = 12 octaves, prices from 1/4096 to 4096 × it
 * (the Math.log grid spanned 1/2981 to 2981 ×); a price beyond that is in the edge bucket, which then
 * holds every bound past it.
 */
const HALF_RANGE = 6144;
const N_BUCKETS = 2 * HALF_RANGE + 1;
/** Share of an account's headroom reserved for funding's effect on its maintenance. */
export const FUNDING_SHARE = 0.1;
/** Largest funding allowance β, as a share of the reference price. */
export const FUNDING_ALLOWANCE_MAX = 1;
/** The funding clock's buckets: 1/1024 of the reference price wide, 2048 of them (a 2× horizon > β max). */
const CLOCK_INV_BUCKET = 1024;
const CLOCK_BUCKETS = 2048;
/** Relative allowance for rounding in the marks (storeMarks sums terms of this scale). */
const ROUNDING = 1e-9;
const NONE = -1;
/** A position's lowBucket at or above this is a pair's ratio entry, in bucket lowBucket − PAIR_FLAG. */
const PAIR_FLAG = 16384;
/** Pairs of markets with a ratio grid of their own (N_BUCKETS heads each, 49 KB); later pairs' accounts are filed leg by leg. */
export const MAX_PAIRS = 64;

/** How margin checks find the accounts to look at (SimulateOptions.marginChecks). */
export type MarginChecks = 'event' | 'every-step';

export class MarginIndex {
  /** False: every active account is marked and checked at every mark (the reference behaviour). */
  readonly enabled: boolean;
  /** True once every account has been marked and filed (the first mark of a run does all of them). */
  primed: boolean;
  /** Check the guarantee for every skipped account at every mark (--check). */
  verify: boolean;
  /** Bucket key of each market's reference (funding-adjusted) price: the middle bucket of its grid. */
  readonly refKey: Int32Array;
  /** List heads per market × bucket (NONE when empty), lower bounds and upper bounds. */
  readonly lowHead: Int32Array;
  readonly highHead: Int32Array;
  /** Per market: no lower bound is filed above lowTop; no upper bound below highBottom. */
  readonly lowTop: Int32Array;
  readonly highBottom: Int32Array;
  /** Per position: its entries' buckets (NONE when not filed) and list links. */
  readonly lowBucket: Int16Array;
  readonly highBucket: Int16Array;
  readonly lowNext: Int32Array;
  readonly lowPrev: Int32Array;
  readonly highNext: Int32Array;
  readonly highPrev: Int32Array;
  /**
   * Ratio grids of pairs of markets (long leg's market i, short leg's j), made as pair accounts are
   * filed: the pair id of i × nMarkets + j (NONE until made), each pair's markets, the bucket key of
   * its reference ratio X_i / X_j, its list heads (N_BUCKETS per pair, grown as pairs are made) and
   * the highest bucket holding a lower bound.
   */
  readonly pairOf: Int32Array;
  readonly pairLong: Int32Array;
  readonly pairShort: Int32Array;
  readonly pairRefKey: Int32Array;
  readonly pairLowTop: Int32Array;
  pairHead: Int32Array;
  nPairs: number;
  /** Per market: the margin multiplier the filed bands assume. */
  readonly multiplierAtFiling: Float64Array;
  /** Per market: its funding-adjusted price X at the mark in progress (set as the mark starts). */
  readonly adjusted: Float64Array;
  /** The mark in progress's market table (fillMarketTable), TABLE_STRIDE doubles per market. */
  readonly marketTable: Float64Array;
  /** Per market: its reference price (the funding clock's unit). */
  readonly refPrice: Float64Array;
  /**
   * The funding clock G (in a one-element array: V8 keeps this field boxed as a number of any type, so
   * that every accrual stored a fresh heap number) and the last of its buckets whose accounts were
   * looked at.
   */
  readonly fundingClock: Float64Array;
  clockDone: number;
  /** Per clock bucket (modulo CLOCK_BUCKETS): list heads; per account: its bucket (NONE, or < 2048: 16 bits) and links. */
  readonly clockHead: Int32Array;
  readonly clockSlot: Int16Array;
  readonly clockNext: Int32Array;
  readonly clockPrev: Int32Array;
  /** Accounts below or within rounding of maintenance: marked at every mark until they are clear (grown on demand). */
  hotList: Int32Array;
  nHot: number;
  /** Callers (under the margin-call level, above maintenance): marked at every margin-call stage (grown on demand). */
  callList: Int32Array;
  nCall: number;
  /** Accounts marked at every mark (options, non-cash collateral). */
  readonly always: Int32Array;
  /**
   * The ledger's flags (Ledger.flags), whose LISTED bit marks an account already listed by the mark in
   * progress (dedupes the candidate list; cleared once it is made) and IN_CALL_LIST one in callList.
   */
  readonly flags: Uint8Array;
  /** Account marks done by the index (a measure of the work it saved: compare with accounts × marks). */
  accountMarks: number;
  marks: number;

  constructor(w: World, enabled: boolean) {
    const nM = w.nMarkets;
    const nP = enabled ? w.nPositions : 0;
    const nA = w.nAccounts;
    this.enabled = enabled;
    this.primed = false;
    this.verify = false;
    this.refKey = new Int32Array(nM);
    this.refPrice = new Float64Array(nM);
    for (let m = 0; m < nM; m++) {
      const price = w.oraclePrice[w.marketOracle[m]!]!;
      this.refKey[m] = priceKey(price);
      // exp(ln P): the unit the funding clock has always used (it only decides when accounts are looked at).
      this.refPrice[m] = Math.exp(Math.log(price));
    }
    this.lowHead = new Int32Array(enabled ? nM * N_BUCKETS : 0).fill(NONE);
    this.highHead = new Int32Array(enabled ? nM * N_BUCKETS : 0).fill(NONE);
    this.lowTop = new Int32Array(nM).fill(NONE);
    this.highBottom = new Int32Array(nM).fill(N_BUCKETS);
    this.lowBucket = new Int16Array(nP).fill(NONE);
    this.highBucket = new Int16Array(nP).fill(NONE);
    this.lowNext = new Int32Array(nP);
    this.lowPrev = new Int32Array(nP);
    this.highNext = new Int32Array(nP);
    this.highPrev = new Int32Array(nP);
    this.pairOf = new Int32Array(enabled ? nM * nM : 0).fill(NONE);
    this.pairLong = new Int32Array(enabled ? MAX_PAIRS : 0);
    this.pairShort = new Int32Array(enabled ? MAX_PAIRS : 0);
    this.pairRefKey = new Int32Array(enabled ? MAX_PAIRS : 0);
    this.pairLowTop = new Int32Array(enabled ? MAX_PAIRS : 0).fill(NONE);
    this.pairHead = new Int32Array(0);
    this.nPairs = 0;
    this.multiplierAtFiling = new Float64Array(nM);
    this.adjusted = new Float64Array(nM);
    this.marketTable = new Float64Array(nM * TABLE_STRIDE);
    this.fundingClock = new Float64Array(1);
    this.clockDone = 0;
    this.clockHead = new Int32Array(enabled ? CLOCK_BUCKETS : 0).fill(NONE);
    this.clockSlot = new Int16Array(enabled ? nA : 0).fill(NONE);
    this.clockNext = new Int32Array(enabled ? nA : 0);
    this.clockPrev = new Int32Array(enabled ? nA : 0);
    this.hotList = new Int32Array(enabled ? listStart(nA) : 0);
    this.nHot = 0;
    this.callList = new Int32Array(enabled ? listStart(nA) : 0);
    this.nCall = 0;
    const always: number[] = [];
    if (enabled) for (let a = 0; a < nA; a++) if (isAlways(w, a)) always.push(a);
    this.always = Int32Array.from(always);
    this.flags = w.ledger.flags;
    this.accountMarks = 0;
    this.marks = 0;
  }
}

/** The bucket key of a positive price (KEY_SHIFT). */
export function priceKey(x: number): number {
  KEY_F64[0] = x;
  return KEY_HI[0]! >> KEY_SHIFT;
}

/** Bucket of funding-adjusted price `x` on market m's grid, clamped to the grid (x ≤ 0: the lowest). */
function bucketOf(ix: MarginIndex, m: number, x: number): number {
  // Its own body rather than a call of gridBucket: a double passed to a call V8 does not inline is boxed.
  if (!(x > 0)) return 0;
  const b = priceKey(x) - ix.refKey[m]! + HALF_RANGE;
  return b < 0 ? 0 : b >= N_BUCKETS ? N_BUCKETS - 1 : b;
}

/** Bucket of `x` on the grid centred on key `ref`, clamped to the grid (x ≤ 0 or NaN: the lowest). */
function gridBucket(ref: number, x: number): number {
  if (!(x > 0)) return 0;
  const b = priceKey(x) - ref + HALF_RANGE;
  return b < 0 ? 0 : b >= N_BUCKETS ? N_BUCKETS - 1 : b;
}

/** Funding-adjusted price of market m: mark − cumulative funding index (equity is linear in it). */
function adjustedPrice(w: World, m: number): number {
  return w.oraclePrice[w.marketOracle[m]!]! - w.fundingIndex[m]!;
}

/**
 * The bound fileLow, fileHigh and fileClock file, set by the caller just before. A double passed as
 * an argument to a call that V8 does not inline becomes a fresh heap number, and refile is too large
 * for V8 to inline its filing calls: their boxed bounds were half of what a step allocated at 10^5
 * accounts.
 */
const BOUND = new Float64Array(1);

/**
 * The threshold multiple thresholdMultiple leaves, and the notional in and rate out of marginalRate:
 * slots for the same reason. V8 inlines them into refile only in some of its compilations, and each
 * call it did not inline returned a fresh heap number (a third of a calm step's allocation at 10^6
 * accounts).
 */
const MULTIPLE = new Float64Array(1);
const RATE = new Float64Array(1);

/** Role and status codes, read once (through the module binding they cost a call each time). */
let DIRECTIONAL = -1;
let ACTIVE = -1;

/**
 * Marks the accounts a mark must look at and lists them, in account order, in
 * w.candidates[0 … w.nCandidates): every active account without the index; with it, those whose
 * band a price left, those touched (ledger or positions) since their last mark, those near their line,
 * and those always marked. Every other active account is certain to be above its maintenance
 * requirement at current prices, and, when `forCalls` (the margin-call stage), above its margin-call
 * level too; between calls (the liquidation rounds) callers are only looked at near maintenance.
 */
export function markCandidates(w: World, forCalls = true): void {
  if (ACTIVE < 0) {
    ACTIVE = Status.active;
    DIRECTIONAL = Role.directional;
  }
  const ix = w.marginIndex;
  ix.marks++;
  if (!ix.enabled) {
    clearTouched(w);
    markEveryAccount(w);
    return;
  }
  // Prices and funding do not move during a mark: each market's X once, read by every filing, and
  // the market table the marks read.
  for (let m = 0; m < w.nMarkets; m++) ix.adjusted[m] = adjustedPrice(w, m);
  fillMarketTable(w, ix.marketTable);
  // Small functions, each with steady type feedback: one function for all of this deoptimized hundreds
  // of times a run on branches taken rarely.
  const n = ix.primed ? listCandidates(w, forCalls) : listEveryAccount(w);
  clearTouched(w);
  refileCandidates(w, n);
  if (ix.verify) verifySkipped(w, forCalls);
}

function clearTouched(w: World): void {
  const touched = w.ledger.touchedList;
  const flags = w.ledger.flags;
  for (let i = 0; i < w.ledger.nTouched; i++) flags[touched[i]!] = flags[touched[i]!]! & ~TOUCHED;
  w.ledger.nTouched = 0;
}

/**
 * Without the index: every active account marked; listed, those that may be at or under their margin-call
 * level or maintenance (every active one in a world with portfolio margin, options or collateral).
 */
function markEveryAccount(w: World): void {
  const status = w.accountStatus;
  const table = w.marginIndex.marketTable;
  fillMarketTable(w, table);
  const allPlain = !w.optionsListed && !w.collateralListed && w.exchangePortfolio.indexOf(1) < 0;
  let n = 0;
  let marked = 0;
  if (allPlain) {
    // One pass marks them all and stores and lists those that may be at or under their line (the
    // kernel of the benchmark).
    n = storePlainMarks(w, table, 0, w.nAccounts, w.candidates, true);
    marked = MARKED[0]!;
  } else {
    for (let a = 0; a < w.nAccounts; a++) {
      if (status[a] === ACTIVE) {
        if (isPlainAccount(w, a)) storePlainMarks(w, table, a, a + 1);
        else storeMarks(w, a);
        w.candidates[n++] = a;
      }
    }
    marked = n;
  }
  w.nCandidates = n;
  w.marginIndex.accountMarks += marked;
}

/** The first mark of a run files every account. */
function listEveryAccount(w: World): number {
  const ix = w.marginIndex;
  ix.primed = true;
  for (let a = 0; a < w.nAccounts; a++) w.candidates[a] = a;
  for (let m = 0; m < w.nMarkets; m++) ix.multiplierAtFiling[m] = w.marketMarginMultiplier[m]!;
  return w.nAccounts;
}

/** Appends list[0 … count) to the candidates (each account once per mark); returns the new count. */
function addAll(w: World, list: Int32Array, count: number, n: number): number {
  const flags = w.marginIndex.flags;
  const cand = w.candidates;
  for (let i = 0; i < count; i++) {
    const a = list[i]!;
    const f = flags[a]!;
    if ((f & LISTED) === 0) {
      flags[a] = f | LISTED;
      cand[n++] = a;
    }
  }
  return n;
}

/** The accounts this mark must look at, sorted; returns their count. */
function listCandidates(w: World, forCalls: boolean): number {
  const ix = w.marginIndex;
  let n = addAll(w, ix.hotList, ix.nHot, 0);
  ix.nHot = 0;
  if (forCalls) {
    n = addAll(w, ix.callList, ix.nCall, n);
    for (let i = 0; i < ix.nCall; i++) ix.flags[ix.callList[i]!] = ix.flags[ix.callList[i]!]! & ~IN_CALL_LIST;
    ix.nCall = 0;
  }
  n = addAll(w, ix.always, ix.always.length, n);
  n = addAll(w, w.ledger.touchedList, w.ledger.nTouched, n);
  for (let m = 0; m < w.nMarkets; m++) n = marketCandidates(w, m, n);
  for (let k = 0; k < ix.nPairs; k++) n = pairCandidates(w, k, n);
  n = clockCandidates(w, n);
  const cand = w.candidates;
  const flags = ix.flags;
  for (let i = 0; i < n; i++) flags[cand[i]!] = flags[cand[i]!]! & ~LISTED;
  sortAscending(cand, n);
  return n;
}

/** Marks and re-files candidates[0 … n), keeping the active ones in the list. */
function refileCandidates(w: World, n: number): void {
  const kept = refileEach(w, n);
  w.nCandidates = kept;
  w.marginIndex.accountMarks += kept;
}

/**
 * The loop of refileCandidates; returns how many it kept. A function of its own, with nothing after
 * the loop: the first mark re-files every account, V8 compiles the loop on the stack (OSR) before the
 * code after it has ever run, and that compiled loop, reused at every later long mark, gave up
 * ("insufficient type feedback") on the code after the loop each time: 1,375 deoptimizations in three
 * 10^4-account runs.
 */
function refileEach(w: World, n: number): number {
  const cand = w.candidates;
  let kept = 0;
  for (let i = 0; i < n; i++) {
    const a = cand[i]!;
    if (refile(w, a)) cand[kept++] = a;
  }
  return kept;
}

/** Adds market m's accounts that must be looked at to the candidate list; returns the new count. */
function marketCandidates(w: World, m: number, n: number): number {
  const ix = w.marginIndex;
  const flags = ix.flags;
  const cand = w.candidates;
  if (w.marketMarginMultiplier[m] !== ix.multiplierAtFiling[m]) {
    // Every band in the market assumed the old rates: look at all of its accounts.
    ix.multiplierAtFiling[m] = w.marketMarginMultiplier[m]!;
    // Every entry of the market belongs to one of these accounts and is unfiled when they are re-filed.
    ix.lowTop[m] = NONE;
    ix.highBottom[m] = N_BUCKETS;
    for (let i = w.marketPosStart[m]!; i < w.marketPosStart[m + 1]!; i++) {
      const a = w.posAccount[w.marketPositions[i]!]!;
      const f = flags[a]!;
      if ((f & LISTED) === 0) {
        flags[a] = f | LISTED;
        cand[n++] = a;
      }
    }
    return n;
  }
  const cb = bucketOf(ix, m, ix.adjusted[m]!);
  const base = m * N_BUCKETS;
  // Lower bounds at or above the price's bucket (and upper bounds at or below it) were reached. Their
  // accounts are re-filed below, which unlinks every entry of these buckets.
  for (let b = ix.lowTop[m]!; b >= cb; b--) {
    for (let p = ix.lowHead[base + b]!; p !== NONE; p = ix.lowNext[p]!) {
      const a = w.posAccount[p]!;
      const f = flags[a]!;
      if ((f & LISTED) === 0) {
        flags[a] = f | LISTED;
        cand[n++] = a;
      }
    }
  }
  if (ix.lowTop[m]! >= cb) ix.lowTop[m] = cb - 1;
  for (let b = ix.highBottom[m]!; b <= cb; b++) {
    for (let p = ix.highHead[base + b]!; p !== NONE; p = ix.highNext[p]!) {
      const a = w.posAccount[p]!;
      const f = flags[a]!;
      if ((f & LISTED) === 0) {
        flags[a] = f | LISTED;
        cand[n++] = a;
      }
    }
  }
  if (ix.highBottom[m]! <= cb) ix.highBottom[m] = cb + 1;
  return n;
}

/** Adds the accounts of pair k whose ratio fell to their lower bound; returns the new count. */
function pairCandidates(w: World, k: number, n: number): number {
  const ix = w.marginIndex;
  const top = ix.pairLowTop[k]!;
  if (top === NONE) return n;
  const xs = ix.adjusted[ix.pairShort[k]!]!;
  // The bands' algebra needs X_j > 0 (pair accounts' filing): at or below it every entry is reached.
  const cb = xs > 0 ? gridBucket(ix.pairRefKey[k]!, ix.adjusted[ix.pairLong[k]!]! / xs) : 0;
  if (top < cb) return n;
  const flags = ix.flags;
  const cand = w.candidates;
  const base = k * N_BUCKETS;
  for (let b = top; b >= cb; b--) {
    for (let p = ix.pairHead[base + b]!; p !== NONE; p = ix.lowNext[p]!) {
      const a = w.posAccount[p]!;
      const f = flags[a]!;
      if ((f & LISTED) === 0) {
        flags[a] = f | LISTED;
        cand[n++] = a;
      }
    }
  }
  ix.pairLowTop[k] = cb - 1;
  return n;
}

/** Adds the accounts whose funding allowance the clock has used up since their mark. */
function clockCandidates(w: World, n: number): number {
  const ix = w.marginIndex;
  const now = Math.floor(ix.fundingClock[0]! * CLOCK_INV_BUCKET);
  if (now <= ix.clockDone) return n;
  const flags = ix.flags;
  const cand = w.candidates;
  // Every bucket passed since the last look (all of them after a lap): their accounts are re-filed
  // below, which unlinks them.
  const from = Math.max(ix.clockDone + 1, now - CLOCK_BUCKETS + 1);
  for (let k = from; k <= now; k++) {
    for (let a = ix.clockHead[k % CLOCK_BUCKETS]!; a !== NONE; a = ix.clockNext[a]!) {
      const f = flags[a]!;
      if ((f & LISTED) === 0) {
        flags[a] = f | LISTED;
        cand[n++] = a;
      }
    }
  }
  ix.clockDone = now;
  return n;
}

/** Advances the funding clock by |ΔF| of market m over its reference price (called by accrueFunding). */
export function noteFunding(w: World, m: number, delta: number): void {
  const ix = w.marginIndex;
  ix.fundingClock[0] = ix.fundingClock[0]! + Math.abs(delta) / ix.refPrice[m]!;
}

/** Files account a to be looked at once the funding clock reaches the level in BOUND[0]. */
function fileClock(w: World, a: number): void {
  const level = BOUND[0]!;
  const ix = w.marginIndex;
  // The bucket containing the level: reached no later than the level itself; never more than a lap ahead.
  const k = Math.min(Math.floor(level * CLOCK_INV_BUCKET), ix.clockDone + CLOCK_BUCKETS - 1);
  const slot = k % CLOCK_BUCKETS;
  pushFront(ix.clockHead, ix.clockNext, ix.clockPrev, slot, a);
  ix.clockSlot[a] = slot;
}

function unfileClock(w: World, a: number): void {
  const ix = w.marginIndex;
  const slot = ix.clockSlot[a]!;
  if (slot === NONE) return;
  unlink(ix.clockHead, ix.clockNext, ix.clockPrev, a);
  ix.clockSlot[a] = NONE;
}

/**
 * Puts entry e at the front of list h (doubly linked through next/prev, heads in head). The first
 * entry's prev names its list's head, as −2 − h (every other prev is an entry, ≥ 0), so that an entry
 * can be taken out without knowing which list holds it (a pair's ratio list: unfile does not know the
 * pair).
 */
function pushFront(head: Int32Array, next: Int32Array, prev: Int32Array, h: number, e: number): void {
  const first = head[h]!;
  next[e] = first;
  prev[e] = -2 - h;
  if (first !== NONE) prev[first] = e;
  head[h] = e;
}

/** Takes entry e out of the list of `head` that holds it. */
function unlink(head: Int32Array, next: Int32Array, prev: Int32Array, e: number): void {
  const n = next[e]!;
  const p = prev[e]!;
  if (p < 0) head[-2 - p] = n;
  else next[p] = n;
  if (n !== NONE) prev[n] = p;
}

/** The multiple of maintenance account a must stay at or above not to be looked at, into MULTIPLE[0]. */
function thresholdMultiple(w: World, a: number): void {
  MULTIPLE[0] = 1;
  if (roleOf(w, a) !== DIRECTIONAL) return;
  const c = w.cohortCallMultiple[w.accountCohort[a]!]!;
  if (c > 1) MULTIPLE[0] = c;
}

/**
 * Largest rate at which maintenance grows with the notional of a position in market m while that
 * notional stays at most `upToUsd` = RATE[0]: k × the highest rate of the tiers it can reach
 * (portfolio margin: the largest grid or weighted tail move, or the net-delta fraction), into RATE[0].
 */
function marginalRate(w: World, m: number): void {
  const upToUsd = RATE[0]!;
  const x = w.marketExchange[m]!;
  if (w.exchangePortfolio[x] === 1) {
    const grid = Math.max(Math.abs(w.exchangeGridDown[x]!), Math.abs(w.exchangeGridUp[x]!));
    const tail = w.exchangeTailWeight[x]! * Math.max(Math.abs(w.exchangeTailDown[x]!), Math.abs(w.exchangeTailUp[x]!));
    RATE[0] = Math.max(grid, tail, w.exchangeNetDeltaFraction[x]!);
    return;
  }
  const first = w.tierStart[m]!;
  let top = 0;
  // Tier t applies above the previous tier's upper bound.
  for (let t = first; t < w.tierStart[m + 1]! && (t === first || w.tierUpperUsd[t - 1]! < upToUsd); t++) {
    if (w.tierMmRate[t]! > top) top = w.tierMmRate[t]!;
  }
  RATE[0] = w.marketMarginMultiplier[m]! * top;
}

/**
 * Marks account a and files its band again (unfiling the old one). Returns false when the account is
 * no longer active (it is dropped from the index).
 */
function refile(w: World, a: number): boolean {
  const ix = w.marginIndex;
  const end = w.posStart[a + 1]!;
  for (let p = w.posStart[a]!; p < end; p++) unfile(w, p);
  unfileClock(w, a);
  if (w.accountStatus[a] !== ACTIVE) return false;
  const plain = isPlainAccount(w, a);
  if (plain) storePlainMarks(w, ix.marketTable, a, a + 1);
  else storeMarks(w, a);
  const notional = w.accountNotional[a]!;
  // Nothing open: only a trade (which touches the account) can change that. Always-marked accounts
  // are not filed.
  if (notional === 0 || ix.always.length > 0 && isAlways(w, a)) return true;
  thresholdMultiple(w, a);
  let c = MULTIPLE[0]!;
  // Σ|q| × reference price: the funding reserve per unit of allowance, over c·μ.
  let refExposure = 0;
  let scale = Math.abs(w.ledger.balance[a]!) + notional;
  let mu = 0;
  let open = 0;
  let first = -1;
  let single = -1;
  let exposure = 0;
  for (let p = w.posStart[a]!; p < end; p++) {
    const q = w.posQty[p]!;
    if (q === 0) continue;
    const m = w.posMarket[p]!;
    const aq = Math.abs(q);
    const x = ix.adjusted[m]!;
    refExposure += aq * ix.refPrice[m]!;
    exposure += aq * x;
    scale += Math.abs(w.posQuote[p]!) + aq * Math.abs(w.fundingIndex[m]! - w.posFundingIndex[p]!) + aq * Math.abs(w.fundingIndex[m]!);
    // Within the band the position's notional stays under |q| × (2P + 2|F| + B), B ≤ β max × reference.
    RATE[0] = aq * (2 * w.oraclePrice[w.marketOracle[m]!]! + 2 * Math.abs(w.fundingIndex[m]!) + FUNDING_ALLOWANCE_MAX * ix.refPrice[m]!);
    marginalRate(w, m);
    const r = RATE[0]!;
    if (r > mu) mu = r;
    open++;
    if (first < 0) first = p;
    single = p;
    if (!(x > 0)) open = -Infinity; // a pathological market: keep the account looked at
  }
  const rounding = ROUNDING * (scale + 1);
  let raw = w.accountEquity[a]! - c * w.accountMaintenance[a]! - rounding;
  if (!(raw > 0) && c > 1) {
    // Under the call level: a caller, looked at by every margin-call stage; for the liquidation
    // rounds it is filed under its maintenance band.
    c = 1;
    raw = w.accountEquity[a]! - w.accountMaintenance[a]! - rounding;
    if (raw > 0 && (ix.flags[a]! & IN_CALL_LIST) === 0) {
      ix.flags[a] = ix.flags[a]! | IN_CALL_LIST;
      if (ix.nCall === ix.callList.length) ix.callList = grown(ix.callList, ix.nCall + 1);
      ix.callList[ix.nCall++] = a;
    }
  }
  if (!(raw > 0) || !(open > 0)) {
    pushHot(ix, a);
    return true;
  }
  const cmu = c * mu;
  // The funding allowance β: its reserve c·μ·β·Σ|q|·reference takes FUNDING_SHARE of the headroom.
  const reservePerBeta = cmu * refExposure;
  // (+: V8 reads the module constant as a value of any type, and a choice between it and a computed
  // double is kept boxed, a fresh heap number per account filed; converted, both sides are doubles.)
  const beta = reservePerBeta > 0 ? Math.min(FUNDING_ALLOWANCE_MAX, (FUNDING_SHARE * raw) / reservePerBeta) : +FUNDING_ALLOWANCE_MAX;
  const headroom = raw - reservePerBeta * beta;
  // An allowance that ends inside the clock's current bucket cannot be watched: look every time.
  const level = ix.fundingClock[0]! + beta * (1 - 1e-9);
  if (Math.floor(level * CLOCK_INV_BUCKET) <= ix.clockDone) {
    pushHot(ix, a);
    return true;
  }
  BOUND[0] = level;
  fileClock(w, a);
  if (open === 1) {
    const q = w.posQty[single]!;
    const m = w.posMarket[single]!;
    const x = ix.adjusted[m]!;
    const cap = x + w.oraclePrice[w.marketOracle[m]!]!;
    if (q > 0) {
      BOUND[0] = x - headroom / q;
      fileLow(w, single);
      BOUND[0] = cmu > 1 ? Math.min(cap, x + headroom / (q * (cmu - 1))) : cap;
      fileHigh(w, single);
    } else {
      BOUND[0] = Math.min(cap, x + headroom / (-q * (1 + cmu)));
      fileHigh(w, single);
    }
    return true;
  }
  if (open === 2 && plain && cmu <= 1) {
    PAIR_IN[0] = headroom;
    PAIR_IN[1] = cmu;
    if (filePair(w, first, single)) return true;
  }
  const tau = Math.min(1, headroom / (exposure * (1 + cmu)));
  for (let p = w.posStart[a]!; p < end; p++) {
    const q = w.posQty[p]!;
    if (q === 0) continue;
    const m = w.posMarket[p]!;
    const x = ix.adjusted[m]!;
    if (cmu > 1) {
      BOUND[0] = x * (1 - tau);
      fileLow(w, p);
      BOUND[0] = x * (1 + tau);
      fileHigh(w, p);
    } else if (q > 0) {
      // A leg moving its holder's way adds |q|·|ΔX| to equity and at most c·μ·|q|·|ΔX| to c·M: with
      // c·μ ≤ 1 it costs nothing, so each leg is watched on its adverse side only (and a long leg at
      // the notional cap μ was taken under).
      BOUND[0] = x * (1 - tau);
      fileLow(w, p);
      BOUND[0] = x + w.oraclePrice[w.marketOracle[m]!]!;
      fileHigh(w, p);
    } else {
      BOUND[0] = x * (1 + tau);
      fileHigh(w, p);
    }
  }
  return true;
}

/** filePair's headroom H and c·μ (slots: refile does not inline it, and a double argument is boxed). */
const PAIR_IN = new Float64Array(2);

/**
 * Files the band of a pair trade — an account of a tiered venue with exactly two open positions, long
 * q_L > 0 in market i and short q_S < 0 in market j, c·μ ≤ 1 — as a band on the ratio R = X_i / X_j
 * and on the short leg, when that is wider than filing each leg as if both moved against it (refile's
 * several-position case, which puts τ = H / (N(1 + c·μ)) on every leg). Returns false when it does not
 * apply (same side, same market, narrower, or no room for another pair's grid).
 *
 * The guarantee. Write u = X_i/x_i − 1 and v = X_j/x_j − 1 for the moves since the mark, N_L = q_L·x_i,
 * N_S = |q_S|·x_j, D = N_L − N_S, r = (1 + u)/(1 + v) the ratio's move. g changes by the equity's
 * N_L·u − N_S·v less c·ΔM ≤ c·μ·(N_L·u⁺ + N_S·v⁺) (tiered maintenance grows with a notional only as it
 * rises; funding's share is in the reserve already taken from H). With w = (r − 1)(1 + v), u = w + v, so
 * (u⁺ ≤ w⁺ + v⁺, and N_L·w − c·μ·N_L·w⁺ ≥ N_L·min(w, 0) as c·μ ≤ 1)
 *   Δg ≥ N_L·min(w, 0) + D·v − c·μ·(N_L + N_S)·v⁺.
 * Bands with one relative width τ: r ≥ 1 − τ (the ratio's lower bound: the long leg's down-moves are
 * all in it), v ≤ τ (the short leg's upper bound), and v ≥ −τ when D > 0 (its lower bound: a net long
 * loses as both fall). Within them (and X_j > 0, which pairCandidates enforces) w ≥ −τ(1 + τ), so
 *   Δg ≥ −τ·(N_L + |D| + c·μ·(N_L + N_S) + N_L·τ) = −τ·(B + N_L·τ),
 * and τ = H / (B + N_L·τ₀) with τ₀ = min(1, H/B) ≥ τ keeps that above −H. τ ≤ 1 and the long leg's usual
 * cap (X_i ≤ x_i + P_i) keep the notionals within the tiers μ was taken over. A hedged pair's legs then
 * move together without it being looked at: its ratio moves only by their difference, and its legs'
 * bands are about twice as wide (B ≈ N/2 + c·μ·N for a balanced pair).
 */
function filePair(w: World, p1: number, p2: number): boolean {
  const q1 = w.posQty[p1]!;
  if (q1 > 0 === w.posQty[p2]! > 0) return false;
  const long = q1 > 0 ? p1 : p2;
  const short = q1 > 0 ? p2 : p1;
  const i = w.posMarket[long]!;
  const j = w.posMarket[short]!;
  if (i === j) return false;
  const ix = w.marginIndex;
  const headroom = PAIR_IN[0]!;
  const cmu = PAIR_IN[1]!;
  // Both X are > 0 (refile keeps accounts with a market at X ≤ 0 looked at).
  const xi = ix.adjusted[i]!;
  const xj = ix.adjusted[j]!;
  const nl = w.posQty[long]! * xi;
  const ns = -w.posQty[short]! * xj;
  const d = nl - ns;
  const b = nl + Math.abs(d) + cmu * (nl + ns);
  const denominator = b + nl * Math.min(1, headroom / b);
  if (!(denominator < (nl + ns) * (1 + cmu))) return false;
  const k = pairFor(w, i, j);
  if (k === NONE) return false;
  const tau = Math.min(1, headroom / denominator);
  BOUND[0] = (xi / xj) * (1 - tau);
  fileRatio(w, long, k);
  BOUND[0] = xi + w.oraclePrice[w.marketOracle[i]!]!;
  fileHigh(w, long);
  BOUND[0] = xj * (1 + tau);
  fileHigh(w, short);
  if (d > 0) {
    BOUND[0] = xj * (1 - tau);
    fileLow(w, short);
  }
  return true;
}

/** The pair id of (long market i, short market j), its grid made on first use; NONE when MAX_PAIRS are made. */
function pairFor(w: World, i: number, j: number): number {
  const ix = w.marginIndex;
  const at = i * w.nMarkets + j;
  const found = ix.pairOf[at]!;
  if (found !== NONE || ix.nPairs === MAX_PAIRS) return found;
  const k = ix.nPairs++;
  ix.pairOf[at] = k;
  ix.pairLong[k] = i;
  ix.pairShort[k] = j;
  // Centred on the ratio when the pair is first filed (it only decides which accounts share a bucket).
  ix.pairRefKey[k] = priceKey(ix.adjusted[i]! / ix.adjusted[j]!);
  ix.pairLowTop[k] = NONE;
  const heads = new Int32Array((k + 1) * N_BUCKETS).fill(NONE);
  heads.set(ix.pairHead);
  ix.pairHead = heads;
  return k;
}

/** Files position p (a pair's long leg) under pair k's ratio lower bound BOUND[0]: looked at once R ≤ it. */
function fileRatio(w: World, p: number, k: number): void {
  const ix = w.marginIndex;
  // A hair above the bound, as fileLow.
  const b = gridBucket(ix.pairRefKey[k]!, BOUND[0]! * (1 + 1e-9));
  pushFront(ix.pairHead, ix.lowNext, ix.lowPrev, k * N_BUCKETS + b, p);
  ix.lowBucket[p] = PAIR_FLAG + b;
  if (b > ix.pairLowTop[k]!) ix.pairLowTop[k] = b;
}

/** Lists account a as hot (marked at the next mark). */
function pushHot(ix: MarginIndex, a: number): void {
  if (ix.nHot === ix.hotList.length) ix.hotList = grown(ix.hotList, ix.nHot + 1);
  ix.hotList[ix.nHot++] = a;
}

/** Accounts with option slots or non-cash collateral: marked at every mark, never filed. */
function isAlways(w: World, a: number): boolean {
  return hasOptionSlots(w, a) || hasCollateral(w, a);
}

/** Files position p's lower bound (BOUND[0]): the account must be looked at once its market's X is ≤ it. */
function fileLow(w: World, p: number): void {
  const bound = BOUND[0]!;
  // A bound at or below 0 is still a bound: X = P − F goes negative when funding outruns the price
  // (it then lands in the lowest bucket, which holds every X ≤ 0).
  const ix = w.marginIndex;
  const m = w.posMarket[p]!;
  // A hair above the bound, so that a price in a higher bucket is certainly above it.
  const b = bucketOf(ix, m, bound * (1 + 1e-9));
  pushFront(ix.lowHead, ix.lowNext, ix.lowPrev, m * N_BUCKETS + b, p);
  ix.lowBucket[p] = b;
  if (b > ix.lowTop[m]!) ix.lowTop[m] = b;
}

/** Files position p's upper bound (BOUND[0]): the account must be looked at once its market's X is ≥ it. */
function fileHigh(w: World, p: number): void {
  const bound = BOUND[0]!;
  if (!(bound < Infinity)) return;
  const ix = w.marginIndex;
  const m = w.posMarket[p]!;
  const b = bucketOf(ix, m, bound * (1 - 1e-9));
  pushFront(ix.highHead, ix.highNext, ix.highPrev, m * N_BUCKETS + b, p);
  ix.highBucket[p] = b;
  if (b < ix.highBottom[m]!) ix.highBottom[m] = b;
}

function unfile(w: World, p: number): void {
  const ix = w.marginIndex;
  const lb = ix.lowBucket[p]!;
  if (lb !== NONE) {
    // A pair's ratio entry (the long leg's) is linked through the same lowNext/lowPrev.
    unlink(lb >= PAIR_FLAG ? ix.pairHead : ix.lowHead, ix.lowNext, ix.lowPrev, p);
    ix.lowBucket[p] = NONE;
  }
  if (ix.highBucket[p] !== NONE) {
    unlink(ix.highHead, ix.highNext, ix.highPrev, p);
    ix.highBucket[p] = NONE;
  }
}

/**
 * --check: marks every active account the index skipped and throws if one is below maintenance or,
 * at a margin-call stage, below its margin-call level (the index would have hidden a decision).
 * Overwrites their stored marks, which nothing reads for a skipped account.
 */
function verifySkipped(w: World, forCalls: boolean): void {
  // The listed accounts still active are the candidates, in account order (refile drops only the
  // others): walk them alongside.
  const cand = w.candidates;
  let next = 0;
  for (let a = 0; a < w.nAccounts; a++) {
    while (next < w.nCandidates && cand[next]! < a) next++;
    if ((next < w.nCandidates && cand[next] === a) || w.accountStatus[a] !== Status.active) continue;
    storeMarks(w, a);
    if (w.accountNotional[a] === 0) continue;
    thresholdMultiple(w, a);
    const line = (forCalls ? MULTIPLE[0]! : 1) * w.accountMaintenance[a]!;
    if (!(w.accountEquity[a]! >= line)) {
      throw new InvariantError(
        `account ${a} was skipped by the margin index but its equity ${w.accountEquity[a]} is below ${line}`,
        w.step,
        'marginIndex',
      );
    }
  }
}
