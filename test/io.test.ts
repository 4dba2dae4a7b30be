// Results I/O: a hand-built run is written to Arrow files and read back value by value, including
// null positions, dictionary strings and column types, plus the manifest, determinism of the
// bytes, disabled tables and the temporary-file lifecycle (close renames, abort removes).

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import './fixtures/fcSeed.ts';
import { mixedReal } from './fixtures/reals.ts';
import {
  DataType,
  Precision,
  RecordBatchFileWriter,
  RecordBatchReader,
  Table,
  tableFromIPC,
  tableToIPC,
  type Field,
} from 'apache-arrow';
import {
  EVENT_KINDS,
  EventKindCode,
  EventLog,
  PriceTable,
  REGIMES,
  RUN_SUMMARY_COLUMNS,
  StepTable,
  type RunResult,
  type RunSummary,
  AttributionTable,
  CohortTable,
  ChannelCode,
} from '../src/engine/record.ts';
import { nullableCodes, RunBatchBuilder } from '../src/io/arrowTables.ts';
import { columnToArray, forEachBatch, readArrowTable } from '../src/io/readArrow.ts';
import { ResultsWriter, type ResultsWriterOptions } from '../src/io/resultsWriter.ts';
import { stockFileBytes } from './fixtures/stockFile.ts';

const PROTOCOLS = ['alpha', 'beta'];
const ASSETS = ['BTC', 'ETH'];
const COHORTS = ['longs', 'makers', 'vault'];
const ORIGINS = ['crash', 'regime_switch', 'endogenous'];
const ALL_ON: ResultsWriterOptions = {
  protocols: PROTOCOLS,
  assets: ASSETS,
  cohorts: COHORTS,
  origins: ORIGINS,
  // The vault is a backstop vault (role 1), the others trader cohorts.
  participants: { names: COHORTS, roles: [0, 0, 1] },
  output: { steps: true, prices: true, events: true, attribution: true, cohorts: true },
};
const TABLES = ['runs', 'steps', 'prices', 'events', 'attribution', 'cohorts'];

const tmpDirs: string[] = [];
function tmpDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'contagion-io-'));
  tmpDirs.push(d);
  return d;
}
afterAll(() => {
  for (const d of tmpDirs) fs.rmSync(d, { recursive: true, force: true });
});

const SUMMARY: RunSummary = {
  totalBadDebtUsd: 0.25,
  insuranceFundMinUsd: 49.75,
  insuranceFundDepletionStep: -1,
  fundPayoutUsd: 0.25,
  adlVolumeUsd: 3,
  adlCount: 1,
  adlAbsorbedUsd: 0.125,
  socializedLossUsd: 0.5,
  uncoveredBadDebtUsd: 0,
  liquidationCount: 4,
  liquidationVolumeUsd: 14.5,
  backstopVolumeUsd: 1,
  marginCalls: 7,
  maxCascadeDepth: 3,
  causeChainDepth: 3,
  insolventDebtUsd: 0,
  exposureLossUsd: 0,
  maxMarketDrawdown: 0.15,
  fundamentalDrawdown: 0.1,
  drawdownAmplification: NaN,
  insolventProtocols: 1,
  stressSteps: 1,
  adlHitMedianLeverage: 0.2,
  liquidatedMedianLeverage: Infinity,
  adlHitP95Leverage: 5.1,
  liquidatedP95Leverage: Infinity,
  lossGini: 0.75,
  totalValueUsd: 1234.5,
  ledgerErrorUsd: 1e-9,
  insuranceFundRequiredUsd: 12_345,
  arbitrageVolumeUsd: 2_500,
  arbitrageurPnlUsd: -12.5,
  arbitrageurMinCashShare: NaN,
  stableRunSoldUsd: 0,
  stableRedeemedUsd: 0,
  stableHolderLossUsd: 0,
  collateralHolderLossUsd: 0,
  stableMinPriceShare: NaN,
  collateralSupplyMultiple: NaN,
  fundingLongsPaidUsd: 0,
  backstopVaultPnlUsd: -250.5,
};

/** Accounts 0–7: account 3 is a maker, account 7 the vault, the rest longs. */
const ACCOUNT_COHORT = Int32Array.of(0, 0, 0, 1, 0, 0, 0, 2);

/** 3 steps × 2 protocols × 2 assets, 4 events; a second run keeps only its summary. */
function makeRuns(): [RunResult, RunResult] {
  const st = new StepTable(3, 2);
  st.openInterestUsd.set([100, 200, 110, 190, 90, 180]);
  st.marginCalls.set([0, 1, 2, 0, 3, 1]);
  st.liquidations.set([0, 0, 1, 0, 2, 1]);
  st.liquidationVolumeUsd.set([0, 0, 5, 0, 7.5, 2]);
  st.backstopVolumeUsd.set([0, 0, 0, 0, 1, 0]);
  st.badDebtUsd.set([0, 0, 0, 0, 0.25, 0]);
  st.fundPayoutUsd.set([0, 0, 0, 0, 0.25, 0]);
  st.insuranceFundUsd.set([50, 60, 50, 60, 49.75, 60]);
  st.adlVolumeUsd.set([0, 0, 0, 0, 0, 3]);
  st.socializedLossUsd.set([0, 0, 0, 0, 0, 0.5]);
  st.cascadeRounds.set([0, 1, 2, 0, 3, 1]);
  st.regime.set([0, 0, 1, 1, 0, 0]);

  const pt = new PriceTable(3, 2);
  pt.fundamental.set([100, 10, 95, 9.5, 90, 9]);
  pt.market.set([100, 10, 94, 9.4, 85, 8.9]);
  pt.oracle.set([100, 10, 94, NaN, 86, 9]);

  // Capacity 2, so the log grows and its arrays end up longer than the 4 stored rows.
  const ev = new EventLog(true, 2);
  ev.push(0, 0, EventKindCode.shock, -1, -1, 0, 0, 95, 0, -1);
  ev.push(1, 1, EventKindCode.margin_call, 0, 7, -1, 0, 0, 12.5, 0);
  ev.push(1, 2, EventKindCode.liquidation, 1, 3, 1, -2, 9.4, 18.8, 1);
  ev.push(2, 1, EventKindCode.bad_debt, 1, -1, -1, 0, 0, 0.25, 2);

  // The bad debt above, traced to the shock through another protocol's liquidation (market impact).
  const at = new AttributionTable(1);
  at.protocol[0] = 1;
  at.origin[0] = 0;
  at.channel[0] = ChannelCode.market_impact;
  at.lossUsd[0] = 0.25;
  at.events[0] = 1;
  // Cohorts 0 (six longs) and 2 (the vault): what each put in and holds at the end.
  const co = new CohortTable(2);
  co.cohort.set([0, 2]);
  co.accounts.set([6, 1]);
  co.contributedUsd.set([600, 50]);
  co.valueUsd.set([550.5, 80.25]);
  const a: RunResult = { pointIndex: 0, replicate: 0, seed: 123456789, steps: st, prices: pt, events: ev, accountCohort: ACCOUNT_COHORT, attribution: at, cohorts: co, summary: SUMMARY };
  const b: RunResult = {
    pointIndex: 1,
    replicate: 1,
    seed: 4_000_000_000, // above 2^31: must survive as uint32
    steps: null,
    prices: null,
    events: new EventLog(false),
    accountCohort: ACCOUNT_COHORT,
    attribution: new AttributionTable(0),
    cohorts: new CohortTable(0),
    summary: { ...SUMMARY, totalBadDebtUsd: 0, insuranceFundDepletionStep: 2, drawdownAmplification: 1.5 },
  };
  return [a, b];
}

async function writeFolder(opts: ResultsWriterOptions, runs: RunResult[]): Promise<string> {
  const dir = path.join(tmpDir(), 'out', 'nested'); // open() must create parents
  const w = await ResultsWriter.open(dir, opts);
  for (const r of runs) w.append(r);
  await w.close({ experiment: 'unit', runs_done: runs.length, schema_version: 99 });
  return dir;
}

function typeName(t: DataType): string {
  if (DataType.isDictionary(t)) return `dict<${typeName(t.dictionary)},${typeName(t.indices)}>`;
  if (DataType.isInt(t)) return `${t.isSigned ? 'int' : 'uint'}${t.bitWidth}`;
  if (DataType.isFloat(t)) return t.precision === Precision.DOUBLE ? 'float64' : `float(${t.precision})`;
  if (DataType.isUtf8(t)) return 'utf8';
  return String(t);
}
const describeFields = (fields: Field[]) => fields.map((f) => `${f.name}:${typeName(f.type)}${f.nullable ? '?' : ''}`);

/** Number of record batches and dictionary batches recorded in a file's footer. */
function footerCounts(file: string): { batches: number; dictionaries: number } {
  const reader = RecordBatchReader.from(fs.readFileSync(file));
  reader.open();
  expect(reader.isFile()).toBe(true);
  return { batches: reader.numRecordBatches, dictionaries: reader.numDictionaries };
}

// Every dictionary here has at most 128 entries: Int8 indices (schema 3).
const DICT = 'dict<utf8,int8>';

describe('ResultsWriter output', () => {
  const [runA, runB] = makeRuns();
  let dir = '';
  let dir2 = '';
  beforeAll(async () => {
    dir = await writeFolder(ALL_ON, [runA, runB]);
    dir2 = await writeFolder(ALL_ON, makeRuns()); // fresh, identical input
  });
  const read = (t: string) => readArrowTable(path.join(dir, `${t}.arrow`));

  it('is byte-identical for identical input and leaves no temporary files', () => {
    expect(fs.readdirSync(dir).sort()).toEqual(['attribution.arrow', 'cohorts.arrow', 'events.arrow', 'manifest.json', 'prices.arrow', 'runs.arrow', 'steps.arrow']);
    for (const t of TABLES) {
      const a = fs.readFileSync(path.join(dir, `${t}.arrow`));
      const b = fs.readFileSync(path.join(dir2, `${t}.arrow`));
      expect(a.equals(b), t).toBe(true);
      // No paths or other environment in the bytes.
      expect(a.includes(Buffer.from(os.tmpdir())), t).toBe(false);
    }
    expect(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8')).toBe(
      fs.readFileSync(path.join(dir2, 'manifest.json'), 'utf8'),
    );
  });

  it('writes a manifest with schema_version, row counts and byte sizes', () => {
    const text = fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8');
    expect(text.startsWith('{\n  "schema_version": 14,\n')).toBe(true); // pretty-printed, version first
    const m = JSON.parse(text) as Record<string, unknown>;
    expect(m.schema_version).toBe(14); // the caller's 99 does not override it
    expect(m.experiment).toBe('unit');
    expect(m.runs_done).toBe(2);
    const size = (t: string) => fs.statSync(path.join(dir, `${t}.arrow`)).size;
    expect(m.files).toEqual([
      { path: 'runs.arrow', table: 'runs', rows: 2, bytes: size('runs') },
      { path: 'steps.arrow', table: 'steps', rows: 6, bytes: size('steps') },
      { path: 'prices.arrow', table: 'prices', rows: 6, bytes: size('prices') },
      { path: 'events.arrow', table: 'events', rows: 4, bytes: size('events') },
      { path: 'attribution.arrow', table: 'attribution', rows: 1, bytes: size('attribution') },
      { path: 'cohorts.arrow', table: 'cohorts', rows: 2, bytes: size('cohorts') },
    ]);
  });

  it('has the specified column names and types', () => {
    expect(describeFields(read('runs').schema.fields)).toEqual([
      'point_index:int32',
      'replicate:int32',
      'seed:uint32',
      ...RUN_SUMMARY_COLUMNS.map(([, name, kind]) => `${name}:${kind === 'i32' ? 'int32' : 'float64'}`),
    ]);
    expect(describeFields(read('steps').schema.fields)).toEqual([
      'point_index:int32',
      'replicate:int32',
      'step:int32',
      `protocol:${DICT}`,
      `regime:${DICT}`,
      'open_interest_usd:float64',
      'margin_calls:int32',
      'liquidations:int32',
      'liquidation_volume_usd:float64',
      'backstop_volume_usd:float64',
      'bad_debt_usd:float64',
      'fund_payout_usd:float64',
      'insurance_fund_usd:float64',
      'adl_volume_usd:float64',
      'socialized_loss_usd:float64',
      'cascade_rounds:int32',
    ]);
    expect(describeFields(read('prices').schema.fields)).toEqual([
      'point_index:int32',
      'replicate:int32',
      'step:int32',
      `asset:${DICT}`,
      'fundamental_price:float64',
      'market_price:float64',
      'oracle_price:float64?',
    ]);
    expect(describeFields(read('events').schema.fields)).toEqual([
      'point_index:int32',
      'replicate:int32',
      'event_id:int32',
      'step:int32',
      'round:int32',
      `kind:${DICT}`,
      `protocol:${DICT}?`,
      'account:int32?',
      `cohort:${DICT}?`,
      `asset:${DICT}?`,
      'quantity:float64',
      'price:float64',
      'amount_usd:float64',
      'cause_id:int32?',
    ]);
    const protocol = read('steps').schema.fields.find((f) => f.name === 'protocol');
    expect(DataType.isDictionary(protocol?.type)).toBe(true);
    expect(read('runs').schema.metadata.size).toBe(0);
  });

  it('cohorts: one row per cohort with accounts, its pnl_usd = value_usd − contributed_usd', () => {
    const t = read('cohorts');
    expect(describeFields(t.schema.fields)).toEqual([
      'point_index:int32',
      'replicate:int32',
      `role:${DICT}`,
      `cohort:${DICT}`,
      'accounts:int32',
      'contributed_usd:float64',
      'value_usd:float64',
      'pnl_usd:float64',
    ]);
    // Run b has no cohort rows; run a's two, named through the cohort dictionary (ALL_ON's cohorts).
    expect(columnToArray(t, 'point_index')).toEqual([0, 0]);
    expect(columnToArray(t, 'cohort')).toEqual([ALL_ON.cohorts[0], ALL_ON.cohorts[2]]);
    // Each row's role, from the participants' roles (schema 13): a trader cohort, a backstop vault.
    expect(columnToArray(t, 'role')).toEqual(['trader', 'backstop_vault']);
    expect(columnToArray(t, 'accounts')).toEqual([6, 1]);
    expect(columnToArray(t, 'contributed_usd')).toEqual([600, 50]);
    expect(columnToArray(t, 'value_usd')).toEqual([550.5, 80.25]);
    // 550.5 − 600 = −49.5 (the longs lost), 80.25 − 50 = 30.25 (the vault gained).
    expect(columnToArray(t, 'pnl_usd')).toEqual([-49.5, 30.25]);
  });

  it('runs: one row per run, seeds as uint32, every summary column', () => {
    const t = read('runs');
    expect(t.numRows).toBe(2);
    expect(columnToArray(t, 'point_index')).toEqual([0, 1]);
    expect(columnToArray(t, 'replicate')).toEqual([0, 1]);
    expect(columnToArray(t, 'seed')).toEqual([123456789, 4_000_000_000]);
    for (const [key, name] of RUN_SUMMARY_COLUMNS) {
      expect(columnToArray(t, name), name).toEqual([runA.summary[key], runB.summary[key]]);
    }
    expect(columnToArray(t, 'drawdown_amplification')).toEqual([NaN, 1.5]); // NaN stays a value
    // The two runs' rows share one record batch (ResultsWriter.batchRows).
    expect(footerCounts(path.join(dir, 'runs.arrow'))).toEqual({ batches: 1, dictionaries: 0 });
  });

  it('a sweep of 9,000 one-row runs writes runs.arrow as two record batches (8,192 + 808 rows), rows in order', async () => {
    // One batch per run made a footer entry per run, held in memory until close (57 bytes each) and
    // read one by one by every reader.
    const [, b] = makeRuns();
    const many = Array.from({ length: 9000 }, (_, i) => ({ ...b, pointIndex: i % 7, replicate: i, seed: i }));
    const out = await writeFolder({ ...ALL_ON, output: { steps: false, prices: false, events: false, attribution: false, cohorts: false } }, many);
    const file = path.join(out, 'runs.arrow');
    expect(ResultsWriter.batchRows).toBe(8192);
    expect(footerCounts(file)).toEqual({ batches: 2, dictionaries: 0 });
    const t = readArrowTable(file);
    expect(t.batches.map((x) => x.numRows)).toEqual([8192, 808]);
    expect(columnToArray(t, 'replicate')).toEqual(many.map((r) => r.replicate));
    expect(columnToArray(t, 'point_index')).toEqual(many.map((r) => r.pointIndex));
  });

  it('forEachBatch visits every batch in order, with the same decoded values as columnToArray', async () => {
    // Batches of 4 rows: each run's 6 steps rows make a batch of their own.
    const defaultRows = ResultsWriter.batchRows;
    ResultsWriter.batchRows = 4;
    let split: string;
    try {
      const [a] = makeRuns();
      split = await writeFolder(ALL_ON, [a, { ...a, replicate: 1 }]);
    } finally {
      ResultsWriter.batchRows = defaultRows;
    }
    const t = readArrowTable(path.join(split, 'steps.arrow'));
    expect(t.batches.length).toBe(2);
    const seen: unknown[][] = [];
    forEachBatch(t, ['step', 'protocol'], ([step, protocol]) => seen.push([...step!.map((x, i) => `${x}:${protocol![i]}`)]));
    expect(seen.length).toBe(t.batches.length);
    const steps = columnToArray(t, 'step');
    const protocols = columnToArray(t, 'protocol');
    expect(seen.flat()).toEqual(steps.map((x, i) => `${x}:${protocols[i]}`));
    expect(() => forEachBatch(t, ['nope'], () => {})).toThrow('no column "nope"');
  });

  it('steps: step-major, protocol-minor rows with decoded dictionaries', () => {
    const t = read('steps');
    expect(t.numRows).toBe(6);
    expect(columnToArray(t, 'point_index')).toEqual([0, 0, 0, 0, 0, 0]);
    expect(columnToArray(t, 'replicate')).toEqual([0, 0, 0, 0, 0, 0]);
    expect(columnToArray(t, 'step')).toEqual([0, 0, 1, 1, 2, 2]);
    expect(columnToArray(t, 'protocol')).toEqual(['alpha', 'beta', 'alpha', 'beta', 'alpha', 'beta']);
    expect(columnToArray(t, 'regime')).toEqual(['calm', 'calm', 'stress', 'stress', 'calm', 'calm']);
    expect(columnToArray(t, 'open_interest_usd')).toEqual([100, 200, 110, 190, 90, 180]);
    expect(columnToArray(t, 'margin_calls')).toEqual([0, 1, 2, 0, 3, 1]);
    expect(columnToArray(t, 'liquidations')).toEqual([0, 0, 1, 0, 2, 1]);
    expect(columnToArray(t, 'liquidation_volume_usd')).toEqual([0, 0, 5, 0, 7.5, 2]);
    expect(columnToArray(t, 'backstop_volume_usd')).toEqual([0, 0, 0, 0, 1, 0]);
    expect(columnToArray(t, 'bad_debt_usd')).toEqual([0, 0, 0, 0, 0.25, 0]);
    expect(columnToArray(t, 'fund_payout_usd')).toEqual([0, 0, 0, 0, 0.25, 0]);
    expect(columnToArray(t, 'insurance_fund_usd')).toEqual([50, 60, 50, 60, 49.75, 60]);
    expect(columnToArray(t, 'adl_volume_usd')).toEqual([0, 0, 0, 0, 0, 3]);
    expect(columnToArray(t, 'socialized_loss_usd')).toEqual([0, 0, 0, 0, 0, 0.5]);
    expect(columnToArray(t, 'cascade_rounds')).toEqual([0, 1, 2, 0, 3, 1]);
    // The dictionary is the full list, not just the values that occur.
    expect(t.getChild('regime')?.data[0]?.dictionary?.toArray()).toEqual([...REGIMES]);
    // Run B kept no step table, so it added no batch; each dictionary is written once.
    expect(footerCounts(path.join(dir, 'steps.arrow'))).toEqual({ batches: 1, dictionaries: 2 });
  });

  it('prices: oracle_price is null exactly where the oracle was NaN', () => {
    const t = read('prices');
    expect(t.numRows).toBe(6);
    expect(columnToArray(t, 'step')).toEqual([0, 0, 1, 1, 2, 2]);
    expect(columnToArray(t, 'asset')).toEqual(['BTC', 'ETH', 'BTC', 'ETH', 'BTC', 'ETH']);
    expect(columnToArray(t, 'fundamental_price')).toEqual([100, 10, 95, 9.5, 90, 9]);
    expect(columnToArray(t, 'market_price')).toEqual([100, 10, 94, 9.4, 85, 8.9]);
    expect(columnToArray(t, 'oracle_price')).toEqual([100, 10, 94, null, 86, 9]);
    expect(t.getChild('oracle_price')?.nullCount).toBe(1);
    expect(t.getChild('market_price')?.nullCount).toBe(0);
  });

  it('events: only stored rows, -1 ids as nulls, kinds decoded', () => {
    const t = read('events');
    expect(t.numRows).toBe(4);
    expect(columnToArray(t, 'point_index')).toEqual([0, 0, 0, 0]);
    expect(columnToArray(t, 'event_id')).toEqual([0, 1, 2, 3]);
    expect(columnToArray(t, 'step')).toEqual([0, 1, 1, 2]);
    expect(columnToArray(t, 'round')).toEqual([0, 1, 2, 1]);
    expect(columnToArray(t, 'kind')).toEqual(['shock', 'margin_call', 'liquidation', 'bad_debt']);
    expect(columnToArray(t, 'protocol')).toEqual([null, 'alpha', 'beta', 'beta']);
    expect(columnToArray(t, 'account')).toEqual([null, 7, 3, null]);
    expect(columnToArray(t, 'cohort')).toEqual([null, 'vault', 'makers', null]);
    expect(columnToArray(t, 'asset')).toEqual(['BTC', null, 'ETH', null]);
    expect(columnToArray(t, 'quantity')).toEqual([0, 0, -2, 0]);
    expect(columnToArray(t, 'price')).toEqual([95, 0, 9.4, 0]);
    expect(columnToArray(t, 'amount_usd')).toEqual([0, 12.5, 18.8, 0.25]);
    expect(columnToArray(t, 'cause_id')).toEqual([null, 0, 1, 2]);
    expect(t.getChild('kind')?.data[0]?.dictionary?.toArray()).toEqual([...EVENT_KINDS]);
    expect(t.getChild('protocol')?.data[0]?.dictionary?.toArray()).toEqual(PROTOCOLS);
    expect(t.getChild('asset')?.data[0]?.dictionary?.toArray()).toEqual(ASSETS);
    expect(t.getChild('cohort')?.data[0]?.dictionary?.toArray()).toEqual(COHORTS);
    // Run B had no stored events: one batch; dictionaries kind, protocol, asset and cohort once each.
    expect(footerCounts(path.join(dir, 'events.arrow'))).toEqual({ batches: 1, dictionaries: 4 });
  });
});

describe('ResultsWriter options and lifecycle', () => {
  it('does not write disabled tables at all', async () => {
    const dir = await writeFolder({ ...ALL_ON, output: { steps: false, prices: false, events: false, attribution: false, cohorts: false } }, makeRuns());
    expect(fs.readdirSync(dir).sort()).toEqual(['manifest.json', 'runs.arrow']);
    const m = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as { files: unknown[] };
    expect(m.files).toEqual([
      { path: 'runs.arrow', table: 'runs', rows: 2, bytes: fs.statSync(path.join(dir, 'runs.arrow')).size },
    ]);
  });

  it('writes a valid zero-row file with the full schema when a table never gets rows', async () => {
    const [, runB] = makeRuns();
    const dir = await writeFolder({ ...ALL_ON, output: { steps: false, prices: false, events: true, attribution: false, cohorts: false } }, [runB]);
    const t = readArrowTable(path.join(dir, 'events.arrow'));
    expect(t.numRows).toBe(0);
    expect(t.schema.fields.length).toBe(14);
    expect(DataType.isDictionary(t.schema.fields.find((f) => f.name === 'kind')?.type)).toBe(true);
    expect(footerCounts(path.join(dir, 'events.arrow'))).toEqual({ batches: 0, dictionaries: 0 });
  });

  it('abort() removes every temporary file and leaves no results behind', async () => {
    const dir = path.join(tmpDir(), 'aborted');
    const w = await ResultsWriter.open(dir, ALL_ON);
    w.append(makeRuns()[0]);
    expect(fs.readdirSync(dir).sort()).toEqual([
      'attribution.arrow.tmp',
      'cohorts.arrow.tmp',
      'events.arrow.tmp',
      'prices.arrow.tmp',
      'runs.arrow.tmp',
      'steps.arrow.tmp',
    ]);
    await w.abort();
    expect(fs.readdirSync(dir)).toEqual([]);
    await w.abort(); // idempotent
    expect(() => w.append(makeRuns()[0])).toThrow(/aborted/);
  });

  it('refuses to append or close after close()', async () => {
    const dir = path.join(tmpDir(), 'closed');
    const w = await ResultsWriter.open(dir, ALL_ON);
    await w.close({});
    expect(() => w.append(makeRuns()[0])).toThrow(/closed/);
    await expect(w.close({})).rejects.toThrow(/closed/);
    expect(readArrowTable(path.join(dir, 'runs.arrow')).numRows).toBe(0);
  });

  it('rejects a run that does not match the writer and writes nothing of it', async () => {
    const dir = path.join(tmpDir(), 'mismatch');
    const w = await ResultsWriter.open(dir, { ...ALL_ON, protocols: ['only'] });
    expect(() => w.append(makeRuns()[0])).toThrow(/2 protocols, writer has 1/);
    const [, runB] = makeRuns();
    const badEvents = new EventLog(true);
    badEvents.push(0, 0, EventKindCode.liquidation, 3, 0, 0, 0, 0, 0, -1);
    expect(() => w.append({ ...runB, events: badEvents })).toThrow(/protocol 3 at row 0/);
    const badCohorts = new CohortTable(1, Int32Array.of(3)); // ALL_ON has cohorts 0–2
    expect(() => w.append({ ...runB, cohorts: badCohorts })).toThrow(/participant code 3 at row 0 is outside 0..2/);
    await w.close({});
    const m = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as { files: { rows: number }[] };
    expect(m.files.map((f) => f.rows)).toEqual([0, 0, 0, 0, 0, 0]);
  });

  it('writes the same bytes as apache-arrow\'s own file writer, for files larger than its write buffer', async () => {
    // Three runs of 150,000 events: each Float64 column of a run is 1.2 MB, above the writer's
    // 1 MiB buffer (written directly), and the small chunks between them go through the buffer,
    // which fills and is flushed several times over the ~14 MB file.
    const rows = 150_000;
    const runs = [0, 1, 2].map((r) => {
      const ev = new EventLog(true, rows);
      for (let i = 0; i < rows; i++) ev.push(i % 7, i % 3, EventKindCode.liquidation, i % 2, i % 8, i % 2, -1 - (i % 5) * 0.25, 100 + i * 1e-3, i * 0.5 + r, i % 11 === 0 ? -1 : i - 1);
      const [a] = makeRuns();
      return { ...a, replicate: r, events: ev };
    });
    const opts: ResultsWriterOptions = { ...ALL_ON, output: { steps: false, prices: false, events: true, attribution: false, cohorts: false } };
    // The writer syncs in the background every 4 MiB written (~4.6 MB per run here): a sync
    // starts after each run whose bytes pass the mark while none is in flight, at least once.
    const dir = path.join(tmpDir(), 'out');
    const w = await ResultsWriter.open(dir, opts);
    for (const r of runs) w.append(r);
    expect(w.backgroundSyncs).toBeGreaterThanOrEqual(1);
    expect(w.backgroundSyncs).toBeLessThanOrEqual(3);
    await w.close({});
    const builder = new RunBatchBuilder(opts);
    const stock = new RecordBatchFileWriter();
    stock.reset(undefined, builder.schemas.events);
    for (const r of runs) stock.write(builder.build('events', r)!);
    stock.finish();
    const expected = stock.toUint8Array(true);
    const written = fs.readFileSync(path.join(dir, 'events.arrow'));
    expect(written.byteLength).toBe(expected.byteLength);
    expect(written.byteLength).toBeGreaterThan(10 * (1 << 20));
    expect(Buffer.from(expected).equals(written)).toBe(true);
    expect(readArrowTable(path.join(dir, 'events.arrow')).numRows).toBe(3 * rows);
  });

  it('a background sync that fails fails close() with its error and leaves no files', async () => {
    // 2 runs × 300,000 events × 68 B ≈ 40 MB: the first append passes the 4 MiB mark and starts a
    // sync, which fails; close() must throw that error, not write a manifest, and remove the
    // temporaries (nothing of the folder's results is left).
    const rows = 300_000;
    const runs = [0, 1].map((r) => {
      const ev = new EventLog(true, rows);
      for (let i = 0; i < rows; i++) ev.push(i % 7, 0, EventKindCode.liquidation, 0, i % 8, 0, 1, 100, i, -1);
      const [a] = makeRuns();
      return { ...a, replicate: r, events: ev };
    });
    const opts: ResultsWriterOptions = { ...ALL_ON, output: { steps: false, prices: false, events: true, attribution: false, cohorts: false } };
    const dir = path.join(tmpDir(), 'out');
    const real = ResultsWriter.backgroundSync;
    let calls = 0;
    ResultsWriter.backgroundSync = (_fd, done) => {
      calls++;
      setImmediate(() => done(new Error('EIO: injected sync failure')));
    };
    try {
      const w = await ResultsWriter.open(dir, opts);
      for (const r of runs) w.append(r);
      await expect(w.close({})).rejects.toThrow(/injected sync failure/);
    } finally {
      ResultsWriter.backgroundSync = real;
    }
    expect(calls).toBe(1); // a failed sync is not retried: close() reports it
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it('reusing its column arrays from run to run writes what fresh arrays write (random runs, every table)', async () => {
    // The results writer builds each run's derived columns (codes, validity bitmaps, keys) in
    // arrays it keeps; runs that grow, shrink, gain and lose nulls must leave nothing behind.
    // Reference: apache-arrow's own writer fed by a builder that allocates every column afresh.
    const event = fc.record({
      protocol: fc.integer({ min: -1, max: PROTOCOLS.length - 1 }),
      account: fc.integer({ min: -1, max: 3 }),
      asset: fc.integer({ min: -1, max: ASSETS.length - 1 }),
      cause: fc.integer({ min: -1, max: 50 }),
    });
    const runSpec = fc.record({
      events: fc.array(event, { maxLength: 70 }),
      oracleNaN: fc.array(fc.boolean(), { minLength: 6, maxLength: 6 }),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(runSpec, { minLength: 1, maxLength: 5 }), fc.integer({ min: 1, max: 80 }), async (specs, batchRows) => {
        const runs = specs.map((spec, r) => {
          const [base] = makeRuns();
          const ev = new EventLog(true, 1);
          spec.events.forEach((e, i) => ev.push(i % 3, 0, EventKindCode.liquidation, e.protocol, e.account, e.asset, i, 100 + i, i * 0.25, e.cause));
          const prices = new PriceTable(3, 2);
          prices.fundamental.set(base.prices!.fundamental);
          prices.market.set(base.prices!.market);
          spec.oracleNaN.forEach((isNaN, i) => (prices.oracle[i] = isNaN ? NaN : 100 + i));
          return { ...base, replicate: r, events: ev, prices };
        });
        // Batches of a few rows gather runs (and split none), their bitmaps joined mid-byte.
        const defaultRows = ResultsWriter.batchRows;
        ResultsWriter.batchRows = batchRows;
        let dir: string;
        try {
          dir = await writeFolder(ALL_ON, runs);
        } finally {
          ResultsWriter.batchRows = defaultRows;
        }
        const fresh = new RunBatchBuilder(ALL_ON);
        for (const table of ['runs', 'steps', 'prices', 'events', 'attribution', 'cohorts'] as const) {
          const written = fs.readFileSync(path.join(dir, `${table}.arrow`));
          expect(stockFileBytes(fresh, table, runs, batchRows).bytes.equals(written), table).toBe(true);
        }
      }),
      { numRuns: 25 },
    );
  });

  it('rejects duplicate dictionary names', async () => {
    await expect(ResultsWriter.open(tmpDir(), { ...ALL_ON, assets: ['BTC', 'BTC'] })).rejects.toThrow(/duplicate/);
  });
});

describe('dictionary indices (schema 3): the narrowest signed integers that hold the codes', () => {
  it('Int8 up to 128 entries, Int16 up to 32,768, Int32 beyond; the top code of each reads back, and the file is apache-arrow\'s', async () => {
    for (const [size, bits] of [[128, 8], [129, 16], [32_768, 16], [32_769, 32]] as const) {
      const cohorts = Array.from({ length: size }, (_, i) => `c${i}`);
      const opts: ResultsWriterOptions = { ...ALL_ON, cohorts };
      const builder = new RunBatchBuilder(opts);
      const field = builder.schemas.events.fields.find((f) => f.name === 'cohort')!;
      expect(DataType.isDictionary(field.type) && field.type.indices.bitWidth, `${size} cohorts`).toBe(bits);
      // Accounts 0 and 1 are in the first and the last cohort: codes 0 and size − 1 (127, 128, 32,767, 32,768).
      const [base] = makeRuns();
      const ev = new EventLog(true, 4);
      ev.push(0, 0, EventKindCode.liquidation, 0, 1, 0, -1, 90, 90, -1);
      ev.push(0, 0, EventKindCode.liquidation, 1, 0, 1, -2, 9, 18, 0);
      const run: RunResult = { ...base, events: ev, accountCohort: Int32Array.of(0, size - 1) };
      const dir = await writeFolder(opts, [run]);
      const written = fs.readFileSync(path.join(dir, 'events.arrow'));
      expect(stockFileBytes(new RunBatchBuilder(opts), 'events', [run], ResultsWriter.batchRows).bytes.equals(written)).toBe(true);
      expect(columnToArray(readArrowTable(path.join(dir, 'events.arrow')), 'cohort')).toEqual([`c${size - 1}`, 'c0']);
    }
  });
});

describe('RunBatchBuilder.events', () => {
  it('maps exactly the -1 ids to nulls, through an IPC round trip', () => {
    const builder = new RunBatchBuilder({ protocols: PROTOCOLS, assets: ASSETS, cohorts: COHORTS, origins: ORIGINS, participants: ALL_ON.participants });
    const row = fc.record({
      kind: fc.integer({ min: 0, max: EVENT_KINDS.length - 1 }),
      protocol: fc.integer({ min: -1, max: PROTOCOLS.length - 1 }),
      account: fc.integer({ min: -1, max: 1000 }),
      asset: fc.integer({ min: -1, max: ASSETS.length - 1 }),
      amount: fc.double({ noNaN: true }),
    });
    fc.assert(
      fc.property(fc.array(row, { minLength: 1, maxLength: 40 }), (rows) => {
        const ev = new EventLog(true, 1);
        rows.forEach((r, i) => ev.push(i, 0, r.kind, r.protocol, r.account, r.asset, 0, 0, r.amount, i - 1));
        const [run] = makeRuns();
        const batch = builder.build('events', { ...run, events: ev });
        expect(batch).not.toBeNull();
        const t = tableFromIPC(tableToIPC(new Table(batch!), 'file'));
        const orNull = <T>(v: number, f: (v: number) => T) => (v === -1 ? null : f(v));
        expect(columnToArray(t, 'kind')).toEqual(rows.map((r) => EVENT_KINDS[r.kind]));
        expect(columnToArray(t, 'protocol')).toEqual(rows.map((r) => orNull(r.protocol, (v) => PROTOCOLS[v])));
        expect(columnToArray(t, 'account')).toEqual(rows.map((r) => orNull(r.account, (v) => v)));
        expect(columnToArray(t, 'asset')).toEqual(rows.map((r) => orNull(r.asset, (v) => ASSETS[v])));
        expect(columnToArray(t, 'amount_usd')).toEqual(rows.map((r) => r.amount));
        expect(columnToArray(t, 'cause_id')).toEqual(rows.map((_, i) => (i === 0 ? null : i - 1)));
      }),
      { numRuns: 100 },
    );
  });
});

describe('nullable dictionary codes', () => {
  it('Copies codes, nulls (-1) as 0 with their validity bits cleared, into Int8, Int16 and Int32 arrays (random columns)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(5, 300, 70_000, Infinity),
        fc.array(mixedReal(0, 1), { maxLength: 70 }),
        mixedReal(0, 1),
        (size, draws, nullShare) => {
          const top = Number.isFinite(size) ? size : 2 ** 31 - 1;
          const src = Int32Array.from(draws, (u) => (u < nullShare ? -1 : Math.floor((u * top) % top)));
          const n = src.length;
          const out = size <= 127 ? new Int8Array(n) : size <= 32_767 ? new Int16Array(n) : new Int32Array(n);
          const bitmap = new Uint8Array((n + 7) >> 3).fill(0xff); // written whole, whatever it held
          const [codes, validity] = nullableCodes(src, n, size, 'asset', out, bitmap);
          const nulls = src.filter((c) => c === -1).length;
          expect(Array.from(codes)).toEqual(Array.from(src, (c) => (c === -1 ? 0 : c)));
          if (nulls === 0) expect(validity).toBeUndefined();
          else {
            expect(validity!.nullCount).toBe(nulls);
            for (let i = 0; i < n; i++) expect((validity!.bitmap[i >> 3]! >> (i & 7)) & 1).toBe(src[i] === -1 ? 0 : 1);
            // Bits past the last row are zero.
            if ((n & 7) !== 0) expect(validity!.bitmap[n >> 3]! >> (n & 7)).toBe(0);
          }
        },
      ),
    );
  });

  it('Refuses a code outside the dictionary, or a negative one other than -1, naming the row', () => {
    const bitmap = new Uint8Array(1);
    expect(() => nullableCodes(Int32Array.of(0, -1, 5), 3, 5, 'asset', new Int8Array(3), bitmap)).toThrow('asset 5 at row 2 is outside 0..4');
    expect(() => nullableCodes(Int32Array.of(-2), 1, 5, 'protocol', new Int8Array(1), bitmap)).toThrow('protocol -2 at row 0 is outside 0..4');
    expect(() => nullableCodes(Int32Array.of(-(2 ** 31)), 1, Infinity, 'account', new Int32Array(1), bitmap)).toThrow('account -2147483648 at row 0');
    expect(nullableCodes(Int32Array.of(2 ** 31 - 1, -1), 2, Infinity, 'account', new Int32Array(2), bitmap)[0]).toEqual(Int32Array.of(2 ** 31 - 1, 0));
  });
});
