// The direct record-batch encoder (src/io/ipcRecordBatch.ts): a hand-computed batch, read back by
// apache-arrow's own message decoder, and results files with sweep columns of both kinds compared
// byte for byte with apache-arrow's RecordBatchFileWriter.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Field, Float64, Int32, RecordBatch, Schema, Struct, makeData } from 'apache-arrow';
import { Message, type RecordBatch as RecordBatchHeader } from 'apache-arrow/ipc/metadata/message';
import { RecordBatchEncoder } from '../src/io/ipcRecordBatch.ts';
import { RunBatchBuilder, TABLE_NAMES, type ColumnBatch } from '../src/io/arrowTables.ts';
import { ResultsWriter, type ResultsWriterOptions } from '../src/io/resultsWriter.ts';
import { stockFileBytes } from './fixtures/stockFile.ts';
import { AttributionTable, CohortTable, EventKindCode, EventLog, PriceTable, RUN_SUMMARY_COLUMNS, StepTable, type RunResult, type RunSummary } from '../src/engine/record.ts';

const tmpDirs: string[] = [];
afterAll(() => {
  for (const d of tmpDirs) fs.rmSync(d, { recursive: true, force: true });
});

/** Three rows: an Int32 column without nulls and a Float64 column whose row 1 is null. */
function threeRows(): ColumnBatch {
  return {
    table: 'runs',
    rows: 3,
    columns: [
      { values: Int32Array.of(7, 8, 9), validity: null, nullCount: 0 },
      // Validity LSB-first: rows 0 and 2 valid = 0b101.
      { values: Float64Array.of(1.5, 0, -2), validity: Uint8Array.of(0b101), nullCount: 1 },
    ],
  };
}

describe('RecordBatchEncoder', () => {
  it('lays out a hand-computed batch as apache-arrow does', () => {
    const enc = new RecordBatchEncoder(2);
    const batch = threeRows();
    enc.encode(batch);
    // Body: column 0 has no validity buffer (0) and 3 × 4 = 12 bytes of values, padded to 16;
    // column 1 has a 1-byte bitmap padded to 8, then 3 × 8 = 24 bytes of values: 16 + 8 + 24 = 48.
    expect(enc.bodyLength).toBe(48);
    expect(enc.metadataBytes % 8).toBe(0);
    expect(enc.metadataBytes).toBe(8 + enc.metadata.byteLength + enc.padding);
    // The prefix: continuation marker 0xFFFFFFFF, then the metadata length with its padding.
    const prefix = new DataView(enc.prefix.buffer);
    expect(prefix.getInt32(0, true)).toBe(-1);
    expect(prefix.getInt32(4, true)).toBe(enc.metadataBytes - 8);
    // apache-arrow's decoder reads back every number.
    const m = Message.decode(enc.metadata);
    expect(m.isRecordBatch()).toBe(true);
    expect(m.bodyLength).toBe(48);
    const header = m.header() as RecordBatchHeader;
    expect(header.length).toBe(3);
    expect(header.nodes.map((n) => [n.length, n.nullCount])).toEqual([
      [3, 0],
      [3, 1],
    ]);
    expect(header.buffers.map((b) => [b.offset, b.length])).toEqual([
      [0, 0],
      [0, 16],
      [16, 8],
      [24, 24],
    ]);
    // And the bytes are apache-arrow's own encoding of the same batch.
    const schema = new Schema([new Field('a', new Int32(), false), new Field('b', new Float64(), true)]);
    const record = new RecordBatch(
      schema,
      makeData({
        type: new Struct(schema.fields),
        length: 3,
        nullCount: 0,
        children: [
          makeData({ type: new Int32(), length: 3, data: batch.columns[0]!.values as Int32Array, nullCount: 0 }),
          makeData({ type: new Float64(), length: 3, data: batch.columns[1]!.values as Float64Array, nullCount: 1, nullBitmap: Uint8Array.of(0b101) }),
        ],
      }),
    );
    expect(() => enc.checkAgainstArrow(batch, record)).not.toThrow();
    // A batch whose numbers differ (no nulls) must not pass for this record.
    enc.encode({ ...batch, columns: [batch.columns[0]!, { values: batch.columns[1]!.values, validity: null, nullCount: 0 }] });
    expect(() => enc.checkAgainstArrow(batch, record)).toThrow(/disagrees with apache-arrow/);
  });

  it('refuses batches it cannot lay out: no rows, or another column count', () => {
    const enc = new RecordBatchEncoder(2);
    expect(() => enc.encode({ ...threeRows(), rows: 0 })).toThrow(/needs rows/);
    expect(() => new RecordBatchEncoder(3).encode(threeRows())).toThrow(/2 columns, encoder has 3/);
  });
});

/** A run of 3 steps × 2 protocols × 2 assets with `events` events (null ids on a pattern) and NaN oracles on another. */
function sweptRun(pointIndex: number, replicate: number, events: number): RunResult {
  const st = new StepTable(3, 2);
  st.openInterestUsd.set([100, 200, 110, 190, 90, 180 + pointIndex]);
  st.liquidations.set([0, 0, 1, 0, 2, replicate]);
  st.regime.set([0, 0, 1, 1, 0, 0]);
  const pt = new PriceTable(3, 2);
  pt.fundamental.set([100, 10, 95, 9.5, 90, 9]);
  pt.market.set([100, 10, 94, 9.4, 85, 8.9]);
  for (let i = 0; i < pt.oracle.length; i++) pt.oracle[i] = (i + pointIndex) % 3 === 0 ? NaN : 50 + i;
  const ev = new EventLog(true, 1);
  for (let i = 0; i < events; i++) {
    ev.push(i, 0, EventKindCode.liquidation, i % 3 === 0 ? -1 : i % 2, i % 2 === 0 ? -1 : i % 4, i % 4 === 0 ? -1 : 1, -i, 100 + i, i * 0.5, i - 1);
  }
  const at = new AttributionTable(2);
  at.protocol.set([0, 1]);
  at.origin.set([2, pointIndex % 3]);
  at.channel.set([6, 1]);
  at.lossUsd.set([1.5, 0.25 * replicate]);
  at.events.set([1, 1]);
  const summary = Object.fromEntries(RUN_SUMMARY_COLUMNS.map(([key], i) => [key, i + pointIndex])) as unknown as RunSummary;
  const co = new CohortTable(1);
  co.cohort[0] = 0;
  co.accounts[0] = 4;
  co.contributedUsd[0] = 100 + pointIndex;
  co.valueUsd[0] = 90.5 - replicate;
  return { pointIndex, replicate, seed: 1000 * pointIndex + replicate, steps: st, prices: pt, events: ev, accountCohort: Int32Array.of(0, 0, 0, 0), attribution: at, cohorts: co, summary };
}

describe('results files with sweep columns', () => {
  it('are the bytes apache-arrow writes, over runs at several points with nulls, batch by batch or runs gathered', async () => {
    const opts: ResultsWriterOptions = {
      protocols: ['p0', 'p1'],
      assets: ['A', 'B'],
      cohorts: ['longs'],
      origins: ['crash', 'regime_switch', 'endogenous'],
      participants: { names: ['longs'], roles: [0] },
      output: { steps: true, prices: true, events: true, attribution: true, cohorts: true },
      sweep: { columns: [{ name: 'fund', values: [1e6, 2e6, 3e6] }, { name: 'venue', values: ['dydx', 'hyperliquid', 'dydx'] }] },
    };
    // More events at later points (a batch larger than the one the encoder was checked on).
    const runs: RunResult[] = [];
    for (let point = 0; point < 3; point++) for (let replicate = 0; replicate < 2; replicate++) runs.push(sweptRun(point, replicate, 3 + 5 * point + replicate));
    const fresh = new RunBatchBuilder(opts);
    // 1: a batch per run (the encoder writes every batch after the first); 5: runs gathered, the
    // bitmaps of later runs starting mid-byte; the default: one batch per table.
    const defaultRows = ResultsWriter.batchRows;
    for (const batchRows of [1, 5, defaultRows]) {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'contagion-ipc-'));
      tmpDirs.push(dir);
      ResultsWriter.batchRows = batchRows;
      try {
        const w = await ResultsWriter.open(dir, opts);
        for (const r of runs) w.append(r);
        await w.close({});
      } finally {
        ResultsWriter.batchRows = defaultRows;
      }
      for (const table of TABLE_NAMES) {
        const stock = stockFileBytes(fresh, table, runs, batchRows);
        if (batchRows === 1) expect(stock.batches, table).toBe(6);
        if (batchRows === defaultRows) expect(stock.batches, table).toBe(1);
        const written = fs.readFileSync(path.join(dir, `${table}.arrow`));
        expect(stock.bytes.equals(written), `${table}, batches of ${batchRows} rows`).toBe(true);
      }
    }
  });

});
