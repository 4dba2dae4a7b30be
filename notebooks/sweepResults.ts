// Shared by the notebooks: open a results folder's runs.arrow with its sweep columns, or exit 2 with
// a message saying what to run first.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Table } from 'apache-arrow';
import { columnToArray } from '../src/io/readArrow.ts';
import { readResultsFile } from '../src/analysis/report.ts';
import { pointRows } from '../src/analysis/pointTable.ts';

export interface SweepResults {
  runs: Table;
  /** Column name → the scenario path it sweeps. */
  sweepPaths: Record<string, string>;
  sweepColumns: string[];
  /** A numeric column of runs.arrow. */
  col: (name: string) => number[];
  /** Values of each sweep column, in sweepColumns order. */
  swept: unknown[][];
  point: number[];
}

/**
 * Called first by each notebook: a reader that stops early (`… | head`) ends it quietly, as it does the
 * CLI, rather than with an unhandled EPIPE and a stack trace.
 */
export function startNotebook(): void {
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    console.error(`error: standard output: ${err.message}`);
    process.exit(1);
  });
}

/** A results folder that cannot be read: said plainly, exit 2 (bad input), as the CLI does. */
export function refuse(message: string): never {
  console.error(message);
  process.exit(2);
}

/** `dir/name` as an Arrow table, or exit 2 naming the file (cut short, damaged) and the remedy. */
export function readResultsTable(dir: string, name: string): Table {
  try {
    return readResultsFile(dir, name);
  } catch (e) {
    return refuse(e instanceof Error ? e.message : String(e));
  }
}

/** What the notebooks read of a results folder's manifest. */
export interface ResultsManifest {
  sweep_columns?: Record<string, string>;
  /** The resolved experiment the folder ran. */
  experiment?: unknown;
}

/** `dir/manifest.json`, or exit 2 when it is missing (an unfinished run) or not JSON. */
export function readManifest(dir: string): ResultsManifest {
  const file = join(dir, 'manifest.json');
  if (!existsSync(file)) refuse(`no manifest.json in ${dir}: not a finished results folder (did its run finish?)`);
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as ResultsManifest;
  } catch (e) {
    return refuse(`${file}: not valid JSON (${(e as Error).message})`);
  }
}

export function openSweepResults(dir: string | undefined, missingHint: string): SweepResults {
  if (dir === undefined || !existsSync(join(dir, 'runs.arrow'))) refuse(`no runs.arrow in ${dir ?? '(no folder given)'}: ${missingHint}`);
  const manifest = readManifest(dir);
  const sweepPaths = manifest.sweep_columns ?? {};
  const sweepColumns = Object.keys(sweepPaths);
  const runs = readResultsTable(dir, 'runs.arrow');
  const col = (name: string) => columnToArray(runs, name) as number[];
  return { runs, sweepPaths, sweepColumns, col, swept: sweepColumns.map((c) => columnToArray(runs, c)), point: col('point_index') };
}

/** USD in millions (1.23M) from a million on, in thousands (45.6k) below. */
export function usdShort(x: number): string {
  return Math.abs(x) >= 1e6 ? `${(x / 1e6).toFixed(2)}M` : `${(x / 1e3).toFixed(1)}k`;
}

/** The row indices of each sweep point, points in ascending order. */
export function rowsByPoint(point: readonly number[]): number[][] {
  return [...new Set(point)].sort((a, b) => a - b).map((p) => pointRows(point, p));
}

/** Prints a Markdown table: the sweep's columns (their paths), then `header`; one row per point. */
export function printPointTable(results: SweepResults, header: string[], cells: (rows: number[]) => string[]): void {
  const { sweepColumns, sweepPaths, swept, point } = results;
  const full = [...sweepColumns.map((c) => sweepPaths[c]!), ...header];
  console.log(`| ${full.join(' | ')} |`);
  console.log(`|${full.map(() => '---').join('|')}|`);
  for (const rows of rowsByPoint(point)) {
    console.log(`| ${[...swept.map((v) => String(v[rows[0]!])), ...cells(rows)].join(' | ')} |`);
  }
}
