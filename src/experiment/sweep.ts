// Parameter sweeps: the points of an experiment's `sweep` (a grid, an explicit list, or a Latin
// hypercube) and the experiment of each point. A point only changes values the base experiment
// already has, at scenario paths or `steps`/`stepSeconds`; every point's experiment is validated
// like a file of its own, so a bad sweep is rejected before any run.
import { makeStream } from '../model/random.ts';
import { ExperimentError, type InputIssue } from './errors.ts';
import { checkExperiment } from './load.ts';
import { splitPath } from './overrides.ts';
import type { Experiment, Sweep } from './schema.ts';
import { deriveSeed, Streams } from './seeds.ts';

/** One point of a sweep: its index (0-based, in run order) and the value of every swept path. */
export interface SweepPoint {
  index: number;
  values: Record<string, unknown>;
}

/** The most points a sweep may have (a grid's product of value counts, or LHS samples). */
export const MAX_SWEEP_POINTS = 1_000_000;
/** Invalid points listed one by one in validateSweep's issues; the rest are counted. */
const MAX_REPORTED_POINTS = 10;

/** Top-level paths that may be swept besides those under `scenario.`. */
const TOP_LEVEL_SWEEPABLE = new Set(['steps', 'stepSeconds']);

type LatinHypercube = Extract<Sweep, { kind: 'latinHypercube' }>;
type LhsParameter = LatinHypercube['parameters'][string];

/** The swept paths in column order (grid/LHS: key order; list: the first point's key order); [] without a sweep. */
export function sweptPaths(exp: Experiment): string[] {
  const sweep = exp.sweep;
  if (!sweep) return [];
  if (sweep.kind === 'list') return Object.keys(sweep.points[0] ?? {});
  return Object.keys(sweep.parameters);
}

/** Number of points of the experiment's sweep (1 without a sweep), without expanding it. */
export function sweepSize(exp: Experiment): number {
  const sweep = exp.sweep;
  if (!sweep) return 1;
  switch (sweep.kind) {
    case 'grid':
      return Object.values(sweep.parameters).reduce((n, values) => n * values.length, 1);
    case 'list':
      return sweep.points.length;
    case 'latinHypercube':
      return sweep.samples;
  }
}

/** Every point of the experiment's sweep, in order; a single point with values {} when there is no sweep. */
export function expandSweep(exp: Experiment): SweepPoint[] {
  const sweep = exp.sweep;
  if (!sweep) return [{ index: 0, values: {} }];
  switch (sweep.kind) {
    case 'grid':
      return expandGrid(sweep.parameters);
    case 'list': {
      const paths = sweptPaths(exp);
      return sweep.points.map((p, index) => {
        const values: Record<string, unknown> = {};
        // Column order first, then anything a malformed point adds (validateSweep rejects those).
        for (const path of paths) if (Object.hasOwn(p, path)) values[path] = p[path];
        for (const path of Object.keys(p)) if (!Object.hasOwn(values, path)) values[path] = p[path];
        return { index, values };
      });
    }
    case 'latinHypercube':
      return expandLatinHypercube(sweep, exp.seed);
  }
}

/** Cartesian product in nested-loop order: the last parameter varies fastest. */
function expandGrid(parameters: Record<string, unknown[]>): SweepPoint[] {
  const entries = Object.entries(parameters);
  const total = entries.reduce((n, [, values]) => n * values.length, 1);
  const points: SweepPoint[] = [];
  for (let index = 0; index < total; index++) {
    const values: Record<string, unknown> = {};
    // Mixed-radix digits of the index, least significant = last parameter.
    let rest = index;
    for (let k = entries.length - 1; k >= 0; k--) {
      const [path, list] = entries[k]!;
      values[path] = list[rest % list.length];
      rest = Math.floor(rest / list.length);
    }
    // Rebuild in key order so Object.keys(values) is the column order.
    const ordered: Record<string, unknown> = {};
    for (const [path] of entries) ordered[path] = values[path];
    points.push({ index, values: ordered });
  }
  return points;
}

/**
 * Latin hypercube design: for each parameter (in key order) a random permutation of the n strata
 * (Fisher–Yates), then one uniform draw inside the stratum of each point. One stream seeded by
 * deriveSeed(seed ?? experiment seed, 0, Streams.sweep), so the design is deterministic and adding
 * a parameter at the end does not move the earlier ones.
 */
function expandLatinHypercube(sweep: LatinHypercube, experimentSeed: number): SweepPoint[] {
  const n = sweep.samples;
  const stream = makeStream(deriveSeed(sweep.seed ?? experimentSeed, 0, Streams.sweep));
  const entries = Object.entries(sweep.parameters);
  const columns: number[][] = entries.map(([, p]) => {
    const strata = Array.from({ length: n }, (_, i) => i);
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(stream.uniform() * (i + 1));
      const t = strata[i]!;
      strata[i] = strata[j]!;
      strata[j] = t;
    }
    return strata.map((stratum) => lhsValue(p, (stratum + stream.uniform()) / n));
  });
  return Array.from({ length: n }, (_, index) => {
    const values: Record<string, unknown> = {};
    entries.forEach(([path], k) => {
      values[path] = columns[k]![index];
    });
    return { index, values };
  });
}

/** The value at quantile t ∈ [0, 1) of a parameter's range (linear or log), rounded if integer. */
function lhsValue(p: LhsParameter, t: number): number {
  let v =
    p.scale === 'log'
      ? Math.exp(Math.log(p.min) + (Math.log(p.max) - Math.log(p.min)) * t)
      : p.min + (p.max - p.min) * t;
  v = Math.min(p.max, Math.max(p.min, v)); // exp(log(x)) may land an ulp outside
  if (p.integer) v = Math.min(Math.floor(p.max), Math.max(Math.ceil(p.min), Math.round(v)));
  return v;
}

/**
 * The experiment of one point: the base with the point's values applied at their paths and `sweep`
 * removed, re-validated (schema + semantics). Throws ExperimentError whose issues name the point,
 * e.g. path "sweep point 3 (scenario.insuranceFunds.0.initialUsd=-5): scenario.insuranceFunds.0.initialUsd".
 */
export function pointExperiment(exp: Experiment, point: SweepPoint): Experiment {
  const r = checkPoint(exp, point);
  if (!r.ok) throw new ExperimentError(`${exp.name} ${pointLabel(point)}`, r.issues);
  return r.experiment;
}

function checkPoint(exp: Experiment, point: SweepPoint): { ok: true; experiment: Experiment } | { ok: false; issues: InputIssue[] } {
  // Copy-on-write along the swept paths only: the base is never mutated, and the zod parse below
  // builds a fresh object for every object and array (the schema holds no opaque values outside
  // `sweep`), so the result shares nothing with the base. A structuredClone of the whole
  // experiment per point would double the cost of validating a large sweep.
  const { sweep: _sweep, ...raw } = exp;
  const copied = new Set<object>([raw]);
  const prefix = (): string => `${pointLabel(point)}: `; // only built for an invalid point
  const issues: InputIssue[] = [];
  for (const [path, value] of Object.entries(point.values)) {
    const target = locate(raw, path, (parent, key) => {
      const child = (parent as Record<string | number, unknown>)[key];
      if (typeof child !== 'object' || child === null || copied.has(child)) return child;
      const copy = Array.isArray(child) ? child.slice() : { ...child };
      (parent as Record<string | number, unknown>)[key] = copy;
      copied.add(copy);
      return copy;
    });
    if ('error' in target) issues.push({ path: prefix() + path, value, message: target.error });
    else (target.parent as Record<string | number, unknown>)[target.key] = value;
  }
  if (issues.length > 0) return { ok: false, issues };
  const checked = checkExperiment(raw);
  if (checked.ok) return checked;
  const at = prefix();
  return { ok: false, issues: checked.issues.map((i) => ({ ...i, path: at + i.path })) };
}

/** "sweep point 3 (a=1, b="x")", each value shortened. */
function pointLabel(point: SweepPoint): string {
  const parts = Object.entries(point.values).map(([path, v]) => {
    const text = JSON.stringify(v) ?? String(v);
    return `${path}=${text.length > 40 ? text.slice(0, 37) + '...' : text}`;
  });
  return `sweep point ${point.index}${parts.length > 0 ? ` (${parts.join(', ')})` : ''}`;
}

/**
 * Where `path` is in `root`: the container and key of an existing value, or why it is not there.
 * Unlike `--set`, a sweep never creates a key: it only varies what the experiment has. `descend`
 * steps from a container into one of its children (the caller may copy the child on the way).
 */
function locate(
  root: unknown,
  path: string,
  descend: (parent: object, key: string | number) => unknown = (parent, key) => (parent as Record<string | number, unknown>)[key],
): { parent: object; key: string | number } | { error: string } {
  const split = splitPath(path);
  if ('error' in split) return { error: `not a valid path: ${split.error}` };
  const segs = split.segments;
  let node = root;
  for (let i = 0; i < segs.length; i++) {
    const seg = segs[i]!;
    const here = segs.slice(0, i).join('.') || '(the experiment root)';
    const upTo = segs.slice(0, i + 1).join('.');
    if (Array.isArray(node)) {
      if (typeof seg !== 'number') return { error: `${here} is an array: expected a numeric index, not "${seg}"` };
      if (seg >= node.length) return { error: `${upTo} does not exist: ${here} has ${node.length} element${node.length === 1 ? '' : 's'}` };
    } else if (typeof node === 'object' && node !== null) {
      const rec = node as Record<string, unknown>;
      if (!Object.hasOwn(rec, String(seg)) || rec[String(seg)] === undefined) {
        const keys = Object.keys(rec).filter((k) => rec[k] !== undefined);
        return {
          error: `${upTo} does not exist in the experiment: a sweep only varies values the experiment sets (${here} has ${keys.length === 0 ? 'no keys' : keys.join(', ')})`,
        };
      }
    } else {
      return { error: `${upTo} does not exist: ${here} is ${JSON.stringify(node)}, not an object or array` };
    }
    if (i === segs.length - 1) return { parent: node, key: Array.isArray(node) ? (seg as number) : String(seg) };
    node = descend(node, seg);
  }
  return { error: 'empty path' };
}

/**
 * Stable snake_case Arrow column name for a swept path: "p_" + the path with camelCase →
 * snake_case and every run of non-alphanumerics → "_", lower case; e.g.
 * scenario.insuranceFunds.0.initialUsd → p_scenario_insurance_funds_0_initial_usd.
 */
export function sweepColumnName(path: string): string {
  const snake = path
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
  return `p_${snake}`;
}

/**
 * All problems of the sweep as InputIssues, [] when it is fine or absent: malformed, forbidden or
 * missing paths, overlapping paths or column names, bad Latin hypercube ranges, list points that
 * set different paths, too many points, and every point whose experiment is invalid.
 */
export function validateSweep(exp: Experiment): InputIssue[] {
  const sweep = exp.sweep;
  if (!sweep) return [];
  const issues: InputIssue[] = [];
  const add = (path: string, value: unknown, message: string): void => {
    issues.push({ path, value, message });
  };

  // --- the swept paths, each where the user wrote it ----------------------------------------
  // swept path → where its key is in the file (issue path) and what the file gives it there
  const where = new Map<string, { at: string; given: unknown }>();
  if (sweep.kind === 'list') {
    const first = Object.keys(sweep.points[0] ?? {});
    const firstSet = new Set(first);
    sweep.points.forEach((p, i) => {
      const keys = Object.keys(p);
      for (const k of keys) if (!where.has(k)) where.set(k, { at: `sweep.points.${i}.${k}`, given: p[k] });
      if (i === 0) return;
      const missing = first.filter((k) => !Object.hasOwn(p, k));
      const extra = keys.filter((k) => !firstSet.has(k));
      if (missing.length > 0 || extra.length > 0) {
        const what = [
          missing.length > 0 ? `does not set ${missing.join(', ')}` : '',
          extra.length > 0 ? `sets ${extra.join(', ')}, which point 0 does not` : '',
        ].filter(Boolean);
        add(`sweep.points.${i}`, p, `${what.join(' and ')}: every point must set the same paths as point 0 (${first.join(', ')})`);
      }
    });
  } else {
    for (const [k, given] of Object.entries(sweep.parameters)) where.set(k, { at: `sweep.parameters.${k}`, given });
  }

  const base = withoutSweep(exp);
  const parsed: Array<{ path: string; segs: string[] }> = [];
  for (const [path, { at, given }] of where) {
    const split = splitPath(path);
    if ('error' in split) {
      add(at, given, `not a valid path: ${split.error}`);
      continue;
    }
    const segs = split.segments.map(String);
    const forbidden = forbiddenReason(segs);
    if (forbidden !== undefined) {
      add(at, given, forbidden);
      continue;
    }
    const found = locate(base, path);
    if ('error' in found) {
      add(at, given, found.error);
      continue;
    }
    parsed.push({ path, segs });
  }

  // Two keys for one field (scenario.assets.0.x and scenario.assets[0].x), or a field and a value
  // inside it, would be applied in key order: ambiguous, so rejected.
  const columns = new Map<string, string>();
  for (let i = 0; i < parsed.length; i++) {
    const a = parsed[i]!;
    for (let j = 0; j < i; j++) {
      const b = parsed[j]!;
      const n = Math.min(a.segs.length, b.segs.length);
      if (a.segs.length !== b.segs.length && a.segs.slice(0, n).join('\0') === b.segs.slice(0, n).join('\0')) {
        add(where.get(a.path)!.at, where.get(a.path)!.given, `overlaps with the swept path ${b.path}: a sweep cannot set a value and also a field inside it`);
      }
    }
    const column = sweepColumnName(a.path);
    const other = columns.get(column);
    if (other !== undefined) {
      add(where.get(a.path)!.at, where.get(a.path)!.given, `its column name "${column}" is the same as that of the swept path ${other}: each swept path needs a distinct column`);
    } else columns.set(column, a.path);
  }

  // --- ranges and sizes ---------------------------------------------------------------------
  if (sweep.kind === 'latinHypercube') {
    for (const [path, p] of Object.entries(sweep.parameters)) {
      const at = `sweep.parameters.${path}`;
      if (p.min > p.max) add(`${at}.min`, p.min, `expected min ≤ max (${p.max})`);
      if (p.scale === 'log' && p.min <= 0) add(`${at}.min`, p.min, 'a log scale needs min > 0');
      if (p.integer && p.min <= p.max && Math.ceil(p.min) > Math.floor(p.max)) {
        add(`${at}.min`, p.min, `no integer lies in [${p.min}, ${p.max}]: widen the range or drop "integer"`);
      }
    }
    if (sweep.samples > MAX_SWEEP_POINTS) add('sweep.samples', sweep.samples, `expected at most ${MAX_SWEEP_POINTS} samples`);
  } else if (sweep.kind === 'grid') {
    const size = sweepSize(exp);
    if (size > MAX_SWEEP_POINTS) {
      const counts = Object.values(sweep.parameters).map((v) => v.length);
      add('sweep.parameters', counts.join(' × '), `the grid has ${size} points: expected at most ${MAX_SWEEP_POINTS}`);
    }
  }
  if (issues.length > 0) return issues;

  // --- every point's experiment --------------------------------------------------------------
  const invalid: number[] = [];
  for (const point of expandSweep(exp)) {
    const r = checkPoint(exp, point);
    if (r.ok) continue;
    invalid.push(point.index);
    if (invalid.length <= MAX_REPORTED_POINTS) issues.push(...r.issues);
  }
  if (invalid.length > MAX_REPORTED_POINTS) {
    add(
      'sweep',
      invalid.slice(MAX_REPORTED_POINTS),
      `${invalid.length} of the ${sweepSize(exp)} points are invalid; the first ${MAX_REPORTED_POINTS} are listed above, the other points are given here by index`,
    );
  }
  return issues;
}

function withoutSweep(exp: Experiment): Omit<Experiment, 'sweep'> {
  const { sweep: _sweep, ...base } = exp;
  return base;
}

/** Why a path may not be swept, or undefined when it may. */
function forbiddenReason(segs: readonly string[]): string | undefined {
  const head = segs[0]!;
  // The loader reads a replayed path's csv column into prices once, before the sweep expands.
  const pathField = segs.indexOf('pricePath');
  if (head === 'scenario' && pathField >= 0 && segs[pathField + 1] !== 'fromRow') {
    return 'cannot sweep a replayed path\'s csv, column or prices (the file is read once, when the experiment loads): sweep pricePath.fromRow to replay other windows of the same series, or give each series its own asset';
  }
  if (head === 'scenario') return segs.length >= 2 ? undefined : 'cannot sweep the whole scenario: name a value inside it, e.g. scenario.assets.0.volatilityAnnual';
  if (segs.length === 1 && TOP_LEVEL_SWEEPABLE.has(head)) return undefined;
  const allowed = 'only paths under scenario. and steps, stepSeconds can vary between points';
  if (head === 'seed') return `cannot sweep the seed: run seeds derive from it (use runs for more replicates, or independentPoints); ${allowed}`;
  return `cannot sweep "${segs.join('.')}": ${allowed}`;
}
