// Arbitrage capital: reads the results of a sweep (default results/arbitrage-capital) and prints, per
// point, the swept values, what the cascade left — P(ADL) with a 95% Wilson interval, bad debt, the
// liquidation volume, how far the market fell beyond the fundamental — and what the arbitrageurs did:
// volume, PnL, and in how many paths their cash ran out (under 1% of it left after some step).
// Usage: node --import tsx notebooks/arbitrage-capital.ts [RESULTS_DIR]
import { openSweepResults, printPointTable, startNotebook, usdShort as usd } from './sweepResults.ts';
import { shareWithInterval } from '../src/analysis/pointTable.ts';
import { cashRanOut } from '../src/analysis/report.ts';
import { mean, quantile } from '../src/analysis/statistics.ts';

startNotebook();
const dir = process.argv[2] ?? 'results/arbitrage-capital';
const results = openSweepResults(dir, 'run the experiment first (npx contagion run experiments/arbitrage-capital.json)');
const { col } = results;
const adl = col('adl_count');
const badDebt = col('total_bad_debt_usd');
const liquidated = col('liquidation_volume_usd');
const amplification = col('drawdown_amplification');
const volume = col('arbitrage_volume_usd');
const pnl = col('arbitrageur_pnl_usd');
const minCash = col('arbitrageur_min_cash_share');

const header = [
  'runs',
  'P(ADL) [95% CI]',
  'bad debt mean / p99',
  'liquidated (mean)',
  'drawdown amplification (median)',
  'arbitrage volume (mean)',
  'arbitrageur PnL (mean)',
  'cash ran out',
];
printPointTable(results, header, (rows) => {
  const bd = rows.map((i) => badDebt[i]!);
  return [
    String(rows.length),
    shareWithInterval(rows.filter((i) => adl[i]! > 0).length, rows.length),
    `${usd(mean(bd))} / ${usd(quantile(bd, 0.99))}`,
    usd(mean(rows.map((i) => liquidated[i]!))),
    quantile(rows.map((i) => amplification[i]!).filter((x) => !Number.isNaN(x)), 0.5).toFixed(4),
    usd(mean(rows.map((i) => volume[i]!))),
    usd(mean(rows.map((i) => pnl[i]!))),
    cashRanOut(minCash, rows),
  ];
});
