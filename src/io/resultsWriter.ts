// Streams runs into a results folder: one Arrow IPC file per enabled table, record batches of at
// least ResultsWriter.batchRows rows (a run's rows, or consecutive runs' rows gathered: coalesce.ts),
// written straight to `X.arrow.tmp` as they are produced, then a manifest; the
// temporary names are renamed only once everything is complete, so a folder holding
// manifest.json is whole. Identical input gives byte-identical Arrow files, the same bytes as
// apache-arrow's RecordBatchFileWriter writes (which writes each file's start, dictionaries, first
// batch and footer; later batches are encoded directly: ipcRecordBatch.ts).

import * as fs from 'node:fs';
import * as path from 'node:path';
import { RecordBatchFileWriter, type RecordBatch } from 'apache-arrow';
import { FileBlock } from 'apache-arrow/ipc/metadata/file';
import type { RunResult } from '../engine/record.ts';
import { RunBatchBuilder, TABLE_NAMES, type Column, type ColumnBatch, type DictionaryLists, type TableName } from './arrowTables.ts';
import { BatchCoalescer } from './coalesce.ts';
import { RecordBatchEncoder } from './ipcRecordBatch.ts';
import { PartReader, partPath } from './parts.ts';

/** Version of the column layout described in arrowTables.ts and of the manifest; bump on any change (3: narrow dictionary indices; 4: the manifest's seeds as a rule, not a list per run; 5: runs.arrow's insurance_fund_required_usd; 6: its insolvent_debt_usd counts perp accounts under water too; 7: events.arrow's `default` kind, insolvent_protocols counts lending markets that defaulted, and a replayed price path is an origin of attribution.arrow; 8: runs.arrow's arbitrage_volume_usd, arbitrageur_pnl_usd and arbitrageur_min_cash_share; 9: events.arrow's stable_run and stable_swap kinds, runs.arrow's stable_run_sold_usd, stable_redeemed_usd, stable_holder_loss_usd, collateral_holder_loss_usd, stable_min_price_share and collateral_supply_multiple, and an algorithmic stable's run is an origin of attribution.arrow; 10: runs.arrow's funding_longs_paid_usd; 11: events.arrow's delisting and settlement kinds, a delisting is an origin of attribution.arrow, runs.arrow's backstop_vault_pnl_usd; 12: cohorts.arrow, and loss_gini measures collateral unweighted; 13: cohorts.arrow's role column and rows for every other participant of the balance sheet, its cohort column a dictionary of its own; 14: events.arrow's withdrawal kind). */
export const SCHEMA_VERSION = 14;

/** What to write. Dictionary lists are fixed for the whole folder. */
export interface ResultsWriterOptions {
  /** Protocol names, indexed by dense protocol id. */
  protocols: string[];
  /** Asset symbols, indexed by dense asset id. */
  assets: string[];
  /** Trader cohort ids then backstop vault ids (the events' cohort dictionary). */
  cohorts: string[];
  /** Origins of losses (shocks, then "regime_switch", "endogenous"): attribution.arrow's dictionary. */
  origins: string[];
  /** cohorts.arrow's participants and their roles (DictionaryLists.participants). */
  participants: DictionaryLists['participants'];
  /** Which optional tables to write (runs.arrow is always written). */
  output: { steps: boolean; prices: boolean; events: boolean; attribution: boolean; cohorts: boolean };
  /** Swept parameters, written as columns of runs and steps (see DictionaryLists.sweep). */
  sweep?: DictionaryLists['sweep'];
}

/** One entry of the manifest's `files` list. */
export interface ManifestFile {
  /** File name relative to the results folder, e.g. "runs.arrow". */
  path: string;
  table: TableName;
  rows: number;
  /** Size of the file in bytes. */
  bytes: number;
}

/**
 * A RecordBatchFileWriter that writes its bytes to a file descriptor as they are produced. The
 * stock writer queues chunks in an async queue that is only drained by an async reader, which
 * would hold a whole run (or, with synchronous callers, every run) in memory; `_write` is the
 * single point through which all of its bytes pass, so overriding it keeps memory bounded.
 * The writer emits many small chunks per record batch (a continuation marker, a length, the
 * metadata, padding, each column's buffers): they are gathered in a buffer of BUFFER_BYTES and
 * written with one call when it fills and at flush(), rather than one system call each (those
 * calls took 212 ms of the main thread in a sweep of 1,000 small runs on 2 workers).
 */
class FdFileWriter extends RecordBatchFileWriter {
  private static readonly BUFFER_BYTES = 1 << 20;
  private readonly buffer = new Uint8Array(FdFileWriter.BUFFER_BYTES);
  private buffered = 0;
  /** Encodes this file's record batches after the first (set by the first). */
  private encoder: RecordBatchEncoder | null = null;

  constructor(private readonly fd: number) {
    super();
  }

  protected override _write(chunk: unknown): this {
    // Like the base class: bytes are only emitted once a schema has started the file.
    if (!this._started) return this;
    if (!ArrayBuffer.isView(chunk)) throw new TypeError('apache-arrow passed a non-ArrayBufferView chunk');
    this.put(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    return this;
  }

  /**
   * Appends one record batch. The file's first goes through apache-arrow, which also writes the
   * dictionaries (every later batch shares them, so apache-arrow would write none again) and is the
   * reference the encoder is checked against; later batches are encoded directly, with the block the
   * footer lists recorded as apache-arrow records it.
   */
  writeBatch(batch: ColumnBatch, asRecordBatch: (b: ColumnBatch) => RecordBatch): void {
    if (!this._started) throw new Error('FdFileWriter.writeBatch: the file has not been started');
    if (this.encoder === null) {
      const record = asRecordBatch(batch);
      const encoder = new RecordBatchEncoder(batch.columns.length);
      encoder.encode(batch);
      encoder.checkAgainstArrow(batch, record);
      this.write(record);
      this.encoder = encoder;
      return;
    }
    const e = this.encoder;
    e.encode(batch);
    this._recordBatchBlocks.push(new FileBlock(e.metadataBytes, e.bodyLength, this._position));
    this.put(e.prefix);
    this.put(e.metadata);
    this.putZeros(e.padding);
    for (const col of batch.columns) {
      if (col.nullCount > 0) this.putPadded(col.validity!);
      this.putPadded(col.values);
    }
  }

  /** A body buffer: its bytes, then zeros to a multiple of 8. */
  private putPadded(a: Uint8Array | Column['values']): void {
    this.put(a instanceof Uint8Array ? a : new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
    this.putZeros(((a.byteLength + 7) & ~7) - a.byteLength);
  }

  private put(bytes: Uint8Array): void {
    if (this.buffered + bytes.byteLength > this.buffer.byteLength) this.flush();
    if (bytes.byteLength >= this.buffer.byteLength) writeAll(this.fd, bytes);
    else {
      this.buffer.set(bytes, this.buffered);
      this.buffered += bytes.byteLength;
    }
    this._position += bytes.byteLength;
  }

  private putZeros(n: number): void {
    if (n === 0) return;
    if (this.buffered + n > this.buffer.byteLength) this.flush();
    this.buffer.fill(0, this.buffered, this.buffered + n);
    this.buffered += n;
    this._position += n;
  }

  /** Bytes of the file so far (written or still buffered). */
  get position(): number {
    return this._position;
  }

  /** Writes out what is buffered (before the file is synced, and so that errors surface). */
  flush(): void {
    if (this.buffered === 0) return;
    const n = this.buffered;
    this.buffered = 0;
    writeAll(this.fd, this.buffer.subarray(0, n));
  }
}

function writeAll(fd: number, bytes: Uint8Array): void {
  for (let done = 0; done < bytes.byteLength; ) done += fs.writeSync(fd, bytes, done, bytes.byteLength - done);
}

interface OpenTable {
  table: TableName;
  finalPath: string;
  tmpPath: string;
  fd: number | null;
  writer: FdFileWriter;
  rows: number;
  /** File position up to which a background sync has been started. */
  syncedTo: number;
  /** The background sync in flight, if any (settles with its error or null). */
  syncing: Promise<Error | null> | null;
  /** Runs' batches gathered until they make one batch of ResultsWriter.batchRows rows. */
  pending: BatchCoalescer;
}

/**
 * A table with this many bytes written since its last background sync starts another one: the disk
 * writes what the writer has produced while the writer goes on, instead of all of it in close()'s
 * fsync (which for a sweep's events file of gigabytes took seconds at the end of the sweep, and half
 * of the time of writing five flagship runs' events).
 */
const SYNC_EVERY_BYTES = 4 << 20;

/** Where the file that becomes `finalPath` is written until close() renames it. */
const temporaryPath = (finalPath: string) => `${finalPath}.tmp`;

/** The Arrow file of `table` in a results folder. */
const tablePath = (outDir: string, table: TableName) => path.join(outDir, `${table}.arrow`);

/** Writes one results folder. Use open(), append() per run, then close() or abort(). */
export class ResultsWriter {
  /** Starts a background sync of a file descriptor (fs.fdatasync; tests put a failing one here). */
  static backgroundSync: (fd: number, done: (err: Error | null) => void) => void = fs.fdatasync;
  /**
   * Rows a record batch gathers before it is written: runs with fewer rows in a table share its
   * batches (a run with more, and nothing gathered before it, gets its own). Fixed, so that every
   * writer of a folder — workers, shards, merge, resume — cuts the same batches; tests lower it.
   */
  static batchRows = 8192;
  /** Background syncs this writer has started. */
  backgroundSyncs = 0;
  private state: 'open' | 'closed' | 'aborted' = 'open';
  private readonly asRecordBatch = (b: ColumnBatch) => this.builder.toRecordBatch(b);

  private constructor(
    private readonly outDir: string,
    private readonly builder: RunBatchBuilder,
    private readonly tables: OpenTable[],
  ) {}

  /**
   * Creates `outDir` (recursively) and starts `X.arrow.tmp` for runs and each enabled table.
   * Existing final files are left alone until close() renames over them.
   */
  static async open(outDir: string, opts: ResultsWriterOptions): Promise<ResultsWriter> {
    const builder = new RunBatchBuilder(
      {
        protocols: opts.protocols,
        assets: opts.assets,
        cohorts: opts.cohorts,
        origins: opts.origins,
        participants: opts.participants,
        ...(opts.sweep === undefined ? {} : { sweep: opts.sweep }),
      },
      // append() writes or copies every byte of a batch before it builds the next (FdFileWriter).
      { reuse: true },
    );
    await fs.promises.mkdir(outDir, { recursive: true });
    const enabled: Record<TableName, boolean> = { runs: true, ...opts.output };
    const tables: OpenTable[] = [];
    try {
      for (const table of TABLE_NAMES) {
        if (!enabled[table]) continue;
        const finalPath = tablePath(outDir, table);
        const tmpPath = temporaryPath(finalPath);
        const fd = fs.openSync(tmpPath, 'w');
        const writer = new FdFileWriter(fd);
        tables.push({ table, finalPath, tmpPath, fd, writer, rows: 0, syncedTo: 0, syncing: null, pending: new BatchCoalescer(table) });
        // Start with the schema now, so a table that never gets a row is still a valid file.
        writer.reset(undefined, builder.schemas[table]);
      }
    } catch (err) {
      closeAndRemove(tables);
      throw err;
    }
    return new ResultsWriter(outDir, builder, tables);
  }

  /**
   * Appends one run to every enabled table, written before returning or gathered with the next
   * runs' rows (coalesce.ts): a table's record batches hold ResultsWriter.batchRows rows or more (the
   * last one of a file fewer), each a run's rows or consecutive runs' rows in order. Tables for which
   * the run has no rows (no events, steps/prices not kept) get none.
   */
  append(run: RunResult): void {
    this.assertOpen('append');
    // Build every batch before writing any, so a bad run throws without leaving a partial run.
    const batches = this.tables.map((t) => this.builder.columns(t.table, run));
    this.tables.forEach((t, i) => {
      const batch = batches[i];
      if (batch == null) return;
      t.rows += batch.rows;
      if (t.pending.rows === 0 && batch.rows >= ResultsWriter.batchRows) {
        this.write(t, batch);
        return;
      }
      // (A copy: the builder reuses its arrays for the next run.)
      t.pending.add(batch);
      if (t.pending.rows >= ResultsWriter.batchRows) this.writePending(t);
    });
  }

  /** Writes table t's gathered rows as one batch. */
  private writePending(t: OpenTable): void {
    this.write(t, t.pending.take());
    t.pending.clear();
  }

  private write(t: OpenTable, batch: ColumnBatch): void {
    t.writer.writeBatch(batch, this.asRecordBatch);
    if (t.syncing === null && t.writer.position - t.syncedTo >= SYNC_EVERY_BYTES) {
      startSync(t);
      this.backgroundSyncs++;
    }
  }

  /**
   * Finishes every Arrow file (footer included), writes manifest.json — `manifest` plus
   * `schema_version` and `files` (path, table, rows, bytes) — pretty-printed, then renames the
   * `.tmp` files to their final names, manifest.json last. Returns the manifest's `files`.
   */
  async close(manifest: Record<string, unknown>): Promise<ManifestFile[]> {
    this.assertOpen('close');
    this.state = 'closed';
    try {
      for (const t of this.tables) if (t.pending.rows > 0) this.writePending(t);
      // Background syncs first: one that failed fails the close, like the final fsync below.
      for (const t of this.tables) {
        const err = t.syncing === null ? null : await t.syncing;
        t.syncing = null;
        if (err) throw err;
      }
      const files: ManifestFile[] = [];
      for (const t of this.tables) {
        t.writer.close();
        t.writer.flush();
        const fd = t.fd!;
        t.fd = null;
        let bytes: number;
        try {
          fs.fsyncSync(fd);
          bytes = fs.fstatSync(fd).size;
        } finally {
          fs.closeSync(fd);
        }
        files.push({ path: path.basename(t.finalPath), table: t.table, rows: t.rows, bytes });
      }
      const manifestPath = path.join(this.outDir, 'manifest.json');
      // schema_version goes first for readers of the file, and is assigned again after the
      // spread so that a caller's key of the same name cannot override it (position is kept).
      const body: Record<string, unknown> = { schema_version: SCHEMA_VERSION, ...manifest };
      body.schema_version = SCHEMA_VERSION;
      body.files = files;
      await fs.promises.writeFile(temporaryPath(manifestPath), JSON.stringify(body, null, 2) + '\n');
      for (const t of this.tables) await fs.promises.rename(t.tmpPath, t.finalPath);
      await fs.promises.rename(temporaryPath(manifestPath), manifestPath);
      return files;
    } catch (err) {
      this.removeTemporaries();
      throw err;
    }
  }

  /** Stops writing and removes every temporary file; final files are not touched. Idempotent. */
  async abort(): Promise<void> {
    if (this.state === 'aborted') return;
    this.state = 'aborted';
    this.removeTemporaries();
  }

  private removeTemporaries(): void {
    closeAndRemove(this.tables);
    fs.rmSync(temporaryPath(path.join(this.outDir, 'manifest.json')), { force: true });
  }

  private assertOpen(op: string): void {
    if (this.state !== 'open') throw new Error(`ResultsWriter.${op}: writer is ${this.state}`);
  }
}

/**
 * Writes out table t's buffered bytes and starts an fdatasync of its file on libuv's thread pool;
 * t.syncing settles with its error (or null) and is cleared when it succeeds. The final fsync in
 * close() still makes the file durable: this only moves most of the disk writing earlier.
 */
function startSync(t: OpenTable): void {
  const fd = t.fd;
  if (fd === null) return;
  t.writer.flush();
  t.syncedTo = t.writer.position;
  const p = new Promise<Error | null>((resolve) => ResultsWriter.backgroundSync(fd, (err) => resolve(err)));
  t.syncing = p;
  void p.then((err) => {
    if (err === null && t.syncing === p) t.syncing = null;
  });
}

function closeAndRemove(tables: OpenTable[]): void {
  for (const t of tables) {
    if (t.fd !== null) {
      fs.closeSync(t.fd);
      t.fd = null;
    }
    fs.rmSync(t.tmpPath, { force: true });
  }
}

/**
 * Assembles final Arrow files + manifest in `outDir` from part files: for each (point, replicate)
 * in `order`, read its part from the first of `partDirs` (results folders whose parts/ hold it)
 * that has it and append it; one run in memory at a time. Throws a clear Error listing the first
 * few missing runs if any part is missing (before anything is written), or if `order` repeats a run.
 */
export async function assembleFromParts(
  outDir: string,
  partDirs: string[],
  order: { point: number; replicate: number }[],
  opts: ResultsWriterOptions,
  manifest: Record<string, unknown>,
): Promise<{ rows: Record<string, number> }> {
  // Find every part first, so a missing one fails before any file is started.
  const sources: string[] = [];
  const missing: string[] = [];
  const seen = new Set<string>();
  for (const { point, replicate } of order) {
    const key = `${point}/${replicate}`;
    if (seen.has(key)) throw new Error(`assembleFromParts: point ${point} replicate ${replicate} is listed twice`);
    seen.add(key);
    const dir = partDirs.find((d) => fs.existsSync(partPath(d, point, replicate)));
    if (dir === undefined) missing.push(`point ${point} replicate ${replicate}`);
    else sources.push(dir);
  }
  if (missing.length > 0) {
    const shown = missing.slice(0, 5).join(', ');
    const more = missing.length > 5 ? ` and ${missing.length - 5} more` : '';
    throw new Error(
      `cannot assemble ${outDir}: ${missing.length} of ${order.length} runs have no part file in ${partDirs.join(', ')}: ${shown}${more}`,
    );
  }
  return assembleRuns(
    outDir,
    order.map(({ point, replicate }, i) => ({ dir: sources[i]!, point, replicate })),
    opts,
    manifest,
  );
}

/**
 * Writes a results folder from parts, in the order `runs` gives them (each from its folder `dir`),
 * then its manifest. `runs` may be made as it is read (merge walks a sweep's runs without a list).
 */
export async function assembleRuns(
  outDir: string,
  runs: Iterable<{ dir: string; point: number; replicate: number }>,
  opts: ResultsWriterOptions,
  manifest: Record<string, unknown>,
): Promise<{ rows: Record<string, number> }> {
  const writer = await ResultsWriter.open(outDir, opts);
  let files: ManifestFile[];
  try {
    const reader = new PartReader();
    for (const { dir, point, replicate } of runs) writer.append(reader.read(dir, point, replicate));
    files = await writer.close(manifest);
  } catch (err) {
    await writer.abort();
    throw err;
  }
  return { rows: Object.fromEntries(files.map((f) => [f.table, f.rows])) };
}
