// `contagion validate FILE [--set path=value]...`: check an experiment without running it and
// say what it holds. Problems are thrown as ExperimentError, which exit.ts prints with exit 2.
import type { Argv, CommandModule, Options } from 'yargs';
import { loadExperiment } from '../../experiment/load.ts';
import type { Experiment } from '../../experiment/schema.ts';
import { sweepSize } from '../../experiment/sweep.ts';

/** `--set path=value`, repeatable; kept as strings so overrides.ts parses the value. Shared with run. */
export const setOption: Options = {
  type: 'string',
  requiresArg: true,
  describe: 'override a value, e.g. --set scenario.assets.0.volatilityAnnual=0.9 (repeatable)',
};

/** yargs gives a string for one --set and an array for several; always return an array. */
export function setList(v: unknown): string[] {
  if (v === undefined) return [];
  return (Array.isArray(v) ? v : [v]).map(String);
}

interface ValidateArgs {
  file: string;
  set: string[] | undefined;
}

/** One line summarising a valid experiment (with its number of sweep points when it has a sweep). */
export function summarize(file: string, exp: Experiment): string {
  const s = exp.scenario;
  const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;
  // A sweep multiplies the runs: "P points × R runs"; without one the line is unchanged.
  const points = exp.sweep ? `${plural(sweepSize(exp), 'point')} × ` : '';
  return `${file}: valid (${plural(s.assets.length, 'asset')}, ${plural(s.exchanges.length, 'exchange')}, ${plural(s.traders.length, 'trader cohort')}, ${points}${plural(exp.runs, 'run')} × ${plural(exp.steps, 'step')})`;
}

export const validateCommand: CommandModule<object, ValidateArgs> = {
  command: 'validate <file>',
  describe: 'Check an experiment file (and any --set overrides) without running it',
  builder: (y: Argv) =>
    y
      .positional('file', { type: 'string', demandOption: true, describe: 'experiment JSON file' })
      .option('set', setOption) as unknown as Argv<ValidateArgs>,
  handler: (argv) => {
    const exp = loadExperiment(argv.file, setList(argv.set));
    process.stdout.write(summarize(argv.file, exp) + '\n');
  },
};
