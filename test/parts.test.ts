// Part files: a run's binary serialization round-trips exactly (NaN bits, −0, null tables,
// disabled and over-allocated event logs), is written atomically, and Arrow files assembled from
// parts in any write order are byte-identical to ones written straight from the runs. Also the
// sweep columns of runs and steps.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DataType, Precision, type Field } from 'apache-arrow';
import {
  EventKindCode,
  EventLog,
  PriceTable,
  RUN_SUMMARY_COLUMNS,
  StepTable,
  type RunResult,
  type RunSummary,
  AttributionTable,
  CohortTable,
} from '../src/engine/record.ts';
import { simulateRun } from '../src/engine/simulate.ts';
import { parseExperiment } from '../src/experiment/load.ts';
import { buildGraph, protocolIds } from '../src/graph/build.ts';
import { experimentOrigins } from '../src/engine/attribution.ts';
import { participantList } from '../src/engine/participants.ts';
import { RunBatchBuilder } from '../src/io/arrowTables.ts';
import { decodeRun, encodeRun, listParts, PartReader, partPath, readPart, writePart } from '../src/io/parts.ts';
import { columnToArray, readArrowTable } from '../src/io/readArrow.ts';
import { ResultsWriter, assembleFromParts, type ResultsWriterOptions } from '../src/io/resultsWriter.ts';
import { minimalExperiment } from './fixtures/minimalExperiment.ts';

const TABLES = ['runs', 'steps', 'prices', 'events', 'attribution', 'cohorts'] as const;
const tmpDirs: string[] = [];
function tmpDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'contagion-parts-'));
  tmpDirs.push(d);
  return d;
}
afterAll(() => {
  for (const d of tmpDirs) fs.rmSync(d, { recursive: true, force: true });
});

/** IEEE-754 bits of a number, so NaN payloads and −0 can be compared exactly. */
function bits(v: number): string {
  return new BigUint64Array(Float64Array.of(v).buffer)[0]!.toString(16);
}

let zero = 0;
const COMPUTED_NAN = zero / zero; // fff8…: not the bits of the NaN literal (7ff8…)

function summary(over: Partial<RunSummary> = {}): RunSummary {
  const s = Object.fromEntries(RUN_SUMMARY_COLUMNS.map(([key], i) => [key, i + 0.5])) as unknown as RunSummary;
  return { ...s, insuranceFundDepletionStep: -1, adlCount: 3, drawdownAmplification: COMPUTED_NAN, ...over };
}

const ACCOUNT_COHORT = Int32Array.of(0, 0, 1, 2);

/** 3 steps × 2 protocols × 2 assets, an event log with spare capacity, NaN summary and oracle. */
function handRun(pointIndex = 0, replicate = 0): RunResult {
  const st = new StepTable(3, 2);
  st.openInterestUsd.set([100, 200, 110, 190, 90, 180]);
  st.marginCalls.set([0, 1, 2, 0, 3, 1]);
  st.liquidations.set([0, 0, 1, 0, 2, 1]);
  st.badDebtUsd.set([0, 0, 0, -0, 0.25, 0]);
  st.insuranceFundUsd.set([50, 60, 50, 60, 49.75, 60]);
  st.cascadeRounds.set([0, 1, 2, 0, 3, 1]);
  st.regime.set([0, 0, 1, 1, 0, 0]);
  const pt = new PriceTable(3, 2);
  pt.fundamental.set([100, 10, 95, 9.5, 90, 9]);
  pt.market.set([100, 10, 94, 9.4, 85, 8.9]);
  pt.oracle.set([100, 10, 94, NaN, 86, COMPUTED_NAN]);
  const ev = new EventLog(true, 8);
  ev.push(0, 0, EventKindCode.shock, -1, -1, 0, 0, 95, 0, -1);
  ev.push(1, 1, EventKindCode.margin_call, 0, 3, -1, 0, 0, 12.5, 0);
  ev.push(1, 2, EventKindCode.liquidation, 1, 2, 1, -2, 9.4, 18.8, 1);
  return {
    pointIndex,
    replicate,
    seed: 4_000_000_000 + replicate,
    steps: st,
    prices: pt,
    events: ev,
    accountCohort: ACCOUNT_COHORT,
    attribution: handAttribution(),
    cohorts: handCohorts(),
    summary: summary({ totalValueUsd: -0, insuranceFundMinUsd: -Infinity, ledgerErrorUsd: Infinity }),
  };
}

/** `run` with its event log cut to the stored rows (what decodeRun gives back). */
function trimmed(run: RunResult): RunResult {
  const n = run.events.storedRows;
  const ev = new EventLog(run.events.enabled, run.events.enabled ? n : 0);
  ev.length = run.events.length;
  for (const [k, v] of Object.entries(run.events)) {
    if (ArrayBuffer.isView(v)) (ev as unknown as Record<string, Uint8Array>)[k]!.set((v as Uint8Array).subarray(0, n));
  }
  return { ...run, events: ev };
}

describe('encodeRun / decodeRun', () => {
  it('round-trips a hand-built run exactly, NaN bits and −0 included', () => {
    const run = handRun(3, 12);
    const back = decodeRun(encodeRun(run));
    expect(back).toEqual(trimmed(run));
    expect(back.steps).toBeInstanceOf(StepTable);
    expect(back.prices).toBeInstanceOf(PriceTable);
    expect(back.events).toBeInstanceOf(EventLog);
    expect(back.events.step.length).toBe(3); // exactly sized, not the capacity of 8
    expect(back.events.storedRows).toBe(3);
    for (const [key] of RUN_SUMMARY_COLUMNS) expect(bits(back.summary[key]), key).toBe(bits(run.summary[key]));
    expect(bits(back.summary.drawdownAmplification)).toBe('fff8000000000000');
    expect(Object.is(back.summary.totalValueUsd, -0)).toBe(true);
    expect(back.summary.insuranceFundMinUsd).toBe(-Infinity);
    expect(bits(back.prices!.oracle[5]!)).toBe(bits(COMPUTED_NAN));
    expect(bits(back.prices!.oracle[3]!)).toBe(bits(NaN));
    expect(Object.is(back.steps!.badDebtUsd[3], -0)).toBe(true);
    // Events can still be appended to a decoded log.
    back.events.push(2, 0, EventKindCode.adl, 0, 1, 0, 1, 1, 1, 2);
    expect(back.events.storedRows).toBe(4);
  });

  it('round-trips null tables, a disabled event log (ids counted, nothing stored) and an empty one', () => {
    const disabled = new EventLog(false);
    for (let i = 0; i < 5; i++) disabled.push(0, 0, EventKindCode.shock, -1, -1, -1, 0, 0, 0, -1);
    const run: RunResult = { ...handRun(), steps: null, prices: null, events: disabled };
    const back = decodeRun(encodeRun(run));
    expect(back).toEqual(run);
    expect(back.steps).toBeNull();
    expect(back.prices).toBeNull();
    expect(back.events.enabled).toBe(false);
    expect(back.events.length).toBe(5);
    expect(back.events.storedRows).toBe(0);
    expect(back.events.amountUsd.length).toBe(0);

    const empty: RunResult = { ...handRun(), events: new EventLog(true) };
    const back2 = decodeRun(encodeRun(empty));
    expect(back2.events.enabled).toBe(true);
    expect(back2.events.storedRows).toBe(0);
    expect(back2).toEqual(trimmed(empty));
  });

  it('checksums a part whose last arrays are empty after padding (no losses to attribute)', () => {
    // handRun's 3 events leave the Uint8 kind column at 3 bytes, so padding precedes what follows;
    // an attribution table of 0 rows then ends the data with empty arrays over a zero-length
    // buffer, where Node's crc32(empty, value) returns 0 instead of value: the checksum must skip them.
    const run: RunResult = { ...handRun(), attribution: new AttributionTable(0), cohorts: new CohortTable(0) };
    const bytes = encodeRun(run);
    expect(() => decodeRun(bytes)).not.toThrow();
    expect(decodeRun(bytes)).toEqual(trimmed(run));
  });

  it('a PartReader reading runs of changing shapes gives what fresh reads give', () => {
    const dir = tmpDir();
    // Shapes change from one read to the next: more events, then fewer, a disabled log, null
    // tables, other step, attribution and cohort sizes; the reader reuses tables where they fit.
    const big = new EventLog(true, 4);
    for (let i = 0; i < 40; i++) big.push(i % 3, 0, EventKindCode.liquidation, i % 2, i % 4, i % 2, -i, 100 - i, i * 0.5, i - 1);
    const disabled = new EventLog(false);
    disabled.push(0, 0, EventKindCode.shock, -1, -1, -1, 0, 0, 0, -1);
    const attribution = new AttributionTable(2, Int32Array.of(0, 1), Int32Array.of(0, 2), Uint8Array.of(0, 1), Float64Array.of(1.5, 2.5), Int32Array.of(1, 1));
    const runs: RunResult[] = [
      handRun(0, 0),
      { ...handRun(0, 1), events: big, attribution },
      handRun(0, 2),
      { ...handRun(0, 3), events: disabled, steps: null },
      { ...handRun(0, 4), steps: new StepTable(5, 2), prices: null, attribution: new AttributionTable(0), cohorts: new CohortTable(0) },
      { ...handRun(0, 5), events: big },
    ];
    for (const r of runs) writePart(dir, r);
    const reader = new PartReader();
    runs.forEach((r, i) => {
      const viaReader = reader.read(dir, 0, i);
      const fresh = readPart(dir, 0, i);
      // The reused event log may keep spare capacity: compare the stored rows.
      expect(viaReader.events.length).toBe(fresh.events.length);
      expect(trimmed(viaReader)).toEqual(fresh);
      expect(fresh).toEqual(trimmed(r));
    });
  });

  it('rejects bad magic, truncation and corruption', () => {
    const bytes = encodeRun(handRun());
    expect(bytes.byteLength % 8).toBe(0);
    expect(Buffer.from(bytes.subarray(0, 8)).toString('latin1')).toBe('CTGNRUN1');
    const bad = bytes.slice();
    bad[0] = 0x41;
    expect(() => decodeRun(bad)).toThrow(/magic/);
    expect(() => decodeRun(bytes.subarray(0, bytes.byteLength - 8))).toThrow(/truncated/);
    const flipped = bytes.slice();
    flipped[flipped.byteLength - 20]! ^= 0xff;
    expect(() => decodeRun(flipped)).toThrow(/checksum/);
  });
});

describe('part files', () => {
  it('partPath pads point and replicate to 6 digits', () => {
    expect(partPath('/r', 3, 12)).toBe(path.join('/r', 'parts', 'p000003-r000012.run'));
    expect(() => partPath('/r', -1, 0)).toThrow(RangeError);
  });

  it('writePart creates parts/, leaves no temporary file, readPart reads it back', () => {
    const dir = path.join(tmpDir(), 'nested', 'out');
    const run = handRun(2, 7);
    writePart(dir, run);
    expect(fs.readdirSync(path.join(dir, 'parts'))).toEqual(['p000002-r000007.run']);
    expect(readPart(dir, 2, 7)).toEqual(trimmed(run));
    writePart(dir, run); // overwriting an existing part is fine
    expect(fs.readdirSync(path.join(dir, 'parts'))).toEqual(['p000002-r000007.run']);
    expect(() => readPart(dir, 2, 8)).toThrow(/p000002-r000008\.run/);
  });

  it('listParts sorts by point then replicate and ignores temporary and foreign files', () => {
    const dir = tmpDir();
    expect(listParts(dir)).toEqual([]); // no parts/ yet
    for (const [p, r] of [[1, 0], [0, 10], [0, 2], [10, 1]] as const) writePart(dir, handRun(p, r));
    const parts = path.join(dir, 'parts');
    fs.writeFileSync(path.join(parts, 'p000005-r000000.run.1234-0-abcdef.tmp'), 'partial');
    fs.writeFileSync(path.join(parts, 'p000006-r000000.run.tmp'), 'partial');
    fs.writeFileSync(path.join(parts, 'notes.txt'), '');
    expect(listParts(dir)).toEqual([
      { point: 0, replicate: 2 },
      { point: 0, replicate: 10 },
      { point: 1, replicate: 0 },
      { point: 10, replicate: 1 },
    ]);
  });
});

describe('assembling Arrow files from parts (a real run)', () => {
  const exp = parseExperiment(minimalExperiment(), 'parts-test');
  const graph = buildGraph(exp);
  const opts: ResultsWriterOptions = {
    protocols: protocolIds(exp),
    assets: exp.scenario.assets.map((a) => a.symbol),
    cohorts: [...exp.scenario.traders.map((c) => c.id), ...exp.scenario.backstopVaults.map((v) => v.id)],
    origins: experimentOrigins(exp),
    participants: participantList(exp.scenario),
    output: { steps: true, prices: true, events: true, attribution: true, cohorts: true },
  };
  // Two points × two replicates (the point only relabels the run here).
  const runs: RunResult[] = [];
  const order: { point: number; replicate: number }[] = [];
  let direct = '';
  beforeAll(async () => {
    for (const point of [0, 1]) {
      for (const replicate of [0, 1]) {
        runs.push({ ...simulateRun(exp, graph, replicate, { check: false }), pointIndex: point });
        order.push({ point, replicate });
      }
    }
    direct = path.join(tmpDir(), 'direct');
    const w = await ResultsWriter.open(direct, opts);
    for (const r of runs) w.append(r);
    await w.close({ experiment: 'parts' });
  });
  const sameFiles = (a: string, b: string) => {
    const arrowFiles = (dir: string) => fs.readdirSync(dir).filter((f) => f.endsWith('.arrow')).sort();
    expect(arrowFiles(a)).toEqual(TABLES.map((t) => `${t}.arrow`).sort());
    expect(arrowFiles(b)).toEqual(arrowFiles(a));
    for (const t of TABLES) {
      expect(fs.readFileSync(path.join(a, `${t}.arrow`)).equals(fs.readFileSync(path.join(b, `${t}.arrow`))), t).toBe(true);
    }
    expect(fs.readFileSync(path.join(a, 'manifest.json'), 'utf8')).toBe(fs.readFileSync(path.join(b, 'manifest.json'), 'utf8'));
  };

  it('a real run round-trips and has events to carry', () => {
    const run = runs[0]!;
    expect(run.events.storedRows).toBeGreaterThan(0);
    expect(run.events.step.length).toBeGreaterThanOrEqual(run.events.storedRows);
    expect(decodeRun(encodeRun(run))).toEqual(trimmed(run));
  });

  it('parts assembled in order give byte-identical Arrow files and manifest', async () => {
    const work = tmpDir();
    for (const r of runs) writePart(work, r);
    expect(listParts(work)).toEqual(order);
    const out = path.join(work, 'final');
    const { rows } = await assembleFromParts(out, [work], order, opts, { experiment: 'parts' });
    sameFiles(direct, out);
    const m = JSON.parse(fs.readFileSync(path.join(out, 'manifest.json'), 'utf8')) as { files: { table: string; rows: number }[] };
    expect(rows).toEqual(Object.fromEntries(m.files.map((f) => [f.table, f.rows])));
    expect(rows.runs).toBe(4);
  });

  it('parts written in reverse order, split over shard folders, assemble identically', async () => {
    const a = tmpDir();
    const b = tmpDir();
    [...runs].reverse().forEach((r, i) => writePart(i % 2 === 0 ? a : b, r));
    const out = path.join(tmpDir(), 'merged');
    await assembleFromParts(out, [a, b], order, opts, { experiment: 'parts' });
    sameFiles(direct, out);
  });

  it('a missing part fails before writing anything, naming the run', async () => {
    const work = tmpDir();
    for (const r of runs.slice(0, 2)) writePart(work, r);
    const out = path.join(work, 'final');
    await expect(assembleFromParts(out, [work], order, opts, {})).rejects.toThrow(
      /2 of 4 runs have no part file.*point 1 replicate 0, point 1 replicate 1/,
    );
    expect(fs.existsSync(out)).toBe(false);
    await expect(assembleFromParts(out, [work], [order[0]!, order[0]!], opts, {})).rejects.toThrow(/listed twice/);
  });
});

describe('sweep columns', () => {
  const base: ResultsWriterOptions = {
    protocols: ['alpha', 'beta'],
    assets: ['BTC', 'ETH'],
    cohorts: ['longs', 'makers', 'vault'],
    origins: ['crash', 'regime_switch', 'endogenous'],
    participants: { names: ['longs', 'makers', 'vault'], roles: [0, 0, 1] },
    output: { steps: true, prices: true, events: true, attribution: true, cohorts: true },
  };
  const twoPoints = [handRun(0, 0), handRun(0, 1), handRun(1, 0), handRun(1, 1)];
  async function write(opts: ResultsWriterOptions, runs = twoPoints): Promise<string> {
    const dir = path.join(tmpDir(), 'out');
    const w = await ResultsWriter.open(dir, opts);
    for (const r of runs) w.append(r);
    await w.close({});
    return dir;
  }
  const typeName = (t: DataType): string =>
    DataType.isDictionary(t)
      ? `dict<${typeName(t.dictionary)},${typeName(t.indices)}>`
      : DataType.isInt(t)
        ? `${t.isSigned ? 'int' : 'uint'}${t.bitWidth}`
        : DataType.isFloat(t) && t.precision === Precision.DOUBLE
          ? 'float64'
          : DataType.isUtf8(t)
            ? 'utf8'
            : String(t);
  const names = (fields: Field[]) => fields.map((f) => `${f.name}:${typeName(f.type)}`);

  it('numeric and string sweeps become Float64 and dictionary columns after replicate', async () => {
    const dir = await write({
      ...base,
      sweep: {
        columns: [
          { name: 'leverage', values: [2, 5.5] },
          { name: 'mode', values: ['partial', 'full'] },
          { name: 'mixed', values: [1, 'x'] },
        ],
      },
    });
    const runs = readArrowTable(path.join(dir, 'runs.arrow'));
    expect(names(runs.schema.fields).slice(0, 6)).toEqual([
      'point_index:int32',
      'replicate:int32',
      'leverage:float64',
      'mode:dict<utf8,int8>',
      'mixed:dict<utf8,int8>',
      'seed:uint32',
    ]);
    expect(columnToArray(runs, 'leverage')).toEqual([2, 2, 5.5, 5.5]);
    expect(columnToArray(runs, 'mode')).toEqual(['partial', 'partial', 'full', 'full']);
    expect(columnToArray(runs, 'mixed')).toEqual(['1', '1', 'x', 'x']);
    expect(columnToArray(runs, 'seed')).toEqual([4_000_000_000, 4_000_000_001, 4_000_000_000, 4_000_000_001]);
    // Fixed dictionary ids after the five built-in ones.
    const ids = runs.schema.fields.filter((f) => DataType.isDictionary(f.type)).map((f) => (f.type as { id: number }).id);
    expect(ids).toEqual([5, 6]);

    const steps = readArrowTable(path.join(dir, 'steps.arrow'));
    expect(names(steps.schema.fields).slice(0, 6)).toEqual([
      'point_index:int32',
      'replicate:int32',
      'leverage:float64',
      'mode:dict<utf8,int8>',
      'mixed:dict<utf8,int8>',
      'step:int32',
    ]);
    expect(steps.numRows).toBe(24);
    expect(columnToArray(steps, 'leverage')).toEqual([...Array(12).fill(2), ...Array(12).fill(5.5)]);
    expect(columnToArray(steps, 'mode')).toEqual([...Array(12).fill('partial'), ...Array(12).fill('full')]);
    expect(steps.getChild('mode')?.data[0]?.dictionary?.toArray()).toEqual(['partial', 'full']);
    // prices and events do not carry sweep columns.
    expect(readArrowTable(path.join(dir, 'prices.arrow')).schema.fields.map((f) => f.name)).not.toContain('leverage');
    expect(readArrowTable(path.join(dir, 'events.arrow')).schema.fields.map((f) => f.name)).not.toContain('mode');
  });

  it('string forms: JSON for objects and arrays, first-appearance dictionary order', () => {
    const b = new RunBatchBuilder({
      ...base,
      sweep: { columns: [{ name: 'v', values: ['b', { k: 1 }, [1, 2], 'b', true, null] as unknown as (number | string)[] }] },
    });
    const values = [0, 1, 2, 3, 4, 5].map((p) => b.build('runs', { ...handRun(p), summary: summary() })!.getChild('v')?.get(0));
    expect(values).toEqual(['b', '{"k":1}', '[1,2]', 'b', 'true', 'null']);
    expect(b.build('runs', handRun(1))!.getChild('v')?.data[0]?.dictionary?.toArray()).toEqual(['b', '{"k":1}', '[1,2]', 'true', 'null']);
    expect(() => b.build('runs', handRun(6))).toThrow(/point_index 6/);
    expect(() => new RunBatchBuilder({ ...base, sweep: { columns: [{ name: 'seed', values: [1] }] } })).toThrow(/clashes/);
    expect(
      () => new RunBatchBuilder({ ...base, sweep: { columns: [{ name: 'a', values: [1] }, { name: 'a', values: [2] }] } }),
    ).toThrow(/duplicate/);
  });

  it('with no sweep, or zero columns, the files are unchanged', async () => {
    const none = await write(base);
    const empty = await write({ ...base, sweep: { columns: [] } });
    for (const t of TABLES) {
      expect(fs.readFileSync(path.join(none, `${t}.arrow`)).equals(fs.readFileSync(path.join(empty, `${t}.arrow`))), t).toBe(true);
    }
    expect(names(readArrowTable(path.join(none, 'runs.arrow')).schema.fields).slice(0, 3)).toEqual([
      'point_index:int32',
      'replicate:int32',
      'seed:uint32',
    ]);
    expect(names(readArrowTable(path.join(none, 'steps.arrow')).schema.fields).slice(0, 3)).toEqual([
      'point_index:int32',
      'replicate:int32',
      'step:int32',
    ]);
  });

  it('assembleFromParts passes the sweep through', async () => {
    const opts = { ...base, sweep: { columns: [{ name: 'leverage', values: [2, 5.5] }] } };
    const direct = await write(opts);
    const work = tmpDir();
    for (const r of twoPoints) writePart(work, r);
    const out = path.join(work, 'final');
    await assembleFromParts(out, [work], listParts(work), opts, {});
    for (const t of TABLES) {
      expect(fs.readFileSync(path.join(direct, `${t}.arrow`)).equals(fs.readFileSync(path.join(out, `${t}.arrow`))), t).toBe(true);
    }
  });
});

/** Two attribution rows of a hand-built run: 0.25 USD at protocol 1 from shock 0 by market impact, 1.5 at 0 endogenous. */
function handAttribution(): AttributionTable {
  const t = new AttributionTable(2);
  t.protocol.set([0, 1]);
  t.origin.set([2, 0]);
  t.channel.set([6, 1]);
  t.lossUsd.set([1.5, 0.25]);
  t.events.set([1, 1]);
  return t;
}

function handCohorts(): CohortTable {
  const t = new CohortTable(2);
  t.cohort.set([0, 2]);
  t.accounts.set([2, 1]);
  t.contributedUsd.set([300, 1e6]);
  t.valueUsd.set([-0, 1e6 + 0.125]);
  return t;
}
