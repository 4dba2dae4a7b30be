// Fund sizing: reads the results of a sweep (default results/fund-sizing) and prints, per point,
// the swept values, the share of paths that reached ADL with a 95% Wilson interval, how often the
// fund ran dry, and the bad-debt tail — the table a protocol designer reads to pick a fund size.
// Usage: node --import tsx notebooks/fund-sizing.ts [RESULTS_DIR]
import { openSweepResults, printPointTable, startNotebook, usdShort as usd } from './sweepResults.ts';
import { shareWithInterval } from '../src/analysis/pointTable.ts';
import { mean, quantile } from '../src/analysis/statistics.ts';

startNotebook();
const dir = process.argv[2] ?? 'results/fund-sizing';
const results = openSweepResults(dir, 'run the experiment first (npx contagion run experiments/fund-sizing.json)');
const { col } = results;
const adl = col('adl_count');
const depleted = col('insurance_fund_depletion_step');
const badDebt = col('total_bad_debt_usd');
const socialized = col('socialized_loss_usd');

printPointTable(results, ['runs', 'P(ADL) [95% CI]', 'fund emptied', 'bad debt mean / p95 / p99', 'socialized (mean)'], (rows) => {
  const n = rows.length;
  const bd = rows.map((i) => badDebt[i]!);
  return [
    String(n),
    shareWithInterval(rows.filter((i) => adl[i]! > 0).length, n),
    `${rows.filter((i) => depleted[i]! >= 0).length}/${n}`,
    `${usd(mean(bd))} / ${usd(quantile(bd, 0.95))} / ${usd(quantile(bd, 0.99))}`,
    usd(mean(rows.map((i) => socialized[i]!))),
  ];
});
