// Contagion channels: reads a results folder and prints, per sweep point, the losses that matter for
// the cross-protocol studies (bad debt booked, insolvent debt still open, liquidations, drawdowns),
// from steps.arrow the same per protocol (what each venue liquidated, lost and passed down its
// waterfall), and, from attribution.arrow, where each protocol's bad debt came from: originating
// shock × channel.
// Usage: node --import tsx notebooks/channels.ts RESULTS_DIR
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { mean, quantile } from '../src/analysis/statistics.ts';
import { attributionLines } from '../src/analysis/report.ts';
import { columnToArray } from '../src/io/readArrow.ts';
import { openSweepResults, readResultsTable, startNotebook } from './sweepResults.ts';

startNotebook();
const dir = process.argv[2];
const { sweepPaths, sweepColumns, col, swept, point } = openSweepResults(dir, 'usage: notebooks/channels.ts RESULTS_DIR');
const usd = (x: number) => (Math.abs(x) >= 1e6 ? `${(x / 1e6).toFixed(1)}M` : Math.abs(x) >= 1e3 ? `${(x / 1e3).toFixed(1)}k` : x.toFixed(0));
const points = [...new Set(point)].sort((a, b) => a - b);
const rowsOf = (p: number) => point.flatMap((q, i) => (q === p ? [i] : []));

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
  // Σ over a run's steps per protocol, then the mean over the point's runs.
  const st = readResultsTable(dir!, 'steps.arrow');
  const stepCol = (name: string) => columnToArray(st, name);
  const stPoint = stepCol('point_index') as number[];
  const stProtocol = stepCol('protocol') as string[];
  const sums: [string, string][] = [
    ['liquidations', 'liquidations'],
    ['liquidation_volume_usd', 'liquidated'],
    ['bad_debt_usd', 'bad debt'],
    ['fund_payout_usd', 'paid by its fund'],
    ['adl_volume_usd', 'ADL volume'],
    ['socialized_loss_usd', 'socialized'],
  ];
  const values = sums.map(([name]) => stepCol(name) as number[]);
  // Protocols in the order the manifest's experiment lists them (exchanges, then lending markets).
  const manifest = JSON.parse(readFileSync(join(dir!, 'manifest.json'), 'utf8')) as { experiment: { scenario: { exchanges: { id: string }[]; lendingMarkets?: { id: string }[] } } };
  const protocols = [...manifest.experiment.scenario.exchanges.map((x) => x.id), ...(manifest.experiment.scenario.lendingMarkets ?? []).map((l) => l.id)];
  const total = new Map<string, number[]>();
  for (let i = 0; i < stPoint.length; i++) {
    const key = `${stPoint[i]}/${stProtocol[i]}`;
    let acc = total.get(key);
    if (!acc) total.set(key, (acc = sums.map(() => 0)));
    for (let k = 0; k < sums.length; k++) acc[k]! += values[k]![i]!;
  }
  console.log('\nPer protocol, mean per run (steps.arrow):\n');
  console.log(`| point | protocol | ${sums.map((m) => m[1]).join(' | ')} |`);
  console.log(`|---|---|${sums.map(() => '---').join('|')}|`);
  for (const p of points) {
    const n = rowsOf(p).length;
    for (const protocol of protocols) {
      const acc = total.get(`${p}/${protocol}`);
      if (!acc) continue;
      const cells = acc.map((v, k) => (k === 0 ? (v / n).toFixed(0) : usd(v / n)));
      console.log(`| ${p} | ${protocol} | ${cells.join(' | ')} |`);
    }
  }
}

if (existsSync(join(dir!, 'attribution.arrow'))) {
  const at = readResultsTable(dir!, 'attribution.arrow');
  console.log('\nBad debt by protocol, originating shock and channel (mean per run):\n');
  for (const line of attributionLines(at, points, (p) => rowsOf(p).length, usd)) console.log(line);
}
