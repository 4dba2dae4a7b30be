// Shared by the notebooks: open a results folder's runs.arrow with its sweep columns, or exit 2 with
// a message saying what to run first.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Table } from 'apache-arrow';
import { columnToArray, readArrowTable } from '../src/io/readArrow.ts';

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

export function openSweepResults(dir: string | undefined, missingHint: string): SweepResults {
  if (dir === undefined || !existsSync(join(dir, 'runs.arrow'))) {
    console.error(`no runs.arrow in ${dir ?? '(no folder given)'}: ${missingHint}`);
    process.exit(2);
  }
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { sweep_columns?: Record<string, string> };
  const sweepPaths = manifest.sweep_columns ?? {};
  const sweepColumns = Object.keys(sweepPaths);
  const runs = readArrowTable(join(dir, 'runs.arrow'));
  const col = (name: string) => columnToArray(runs, name) as number[];
  return { runs, sweepPaths, sweepColumns, col, swept: sweepColumns.map((c) => columnToArray(runs, c)), point: col('point_index') };
}
