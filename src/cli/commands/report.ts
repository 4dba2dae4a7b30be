// `contagion report RESULTS [--out FILE]`: a results folder (of `run`, `merge` or `size-fund`) as one
// Markdown report (src/analysis/report.ts) on standard output, or in FILE.
import { renameSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Argv, CommandModule } from 'yargs';

interface ReportArgs {
  results: string;
  out: string | undefined;
}

export const reportCommand: CommandModule<object, ReportArgs> = {
  command: 'report <results>',
  describe: 'Summarize a results folder as Markdown: provenance, outcomes per point, who paid, where losses came from',
  builder: (y: Argv) =>
    y
      .positional('results', { type: 'string', demandOption: true, describe: 'results folder (of run, merge or size-fund)' })
      .option('out', { type: 'string', requiresArg: true, describe: 'write the report to this file instead of standard output' }) as unknown as Argv<ReportArgs>,
  handler: async (argv) => {
    const { resultsReport } = await import('../../analysis/report.ts');
    const text = `${resultsReport(resolve(argv.results))}\n`;
    if (argv.out === undefined) {
      process.stdout.write(text);
      return;
    }
    const file = resolve(argv.out);
    const { makeOutputFolder } = await import('../../io/outputFolder.ts');
    const { dirname } = await import('node:path');
    makeOutputFolder(dirname(file), '--out', argv.out);
    writeFileSync(`${file}.tmp`, text);
    renameSync(`${file}.tmp`, file);
    process.stdout.write(`report in ${file}\n`);
  },
};
