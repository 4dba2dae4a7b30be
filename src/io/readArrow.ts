// Reading results back: a whole Arrow IPC file as an apache-arrow Table, and a column as a plain
// JS array for tests and notebooks. Loads the file into memory; meant for inspection, not for
// merging large shards.

import { readFileSync } from 'node:fs';
import { tableFromIPC, type Table } from 'apache-arrow';

/** Reads an Arrow IPC file (or stream) at `path` into a Table. */
export function readArrowTable(path: string): Table {
  return tableFromIPC(readFileSync(path));
}

/**
 * The values of column `name` as a plain array: dictionary columns decoded to their strings,
 * nulls as null, numbers as numbers. Throws if the column does not exist.
 */
export function columnToArray(table: Table, name: string): unknown[] {
  const col = table.getChild(name);
  if (col === null) throw new Error(`no column "${name}" (columns: ${table.schema.names.join(', ')})`);
  const out = new Array<unknown>(col.length);
  for (let i = 0; i < col.length; i++) out[i] = col.isValid(i) ? col.get(i) : null;
  return out;
}
