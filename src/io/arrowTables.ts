// Turns one RunResult into the columns of Arrow record batches (runs, steps, prices, events,
// attribution, cohorts), column by column from the engine's typed arrays: no row objects, and strings only as
// dictionary columns whose dictionaries are built once per builder, so every batch of a file shares
// them and the IPC writer emits each dictionary exactly once. A dictionary's indices are the
// narrowest signed integers that hold its codes (schema 3): Int8 up to 128 entries (event kinds,
// regimes, channels, and in practice protocols and assets), Int16 up to 32,768, else Int32. A batch
// is a ColumnBatch (typed arrays and validity bitmaps in schema order), which the results writer
// encodes directly (ipcRecordBatch.ts); toRecordBatch() gives the same batch as an apache-arrow
// RecordBatch.

import {
  Dictionary,
  Field,
  Float64,
  Int8,
  Int16,
  Int32,
  RecordBatch,
  Schema,
  Struct,
  Uint32,
  Utf8,
  DataType,
  makeData,
  makeVector,
  type Data,
  type Vector,
} from 'apache-arrow';
import { CHANNELS, EVENT_KINDS, REGIMES, PARTICIPANT_ROLES, RUN_SUMMARY_COLUMNS, type RunResult } from '../engine/record.ts';
import { grown } from '../model/typedArrays.ts';

/** The four tables of a results folder, in the order they are listed in the manifest. */
export const TABLE_NAMES = ['runs', 'steps', 'prices', 'events', 'attribution', 'cohorts'] as const;
export type TableName = (typeof TABLE_NAMES)[number];

/**
 * One column of a batch: every column of these tables is flat (Int32, Uint32, Float64, or a
 * dictionary's Int8/Int16/Int32 indices), so it is one values array and, when some rows are null, an
 * LSB-first validity bitmap of ⌈rows/8⌉ bytes (1 = valid).
 */
export interface Column {
  values: Int8Array | Int16Array | Int32Array | Uint32Array | Float64Array;
  /** Null when nullCount is 0. */
  validity: Uint8Array | null;
  nullCount: number;
}

/** A record batch as columns in its table's schema order; every column has `rows` values. */
export interface ColumnBatch {
  table: TableName;
  rows: number;
  columns: Column[];
}

/** The string lists behind the dictionary columns; a code is an index into its list. */
export interface DictionaryLists {
  /** Protocol names, indexed by dense protocol id. */
  protocols: readonly string[];
  /** Asset symbols, indexed by dense asset id. */
  assets: readonly string[];
  /** Trader cohort ids then backstop vault ids, indexed by RunResult.accountCohort codes. */
  cohorts: readonly string[];
  /**
   * cohorts.arrow's rows by code: `cohorts` first, then every other participant of the balance sheet,
   * each with its PARTICIPANT_ROLES code (engine/participants.ts participantList).
   */
  participants: { readonly names: readonly string[]; readonly roles: readonly number[] };
  /** Origins of losses in attribution.arrow: the shocks, then "regime_switch", "endogenous" (engine/attribution.ts). */
  origins: readonly string[];
  /**
   * Swept parameters, one column each in runs and steps (right after `replicate`);
   * `values[pointIndex]` is the column's value at that point. Absent or empty: no extra columns.
   */
  sweep?: { columns: SweepColumn[] };
}

/** One swept parameter: its column name and its value at every point of the sweep. */
export interface SweepColumn {
  name: string;
  /** Value at each point: numbers give a Float64 column, anything else a string dictionary. */
  values: readonly unknown[];
}

// Dictionary ids are fixed rather than taken from apache-arrow's process-global counter, so that
// identical input gives identical bytes regardless of how many types were created before.
const DICT_ID = { protocol: 0, asset: 1, regime: 2, kind: 3, cohort: 4 } as const;
/** Dictionary sweep columns take ids FIRST_SWEEP_DICT_ID, +1, … in column order. */
const FIRST_SWEEP_DICT_ID = 5;
/** attribution.arrow's dictionaries (added after the sweep's range was fixed, so out of its way). */
const ORIGIN_DICT_ID = 1000;
const CHANNEL_DICT_ID = 1001;
/** cohorts.arrow's participant and role dictionaries (schema 13). */
const PARTICIPANT_DICT_ID = 1002;
const ROLE_DICT_ID = 1003;

/** A sweep column resolved for building: Float64 values, or dictionary codes per point. */
type SweepPlan =
  | { name: string; kind: 'f64'; values: Float64Array }
  | { name: string; kind: 'dict'; type: DictType; dictionary: Vector<Utf8>; codes: Int32Array };

/** The string form of a non-numeric sweep value: strings as is, objects/arrays as JSON. */
function sweepString(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v !== null && typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

type DictType = Dictionary<Utf8, Int8 | Int16 | Int32>;

/** Dictionary indices: the narrowest signed integer array that holds codes 0 … size − 1. */
type Codes = Int8Array | Int16Array | Int32Array;
type CodesConstructor = Int8ArrayConstructor | Int16ArrayConstructor | Int32ArrayConstructor;

/** The index array type of a dictionary of `size` entries. */
function codesType(size: number): CodesConstructor {
  return size <= 128 ? Int8Array : size <= 32_768 ? Int16Array : Int32Array;
}

/** A dictionary column type of `size` entries with id `id`, its indices as narrow as codesType's. */
function dictionaryOf(id: number, size: number): DictType {
  const ctor = codesType(size);
  return new Dictionary(new Utf8(), ctor === Int8Array ? new Int8() : ctor === Int16Array ? new Int16() : new Int32(), id, false);
}

/**
 * Builds record batches for one results folder. Construct once per file set (the dictionaries
 * and schemas are fixed for the whole file), then call the per-table methods once per run.
 * Batches are views over fresh arrays or over the run's own arrays, so write them before the
 * engine reuses its buffers. With `reuse` (the results writer, which has written or copied every
 * byte of a batch before it builds the next), the derived columns — codes, validity bitmaps, row
 * keys, the step and event ids — are views over arrays kept by the builder and overwritten by the
 * next batch of the same table: a sweep's main thread then allocates no column memory per run
 * (an events table of 10^5 rows was ~5 MB of fresh ArrayBuffers per run, which V8 answered with a
 * full collection every second run).
 */
export class RunBatchBuilder {
  /** Schema of each table; every batch built here has exactly this schema. */
  readonly schemas: Readonly<Record<TableName, Schema>>;
  private readonly nProtocols: number;
  private readonly nAssets: number;
  private readonly nCohorts: number;
  private readonly participantRoles: readonly number[];
  /** The dictionary behind each dictionary column type, by dictionary id. */
  private readonly dictionaries = new Map<number, Vector<Utf8>>();
  private readonly sweep: SweepPlan[];
  private readonly nOrigins: number;
  /** Reused column arrays by role (with `reuse`); empty otherwise. */
  private readonly scratch = new Map<string, Int8Array | Int16Array | Int32Array | Float64Array | Uint8Array>();
  private readonly reuse: boolean;

  constructor(lists: DictionaryLists, opts: { reuse?: boolean } = {}) {
    this.reuse = opts.reuse ?? false;
    this.nProtocols = lists.protocols.length;
    this.nAssets = lists.assets.length;
    this.nCohorts = lists.cohorts.length;
    this.participantRoles = lists.participants.roles;
    if (lists.participants.roles.length !== lists.participants.names.length) {
      throw new Error(`participants: ${lists.participants.names.length} names, ${lists.participants.roles.length} roles`);
    }
    const dictType = (id: number, values: readonly string[], what: string): DictType => {
      this.dictionaries.set(id, utf8Vector(values, what));
      return dictionaryOf(id, values.length);
    };
    const t = {
      protocol: dictType(DICT_ID.protocol, lists.protocols, 'protocols'),
      asset: dictType(DICT_ID.asset, lists.assets, 'assets'),
      regime: dictType(DICT_ID.regime, REGIMES, 'REGIMES'),
      kind: dictType(DICT_ID.kind, EVENT_KINDS, 'EVENT_KINDS'),
      cohort: dictType(DICT_ID.cohort, lists.cohorts, 'cohorts'),
      origin: dictType(ORIGIN_DICT_ID, lists.origins, 'origins'),
      channel: dictType(CHANNEL_DICT_ID, CHANNELS, 'CHANNELS'),
      participant: dictType(PARTICIPANT_DICT_ID, lists.participants.names, 'participants'),
      role: dictType(ROLE_DICT_ID, PARTICIPANT_ROLES, 'PARTICIPANT_ROLES'),
    };
    this.nOrigins = lists.origins.length;
    const i32 = new Int32();
    const f64 = new Float64();
    const f = (name: string, type: DataType, nullable = false) => new Field(name, type, nullable);
    this.sweep = planSweep(lists.sweep?.columns ?? []);
    for (const c of this.sweep) if (c.kind === 'dict') this.dictionaries.set(c.type.id, c.dictionary);
    const sweepFields = this.sweep.map((c) => f(c.name, c.kind === 'f64' ? f64 : c.type));
    const runKey = [f('point_index', i32), f('replicate', i32)];
    this.schemas = {
      runs: new Schema([
        ...runKey,
        ...sweepFields,
        f('seed', new Uint32()),
        ...RUN_SUMMARY_COLUMNS.map(([, name, kind]) => f(name, kind === 'i32' ? i32 : f64)),
      ]),
      steps: new Schema([
        ...runKey,
        ...sweepFields,
        f('step', i32),
        f('protocol', t.protocol),
        f('regime', t.regime),
        f('open_interest_usd', f64),
        f('margin_calls', i32),
        f('liquidations', i32),
        f('liquidation_volume_usd', f64),
        f('backstop_volume_usd', f64),
        f('bad_debt_usd', f64),
        f('fund_payout_usd', f64),
        f('insurance_fund_usd', f64),
        f('adl_volume_usd', f64),
        f('socialized_loss_usd', f64),
        f('cascade_rounds', i32),
      ]),
      prices: new Schema([
        ...runKey,
        f('step', i32),
        f('asset', t.asset),
        f('fundamental_price', f64),
        f('market_price', f64),
        f('oracle_price', f64, true),
      ]),
      events: new Schema([
        ...runKey,
        f('event_id', i32),
        f('step', i32),
        f('round', i32),
        f('kind', t.kind),
        f('protocol', t.protocol, true),
        f('account', i32, true),
        f('cohort', t.cohort, true),
        f('asset', t.asset, true),
        f('quantity', f64),
        f('price', f64),
        f('amount_usd', f64),
        f('cause_id', i32, true),
      ]),
      attribution: new Schema([
        ...runKey,
        ...sweepFields,
        f('protocol', t.protocol),
        f('origin', t.origin),
        f('channel', t.channel),
        f('loss_usd', f64),
        f('bad_debt_events', i32),
      ]),
      cohorts: new Schema([
        ...runKey,
        ...sweepFields,
        f('role', t.role),
        f('cohort', t.participant),
        f('accounts', i32),
        f('contributed_usd', f64),
        f('value_usd', f64),
        f('pnl_usd', f64),
      ]),
    };
  }

  /** The batch of `table` for `run` as an apache-arrow RecordBatch, or null when the run has no rows for it. */
  build(table: TableName, run: RunResult): RecordBatch | null {
    const batch = this.columns(table, run);
    return batch === null ? null : this.toRecordBatch(batch);
  }

  /** The batch of `table` for `run` as columns, or null when the run has no rows for it. */
  columns(table: TableName, run: RunResult): ColumnBatch | null {
    switch (table) {
      case 'runs':
        return this.runs(run);
      case 'steps':
        return this.steps(run);
      case 'prices':
        return this.prices(run);
      case 'events':
        return this.events(run);
      case 'attribution':
        return this.attribution(run);
      case 'cohorts':
        return this.cohorts(run);
    }
  }

  /** One row: the run's key, its seed and its summary metrics. */
  private runs(run: RunResult): ColumnBatch {
    if (!Number.isInteger(run.seed) || run.seed < 0 || run.seed > 0xffffffff) {
      throw new RangeError(`seed must be a uint32, got ${run.seed}`);
    }
    const cols: Record<string, Column> = {
      point_index: column(Int32Array.of(run.pointIndex)),
      replicate: column(Int32Array.of(run.replicate)),
      ...this.sweepColumns(run, 1),
      seed: column(Uint32Array.of(run.seed)),
    };
    for (const [key, name, kind] of RUN_SUMMARY_COLUMNS) {
      const v = run.summary[key];
      cols[name] = column(kind === 'i32' ? Int32Array.of(v) : Float64Array.of(v));
    }
    return this.batch('runs', 1, cols);
  }

  /** One row per (step, protocol), step-major; null when the run kept no step table. */
  private steps(run: RunResult): ColumnBatch | null {
    const st = run.steps;
    if (st === null || st.rows === 0) return null;
    if (st.nProtocols !== this.nProtocols) {
      throw new RangeError(`step table has ${st.nProtocols} protocols, writer has ${this.nProtocols}`);
    }
    const n = st.rows;
    const step = this.i32('steps.step', n);
    const protocol = this.codes('steps.protocol', n, this.nProtocols);
    for (let s = 0, i = 0; s < st.steps; s++) {
      for (let p = 0; p < st.nProtocols; p++, i++) {
        step[i] = s;
        protocol[i] = p;
      }
    }
    return this.batch('steps', n, {
      ...this.runKey(run, n),
      ...this.sweepColumns(run, n),
      step: column(step),
      protocol: column(protocol),
      regime: column(copyCodes(st.regime, this.codes('steps.regime', n, REGIMES.length), REGIMES.length, 'regime')),
      open_interest_usd: column(st.openInterestUsd),
      margin_calls: column(st.marginCalls),
      liquidations: column(st.liquidations),
      liquidation_volume_usd: column(st.liquidationVolumeUsd),
      backstop_volume_usd: column(st.backstopVolumeUsd),
      bad_debt_usd: column(st.badDebtUsd),
      fund_payout_usd: column(st.fundPayoutUsd),
      insurance_fund_usd: column(st.insuranceFundUsd),
      adl_volume_usd: column(st.adlVolumeUsd),
      socialized_loss_usd: column(st.socializedLossUsd),
      cascade_rounds: column(st.cascadeRounds),
    });
  }

  /** One row per (step, asset), step-major; oracle_price is null where no oracle reads it. */
  private prices(run: RunResult): ColumnBatch | null {
    const pt = run.prices;
    if (pt === null || pt.rows === 0) return null;
    if (pt.nAssets !== this.nAssets) {
      throw new RangeError(`price table has ${pt.nAssets} assets, writer has ${this.nAssets}`);
    }
    const n = pt.rows;
    const step = this.i32('prices.step', n);
    const asset = this.codes('prices.asset', n, this.nAssets);
    for (let s = 0, i = 0; s < pt.steps; s++) {
      for (let a = 0; a < pt.nAssets; a++, i++) {
        step[i] = s;
        asset[i] = a;
      }
    }
    return this.batch('prices', n, {
      ...this.runKey(run, n),
      step: column(step),
      asset: column(asset),
      fundamental_price: column(pt.fundamental),
      market_price: column(pt.market),
      oracle_price: nanAsNull(pt.oracle, n, () => this.f64('prices.oracle', n), () => this.u8('prices.oracle.valid', (n + 7) >> 3)),
    });
  }

  /** One row per stored event; -1 protocol/account/asset/cause become null. */
  private events(run: RunResult): ColumnBatch | null {
    const ev = run.events;
    const n = ev.storedRows;
    if (n === 0) return null;
    const eventId = this.i32('events.event_id', n);
    for (let i = 0; i < n; i++) eventId[i] = i;
    // The log's arrays have spare capacity: only the first n entries are rows.
    const head = <A extends Int32Array | Float64Array>(a: A) => a.subarray(0, n) as A;
    return this.batch('events', n, {
      ...this.runKey(run, n),
      event_id: column(eventId),
      step: column(head(ev.step)),
      round: column(head(ev.round)),
      kind: column(copyCodes(ev.kind, this.codes('events.kind', n, EVENT_KINDS.length), EVENT_KINDS.length, 'event kind')),
      protocol: column(...this.nullable('events.protocol', ev.protocol, n, this.nProtocols, 'protocol')),
      account: column(...this.nullableInts('events.account', ev.account, n, 'account')),
      cohort: column(...this.nullable('events.cohort', cohortOfAccount(ev.account, run.accountCohort, this.i32('events.cohort.raw', n)), n, this.nCohorts, 'cohort')),
      asset: column(...this.nullable('events.asset', ev.asset, n, this.nAssets, 'asset')),
      quantity: column(head(ev.quantity)),
      price: column(head(ev.price)),
      amount_usd: column(head(ev.amountUsd)),
      cause_id: column(...this.nullableInts('events.cause', ev.cause, n, 'cause')),
    });
  }

  /** One row per (protocol, origin, channel) that lost something; null when nothing was lost. */
  private attribution(run: RunResult): ColumnBatch | null {
    const a = run.attribution;
    const n = a.rows;
    if (n === 0) return null;
    return this.batch('attribution', n, {
      ...this.runKey(run, n),
      ...this.sweepColumns(run, n),
      protocol: column(copyCodes(a.protocol, this.codes('attribution.protocol', n, this.nProtocols), this.nProtocols, 'protocol')),
      origin: column(copyCodes(a.origin, this.codes('attribution.origin', n, this.nOrigins), this.nOrigins, 'origin')),
      channel: column(copyCodes(a.channel, this.codes('attribution.channel', n, CHANNELS.length), CHANNELS.length, 'channel')),
      loss_usd: column(a.lossUsd),
      bad_debt_events: column(a.events),
    });
  }

  /**
   * One row per cohort with accounts, then one per other participant of the balance sheet: what it put
   * in, what it holds at the end, and the difference.
   */
  private cohorts(run: RunResult): ColumnBatch | null {
    const c = run.cohorts;
    const n = c.rows;
    if (n === 0) return null;
    const pnl = this.f64('cohorts.pnl_usd', n);
    for (let i = 0; i < n; i++) pnl[i] = c.valueUsd[i]! - c.contributedUsd[i]!;
    const nParticipants = this.participantRoles.length;
    const codes = copyCodes(c.cohort, this.codes('cohorts.cohort', n, nParticipants), nParticipants, 'participant');
    const roles = this.codes('cohorts.role', n, PARTICIPANT_ROLES.length);
    for (let i = 0; i < n; i++) roles[i] = this.participantRoles[c.cohort[i]!]!;
    return this.batch('cohorts', n, {
      ...this.runKey(run, n),
      ...this.sweepColumns(run, n),
      role: column(roles),
      cohort: column(codes),
      accounts: column(c.accounts),
      contributed_usd: column(c.contributedUsd),
      value_usd: column(c.valueUsd),
      pnl_usd: column(pnl),
    });
  }

  private runKey(run: RunResult, n: number): Record<string, Column> {
    return {
      point_index: column(this.i32('point_index', n).fill(run.pointIndex)),
      replicate: column(this.i32('replicate', n).fill(run.replicate)),
    };
  }

  /**
   * An n-element array for the column `role`: fresh, or (with `reuse`) a view over the builder's
   * array for that role, grown as needed. Its contents are unspecified: callers write every element.
   */
  private i32(role: string, n: number): Int32Array {
    return this.reuse ? (this.kept(role, n, Int32Array) as Int32Array) : new Int32Array(n);
  }

  private f64(role: string, n: number): Float64Array {
    return this.reuse ? (this.kept(role, n, Float64Array) as Float64Array) : new Float64Array(n);
  }

  private u8(role: string, n: number): Uint8Array {
    return this.reuse ? (this.kept(role, n, Uint8Array) as Uint8Array) : new Uint8Array(n);
  }

  /** An n-element index array for a dictionary of `size` entries (codesType), as i32() above. */
  private codes(role: string, n: number, size: number): Codes {
    const ctor = codesType(size);
    return this.reuse ? (this.kept(role, n, ctor) as Codes) : new ctor(n);
  }

  private kept(
    role: string,
    n: number,
    ctor: CodesConstructor | Float64ArrayConstructor | Uint8ArrayConstructor,
  ): Int8Array | Int16Array | Int32Array | Float64Array | Uint8Array {
    let a = this.scratch.get(role);
    if (a === undefined || a.length < n) {
      a = a === undefined ? new ctor(n) : grown(a, n);
      this.scratch.set(role, a);
    }
    return a.subarray(0, n);
  }

  /** nullableCodes into the arrays of `role`: dictionary indices of a dictionary of `size` entries. */
  private nullable(role: string, src: Int32Array, n: number, size: number, what: string): [Codes, Validity?] {
    return nullableCodes(src, n, size, what, this.codes(role, n, size), this.u8(`${role}.valid`, (n + 7) >> 3));
  }

  /** nullableCodes of plain Int32 values (account, cause id), no upper bound. */
  private nullableInts(role: string, src: Int32Array, n: number, what: string): [Int32Array, Validity?] {
    return nullableCodes(src, n, Infinity, what, this.i32(role, n), this.u8(`${role}.valid`, (n + 7) >> 3)) as [Int32Array, Validity?];
  }

  /** The sweep columns of `run`'s point, repeated over n rows. */
  private sweepColumns(run: RunResult, n: number): Record<string, Column> {
    const cols: Record<string, Column> = {};
    for (const c of this.sweep) {
      const p = run.pointIndex;
      if (!Number.isInteger(p) || p < 0 || p >= (c.kind === 'f64' ? c.values.length : c.codes.length)) {
        throw new RangeError(`point_index ${p} has no value in sweep column ${c.name}`);
      }
      cols[c.name] = column(c.kind === 'f64' ? this.f64(`sweep.${c.name}`, n).fill(c.values[p]!) : this.codes(`sweep.${c.name}`, n, c.dictionary.length).fill(c.codes[p]!));
    }
    return cols;
  }

  /** Puts columns in schema order, so a misspelt or missing column fails loudly here. */
  private batch(table: TableName, n: number, cols: Record<string, Column>): ColumnBatch {
    const columns = this.schemas[table].fields.map((field) => {
      const col = cols[field.name];
      if (col === undefined) throw new Error(`${table}: no data for column ${field.name}`);
      if (col.values.length !== n) throw new Error(`${table}.${field.name}: ${col.values.length} rows, expected ${n}`);
      return col;
    });
    return { table, rows: n, columns };
  }

  /** The same batch as an apache-arrow RecordBatch (views over the same arrays). */
  toRecordBatch(batch: ColumnBatch): RecordBatch {
    const schema = this.schemas[batch.table];
    const n = batch.rows;
    const children = schema.fields.map((field, i): Data => {
      const c = batch.columns[i]!;
      const nulls = c.nullCount === 0 ? { nullCount: 0 } : { nullCount: c.nullCount, nullBitmap: c.validity! };
      const type = field.type as DataType;
      if (DataType.isDictionary(type)) {
        const dictionary = this.dictionaries.get(type.id);
        if (dictionary === undefined) throw new Error(`${batch.table}.${field.name}: no dictionary with id ${type.id}`);
        return makeData({ type, length: n, data: c.values as Codes, dictionary, ...nulls });
      }
      return makeData({ type: type as Int32, length: n, data: c.values as Int32Array, ...nulls });
    });
    return new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length: n, nullCount: 0, children }));
  }
}

/** Column names that sweep columns may not take (they exist in runs or steps already). */
const RESERVED_NAMES = new Set([
  'point_index',
  'replicate',
  'seed',
  'step',
  'protocol',
  'regime',
  'open_interest_usd',
  'margin_calls',
  'liquidations',
  'liquidation_volume_usd',
  'backstop_volume_usd',
  'bad_debt_usd',
  'fund_payout_usd',
  'insurance_fund_usd',
  'adl_volume_usd',
  'socialized_loss_usd',
  'cascade_rounds',
  ...RUN_SUMMARY_COLUMNS.map(([, name]) => name),
]);

/** Resolves the sweep columns: Float64 when every value is a number, else a string dictionary. */
function planSweep(columns: readonly SweepColumn[]): SweepPlan[] {
  const seen = new Set<string>();
  let nextId = FIRST_SWEEP_DICT_ID;
  return columns.map((c) => {
    if (c.name === '') throw new Error('sweep column with an empty name');
    if (RESERVED_NAMES.has(c.name)) throw new Error(`sweep column ${c.name} clashes with a built-in column`);
    if (seen.has(c.name)) throw new Error(`duplicate sweep column ${c.name}`);
    seen.add(c.name);
    if (c.values.every((v) => typeof v === 'number')) {
      return { name: c.name, kind: 'f64', values: Float64Array.from(c.values as number[]) };
    }
    const strings = c.values.map(sweepString);
    const distinct: string[] = [];
    const codeOf = new Map<string, number>();
    const codes = new Int32Array(strings.length);
    strings.forEach((s, i) => {
      let code = codeOf.get(s);
      if (code === undefined) {
        code = distinct.length;
        codeOf.set(s, code);
        distinct.push(s);
      }
      codes[i] = code;
    });
    return {
      name: c.name,
      kind: 'dict',
      type: dictionaryOf(nextId++, distinct.length),
      dictionary: utf8Vector(distinct, `sweep column ${c.name}`),
      codes,
    };
  });
}

/** Validity bitmap (LSB-first, 1 = valid) and null count; absent when nothing is null. */
type Validity = { bitmap: Uint8Array; nullCount: number };

/** A column over `values` (its whole length), with the validity of nullableCodes/nanAsNull if any. */
function column(values: Column['values'], validity?: Validity): Column {
  return validity === undefined ? { values, validity: null, nullCount: 0 } : { values, validity: validity.bitmap, nullCount: validity.nullCount };
}

/** Copies the first out.length codes to `out` (the dictionary's index type), checking each is in range. */
function copyCodes<C extends Codes>(src: Uint8Array | Int32Array, out: C, size: number, what: string): C {
  const n = out.length;
  for (let i = 0; i < n; i++) {
    const c = src[i]!;
    if (c < 0 || c >= size) throw new RangeError(`${what} code ${c} at row ${i} is outside 0..${size - 1}`);
    out[i] = c;
  }
  return out;
}

/**
 * Copies the first n values to `out`, turning -1 into null (validity bits in `bitmap`, ⌈n/8⌉
 * bytes; both arrays are written whole, whatever they held). Null slots hold 0 rather than -1
 * because some readers check every dictionary index, valid or not, against the dictionary's length.
 *
 * Without a branch on the data (events' nulls follow their kinds, which come in no predictable order):
 * a value c ≥ -1 is null when c >>> 31 is 1, its slot is c & (isNull - 1), and its validity bit
 * isNull ^ 1; the range check (c + 1 as unsigned above `size`) is one branch never taken. The loop
 * with branches took 6–7 ns a value when a third are null, this one ~3 (random columns of 50,000,
 * session 17). In the main thread assembling the bench's Monte Carlo sweep (65,000 events a run, five
 * such columns) it was the largest item after the disk writes: 234 ms per 100 runs, now 178–217.
 */
export function nullableCodes(src: Int32Array, n: number, size: number, what: string, out: Codes, bitmap: Uint8Array): [Codes, Validity?] {
  let nulls = 0;
  // c + 1 as unsigned is at most this for c in -1 … size - 1 (an Int32 is at most 2^31 - 1).
  const bound = Math.min(size, 2 ** 31);
  const whole = n >> 3;
  for (let b = 0; b <= whole; b++) {
    const from = b << 3;
    const to = Math.min(from + 8, n);
    if (from === to) break;
    let byte = 0;
    for (let i = from; i < to; i++) {
      const c = src[i]!;
      if ((c + 1) >>> 0 > bound) throw new RangeError(`${what} ${c} at row ${i} is outside 0..${size - 1}`);
      const isNull = c >>> 31;
      nulls += isNull;
      out[i] = c & (isNull - 1);
      byte |= (isNull ^ 1) << (i - from);
    }
    bitmap[b] = byte;
  }
  return nulls === 0 ? [out] : [out, { bitmap, nullCount: nulls }];
}

/**
 * A Float64 column that is null where `src` is NaN (null slots hold 0, for stable bytes); the
 * values and the bitmap go to arrays from `values()` and `bits()` (written whole) when there are nulls.
 */
function nanAsNull(src: Float64Array, n: number, values: () => Float64Array, bits: () => Uint8Array): Column {
  let nulls = 0;
  for (let i = 0; i < n; i++) if (Number.isNaN(src[i]!)) nulls++;
  if (nulls === 0) return column(src.subarray(0, n));
  const out = values();
  const bitmap = bits();
  bitmap.fill(0);
  for (let i = 0; i < n; i++) {
    const v = src[i]!;
    if (Number.isNaN(v)) {
      out[i] = 0;
      continue;
    }
    out[i] = v;
    bitmap[i >> 3]! |= 1 << (i & 7);
  }
  return column(out, { bitmap, nullCount: nulls });
}

/** A Utf8 vector of distinct strings, for use as a dictionary (built once, not per row). */
function utf8Vector(values: readonly string[], what: string): Vector<Utf8> {
  if (new Set(values).size !== values.length) throw new Error(`${what} contains duplicate names`);
  const enc = new TextEncoder();
  const parts = values.map((s) => enc.encode(s));
  const offsets = new Int32Array(values.length + 1);
  for (let i = 0; i < parts.length; i++) offsets[i + 1] = offsets[i]! + parts[i]!.length;
  const bytes = new Uint8Array(offsets[values.length]!);
  parts.forEach((p, i) => bytes.set(p, offsets[i]!));
  return makeVector(makeData({ type: new Utf8(), length: values.length, valueOffsets: offsets, data: bytes }));
}

/** The cohort code of each event's account (-1 where the event has no account), into out. */
function cohortOfAccount(account: Int32Array, accountCohort: Int32Array, out: Int32Array): Int32Array {
  const n = out.length;
  for (let i = 0; i < n; i++) {
    const a = account[i]!;
    out[i] = a < 0 ? -1 : (accountCohort[a] ?? -1);
  }
  return out;
}
