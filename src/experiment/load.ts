// Reading an experiment: file → JSON → `--set` overrides → schema → cross-field rules → sweep. Every
// failure becomes one ExperimentError listing all problems with their path, the value found in
// the user's input and what was expected, so the CLI can print them and exit 2.
import { readFileSync } from 'node:fs';
import type { z } from 'zod';
import { ExperimentError, readFailure, type InputIssue } from './errors.ts';
import { applyOverrides } from './overrides.ts';
import { Experiment } from './schema.ts';
import { validateSemantics } from './semantics.ts';
import { validateSweep } from './sweep.ts';
import { readPricePaths } from './pricePath.ts';
import { applyProfiles } from '../venues/index.ts';

type ZodIssue = z.core.$ZodIssue;

/**
 * Read, override and validate an experiment file. Throws ExperimentError (path '(file)' for an
 * unreadable file or bad JSON, with line and column) or UsageError for a malformed `--set`.
 */
export function loadExperiment(path: string, sets: string[] = []): Experiment {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ExperimentError(path, [{ path: '(file)', value: path, message: readFailure(err, 'the path of an experiment JSON file') }]);
  }
  const raw = applyOverrides(parseJson(text, path), sets);
  const unread = readPricePaths(raw, path);
  if (unread.length > 0) throw new ExperimentError(path, unread);
  return parseExperiment(raw, path);
}

/**
 * Validate an already-parsed experiment object (after any overrides). `source` names it in
 * messages. Returns the experiment with every default filled in, or throws ExperimentError.
 */
export function parseExperiment(raw: unknown, source: string): Experiment {
  const checked = checkExperiment(raw);
  if (!checked.ok) throw new ExperimentError(source, checked.issues);
  // A bad sweep is rejected here, before any run: its paths, ranges and every point's experiment.
  const sweep = validateSweep(checked.experiment);
  if (sweep.length > 0) throw new ExperimentError(source, sweep);
  return checked.experiment;
}

/**
 * Venue profiles, schema and cross-field rules, without the sweep, and without throwing: the experiment with its
 * defaults filled in, or every problem. Used for each point of a sweep.
 */
export function checkExperiment(input: unknown): { ok: true; experiment: Experiment } | { ok: false; issues: InputIssue[] } {
  // Venue profiles first: their fields are filled in under the experiment's own (src/venues/).
  const profiled = applyProfiles(input);
  if (profiled.issues.length > 0) return { ok: false, issues: profiled.issues };
  const raw = profiled.raw;
  const result = Experiment.safeParse(raw);
  if (!result.success) return { ok: false, issues: result.error.issues.flatMap((i) => toInputIssues(i, raw)) };
  const semantic = validateSemantics(result.data);
  if (semantic.length > 0) return { ok: false, issues: semantic };
  return { ok: true, experiment: result.data };
}

/** JSON.parse with a position that is always given as line and column. */
function parseJson(text: string, source: string): unknown {
  // A UTF-8 byte-order mark is an editor artefact, not content.
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  try {
    return JSON.parse(body);
  } catch (err) {
    const reason = (err instanceof Error ? err.message : String(err))
      .replace(/, ".*" is not valid JSON$/s, '')
      .replace(/ in JSON at position \d+.*$/s, '');
    const pos = locateJsonError(body);
    const lineStart = body.lastIndexOf('\n', pos - 1) + 1;
    const line = body.slice(0, pos).split('\n').length;
    const column = pos - lineStart + 1;
    const lineEnd = body.indexOf('\n', lineStart);
    const lineText = body.slice(lineStart, lineEnd < 0 ? undefined : lineEnd).trim();
    throw new ExperimentError(source, [
      { path: '(file)', value: lineText === '' ? undefined : lineText, message: `not valid JSON at line ${line}, column ${column}: ${reason}` },
    ]);
  }
}

/**
 * Index of the first character where `text` stops being JSON. V8's messages carry a position only
 * for some errors, so we re-scan with a small recursive-descent recogniser.
 */
export function locateJsonError(text: string): number {
  let i = 0;
  class Stop {
    constructor(readonly at: number) {}
  }
  const ws = (): void => {
    while (i < text.length && ' \t\n\r'.includes(text[i]!)) i++;
  };
  const expectWord = (w: string): void => {
    for (const ch of w) {
      if (text[i] !== ch) throw new Stop(i);
      i++;
    }
  };
  const string = (): void => {
    i++; // opening quote
    for (;;) {
      if (i >= text.length) throw new Stop(i);
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        i++;
        return;
      }
      if (c < 0x20) throw new Stop(i);
      if (c === 0x5c) {
        const e = text[i + 1];
        if (e === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) throw new Stop(i);
          i += 6;
        } else if (e !== undefined && '"\\/bfnrt'.includes(e)) i += 2;
        else throw new Stop(i);
      } else i++;
    }
  };
  const number = (): void => {
    const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i, i + 400));
    if (!m || m[0] === '-' || m[0] === '') throw new Stop(i);
    i += m[0].length;
  };
  const value = (): void => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      ws();
      if (text[i] === '}') {
        i++;
        return;
      }
      for (;;) {
        ws();
        if (text[i] !== '"') throw new Stop(i);
        string();
        ws();
        if (text[i] !== ':') throw new Stop(i);
        i++;
        value();
        ws();
        if (text[i] === ',') i++;
        else if (text[i] === '}') {
          i++;
          return;
        } else throw new Stop(i);
      }
    } else if (c === '[') {
      i++;
      ws();
      if (text[i] === ']') {
        i++;
        return;
      }
      for (;;) {
        value();
        ws();
        if (text[i] === ',') i++;
        else if (text[i] === ']') {
          i++;
          return;
        } else throw new Stop(i);
      }
    } else if (c === '"') string();
    else if (c === 't') expectWord('true');
    else if (c === 'f') expectWord('false');
    else if (c === 'n') expectWord('null');
    else if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) number();
    else throw new Stop(i);
  };
  try {
    value();
    ws();
    return i < text.length ? i : text.length;
  } catch (e) {
    if (e instanceof Stop) return Math.min(e.at, text.length);
    throw e;
  }
}

// ---------------------------------------------------------------------------------------------
// zod issue → InputIssue

/** The value at `path` in the user's input (undefined when it is not there). */
function valueAt(raw: unknown, path: readonly PropertyKey[]): unknown {
  let node = raw;
  for (const seg of path) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<PropertyKey, unknown>)[seg as string];
  }
  return node;
}

function joinPath(path: readonly PropertyKey[]): string {
  return path.map(String).join('.');
}

function toInputIssues(issue: ZodIssue, raw: unknown): InputIssue[] {
  const path = issue.path;
  if (issue.code === 'unrecognized_keys') {
    const allowed = allowedKeys(schemaAt(path, raw));
    return issue.keys.map((key) => ({
      path: joinPath([...path, key]),
      value: valueAt(raw, [...path, key]),
      message: unknownKeyMessage(key, allowed),
    }));
  }
  if (issue.code === 'invalid_union' && issue.discriminator !== undefined) {
    // zod reports the discriminator itself in the path; keep that, but be robust if it does not.
    const full = path[path.length - 1] === issue.discriminator ? path : [...path, issue.discriminator];
    const options = 'options' in issue && issue.options ? issue.options : [];
    return [
      {
        path: joinPath(full),
        value: valueAt(raw, full),
        message: `expected "${issue.discriminator}" to be one of ${options.map((o) => JSON.stringify(o)).join(', ')}`,
      },
    ];
  }
  const value = valueAt(raw, path);
  return [{ path: joinPath(path), value, message: expectation(issue, value, schemaAt(path, raw)) }];
}

function expectation(issue: ZodIssue, value: unknown, schema: ZodLike | undefined): string {
  switch (issue.code) {
    case 'invalid_type': {
      if (value === undefined) {
        const what = describeSchema(schema) ?? article(issue.expected);
        const doc = schema ? descriptionOf(schema) : undefined;
        return `required field is missing: expected ${what}${doc ? ` (${doc})` : ''}`;
      }
      return `expected ${describeSchema(schema) ?? article(issue.expected)}, not ${typeName(value)}`;
    }
    case 'too_small':
      return bound(issue.origin, issue.minimum, issue.inclusive ?? true, 'min', issue.exact);
    case 'too_big':
      return bound(issue.origin, issue.maximum, issue.inclusive ?? true, 'max', issue.exact);
    case 'invalid_value':
      return issue.values.length === 1
        ? `expected ${JSON.stringify(issue.values[0])}`
        : `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'not_multiple_of':
      return `expected a multiple of ${issue.divisor}`;
    case 'invalid_union':
      return 'does not match any of the allowed forms';
    case 'invalid_format':
    case 'custom':
    default:
      return issue.message;
  }
}

function bound(origin: string, limit: number | bigint, inclusive: boolean, side: 'min' | 'max', exact?: boolean): string {
  const n = Number(limit);
  if (origin === 'array') {
    if (exact) return `expected exactly ${n} item${n === 1 ? '' : 's'}`;
    return side === 'min' ? `expected at least ${n} item${n === 1 ? '' : 's'}` : `expected at most ${n} item${n === 1 ? '' : 's'}`;
  }
  if (origin === 'string') {
    if (side === 'min' && n === 1) return 'expected a non-empty string';
    return `expected ${side === 'min' ? 'at least' : 'at most'} ${n} character${n === 1 ? '' : 's'}`;
  }
  const op = side === 'min' ? (inclusive ? '≥' : '>') : inclusive ? '≤' : '<';
  return `expected a number ${op} ${n}`;
}

function article(expected: string): string {
  switch (expected) {
    case 'int':
      return 'an integer';
    case 'object':
      return 'an object';
    case 'array':
      return 'an array';
    default:
      return `a ${expected}`;
  }
}

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'number' && !Number.isInteger(v)) return 'a fractional number';
  return article(typeof v);
}

function unknownKeyMessage(key: string, allowed: string[] | undefined): string {
  if (!allowed || allowed.length === 0) return `unknown key "${key}"`;
  const near = closest(key, allowed);
  return near
    ? `unknown key "${key}": did you mean "${near}"?`
    : `unknown key "${key}" (allowed here: ${allowed.join(', ')})`;
}

function closest(key: string, candidates: string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = editDistance(key.toLowerCase(), c.toLowerCase());
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  // Only suggest when the key is plausibly a typo of the candidate.
  return best !== undefined && bestD <= Math.max(2, Math.floor(key.length / 4)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length]!;
}

// ---------------------------------------------------------------------------------------------
// A minimal walk over the zod schema, to find what a path *should* hold (allowed keys, whether a
// number must be an integer or may be null, the field's description). It only reads `_zod.def`,
// zod 4's documented introspection surface.

interface ZodLike {
  _zod: { def: { type: string; [k: string]: unknown } };
  description?: string;
  isInt?: boolean;
}

function defOf(s: ZodLike): Record<string, unknown> & { type: string } {
  return s._zod.def;
}

const WRAPPERS = new Set(['optional', 'default', 'prefault', 'nullable', 'nonoptional', 'readonly', 'catch']);

function unwrap(s: ZodLike): ZodLike {
  let cur = s;
  for (let k = 0; k < 20 && WRAPPERS.has(defOf(cur).type); k++) cur = defOf(cur).innerType as ZodLike;
  return cur;
}

function schemaAt(path: readonly PropertyKey[], raw: unknown): ZodLike | undefined {
  let cur: ZodLike | undefined = Experiment as unknown as ZodLike;
  for (let i = 0; i <= path.length && cur; i++) {
    // The field's own schema, wrappers included, is what describeSchema needs (nullable).
    if (i === path.length && defOf(unwrap(cur)).type !== 'union') return cur;
    cur = unwrap(cur);
    const def = defOf(cur);
    if (def.type === 'union' && typeof def.discriminator === 'string') {
      // Pick the branch the user meant from the discriminator value in their input.
      const tag = valueAt(raw, [...path.slice(0, i), def.discriminator]);
      const options = def.options as ZodLike[];
      cur = options.find((o) => {
        const lit = (defOf(unwrap(o)).shape as Record<string, ZodLike> | undefined)?.[def.discriminator as string];
        return lit !== undefined && ((defOf(lit).values as unknown[] | undefined) ?? []).includes(tag);
      });
      if (!cur) return undefined;
      cur = unwrap(cur);
    }
    if (i === path.length) return cur;
    const d = defOf(cur);
    const seg = path[i]!;
    if (d.type === 'object') cur = (d.shape as Record<string, ZodLike>)[String(seg)];
    else if (d.type === 'array') cur = d.element as ZodLike;
    else return undefined;
  }
  return cur;
}

function allowedKeys(s: ZodLike | undefined): string[] | undefined {
  if (!s) return undefined;
  const d = defOf(unwrap(s));
  return d.type === 'object' ? Object.keys(d.shape as object) : undefined;
}

function descriptionOf(s: ZodLike): string | undefined {
  let cur: ZodLike | undefined = s;
  for (let k = 0; k < 20 && cur; k++) {
    if (cur.description) return cur.description;
    cur = WRAPPERS.has(defOf(cur).type) ? (defOf(cur).innerType as ZodLike) : undefined;
  }
  return undefined;
}

/** "an integer", "a number or null", "one of ..." — or undefined to fall back on zod's word. */
function describeSchema(s: ZodLike | undefined): string | undefined {
  if (!s) return undefined;
  const nullable = defOf(s).type === 'nullable' || (WRAPPERS.has(defOf(s).type) && defOf(defOf(s).innerType as ZodLike).type === 'nullable');
  const inner = unwrap(s);
  const d = defOf(inner);
  let base: string | undefined;
  if (d.type === 'number') base = inner.isInt ? 'an integer' : 'a number';
  else if (d.type === 'string') base = 'a string';
  else if (d.type === 'boolean') base = 'true or false';
  else if (d.type === 'object') base = 'an object';
  else if (d.type === 'array') base = 'an array';
  else if (d.type === 'union') base = 'an object';
  else if (d.type === 'enum') base = `one of ${Object.values(d.entries as object).map((v) => JSON.stringify(v)).join(', ')}`;
  else if (d.type === 'literal') base = (d.values as unknown[]).map((v) => JSON.stringify(v)).join(' or ');
  if (base === undefined) return undefined;
  return nullable ? `${base} or null` : base;
}
