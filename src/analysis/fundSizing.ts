// Insurance-fund sizing (`contagion size-fund`): the statistics and the search, without the engine.
//
// Each stress path (a replicate: the same random numbers at every fund size, common random numbers)
// has a fund requirement: the smallest fund at which it no longer reaches ADL (or the chosen outcome).
// The search brackets every path's requirement by running that path at fund sizes chosen per path
// (bisection, geometric while the bracket spans more than a factor of two), so the answer follows from
// the requirements' distribution:
//   - the estimate: the smallest fund under which fewer than a share P of the paths reach the outcome,
//     an order statistic of the requirements;
//   - its confidence interval: the distribution-free interval for a quantile (the (1 − P)-quantile of
//     the requirement), between two order statistics whose ranks come from the binomial distribution
//     (e.g. Conover, Practical Nonparametric Statistics, 3rd ed., §3.2; Hahn & Meeker, Statistical
//     Intervals, §5.2). No distribution is assumed for the requirements.
// The requirement of a path is taken as the smallest fund seen to clear it (the top of its bracket):
// conservative by at most the search's tolerance.

import type { RunSummary } from '../engine/record.ts';

/** What counts against the fund: ADL, a socialized loss, or either. */
export type FundOutcome = 'adl' | 'socialized-loss' | 'adl-or-socialized-loss';

export const FUND_OUTCOMES: readonly FundOutcome[] = ['adl', 'socialized-loss', 'adl-or-socialized-loss'];

/** Whether a run's summary shows the outcome. */
export function reached(outcome: FundOutcome, s: Pick<RunSummary, 'adlCount' | 'socializedLossUsd'>): boolean {
  const adl = s.adlCount > 0;
  const socialized = s.socializedLossUsd > 0;
  return outcome === 'adl' ? adl : outcome === 'socialized-loss' ? socialized : adl || socialized;
}

/** ln(k!) for k = 0..n. */
function logFactorials(n: number): Float64Array {
  const out = new Float64Array(n + 1);
  for (let k = 2; k <= n; k++) out[k] = out[k - 1]! + Math.log(k);
  return out;
}

/** P(B ≤ k) for B ~ Binomial(n, p), for every k = 0..n (summed from log-space terms: no underflow of p^n). */
export function binomialCdf(n: number, p: number): Float64Array {
  const cdf = new Float64Array(n + 1);
  const lf = logFactorials(n);
  const lp = Math.log(p);
  const lq = Math.log1p(-p);
  let sum = 0;
  for (let k = 0; k <= n; k++) {
    // 0·ln(0) is 0 here: p = 0 or 1 puts all the mass on one k.
    const a = k === 0 ? 0 : k * lp;
    const b = k === n ? 0 : (n - k) * lq;
    sum += Math.exp(lf[n]! - lf[k]! - lf[n - k]! + a + b);
    cdf[k] = Math.min(1, sum);
  }
  return cdf;
}

/**
 * Ranks (1-based) of the order statistics that bound the q-quantile of a continuous distribution from a
 * sample of n with confidence ≥ `confidence`: P(X₍l₎ ≤ ξ_q ≤ X₍u₎) ≥ 1 − P(B < l) − P(B ≥ u) with
 * B ~ Binomial(n, q), each tail at most (1 − confidence)/2. `lower` is 0 when no rank is low enough (the
 * interval is open below: fewer paths than the lower tail needs), `upper` n + 1 when none is high
 * enough (open above). Example: n = 20, q = 0.5, 95%: ranks 6 and 15 (the textbook median interval).
 */
export function quantileRanks(n: number, q: number, confidence: number): { lower: number; upper: number } {
  const tail = (1 - confidence) / 2;
  const cdf = binomialCdf(n, q);
  // Largest l with P(B ≤ l − 1) ≤ tail.
  let lower = 0;
  for (let l = 1; l <= n; l++) if (cdf[l - 1]! <= tail) lower = l;
  // Smallest u with P(B ≥ u) = 1 − P(B ≤ u − 1) ≤ tail.
  let upper = n + 1;
  for (let u = n; u >= 1; u--) if (1 - cdf[u - 1]! <= tail) upper = u;
  return { lower, upper };
}

/** A confidence level as printed: 0.95 → "95%", 0.999 → "99.9%". */
export function confidenceLabel(confidence: number): string {
  return `${Math.round(confidence * 1000) / 10}%`;
}

/**
 * The fewest paths for which the interval of quantile q is bounded above: P(B ≥ n) = q^n ≤ tail, i.e.
 * n ≥ ln(tail) / ln(q).
 */
export function pathsForUpperBound(q: number, confidence: number): number {
  return Math.ceil(Math.log((1 - confidence) / 2) / Math.log(q));
}

/** The answer for a target share P, from every path's requirement (Infinity: not cleared by any fund tried). */
export interface FundAnswer {
  /** Paths allowed to reach the outcome: the most that are still fewer than target × paths. */
  allowed: number;
  /** The smallest fund (among the requirements) under which at most `allowed` paths need more; Infinity when none. */
  estimate: number;
  /** Paths whose requirement exceeds the estimate (≤ allowed). */
  exceeding: number;
  /** Bounds of the confidence interval for the fund needed; null when open on that side. */
  lower: number | null;
  upper: number | null;
  ranks: { lower: number; upper: number };
}

export function fundAnswer(requirements: ArrayLike<number>, target: number, confidence: number): FundAnswer {
  const n = requirements.length;
  const sorted = Float64Array.from(requirements).sort();
  // Strictly fewer than target·n paths: the largest whole number below it.
  const allowed = Math.ceil(target * n) - 1;
  const estimate = sorted[n - 1 - allowed]!;
  let exceeding = 0;
  for (let i = 0; i < n; i++) if (sorted[i]! > estimate) exceeding++;
  const ranks = quantileRanks(n, 1 - target, confidence);
  const at = (rank: number) => (rank >= 1 && rank <= n && Number.isFinite(sorted[rank - 1]!) ? sorted[rank - 1]! : null);
  return { allowed, estimate, exceeding, lower: ranks.lower >= 1 ? at(ranks.lower) : null, upper: at(ranks.upper), ranks };
}

/** The search's bounds and precision. */
export interface SearchBounds {
  /** Smallest fund considered (a path clear at it needs this much). */
  min: number;
  /** Largest fund considered (a path not clear at it needs more than any fund tried). */
  max: number;
  /** A bracket is narrow enough when hi − lo ≤ max(tolerance × hi, 1 USD). */
  tolerance: number;
}

/**
 * Where one path stands: the largest fund seen to leave it reaching the outcome (`hit`, −Infinity
 * before any) and the smallest seen to clear it (`clear`, Infinity before any); and a hint, the fund a
 * cleared run of the path required (its insurance_fund_required_usd), with how many tries the hint has
 * guided.
 */
export interface PathBracket {
  hit: number;
  clear: number;
  hint: number | null;
  hinted: number;
}

export function newBracket(): PathBracket {
  return { hit: -Infinity, clear: Infinity, hint: null, hinted: 0 };
}

/** Hint-guided tries per path, at most: past them, bisection alone (a misleading hint costs a few runs). */
const MAX_HINTED = 5;
/** The rungs around the hint D, as multiples of the tolerance: D·(1 + k·tolerance). */
const HINT_LADDER = [-16, -4, -1, 0, 1, 4, 16, 64];

/** `x` in whole dollars when that keeps it strictly inside (lo, hi) (readable fund sizes), else as it is. */
function inside(x: number, lo: number, hi: number): number {
  const rounded = Math.round(x);
  return rounded > lo && rounded < hi ? rounded : x;
}

/**
 * The fund to try next on a path, or null when its requirement is known well enough.
 *
 * First the largest fund (is the path clear at all?). A run that clears a path reports D, the smallest
 * fund that meets every demand it met (runs.arrow's insurance_fund_required_usd): with D or more the path
 * takes the same course, with less some demand goes unmet, so the path's requirement is D or a little
 * less (an unmet payout need not mean ADL). So next D, expected to clear, then D·(1 − tolerance),
 * expected not to — two runs that close the bracket when the hint is right (the rungs go on down by 4 and
 * 16 tolerances, or up by 1, 4, 16, 64, when not). The hint only chooses where to look: every bound of the
 * bracket is a run.
 * Then the smallest fund, and bisection: from zero a sixteenth at a time (a requirement may be orders of
 * magnitude below the largest fund), geometric while the bracket spans more than a factor of two, then
 * halves.
 */
export function nextFund(b: PathBracket, bounds: SearchBounds): { fund: number; hinted: boolean } | null {
  const { min, max, tolerance } = bounds;
  const plain = (fund: number) => ({ fund, hinted: false });
  if (b.clear === Infinity) return b.hit >= max ? null : plain(max);
  if (b.hit === -Infinity && b.clear <= min) return null; // clear at the smallest fund
  const narrow = (lo: number, hi: number) => hi - lo <= Math.max(tolerance * hi, 1);
  if (b.hit > -Infinity && narrow(b.hit, b.clear)) return null;
  if (b.hint !== null && b.hinted < MAX_HINTED) {
    // The rung nearest D that is at least a dollar inside the bracket: D first; after it clears,
    // D·(1 − tolerance), D·(1 − 4·tolerance)…; after it reaches the outcome, D·(1 + tolerance)….
    const lo = Math.max(b.hit, min);
    let best: number | null = null;
    for (const k of HINT_LADDER) {
      const f = Math.round(b.hint * (1 + k * tolerance));
      if (f - lo >= 1 && b.clear - f >= 1 && (best === null || Math.abs(f - b.hint) < Math.abs(best - b.hint))) best = f;
    }
    if (best !== null) return { fund: best, hinted: true };
  }
  if (b.hit === -Infinity) return plain(min); // does it need more than the smallest?
  const { hit: lo, clear: hi } = b;
  const raw = lo <= 0 ? hi / 16 : hi > 2 * lo ? Math.sqrt(lo * hi) : (lo + hi) / 2;
  return plain(inside(raw, lo, hi));
}

/**
 * Records that a path was tried at `fund` and did (true) or did not reach the outcome; `used`, for a
 * run that cleared it, is the fund that run required (null when not known).
 */
export function recordTry(b: PathBracket, fund: number, reached: boolean, used: number | null = null, hinted = false): void {
  if (hinted) b.hinted++;
  if (reached) b.hit = Math.max(b.hit, fund);
  else {
    b.clear = Math.min(b.clear, fund);
    if (used !== null && Number.isFinite(used)) b.hint = Math.max(0, used);
  }
}

/** A path's requirement once its search is done: the smallest fund that cleared it (Infinity if none). */
export function requirementOf(b: PathBracket): number {
  return b.clear;
}
