// Who bore the losses: the median and 95th-percentile effective leverage of accounts hit by ADL
// against those of accounts liquidated (on 10 October 2025 the largest perp DEX's ADL fell on accounts
// with a median leverage of 0.20×, 95th percentile 5.1×), the Gini coefficient of losses, and what each
// cohort put in and holds at the end (cohorts.arrow).
import type { World } from '../model/world.ts';
import { accountValueUsd } from './accounts.ts';
import { CohortTable } from './record.ts';
import { addLendingCohorts } from './phases/lending.ts';
import { addParticipantRows, participantRows } from './participants.ts';

/**
 * Ascending numeric order; one function for the process (a comparator made per call was compiled
 * again in each run). It returns the sign, which is all the sort reads: returning `a − b` allocated
 * a heap number per comparison. Where a − b is NaN (∞ against ∞) both give 0.
 */
const ascending = (a: number, b: number): number => (a < b ? -1 : a > b ? 1 : 0);

/** Median of `values` (NaN when empty; Infinity entries count as the largest). */
export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort(ascending);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : s[m - 1]! === s[m]! ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/**
 * The p-quantile of `values` by linear interpolation between order statistics at rank p·(n − 1)
 * (NaN when empty; Infinity entries count as the largest, and a quantile that touches one is Infinity).
 */
export function quantileOf(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort(ascending);
  const r = p * (s.length - 1);
  const lo = Math.floor(r);
  const hi = Math.ceil(r);
  if (lo === hi || s[lo] === s[hi]) return s[lo]!;
  return s[lo]! + (r - lo) * (s[hi]! - s[lo]!);
}

/**
 * Gini coefficient of non-negative values: G = 2·Σᵢ i·x₍ᵢ₎ / (n·Σx) − (n + 1)/n over the sorted
 * values with 1-based ranks; 0 when everyone lost the same, → 1 when one account bore everything;
 * NaN when nobody lost anything.
 */
export function gini(values: ArrayLike<number>): number {
  const n = values.length;
  const s = Float64Array.from(values).sort();
  let total = 0;
  let weighted = 0;
  for (let i = 0; i < n; i++) {
    total += s[i]!;
    weighted += (i + 1) * s[i]!;
  }
  return total > 0 ? (2 * weighted) / (n * total) - (n + 1) / n : NaN;
}

/**
 * Each account's loss: what it put in (collateral at the initial price, and top-ups) less what it holds
 * now (accountValueUsd: collateral at its oracle price, unweighted), if positive. (Until session 29 less
 * its margin equity, in which collateral counts at its weight: an account holding collateral at a
 * haircut showed the haircut as a loss with no price moved.)
 */
export function accountLossesUsd(w: World): Float64Array {
  const losses = new Float64Array(w.nAccounts);
  for (let a = 0; a < w.nAccounts; a++) {
    losses[a] = Math.max(0, w.accountContributedUsd[a]! - accountValueUsd(w, a));
  }
  return losses;
}

/**
 * What each cohort put in and holds at the end of the run (cohorts.arrow): Σ over its perp accounts of
 * accountContributedUsd and of accountValueUsd, and over its lending borrowers and keepers of the same
 * (addLendingCohorts); one row per cohort code that has any. Then one row for every other participant
 * (engine/participants.ts: arbitrageurs, funds, exchanges, lenders, treasuries, stables' holders and
 * desks, the outside market), so that the rows are the whole balance sheet (design decision 57).
 */
export function cohortTable(w: World): CohortTable {
  // Every cohort code: the trader cohorts (lending ones too), then the backstop vaults.
  const nCodes = w.cohortMaxLeverage.length;
  const accounts = new Int32Array(nCodes);
  const contributed = new Float64Array(nCodes);
  const value = new Float64Array(nCodes);
  for (let a = 0; a < w.nAccounts; a++) {
    const c = w.accountCohort[a]!;
    accounts[c]!++;
    contributed[c] = contributed[c]! + w.accountContributedUsd[a]!;
    value[c] = value[c]! + accountValueUsd(w, a);
  }
  addLendingCohorts(w, accounts, contributed, value);
  let rows = 0;
  let counted = 0;
  for (let c = 0; c < nCodes; c++) {
    if (accounts[c]! > 0) rows++;
    counted += accounts[c]!;
  }
  // A typed array drops a write past its end without a word: a cohort code out of range would lose its rows.
  const expected = w.nAccounts + w.lending.nBorrowers + w.lending.nLiquidators;
  if (counted !== expected) throw new Error(`cohortTable: ${counted} accounts in cohort rows, the world has ${expected}`);
  const t = new CohortTable(rows + participantRows(w));
  let r = 0;
  for (let c = 0; c < nCodes; c++) {
    if (accounts[c] === 0) continue;
    t.cohort[r] = c;
    t.accounts[r] = accounts[c]!;
    t.contributedUsd[r] = contributed[c]!;
    t.valueUsd[r] = value[c]!;
    r++;
  }
  if (addParticipantRows(w, t, r, nCodes) !== t.rows) throw new Error(`cohortTable: the participant rows did not fill the table's ${t.rows} rows`);
  return t;
}
