// `contagion run FILE [--runs N] [--seed S] [--out DIR] [--set k=v]... [--check] [--quiet]`:
// validate the experiment (with --runs/--seed applied as overrides, so they are checked like the
// file), then hand it to the runner and show progress: a bar on a terminal, one line per run
// otherwise, nothing but the final line with --quiet.
import { resolve } from 'node:path';
import { SingleBar } from 'cli-progress';
import type { Argv, CommandModule } from 'yargs';
import { loadExperiment } from '../../experiment/load.ts';
import { setList, setOption } from './validate.ts';

interface RunArgs {
  file: string;
  runs: string | undefined;
  seed: string | undefined;
  out: string | undefined;
  set: string[] | undefined;
  check: boolean;
  quiet: boolean;
}

/** The full override list: --set first, then --runs and --seed, which win over a --set of the same key. */
export function runOverrides(args: { set?: unknown; runs?: string | undefined; seed?: string | undefined }): string[] {
  const sets = setList(args.set);
  if (args.runs !== undefined) sets.push(`runs=${args.runs}`);
  if (args.seed !== undefined) sets.push(`seed=${args.seed}`);
  return sets;
}

function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return '?';
  if (s < 60) return `${Math.round(s)}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** Progress reporting for the three modes (bar on a TTY, lines, none); `done` and `stop` are safe in any mode. */
export function makeProgress(mode: 'bar' | 'lines' | 'none', expectedTotal: number): {
  done: (done: number, total: number) => void;
  stop: () => void;
} {
  const started = Date.now();
  const rate = (done: number): number => done / Math.max((Date.now() - started) / 1000, 1e-3);
  if (mode === 'none') return { done: () => {}, stop: () => {} };
  if (mode === 'lines') {
    return {
      done: (done, total) => {
        const r = rate(done);
        process.stdout.write(`run ${done}/${total} done (${r.toFixed(2)} runs/s, ETA ${formatSeconds((total - done) / r)})\n`);
      },
      stop: () => {},
    };
  }
  const bar = new SingleBar({
    format: 'runs {bar} {value}/{total} | {rate} runs/s | ETA {eta_formatted}',
    stream: process.stdout,
    hideCursor: true,
    etaBuffer: 20,
  });
  bar.start(expectedTotal, 0, { rate: '0.00' });
  return {
    done: (done, total) => {
      if (total !== bar.getTotal()) bar.setTotal(total);
      bar.update(done, { rate: rate(done).toFixed(2) });
    },
    stop: () => bar.stop(),
  };
}

export const runCommand: CommandModule<object, RunArgs> = {
  command: 'run <file>',
  describe: 'Run the Monte Carlo replicates of an experiment and write Arrow results',
  builder: (y: Argv) =>
    y
      .positional('file', { type: 'string', demandOption: true, describe: 'experiment JSON file' })
      // Kept as strings: they become --set runs=N / seed=S and the schema checks them.
      .option('runs', { type: 'string', requiresArg: true, describe: 'replicates (overrides "runs")' })
      .option('seed', { type: 'string', requiresArg: true, describe: 'experiment seed (overrides "seed")' })
      .option('out', { type: 'string', requiresArg: true, describe: 'results folder (default results/<name>)' })
      .option('set', setOption)
      .option('check', { type: 'boolean', default: false, describe: 'check the invariants at every step (slower)' })
      .option('quiet', { type: 'boolean', default: false, describe: 'no progress output; only the final line' }) as unknown as Argv<RunArgs>,
  handler: async (argv) => {
    const overrides = runOverrides(argv);
    const exp = loadExperiment(argv.file, overrides);
    const outDir = resolve(argv.out ?? `results/${exp.name}`);
    const mode = argv.quiet ? 'none' : process.stdout.isTTY ? 'bar' : 'lines';
    // Imported here so validate/schema/list, and bad-input errors, never load the engine.
    const { runExperiment } = await import('../../runner/runExperiment.ts');
    const progress = makeProgress(mode, exp.runs);
    let result: { runsDone: number; outDir: string };
    try {
      result = await runExperiment(exp, {
        outDir,
        check: argv.check,
        quiet: argv.quiet,
        overrides,
        source: argv.file,
        onRunDone: progress.done,
      });
    } finally {
      progress.stop();
    }
    process.stdout.write(`${result.runsDone} run${result.runsDone === 1 ? '' : 's'} done; results in ${result.outDir}\n`);
  },
};
