// Contagion channels: reads a results folder and prints, per sweep point, the losses that matter for
// the cross-protocol studies (bad debt booked, insolvent debt still open, liquidations, drawdowns),
// from steps.arrow the same per protocol (what each venue liquidated, lost and passed down its
// waterfall), and, from attribution.arrow, where each protocol's bad debt came from: originating
// shock × channel.
// Usage: node --import tsx notebooks/channels.ts RESULTS_DIR
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { mean, quantile } from '../src/analysis/statistics.ts';
import { attributionLines, manifestProtocols, protocolLines } from '../src/analysis/report.ts';
import { pointRows } from '../src/analysis/pointTable.ts';
import { openSweepResults, readManifest, readResultsTable, startNotebook } from './sweepResults.ts';

startNotebook();
const dir = process.argv[2];
const { sweepPaths, sweepColumns, col, swept, point } = openSweepResults(dir, 'usage: notebooks/channels.ts RESULTS_DIR');
const usd = (x: number) => (Math.abs(x) >= 1e6 ? `${(x / 1e6).toFixed(1)}M` : Math.abs(x) >= 1e3 ? `${(x / 1e3).toFixed(1)}k` : x.toFixed(0));
const points = [...new Set(point)].sort((a, b) => a - b);
const rowsOf = (p: number) => pointRows(point, p);

const metrics: [string, string, (xs: number[]) => string][] = [
  ['total_bad_debt_usd', 'bad debt booked: mean / p95', (xs) => `${usd(mean(xs))} / ${usd(quantile(xs, 0.95))}`],
  ['insolvent_debt_usd', 'insolvent debt left open: mean / p95', (xs) => `${usd(mean(xs))} / ${usd(quantile(xs, 0.95))}`],
  ['liquidation_count', 'liquidations (mean)', (xs) => mean(xs).toFixed(0)],
  ['max_market_drawdown', 'worst market drawdown (mean)', (xs) => `${(100 * mean(xs)).toFixed(1)}%`],
  ['fundamental_drawdown', 'its fundamental drawdown (mean)', (xs) => `${(100 * mean(xs)).toFixed(1)}%`],
];
const header = [...sweepColumns.map((c) => sweepPaths[c]!), 'runs', ...metrics.map((m) => m[1])];
console.log(`| ${header.join(' | ')} |`);
console.log(`|${header.map(() => '---').join('|')}|`);
for (const p of points) {
  const rows = rowsOf(p);
  const cells = metrics.map(([name, , f]) => f(rows.map((i) => col(name)[i]!)));
  console.log(`| ${[...swept.map((v) => String(v[rows[0]!])), String(rows.length), ...cells].join(' | ')} |`);
}

if (existsSync(join(dir!, 'steps.arrow'))) {
  console.log('\nPer protocol, mean per run (steps.arrow):\n');
  const steps = readResultsTable(dir!, 'steps.arrow');
  for (const line of protocolLines(steps, manifestProtocols(readManifest(dir!).experiment), points, (p) => rowsOf(p).length, usd)) console.log(line);
}

if (existsSync(join(dir!, 'attribution.arrow'))) {
  const at = readResultsTable(dir!, 'attribution.arrow');
  console.log('\nBad debt by protocol, originating shock and channel (mean per run):\n');
  for (const line of attributionLines(at, points, (p) => rowsOf(p).length, usd)) console.log(line);
}
