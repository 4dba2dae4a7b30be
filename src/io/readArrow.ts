// Reading results back: a whole Arrow IPC file as an apache-arrow Table, and a column (or a batch's
// columns) as plain JS arrays for tests and notebooks. Loads the file into memory; meant for
// inspection, not for merging large shards.

import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { tableFromIPC, type Table } from 'apache-arrow';

/** Largest read Node does in one call (fs.readFileSync refuses files above 2 GiB). */
const CHUNK = 1 << 30;

/**
 * Reads an Arrow IPC file (or stream) at `path` into a Table. Files above 2 GiB (an events.arrow of a
 * few hundred flagship runs) are read in chunks into one buffer.
 */
export function readArrowTable(path: string): Table {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const bytes = new Uint8Array(size);
    for (let at = 0; at < size; ) {
      const n = readSync(fd, bytes, at, Math.min(CHUNK, size - at), at);
      if (n === 0) throw new Error(`${path}: file ended at byte ${at} of ${size}`);
      at += n;
    }
    return tableFromIPC(bytes);
  } finally {
    closeSync(fd);
  }
}

/**
 * Calls `visit` with each record batch's columns `names` (decoded values per row: dictionary codes
 * resolved to strings, nulls as null), one batch at a time — for event logs too long to hold as JS
 * arrays.
 */
export function forEachBatch(table: Table, names: readonly string[], visit: (columns: unknown[][]) => void): void {
  for (const batch of table.batches) {
    const cols = names.map((name) => {
      const col = batch.getChild(name);
      if (col === null) throw new Error(`no column "${name}" (columns: ${table.schema.names.join(', ')})`);
      const out = new Array<unknown>(col.length);
      for (let i = 0; i < col.length; i++) out[i] = col.isValid(i) ? col.get(i) : null;
      return out;
    });
    visit(cols);
  }
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
