// `contagion report RESULTS`: a results folder as one Markdown report — what ran (the manifest's
// provenance), the outcomes per sweep point (the table `contagion run` prints), who paid the bad debt
// (the loss waterfall per point: insurance fund, ADL'd winners, socialization, what nothing covered),
// the risk figures lending-risk firms publish (value and liquidations at risk, expected shortfall), what
// the arbitrageurs did (when there were any), with several protocols what each liquidated and lost
// (steps.arrow), where the losses came from (attribution.arrow: protocol × originating shock ×
// channel), and, for a `size-fund` folder, its answers. The notebooks go further on each; this is the
// summary a paper's appendix or a design review starts from.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Table } from 'apache-arrow';
import { UsageError } from '../experiment/errors.ts';
import { columnToArray, hasColumn, readArrowTable } from '../io/readArrow.ts';
import { pointRows, pointTableOf, shareWithInterval, usd } from './pointTable.ts';
import { mean, quantile } from './statistics.ts';
import { confidenceLabel } from './fundSizing.ts';
import { riskMetrics, type QuantileEstimate } from './riskMetrics.ts';

export { usd };

/** `dir/name` as an Arrow table, or a UsageError (exit 2) naming the file and the remedy. */
export function readResultsFile(dir: string, name: string): Table {
  const file = join(dir, name);
  try {
    return readArrowTable(file);
  } catch (e) {
    const why = e instanceof Error ? e.message.replace(`${file}: `, '') : String(e);
    throw new UsageError(`${file}: cannot be read (${why}): copy the folder again, or run the experiment again into a new folder`);
  }
}

/** `dir/file` parsed as JSON, or a UsageError naming it. */
function readJson(dir: string, file: string): Record<string, unknown> {
  const path = join(dir, file);
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  } catch (e) {
    throw new UsageError(`${path}: not valid JSON (${(e as Error).message})`);
  }
}

/**
 * Bad debt by protocol, originating shock and channel, mean per run of each point, largest first: the
 * rows of attribution.arrow summed. `runsOf` gives a point's number of runs.
 */
export function attributionLines(at: Table, points: number[], runsOf: (p: number) => number, money: (x: number) => string = usd): string[] {
  const ap = columnToArray(at, 'point_index') as number[];
  const protocol = columnToArray(at, 'protocol') as string[];
  const origin = columnToArray(at, 'origin') as string[];
  const channel = columnToArray(at, 'channel') as string[];
  const loss = columnToArray(at, 'loss_usd') as number[];
  const lines = ['| point | protocol | origin | channel | loss per run |', '|---|---|---|---|---|'];
  for (const p of points) {
    const n = runsOf(p);
    const sums = new Map<string, number>();
    ap.forEach((q, i) => {
      if (q !== p) return;
      const key = `${protocol[i]} | ${origin[i]} | ${channel[i]}`;
      sums.set(key, (sums.get(key) ?? 0) + loss[i]!);
    });
    for (const [key, v] of [...sums].sort((a, b) => b[1] - a[1])) lines.push(`| ${p} | ${key} | ${money(v / n)} |`);
  }
  return lines;
}

/**
 * cohorts.arrow summed by point and participant: the labels in the order they first appear, split into
 * the cohorts (trader cohorts and backstop vaults) and everyone else on the balance sheet (schema 13's
 * other roles, named "fund ins-a", "lend lenders", "outside market"…: engine/participants.ts), and
 * Σ pnl_usd of each pair. A folder from before schema 13 has no role column: every row is a cohort.
 */
export interface CohortPnlSums {
  /** Trader cohorts and backstop vaults. */
  accounts: string[];
  /** The other participants. */
  others: string[];
  /** Σ pnl_usd over point p's rows of label c (0 when it has none). */
  sum: (p: number, c: string) => number;
  /** Whether point p has rows of label c (a cohort without accounts there has none). */
  has: (p: number, c: string) => boolean;
}

/** Sums cohorts.arrow's pnl_usd by (point, participant), in row order. */
export function cohortPnlSums(ct: Table): CohortPnlSums {
  const point = columnToArray(ct, 'point_index') as number[];
  const cohort = columnToArray(ct, 'cohort') as string[];
  const role = hasColumn(ct, 'role') ? (columnToArray(ct, 'role') as string[]) : null;
  const pnl = columnToArray(ct, 'pnl_usd') as number[];
  const sums = new Map<string, number>();
  const accounts = new Set<string>();
  const others = new Set<string>();
  point.forEach((p, i) => {
    const r = role?.[i] ?? 'trader';
    const label = cohort[i]!;
    (r === 'trader' || r === 'backstop_vault' ? accounts : others).add(label);
    sums.set(`${p}/${label}`, (sums.get(`${p}/${label}`) ?? 0) + pnl[i]!);
  });
  return {
    accounts: [...accounts],
    others: [...others],
    sum: (p, c) => sums.get(`${p}/${c}`) ?? 0,
    has: (p, c) => sums.has(`${p}/${c}`),
  };
}

/**
 * What each participant gained or lost, mean per run of each point: a row per point, a column per
 * label of `which` (the cohorts, or the others on the balance sheet; in the order they first appear),
 * from cohorts.arrow's pnl_usd. `runsOf` gives a point's number of runs. No lines when there are none.
 */
export function cohortLines(
  ct: Table,
  points: number[],
  runsOf: (p: number) => number,
  money: (x: number) => string = usd,
  which: 'accounts' | 'others' = 'accounts',
): string[] {
  const sums = cohortPnlSums(ct);
  const labels = sums[which];
  if (labels.length === 0) return [];
  const lines = [`| point | ${labels.join(' | ')} |`, `|---|${labels.map(() => '---|').join('')}`];
  for (const p of points) lines.push(`| ${p} | ${labels.map((c) => money(sums.sum(p, c) / runsOf(p))).join(' | ')} |`);
  return lines;
}

/** steps.arrow's columns that protocolLines sums, with their headings. */
const PROTOCOL_SUMS: ReadonlyArray<[string, string]> = [
  ['liquidations', 'liquidations'],
  ['liquidation_volume_usd', 'liquidated'],
  ['bad_debt_usd', 'bad debt'],
  ['fund_payout_usd', 'paid by its fund'],
  ['adl_volume_usd', 'ADL volume'],
  ['socialized_loss_usd', 'socialized'],
];

/**
 * Per point and protocol, mean per run: what each protocol liquidated, lost and passed down its
 * waterfall — steps.arrow's rows summed over a run's steps. `protocols` in the order to print them
 * (the manifest's exchanges, then lending markets); `runsOf` gives a point's number of runs.
 */
export function protocolLines(steps: Table, protocols: readonly string[], points: number[], runsOf: (p: number) => number, money: (x: number) => string = usd): string[] {
  const point = columnToArray(steps, 'point_index') as number[];
  const protocol = columnToArray(steps, 'protocol') as string[];
  const values = PROTOCOL_SUMS.map(([name]) => columnToArray(steps, name) as number[]);
  const totals = new Map<string, number[]>();
  for (let i = 0; i < point.length; i++) {
    const key = `${point[i]}/${protocol[i]}`;
    let acc = totals.get(key);
    if (!acc) totals.set(key, (acc = PROTOCOL_SUMS.map(() => 0)));
    for (let k = 0; k < values.length; k++) acc[k]! += values[k]![i]!;
  }
  const lines = [`| point | protocol | ${PROTOCOL_SUMS.map((c) => c[1]).join(' | ')} |`, `|---|---|${PROTOCOL_SUMS.map(() => '---').join('|')}|`];
  for (const p of points) {
    const n = runsOf(p);
    for (const name of protocols) {
      const acc = totals.get(`${p}/${name}`);
      if (acc) lines.push(`| ${p} | ${name} | ${acc.map((v, k) => (k === 0 ? (v / n).toFixed(0) : money(v / n))).join(' | ')} |`);
    }
  }
  return lines;
}

/**
 * Per point, what the arbitrageurs did (runs.arrow, schema 8): their volume and PnL, mean per run, the
 * median of the lowest share of their cash they kept, and in how many runs it fell under 1% (ran out).
 * Empty when no run had arbitrage cash (the column is NaN there) or the folder predates the columns.
 */
export function arbitrageLines(runs: Table, labels: Map<number, string>, axis: string | null, money: (x: number) => string = usd): string[] {
  if (!hasColumn(runs, 'arbitrageur_min_cash_share')) return [];
  const point = columnToArray(runs, 'point_index') as number[];
  const volume = columnToArray(runs, 'arbitrage_volume_usd') as number[];
  const pnl = columnToArray(runs, 'arbitrageur_pnl_usd') as number[];
  const minCash = columnToArray(runs, 'arbitrageur_min_cash_share') as number[];
  if (minCash.every((x) => Number.isNaN(x))) return [];
  const lines = [
    '## Arbitrageurs',
    '',
    'Mean per run of their purchases + sales and of their PnL (cash + inventory at the final market price, less what they started with); the median of the lowest share of their starting cash they held; runs where it fell under 1%.',
    '',
    `| point | ${axis === null ? '' : `${axis} | `}runs | volume | PnL | lowest cash share (median) | cash ran out |`,
    `|---|${axis === null ? '' : '---|'}---|---|---|---|---|`,
  ];
  for (const p of [...labels.keys()].sort((a, b) => a - b)) {
    const rows = pointRows(point, p);
    const withCash = rows.filter((i) => !Number.isNaN(minCash[i]!));
    const lowest = withCash.length === 0 ? '–' : quantile(withCash.map((i) => minCash[i]!), 0.5).toFixed(3);
    lines.push(
      `| ${p} | ${axis === null ? '' : `${labels.get(p)} | `}${rows.length} | ${money(mean(rows.map((i) => volume[i]!)))} | ${money(mean(rows.map((i) => pnl[i]!)))} | ${lowest} | ${cashRanOut(minCash, rows)} |`,
    );
  }
  return lines;
}

/** A stable has collapsed in a run when its market price fell under this share of its peg. */
export const STABLE_COLLAPSE_SHARE = 0.1;

/**
 * Per point, what the algorithmic stables did (runs.arrow, schema 9): the median and the lowest of their
 * lowest market price as a share of the peg, the runs where it fell under STABLE_COLLAPSE_SHARE (with a
 * 95% Wilson interval), what the run sold and the swap redeemed, the holders' loss against the peg and
 * the collateral's holders' loss (means per run), and the collateral's supply at the end over at step 0 (median, largest). Empty when no
 * run had a stable or the folder predates the columns.
 */
export function stableLines(runs: Table, labels: Map<number, string>, axis: string | null, money: (x: number) => string = usd): string[] {
  if (!hasColumn(runs, 'stable_min_price_share')) return [];
  const point = columnToArray(runs, 'point_index') as number[];
  const low = columnToArray(runs, 'stable_min_price_share') as number[];
  if (low.every((x) => Number.isNaN(x))) return [];
  const sold = columnToArray(runs, 'stable_run_sold_usd') as number[];
  const redeemed = columnToArray(runs, 'stable_redeemed_usd') as number[];
  const loss = columnToArray(runs, 'stable_holder_loss_usd') as number[];
  const collateralLoss = columnToArray(runs, 'collateral_holder_loss_usd') as number[];
  const multiple = columnToArray(runs, 'collateral_supply_multiple') as number[];
  const lines = [
    '## Algorithmic stables',
    '',
    `The stable's lowest market price as a share of its peg (median, lowest), the runs where it fell under ${STABLE_COLLAPSE_SHARE} of it (collapsed, with a 95% Wilson interval); mean per run of what the holders' run sold, of the face value the swap redeemed, of the holders' loss against the peg and of the collateral's holders' loss (against its initial price); the collateral's supply at the end over at step 0 (median, largest).`,
    '',
    `| point | ${axis === null ? '' : `${axis} | `}runs | lowest price (median / lowest) | collapsed | run sold | redeemed | holders' loss | collateral holders' loss | collateral supply × (median / largest) |`,
    `|---|${axis === null ? '' : '---|'}---|---|---|---|---|---|---|---|`,
  ];
  const times = (x: number) => (x < 1000 ? x.toFixed(2) : x.toExponential(2));
  for (const p of [...labels.keys()].sort((a, b) => a - b)) {
    const rows = pointRows(point, p).filter((i) => !Number.isNaN(low[i]!));
    if (rows.length === 0) continue;
    const lows = rows.map((i) => low[i]!);
    const multiples = rows.map((i) => multiple[i]!);
    lines.push(
      `| ${p} | ${axis === null ? '' : `${labels.get(p)} | `}${rows.length} | ${quantile(lows, 0.5).toFixed(3)} / ${Math.min(...lows).toPrecision(2)} | ` +
        `${shareWithInterval(lows.filter((x) => x < STABLE_COLLAPSE_SHARE).length, rows.length)} | ${money(mean(rows.map((i) => sold[i]!)))} | ` +
        `${money(mean(rows.map((i) => redeemed[i]!)))} | ${money(mean(rows.map((i) => loss[i]!)))} | ${money(mean(rows.map((i) => collateralLoss[i]!)))} | ` +
        `${times(quantile(multiples, 0.5))} / ${times(Math.max(...multiples))} |`,
    );
  }
  return lines;
}

/**
 * Of `rows` (runs of one point), how many the arbitrageurs' cash ran out in — under 1% of it left after
 * some step (runs.arrow's arbitrageur_min_cash_share) — as "k/n" over the runs that had arbitrage
 * cash; "–" when none had.
 */
export function cashRanOut(minCash: readonly number[], rows: readonly number[]): string {
  const withCash = rows.filter((i) => !Number.isNaN(minCash[i]!));
  return withCash.length === 0 ? '–' : `${withCash.filter((i) => minCash[i]! < 0.01).length}/${withCash.length}`;
}

/** The protocol ids of a results folder's experiment (its manifest's), exchanges then lending markets. */
export function manifestProtocols(experiment: unknown): string[] {
  const s = (experiment as { scenario?: { exchanges?: { id: string }[]; lendingMarkets?: { id: string }[] } } | undefined)?.scenario;
  return [...(s?.exchanges ?? []).map((x) => x.id), ...(s?.lendingMarkets ?? []).map((l) => l.id)];
}

/**
 * Each point's label: its swept values joined by " / " (`point P` when nothing is swept); and the swept
 * paths, without their "scenario." prefix. `sweep` is the manifest's sweep_columns (column → path).
 */
export function pointLabels(runs: Table, sweep: Record<string, string>): { labels: Map<number, string>; paths: string[] } {
  const columns = Object.keys(sweep);
  const point = columnToArray(runs, 'point_index') as number[];
  const values = columns.map((c) => columnToArray(runs, c));
  const labels = new Map<number, string>();
  point.forEach((p, i) => {
    if (!labels.has(p)) labels.set(p, columns.length === 0 ? `point ${p}` : values.map((v) => String(v[i])).join(' / '));
  });
  return { labels, paths: columns.map((c) => sweep[c]!.replace(/^scenario\./, '')) };
}

/** The waterfall of one set of runs: mean per run of each stage, USD. */
export interface Waterfall {
  runs: number;
  badDebt: number;
  fund: number;
  adl: number;
  socialized: number;
  uncovered: number;
}

/** Mean per run of each stage of the loss waterfall, per point (from runs.arrow). */
export function waterfalls(runs: Table): Map<number, Waterfall> {
  const col = (name: string) => columnToArray(runs, name) as number[];
  const point = col('point_index');
  const stages = {
    badDebt: col('total_bad_debt_usd'),
    fund: col('fund_payout_usd'),
    adl: col('adl_absorbed_usd'),
    socialized: col('socialized_loss_usd'),
    uncovered: col('uncovered_bad_debt_usd'),
  };
  const out = new Map<number, Waterfall>();
  for (const p of [...new Set(point)].sort((a, b) => a - b)) {
    const rows = pointRows(point, p);
    const m = (xs: number[]) => mean(rows.map((i) => xs[i]!));
    out.set(p, { runs: rows.length, badDebt: m(stages.badDebt), fund: m(stages.fund), adl: m(stages.adl), socialized: m(stages.socialized), uncovered: m(stages.uncovered) });
  }
  return out;
}

const share = (part: number, whole: number) => (whole > 0 ? ` (${((100 * part) / whole).toFixed(0)}%)` : '');

/** The report of results folder `dir`, as Markdown. */
export function resultsReport(dir: string): string {
  if (!existsSync(dir)) throw new UsageError(`RESULTS: got "${dir}", expected a results folder (none there)`);
  const hasManifest = existsSync(join(dir, 'manifest.json'));
  const hasSizeFund = existsSync(join(dir, 'size-fund.json'));
  if (!hasManifest && !hasSizeFund) {
    throw new UsageError(
      `RESULTS: got "${dir}", expected a finished results folder (manifest.json, written when a run ends) or a size-fund folder (size-fund.json): did its command finish?`,
    );
  }
  const out: string[] = [];
  if (hasManifest) out.push(...runsSection(dir));
  if (hasSizeFund) out.push(...sizeFundSection(dir, hasManifest));
  return out.join('\n');
}

function runsSection(dir: string): string[] {
  const m = readJson(dir, 'manifest.json') as {
    experiment?: { name?: string; note?: string; runs?: number; seed?: number };
    experiment_hash?: string;
    package_version?: string;
    git_commit?: string | null;
    node_version?: string;
    workers?: number;
    shard?: { index: number; count: number } | null;
    sweep_columns?: Record<string, string>;
    points?: number;
    runs_done?: number;
    runs_failed?: number;
    overrides?: string[];
    started_at?: string;
    finished_at?: string;
  };
  const exp = m.experiment ?? {};
  const out = [`# ${exp.name ?? dir}`, ''];
  if (exp.note) out.push(exp.note, '');
  const shard = m.shard ? `, shard ${m.shard.index}/${m.shard.count}` : '';
  out.push(
    `${m.runs_done ?? '?'} runs done, ${m.runs_failed ?? 0} failed (${m.points ?? '?'} point${m.points === 1 ? '' : 's'} × ${exp.runs ?? '?'} replicates${shard}; ` +
      `seed ${exp.seed ?? '?'}${m.overrides?.length ? `; overrides ${m.overrides.join(', ')}` : ''}). ` +
      `contagion ${m.package_version ?? '?'}${m.git_commit ? ` (${m.git_commit.slice(0, 12)})` : ''}, Node ${m.node_version ?? '?'}, ` +
      `${m.workers ?? '?'} worker${m.workers === 1 ? '' : 's'}; ${m.started_at ?? '?'} to ${m.finished_at ?? '?'}; experiment sha256 ${(m.experiment_hash ?? '?').slice(0, 12)}.`,
  );
  if (!existsSync(join(dir, 'runs.arrow'))) return [...out, '', `(no runs.arrow in ${dir})`];
  const runs = readResultsFile(dir, 'runs.arrow');
  const sweep = m.sweep_columns ?? {};
  out.push('', '## Outcomes per point', '', pointTableOf(runs, sweep));

  const falls = waterfalls(runs);
  const { labels, paths } = pointLabels(runs, sweep);
  const swept = paths.length > 0;
  const axis = paths.join(' / ');
  out.push(
    '',
    '## Who paid the bad debt',
    '',
    'Mean per run; each stage as a share of the bad debt. Left uncovered: what no stage could pay (negative balances).',
    '',
    `| point | ${swept ? `${axis} | ` : ''}runs | bad debt | insurance fund | ADL'd winners | socialized | left uncovered |`,
    `|---|${swept ? '---|' : ''}---|---|---|---|---|---|`,
  );
  for (const [p, w] of falls) {
    out.push(
      `| ${p} | ${swept ? `${labels.get(p)} | ` : ''}${w.runs} | ${usd(w.badDebt)} | ${usd(w.fund)}${share(w.fund, w.badDebt)} | ${usd(w.adl)}${share(w.adl, w.badDebt)} | ` +
        `${usd(w.socialized)}${share(w.socialized, w.badDebt)} | ${usd(w.uncovered)}${share(w.uncovered, w.badDebt)} |`,
    );
  }
  out.push('', ...riskLines(runs, labels, swept ? axis : null));
  const arbitrage = arbitrageLines(runs, labels, swept ? axis : null);
  if (arbitrage.length > 0) out.push('', ...arbitrage);
  const stables = stableLines(runs, labels, swept ? axis : null);
  if (stables.length > 0) out.push('', ...stables);
  // With more than one protocol, what each of them liquidated and lost.
  const protocols = manifestProtocols(m.experiment);
  if (protocols.length > 1 && existsSync(join(dir, 'steps.arrow'))) {
    const steps = readResultsFile(dir, 'steps.arrow');
    out.push('', '## Per protocol', '', 'Mean per run, summed over the steps of steps.arrow.', '');
    out.push(...protocolLines(steps, protocols, [...falls.keys()], (p) => falls.get(p)!.runs));
  }
  if (existsSync(join(dir, 'attribution.arrow'))) {
    const at = readResultsFile(dir, 'attribution.arrow');
    out.push('', '## Where the losses came from', '', 'Bad debt by protocol, originating shock and channel, mean per run (attribution.arrow).', '');
    out.push(...attributionLines(at, [...falls.keys()], (p) => falls.get(p)!.runs));
  }
  if (existsSync(join(dir, 'cohorts.arrow'))) {
    const ct = readResultsFile(dir, 'cohorts.arrow');
    out.push('', '## Who gained and who paid', '', "Each cohort's value at the final marks less what it put in, mean per run (cohorts.arrow).", '');
    out.push(...cohortLines(ct, [...falls.keys()], (p) => falls.get(p)!.runs));
    const others = cohortLines(ct, [...falls.keys()], (p) => falls.get(p)!.runs, usd, 'others');
    if (others.length > 0) {
      out.push(
        '',
        // Since schema 13 (design decision 57): the rest of the balance sheet.
        'Everyone else on the balance sheet: funds, exchanges (reserve and fee pools), lenders, treasuries, arbitrageurs, stables, and the outside market that took the other side of every spot trade. With the cohorts, the rows sum to what prices did to the units in existence.',
        '',
        ...others,
      );
    }
  }
  return out;
}

/** A quantile with its interval: "1.20M [0.95M – 2.10M]", an open side as "…". */
function withInterval(e: QuantileEstimate, money: (x: number) => string): string {
  const bound = (x: number | null) => (x === null ? '…' : money(x));
  return `${money(e.value)} [${bound(e.lower)} – ${bound(e.upper)}]`;
}

/**
 * The "Risk metrics" section: per point, VaR95 of a path's loss (bad debt booked + insolvent debt left
 * open), LaR95 of its liquidated value, each with its distribution-free 95% interval, and ES99 of the loss.
 */
export function riskLines(runs: Table, labels: Map<number, string>, axis: string | null, money: (x: number) => string = usd): string[] {
  const col = (name: string) => columnToArray(runs, name) as number[];
  const point = col('point_index');
  const badDebt = col('total_bad_debt_usd');
  const open = col('insolvent_debt_usd');
  const liquidated = col('liquidation_volume_usd');
  const out = [
    '## Risk metrics',
    '',
    "The figures lending-risk firms publish from Monte Carlo paths, per point: value at risk (VaR95, the 95th percentile of a path's loss: bad debt booked + " +
      'insolvent debt left open), liquidations at risk (LaR95, the 95th percentile of liquidated value: perp notional closed and lending debt repaid by liquidators) ' +
      'and expected shortfall (ES99, the mean loss of the worst ⌈1% of paths⌉). In brackets, a distribution-free 95% interval between order statistics; ' +
      '"…" where the paths cannot bound it (an upper bound for a 95th percentile needs 72 paths).',
    '',
    `| point | ${axis === null ? '' : `${axis} | `}paths | VaR95 of loss | LaR95 of liquidations | ES99 of loss (worst paths) |`,
    `|---|${axis === null ? '' : '---|'}---|---|---|---|`,
  ];
  for (const p of [...new Set(point)].sort((a, b) => a - b)) {
    const rows = pointRows(point, p);
    const r = riskMetrics(
      rows.map((i) => badDebt[i]! + open[i]!),
      rows.map((i) => liquidated[i]!),
    );
    out.push(
      `| ${p} | ${axis === null ? '' : `${labels.get(p)} | `}${r.paths} | ${withInterval(r.valueAtRisk, money)} | ${withInterval(r.liquidationsAtRisk, money)} | ` +
        `${money(r.expectedShortfall.value)} (${r.expectedShortfall.paths}) |`,
    );
  }
  return out;
}

/** One point's size-fund answer, as a row of fundAnswerTable. */
export interface FundAnswerRow {
  values: Record<string, unknown>;
  paths: number;
  /** The fund needed; null when no fund up to --max does it. */
  fund: number | null;
  interval: [number | null, number | null];
  /** Paths reaching the outcome at that fund. */
  reaching: number | null;
}

/**
 * size-fund's answers, a row per point: its swept values, paths, the fund needed (headed `fundHeader`;
 * `none` when no fund does it), the interval at level `confidence`, the paths reaching the outcome at it.
 */
export function fundAnswerTable(rows: FundAnswerRow[], o: { fundHeader: string; none: string; confidence: number; money: (x: number) => string }): string[] {
  const swept = rows.length > 0 ? Object.keys(rows[0]!.values) : [];
  const header = [...swept, 'paths', o.fundHeader, `${confidenceLabel(o.confidence)} interval`, 'reaching at it'];
  const lines = [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`];
  const bound = (x: number | null) => (x === null ? '…' : o.money(x));
  for (const r of rows) {
    const cells = r.fund === null ? [o.none, '', ''] : [o.money(r.fund), `${bound(r.interval[0])} – ${bound(r.interval[1])}`, `${r.reaching}/${r.paths}`];
    lines.push(`| ${[...swept.map((k) => String(r.values[k])), String(r.paths), ...cells].join(' | ')} |`);
  }
  return lines;
}

function sizeFundSection(dir: string, nested: boolean): string[] {
  const r = readJson(dir, 'size-fund.json') as {
    fund_path?: string;
    outcome?: string;
    target?: number;
    confidence?: number;
    experiment?: { name?: string };
    points?: { values: Record<string, unknown>; paths: number; answer: { fund_usd: number | null; interval_usd: [number | null, number | null]; paths_reaching_at_fund: number | null } }[];
  };
  const out = [nested ? '' : `# ${r.experiment?.name ?? dir}: insurance fund sizing`, ''];
  if (nested) out.push('## Insurance fund sizing', '');
  out.push(
    `The smallest ${r.fund_path ?? 'fund'} under which fewer than ${(100 * (r.target ?? 0)).toFixed(2)}% of the stress paths reach ${r.outcome ?? 'adl'} (size-fund.json).`,
    '',
  );
  const rows = (r.points ?? []).map((p) => ({
    values: p.values,
    paths: p.paths,
    fund: p.answer.fund_usd,
    interval: p.answer.interval_usd,
    reaching: p.answer.paths_reaching_at_fund,
  }));
  out.push(...fundAnswerTable(rows, { fundHeader: 'fund needed', none: 'none up to its --max', confidence: r.confidence ?? 0.95, money: usd }));
  return out;
}
