// Who pays? Reads a results folder of the flagship study and prints, per trader cohort, what it
// lost to liquidation, the bad debt it left, and the ADL it bore; then, over runs, how often the
// insurance fund ran dry and ADL fired (with a 95% Wilson interval) and the bad-debt tail.
// Usage: node --import tsx notebooks/who-pays.ts [RESULTS_DIR]   (default results/cross-margin-flaw)
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { columnToArray, readArrowTable } from '../src/io/readArrow.ts';
import { mean, quantile, wilsonInterval } from '../src/analysis/statistics.ts';

const dir = process.argv[2] ?? 'results/cross-margin-flaw';
if (!existsSync(join(dir, 'runs.arrow'))) {
  console.error(`no runs.arrow in ${dir}: run the experiment first (npm start)`);
  process.exit(2);
}
const usd = (x: number) => (Math.abs(x) >= 1e6 ? `${(x / 1e6).toFixed(2)}M` : `${(x / 1e3).toFixed(1)}k`);

const runs = readArrowTable(join(dir, 'runs.arrow'));
const nRuns = runs.numRows;
const col = (name: string) => columnToArray(runs, name) as number[];
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
console.log(`| max cascade depth (mean / max) | ${mean(col('max_cascade_depth')).toFixed(1)} / ${Math.max(...col('max_cascade_depth'))} |`);
// Fairness: per-run medians of effective leverage, then their median over the runs that had any.
const finite = (xs: number[]) => xs.filter((x) => !Number.isNaN(x));
const lev = (x: number) => (Number.isFinite(x) ? `${x.toFixed(2)}×` : '∞ (under water)');
const adlLev = finite(col('adl_hit_median_leverage'));
const liqLev = finite(col('liquidated_median_leverage'));
console.log(`| median leverage of accounts hit by ADL / liquidated | ${adlLev.length ? lev(quantile(adlLev, 0.5)) : 'no ADL'} / ${liqLev.length ? lev(quantile(liqLev, 0.5)) : 'none'} |`);
console.log(`| Gini of losses across accounts (mean) | ${mean(finite(col('loss_gini'))).toFixed(2)} |`);

const eventsPath = join(dir, 'events.arrow');
if (existsSync(eventsPath)) {
  const ev = readArrowTable(eventsPath);
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
