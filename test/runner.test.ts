// The Monte Carlo runner: output identical whatever the worker count, shards merged back equal to
// one run, a SIGKILLed run resumed equal to an uninterrupted one, common random numbers across
// sweep points, failures isolated and reported, and the cluster scripts driving real shards.
import { afterAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { ExperimentInput } from '../src/experiment/schema.ts';
import { parseExperiment } from '../src/experiment/load.ts';
import { experimentHash, partsHash, runExperiment, RunInterrupted } from '../src/runner/runExperiment.ts';
import { DiskFullError, ExperimentError } from '../src/experiment/errors.ts';
import { deriveSeed, Streams } from '../src/experiment/seeds.ts';
import { engineHash } from '../src/runner/engineHash.ts';
import { replicateSeeds } from '../src/engine/simulate.ts';
import { describeError } from '../src/cli/exit.ts';
import { SOURCE_WORKER_URL, workerScriptUrl } from '../src/runner/workerBundle.ts';
import { bundleFile } from '../src/cli/bundle.js';
import { fileURLToPath } from 'node:url';
import { Worker, type WorkerOptions } from 'node:worker_threads';
import { runPool, WorkerPool, workerOptions } from '../src/runner/pool.ts';
import { mergeResults } from '../src/runner/merge.ts';
import { lockFolder } from '../src/runner/folderLock.ts';
import { parseOnly, parseShard, PlanBits, planRuns, RunPlan, runOrdinal, shardFromEnvironment } from '../src/runner/plan.ts';
import fc from 'fast-check';
import './fixtures/fcSeed.ts';
import { columnToArray, readArrowTable } from '../src/io/readArrow.ts';
import { listParts, partPath, readPart } from '../src/io/parts.ts';
import { executeRun, executeRunOverlapped, makeContext, type RunOutcome } from '../src/runner/execute.ts';
import { expandSweep, pointExperiment, type SweepPoint } from '../src/experiment/sweep.ts';
import { minimalExperiment } from './fixtures/minimalExperiment.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const CLI = path.join(ROOT, 'src', 'cli', 'contagion.js');
const TABLES = ['attribution.arrow', 'cohorts.arrow', 'events.arrow', 'prices.arrow', 'runs.arrow', 'steps.arrow'];
const tmpDirs: string[] = [];
function tmp(prefix = 'contagion-runner-'): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  tmpDirs.push(d);
  return d;
}
afterAll(() => {
  for (const d of tmpDirs) fs.rmSync(d, { recursive: true, force: true });
});

/** The minimal experiment with a 2-point grid over the insurance fund: 2 points × `runs` replicates. */
function sweepInput(runs = 3, steps = 40): ExperimentInput {
  const e = minimalExperiment();
  e.runs = runs;
  e.steps = steps;
  (e as Record<string, unknown>).sweep = { kind: 'grid', parameters: { 'scenario.insuranceFunds.0.initialUsd': [1000, 1_000_000] } };
  return e;
}

const opts = (outDir: string, extra: Partial<Parameters<typeof runExperiment>[1]> = {}) => ({
  outDir,
  check: false,
  overrides: [],
  source: 'test',
  ...extra,
});

/** What `p` rejects with; null when it resolves (the assertions after say what was expected). */
const rejectionOf = (p: Promise<unknown>): Promise<unknown> =>
  p.then(
    () => null,
    (e: unknown) => e,
  );

/** Both folders hold the same Arrow files, byte for byte: every table the runner writes, none missing. */
function expectSameArrow(a: string, b: string): void {
  const arrowFiles = (dir: string) => fs.readdirSync(dir).filter((f) => f.endsWith('.arrow')).sort();
  expect(arrowFiles(a)).toEqual(TABLES);
  expect(arrowFiles(b)).toEqual(TABLES);
  for (const t of TABLES) {
    const fa = fs.readFileSync(path.join(a, t));
    const fb = fs.readFileSync(path.join(b, t));
    expect(fa.equals(fb), `${t} differs between ${a} and ${b}`).toBe(true);
  }
}

describe('planning runs', () => {
  it('Shards partition the runs: disjoint, and together every run once', () => {
    const all = planRuns(5, 7, null, null);
    expect(all).toHaveLength(35);
    const shards = [0, 1, 2, 3].map((i) => planRuns(5, 7, { index: i, count: 4 }, null));
    expect(shards.map((s) => s.length)).toEqual([9, 9, 9, 8]);
    const keys = shards.flat().map((k) => `${k.point}/${k.replicate}`);
    expect(new Set(keys).size).toBe(35);
  });
  it('A RunPlan covers the runs planRuns lists, in the same order, without listing them (random sizes, shards and --only)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 1, max: 40 }),
        fc.option(fc.integer({ min: 1, max: 9 }).chain((count) => fc.record({ index: fc.integer({ min: 0, max: count - 1 }), count: fc.constant(count) }))),
        fc.option(fc.record({ point: fc.integer({ min: 0, max: 14 }), replicate: fc.integer({ min: 0, max: 45 }) })),
        (points, runs, shard, only) => {
          const listed = planRuns(points, runs, shard, only);
          const plan = new RunPlan(points, runs, shard, only);
          expect(plan.count).toBe(listed.length);
          listed.forEach((k, i) => {
            const o = plan.ordinal(i);
            expect({ point: plan.pointOf(o), replicate: plan.replicateOf(o) }).toEqual(k);
            expect(plan.indexOf(runOrdinal(k, runs))).toBe(i);
          });
          // Every run it does not cover has no index.
          const covered = new Set(listed.map((k) => runOrdinal(k, runs)));
          for (let o = 0; o < points * runs; o++) if (!covered.has(o)) expect(plan.indexOf(o)).toBe(-1);
        },
      ),
      { numRuns: 300 },
    );
    // The bits the runner keeps per run: 10 of 20 set, each once.
    const bits = new PlanBits(20);
    for (const i of [0, 3, 7, 8, 9, 15, 16, 17, 18, 19, 3, 19]) bits.set(i);
    expect(bits.count).toBe(10);
    expect(Array.from({ length: 20 }, (_, i) => (bits.has(i) ? 1 : 0)).join('')).toBe('10010001110000011111');
  });
  it('Refuses an experiment of more than 2^31 − 1 runs as bad input, before it makes its folder', async () => {
    // 2 points × 1.1e9 replicates: before, the list of runs ran the process out of memory (a native crash).
    const exp = parseExperiment({ ...sweepInput(1, 20), runs: 1_100_000_000 }, 'huge');
    const dir = path.join(tmp(), 'out');
    await expect(runExperiment(exp, opts(dir))).rejects.toThrow(/runs: 2 point\(s\) × 1100000000 replicates is 2200000000 runs: expected at most 2147483647/);
    expect(fs.existsSync(dir)).toBe(false);
  });
  it('Reads the shard from Slurm and Kubernetes variables', () => {
    const shardFromEnv = (env: NodeJS.ProcessEnv) => shardFromEnvironment(env)?.shard ?? null;
    // A Slurm array submitted as --array=1-4: task 3 is the third slice (index 2) of 4.
    expect(shardFromEnv({ SLURM_ARRAY_TASK_ID: '3', SLURM_ARRAY_TASK_MIN: '1', SLURM_ARRAY_TASK_COUNT: '4' })).toEqual({ index: 2, count: 4 });
    expect(shardFromEnv({ JOB_COMPLETION_INDEX: '0', CONTAGION_SHARDS: '2' })).toEqual({ index: 0, count: 2 });
    expect(shardFromEnv({})).toBeNull();
    // --array=0-6:2: indices 0, 2, 4, 6, so index 4 is the third slice (2) of 4.
    expect(shardFromEnv({ SLURM_ARRAY_TASK_ID: '4', SLURM_ARRAY_TASK_MIN: '0', SLURM_ARRAY_TASK_MAX: '6', SLURM_ARRAY_TASK_STEP: '2', SLURM_ARRAY_TASK_COUNT: '4' })).toEqual({ index: 2, count: 4 });
    // --array=1,3 submitted again from an array of 4 (indices 1 and 3, 2 tasks, step 1): not one range, refused.
    expect(() => shardFromEnv({ SLURM_ARRAY_TASK_ID: '1', SLURM_ARRAY_TASK_MIN: '1', SLURM_ARRAY_TASK_MAX: '3', SLURM_ARRAY_TASK_STEP: '1', SLURM_ARRAY_TASK_COUNT: '2' })).toThrow(
      /indices 1…3 in steps of 1 is not one evenly spaced range.*pass --shard I\/N/,
    );
    expect(() => shardFromEnv({ SLURM_ARRAY_TASK_ID: '3', SLURM_ARRAY_TASK_MIN: '0', SLURM_ARRAY_TASK_STEP: '2', SLURM_ARRAY_TASK_COUNT: '4' })).toThrow(/not one evenly spaced/);
    expect(shardFromEnvironment({ JOB_COMPLETION_INDEX: '1', CONTAGION_SHARDS: '3' })).toEqual({ shard: { index: 1, count: 3 }, from: 'JOB_COMPLETION_INDEX/CONTAGION_SHARDS' });
    expect(() => shardFromEnv({ JOB_COMPLETION_INDEX: '1' })).toThrow(/set CONTAGION_SHARDS to the Job's completions/);
    expect(() => parseShard('4/4')).toThrow(/0 ≤ I < N/);
    expect(parseOnly('point=2,replicate=5')).toEqual({ point: 2, replicate: 5 });
    expect(() => parseOnly('p=2')).toThrow(/point=P,replicate=R/);
  });
});

describe('the runner', () => {
  const exp = parseExperiment(sweepInput(), 'sweep');

  it('Writes byte-identical files with 1 and 2 workers', async () => {
    const one = tmp();
    const two = tmp();
    const r1 = await runExperiment(exp, opts(one, { workers: 1 }));
    const r2 = await runExperiment(exp, opts(two, { workers: 2 }));
    expect(r1.runsDone).toBe(6);
    expect(r2.runsDone).toBe(6);
    expectSameArrow(one, two);
    const manifest = JSON.parse(fs.readFileSync(path.join(two, 'manifest.json'), 'utf8'));
    expect(manifest.workers).toBe(2);
    expect(manifest.runs_done).toBe(6);
    // Rows are ordered by point, then replicate; the swept value is a column.
    const runs = readArrowTable(path.join(one, 'runs.arrow'));
    expect(columnToArray(runs, 'point_index')).toEqual([0, 0, 0, 1, 1, 1]);
    expect(columnToArray(runs, 'replicate')).toEqual([0, 1, 2, 0, 1, 2]);
    expect(columnToArray(runs, 'p_scenario_insurance_funds_0_initial_usd')).toEqual([1000, 1000, 1000, 1e6, 1e6, 1e6]);
  }, 60_000);

  it('Workers start from one bundle of the sources, and give the same bytes as workers that load the sources through tsx', async () => {
    // The bundle is made (no silent fall-back to the slow path), once per process.
    const url = await workerScriptUrl();
    expect(url.href).toMatch(/\/node_modules\/\.cache\/contagion\/workerMain-[0-9a-f]{16}\.mjs$/);
    expect(await workerScriptUrl()).toBe(url);
    // Workers get each point's experiment validated by the main thread: their bundle leaves zod out
    // (loading it and building the schemas was ~0.1 s of every worker's start), and graphology in.
    const code = fs.readFileSync(url, 'utf8');
    expect(code).toMatch(/^import \{ MultiDirectedGraph \} from "graphology";$/m);
    expect(code).not.toMatch(/from "zod"/);
    const bundled = tmp();
    const sources = tmp();
    await runExperiment(exp, opts(bundled, { workers: 2 }));
    process.env.CONTAGION_WORKER_SOURCES = '1';
    try {
      expect(await workerScriptUrl()).toBe(SOURCE_WORKER_URL);
      await runExperiment(exp, opts(sources, { workers: 2 }));
    } finally {
      delete process.env.CONTAGION_WORKER_SOURCES;
    }
    expectSameArrow(bundled, sources);
  }, 60_000);

  it('Writes byte-identical files with event-driven and every-step margin checks, and records which', async () => {
    const event = tmp();
    const every = tmp();
    await runExperiment(exp, opts(event, { workers: 1 }));
    await runExperiment(exp, opts(every, { workers: 2, marginChecks: 'every-step' }));
    expectSameArrow(event, every);
    expect(JSON.parse(fs.readFileSync(path.join(event, 'manifest.json'), 'utf8')).margin_checks).toBe('event');
    expect(JSON.parse(fs.readFileSync(path.join(every, 'manifest.json'), 'utf8')).margin_checks).toBe('every-step');
  }, 60_000);

  it('Merges shards 0..3 of 4 into files identical to the unsharded run', async () => {
    const whole = tmp();
    await runExperiment(exp, opts(whole, { workers: 1 }));
    const shardDirs = [0, 1, 2, 3].map(() => tmp());
    for (let i = 0; i < 4; i++) {
      const r = await runExperiment(exp, opts(shardDirs[i]!, { workers: 1, shard: { index: i, count: 4 } }));
      expect(r.runsDone).toBe(i < 2 ? 2 : 1);
    }
    const merged = tmp();
    const m = await mergeResults(shardDirs, merged);
    expect(m.runs).toBe(6);
    expectSameArrow(whole, merged);
    // Merging without shard 3 is refused and names what is missing: ordinal 3 = point 1, replicate 0.
    await expect(mergeResults(shardDirs.slice(0, 3), tmp())).rejects.toThrow(/runs: missing from every folder \(point=1,replicate=0\)/);
  }, 60_000);

  it('Merges shards with a failed run: the failure is listed, not missing, and the files equal the unsharded run with that failure', async () => {
    // Run 1/1 (ordinal 4, shard 0 of 2) fails in both the whole run and the shards.
    process.env.CONTAGION_FAIL_RUNS = '1/1';
    const whole = tmp();
    const shardDirs = [0, 1].map(() => tmp());
    try {
      await runExperiment(exp, opts(whole, { workers: 1 }));
      for (const [i, d] of shardDirs.entries()) await runExperiment(exp, opts(d, { workers: 1, shard: { index: i, count: 2 } }));
    } finally {
      delete process.env.CONTAGION_FAIL_RUNS;
    }
    const merged = tmp();
    expect(await mergeResults(shardDirs, merged)).toEqual({ runs: 5, failed: 1 });
    expectSameArrow(whole, merged);
    const manifest = JSON.parse(fs.readFileSync(path.join(merged, 'manifest.json'), 'utf8'));
    expect(manifest).toMatchObject({ runs_planned: 6, runs_done: 5, runs_failed: 1 });
    expect(manifest.failures).toMatchObject([{ point_index: 1, replicate: 1 }]);
  }, 60_000);

  it('Merges a run that failed in one folder from another that holds it, and counts a failure given twice once', async () => {
    // Run 1/1 (ordinal 4, shard 0 of 2) fails in one attempt of shard 0 and succeeds in a second one.
    const failedShard = tmp();
    process.env.CONTAGION_FAIL_RUNS = '1/1';
    try {
      await runExperiment(exp, opts(failedShard, { workers: 1, shard: { index: 0, count: 2 } }));
    } finally {
      delete process.env.CONTAGION_FAIL_RUNS;
    }
    const [again, other, whole] = [tmp(), tmp(), tmp()];
    await runExperiment(exp, opts(again, { workers: 1, shard: { index: 0, count: 2 } }));
    await runExperiment(exp, opts(other, { workers: 1, shard: { index: 1, count: 2 } }));
    await runExperiment(exp, opts(whole, { workers: 1 }));
    const merged = tmp();
    expect(await mergeResults([failedShard, other, again], merged)).toEqual({ runs: 6, failed: 0 });
    expectSameArrow(whole, merged);
    expect(JSON.parse(fs.readFileSync(path.join(merged, 'manifest.json'), 'utf8')).failures).toEqual([]);
    const twice = tmp();
    expect(await mergeResults([failedShard, failedShard, other], twice)).toEqual({ runs: 5, failed: 1 });
    expect(JSON.parse(fs.readFileSync(path.join(twice, 'manifest.json'), 'utf8')).failures).toMatchObject([{ point_index: 1, replicate: 1 }]);
  }, 60_000);

  it("Refuses to merge into another experiment's results folder, names a shard run with other --runs, and waits for no run writing the folder", async () => {
    const shardDirs = [0, 1].map(() => tmp());
    for (const [i, d] of shardDirs.entries()) await runExperiment(exp, opts(d, { workers: 1, shard: { index: i, count: 2 } }));
    // Another experiment's folder (another seed): its files and manifest stay as they were.
    const other = tmp();
    await runExperiment(parseExperiment({ ...sweepInput(), seed: 99 }, 'other'), opts(other, { workers: 1 }));
    const before = fs.readFileSync(path.join(other, 'manifest.json'), 'utf8');
    const e = await rejectionOf(mergeResults(shardDirs, other));
    expect(e).toBeInstanceOf(ExperimentError);
    expect((e as ExperimentError).issues[0]).toMatchObject({ path: '--out', message: expect.stringMatching(/^holds the results of another experiment \(manifest\.json experiment_hash /) });
    expect(fs.readFileSync(path.join(other, 'manifest.json'), 'utf8')).toBe(before);
    // A folder with only another experiment's parts (a run killed before its manifest) is refused too.
    fs.rmSync(path.join(other, 'manifest.json'));
    await expect(mergeResults(shardDirs, other)).rejects.toThrow(/holds the results of another experiment \(parts\/experiment\.sha256 /);
    // The unsharded run's own folder takes the merge (the same bytes its parts give), not while a command writes it.
    const whole = tmp();
    await runExperiment(exp, opts(whole, { workers: 1 }));
    const held = await lockFolder(whole);
    try {
      await expect(mergeResults(shardDirs, whole)).rejects.toThrow(/another contagion command is writing this folder/);
    } finally {
      held.release();
    }
    const reference = tmp();
    await runExperiment(exp, opts(reference, { workers: 1 }));
    expect(await mergeResults(shardDirs, whole)).toEqual({ runs: 6, failed: 0 });
    expectSameArrow(reference, whole);
    // A shard run with 2 replicates per point where the other has sweepInput()'s 3.
    const fewer = tmp();
    await runExperiment(parseExperiment(sweepInput(2), 'fewer'), opts(fewer, { workers: 1, shard: { index: 1, count: 2 } }));
    await expect(mergeResults([shardDirs[0]!, fewer], tmp())).rejects.toThrow(
      /the same experiment with 2 replicates per point against 3 there; shards of one sweep must share --runs \(run this shard again with --runs 3, or the others with 2\)/,
    );
  }, 60_000);

  it("Refuses to run into a folder holding another experiment's results without parts (a merge's output); the same experiment with more runs is taken", async () => {
    const shardDirs = [0, 1].map(() => tmp());
    for (const [i, d] of shardDirs.entries()) await runExperiment(exp, opts(d, { workers: 1, shard: { index: i, count: 2 } }));
    const merged = tmp();
    await mergeResults(shardDirs, merged);
    const before = fs.readFileSync(path.join(merged, 'manifest.json'), 'utf8');
    const e = await rejectionOf(runExperiment(parseExperiment({ ...sweepInput(), seed: 99 }, 'other'), opts(merged, { workers: 1 })));
    expect((e as ExperimentError).issues[0]).toMatchObject({ path: '--out', message: expect.stringMatching(/^holds the results of another experiment \(its manifest\.json/) });
    expect(fs.readFileSync(path.join(merged, 'manifest.json'), 'utf8')).toBe(before);
    expect(fs.existsSync(path.join(merged, 'parts'))).toBe(false);
    // More replicates of the merged experiment: its runs are computed here (the folder has no parts).
    const r = await runExperiment(parseExperiment(sweepInput(4), 'more'), opts(merged, { workers: 1 }));
    expect([r.planned, r.resumed]).toEqual([8, 0]);
  }, 60_000);

  it('Gives each replicate the same random streams at every point (common random numbers)', async () => {
    const dir = tmp();
    await runExperiment(exp, opts(dir, { workers: 1 }));
    const prices = readArrowTable(path.join(dir, 'prices.arrow'));
    const point = columnToArray(prices, 'point_index') as number[];
    const rep = columnToArray(prices, 'replicate') as number[];
    const f = columnToArray(prices, 'fundamental_price') as number[];
    const path0 = f.filter((_, i) => point[i] === 0 && rep[i] === 1);
    const path1 = f.filter((_, i) => point[i] === 1 && rep[i] === 1);
    expect(path0.length).toBeGreaterThan(0);
    expect(path1).toEqual(path0);
    // Independent points mix the point into the seed: the paths then differ.
    const indep = parseExperiment({ ...sweepInput(), independentPoints: true } as ExperimentInput, 'indep');
    const dir2 = tmp();
    await runExperiment(indep, opts(dir2, { workers: 1 }));
    const p2 = readArrowTable(path.join(dir2, 'prices.arrow'));
    const pt2 = columnToArray(p2, 'point_index') as number[];
    const r2 = columnToArray(p2, 'replicate') as number[];
    const f2 = columnToArray(p2, 'fundamental_price') as number[];
    expect(f2.filter((_, i) => pt2[i] === 1 && r2[i] === 1)).not.toEqual(f2.filter((_, i) => pt2[i] === 0 && r2[i] === 1));
  }, 60_000);

  it('Adding or reordering points leaves every other run unchanged', async () => {
    const summaryByValue = async (values: number[]) => {
      const e = sweepInput(2);
      (e as Record<string, unknown>).sweep = { kind: 'grid', parameters: { 'scenario.insuranceFunds.0.initialUsd': values } };
      const dir = tmp();
      await runExperiment(parseExperiment(e, 'reorder'), opts(dir, { workers: 1 }));
      const t = readArrowTable(path.join(dir, 'runs.arrow'));
      const v = columnToArray(t, 'p_scenario_insurance_funds_0_initial_usd') as number[];
      const r = columnToArray(t, 'replicate') as number[];
      const bad = columnToArray(t, 'total_bad_debt_usd') as number[];
      const liq = columnToArray(t, 'liquidation_volume_usd') as number[];
      return new Map(v.map((x, i) => [`${x}/${r[i]}`, [bad[i], liq[i]]]));
    };
    const a = await summaryByValue([1000, 1_000_000]);
    const b = await summaryByValue([50_000, 1_000_000, 1000]);
    expect([...a.keys()].sort()).toEqual(['1000/0', '1000/1', '1000000/0', '1000000/1']);
    expect(b.size).toBe(6);
    for (const key of a.keys()) expect(b.get(key), key).toEqual(a.get(key));
    // …while the two points' runs differ from each other, so equal runs are not all the test sees.
    expect(a.get('1000/0')).not.toEqual(a.get('1000000/0'));
  }, 60_000);

  it('Says how many runs it covers and how many were already done before any run starts', async () => {
    // 2 points × 2 replicates = 4 runs, ordinals 0…3 (point × 2 + replicate). Shard 0/2 takes the even
    // ordinals: 2 runs, none done yet. The whole sweep into the same folder then covers 4, of which
    // those 2 are resumed; so the progress bar starts at 2/4, not 0/2 (a bar sized from the runs per
    // point showed 0/25 on a 100-run sweep until the first run ended).
    const exp = parseExperiment(sweepInput(2, 20), 'on-start');
    const dir = tmp();
    const seen: string[] = [];
    const record = { onStart: (s: { planned: number; resumed: number }) => seen.push(`start ${s.planned}/${s.resumed}`), onProgress: () => seen.push('progress') };
    await runExperiment(exp, opts(dir, { workers: 1, shard: { index: 0, count: 2 }, ...record }));
    expect(seen).toEqual(['start 2/0', 'progress', 'progress']);
    seen.length = 0;
    const r = await runExperiment(exp, opts(dir, { workers: 2, ...record }));
    expect(seen).toEqual(['start 4/2', 'progress', 'progress']);
    expect(r.resumed).toBe(2);
  }, 60_000);

  it('Stops when its signal aborts: no run starts after it, the count on disk is said, and the same command resumes to the uninterrupted files', async () => {
    // 2 points × 6 replicates = 12 runs; aborted when the 4th outcome arrives.
    const exp = parseExperiment(sweepInput(6, 40), 'abort');
    const clean = tmp();
    await runExperiment(exp, opts(clean, { workers: 2 }));
    for (const workers of [1, 2]) {
      const dir = tmp();
      const controller = new AbortController();
      const stopAt4 = (p: { done: number }) => {
        if (p.done === 4) controller.abort();
      };
      const e = await rejectionOf(runExperiment(exp, opts(dir, { workers, signal: controller.signal, onProgress: stopAt4 })));
      expect(e).toBeInstanceOf(RunInterrupted);
      const { committed, planned } = e as RunInterrupted;
      const onDisk = listParts(dir).length;
      expect(planned).toBe(12);
      expect(committed).toBe(onDisk);
      // In this thread a run is started only after the previous outcome: the 4 done are all there are.
      // Workers each hold up to 2 runs, which they may commit before they are terminated: at most 4 more.
      if (workers === 1) expect(committed).toBe(4);
      else {
        expect(committed).toBeGreaterThanOrEqual(4);
        expect(committed).toBeLessThanOrEqual(8);
      }
      // Neither the Arrow files nor their temporaries, nor a part left half-written.
      expect(fs.readdirSync(dir).sort()).toEqual(['parts']);
      expect(fs.readdirSync(path.join(dir, 'parts')).filter((f) => f.endsWith('.tmp'))).toEqual([]);
      const resumed = await runExperiment(exp, opts(dir, { workers }));
      expect(resumed.resumed).toBe(committed);
      expect(resumed.runsDone).toBe(12);
      expectSameArrow(clean, dir);
    }
    // Aborted once every run is done: the command completes (the abort is not an error then).
    const late = new AbortController();
    const dir = tmp();
    const r = await runExperiment(exp, opts(dir, { workers: 1, signal: late.signal, onProgress: (p) => p.done === 12 && late.abort() }));
    expect(r.runsDone).toBe(12);
    expectSameArrow(clean, dir);
  }, 60_000);

  it('Adds replicates to a finished sweep: with more runs the same experiment resumes its folder and runs only the new ones; with fewer it uses the first', async () => {
    // A replicate's part does not depend on how many replicates there are (its seeds come from its own
    // index), so the folder is stamped with the experiment's hash less "runs".
    const three = parseExperiment(sweepInput(3, 20), 'more');
    const six = parseExperiment(sweepInput(6, 20), 'more');
    const two = parseExperiment(sweepInput(2, 20), 'more');
    const fresh6 = tmp();
    await runExperiment(six, opts(fresh6, { workers: 2 }));
    const fresh2 = tmp();
    await runExperiment(two, opts(fresh2, { workers: 1 }));
    const dir = tmp();
    await runExperiment(three, opts(dir, { workers: 1 }));
    const more = await runExperiment(six, opts(dir, { workers: 2 }));
    expect(more.resumed).toBe(6); // 2 points × 3 replicates already there
    expect(more.runsDone).toBe(12);
    expectSameArrow(fresh6, dir);
    const fewer = await runExperiment(two, opts(dir, { workers: 1 }));
    expect(fewer.resumed).toBe(4);
    expect(fewer.runsDone).toBe(4);
    expectSameArrow(fresh2, dir);
    // The manifest still names the whole experiment, runs included.
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8')).experiment_hash).toBe(experimentHash(two));
    // A folder stamped by an earlier version (the whole experiment's hash) is taken and restamped.
    const stamp = path.join(dir, 'parts', 'experiment.sha256');
    expect(fs.readFileSync(stamp, 'utf8')).toBe(`${partsHash(two)}\n`);
    fs.writeFileSync(stamp, `${experimentHash(two)}\n`);
    expect((await runExperiment(two, opts(dir, { workers: 1 }))).resumed).toBe(4);
    expect(fs.readFileSync(stamp, 'utf8')).toBe(`${partsHash(two)}\n`);
    // Another seed is another experiment, whatever the runs.
    const reseeded = parseExperiment({ ...sweepInput(6, 20), seed: 8 }, 'more');
    await expect(runExperiment(reseeded, opts(dir, { workers: 1 }))).rejects.toThrow(/--out: holds runs of another experiment/);
  }, 60_000);

  it('Refuses to resume or merge runs of another build: the folder and manifest name the build that computed them', async () => {
    // A resumed sweep equals an uninterrupted one only if one build computed every part.
    const exp = parseExperiment(sweepInput(2, 20), 'build');
    const dir = tmp();
    await runExperiment(exp, opts(dir, { workers: 1 }));
    const stamp = path.join(dir, 'parts', 'engine.sha256');
    const build = engineHash();
    expect(fs.readFileSync(stamp, 'utf8')).toBe(`${build}\n`);
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8')).engine_sha256).toBe(build);
    const other = 'f'.repeat(64);
    fs.writeFileSync(stamp, `${other}\n`);
    const refused = await rejectionOf(runExperiment(exp, opts(dir, { workers: 1 })));
    expect(refused).toBeInstanceOf(ExperimentError);
    expect((refused as Error).message).toContain(`--out: holds runs computed by another build of contagion (its sources, dependencies or Node's V8; sha256 ffffffffffff…, this build's ${build.slice(0, 12)}…)`);
    // A folder from before the stamp is taken as it is, and stamped.
    fs.rmSync(stamp);
    expect((await runExperiment(exp, opts(dir, { workers: 1 }))).resumed).toBe(4);
    expect(fs.readFileSync(stamp, 'utf8')).toBe(`${build}\n`);
    // Merge: two shards whose manifests name different builds.
    const shards = [0, 1].map(() => tmp());
    for (const [i, d] of shards.entries()) await runExperiment(exp, opts(d, { workers: 1, shard: { index: i, count: 2 } }));
    const manifest1 = path.join(shards[1]!, 'manifest.json');
    fs.writeFileSync(manifest1, JSON.stringify({ ...JSON.parse(fs.readFileSync(manifest1, 'utf8')), engine_sha256: other }));
    await expect(mergeResults(shards, tmp())).rejects.toThrow(/the folders were computed by different builds of contagion/);
  }, 60_000);

  it('Hashes the build from the sources that decide a run, not from the commands or reports', () => {
    // A copy of a package: src/engine, src/cli, src/analysis and a package.json.
    const root = tmp();
    for (const d of ['src/engine', 'src/cli', 'src/analysis']) fs.mkdirSync(path.join(root, d), { recursive: true });
    fs.writeFileSync(path.join(root, 'package.json'), JSON.stringify({ dependencies: { seedrandom: '3.0.5' } }));
    fs.writeFileSync(path.join(root, 'src/engine/step.ts'), 'export const a = 1;\n');
    fs.writeFileSync(path.join(root, 'src/cli/main.ts'), 'export const b = 1;\n');
    fs.writeFileSync(path.join(root, 'src/analysis/table.ts'), 'export const c = 1;\n');
    const h0 = engineHash(root);
    expect(h0).toMatch(/^[0-9a-f]{64}$/);
    fs.writeFileSync(path.join(root, 'src/cli/main.ts'), 'export const b = 2;\n');
    fs.writeFileSync(path.join(root, 'src/analysis/table.ts'), 'export const c = 2;\n');
    expect(engineHash(root)).toBe(h0);
    fs.writeFileSync(path.join(root, 'src/engine/step.ts'), 'export const a = 2;\n');
    const h1 = engineHash(root);
    expect(h1).not.toBe(h0);
    fs.writeFileSync(path.join(root, 'src/engine/new.ts'), '\n');
    expect(engineHash(root)).not.toBe(h1);
    // The installed version of a dependency counts (seedrandom's streams are the runs' randomness).
    const h2 = engineHash(root);
    fs.mkdirSync(path.join(root, 'node_modules', 'seedrandom'), { recursive: true });
    fs.writeFileSync(path.join(root, 'node_modules', 'seedrandom', 'package.json'), JSON.stringify({ version: '3.0.5' }));
    expect(engineHash(root)).not.toBe(h2);
  });

  it('Keeps the manifest the same size whatever the number of runs: the seeds are a rule that gives every run its seed in runs.arrow', async () => {
    // Schema 3 listed each run's seeds (~230 bytes a run): 251 MB at 10^6 runs, and past ~2.1M runs a
    // string longer than V8 allows, so such a sweep failed when it wrote its manifest, at the very end.
    const small = tmp();
    const large = tmp();
    await runExperiment(parseExperiment(sweepInput(1, 20), 'seeds'), opts(small, { workers: 1 })); // 2 runs
    await runExperiment(parseExperiment(sweepInput(30, 20), 'seeds'), opts(large, { workers: 2 })); // 60 runs
    const read = (d: string) => fs.readFileSync(path.join(d, 'manifest.json'), 'utf8');
    // What differs is numbers (runs, file sizes, times): 58 more runs listed would be ~13 KB more.
    expect(Math.abs(read(large).length - read(small).length)).toBeLessThan(100);
    const m = JSON.parse(read(large));
    expect(m.runs).toBeUndefined();
    expect(m.runs_done).toBe(60);
    expect(m.seeds.streams).toEqual(Streams);
    expect(m.seeds.independent_points).toBe(false);
    // The rule reproduces runs.arrow's seed column, and the worked example every stream of replicate 0.
    const runs = readArrowTable(path.join(large, 'runs.arrow'));
    const replicates = columnToArray(runs, 'replicate') as number[];
    const seeds = columnToArray(runs, 'seed') as number[];
    expect(seeds).toHaveLength(60);
    replicates.forEach((r, i) => expect(seeds[i]).toBe(deriveSeed(m.seeds.experiment_seed, r, m.seeds.streams.replicate)));
    expect(m.seeds.example).toEqual({ point_index: 0, replicate: 0, seeds: replicateSeeds(m.seeds.experiment_seed, 0) });
  }, 60_000);

  it('A worker that dies loses only the run that killed it: what it had not reported is sent again, each run alone, and the one that kills a worker alone is reported failed; the files equal a run where that one failed', async () => {
    // Before, the dead worker's oldest unreported run was reported failed: the run before the killer,
    // whose part it was still committing (10 runs done, not 11), while the killer went to the next worker.
    const exp = parseExperiment(sweepInput(6, 40), 'worker-dies');
    const failedOnly = tmp();
    const died = tmp();
    try {
      process.env.CONTAGION_FAIL_RUNS = '0/3';
      await runExperiment(exp, opts(failedOnly, { workers: 2 }));
      process.env.CONTAGION_FAIL_RUNS = '0/3:EXIT';
      const r = await runExperiment(exp, opts(died, { workers: 2 }));
      expect(r.runsDone).toBe(11);
      expect(r.failures).toEqual([{ point: 0, replicate: 3, seed: 0, error: 'worker died: exit code 70' }]);
    } finally {
      delete process.env.CONTAGION_FAIL_RUNS;
    }
    expect(listParts(died)).toHaveLength(11);
    expectSameArrow(failedOnly, died);
  }, 60_000);

  it('A pool runs batch after batch on the workers it started, each batch as a pool of its own would; a worker that dies is replaced and only the run that killed it fails', async () => {
    // size-fund's rounds are batches on one pool (sizeFund.ts): its workers start, and compile, once.
    const exp = parseExperiment(sweepInput(3, 40), 'pool-batches'); // points 0 and 1 × replicates 0…2
    const [p0, p1] = expandSweep(exp) as [SweepPoint, SweepPoint];
    const experimentOf = (p: SweepPoint) => pointExperiment(exp, p);
    const batch = (point: SweepPoint) => {
      let r = 0;
      return { count: 3, next: () => (r < 3 ? { point, replicate: r++ } : undefined) };
    };
    const byRun = (os: RunOutcome[]) => [...os].sort((a, b) => a.point - b.point || a.replicate - b.replicate);
    const init = (outDir: string) => {
      fs.mkdirSync(path.join(outDir, 'parts'), { recursive: true });
      return { base: exp, outDir, check: false, marginChecks: 'event' as const };
    };
    // A fresh pool per batch, nothing failing: the reference.
    const fresh = tmp();
    const expected: RunOutcome[] = [];
    for (const p of [p0, p1]) await runPool(2, init(fresh), batch(p), (o) => expected.push(o), experimentOf);
    // One pool for three batches; the worker that runs point 1's replicate 1 dies (workers copy the
    // environment when they start, so it is set before the pool starts any).
    const kept = tmp();
    const pool = new WorkerPool(2, init(kept));
    const got: RunOutcome[][] = [[], [], []];
    process.env.CONTAGION_FAIL_RUNS = '1/1:EXIT';
    try {
      const first = pool.run(batch(p0), (o) => got[0]!.push(o), experimentOf);
      // One batch at a time, from the call on (the first is still finding its worker script here).
      await expect(pool.run(batch(p1), () => {}, experimentOf)).rejects.toThrow('already running one');
      await first;
      expect(pool.workersStarted).toBe(2);
      await pool.run(batch(p1), (o) => got[1]!.push(o), experimentOf);
      await pool.run(batch(p0), (o) => got[2]!.push(o), experimentOf);
      // Run 1/1 killed two workers: the first with it in flight, the second with it alone (so it is the
      // culprit). Each was replaced, in batch 2 while it had work left, else as batch 3 began: 2 + 2.
      expect(pool.workersStarted).toBe(4);
    } finally {
      delete process.env.CONTAGION_FAIL_RUNS;
      await pool.close();
    }
    const ref = byRun(expected);
    expect(byRun(got[0]!)).toEqual(ref.slice(0, 3));
    expect(byRun(got[2]!)).toEqual(ref.slice(0, 3));
    expect(byRun(got[1]!)).toEqual([ref[3], { point: 1, replicate: 1, seed: 0, ok: false, error: 'worker died: exit code 70' }, ref[5]]);
    for (const [p, r] of [[0, 0], [0, 1], [0, 2], [1, 0], [1, 2]] as const) {
      expect(fs.readFileSync(partPath(kept, p, r)).equals(fs.readFileSync(partPath(fresh, p, r))), `part ${p}/${r}`).toBe(true);
    }
    expect(fs.existsSync(partPath(kept, 1, 1))).toBe(false);
    await expect(pool.run(batch(p0), () => {}, experimentOf)).rejects.toThrow('closed worker pool');
  }, 60_000);

  it("Starts its workers with the heap policy's young generation, which V8 keeps at 2 × 4 MiB where a default worker's grows to 2 × 16", async () => {
    // Each worker churns the same short-lived garbage (3·10^6 small objects, 20,000 kept at a time: enough
    // survives its scavenges for V8 to grow the semi-spaces to their maximum) and reports its new space.
    const churn = `
      const v8 = require('node:v8');
      let keep = [];
      for (let i = 0; i < 3e6; i++) { keep.push({ a: i, b: [i] }); if (keep.length > 20000) keep = []; }
      const s = v8.getHeapSpaceStatistics().find((x) => x.space_name === 'new_space');
      require('node:worker_threads').parentPort.postMessage(s.space_size);`;
    const newSpace = async (options: WorkerOptions): Promise<number> => {
      const w = new Worker(churn, { ...options, eval: true });
      try {
        return await new Promise<number>((resolve, reject) => {
          w.once('message', resolve);
          w.once('error', reject);
        });
      } finally {
        await w.terminate();
      }
    };
    const init = { base: parseExperiment(minimalExperiment(), 'heap'), outDir: tmp(), check: false, marginChecks: 'event' as const };
    const MiB = 2 ** 20;
    expect(await newSpace(workerOptions(init))).toBe(8 * MiB); // maxYoungGenerationSizeMb 12 = 4 + 4 semi-spaces + 4 for new large objects
    expect(await newSpace({ workerData: init })).toBe(32 * MiB);
  }, 30_000);

  it("Refuses a scheduler's shard that differs from the one its folder holds, naming that one; an explicit --shard is taken and restamps", async () => {
    // Shard 1 of 4 written, then task 1 of "--array=1,3" submitted again (Slurm: 2 tasks, step 2), i.e. slice 0 of 2.
    const exp = parseExperiment(sweepInput(4, 40), 'shard-stamp'); // 2 points × 4 replicates: ordinals 0…7
    const dir = tmp();
    await runExperiment(exp, opts(dir, { shard: { index: 1, count: 4 }, shardFrom: 'SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT' }));
    expect(fs.readFileSync(path.join(dir, 'parts', 'shard'), 'utf8')).toBe('1/4\n');
    const e = await rejectionOf(runExperiment(exp, opts(dir, { shard: { index: 0, count: 2 }, shardFrom: 'SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT' })));
    expect(e).toBeInstanceOf(ExperimentError);
    expect((e as ExperimentError).issues).toEqual([
      expect.objectContaining({ path: 'SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT', value: '0/2', message: expect.stringMatching(/^the folder holds the runs of shard 1\/4: .*pass --shard 1\/4/) }),
    ]);
    expect(describeError(e).code).toBe(2);
    expect(listParts(dir)).toHaveLength(2); // ordinals 1 and 5; nothing ran
    // The same shard from the environment resumes (nothing to do); an explicit other shard runs its slice and restamps.
    expect((await runExperiment(exp, opts(dir, { shard: { index: 1, count: 4 }, shardFrom: 'JOB_COMPLETION_INDEX/CONTAGION_SHARDS' }))).resumed).toBe(2);
    const r = await runExperiment(exp, opts(dir, { shard: { index: 1, count: 2 } }));
    expect([r.planned, r.resumed]).toEqual([4, 2]); // ordinals 1, 3, 5, 7, of which shard 1/4 did 1 and 5
    expect(fs.readFileSync(path.join(dir, 'parts', 'shard'), 'utf8')).toBe('1/2\n');
  }, 60_000);

  it('Stops a sweep at the first run that finds the disk full, says what is committed, and resumes to the uninterrupted files', async () => {
    // Every run after would fail the same way, after its whole simulation: before, a sweep on a full
    // disk simulated every run, failed to write each, and ended in an internal error.
    const exp = parseExperiment(sweepInput(6, 40), 'disk-full');
    const clean = tmp();
    await runExperiment(exp, opts(clean, { workers: 2 }));
    for (const workers of [1, 2]) {
      const dir = tmp();
      process.env.CONTAGION_FAIL_RUNS = '0/2:ENOSPC';
      const e = await rejectionOf(runExperiment(exp, opts(dir, { workers }))).finally(() => delete process.env.CONTAGION_FAIL_RUNS);
      expect(e).toBeInstanceOf(DiskFullError);
      const said = /the sweep stopped, (\d+) of 12 runs are committed; free space and run the same command again$/.exec((e as Error).message);
      expect((e as Error).message).toMatch(/^the disk is full writing .+ \(ENOSPC: injected system error, write .+\): the sweep stopped, \d+ of 12 runs are committed; free space and run the same command again$/);
      const committed = Number(said![1]);
      const onDisk = listParts(dir).length;
      // In this thread runs 0/0 and 0/1 are done before 0/2 fails, and the count is exact. Workers hold
      // up to 2 runs each, and the count is what is on disk once both have exited: a rename a terminated
      // worker had already handed to libuv's thread pool may land just after, one per worker at most
      // (a possible cause of this test's one failure, in session 19, which asserted the count exactly).
      if (workers === 1) {
        expect(committed).toBe(2);
        expect(onDisk).toBe(2);
      } else {
        expect(onDisk).toBeLessThanOrEqual(5);
        expect(onDisk).toBeGreaterThanOrEqual(committed);
        expect(onDisk).toBeLessThanOrEqual(committed + 2);
      }
      expect(describeError(e)).toEqual({ message: `error: ${(e as Error).message}`, code: 1 });
      expect(fs.readdirSync(dir)).toEqual(['parts']);
      // The resume takes every committed part, a late one included.
      const before = listParts(dir).length;
      expect((await runExperiment(exp, opts(dir, { workers }))).resumed).toBe(before);
      expectSameArrow(clean, dir);
    }
    // A full disk met outside a run (the Arrow files, say) is not reported as an internal error either.
    const raw = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    expect(describeError(raw)).toEqual({
      message: 'error: the disk is full (ENOSPC: no space left on device, write); free space and run the same command again: committed runs are kept',
      code: 1,
    });
  }, 60_000);

  it('Refuses a damaged part as bad input naming it and the remedy; once it is deleted, the same command redoes that run alone', async () => {
    // A part cut short (an interrupted copy of a shard folder, say): the run command and merge both
    // read it back, and say which file and what to do instead of failing as an internal error.
    const exp = parseExperiment(sweepInput(2, 30), 'damaged');
    const clean = tmp();
    await runExperiment(exp, opts(clean, { workers: 1 }));
    const dir = tmp();
    await runExperiment(exp, opts(dir, { workers: 1 }));
    const part = path.join(dir, 'parts', 'p000001-r000000.run');
    const size = fs.statSync(part).size;
    fs.truncateSync(part, size - 100);
    const refused = await rejectionOf(runExperiment(exp, opts(dir, { workers: 1 })));
    expect(refused).toBeInstanceOf(ExperimentError);
    expect(describeError(refused).code).toBe(2);
    expect((refused as Error).message).toContain(`${part}: 1 problem`);
    expect((refused as Error).message).toContain(`part file: ${size - 100} bytes, header says ${size} (truncated or corrupt): delete it and run the command that wrote its folder again`);
    await expect(mergeResults([dir], tmp())).rejects.toThrow(/p000001-r000000\.run: 1 problem/);
    fs.rmSync(part);
    const redone = await runExperiment(exp, opts(dir, { workers: 1 }));
    expect(redone.resumed).toBe(3);
    expectSameArrow(clean, dir);
  }, 60_000);
});

describe('a worker committing parts while it runs the next', () => {
  it('reports in start order once each part is in place, a failure in its turn, and writes what executeRun writes', async () => {
    const exp = parseExperiment(sweepInput(3, 20), 'test');
    const [p0, p1] = expandSweep(exp);
    const overlapped = tmp();
    const ctx = makeContext(exp, overlapped, false, { CONTAGION_FAIL_RUNS: '1/1' }, 'event', (p) => pointExperiment(exp, p));
    const seen: { o: RunOutcome; committed: boolean }[] = [];
    const tasks = [
      [p0!, 0],
      [p0!, 2],
      [p1!, 1],
      [p1!, 0],
    ] as const;
    // Started back to back, as a worker does with its queued tasks: no part is synced yet.
    for (const [point, replicate] of tasks) {
      executeRunOverlapped(ctx, point, replicate, (o) =>
        seen.push({ o, committed: fs.existsSync(path.join(overlapped, 'parts', `p${String(o.point).padStart(6, '0')}-r${String(o.replicate).padStart(6, '0')}.run`)) }),
      );
    }
    expect(seen).toEqual([]);
    await ctx.committing;
    expect(seen.map(({ o }) => [o.point, o.replicate, o.ok])).toEqual([
      [0, 0, true],
      [0, 2, true],
      [1, 1, false],
      [1, 0, true],
    ]);
    expect(seen.map((s) => s.committed)).toEqual([true, true, false, true]);
    expect(seen[2]!.o.error).toMatch(/injected failure/);
    expect(fs.readdirSync(path.join(overlapped, 'parts')).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    // The same parts, byte for byte, as the synchronous path writes.
    const direct = tmp();
    const syncCtx = makeContext(exp, direct, false, {}, 'event', (p) => pointExperiment(exp, p));
    for (const [point, replicate] of [tasks[0], tasks[1], tasks[3]]) expect(executeRun(syncCtx, point, replicate).ok).toBe(true);
    for (const name of fs.readdirSync(path.join(direct, 'parts')).filter((f) => f.endsWith('.run'))) {
      expect(fs.readFileSync(path.join(overlapped, 'parts', name)).equals(fs.readFileSync(path.join(direct, 'parts', name))), name).toBe(true);
    }
    expect(readPart(overlapped, 1, 0).summary).toEqual(seen[3]!.o.summary);
  });
});

describe('through the command line', () => {
  function writeExperiment(input: ExperimentInput): string {
    const file = path.join(tmp(), 'exp.json');
    fs.writeFileSync(file, JSON.stringify(input));
    return file;
  }
  const run = (args: string[], env: NodeJS.ProcessEnv = {}) =>
    spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });

  it('The CLI runs its sources as one bundle, and writes the same bytes as through tsx (CONTAGION_SOURCES=1)', async () => {
    const file = writeExperiment(sweepInput(2, 60));
    const bundled = tmp();
    const sources = tmp();
    expect(run(['run', file, '--out', bundled, '--workers', '1', '--quiet']).status).toBe(0);
    // These sources bundle here (the CLI falls back to tsx only when bundleFile gives null), and the
    // bundle of exactly these sources is the cached file the CLI ran.
    const main = await bundleFile(new URL('../src/cli/main.ts', import.meta.url));
    expect(main?.href).toMatch(/\/node_modules\/\.cache\/contagion\/main-[0-9a-f]{16}\.mjs$/);
    expect(fs.existsSync(fileURLToPath(main!))).toBe(true);
    expect(run(['run', file, '--out', sources, '--workers', '1', '--quiet'], { CONTAGION_SOURCES: '1' }).status).toBe(0);
    expectSameArrow(bundled, sources);
  }, 60_000);

  it('Resumes after SIGKILL and ends with the files of an uninterrupted run', async () => {
    const file = writeExperiment(sweepInput(12, 400)); // 24 runs
    const clean = tmp();
    expect(run(['run', file, '--out', clean, '--workers', '2', '--quiet']).status).toBe(0);

    const killed = tmp();
    const child = spawn(process.execPath, [CLI, 'run', file, '--out', killed, '--workers', '2', '--quiet'], { stdio: 'ignore' });
    // Kill it once a few runs are committed, well before it finishes.
    const started = Date.now();
    while (listParts(killed).length < 3 && Date.now() - started < 30_000) await new Promise((r) => setTimeout(r, 20));
    child.kill('SIGKILL');
    await new Promise((r) => child.on('exit', r));
    const partial = listParts(killed).length;
    expect(partial).toBeGreaterThanOrEqual(3);
    expect(partial).toBeLessThan(24);
    expect(fs.existsSync(path.join(killed, 'manifest.json'))).toBe(false);

    const resumed = run(['run', file, '--out', killed, '--workers', '2', '--quiet']);
    expect(resumed.status).toBe(0);
    expect(resumed.stdout).toMatch(new RegExp(`24 runs done \\(${partial} resumed from an earlier attempt\\)`));
    expectSameArrow(clean, killed);
  }, 120_000);

  it.each(['2', '1'])('Stops on SIGTERM saying how many runs are committed, without temporaries, and resumes to the uninterrupted files (%s workers)', async (workers) => {
    const file = writeExperiment(sweepInput(12, 400)); // 2 points × 12 runs
    const clean = tmp();
    expect(run(['run', file, '--out', clean, '--workers', '2', '--quiet']).status).toBe(0);

    // Not --quiet: off a terminal it prints a line when point 0 is done, so the main thread then knows
    // of those 12 runs at least; it is stopped then, before the 24 are done. With one worker the runs
    // were in the main thread: the signal waited for all 24 (and the command then said "24 of 24" and
    // exited without writing the files); the CLI now runs them in a worker thread too.
    const stopped = tmp();
    const child = spawn(process.execPath, [CLI, 'run', file, '--out', stopped, '--workers', workers], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const started = Date.now();
    while (!stdout.includes('point 0 done') && Date.now() - started < 30_000) await new Promise((r) => setTimeout(r, 5));
    child.kill('SIGTERM');
    const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    // 128 + 15, as a process the signal had killed. The count it gives is at least point 0's 12 runs,
    // and it is what is on disk once the workers are stopped (in the main thread, runs end in its
    // turns: the one in progress when the signal came is finished and counted).
    expect(code).toBe(143);
    const m = /interrupted by SIGTERM: (\d+) of 24 runs are committed in .+; run the same command again to do the rest/.exec(stderr);
    expect(m, stderr).not.toBeNull();
    const said = Number(m![1]);
    const partial = listParts(stopped).length;
    expect(said).toBeGreaterThanOrEqual(12);
    expect(partial).toBe(said);
    expect(partial).toBeLessThan(24);
    expect(fs.readdirSync(stopped)).toEqual(['parts']);
    expect(fs.readdirSync(path.join(stopped, 'parts')).filter((f) => f.endsWith('.tmp'))).toEqual([]);

    // A part a killed worker was writing (its temporary name) is removed by the next command.
    fs.writeFileSync(path.join(stopped, 'parts', 'p000000-r000000.run.1-1-0123456789ab.tmp'), 'half a part');
    const resumed = run(['run', file, '--out', stopped, '--workers', '2', '--quiet']);
    expect(resumed.status).toBe(0);
    expect(resumed.stdout).toMatch(new RegExp(`24 runs done \\(${partial} resumed from an earlier attempt\\)`));
    expect(fs.readdirSync(path.join(stopped, 'parts')).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    expectSameArrow(clean, stopped);
  }, 120_000);

  it('Refuses a second command into a folder another is writing (exit 2), and the first ends with the files of a lone run', async () => {
    // Before the lock, the second removed the first's part temporaries and both wrote the same
    // *.arrow.tmp files: failed runs, and final files mixed from both.
    const file = writeExperiment(sweepInput(200, 400)); // 400 runs: ~4 s in one worker, the second starts in ~0.5
    const clean = tmp();
    expect(run(['run', file, '--out', clean, '--workers', '2', '--quiet']).status).toBe(0);
    const out = tmp();
    const first = spawn(process.execPath, [CLI, 'run', file, '--out', out, '--workers', '1'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    first.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    const exited = new Promise<number | null>((r) => first.on('exit', (c) => r(c)));
    const started = Date.now();
    while (!fs.existsSync(path.join(out, 'parts', 'lock')) && Date.now() - started < 30_000) await new Promise((r) => setTimeout(r, 5));
    const second = run(['run', file, '--out', out, '--workers', '1', '--quiet']);
    expect(second.status).toBe(2);
    expect(second.stderr).toMatch(new RegExp(`--out: another contagion command is writing this folder \\(process ${first.pid} on `));
    expect(await exited).toBe(0);
    expect(stdout).toContain('400 runs done');
    expectSameArrow(clean, out);
    expect(fs.existsSync(path.join(out, 'parts', 'lock'))).toBe(false);
  }, 120_000);

  it('Stops a single long run on SIGTERM (--only): the run in progress is abandoned, not waited for', async () => {
    // One run of 2,000,000 steps (minutes). In the main thread it could not be stopped but by SIGKILL:
    // the signal's handler waited for the run to end.
    const file = writeExperiment(sweepInput(1, 2_000_000));
    const out = tmp();
    const child = spawn(process.execPath, [CLI, 'run', file, '--only', 'point=0,replicate=0', '--out', out, '--quiet'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    const started = Date.now();
    while (!fs.existsSync(path.join(out, 'parts', 'lock')) && Date.now() - started < 30_000) await new Promise((r) => setTimeout(r, 5));
    await new Promise((r) => setTimeout(r, 500)); // into the run
    const signalled = Date.now();
    child.kill('SIGTERM');
    expect(await exited).toBe(143);
    expect(Date.now() - signalled).toBeLessThan(5_000);
    expect(stderr).toMatch(/interrupted by SIGTERM: 0 of 1 runs are committed in .+; run the same command again to do the rest/);
    expect(fs.readdirSync(path.join(out, 'parts')).sort()).toEqual(['engine.sha256', 'experiment.sha256']);
  }, 60_000);

  it("Refuses a Slurm task whose slice differs from the one its folder holds (tasks 1 and 3 of an array of 4 submitted again), exit 2", () => {
    const file = writeExperiment(sweepInput(4, 30));
    const out = tmp();
    expect(run(['run', file, '--shard', '1/4', '--out', out, '--quiet']).status).toBe(0);
    // sbatch --array=1,3: Slurm says 2 tasks from 1 to 3 in steps of 2, so task 1 would be slice 0 of 2.
    const again = run(['run', file, '--out', out, '--quiet'], {
      SLURM_ARRAY_TASK_ID: '1',
      SLURM_ARRAY_TASK_MIN: '1',
      SLURM_ARRAY_TASK_MAX: '3',
      SLURM_ARRAY_TASK_STEP: '2',
      SLURM_ARRAY_TASK_COUNT: '2',
    });
    expect(again.status).toBe(2);
    expect(again.stderr).toContain('SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT: the folder holds the runs of shard 1/4');
    expect(again.stderr).toContain('pass --shard 1/4');
    expect(again.stderr).toContain('(got "0/2")');
  }, 60_000);

  it('Records a failing run, keeps the others, exits 1 and says how to reproduce it', () => {
    const file = writeExperiment(sweepInput(3, 30));
    const out = tmp();
    const r = run(['run', file, '--out', out, '--workers', '2', '--quiet'], { CONTAGION_FAIL_RUNS: '1/1' });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/1 run failed:\n {2}point 1, replicate 1 \(seed \d+\): injected failure/);
    expect(r.stderr).toContain('--only point=1,replicate=1');
    const manifest = JSON.parse(fs.readFileSync(path.join(out, 'manifest.json'), 'utf8'));
    expect(manifest.runs_failed).toBe(1);
    expect(manifest.runs_done).toBe(5);
    expect(manifest.failures[0]).toMatchObject({ point_index: 1, replicate: 1 });
    const runs = readArrowTable(path.join(out, 'runs.arrow'));
    expect(columnToArray(runs, 'point_index')).toEqual([0, 0, 0, 1, 1]);
    expect(columnToArray(runs, 'replicate')).toEqual([0, 1, 2, 0, 2]);
    // The reproduction command runs exactly that run.
    const only = tmp();
    const again = run(['run', file, '--only', 'point=1,replicate=1', '--out', only, '--quiet']);
    expect(again.status).toBe(0);
    expect(columnToArray(readArrowTable(path.join(only, 'runs.arrow')), 'replicate')).toEqual([1]);
  }, 60_000);

  it('Refuses to resume into a folder that holds another experiment', () => {
    const a = writeExperiment(sweepInput(1, 20));
    const other = sweepInput(1, 20);
    other.seed = 7;
    const b = writeExperiment(other);
    const out = tmp();
    expect(run(['run', a, '--out', out, '--quiet']).status).toBe(0);
    const r = run(['run', b, '--out', out, '--quiet']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--out: holds runs of another experiment/);
  }, 60_000);

  it('The Slurm array script runs real shards that merge into the unsharded files', () => {
    const file = writeExperiment(sweepInput(2, 30));
    const whole = tmp();
    expect(run(['run', file, '--out', whole, '--workers', '1', '--quiet']).status).toBe(0);
    const out = tmp();
    for (let task = 1; task <= 3; task++) {
      // Submitted as --array=1-3: tasks 1..3 are slices 0..2 of 3.
      const r = spawnSync('bash', [path.join(ROOT, 'experiments', 'cluster', 'slurm-array.sbatch')], {
        encoding: 'utf8',
        env: {
          ...process.env,
          SLURM_SUBMIT_DIR: ROOT,
          SLURM_ARRAY_TASK_ID: String(task),
          SLURM_ARRAY_TASK_MIN: '1',
          SLURM_ARRAY_TASK_COUNT: '3',
          SLURM_CPUS_PER_TASK: '1',
          EXPERIMENT: file,
          OUT: out,
        },
      });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toContain(`[shard ${task - 1}/3]`);
    }
    const merged = path.join(out, 'merged');
    const m = run(['merge', ...[1, 2, 3].map((t) => path.join(out, `shard-${t}`)), '--out', merged]);
    expect(m.status, m.stderr).toBe(0);
    expectSameArrow(whole, merged);
  }, 120_000);
});
