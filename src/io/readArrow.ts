// Reading results back: a whole Arrow IPC file as an apache-arrow Table, and a column (or a batch's
// columns) as plain JS arrays for tests and notebooks. Loads the file into memory; meant for
// inspection, not for merging large shards.

import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { tableFromIPC, type Table } from 'apache-arrow';

/** Largest read Node does in one call (fs.readFileSync refuses files above 2 GiB). */
const CHUNK = 1 << 30;

/** The magic that opens and closes an Arrow IPC file (the file format: a stream has no magic). */
const MAGIC = 'ARROW1';

/**
 * Reads an Arrow IPC file (or stream) at `path` into a Table. Files above 2 GiB (an events.arrow of a
 * few hundred flagship runs) are read in chunks into one buffer.
 *
 * A file that opens with the file format's magic must close with it too: apache-arrow reads a file cut
 * short (an interrupted copy) as a stream of the batches before the cut, or fails inside its schema
 * reader with a TypeError, and an empty file as an empty table. Either is an error here, naming the file.
 */
export function readArrowTable(path: string): Table {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    if (size === 0) throw new Error(`${path}: empty (0 bytes): not an Arrow file`);
    const bytes = new Uint8Array(size);
    for (let at = 0; at < size; ) {
      const n = readSync(fd, bytes, at, Math.min(CHUNK, size - at), at);
      if (n === 0) throw new Error(`${path}: file ended at byte ${at} of ${size}`);
      at += n;
    }
    const text = (from: number) => String.fromCharCode(...bytes.subarray(from, from + MAGIC.length));
    if (text(0) === MAGIC && (size < 2 * MAGIC.length || text(size - MAGIC.length) !== MAGIC)) {
      throw new Error(`${path}: cut short (${size} bytes, no Arrow file footer): not a complete Arrow file`);
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

/** Whether the table has a column `name` (a column added by a later schema version, say). */
export function hasColumn(table: Table, name: string): boolean {
  return table.schema.fields.some((f) => f.name === name);
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
