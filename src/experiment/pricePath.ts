// Recorded price paths (assets[].pricePath): the CSV a path names is read when the experiment file
// loads, its column stored in the experiment as `prices`, so the resolved experiment — what the
// manifest records, what workers run and what the experiment hash covers — carries the data, and a
// run does not depend on the file after it starts. DESIGN.md, "Price process": replay of a price
// path from CSV.
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { readFailure, type InputIssue } from './errors.ts';

/**
 * The numbers of one column of a CSV text: a header row, then one row per price. Commas separate
 * fields; a header may be quoted; blank lines are skipped. Every cell of the column must be a
 * positive finite number. Returns the prices, or a message naming the first problem (its line).
 */
export function csvColumn(text: string, column: string): { prices: number[] } | { error: string } {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  let li = 0;
  while (li < lines.length && lines[li]!.trim() === '') li++;
  if (li === lines.length) return { error: 'the file is empty: expected a header row, then one row per price' };
  const header = lines[li]!.split(',').map(unquote);
  const col = header.indexOf(column);
  if (col < 0) return { error: `no column "${column}" in the header (columns: ${header.map((h) => `"${h}"`).join(', ')})` };
  const prices: number[] = [];
  for (let i = li + 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === '') continue;
    const cells = line.split(',');
    const cell = cells[col];
    const value = cell === undefined ? NaN : Number(unquote(cell));
    if (cell === undefined || cell.trim() === '' || !Number.isFinite(value) || value <= 0) {
      return { error: `line ${i + 1}: column "${column}" holds ${cell === undefined ? 'nothing' : JSON.stringify(cell.trim())}: expected a positive number (a price)` };
    }
    prices.push(value);
  }
  if (prices.length === 0) return { error: 'the file has a header but no rows: expected one row per price' };
  return { prices };
}

function unquote(cell: string): string {
  const t = cell.trim();
  return t.length >= 2 && t.startsWith('"') && t.endsWith('"') ? t.slice(1, -1) : t;
}

/**
 * Reads the CSV of every assets[].pricePath that names one and has no prices yet, relative to the
 * experiment file's folder, into its `prices` (in place, on the raw input after overrides). Returns
 * a problem per path that could not be read; the schema and cross-field rules check the rest.
 */
export function readPricePaths(raw: unknown, experimentFile: string): InputIssue[] {
  const issues: InputIssue[] = [];
  const assets = (raw as { scenario?: { assets?: unknown } } | null)?.scenario?.assets;
  if (!Array.isArray(assets)) return issues;
  assets.forEach((asset: unknown, i) => {
    const path = (asset as { pricePath?: unknown } | null)?.pricePath as { csv?: unknown; column?: unknown; prices?: unknown } | undefined;
    if (path === null || typeof path !== 'object' || path.prices !== undefined) return;
    if (typeof path.csv !== 'string' || typeof path.column !== 'string') return;
    const at = `scenario.assets.${i}.pricePath.csv`;
    const file = resolve(dirname(experimentFile), path.csv);
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      issues.push({ path: at, value: path.csv, message: readFailure(err, `a CSV file, relative to the experiment file (${file})`) });
      return;
    }
    const read = csvColumn(text, path.column);
    if ('error' in read) issues.push({ path: at, value: path.csv, message: read.error });
    else path.prices = read.prices;
  });
  return issues;
}
