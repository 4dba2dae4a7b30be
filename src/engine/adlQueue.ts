// Ranked auto-deleveraging without a scan of the market per failed position.
//
// BitMEX-style ADL (pnl-leverage) closes a failed position against the opposite positions with
// unrealized profit, highest PnL% × effective leverage first (settleLosses.autoDeleverage). Ranking
// them afresh for every failed position costs a pass over the whole market each time: in a crash,
// hundreds of failed positions in the same cascade round each scanned thousands of positions
// (a 200-step flagship run: 800 ADL calls, 3.9M positions visited, in 4 rounds; a third of the run).
//
// Within one mark epoch (a cascade round: prices, funding and margin rates are fixed) a
// position's candidacy and score change only when its account changes, and every change to an
// account goes through the ledger's touch() (the same fact the stored marks rely on, checked under
// --check by markAccount). So each (market, side) keeps a heap of its candidates, built by one scan
// the first time the round needs it; while the heaps live, the ledger lists each account touched
// since their last use, and before each use those accounts' positions are scored again and pushed
// anew. An entry is valid while its account has not been touched since it was last marked (its
// stored marks are current: a position taken earlier in the same call fails this) and its score is
// what the stored marks give now; older entries are dropped as they surface, and a copy with the
// same score is harmless. The pops are the same positions in the same order as ranking every
// candidate afresh (rankHeap.ts: the comparison is a total order on (score, position), and every
// candidate has an entry with its current score); the exactness property compares the two on
// random scenarios (test/marginIndex.test.ts), and the reference engine (--margin-checks
// every-step) keeps the scan.
//
// Not used, so the scan stays: the other rankings (they need every candidate, in position order,
// and sums over them in that order); markets with an account whose marks are never stored (options
// or non-cash collateral: their equity moves within a round without a touch); a score that is NaN.
import { InvariantError } from '../experiment/errors.ts';
import { Status, type World } from '../model/world.ts';
import { hasCollateral, positionPnl, refreshMarks } from './accounts.ts';
import { hasOptionSlots } from './optionBook.ts';
import { heapify, popBest, pushRanked } from './rankHeap.ts';
import { grown } from '../model/typedArrays.ts';

/** Heap of one (market, side): positions and their scores (rankHeap.ts). */
interface SideHeap {
  pos: Int32Array;
  score: Float64Array;
  size: number;
  /** Mark epoch the heap was built in; another epoch means not built. */
  builtIn: number;
  /** Entries the build found. */
  builtSize: number;
}

export class AdlQueues {
  /** The mark epoch the live heaps belong to (0: none). */
  epoch = 0;
  /** Calls answered from a heap, and those of them that found it already built (diagnostics). */
  served = 0;
  reused = 0;
  /** By 2 × market + (1 for the long side, 0 for the short side). */
  private readonly heaps: (SideHeap | null)[];
  /** By market: 1 if the heaps may be used, 0 if not (accounts never stamped), −1 not yet known. */
  private readonly usable: Int8Array;
  /** By 2 × market + side: the epoch in which a NaN score turned the heap off. */
  private readonly nanIn: Uint32Array;
  /** Entries of the failed account set aside during one call, pushed back after it. */
  private heldPos: Int32Array = new Int32Array(4);
  private heldScore: Float64Array = new Float64Array(4);
  private nHeld = 0;

  constructor(nMarkets: number) {
    this.heaps = new Array<SideHeap | null>(2 * nMarkets).fill(null);
    this.usable = new Int8Array(nMarkets).fill(-1);
    this.nanIn = new Uint32Array(2 * nMarkets);
  }

  /**
   * Readies the heap of market m's positions with the sign of `sign` (the counterparties of a failed
   * position closing by a change of that sign). Returns false when the heap cannot stand in for a
   * scan here; the caller then ranks by scanning.
   */
  ready(w: World, m: number, sign: number): boolean {
    if (!this.isUsable(w, m)) return false;
    const k = 2 * m + (sign > 0 ? 1 : 0);
    if (this.epoch !== w.markEpoch) this.startEpoch(w);
    if (this.nanIn[k] === this.epoch) return false;
    this.drain(w);
    if (this.nanIn[k] === this.epoch) return false;
    const h = this.heaps[k] ?? null;
    // Stale entries pile up as positions are scored again: past half the market's worth of them, start
    // over (a rebuild scans the market, so it costs O(1) per entry pushed since the last).
    const marketSize = w.marketPosStart[m + 1]! - w.marketPosStart[m]!;
    if (h === null || h.builtIn !== this.epoch || h.size > h.builtSize + (marketSize >> 1) + 64) this.build(w, m, sign, k);
    else this.reused++;
    if (this.nanIn[k] === this.epoch) return false;
    this.served++;
    return true;
  }

  /**
   * Removes and returns the first-ranked valid position of the readied heap other than the failed
   * account's, or −1 when none is left. Call release() after the last pop of a call.
   */
  pop(w: World, m: number, sign: number, failed: number): number {
    const h = this.heaps[2 * m + (sign > 0 ? 1 : 0)]!;
    const active = Status.active;
    while (h.size > 0) {
      const score = h.score[0]!;
      const p = popBest(h.pos, h.score, h.size--);
      const b = w.posAccount[p]!;
      // Touched since its marks were stored (taken earlier in this call: ready() has just scored
      // everything touched before it), gone from `active` (for good), on the other side now, or
      // scored differently now: stale.
      if (w.ledger.markStamp[b] !== w.markStampNow || w.accountStatus[b] !== active || !(w.posQty[p]! * sign > 0)) continue;
      if (score !== storedScore(w, p)) continue;
      if (b === failed) {
        this.hold(p, score);
        continue;
      }
      return p;
    }
    return -1;
  }

  /**
   * --check: ranks market m's candidates afresh by a scan (excluding the failed account) into the
   * scratch rank heap, for checkNext() to compare each pop with. Returns how many there are.
   */
  startCheck(w: World, m: number, sign: number, failed: number): number {
    let ranked = w.scratch.ranked;
    let score = w.scratch.rankScore;
    let n = 0;
    for (let i = w.marketPosStart[m]!; i < w.marketPosStart[m + 1]!; i++) {
      const p = w.marketPositions[i]!;
      if (!(w.posQty[p]! * sign > 0) || w.posAccount[p] === failed) continue;
      const s = candidateScore(w, p);
      if (s === NOT_CANDIDATE) continue;
      if (n === ranked.length) {
        growRanks(w, n + 1);
        ranked = w.scratch.ranked;
        score = w.scratch.rankScore;
      }
      ranked[n] = p;
      score[n++] = s;
    }
    heapify(ranked, score, n);
    return n;
  }

  /** --check: the k-th pop of a call (−1: none left) must be the k-th of the fresh ranking of n. */
  checkNext(w: World, popped: number, k: number, n: number): void {
    const expected = k < n ? popBest(w.scratch.ranked, w.scratch.rankScore, n - k) : -1;
    if (popped !== expected) {
      throw new InvariantError(
        `ADL queue of market ${w.posMarket[popped < 0 ? expected : popped]} gave position ${popped} as counterparty ${k}; ranking every candidate afresh gives ${expected}`,
        w.step,
        'autoDeleverage',
      );
    }
  }

  /** Puts back what pop() set aside (the failed account's own entries stay valid for later calls). */
  release(m: number, sign: number): void {
    const h = this.heaps[2 * m + (sign > 0 ? 1 : 0)]!;
    for (let i = 0; i < this.nHeld; i++) push(h, this.heldPos[i]!, this.heldScore[i]!);
    this.nHeld = 0;
  }

  private isUsable(w: World, m: number): boolean {
    let u = this.usable[m]!;
    if (u < 0) {
      u = 1;
      for (let i = w.marketPosStart[m]!; i < w.marketPosStart[m + 1]!; i++) {
        const a = w.posAccount[w.marketPositions[i]!]!;
        if (hasOptionSlots(w, a) || hasCollateral(w, a)) {
          u = 0;
          break;
        }
      }
      this.usable[m] = u;
    }
    return u === 1;
  }

  /** A new round: every heap is stale; the ledger logs touches from here until the epoch ends. */
  private startEpoch(w: World): void {
    this.epoch = w.markEpoch;
    w.ledger.startChangeLog();
  }

  /** Scores again the positions of every account touched since the last drain. */
  private drain(w: World): void {
    const ledger = w.ledger;
    const log = ledger.changeLog;
    const end = ledger.nChangeLog;
    for (let i = 0; i < end; i++) {
      const b = log[i]!;
      for (let p = w.posStart[b]!; p < w.posStart[b + 1]!; p++) {
        const q = w.posQty[p]!;
        if (q === 0) continue;
        const k = 2 * w.posMarket[p]! + (q > 0 ? 1 : 0);
        const h = this.heaps[k] ?? null;
        if (h === null || h.builtIn !== this.epoch || this.nanIn[k] === this.epoch) continue;
        this.offer(w, k, h, p, true);
      }
    }
    ledger.clearChangeLog();
  }

  /** One scan of the market: every candidate of the side, heapified. */
  private build(w: World, m: number, sign: number, k: number): void {
    let h = this.heaps[k] ?? null;
    // Sized by the candidates it gets (grown by push), not by the market.
    if (h === null) {
      h = { pos: new Int32Array(16), score: new Float64Array(16), size: 0, builtIn: 0, builtSize: 0 };
      this.heaps[k] = h;
    }
    h.size = 0;
    h.builtIn = this.epoch;
    for (let i = w.marketPosStart[m]!; i < w.marketPosStart[m + 1]!; i++) {
      const p = w.marketPositions[i]!;
      if (w.posQty[p]! * sign > 0 && !this.offer(w, k, h, p, false)) return;
    }
    heapify(h.pos, h.score, h.size);
    h.builtSize = h.size;
    // Room left over from an earlier, larger build goes back.
    if (h.pos.length > 4 * h.size + 128) {
      h.pos = h.pos.slice(0, 2 * h.size + 64);
      h.score = h.score.slice(0, 2 * h.size + 64);
    }
  }

  /**
   * Scores position p and, if it is a candidate, adds it to heap h (number k): pushed in order, or
   * appended for a build to heapify. Returns false for a NaN score, which turns heap k off for the epoch.
   */
  private offer(w: World, k: number, h: SideHeap, p: number, ordered: boolean): boolean {
    const score = candidateScore(w, p);
    if (score === NOT_CANDIDATE) return true;
    if (score !== score) {
      this.nanIn[k] = this.epoch;
      return false;
    }
    if (ordered) push(h, p, score);
    else append(h, p, score);
    return true;
  }

  private hold(p: number, score: number): void {
    if (this.nHeld === this.heldPos.length) {
      this.heldPos = grown(this.heldPos, this.nHeld + 1);
      this.heldScore = grown(this.heldScore, this.nHeld + 1);
    }
    this.heldPos[this.nHeld] = p;
    this.heldScore[this.nHeld++] = score;
  }
}

/** Adds an entry to h, growing its arrays when full. */
function push(h: SideHeap, p: number, score: number): void {
  makeRoom(h);
  pushRanked(h.pos, h.score, h.size++, p, score);
}

/** Appends an entry without ordering it (build heapifies once at the end). */
function append(h: SideHeap, p: number, score: number): void {
  makeRoom(h);
  h.pos[h.size] = p;
  h.score[h.size++] = score;
}

function makeRoom(h: SideHeap): void {
  if (h.size === h.pos.length) {
    h.pos = grown(h.pos, h.size + 1);
    h.score = grown(h.score, h.size + 1);
  }
}

/** candidateScore's answer for a position that is not a candidate. */
const NOT_CANDIDATE = -Infinity;

/**
 * Position p's ADL score — PnL% × its account's effective leverage, as settleLosses ranks — or
 * NOT_CANDIDATE when its account is not active, not solvent, or the position is not in profit.
 * (−∞ is no score a candidate can have: its PnL and equity are both positive.)
 */
export function candidateScore(w: World, p: number): number {
  const b = w.posAccount[p]!;
  if (w.accountStatus[b] !== Status.active) return NOT_CANDIDATE;
  // Current stored marks are reused (and, under --check, verified) by refreshMarks.
  refreshMarks(w, b);
  return storedScore(w, p);
}

/** candidateScore from the account's stored marks, which must be current. */
function storedScore(w: World, p: number): number {
  const b = w.posAccount[p]!;
  const equity = w.accountEquity[b]!;
  if (!(equity > 0)) return NOT_CANDIDATE;
  const pnl = positionPnl(w, p);
  if (!(pnl > 0)) return NOT_CANDIDATE;
  return (pnl / Math.abs(w.posQuote[p]!)) * (w.accountNotional[b]! / equity);
}

/** Grows the ADL rank scratch (w.scratch.ranked and rankScore, kept the same length) to hold `need`. */
export function growRanks(w: World, need: number): void {
  w.scratch.ranked = grown(w.scratch.ranked, need);
  w.scratch.rankScore = grown(w.scratch.rankScore, need);
}
