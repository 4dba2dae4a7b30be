// Part files: one finished run, serialized compactly so that a sweep can commit each run as soon
// as it is done (in whatever order the workers finish) and the final Arrow files can be assembled
// later, in (point, replicate) order, from the parts alone. A part is written to a temporary name,
// fsynced and renamed, so `parts/` only ever holds whole files; that is what makes a sweep
// resumable after a kill and shard folders mergeable.
//
// Layout (all integers little-endian, typed-array bytes in platform order, recorded in the header):
//   0   8 bytes  magic "CTGNRUN1"
//   8   u32      format version (PART_FORMAT_VERSION)
//   12  u32      byte length H of the JSON header
//   16  H bytes  JSON header (UTF-8): keys, seed, summary, table shapes, array list, crc32 of data
//   ..  zero padding to a multiple of 8
//   ..  data: each array's bytes in header order, each starting at a multiple of 8 (zero padded)
//
// Summary numbers that JSON cannot carry exactly (NaN, ±Infinity, -0) are written as the string
// "f64:" + the 16 hex digits of their IEEE-754 bits, so even a NaN's sign and payload survive and
// the assembled Arrow files are byte-identical to ones written straight from the run.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { threadId } from 'node:worker_threads';
import { crc32 } from 'node:zlib';
import { AttributionTable, CohortTable, EventLog, PriceTable, RUN_SUMMARY_COLUMNS, StepTable, type RunResult, type RunSummary } from '../engine/record.ts';
import { grown } from '../model/typedArrays.ts';
import { ExperimentError } from '../experiment/errors.ts';

/** Version of the part layout below; bump on any change to it or to what its tables hold (5: cohorts' participant rows, results schema 13). */
export const PART_FORMAT_VERSION = 5;
const MAGIC = 'CTGNRUN1';
const PREFIX_BYTES = 16;
const ENDIANNESS = os.endianness();

type ArrayType = 'u8' | 'i32' | 'u32' | 'f64';
type AnyTypedArray = Uint8Array | Int32Array | Uint32Array | Float64Array;
const CTORS = {
  u8: Uint8Array,
  i32: Int32Array,
  u32: Uint32Array,
  f64: Float64Array,
} as const satisfies Record<ArrayType, new (n: number) => AnyTypedArray>;

function arrayType(a: unknown): ArrayType | null {
  if (a instanceof Float64Array) return 'f64';
  if (a instanceof Int32Array) return 'i32';
  if (a instanceof Uint32Array) return 'u32';
  if (a instanceof Uint8Array) return 'u8';
  return null;
}

interface ArrayEntry {
  /** "steps.openInterestUsd", "events.step", "accountCohort", … */
  name: string;
  type: ArrayType;
  length: number;
}

interface PartHeader {
  pointIndex: number;
  replicate: number;
  seed: number;
  summary: Record<string, number | string>;
  steps: { steps: number; nProtocols: number } | null;
  prices: { steps: number; nAssets: number } | null;
  events: { enabled: boolean; length: number };
  attribution: { rows: number };
  cohorts: { rows: number };
  endianness: 'LE' | 'BE';
  arrays: ArrayEntry[];
  /** Bytes after the header's padding. */
  dataBytes: number;
  /** crc32 of those bytes. */
  crc32: number;
}

const align8 = (n: number) => (n + 7) & ~7;

/** The typed-array fields of a table object, in declaration order. */
function typedFields(table: object): [string, AnyTypedArray][] {
  const out: [string, AnyTypedArray][] = [];
  for (const [k, v] of Object.entries(table)) if (arrayType(v) !== null) out.push([k, v as AnyTypedArray]);
  return out;
}

function encodeNumber(v: number): number | string {
  if (Number.isFinite(v) && !Object.is(v, -0)) return v;
  const b = new DataView(new ArrayBuffer(8));
  b.setFloat64(0, v);
  return `f64:${b.getBigUint64(0).toString(16).padStart(16, '0')}`;
}

function decodeNumber(v: unknown, what: string): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && /^f64:[0-9a-f]{16}$/.test(v)) {
    const b = new DataView(new ArrayBuffer(8));
    b.setBigUint64(0, BigInt(`0x${v.slice(4)}`));
    return b.getFloat64(0);
  }
  throw new Error(`part file: ${what} is not a number (${JSON.stringify(v)})`);
}

/** Binary encoding of a RunResult (all typed arrays + summary + keys); decodeRun(encodeRun(r)) deep-equals r (events: only the stored rows; typed arrays exactly sized). */
export function encodeRun(run: RunResult): Uint8Array {
  return encodeRunInto(run, (n) => new Uint8Array(n));
}

/**
 * encodeRun into the array `alloc(bytes)` returns (at least `bytes` long; every byte of the part
 * is written, whatever it held); returns the part, a view of its first `bytes` bytes. Each array
 * is copied once, straight to its place: the checksum is taken over the arrays as they are.
 */
function encodeRunInto(run: RunResult, alloc: (bytes: number) => Uint8Array): Uint8Array {
  const arrays: { entry: ArrayEntry; data: AnyTypedArray }[] = [];
  const add = (name: string, data: AnyTypedArray) => {
    arrays.push({ entry: { name, type: arrayType(data)!, length: data.length }, data });
  };
  if (run.steps !== null) for (const [k, a] of typedFields(run.steps)) add(`steps.${k}`, a);
  if (run.prices !== null) for (const [k, a] of typedFields(run.prices)) add(`prices.${k}`, a);
  const stored = run.events.storedRows;
  for (const [k, a] of typedFields(run.events)) {
    if (a.length < stored) throw new RangeError(`events.${k} has ${a.length} entries, fewer than ${stored} rows`);
    add(`events.${k}`, a.subarray(0, stored));
  }
  add('accountCohort', run.accountCohort);
  for (const [k, a] of typedFields(run.attribution)) add(`attribution.${k}`, a);
  for (const [k, a] of typedFields(run.cohorts)) add(`cohorts.${k}`, a);

  // The data section's length and checksum, padding included, without assembling it first.
  let dataBytes = 0;
  let crc = 0;
  for (const { data } of arrays) {
    const pad = align8(dataBytes) - dataBytes;
    if (pad > 0) crc = crc32(ZEROS.subarray(0, pad), crc);
    // Not with an empty array: over a zero-length buffer (no data pointer) Node's crc32 returns 0,
    // zlib's answer to crc32(value, NULL, 0), whatever value was (Node 20.20).
    if (data.byteLength > 0) crc = crc32(bytesOf(data), crc);
    dataBytes += pad + data.byteLength;
  }
  const endPad = align8(dataBytes) - dataBytes;
  if (endPad > 0) crc = crc32(ZEROS.subarray(0, endPad), crc);
  dataBytes += endPad;

  const summary: Record<string, number | string> = {};
  for (const [k, v] of Object.entries(run.summary)) {
    if (typeof v !== 'number') throw new TypeError(`summary.${k} is not a number`);
    summary[k] = encodeNumber(v);
  }
  const header: PartHeader = {
    pointIndex: run.pointIndex,
    replicate: run.replicate,
    seed: run.seed,
    summary,
    steps: run.steps === null ? null : { steps: run.steps.steps, nProtocols: run.steps.nProtocols },
    prices: run.prices === null ? null : { steps: run.prices.steps, nAssets: run.prices.nAssets },
    events: { enabled: run.events.enabled, length: run.events.length },
    attribution: { rows: run.attribution.rows },
    cohorts: { rows: run.cohorts.rows },
    endianness: ENDIANNESS,
    arrays: arrays.map((a) => a.entry),
    dataBytes,
    crc32: crc,
  };
  const json = new TextEncoder().encode(JSON.stringify(header));
  const dataStart = align8(PREFIX_BYTES + json.byteLength);
  const out = alloc(dataStart + dataBytes).subarray(0, dataStart + dataBytes);
  const dv = new DataView(out.buffer, out.byteOffset, out.byteLength);
  for (let i = 0; i < MAGIC.length; i++) out[i] = MAGIC.charCodeAt(i);
  dv.setUint32(8, PART_FORMAT_VERSION, true);
  dv.setUint32(12, json.byteLength, true);
  out.set(json, PREFIX_BYTES);
  out.fill(0, PREFIX_BYTES + json.byteLength, dataStart);
  let rel = 0; // offset in the data section
  for (const { data: a } of arrays) {
    const at = align8(rel);
    out.fill(0, dataStart + rel, dataStart + at);
    out.set(bytesOf(a), dataStart + at);
    rel = at + a.byteLength;
  }
  out.fill(0, dataStart + rel);
  return out;
}

/** Zeros for the checksum of padding (at most 7 bytes of it at a time). */
const ZEROS = new Uint8Array(8);

function bytesOf(a: AnyTypedArray): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/**
 * Decodes a part written by encodeRun; throws a descriptive Error on anything malformed. The
 * tables are copied out of `bytes`: into fresh ones, or into those of `reuse` (a run decoded
 * earlier, which is then overwritten) wherever their shapes allow, so that reading a sweep's runs
 * one after another allocates no table memory once the first has been read.
 */
export function decodeRun(bytes: Uint8Array, reuse: RunResult | null = null): RunResult {
  if (bytes.byteLength < PREFIX_BYTES) throw new Error(`part file: ${bytes.byteLength} bytes, too short`);
  for (let i = 0; i < MAGIC.length; i++) {
    if (bytes[i] !== MAGIC.charCodeAt(i)) throw new Error('part file: bad magic (not a contagion run part)');
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = dv.getUint32(8, true);
  if (version !== PART_FORMAT_VERSION) {
    throw new Error(`part file: format version ${version}, this build reads version ${PART_FORMAT_VERSION}`);
  }
  const jsonBytes = dv.getUint32(12, true);
  if (PREFIX_BYTES + jsonBytes > bytes.byteLength) throw new Error('part file: truncated header');
  const h = JSON.parse(new TextDecoder().decode(bytes.subarray(PREFIX_BYTES, PREFIX_BYTES + jsonBytes))) as PartHeader;
  if (h.endianness !== ENDIANNESS) throw new Error(`part file: written on a ${h.endianness} machine, this one is ${ENDIANNESS}`);
  const dataStart = align8(PREFIX_BYTES + jsonBytes);
  if (bytes.byteLength !== dataStart + h.dataBytes) {
    throw new Error(`part file: ${bytes.byteLength} bytes, header says ${dataStart + h.dataBytes} (truncated or corrupt)`);
  }
  const data = bytes.subarray(dataStart);
  if (crc32(data) !== h.crc32) throw new Error('part file: checksum mismatch (corrupt)');

  const summary: Record<string, number> = {};
  for (const [k, v] of Object.entries(h.summary)) summary[k] = decodeNumber(v, `summary.${k}`);
  for (const [key] of RUN_SUMMARY_COLUMNS) {
    if (!(key in summary)) throw new Error(`part file: summary lacks ${key} (written by another version?)`);
  }

  const hs = h.steps;
  const hp = h.prices;
  const stored = h.events.enabled ? h.events.length : 0;
  const steps =
    hs === null ? null : reuse?.steps != null && reuse.steps.steps === hs.steps && reuse.steps.nProtocols === hs.nProtocols ? reuse.steps : new StepTable(hs.steps, hs.nProtocols);
  const prices =
    hp === null ? null : reuse?.prices != null && reuse.prices.steps === hp.steps && reuse.prices.nAssets === hp.nAssets ? reuse.prices : new PriceTable(hp.steps, hp.nAssets);
  // An event log keeps spare capacity: a reused one needs enough of it.
  const events =
    reuse !== null && reuse.events.enabled === h.events.enabled && reuse.events.step.length >= stored ? reuse.events : new EventLog(h.events.enabled, stored);
  events.length = h.events.length;
  let accountCohort: Int32Array | null = null;
  const attribution = reuse?.attribution.rows === h.attribution.rows ? reuse.attribution : new AttributionTable(h.attribution.rows);
  const cohorts = reuse?.cohorts.rows === h.cohorts.rows ? reuse.cohorts : new CohortTable(h.cohorts.rows);

  const targets = new Map<string, AnyTypedArray>();
  if (steps !== null) for (const [k, a] of typedFields(steps)) targets.set(`steps.${k}`, a);
  if (prices !== null) for (const [k, a] of typedFields(prices)) targets.set(`prices.${k}`, a);
  for (const [k, a] of typedFields(events)) targets.set(`events.${k}`, a.subarray(0, stored));
  for (const [k, a] of typedFields(attribution)) targets.set(`attribution.${k}`, a);
  for (const [k, a] of typedFields(cohorts)) targets.set(`cohorts.${k}`, a);

  let off = 0;
  for (const e of h.arrays) {
    off = align8(off);
    const ctor = CTORS[e.type];
    if (ctor === undefined) throw new Error(`part file: ${e.name} has unknown type ${String(e.type)}`);
    const nBytes = e.length * ctor.BYTES_PER_ELEMENT;
    if (off + nBytes > data.byteLength) throw new Error(`part file: ${e.name} runs past the end`);
    let dst: AnyTypedArray;
    if (e.name === 'accountCohort') {
      if (e.type !== 'i32') throw new Error(`part file: accountCohort is ${e.type}, expected i32`);
      dst = accountCohort = reuse?.accountCohort.length === e.length ? reuse.accountCohort : new Int32Array(e.length);
    } else {
      const t = targets.get(e.name);
      if (t === undefined) throw new Error(`part file: unexpected array ${e.name} (written by another version?)`);
      targets.delete(e.name);
      if (arrayType(t) !== e.type || t.length !== e.length) {
        throw new Error(`part file: ${e.name} is ${e.type}[${e.length}], expected ${arrayType(t)}[${t.length}]`);
      }
      dst = t;
    }
    new Uint8Array(dst.buffer, dst.byteOffset, nBytes).set(data.subarray(off, off + nBytes));
    off += nBytes;
  }
  if (targets.size > 0) throw new Error(`part file: missing arrays ${[...targets.keys()].join(', ')}`);
  if (accountCohort === null) throw new Error('part file: missing array accountCohort');

  return {
    pointIndex: h.pointIndex,
    replicate: h.replicate,
    seed: h.seed,
    steps,
    prices,
    events,
    accountCohort,
    attribution,
    cohorts,
    summary: summary as unknown as RunSummary,
  };
}

const PART_NAME = /^p(\d{6,})-r(\d{6,})\.run$/;
const pad6 = (n: number) => {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`part index must be a non-negative integer, got ${n}`);
  return String(n).padStart(6, '0');
};

/** "<dir>/parts/p000003-r000012.run" (6-digit zero-padded point and replicate). */
export function partPath(outDir: string, point: number, replicate: number): string {
  return path.join(outDir, 'parts', `p${pad6(point)}-r${pad6(replicate)}.run`);
}

/** The buffer writePart encodes into (one per thread, grown as needed: parts are written synchronously). */
let partBuffer = new Uint8Array(0);
const partBufferOf = (n: number): Uint8Array => {
  if (partBuffer.byteLength < n) partBuffer = grown(partBuffer, n);
  return partBuffer;
};

/** Writes the run's part atomically: to a unique temporary name in the same folder, fsync, then rename; creates parts/ if needed. */
export function writePart(outDir: string, run: RunResult): void {
  commitPart(startPart(outDir, run));
}

/** A part whose bytes are written to its temporary file, not yet synced nor renamed into place. */
export interface PendingPart {
  fd: number;
  tmpPath: string;
  finalPath: string;
}

/**
 * The first half of writePart: encodes the run and writes it to a unique temporary name (the
 * encoding buffer is free again on return). Finish with commitPart or commitPartAsync.
 */
export function startPart(outDir: string, run: RunResult): PendingPart {
  const bytes = encodeRunInto(run, partBufferOf);
  const finalPath = partPath(outDir, run.pointIndex, run.replicate);
  fs.mkdirSync(path.dirname(finalPath), { recursive: true });
  // Unique across processes, worker threads and calls: "<final>.<pid>-<thread>-<random>.tmp".
  const tmpPath = `${finalPath}.${process.pid}-${threadId}-${randomBytes(6).toString('hex')}.tmp`;
  const fd = fs.openSync(tmpPath, 'wx');
  try {
    for (let done = 0; done < bytes.byteLength; ) done += fs.writeSync(fd, bytes, done, bytes.byteLength - done);
  } catch (err) {
    discard(fd, tmpPath);
    throw err;
  }
  return { fd, tmpPath, finalPath };
}

/** fsync, close and rename into place: the part is committed when this returns. */
export function commitPart(p: PendingPart): void {
  try {
    fs.fsyncSync(p.fd);
  } catch (err) {
    discard(p.fd, p.tmpPath);
    throw err;
  }
  closeAndRename(p);
}

/**
 * commitPart with the fsync on libuv's thread pool, so the calling thread can run the next run
 * meanwhile (a worker's runs of ~3 ms spent a fifth of their time waiting in fsync); `done` is
 * called once the part is in place, or with the error (the temporary file removed).
 */
export function commitPartAsync(p: PendingPart, done: (err: Error | null) => void): void {
  fs.fsync(p.fd, (err) => {
    if (err) {
      discard(p.fd, p.tmpPath);
      done(err);
      return;
    }
    try {
      closeAndRename(p);
    } catch (e) {
      done(e instanceof Error ? e : new Error(String(e)));
      return;
    }
    done(null);
  });
}

function closeAndRename(p: PendingPart): void {
  fs.closeSync(p.fd);
  try {
    fs.renameSync(p.tmpPath, p.finalPath);
  } catch (err) {
    fs.rmSync(p.tmpPath, { force: true });
    throw err;
  }
}

/** Closes and removes a temporary part that will not be committed. */
function discard(fd: number, tmpPath: string): void {
  try {
    fs.closeSync(fd);
  } finally {
    fs.rmSync(tmpPath, { force: true });
  }
}

/** Reads and decodes a part; the error names the file if it is missing or malformed. */
export function readPart(outDir: string, point: number, replicate: number): RunResult {
  return new PartReader().read(outDir, point, replicate);
}

/**
 * Reads parts one after another into the same memory: the file into one buffer, the tables into
 * those of the previous run (decodeRun's `reuse`). What read() returns is valid until the next
 * read(). This is how a sweep's main thread appends runs to the Arrow files: reading every part
 * into fresh memory cost a sweep of large runs (10^5 events each) a full collection every other run.
 */
export class PartReader {
  private buffer = new Uint8Array(0);
  private last: RunResult | null = null;

  read(outDir: string, point: number, replicate: number): RunResult {
    const file = partPath(outDir, point, replicate);
    let run: RunResult;
    try {
      run = decodeRun(this.load(file), this.last);
    } catch (err) {
      const msg = err instanceof Error ? err.message : String(err);
      const size = fs.statSync(file, { throwIfNoEntry: false })?.size;
      throw damaged(file, size === undefined ? undefined : `${size} bytes`, msg.replace(/^part file: /, ''));
    }
    if (run.pointIndex !== point || run.replicate !== replicate) {
      throw damaged(file, `point ${run.pointIndex} replicate ${run.replicate}`, `holds another run than its name says`);
    }
    this.last = run;
    return run;
  }

  /** The whole file, in this reader's buffer. */
  private load(file: string): Uint8Array {
    const fd = fs.openSync(file, 'r');
    try {
      const size = fs.fstatSync(fd).size;
      if (this.buffer.byteLength < size) this.buffer = grown(this.buffer, size);
      let done = 0;
      while (done < size) {
        const n = fs.readSync(fd, this.buffer, done, size - done, done);
        if (n === 0) break; // shorter than it was a moment ago: decodeRun reports the truncation
        done += n;
      }
      return this.buffer.subarray(0, done);
    } finally {
      fs.closeSync(fd);
    }
  }
}

/**
 * A part file that cannot be read back (cut short by an interrupted copy, a damaged disk, another
 * version's format): bad input of the command that reads it (exit 2), with the remedy. Parts are
 * fsynced before they are renamed into place, so a kill does not make one.
 */
function damaged(file: string, value: unknown, why: string): ExperimentError {
  return new ExperimentError(file, [
    {
      path: 'part file',
      value,
      message: `${why}: delete it and run the command that wrote its folder again (that run alone is redone, to the same bytes)`,
    },
  ]);
}

/** The names of the files in `outDir/parts` (none when it does not exist yet). */
function partsFolderNames(outDir: string): string[] {
  try {
    return fs.readdirSync(path.join(outDir, 'parts'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

/**
 * Removes the temporary files a killed command left in `outDir/parts` (a part being written when the
 * process died: "<part>.<pid>-<thread>-<random>.tmp"). A results folder is written by one command at
 * a time (runner/folderLock.ts), so once a command holds it every one of them is stale.
 */
export function removeStaleTemporaries(outDir: string): void {
  for (const name of partsFolderNames(outDir)) {
    if (name.endsWith('.tmp')) fs.rmSync(path.join(outDir, 'parts', name), { force: true });
  }
}

/** Calls `f` with the point and replicate of every part file in `outDir` (not temporary files), in no order. */
export function forEachPart(outDir: string, f: (point: number, replicate: number) => void): void {
  for (const name of partsFolderNames(outDir)) {
    const m = PART_NAME.exec(name);
    if (m !== null) f(Number(m[1]), Number(m[2]));
  }
}

/** The (point, replicate) pairs whose part files exist (ignores temporary files), sorted by point then replicate. */
export function listParts(outDir: string): { point: number; replicate: number }[] {
  const out: { point: number; replicate: number }[] = [];
  forEachPart(outDir, (point, replicate) => out.push({ point, replicate }));
  return out.sort((a, b) => a.point - b.point || a.replicate - b.replicate);
}
