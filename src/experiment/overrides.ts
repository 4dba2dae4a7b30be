// `--set path=value` overrides, applied to the raw JSON of an experiment before validation so an
// overridden value is checked exactly like one written in the file. Only existing containers are
// walked: a typo in the middle of a path is a usage error, a typo in the last key is left for the
// schema to reject as an unknown key.
import { UsageError } from './errors.ts';

/** One parsed `--set`: the path segments (array indices as numbers) and the parsed value. */
export interface Override {
  /** The argument as given, for error messages. */
  arg: string;
  segments: Array<string | number>;
  value: unknown;
}

// Keys that would reach Object.prototype through a plain assignment.
const FORBIDDEN_KEYS = new Set(['__proto__', 'prototype', 'constructor']);

/**
 * Parse one `path=value` argument. The path is dotted (`a.b.0.c`) or uses brackets for indices
 * (`a.b[0].c`); the value is JSON when it parses as JSON, otherwise the literal string, so
 * `name=foo` and `name="foo"` mean the same.
 */
export function parseOverride(arg: string): Override {
  const eq = arg.indexOf('=');
  if (eq < 0) throw new UsageError(`--set ${JSON.stringify(arg)}: expected path=value (no "=" found)`);
  const pathText = arg.slice(0, eq).trim();
  const valueText = arg.slice(eq + 1);
  if (pathText === '') throw new UsageError(`--set ${JSON.stringify(arg)}: the path before "=" is empty`);
  return { arg, segments: parsePath(pathText, arg), value: parseValue(valueText) };
}

function parsePath(pathText: string, arg: string): Array<string | number> {
  const r = splitPath(pathText);
  if ('error' in r) throw new UsageError(`--set ${JSON.stringify(arg)}: ${r.error}`);
  return r.segments;
}

/**
 * Split a dotted (`a.b.0.c`) or bracketed (`a.b[0].c`) path into segments, array indices as
 * numbers; the reason when it is malformed. Shared by `--set` and sweep keys.
 */
export function splitPath(pathText: string): { segments: Array<string | number> } | { error: string } {
  // a[0][1].b → a.0.1.b; anything else inside brackets is rejected below.
  let badBracket: string | undefined;
  const dotted = pathText.replace(/\[([^\]]*)\]/g, (_m, inner: string) => {
    if (!/^\d+$/.test(inner)) badBracket ??= `"[${inner}]" is not an array index (expected [0], [1], ...)`;
    return `.${inner}`;
  });
  if (badBracket !== undefined) return { error: badBracket };
  if (/[[\]]/.test(dotted)) return { error: `unbalanced "[" or "]" in the path` };
  const segments: Array<string | number> = [];
  for (const part of dotted.split('.')) {
    if (part === '') return { error: `empty segment in the path "${pathText}"` };
    if (FORBIDDEN_KEYS.has(part)) return { error: `"${part}" cannot be used as a key` };
    segments.push(/^\d+$/.test(part) ? Number(part) : part);
  }
  return { segments };
}

function parseValue(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? 'an object' : `the ${typeof v} ${JSON.stringify(v)}`;
}

/**
 * Return a copy of `raw` with every `--set` applied in order (later ones win). Throws UsageError
 * naming the argument when it is malformed, walks through something that is not an object or
 * array, names a missing intermediate key, or indexes outside an array. Setting a new last key
 * is allowed on purpose: the strict schema then reports it as an unknown key, with its path.
 */
export function applyOverrides(raw: unknown, sets: string[]): unknown {
  if (sets.length === 0) return raw;
  let root = structuredClone(raw);
  for (const arg of sets) root = applyOne(root, parseOverride(arg));
  return root;
}

function applyOne(root: unknown, o: Override): unknown {
  const fail = (why: string): UsageError => new UsageError(`--set ${JSON.stringify(o.arg)}: ${why}`);
  let node = root;
  for (let i = 0; i < o.segments.length; i++) {
    const seg = o.segments[i]!;
    const here = o.segments.slice(0, i).join('.') || '(the experiment root)';
    const last = i === o.segments.length - 1;
    if (Array.isArray(node)) {
      if (typeof seg !== 'number') throw fail(`${here} is an array; expected a numeric index, got "${seg}"`);
      if (seg >= node.length) {
        throw fail(`index ${seg} is out of range: ${here} has ${node.length} element${node.length === 1 ? '' : 's'}`);
      }
      if (last) node[seg] = o.value;
      else node = node[seg];
    } else if (isRecord(node)) {
      const key = String(seg);
      if (last) {
        node[key] = o.value;
      } else {
        if (!Object.hasOwn(node, key)) {
          // Creating the parent would silently build a half-specified object; ask for all of it.
          throw fail(`${[...o.segments.slice(0, i + 1)].join('.')} does not exist (set the whole object with JSON instead)`);
        }
        node = node[key];
      }
    } else {
      throw fail(`cannot go into ${here}: it is ${describe(node)}, not an object or array`);
    }
  }
  return root;
}
