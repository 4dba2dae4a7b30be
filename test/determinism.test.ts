// Determinism (DESIGN.md, "Invariants"): the same experiment and seed give the same run, in
// memory and as byte-identical Arrow files through the real CLI; another replicate or seed gives
// another run; and the random streams are separate, so a behaviour-only parameter never moves the
// fundamental price path.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, test } from 'vitest';
import type { ExperimentInput } from '../src/experiment/schema.ts';
import { parseExperiment } from '../src/experiment/load.ts';
import { buildGraph } from '../src/graph/build.ts';
import { simulateRun, worldFor } from '../src/engine/simulate.ts';
import { step } from '../src/engine/step.ts';
import type { RunResult } from '../src/engine/record.ts';
import { minimalExperiment } from './fixtures/minimalExperiment.ts';

const CLI = fileURLToPath(new URL('../src/cli/contagion.js', import.meta.url));
const WORK = mkdtempSync(join(tmpdir(), 'contagion-determinism-'));
const CLI_TIMEOUT = 60_000;

afterAll(() => rmSync(WORK, { recursive: true, force: true }));

type TypedArray = Float64Array | Int32Array | Uint8Array;

/** The bytes of a typed array's first `length` elements (NaN payloads and −0 included). */
function bytes(a: TypedArray, length = a.length): Buffer {
  return Buffer.from(a.buffer, a.byteOffset, length * a.BYTES_PER_ELEMENT);
}

/** Every typed-array column of a run's step, price and event tables, by name (events cut to the rows stored). */
function columns(r: RunResult): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const add = (prefix: string, table: object | null, length?: number) => {
    if (table === null) return;
    for (const [k, v] of Object.entries(table)) {
      if (v instanceof Float64Array || v instanceof Int32Array || v instanceof Uint8Array) out.set(`${prefix}.${k}`, bytes(v, length ?? v.length));
    }
  };
  add('steps', r.steps);
  add('prices', r.prices);
  add('events', r.events, r.events.storedRows);
  return out;
}

function experiment(): ExperimentInput {
  const exp = minimalExperiment();
  exp.steps = 60;
  return exp;
}

describe('in memory', () => {
  const exp = parseExperiment(experiment(), 'determinism');
  const graph = buildGraph(exp);

  test('the same experiment and replicate give identical summaries and identical tables', () => {
    for (const replicate of [0, 1]) {
      const a = simulateRun(exp, graph, replicate, { check: false });
      // A fresh graph too: nothing may leak from one run into the next through shared state.
      const b = simulateRun(exp, buildGraph(exp), replicate, { check: false });
      expect(b.summary).toEqual(a.summary);
      expect(b.seed).toBe(a.seed);
      expect(b.events.length).toBe(a.events.length);
      expect(a.events.length).toBeGreaterThan(0);
      const ca = columns(a);
      const cb = columns(b);
      // steps (12 columns), prices (3), events (10) are all there.
      expect(ca.size).toBeGreaterThanOrEqual(25);
      expect([...cb.keys()]).toEqual([...ca.keys()]);
      for (const [name, buf] of ca) expect(cb.get(name)!.equals(buf), name).toBe(true);
    }
  });

  test('different replicates give different runs', () => {
    const a = simulateRun(exp, graph, 0, { check: false });
    const b = simulateRun(exp, graph, 1, { check: false });
    expect(b.seed).not.toBe(a.seed);
    expect(b.summary).not.toEqual(a.summary);
    expect(bytes(b.prices!.fundamental).equals(bytes(a.prices!.fundamental))).toBe(false);
    // Not merely a different last step: the paths part at step 0 already.
    expect(b.prices!.fundamental[0]).not.toBe(a.prices!.fundamental[0]);
  });
});

describe('through the CLI', () => {
  const file = join(WORK, 'experiment.json');
  writeFileSync(file, JSON.stringify({ ...experiment(), runs: 2 }, null, 2));

  function run(out: string, ...extra: string[]): void {
    const r = spawnSync(process.execPath, [CLI, 'run', file, '--out', out, '--quiet', ...extra], {
      cwd: WORK,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NO_COLOR: '1' },
      timeout: CLI_TIMEOUT,
    });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('2 runs done');
  }

  const arrowFiles = (dir: string) => readdirSync(dir).filter((f) => f.endsWith('.arrow')).sort();
  const manifest = (dir: string) => JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Record<string, unknown>;

  test('two runs of the same file write byte-identical Arrow files; manifests differ only in their times', { timeout: 3 * CLI_TIMEOUT }, () => {
    const dir1 = join(WORK, 'out1');
    const dir2 = join(WORK, 'out2');
    run(dir1);
    run(dir2);
    const files = arrowFiles(dir1);
    expect(files).toEqual(['attribution.arrow', 'cohorts.arrow', 'events.arrow', 'prices.arrow', 'runs.arrow', 'steps.arrow']);
    expect(arrowFiles(dir2)).toEqual(files);
    for (const f of files) {
      const a = readFileSync(join(dir1, f));
      const b = readFileSync(join(dir2, f));
      expect(a.length, f).toBeGreaterThan(0);
      expect(b.equals(a), `${f} differs between the two runs`).toBe(true);
    }
    const m1 = manifest(dir1);
    const m2 = manifest(dir2);
    for (const m of [m1, m2]) {
      expect(typeof m.started_at).toBe('string');
      expect(typeof m.finished_at).toBe('string');
      delete m.started_at;
      delete m.finished_at;
    }
    expect(m2).toEqual(m1);
    expect(m1.runs_done).toBe(2);
  });

  test('another --seed writes a different runs.arrow', { timeout: 2 * CLI_TIMEOUT }, () => {
    const dir1 = join(WORK, 'seed-default');
    const dir3 = join(WORK, 'seed-7');
    run(dir1);
    run(dir3, '--seed', '7');
    expect(manifest(dir3).experiment).toMatchObject({ seed: 7 });
    const a = readFileSync(join(dir1, 'runs.arrow'));
    const b = readFileSync(join(dir3, 'runs.arrow'));
    expect(b.equals(a)).toBe(false);
  });
});

describe('separate random streams', () => {
  /** Fundamental and market prices after every step (stepping by hand), and the run's event count. */
  function fundamentalPath(topUpProbability: number): { path: Float64Array; events: number; market: Float64Array } {
    const raw = experiment();
    const degens = raw.scenario.traders[0]!;
    if (degens.kind !== 'directional') throw new Error('fixture changed: traders[0] is not directional');
    degens.marginCall = { ...degens.marginCall, topUpProbability };
    const exp = parseExperiment(raw, 'determinism');
    const w = worldFor(exp, buildGraph(exp), 0);
    const path = new Float64Array(w.steps * w.nAssets);
    const market = new Float64Array(w.steps * w.nAssets);
    for (let s = 0; s < w.steps; s++) {
      w.step = s;
      step(w);
      path.set(w.fundamental, s * w.nAssets);
      market.set(w.market, s * w.nAssets);
    }
    return { path, events: w.events.length, market };
  }

  test('changing a behaviour-only parameter (topUpProbability) leaves the fundamental path identical at every step', () => {
    const never = fundamentalPath(0);
    const always = fundamentalPath(1);
    // The behaviour did change the run, market prices included (deleveraging sells into the
    // book), otherwise the test would prove nothing…
    expect(always.events).not.toBe(never.events);
    expect(bytes(always.market).equals(bytes(never.market))).toBe(false);
    // …but not one fundamental price, bit for bit.
    expect(bytes(always.path).equals(bytes(never.path))).toBe(true);
    for (let i = 0; i < never.path.length; i++) expect(always.path[i], `fundamental price ${i}`).toBe(never.path[i]);
  });
});
