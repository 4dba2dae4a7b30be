// Runs an experiment's (point, replicate) pairs — all of them, a shard's slice, or one — on a pool
// of worker threads (or in this thread with one worker). Every finished run is committed as its
// own part file, so a killed command resumes by running only what is missing; failures are
// recorded and do not stop the others. The final Arrow files are assembled from the parts in run
// order, so they are byte-identical whatever the worker count, finish order or interruptions.
import { protocolIds } from '../graph/build.ts';
import type { MarginChecks } from '../engine/marginIndex.ts';
import { experimentOrigins } from '../engine/attribution.ts';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync, renameSync } from 'node:fs';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import type { Experiment } from '../experiment/schema.ts';
import { DISK_FULL_CODES, DiskFullError, ExperimentError } from '../experiment/errors.ts';
import { expandSweep, pointExperiment, sweepColumnName, sweptPaths, type SweepPoint } from '../experiment/sweep.ts';
import { replicateSeeds } from '../engine/simulate.ts';
import { Streams } from '../experiment/seeds.ts';
import { PartReader, removeStaleTemporaries } from '../io/parts.ts';
import { makeOutputFolder } from '../io/outputFolder.ts';
import { ResultsWriter, type ResultsWriterOptions } from '../io/resultsWriter.ts';
import { MAX_RUNS, RunPlan, runOrdinal, type RunKey, type Shard } from './plan.ts';
import { partsOnDisk } from './onDisk.ts';
import { lockFolder } from './folderLock.ts';
import { engineHash } from './engineHash.ts';
import { executeRun, makeContext, type RunOutcome } from './execute.ts';
import { runPool } from './pool.ts';
import { applySweepHeapPolicy } from './heapPolicy.ts';
import { participantList } from '../engine/participants.ts';

export interface Progress {
  done: number;
  failed: number;
  total: number;
  /** Set when this outcome completed every planned run of its point. */
  pointDone?: { point: number; runs: number; failed: number };
}

export interface RunExperimentOptions {
  outDir: string;
  /** Check every invariant after every step. */
  check: boolean;
  /** 'every-step' marks and checks every account at every mark (the reference; default 'event'). */
  marginChecks?: MarginChecks;
  /** The --set arguments, recorded in the manifest. */
  overrides: string[];
  /** Path of the experiment file, recorded in the manifest. */
  source: string;
  /** Worker threads; 1 runs in this thread (unless `threaded`). */
  workers?: number;
  /**
   * Runs even a single worker's runs in a worker thread, so that an abort stops a run in progress: in
   * this thread a run is synchronous, and a signal's handler waits for its end (a run of hours, or
   * `--only` on a long one, could not be stopped but by SIGKILL). The CLI sets it.
   */
  threaded?: boolean;
  shard?: Shard | null;
  /**
   * Where `shard` came from when a scheduler's environment gave it (plan.ts shardFromEnvironment), as
   * named in messages. A sharded command stamps its folder with its shard (parts/shard); a shard from
   * the environment that differs from the stamp is refused, naming the stamped one. Resubmitting some
   * tasks of a Slurm array (--array=3,7) changes what Slurm's variables say, so each task would run a
   * slice of a 2-way split in a folder holding a slice of the first split. An explicit --shard is
   * taken as meant (and restamps): runs are the same bytes whichever command computes them, and merge
   * takes each run once.
   */
  shardFrom?: string | null;
  only?: RunKey | null;
  onProgress?: (p: Progress) => void;
  /** Called once, before any run starts: the runs this command covers, and those already done (resumed). */
  onStart?: (s: { planned: number; resumed: number }) => void;
  /**
   * Stops the command: no run starts after it aborts, the workers are terminated (their runs in progress
   * are lost), the results files are not written, and runExperiment rejects with {@link RunInterrupted}.
   * The committed runs stay: the same command again does only the rest. With one worker and not
   * `threaded`, a run in progress is finished first (it runs in this thread). An abort once every run
   * is done changes nothing.
   */
  signal?: AbortSignal;
}

/** runExperiment stopped by its signal: `committed` of the `planned` runs are on disk (parts). */
export class RunInterrupted extends Error {
  constructor(
    readonly committed: number,
    readonly planned: number,
    readonly outDir: string,
  ) {
    super(`stopped: ${committed} of ${planned} runs are committed in ${outDir}`);
    this.name = 'RunInterrupted';
  }
}

export interface Failure {
  point: number;
  replicate: number;
  seed: number;
  error: string;
}

export interface RunExperimentResult {
  outDir: string;
  planned: number;
  /** Runs found already done (resumed) plus runs done now. */
  runsDone: number;
  resumed: number;
  failures: Failure[];
}

const packageRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** sha256 of the experiment's canonical JSON (keys sorted), so a manifest names what ran. */
export function experimentHash(exp: Experiment): string {
  const canonical = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(canonical)
      : v && typeof v === 'object'
        ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, canonical((v as Record<string, unknown>)[k])]))
        : v;
  return createHash('sha256').update(JSON.stringify(canonical(exp))).digest('hex');
}

export function gitCommit(): string | null {
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], { cwd: packageRoot, stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .trim();
  } catch {
    return null;
  }
}

/** Writer options (dictionaries and sweep columns) for an experiment: the same for every shard. */
export function writerOptions(exp: Experiment, points: SweepPoint[]): ResultsWriterOptions {
  return {
    protocols: protocolIds(exp),
    assets: exp.scenario.assets.map((a) => a.symbol),
    cohorts: [...exp.scenario.traders.map((c) => c.id), ...exp.scenario.backstopVaults.map((v) => v.id)],
    origins: experimentOrigins(exp),
    participants: participantList(exp.scenario),
    output: exp.output,
    sweep: {
      columns: sweptPaths(exp).map((path) => ({
        name: sweepColumnName(path),
        values: points.map((p) => p.values[path] as number | string),
      })),
    },
  };
}

/**
 * The hash a results folder's parts are stamped with: the experiment's without its number of
 * replicates. A run's part depends on its point and replicate, never on how many replicates there are
 * (its seeds are derived from the replicate alone), so the same command with more runs resumes the
 * folder and adds only the new replicates, and the files equal those of one command with that many.
 */
export function partsHash(exp: Experiment): string {
  const { runs: _runs, ...rest } = exp;
  return experimentHash(rest as Experiment);
}

/**
 * A results folder remembers which experiment its parts belong to; resuming into a folder of
 * another experiment would mix runs, so it is refused (bad input: choose another --out). Another
 * number of replicates of the same experiment is the same experiment here (partsHash). Folders
 * stamped before that (with the whole experiment's hash) are taken when it matches, and restamped.
 */
function claimFolder(outDir: string, exp: Experiment, wholeHash: string, engine: string, shard: Shard | null, shardFrom: string | null): void {
  const parts = join(outDir, 'parts');
  const hash = partsHash(exp);
  // Results without parts (a merge's output, or a folder whose parts were deleted): its manifest says
  // whose they are. Another experiment's would be replaced by this run's.
  if (!existsSync(join(parts, 'experiment.sha256'))) {
    const other = manifestPartsHash(outDir);
    if (other !== null && other !== hash) {
      throw new ExperimentError(outDir, [
        {
          path: '--out',
          value: outDir,
          message: `holds the results of another experiment (its manifest.json, sha256 ${other.slice(0, 12)}… without runs, this one is ${hash.slice(0, 12)}…): choose another --out or delete the folder`,
        },
      ]);
    }
  }
  makeOutputFolder(parts, '--out', outDir);
  const found = readStamp(join(parts, 'experiment.sha256'));
  if (found !== null && found !== hash && found !== wholeHash) {
    throw new ExperimentError(outDir, [
      {
        path: '--out',
        value: outDir,
        message: `holds runs of another experiment (sha256 ${found.slice(0, 12)}…, this one is ${hash.slice(0, 12)}…): choose another --out or delete the folder`,
      },
    ]);
  }
  // The build that computed its runs (engineHash.ts). Folders from before this stamp are taken as they are.
  const foundEngine = readStamp(join(parts, 'engine.sha256'));
  if (foundEngine !== null && foundEngine !== engine) {
    throw new ExperimentError(outDir, [
      {
        path: '--out',
        value: outDir,
        message:
          `holds runs computed by another build of contagion (its sources, dependencies or Node's V8; sha256 ${foundEngine.slice(0, 12)}…, ` +
          `this build's ${engine.slice(0, 12)}…): resuming would mix runs of the two; delete its parts folder to compute them again, or resume with the build that wrote them`,
      },
    ]);
  }
  // The slice of a sharded command (runExperiment's shardFrom).
  const shardText = shard === null ? null : `${shard.index}/${shard.count}`;
  const foundShard = shardText === null ? null : readStamp(join(parts, 'shard'));
  if (shardText !== null && foundShard !== null && foundShard !== shardText && shardFrom) {
    throw new ExperimentError(outDir, [
      {
        path: shardFrom,
        value: shardText,
        message:
          `the folder holds the runs of shard ${foundShard}: the scheduler's variables describe the job as submitted, and some tasks of a ` +
          `Slurm array submitted again (--array=3,7) are another array; pass --shard ${foundShard} to resume this folder's slice, or choose another --out`,
      },
    ]);
  }
  if (found !== hash) writeStamp(join(parts, 'experiment.sha256'), hash);
  if (foundEngine !== engine) writeStamp(join(parts, 'engine.sha256'), engine);
  if (shardText !== null && foundShard !== shardText) writeStamp(join(parts, 'shard'), shardText);
}

/**
 * partsHash of the experiment in outDir's manifest.json (the resolved experiment, as partsHash hashes
 * it), or null when there is no readable manifest with an experiment.
 */
function manifestPartsHash(outDir: string): string | null {
  const file = join(outDir, 'manifest.json');
  if (!existsSync(file)) return null;
  try {
    const experiment = (JSON.parse(readFileSync(file, 'utf8')) as { experiment?: unknown }).experiment;
    return experiment && typeof experiment === 'object' ? partsHash(experiment as Experiment) : null;
  } catch {
    return null;
  }
}

/** A stamp file's hash, or null when there is none. */
export function readStamp(file: string): string | null {
  return existsSync(file) ? readFileSync(file, 'utf8').trim() : null;
}

function writeStamp(file: string, hash: string): void {
  writeFileSync(`${file}.tmp`, `${hash}\n`);
  renameSync(`${file}.tmp`, file);
}

/**
 * How every run's random streams are seeded, for the manifest: the rule and one worked example, not a
 * list. Each run's replicate seed is in runs.arrow (`seed`), and every other stream's follows from the
 * experiment seed by the same rule. (Until schema 4 the manifest listed each run's seeds: 251 MB of
 * JSON at 10^6 runs, and past ~2.1M runs longer than V8's longest string, so such a sweep failed at
 * its very end.)
 */
export function seedsRecord(exp: Experiment) {
  const independent = exp.independentPoints;
  return {
    experiment_seed: exp.seed,
    independent_points: independent,
    streams: Streams,
    rule: `deriveSeed(experiment_seed, replicate, stream${independent ? ', point_index' : ''}) (src/experiment/seeds.ts); runs.arrow's seed is the "replicate" stream's`,
    example: { point_index: 0, replicate: 0, seeds: replicateSeeds(exp.seed, 0, independent ? 0 : undefined) },
  };
}


export async function runExperiment(exp: Experiment, opts: RunExperimentOptions): Promise<RunExperimentResult> {
  const startedAt = new Date().toISOString();
  const hash = experimentHash(exp);
  const points = expandSweep(exp);
  if (points.length * exp.runs > MAX_RUNS) {
    throw new ExperimentError(opts.source, [
      {
        path: 'runs',
        value: exp.runs,
        message: `${points.length} point(s) × ${exp.runs} replicates is ${points.length * exp.runs} runs: expected at most ${MAX_RUNS} (2^31 − 1) in one experiment`,
      },
    ]);
  }
  const plan = new RunPlan(points.length, exp.runs, opts.shard ?? null, opts.only ?? null);
  if (opts.only && plan.count === 0) {
    throw new ExperimentError(opts.source, [
      {
        path: '--only',
        value: `point=${opts.only.point},replicate=${opts.only.replicate}`,
        message: `no such run: the experiment has ${points.length} point(s) × ${exp.runs} replicate(s)`,
      },
    ]);
  }
  const engine = engineHash();
  claimFolder(opts.outDir, exp, hash, engine, opts.shard ?? null, opts.shardFrom ?? null);
  // One command at a time writes a folder (folderLock.ts): held until this one returns or throws.
  const lock = await lockFolder(opts.outDir);
  try {
    return await runInFolder(exp, opts, { startedAt, hash, engine, points, plan });
  } finally {
    lock.release();
  }
}

/** runExperiment once the folder is claimed and locked: the runs, their assembly, the manifest. */
async function runInFolder(
  exp: Experiment,
  opts: RunExperimentOptions,
  { startedAt, hash, engine, points, plan }: { startedAt: string; hash: string; engine: string; points: SweepPoint[]; plan: RunPlan },
): Promise<RunExperimentResult> {
  // Every temporary part here is a dead command's (the folder is locked).
  removeStaleTemporaries(opts.outDir);

  // Resume: a run whose part exists is done. What the runner keeps per run is this bit; the rest is per
  // point or per run in flight.
  const onDisk = partsOnDisk(opts.outDir, plan);
  const resumed = onDisk.count;
  opts.onStart?.({ planned: plan.count, resumed });

  // Assembly follows the runs as they finish: whenever the next run in (point, replicate) order
  // is done, its part is appended to the Arrow files, so the main thread's share of the work
  // overlaps with the workers' and the files never depend on finish order.
  const writer = await ResultsWriter.open(opts.outDir, writerOptions(exp, points));
  // This command's outcomes that finished ahead of the next run in order, by plan index → ok.
  const finished = new Map<number, boolean>();
  let cursor = 0; // plan index of the next run to append
  const reader = new PartReader();
  const appendReady = () => {
    while (cursor < plan.count) {
      let ok = onDisk.has(cursor);
      if (!ok) {
        const outcome = finished.get(cursor);
        if (outcome === undefined) return;
        finished.delete(cursor);
        ok = outcome;
      }
      if (ok) {
        const o = plan.ordinal(cursor);
        writer.append(reader.read(opts.outDir, plan.pointOf(o), plan.replicateOf(o)));
      }
      cursor++;
    }
  };

  const plannedPerPoint = new Int32Array(points.length);
  const remainingPerPoint = new Int32Array(points.length);
  const failedPerPoint = new Int32Array(points.length);
  for (let i = 0; i < plan.count; i++) {
    const p = plan.pointOf(plan.ordinal(i));
    plannedPerPoint[p]!++;
    if (!onDisk.has(i)) remainingPerPoint[p]!++;
  }
  const failures: Failure[] = [];
  let done = 0;
  // The sweep stops on the caller's signal, or on its own at the first run that failed because the disk
  // is full (every run after would fail the same way, after its whole simulation).
  const stopper = new AbortController();
  const stopOnSignal = () => stopper.abort();
  opts.signal?.addEventListener('abort', stopOnSignal, { once: true });
  if (opts.signal?.aborted) stopper.abort();
  // The error of the first run that found the disk full.
  let diskFull: string | null = null;
  const onOutcome = (o: RunOutcome) => {
    done++;
    finished.set(plan.indexOf(runOrdinal(o, plan.runsPerPoint)), o.ok);
    appendReady();
    if (!o.ok) {
      failures.push({ point: o.point, replicate: o.replicate, seed: o.seed, error: o.error ?? 'unknown error' });
      failedPerPoint[o.point]!++;
      if (diskFull === null && DISK_FULL_CODES.has(o.errorCode ?? '')) {
        diskFull = o.error ?? o.errorCode!;
        stopper.abort();
      }
    }
    const left = --remainingPerPoint[o.point]!;
    opts.onProgress?.({
      done: resumed + done,
      failed: failures.length,
      total: plan.count,
      ...(left === 0 ? { pointDone: { point: o.point, runs: plannedPerPoint[o.point]!, failed: failedPerPoint[o.point]! } } : {}),
    });
  };

  // Each point's validated experiment, made once here (the last point's kept: tasks come point by
  // point) for the in-thread runner, and sent by the pool with a worker's first task of each point.
  let resolved: { point: number; exp: Experiment } | null = null;
  const resolve = (point: SweepPoint): Experiment => {
    if (resolved?.point !== point.index) resolved = { point: point.index, exp: pointExperiment(exp, point) };
    return resolved.exp;
  };
  applySweepHeapPolicy();
  const marginChecks = opts.marginChecks ?? 'event';
  const todo = plan.count - resumed;
  const workers = Math.max(1, Math.min(opts.workers ?? 1, todo || 1));
  // The runs still to do, made as they are asked for (in plan order, those on disk skipped).
  let next = 0;
  const tasks = {
    count: todo,
    next: () => {
      while (next < plan.count && onDisk.has(next)) next++;
      if (next >= plan.count) return undefined;
      const o = plan.ordinal(next++);
      return { point: points[plan.pointOf(o)]!, replicate: plan.replicateOf(o) };
    },
  };
  try {
    appendReady();
    if (workers === 1 && !opts.threaded) {
      const ctx = makeContext(exp, opts.outDir, opts.check, process.env, marginChecks, resolve);
      for (let t = tasks.next(); t !== undefined && !stopper.signal.aborted; t = tasks.next()) {
        onOutcome(executeRun(ctx, t.point, t.replicate));
        // Runs here are synchronous: between two, let the event loop turn, or a signal's handler (which
        // aborts) would wait for the whole sweep.
        await yieldToEventLoop();
      }
    } else {
      await runPool(workers, { base: exp, outDir: opts.outDir, check: opts.check, marginChecks }, tasks, onOutcome, resolve, stopper.signal);
    }
    appendReady();
    if (cursor !== plan.count) {
      if (!stopper.signal.aborted) throw new Error(`internal: assembled ${cursor} of ${plan.count} runs`);
      // Stopped: what is committed is what is on disk (the workers are gone, and may have committed
      // runs the main thread had not heard of).
      const committed = partsOnDisk(opts.outDir, plan).count;
      if (diskFull === null) throw new RunInterrupted(committed, plan.count, opts.outDir);
      throw new DiskFullError(
        `the disk is full writing ${opts.outDir} (${diskFull}): the sweep stopped, ${committed} of ${plan.count} runs are committed; free space and run the same command again`,
      );
    }
  } catch (e) {
    await writer.abort();
    // The parts terminated workers were writing (their temporaries): no thread writes them any more.
    if (e instanceof RunInterrupted || e instanceof DiskFullError) removeStaleTemporaries(opts.outDir);
    throw e;
  } finally {
    opts.signal?.removeEventListener('abort', stopOnSignal);
  }

  // Each failure is of a planned run done by this command (resumed runs are not run again).
  const succeeded = plan.count - failures.length;
  const pkg = JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as { version: string };
  await writer.close({
    experiment: exp,
    experiment_hash: hash,
    engine_sha256: engine,
    source: opts.source,
    overrides: opts.overrides,
    package_version: pkg.version,
    git_commit: gitCommit(),
    node_version: process.version,
    workers,
    shard: opts.shard ?? null,
    only: opts.only ?? null,
    checked_invariants: opts.check,
    margin_checks: marginChecks,
    sweep_columns: Object.fromEntries(sweptPaths(exp).map((p) => [sweepColumnName(p), p])),
    points: points.length,
    runs_planned: plan.count,
    runs_done: succeeded,
    runs_resumed: resumed,
    runs_failed: failures.length,
    failures: failures.map((f) => ({ point_index: f.point, replicate: f.replicate, seed: f.seed, error: f.error })),
    seeds: seedsRecord(exp),
    started_at: startedAt,
    finished_at: new Date().toISOString(),
  });
  return { outDir: opts.outDir, planned: plan.count, runsDone: succeeded, resumed, failures };
}
