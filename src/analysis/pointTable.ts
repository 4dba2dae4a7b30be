// The table `contagion run` prints at the end of a sweep: one row per point with its swept values
// and what a designer reads first — how often the runs left bad debt, how much (mean, and the 99th
// percentile: the insurance fund that point would need), how often ADL struck, what stayed open, and
// the funding the longs paid the shorts.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Table } from 'apache-arrow';
import { columnToArray, hasColumn, readArrowTable } from '../io/readArrow.ts';
import { mean, quantile, wilsonInterval } from './statistics.ts';

/** USD as the reports print it: 1.23M, 45.6k, 789. */
export const usd = (x: number): string => (Math.abs(x) >= 1e6 ? `${(x / 1e6).toFixed(2)}M` : Math.abs(x) >= 1e3 ? `${(x / 1e3).toFixed(1)}k` : Math.abs(x) < 0.5 ? '0' : x.toFixed(0)); // (no "-0" for a rounding residue)
/** k of n as a percentage with its 95% Wilson interval: "20% [10–35%]". */
export function shareWithInterval(k: number, n: number): string {
  const [lo, hi] = wilsonInterval(k, n);
  return `${((100 * k) / n).toFixed(0)}% [${(100 * lo).toFixed(0)}–${(100 * hi).toFixed(0)}%]`;
}

/** The rows (indices into runs.arrow's columns) of sweep point p, `point` being the point_index column. */
export function pointRows(point: readonly number[], p: number): number[] {
  return point.flatMap((q, i) => (q === p ? [i] : []));
}

/** Markdown table of a results folder's runs per point; null when the folder has no sweep. */
export function pointTable(dir: string): string | null {
  const manifestPath = join(dir, 'manifest.json');
  if (!existsSync(manifestPath)) return null;
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as { sweep_columns?: Record<string, string> };
  const sweep = manifest.sweep_columns ?? {};
  if (Object.keys(sweep).length === 0) return null;
  return pointTableOf(readArrowTable(join(dir, 'runs.arrow')), sweep);
}

/** The same table of a runs.arrow already read, its swept columns `sweep` (column → path; none: one row). */
export function pointTableOf(runs: Table, sweep: Record<string, string>): string {
  const columns = Object.keys(sweep);
  const col = (name: string) => columnToArray(runs, name) as number[];
  const point = col('point_index');
  const badDebt = col('total_bad_debt_usd');
  const open = col('insolvent_debt_usd');
  const adl = col('adl_count');
  // Since schema 10: what the longs paid the shorts in funding (negative: the shorts paid), which shows
  // what the funding index does (design decision 48).
  const funding = hasColumn(runs, 'funding_longs_paid_usd') ? col('funding_longs_paid_usd') : null;
  const swept = columns.map((c) => columnToArray(runs, c));
  const header = [...columns.map((c) => sweep[c]!), 'runs', 'runs with bad debt', 'bad debt mean / p99 (fund needed)', 'runs with ADL', 'left open (mean)'];
  if (funding) header.push('funding longs paid (mean)');
  const lines = [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`];
  for (const p of [...new Set(point)].sort((a, b) => a - b)) {
    const rows = pointRows(point, p);
    const n = rows.length;
    const bd = rows.map((i) => badDebt[i]!);
    const cells = [
      ...swept.map((v) => String(v[rows[0]!])),
      String(n),
      shareWithInterval(bd.filter((x) => x > 0).length, n),
      `${usd(mean(bd))} / ${usd(quantile(bd, 0.99))}`,
      shareWithInterval(rows.filter((i) => adl[i]! > 0).length, n),
      usd(mean(rows.map((i) => open[i]!))),
    ];
    if (funding) cells.push(usd(mean(rows.map((i) => funding[i]!))));
    lines.push(`| ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}
