// Who pays? Reads a results folder of the flagship study and prints, over runs, how often the
// insurance fund ran dry and ADL fired (with a 95% Wilson interval), the bad-debt tail and what the
// backstop vaults gained or lost; then, per trader cohort, what it lost to liquidation, the bad debt it
// left, and the ADL it bore; what each cohort gained or lost over the run (cohorts.arrow); and what
// everyone else on the balance sheet did — funds, exchanges, lenders, treasuries, arbitrageurs, stables,
// the outside market — with Σ over every row (design decision 57). For a
// sweep (the flagship is one) the summary is pooled and the cohort tables are split by point: which
// cohort left the bad debt, which bore the ADL, and who came out ahead, under each margin model and
// correlation regime.
// Usage: node --import tsx notebooks/who-pays.ts [RESULTS_DIR]   (default results/cross-margin-flaw)
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { columnToArray, forEachBatch, hasColumn } from '../src/io/readArrow.ts';
import { mean, quantile, wilsonInterval } from '../src/analysis/statistics.ts';
import { cohortPnlSums } from '../src/analysis/report.ts';
import { openSweepResults, readResultsTable, startNotebook } from './sweepResults.ts';

startNotebook();
const dir = process.argv[2] ?? 'results/cross-margin-flaw';
const { runs, sweepPaths, sweepColumns, col, swept, point: runPoint } = openSweepResults(dir, 'run the experiment first (npm start)');
const usd = (x: number) => (Math.abs(x) >= 1e6 ? `${(x / 1e6).toFixed(2)}M` : `${(x / 1e3).toFixed(1).replace(/^-(0\.0)$/, '$1')}k`); // no "-0.0k"

const nRuns = runs.numRows;
const badDebt = col('total_bad_debt_usd');
const adlCount = col('adl_count');
const depletion = col('insurance_fund_depletion_step');
const adlRuns = adlCount.filter((c) => c > 0).length;
const [lo, hi] = wilsonInterval(adlRuns, nRuns);

console.log(`## ${dir}: ${nRuns} runs\n`);
console.log('| metric | value |\n|---|---|');
console.log(`| runs reaching ADL | ${adlRuns} / ${nRuns} (${((100 * adlRuns) / nRuns).toFixed(0)}%, 95% CI ${(100 * lo).toFixed(0)}–${(100 * hi).toFixed(0)}%) |`);
console.log(`| runs that emptied the insurance fund | ${depletion.filter((s) => s >= 0).length} / ${nRuns} |`);
console.log(`| bad debt per run: mean / p95 / p99 | ${usd(mean(badDebt))} / ${usd(quantile(badDebt, 0.95))} / ${usd(quantile(badDebt, 0.99))} |`);
console.log(`| paid by the fund / by ADL'd winners / socialized (mean per run) | ${usd(mean(col('fund_payout_usd')))} / ${usd(mean(col('adl_absorbed_usd')))} / ${usd(mean(col('socialized_loss_usd')))} |`);
console.log(`| liquidated notional per run (mean) | ${usd(mean(col('liquidation_volume_usd')))} |`);
// Since schema 10: funding changes hands too, from the shorts to the longs in a crash when the premium is
// measured against the fundamental (design decision 48).
if (hasColumn(runs, 'funding_longs_paid_usd')) {
  console.log(`| funding the longs paid the shorts per run (mean; negative: the shorts paid) | ${usd(mean(col('funding_longs_paid_usd')))} |`);
}
// Since schema 11: what the backstop vaults gained or lost (who pays when a vault inherits positions).
const vaultPnl = hasColumn(runs, 'backstop_vault_pnl_usd') ? col('backstop_vault_pnl_usd') : null;
if (vaultPnl) console.log(`| backstop vaults' P&L per run (mean; negative: a loss) | ${usd(mean(vaultPnl))} |`);
console.log(`| max cascade depth (mean / max) | ${mean(col('max_cascade_depth')).toFixed(1)} / ${Math.max(...col('max_cascade_depth'))} |`);
// Fairness: per-run medians of effective leverage, then their median over the runs that had any.
const finite = (xs: number[]) => xs.filter((x) => !Number.isNaN(x));
const lev = (x: number) => (Number.isFinite(x) ? `${x.toFixed(2)}×` : '∞ (under water)');
const adlLev = finite(col('adl_hit_median_leverage'));
const liqLev = finite(col('liquidated_median_leverage'));
console.log(`| median leverage of accounts hit by ADL / liquidated | ${adlLev.length ? lev(quantile(adlLev, 0.5)) : 'no ADL'} / ${liqLev.length ? lev(quantile(liqLev, 0.5)) : 'none'} |`);
console.log(`| Gini of losses across accounts (mean) | ${mean(finite(col('loss_gini'))).toFixed(2)} |`);

const eventsPath = join(dir, 'events.arrow');
if (existsSync(eventsPath) && sweepColumns.length > 0) {
  // Per point: bad debt left and ADL borne per run, by cohort.
  // Batch by batch: a sweep's event log can hold tens of millions of rows.
  const ev = readResultsTable(dir, 'events.arrow');
  const points = [...new Set(runPoint)].sort((a, b) => a - b);
  const cohortSet = new Set<string>();
  const key = (p: number, c: string) => `${p}/${c}`;
  const bad = new Map<string, number>();
  const borne = new Map<string, number>();
  forEachBatch(ev, ['kind', 'cohort', 'amount_usd', 'point_index'], ([kind, cohort, amount, evPoint]) => {
    for (let i = 0; i < kind!.length; i++) {
      const c = cohort![i];
      if (typeof c !== 'string') continue;
      cohortSet.add(c);
      const k = key(evPoint![i] as number, c);
      if (kind![i] === 'bad_debt') bad.set(k, (bad.get(k) ?? 0) + (amount![i] as number));
      else if (kind![i] === 'adl') borne.set(k, (borne.get(k) ?? 0) + (amount![i] as number));
    }
  });
  const cohorts = [...cohortSet].sort();
  const header = [...sweepColumns.map((c) => sweepPaths[c]!), 'runs', ...(vaultPnl ? ['backstop vaults\' P&L'] : []), ...cohorts.map((c) => `${c}: bad debt / ADL borne`)];
  console.log(`\n### Per point, per run: bad debt each cohort left / ADL notional it bore\n`);
  console.log(`| ${header.join(' | ')} |\n|${header.map(() => '---').join('|')}|`);
  for (const p of points) {
    const first = runPoint.indexOf(p);
    const n = runPoint.filter((q) => q === p).length;
    const cells = cohorts.map((c) => `${usd((bad.get(key(p, c)) ?? 0) / n)} / ${usd((borne.get(key(p, c)) ?? 0) / n)}`);
    const vault = vaultPnl ? [usd(mean(vaultPnl.filter((_, i) => runPoint[i] === p)))] : [];
    console.log(`| ${[...swept.map((v) => String(v[first])), String(n), ...vault, ...cells].join(' | ')} |`);
  }
} else if (existsSync(eventsPath)) {
  const ev = readResultsTable(dir, 'events.arrow');
  const kind = columnToArray(ev, 'kind') as string[];
  const cohort = columnToArray(ev, 'cohort') as (string | null)[];
  const amount = columnToArray(ev, 'amount_usd') as number[];
  const account = columnToArray(ev, 'account') as (number | null)[];
  const replicate = columnToArray(ev, 'replicate') as number[];
  type Row = { liquidated: number; badDebt: number; adlBorne: number; adlRuns: Set<number>; accounts: Set<string> };
  const rows = new Map<string, Row>();
  const row = (c: string) => rows.get(c) ?? rows.set(c, { liquidated: 0, badDebt: 0, adlBorne: 0, adlRuns: new Set(), accounts: new Set() }).get(c)!;
  for (let i = 0; i < kind.length; i++) {
    const c = cohort[i];
    if (c === null || c === undefined) continue;
    const r = row(c);
    if (kind[i] === 'liquidation' || kind[i] === 'backstop') {
      r.liquidated += amount[i]!;
      r.accounts.add(`${replicate[i]}:${account[i]}`);
    } else if (kind[i] === 'bad_debt') r.badDebt += amount[i]!;
    else if (kind[i] === 'adl') {
      r.adlBorne += amount[i]!;
      r.adlRuns.add(replicate[i]!);
    }
  }
  const totalBad = [...rows.values()].reduce((s, r) => s + r.badDebt, 0);
  console.log('\n| cohort | accounts liquidated per run | liquidated notional per run | bad debt left per run | share of bad debt | ADL borne per run | runs ADL\'d |');
  console.log('|---|---|---|---|---|---|---|');
  for (const [c, r] of [...rows.entries()].sort()) {
    console.log(
      `| ${c} | ${(r.accounts.size / nRuns).toFixed(0)} | ${usd(r.liquidated / nRuns)} | ${usd(r.badDebt / nRuns)} | ${totalBad > 0 ? ((100 * r.badDebt) / totalBad).toFixed(0) : '0'}% | ${usd(r.adlBorne / nRuns)} | ${r.adlRuns.size} |`,
    );
  }
}

// Since schema 12: what each cohort gained or lost, per run (cohorts.arrow) — written even when the event
// log is not. Per point for a sweep.
const cohortsPath = join(dir, 'cohorts.arrow');
if (existsSync(cohortsPath)) {
  const { accounts: names, others, sum } = cohortPnlSums(readResultsTable(dir, 'cohorts.arrow'));
  const points = [...new Set(runPoint)].sort((a, b) => a - b);
  const runsAt = new Map(points.map((p) => [p, runPoint.filter((q) => q === p).length]));
  const table = (labels: string[], withTotal: boolean) => {
    const header = [...sweepColumns.map((c) => sweepPaths[c]!), 'runs', ...labels, ...(withTotal ? ['Σ every row'] : [])];
    console.log(`| ${header.join(' | ')} |\n|${header.map(() => '---').join('|')}|`);
    for (const p of points) {
      const first = runPoint.indexOf(p);
      const n = runsAt.get(p)!;
      const cells = labels.map((c) => usd(sum(p, c) / n));
      if (withTotal) cells.push(usd([...names, ...others].reduce((s, c) => s + sum(p, c), 0) / n));
      console.log(`| ${[...swept.map((v) => String(v[first])), String(n), ...cells].join(' | ')} |`);
    }
  };
  console.log(`\n### What each cohort gained or lost, per run (mean; cohorts.arrow: value at the final marks − what it put in)\n`);
  table([...names].sort(), false);
  // Since schema 13: everyone else on the balance sheet (design decision 57). With the cohorts, the rows
  // sum to what the prices did to the units in existence (0 when no one holds anything but cash).
  if (others.length > 0) {
    console.log(`\n### Everyone else on the balance sheet, per run (mean): funds, exchanges, lenders, arbitrageurs, stables, the outside market\n`);
    table(others, true);
  }
}
