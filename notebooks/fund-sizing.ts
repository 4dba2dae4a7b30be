// Fund sizing: reads the results of a sweep (default results/fund-sizing) and prints, per point,
// the swept values, the share of paths that reached ADL with a 95% Wilson interval, how often the
// fund ran dry, and the bad-debt tail — the table a protocol designer reads to pick a fund size.
// Usage: node --import tsx notebooks/fund-sizing.ts [RESULTS_DIR]
import { openSweepResults, startNotebook } from './sweepResults.ts';
import { mean, quantile, wilsonInterval } from '../src/analysis/statistics.ts';

startNotebook();
const dir = process.argv[2] ?? 'results/fund-sizing';
const { sweepPaths, sweepColumns, col, swept, point } = openSweepResults(dir, 'run the experiment first (npx contagion run experiments/fund-sizing.json)');
const adl = col('adl_count');
const depleted = col('insurance_fund_depletion_step');
const badDebt = col('total_bad_debt_usd');
const socialized = col('socialized_loss_usd');
const usd = (x: number) => (Math.abs(x) >= 1e6 ? `${(x / 1e6).toFixed(2)}M` : `${(x / 1e3).toFixed(1)}k`);

const header = [...sweepColumns.map((c) => sweepPaths[c]!), 'runs', 'P(ADL) [95% CI]', 'fund emptied', 'bad debt mean / p95 / p99', 'socialized (mean)'];
console.log(`| ${header.join(' | ')} |`);
console.log(`|${header.map(() => '---').join('|')}|`);
for (const p of [...new Set(point)].sort((a, b) => a - b)) {
  const rows = point.flatMap((q, i) => (q === p ? [i] : []));
  const n = rows.length;
  const k = rows.filter((i) => adl[i]! > 0).length;
  const [lo, hi] = wilsonInterval(k, n);
  const bd = rows.map((i) => badDebt[i]!);
  const values = swept.map((v) => String(v[rows[0]!]));
  console.log(
    `| ${[
      ...values,
      String(n),
      `${((100 * k) / n).toFixed(0)}% [${(100 * lo).toFixed(0)}–${(100 * hi).toFixed(0)}%]`,
      `${rows.filter((i) => depleted[i]! >= 0).length}/${n}`,
      `${usd(mean(bd))} / ${usd(quantile(bd, 0.95))} / ${usd(quantile(bd, 0.99))}`,
      usd(mean(rows.map((i) => socialized[i]!))),
    ].join(' | ')} |`,
  );
}
