// Encodes a ColumnBatch as an Arrow IPC record-batch message — the flatbuffer metadata and the body's
// buffer layout — without building apache-arrow objects per batch. For a schema of flat columns the
// metadata has one layout whatever the numbers in it (row count, per-column lengths and null counts,
// buffer offsets and lengths, body length), so it is encoded once by apache-arrow itself with
// distinct sentinel numbers, the sentinels are found, and each batch only writes its numbers there.
//
// Why: apache-arrow's writer assembles each batch through a visitor, builds the metadata with a
// flatbuffers builder and compares schemas, ~0.15 ms and ~150 kB of garbage per batch; a sweep of
// small runs writes five batches per run on the main thread, which was a third of its busy time.
// Byte-identical to apache-arrow's RecordBatchFileWriter (tests compare whole files; and the first
// batch of every file is checked against apache-arrow's own encoding of it: checkAgainstArrow).
import type { RecordBatch } from 'apache-arrow';
import { BufferRegion, FieldNode, Message, RecordBatch as RecordBatchHeader } from 'apache-arrow/ipc/metadata/message';
import { VectorAssembler } from 'apache-arrow/visitor/vectorassembler';
import type { ColumnBatch } from './arrowTables.ts';

/** Arrow pads every body buffer, and the metadata with its 8-byte prefix, to 8 bytes. */
const pad8 = (n: number) => (n + 7) & ~7;

/** Numbers of one record batch message, in the order their sentinels are numbered. */
interface Slots {
  /** Byte offset in the metadata of the row count. */
  length: number;
  /** Per column: [node length, node null count, validity offset, validity length, values offset, values length]. */
  columns: Int32Array;
  bodyLength: number;
}

/** A distinct number per slot k, exact in a double and in an int64, whose 8 bytes do not occur by chance. */
const sentinel = (k: number) => 2 ** 52 + 0x5eed * 2 ** 32 + k * 0x10001 + 0x3c3;

/** Little-endian int64 v (0 ≤ v < 2^53) into view at byte offset o. */
function setInt64(view: DataView, o: number, v: number): void {
  const hi = Math.floor(v / 2 ** 32);
  view.setUint32(o, v - hi * 2 ** 32, true);
  view.setUint32(o + 4, hi, true);
}

/**
 * The metadata message of one table's record batches (one per file and table, reused batch after
 * batch): call encode() for a batch, then write prefix, metadata and `padding` zeros, then each
 * column's validity bitmap (only when it has nulls) and values, each padded with zeros to 8 bytes.
 * One encoder per file: encode() overwrites the metadata of the previous batch.
 */
export class RecordBatchEncoder {
  /** The encoded message of the last batch (flatbuffer, without prefix or padding). */
  readonly metadata: Uint8Array;
  /** Continuation marker and metadata length: the 8 bytes before the metadata. */
  readonly prefix: Uint8Array;
  /** Zero bytes after the metadata, so that prefix + metadata + padding is a multiple of 8. */
  readonly padding: number;
  /** prefix + metadata + padding: the metaDataLength of the file footer's block. */
  readonly metadataBytes: number;
  /** The body length of the last batch encoded (sum of its padded buffers). */
  bodyLength = 0;
  private readonly view: DataView;
  private readonly slots: Slots;
  private readonly nColumns: number;

  constructor(nColumns: number) {
    this.nColumns = nColumns;
    let t = TEMPLATES.get(nColumns);
    if (t === undefined) {
      t = template(nColumns);
      TEMPLATES.set(nColumns, t);
    }
    this.metadata = t.metadata.slice();
    this.slots = t.slots;
    this.view = new DataView(this.metadata.buffer, this.metadata.byteOffset, this.metadata.byteLength);
    this.metadataBytes = pad8(this.metadata.byteLength + 8);
    this.padding = this.metadataBytes - 8 - this.metadata.byteLength;
    this.prefix = new Uint8Array(8);
    const p = new DataView(this.prefix.buffer);
    p.setInt32(0, -1, true);
    p.setInt32(4, this.metadataBytes - 8, true);
  }

  /** Writes batch's numbers into `metadata` and sets bodyLength. The batch must have rows. */
  encode(batch: ColumnBatch): void {
    if (batch.columns.length !== this.nColumns) throw new Error(`${batch.table}: ${batch.columns.length} columns, encoder has ${this.nColumns}`);
    // Zero is omitted from a flatbuffer table (it is the default), which would change the layout.
    if (batch.rows <= 0) throw new Error(`${batch.table}: a record batch message needs rows`);
    const v = this.view;
    const s = this.slots.columns;
    setInt64(v, this.slots.length, batch.rows);
    let body = 0;
    for (let c = 0; c < this.nColumns; c++) {
      const col = batch.columns[c]!;
      const validity = col.nullCount > 0 ? pad8(col.validity!.byteLength) : 0;
      const values = pad8(col.values.byteLength);
      setInt64(v, s[6 * c]!, batch.rows);
      setInt64(v, s[6 * c + 1]!, col.nullCount);
      setInt64(v, s[6 * c + 2]!, body);
      setInt64(v, s[6 * c + 3]!, validity);
      setInt64(v, s[6 * c + 4]!, body + validity);
      setInt64(v, s[6 * c + 5]!, values);
      body += validity + values;
    }
    setInt64(v, this.slots.bodyLength, body);
    this.bodyLength = body;
  }

  /**
   * Throws unless `metadata` (after encode(batch)) and bodyLength are what apache-arrow encodes for
   * `record`, the same batch as a RecordBatch: the writer calls it on each file's first batch.
   */
  checkAgainstArrow(batch: ColumnBatch, record: RecordBatch): void {
    const a = VectorAssembler.assemble(record);
    const expected = encodeMessage(record.numRows, a.nodes, a.bufferRegions, a.byteLength);
    const same = expected.byteLength === this.metadata.byteLength && expected.every((b, i) => b === this.metadata[i]);
    if (!same || a.byteLength !== this.bodyLength) {
      throw new Error(`${batch.table}: the record batch encoder disagrees with apache-arrow on a batch of ${batch.rows} rows`);
    }
  }
}

/** The metadata with sentinel numbers and where they are, by column count (a results folder has five). */
const TEMPLATES = new Map<number, { metadata: Uint8Array; slots: Slots }>();

/** apache-arrow encodes a message of nColumns flat columns with sentinel numbers; each is found once. */
function template(nColumns: number): { metadata: Uint8Array; slots: Slots } {
  const k = (column: number, field: number) => 1 + 6 * column + field;
  const nodes: FieldNode[] = [];
  const regions: BufferRegion[] = [];
  for (let c = 0; c < nColumns; c++) {
    nodes.push(new FieldNode(sentinel(k(c, 0)), sentinel(k(c, 1))));
    regions.push(new BufferRegion(sentinel(k(c, 2)), sentinel(k(c, 3))), new BufferRegion(sentinel(k(c, 4)), sentinel(k(c, 5))));
  }
  const last = k(nColumns, 0);
  const metadata = encodeMessage(sentinel(0), nodes, regions, sentinel(last));
  // Where each sentinel's 8 bytes are: index the metadata's 8-byte windows once, then look up.
  const at = new Map<string, number>();
  const window = (o: number) => Array.prototype.join.call(metadata.subarray(o, o + 8), ',');
  for (let o = 0; o + 8 <= metadata.byteLength; o++) {
    const key = window(o);
    at.set(key, at.has(key) ? -1 : o);
  }
  const want = new Uint8Array(8);
  const wantView = new DataView(want.buffer);
  const find = (slot: number) => {
    setInt64(wantView, 0, sentinel(slot));
    const o = at.get(Array.prototype.join.call(want, ','));
    if (o === undefined) throw new Error(`RecordBatchEncoder: slot ${slot} not found in the metadata`);
    if (o === -1) throw new Error(`RecordBatchEncoder: slot ${slot} occurs twice in the metadata`);
    return o;
  };
  const columns = new Int32Array(6 * nColumns);
  for (let i = 0; i < columns.length; i++) columns[i] = find(1 + i);
  return { metadata, slots: { length: find(0), columns, bodyLength: find(last) } };
}

/** apache-arrow's encoding of a record batch message (uncompressed, no custom metadata). */
function encodeMessage(rows: number, nodes: FieldNode[], regions: BufferRegion[], bodyLength: number): Uint8Array {
  return Message.encode(Message.from(new RecordBatchHeader(rows, nodes, regions, null), bodyLength));
}
