// `contagion run FILE [--runs N] [--seed S] [--out DIR] [--set k=v]... [--workers W]
// [--shard I/N] [--only point=P,replicate=R] [--check] [--margin-checks event|every-step] [--quiet]`: validate the experiment (with
// --runs/--seed applied as overrides, so they are checked like the file), then hand it to the
// runner and show progress: a bar on a terminal, one line per finished point otherwise (one a minute
// at most within a long point), nothing
// but the final line with --quiet. Failed runs are listed with how to reproduce one; exit 1.
import { resolve } from 'node:path';
import type { MarginChecks } from '../../engine/marginIndex.ts';
import { availableParallelism } from 'node:os';
import { SingleBar } from 'cli-progress';
import type { Argv, CommandModule, Options } from 'yargs';
import { loadExperiment } from '../../experiment/load.ts';
import { setList, setOption } from './validate.ts';
import { UsageError } from '../../experiment/errors.ts';
import { listenForStop, signalExitCode } from '../stopSignals.ts';
import { parseOnly, parseShard, shardFromEnvironment, type RunKey, type Shard } from '../../runner/plan.ts';
import type { Progress, RunExperimentResult } from '../../runner/runExperiment.ts';

interface RunArgs {
  file: string;
  runs: string | undefined;
  seed: string | undefined;
  out: string | undefined;
  set: string[] | undefined;
  workers: string | undefined;
  shard: string | undefined;
  only: string | undefined;
  check: boolean;
  marginChecks: string | undefined;
  quiet: boolean;
}

/** The full override list: --set first, then --runs and --seed, which win over a --set of the same key. */
export function runOverrides(args: { set?: unknown; runs?: string | undefined; seed?: string | undefined }): string[] {
  const sets = setList(args.set);
  if (args.runs !== undefined) sets.push(`runs=${args.runs}`);
  if (args.seed !== undefined) sets.push(`seed=${args.seed}`);
  return sets;
}

export function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return '?';
  // Rounded once, then split: 59.6 s is 1m00s, not 60s (and 3,599.7 s 1h00m, not 59m60s).
  const t = Math.round(s);
  if (t < 60) return `${t}s`;
  if (t < 3600) return `${Math.floor(t / 60)}m${String(t % 60).padStart(2, '0')}s`;
  return `${Math.floor(t / 3600)}h${String(Math.floor((t % 3600) / 60)).padStart(2, '0')}m`;
}

/** Off a terminal, the longest stretch without a progress line while runs finish, ms. */
const LINE_EVERY_MS = 60_000;

/**
 * Progress reporting for the three modes (bar on a TTY, a line per finished point, none). start()
 * gives the runs the command covers and those resumed from an earlier attempt; the rate and the ETA
 * count only the runs done since (`now` is the clock, in ms: tests pass their own).
 */
export function makeProgress(
  mode: 'bar' | 'lines' | 'none',
  now: () => number = Date.now,
): {
  start: (s: { planned: number; resumed: number }) => void;
  update: (p: Progress) => void;
  stop: () => void;
} {
  let started = now();
  let resumedAtStart = 0;
  // Off a terminal: when the last line was written.
  let lastLine = started;
  const rate = (done: number): number => (done - resumedAtStart) / Math.max((now() - started) / 1000, 1e-3);
  // Unknown ('?') until a run has finished since the start: the rate is then 0.
  const eta = (p: Progress): string => formatSeconds((p.total - p.done) / rate(p.done));
  const begin = (s: { planned: number; resumed: number }) => {
    started = lastLine = now();
    resumedAtStart = s.resumed;
  };
  if (mode === 'none') return { start: () => {}, update: () => {}, stop: () => {} };
  if (mode === 'lines') {
    // A line per finished point; and, while a point takes long (a job log of one 10,000-run point
    // would otherwise stay empty for hours), one a minute at most between them.
    return {
      start: begin,
      update: (p) => {
        const t = now();
        const totals = `${p.done}/${p.total} runs, ${rate(p.done).toFixed(2)} runs/s, ETA ${eta(p)}${p.failed ? `, ${p.failed} failed` : ''}`;
        if (p.pointDone) {
          const failed = p.pointDone.failed ? `, ${p.pointDone.failed} failed` : '';
          process.stdout.write(`point ${p.pointDone.point} done (${p.pointDone.runs} runs${failed}); ${totals}\n`);
        } else if (t - lastLine >= LINE_EVERY_MS) process.stdout.write(`${totals}\n`);
        else return;
        lastLine = t;
      },
      stop: () => {},
    };
  }
  const bar = new SingleBar({
    // Our ETA (remaining runs at the rate since the start), not the bar's: the bar's read 0s before any
    // run had finished.
    format: 'runs {bar} {value}/{total} | {rate} runs/s | ETA {etaText} | {failed} failed',
    stream: process.stdout,
    hideCursor: true,
    etaBuffer: 20,
  });
  // runExperiment calls start() before any update(); stop() may come first (a bad --only, a signal).
  let shown = false;
  return {
    start: (s) => {
      begin(s);
      bar.start(s.planned, s.resumed, { rate: '0.00', etaText: s.planned === s.resumed ? '0s' : '?', failed: 0 });
      shown = true;
    },
    update: (p) => bar.update(p.done, { rate: rate(p.done).toFixed(2), etaText: eta(p), failed: p.failed }),
    stop: () => {
      if (shown) bar.stop();
    },
  };
}

/** Options that the commands which run simulations (run, size-fund) share, as they read them. */
export const seedOption: Options = { type: 'string', requiresArg: true, describe: 'experiment seed (overrides "seed")' };
export const workersOption: Options = { type: 'string', requiresArg: true, describe: `worker threads (default: ${availableParallelism()}, the cores)` };
export const checkOption: Options = { type: 'boolean', default: false, describe: 'check the invariants at every step (slower)' };

export const runCommand: CommandModule<object, RunArgs> = {
  command: 'run <file>',
  describe: 'Run the Monte Carlo replicates of an experiment and write Arrow results',
  builder: (y: Argv) =>
    y
      .positional('file', { type: 'string', demandOption: true, describe: 'experiment JSON file' })
      // Kept as strings: they become --set runs=N / seed=S and the schema checks them.
      .option('runs', { type: 'string', requiresArg: true, describe: 'replicates per point (overrides "runs")' })
      .option('seed', seedOption)
      .option('out', { type: 'string', requiresArg: true, describe: 'results folder (default results/<name>; with --only, results/<name>-pP-rR; a shard, results/<name>-shard-I-of-N)' })
      .option('set', setOption)
      .option('workers', workersOption)
      .option('shard', { type: 'string', requiresArg: true, describe: 'run the I-th of N slices, I/N (default from SLURM_ARRAY_TASK_ID or JOB_COMPLETION_INDEX)' })
      .option('only', { type: 'string', requiresArg: true, describe: 'run one run: point=P,replicate=R' })
      .option('check', checkOption)
      .option('margin-checks', {
        type: 'string',
        requiresArg: true,
        describe: 'event (default): mark only accounts whose prices moved near their line; every-step: every account at every step (the reference; same results, slower)',
      })
      .option('quiet', { type: 'boolean', default: false, describe: 'no progress output; only the final line' }) as unknown as Argv<RunArgs>,
  handler: async (argv) => {
    const overrides = runOverrides(argv);
    const exp = loadExperiment(argv.file, overrides);
    const workers = parseWorkers(argv.workers);
    const fromEnvironment = argv.shard !== undefined ? null : shardFromEnvironment(process.env);
    const shard = argv.shard !== undefined ? parseShard(argv.shard) : (fromEnvironment?.shard ?? null);
    const only = argv.only !== undefined ? parseOnly(argv.only) : null;
    const outDir = resolve(argv.out ?? defaultOutDir(exp.name, only, shard));
    const mode = argv.quiet ? 'none' : process.stdout.isTTY ? 'bar' : 'lines';
    // Imported here so validate/schema/list, and bad-input errors, never load the engine.
    const { runExperiment, RunInterrupted } = await import('../../runner/runExperiment.ts');
    const progress = makeProgress(mode);
    // Ctrl-C, or a scheduler's SIGTERM (Slurm at its time limit): the sweep stops (no run starts, the
    // workers are terminated, the Arrow files are not written), the runs committed so far stay (each is
    // its own part file); say so and exit as a process killed by the signal does (128 + its number). A
    // second signal exits at once.
    const stop = listenForStop();
    let result: RunExperimentResult;
    try {
      result = await runExperiment(exp, {
        outDir,
        check: argv.check,
        marginChecks: parseMarginChecks(argv.marginChecks),
        overrides,
        source: argv.file,
        workers,
        shard,
        shardFrom: fromEnvironment?.from ?? null,
        only,
        signal: stop.signal,
        // A signal must be able to stop a run in progress, however long: never in this thread.
        threaded: true,
        onProgress: (p) => progress.update(p),
        onStart: (st) => progress.start(st),
      });
    } catch (e) {
      const stopping = stop.stopping();
      if (!(e instanceof RunInterrupted) || stopping === null) throw e;
      progress.stop();
      process.stderr.write(
        `\ninterrupted by ${stopping}: ${e.committed} of ${e.planned} runs are committed in ${e.outDir}; run the same command again to do the rest\n`,
      );
      process.exit(signalExitCode(stopping));
    } finally {
      stop.dispose();
      progress.stop();
    }
    // A sweep that completed ends with its answer per point (not for a shard: it holds a slice).
    if (!argv.quiet && shard === null && only === null && result.failures.length === 0) {
      const { pointTable } = await import('../../analysis/pointTable.ts');
      const table = pointTable(result.outDir);
      if (table !== null) process.stdout.write(`${table}\n\n`);
    }
    const resumed = result.resumed ? ` (${result.resumed} resumed from an earlier attempt)` : '';
    const where = shard ? ` [shard ${shard.index}/${shard.count}]` : '';
    process.stdout.write(`${result.runsDone} run${result.runsDone === 1 ? '' : 's'} done${resumed}${where}; results in ${result.outDir}\n`);
    if (result.failures.length > 0) {
      const lines = result.failures
        .slice(0, 10)
        .map((f) => `  point ${f.point}, replicate ${f.replicate} (seed ${f.seed}): ${f.error}`);
      const first = result.failures[0]!;
      process.stderr.write(
        `${result.failures.length} run${result.failures.length === 1 ? '' : 's'} failed:\n${lines.join('\n')}\n` +
          (result.failures.length > 10 ? `  … and ${result.failures.length - 10} more (see manifest.json)\n` : '') +
          `Reproduce one with: contagion run ${argv.file} --only point=${first.point},replicate=${first.replicate}` +
          `${overrides.map((o) => ` --set ${o}`).join('')} --out ${outDir}-debug --check\n`,
      );
      process.exitCode = 1;
    }
  },
};

/**
 * The results folder without --out: results/<name>; one run (--only) or a shard in a folder of its own,
 * since in the sweep's folder its files would replace the sweep's, and a job array's shards would
 * contend for one folder.
 */
function defaultOutDir(name: string, only: RunKey | null, shard: Shard | null): string {
  if (only) return `results/${name}-p${only.point}-r${only.replicate}`;
  if (shard) return `results/${name}-shard-${shard.index}-of-${shard.count}`;
  return `results/${name}`;
}

/** --margin-checks: "event" (default) or "every-step". */
export function parseMarginChecks(text: string | undefined): MarginChecks {
  if (text === undefined) return 'event';
  if (text !== 'event' && text !== 'every-step') {
    throw new UsageError(`--margin-checks: got "${text}", expected "event" or "every-step"`);
  }
  return text;
}

/** --workers: a whole number ≥ 1; default the machine's available parallelism. */
export function parseWorkers(text: string | undefined): number {
  if (text === undefined) return availableParallelism();
  if (!/^\d+$/.test(text.trim()) || Number(text) < 1) {
    throw new UsageError(`--workers: got "${text}", expected a whole number ≥ 1`);
  }
  return Number(text);
}
