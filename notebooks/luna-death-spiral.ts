// The LUNA death spiral: reads the results of a sweep with an algorithmic stable (default
// results/luna-spiral, from experiments/luna-death-spiral.json) and prints three matrices, rows the
// points' values of every swept path but the last, columns the last's: the share of paths where the
// stable collapsed (its market under a tenth of its peg) with a 95% Wilson interval; the stable's lowest
// price over its peg on the median path; its holders' loss against the peg and the collateral's
// holders' loss against its initial price, means per path. The README's tables of the study are these.
// Usage: node --import tsx notebooks/luna-death-spiral.ts [RESULTS_DIR]
import { openSweepResults, refuse, startNotebook, usdShort } from './sweepResults.ts';
import { pointRows, shareWithInterval } from '../src/analysis/pointTable.ts';
import { STABLE_COLLAPSE_SHARE } from '../src/analysis/report.ts';
import { hasColumn } from '../src/io/readArrow.ts';
import { mean, quantile } from '../src/analysis/statistics.ts';

startNotebook();
const dir = process.argv[2] ?? 'results/luna-spiral';
const results = openSweepResults(dir, 'run the experiment first (npx contagion run experiments/luna-death-spiral.json --out results/luna-spiral)');
const { col, point, swept, sweepColumns, sweepPaths } = results;
if (!hasColumn(results.runs, 'stable_min_price_share')) refuse(`${dir}: runs.arrow has no stable columns (written before schema 9)`);
const low = col('stable_min_price_share');
if (low.every((x) => Number.isNaN(x))) refuse(`${dir}: its experiment has no algorithmic stable`);
const loss = col('stable_holder_loss_usd');
const collateralLoss = col('collateral_holder_loss_usd');

// Rows: the values of every swept path but the last; columns: the last's (one column without a sweep).
const label = (i: number, cols: number[]) => cols.map((c) => String(swept[c]![i])).join(' / ');
const rowCols = sweepColumns.slice(0, -1).map((_, c) => c);
const lastCol = sweepColumns.length > 0 ? [sweepColumns.length - 1] : [];
const points = [...new Set(point)].sort((a, b) => a - b);
const firstRow = (p: number) => point.indexOf(p);
const rowKeys = [...new Set(points.map((p) => label(firstRow(p), rowCols)))];
const colKeys = [...new Set(points.map((p) => label(firstRow(p), lastCol)))];
const cellRows = new Map<string, number[]>();
for (const p of points) {
  const i = firstRow(p);
  const key = `${label(i, rowCols)}|${label(i, lastCol)}`;
  cellRows.set(key, [...(cellRows.get(key) ?? []), ...pointRows(point, p)]);
}
const rowTitle = rowCols.map((c) => sweepPaths[sweepColumns[c]!]!.replace(/^scenario\./, '')).join(' / ') || 'point';
const colTitle = lastCol.map((c) => sweepPaths[sweepColumns[c]!]!.replace(/^scenario\./, '')).join('') || 'all';

function matrix(title: string, cell: (rows: number[]) => string): void {
  console.log(`\n${title}\n`);
  console.log(`| ${rowTitle} \\ ${colTitle} | ${colKeys.join(' | ')} |`);
  console.log(`|---|${colKeys.map(() => '---|').join('')}`);
  for (const r of rowKeys) {
    const cells = colKeys.map((c) => {
      const rows = (cellRows.get(`${r}|${c}`) ?? []).filter((i) => !Number.isNaN(low[i]!));
      return rows.length === 0 ? '–' : cell(rows);
    });
    console.log(`| ${r || 'all'} | ${cells.join(' | ')} |`);
  }
}

console.log(`# ${dir}: the stable per point (${point.length} paths)`);
matrix(`Paths where the stable collapsed (its market under ${STABLE_COLLAPSE_SHARE} of its peg), with a 95% Wilson interval`, (rows) =>
  shareWithInterval(rows.filter((i) => low[i]! < STABLE_COLLAPSE_SHARE).length, rows.length),
);
matrix("The stable's lowest price over its peg on the median path", (rows) => quantile(rows.map((i) => low[i]!), 0.5).toFixed(3));
matrix("The stable's holders' loss against the peg, mean per path", (rows) => usdShort(mean(rows.map((i) => loss[i]!))));
matrix("The collateral's holders' loss against its initial price, mean per path", (rows) => usdShort(mean(rows.map((i) => collateralLoss[i]!))));
