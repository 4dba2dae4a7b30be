// Gathers the small record batches of consecutive runs into one. A sweep of many short runs made
// one batch per table per run: a runs.arrow of 10^5 one-row batches (readers pay per batch, and the
// writer kept a footer entry per batch in memory until the file was closed, 57 bytes each). The
// writer copies a table's batches here until they hold ResultsWriter.batchRows rows, then writes
// them as one batch; a batch that is that large on its own, with nothing gathered before it, is
// written as it is (no copy). Which runs share a batch depends only on the runs' row counts in (point, replicate)
// order, so files stay byte-identical whatever the worker count, shard split or resume.
import type { Column, ColumnBatch, TableName } from './arrowTables.ts';
import { grown } from '../model/typedArrays.ts';

type Values = Column['values'];

/** Copies of consecutive batches of one table, as the columns of one batch (take()). */
export class BatchCoalescer {
  /** Rows gathered so far. */
  rows = 0;
  private values: Values[] = [];
  /**
   * Per column: its validity bitmap (kept between batches; zero outside the rows gathered while
   * `tracking`) and whether it is in use — false while every gathered row of the column is valid.
   */
  private bits: Uint8Array[] = [];
  private tracking: boolean[] = [];
  private nullCounts: number[] = [];

  constructor(private readonly table: TableName) {}

  /** Appends a copy of batch b (any rows, the table's columns). */
  add(b: ColumnBatch): void {
    if (b.table !== this.table) throw new Error(`BatchCoalescer(${this.table}): got a batch of ${b.table}`);
    if (this.values.length === 0) {
      for (const c of b.columns) {
        this.values.push(new (c.values.constructor as new (n: number) => Values)(Math.max(64, b.rows)));
        this.bits.push(new Uint8Array(0));
        this.tracking.push(false);
        this.nullCounts.push(0);
      }
    } else if (b.columns.length !== this.values.length) {
      throw new Error(`BatchCoalescer(${this.table}): ${b.columns.length} columns, expected ${this.values.length}`);
    }
    const at = this.rows;
    const rows = at + b.rows;
    b.columns.forEach((c, k) => {
      let v = this.values[k]!;
      if (v.length < rows) v = this.values[k] = grown(v as Float64Array, rows);
      v.set(c.values.subarray(0, b.rows), at);
      if (c.nullCount === 0 && !this.tracking[k]) return;
      let bits = this.bits[k]!;
      if (bits.length < (rows + 7) >> 3) bits = this.bits[k] = grown(bits, Math.max(8, (rows + 7) >> 3));
      if (!this.tracking[k]) {
        // The first nulls of this column: the rows before them were all valid.
        this.tracking[k] = true;
        setBits(bits, 0, at);
      }
      if (c.nullCount === 0) setBits(bits, at, b.rows);
      else copyBits(c.validity!, bits, at, b.rows);
      this.nullCounts[k] = this.nullCounts[k]! + c.nullCount;
    });
    this.rows = rows;
  }

  /**
   * The gathered rows as one batch: views over this coalescer's arrays, valid until the next add()
   * after clear(). The validity bitmaps' bits past the last row are zero.
   */
  take(): ColumnBatch {
    const n = this.rows;
    const columns: Column[] = this.values.map((v, k) => {
      const nullCount = this.nullCounts[k]!;
      return { values: v.subarray(0, n), validity: nullCount === 0 ? null : this.bits[k]!.subarray(0, (n + 7) >> 3), nullCount };
    });
    return { table: this.table, rows: n, columns };
  }

  /** Empties the coalescer, keeping its arrays. */
  clear(): void {
    for (let k = 0; k < this.bits.length; k++) {
      if (this.tracking[k]) this.bits[k]!.fill(0, 0, (this.rows + 7) >> 3);
      this.tracking[k] = false;
      this.nullCounts[k] = 0;
    }
    this.rows = 0;
  }
}

/** Sets bits [at, at + n) of an LSB-first bitmap. */
function setBits(bits: Uint8Array, at: number, n: number): void {
  for (let i = at; i < at + n; i++) bits[i >> 3] = bits[i >> 3]! | (1 << (i & 7));
}

/** Copies bits [0, n) of `src` to bits [at, at + n) of `dst` (whose bits there are zero). */
function copyBits(src: Uint8Array, dst: Uint8Array, at: number, n: number): void {
  if ((at & 7) === 0) {
    const whole = n >> 3;
    dst.set(src.subarray(0, whole), at >> 3);
    // The last partial byte: only its first n mod 8 bits are rows.
    const rest = n & 7;
    if (rest !== 0) dst[(at >> 3) + whole] = src[whole]! & ((1 << rest) - 1);
    return;
  }
  for (let i = 0; i < n; i++) {
    if ((src[i >> 3]! >> (i & 7)) & 1) {
      const j = at + i;
      dst[j >> 3] = dst[j >> 3]! | (1 << (j & 7));
    }
  }
}
