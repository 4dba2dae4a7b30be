// Figures of a results folder (`contagion report RESULTS --figures DIR`), each as a Vega-Lite spec with
// its data inline (NAME.vl.json: edit it, or open it in the Vega editor) and rendered to SVG (NAME.svg)
// by vega's headless renderer (no canvas, no browser):
//   adl-share      the share of runs reaching ADL per point, with its 95% Wilson interval;
//   loss-waterfall who paid the bad debt per point: insurance fund, ADL'd winners, socialized, uncovered;
//   cohort-pnl     (a folder with cohorts.arrow) what each cohort gained or lost per point, mean per run;
//   fund-curve     (a size-fund folder) the share of paths that need more than a fund F, against F, per
//                  point, with the target share: the fund needed is where a curve crosses the target;
//   stable-peg     (a folder with an algorithmic stable and prices.arrow) the stable's market price over
//                  its peg, step by step: per point the median path and the band of its 10th to 90th
//                  percentiles over the runs.
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { columnToArray } from '../io/readArrow.ts';
import { cohortPnlSums, pointLabels, readResultsFile, waterfalls, type Waterfall } from './report.ts';
import { quantile, wilsonInterval } from './statistics.ts';
import { pointRows } from './pointTable.ts';

export interface Figure {
  name: string;
  title: string;
  /** A Vega-Lite spec, its data inline. */
  spec: Record<string, unknown>;
}

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';

/** A figure with one column per sweep point: its title, data and the rest of its Vega-Lite spec. */
function perPoint(name: string, title: string, values: object[], rest: Record<string, unknown>): Figure {
  return { name, title, spec: { $schema: SCHEMA, title, data: { values }, width: { step: 28 }, height: 220, ...rest } };
}

/** The figures of a run's (or merge's) results folder. */
export function runFigures(dir: string): Figure[] {
  const runs = readResultsFile(dir, 'runs.arrow');
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { sweep_columns?: Record<string, string>; experiment?: ManifestExperiment };
  const point = columnToArray(runs, 'point_index') as number[];
  const adl = columnToArray(runs, 'adl_count') as number[];
  const { labels, paths } = pointLabels(runs, manifest.sweep_columns ?? {});
  const order = [...labels.keys()].sort((a, b) => a - b);
  const sortOrder = order.map((p) => labels.get(p)!);
  const shares = order.map((p) => {
    const rows = pointRows(point, p);
    const k = rows.filter((i) => adl[i]! > 0).length;
    const [lo, hi] = wilsonInterval(k, rows.length);
    return { point: labels.get(p)!, runs: rows.length, adl_runs: k, share: k / rows.length, lower: lo, upper: hi };
  });
  const x = { field: 'point', type: 'nominal', sort: sortOrder, title: paths.length > 0 ? paths : ['point'], axis: { labelAngle: -45, labelLimit: 400 } };
  const adlShare = perPoint('adl-share', 'Share of runs reaching ADL (95% Wilson interval)', shares, {
    encoding: { x },
    layer: [
      { mark: { type: 'rule' }, encoding: { y: { field: 'lower', type: 'quantitative', title: 'share of runs', axis: { format: '%' }, scale: { domain: [0, 1] } }, y2: { field: 'upper' } } },
      { mark: { type: 'point', filled: true, size: 50 }, encoding: { y: { field: 'share', type: 'quantitative' } } },
    ],
  });
  const stages: [keyof Waterfall, string][] = [
    ['fund', 'insurance fund'],
    ['adl', "ADL'd winners"],
    ['socialized', 'socialized'],
    ['uncovered', 'left uncovered'],
  ];
  const falls = waterfalls(runs);
  const rows = order.flatMap((p) => {
    const w = falls.get(p)!;
    return stages.map(([key, stage], i) => ({ point: labels.get(p)!, stage, order: i, usd: w[key] }));
  });
  const waterfall = perPoint('loss-waterfall', 'Who paid the bad debt (mean per run)', rows, {
    mark: 'bar',
    encoding: {
      x,
      y: { field: 'usd', type: 'quantitative', aggregate: 'sum', title: 'USD per run', axis: { format: '~s' } },
      color: { field: 'stage', type: 'nominal', sort: stages.map(([, st]) => st), title: 'paid by' },
      order: { field: 'order', type: 'quantitative' },
    },
  });
  const runsOf = (p: number) => pointRows(point, p).length;
  const cohorts = pnlFigure(dir, labels, x, runsOf, 'accounts');
  const others = pnlFigure(dir, labels, x, runsOf, 'others');
  const peg = stablePegFigure(dir, manifest.experiment, labels, sortOrder);
  return [adlShare, waterfall, ...(cohorts ? [cohorts] : []), ...(others ? [others] : []), ...(peg ? [peg] : [])];
}

/**
 * What each participant gained or lost, mean per run of each point (cohorts.arrow's pnl_usd), a bar per
 * participant side by side within a point: `cohort-pnl`, the cohorts and vaults; `balance-sheet`, everyone
 * else (funds, exchanges, lenders, treasuries, arbitrageurs, stables, the outside market; design decision
 * 57), apart because their sums (the outside market's billions in a LUNA run) would flatten the cohorts'
 * bars. Null without cohorts.arrow, or without other participants (a folder before schema 13).
 */
function pnlFigure(dir: string, labels: Map<number, string>, x: Record<string, unknown>, runsOf: (p: number) => number, which: 'accounts' | 'others'): Figure | null {
  if (!existsSync(join(dir, 'cohorts.arrow'))) return null;
  const sums = cohortPnlSums(readResultsFile(dir, 'cohorts.arrow'));
  const names = sums[which];
  if (names.length === 0) return null;
  // Mean per run of the point: runs.arrow's count (a run has a row only for cohorts with accounts).
  const values = [...labels.keys()]
    .sort((a, b) => a - b)
    .flatMap((p) => names.filter((c) => sums.has(p, c)).map((c) => ({ point: labels.get(p)!, cohort: c, usd: sums.sum(p, c) / runsOf(p) })));
  const [name, title, legend] =
    which === 'accounts'
      ? ['cohort-pnl', 'What each cohort gained or lost (mean per run)', 'cohort']
      : ['balance-sheet', 'What everyone else on the balance sheet gained or lost (mean per run)', 'participant'];
  return perPoint(name, title, values, {
    mark: 'bar',
    encoding: {
      x,
      xOffset: { field: 'cohort', type: 'nominal' },
      y: { field: 'usd', type: 'quantitative', title: 'USD per run', axis: { format: '~s' } },
      color: { field: 'cohort', type: 'nominal', title: legend },
    },
  });
}

/** What stablePegFigure reads of the manifest's resolved experiment. */
type ManifestExperiment = { scenario?: { assets?: { symbol: string; initialPrice: number; derived?: { kind: string } }[] } };

/**
 * The stable-peg figure: the first algorithmic stable of the folder's experiment (its manifest's), its
 * market price over its peg (initialPrice) per step and point, as the median over the runs and the
 * 10th–90th percentile band. Null without a stable or without prices.arrow.
 */
function stablePegFigure(dir: string, experiment: ManifestExperiment | undefined, labels: Map<number, string>, sortOrder: string[]): Figure | null {
  const stable = experiment?.scenario?.assets?.find((a) => a.derived?.kind === 'algorithmicStable');
  if (!stable || !existsSync(join(dir, 'prices.arrow'))) return null;
  const prices = readResultsFile(dir, 'prices.arrow');
  const point = columnToArray(prices, 'point_index') as number[];
  const step = columnToArray(prices, 'step') as number[];
  const asset = columnToArray(prices, 'asset') as string[];
  const market = columnToArray(prices, 'market_price') as number[];
  const byKey = new Map<string, number[]>();
  for (let i = 0; i < point.length; i++) {
    if (asset[i] !== stable.symbol) continue;
    const key = `${point[i]}/${step[i]}`;
    let list = byKey.get(key);
    if (!list) byKey.set(key, (list = []));
    list.push(market[i]! / stable.initialPrice);
  }
  const values = [...byKey.entries()].map(([key, list]) => {
    const [p, st] = key.split('/').map(Number) as [number, number];
    return { point: labels.get(p)!, step: st, median: quantile(list, 0.5), p10: quantile(list, 0.1), p90: quantile(list, 0.9) };
  });
  const color = { field: 'point', type: 'nominal', sort: sortOrder, title: 'point' };
  const x = { field: 'step', type: 'quantitative', title: 'step' };
  return {
    name: 'stable-peg',
    title: `${stable.symbol}: market price over its peg (median and 10th–90th percentiles over the runs)`,
    spec: {
      $schema: SCHEMA,
      title: `${stable.symbol}: market price over its peg (median and 10th–90th percentiles over the runs)`,
      data: { values },
      width: 480,
      height: 260,
      layer: [
        { mark: { type: 'area', opacity: 0.2 }, encoding: { x, y: { field: 'p10', type: 'quantitative', title: 'price / peg' }, y2: { field: 'p90' }, color } },
        { mark: { type: 'line' }, encoding: { x, y: { field: 'median', type: 'quantitative' }, color } },
      ],
    },
  };
}

/** The figure of a size-fund folder: each point's share of paths needing more than F, against F. */
export function sizeFundFigures(dir: string): Figure[] {
  const record = JSON.parse(readFileSync(join(dir, 'size-fund.json'), 'utf8')) as {
    target: number;
    fund_path: string;
    outcome: string;
    points: { point_index: number | null; values: Record<string, unknown>; requirements_usd: (number | null)[]; answer: { fund_usd: number | null } }[];
    search: { min_usd: number };
  };
  const label = (p: (typeof record.points)[number]) =>
    p.point_index === null ? 'all paths' : Object.values(p.values).map(String).join(' / ') || `point ${p.point_index}`;
  const rows: { point: string; fund_usd: number; share: number }[] = [];
  for (const p of record.points) {
    const n = p.requirements_usd.length;
    // The share of paths whose requirement exceeds F is a step function of F, falling at each requirement;
    // paths no fund tried cleared (null) never leave it.
    const finite = p.requirements_usd.filter((x): x is number => x !== null).sort((a, b) => a - b);
    const name = label(p);
    rows.push({ point: name, fund_usd: record.search.min_usd, share: finite.filter((x) => x > record.search.min_usd).length / n + (n - finite.length) / n });
    for (const [i, x] of finite.entries()) {
      if (x <= record.search.min_usd || finite[i + 1] === x) continue;
      rows.push({ point: name, fund_usd: x, share: (finite.length - i - 1 + (n - finite.length)) / n });
    }
  }
  const what = record.outcome === 'adl' ? 'ADL' : record.outcome.replace(/-/g, ' ');
  return [
    {
      name: 'fund-curve',
      title: `Share of paths that reach ${what} with a fund F, against F; the fund needed is where a curve crosses the target (${record.target})`,
      spec: {
        $schema: SCHEMA,
        title: `Paths reaching ${what} with an insurance fund of F`,
        width: 420,
        height: 240,
        layer: [
          {
            data: { values: rows },
            mark: { type: 'line', interpolate: 'step-after', point: false },
            encoding: {
              x: { field: 'fund_usd', type: 'quantitative', scale: { type: 'symlog', constant: 10_000 }, title: `${record.fund_path} (USD)`, axis: { format: '~s' } },
              y: { field: 'share', type: 'quantitative', title: 'share of paths', axis: { format: '%' }, scale: { domain: [0, 1] } },
              color: { field: 'point', type: 'nominal', title: record.points.length > 1 ? 'point' : null, legend: { labelLimit: 400 } },
            },
          },
          { data: { values: [{ target: record.target }] }, mark: { type: 'rule', strokeDash: [4, 4] }, encoding: { y: { field: 'target', type: 'quantitative' } } },
        ],
      },
    },
  ];
}

/** Writes each figure's spec (NAME.vl.json) and its SVG (NAME.svg) into `outDir`; returns the SVG files' names. */
export async function renderFigures(figures: Figure[], outDir: string): Promise<string[]> {
  const vega = await import('vega');
  const vegaLite = await import('vega-lite');
  const written: string[] = [];
  for (const f of figures) {
    const view = new vega.View(vega.parse(vegaLite.compile(f.spec as never).spec), { renderer: 'none' });
    const svg = await view.toSVG();
    view.finalize();
    for (const [file, text] of [
      [`${f.name}.vl.json`, `${JSON.stringify(f.spec, null, 2)}\n`],
      [`${f.name}.svg`, `${svg}\n`],
    ] as const) {
      const path = join(outDir, file);
      writeFileSync(`${path}.tmp`, text);
      renameSync(`${path}.tmp`, path);
    }
    written.push(`${f.name}.svg`);
  }
  return written;
}

/** The figures of results folder `dir`: a run's (manifest and runs.arrow), a size-fund's (size-fund.json), or both. */
export function resultsFigures(dir: string): Figure[] {
  const out: Figure[] = [];
  if (existsSync(join(dir, 'manifest.json')) && existsSync(join(dir, 'runs.arrow'))) out.push(...runFigures(dir));
  if (existsSync(join(dir, 'size-fund.json'))) out.push(...sizeFundFigures(dir));
  return out;
}
