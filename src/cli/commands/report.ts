// `contagion report RESULTS [--out FILE] [--figures DIR]`: a results folder (of `run`, `merge` or
// `size-fund`) as one Markdown report (src/analysis/report.ts) on standard output, or in FILE; with
// --figures, its figures too (src/analysis/figures.ts: Vega-Lite specs and their SVG).
import { renameSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Argv, CommandModule } from 'yargs';

interface ReportArgs {
  results: string;
  out: string | undefined;
  figures: string | undefined;
}

export const reportCommand: CommandModule<object, ReportArgs> = {
  command: 'report <results>',
  describe: 'Summarize a results folder as Markdown: provenance, outcomes per point, who paid, where losses came from',
  builder: (y: Argv) =>
    y
      .positional('results', { type: 'string', demandOption: true, describe: 'results folder (of run, merge or size-fund)' })
      .option('out', { type: 'string', requiresArg: true, describe: 'write the report to this file instead of standard output' })
      .option('figures', { type: 'string', requiresArg: true, describe: 'also write figures to this folder: Vega-Lite specs (.vl.json) and SVG' }) as unknown as Argv<ReportArgs>,
  handler: async (argv) => {
    const { resultsReport } = await import('../../analysis/report.ts');
    const dir = resolve(argv.results);
    const text = `${resultsReport(dir)}\n`;
    const { makeOutputFolder } = await import('../../io/outputFolder.ts');
    if (argv.out === undefined) process.stdout.write(text);
    else {
      const file = resolve(argv.out);
      makeOutputFolder(dirname(file), '--out', argv.out);
      writeFileSync(`${file}.tmp`, text);
      renameSync(`${file}.tmp`, file);
      process.stdout.write(`report in ${file}\n`);
    }
    if (argv.figures !== undefined) {
      const { renderFigures, resultsFigures } = await import('../../analysis/figures.ts');
      const folder = resolve(argv.figures);
      makeOutputFolder(folder, '--figures', argv.figures);
      const written = await renderFigures(resultsFigures(dir), folder);
      // On standard error when the report is on standard output, so a pipe gets the report alone.
      (argv.out === undefined ? process.stderr : process.stdout).write(`figures in ${folder}: ${written.join(', ')} (each with its Vega-Lite spec, .vl.json)\n`);
    }
  },
};
