// The `contagion` command line: yargs with one module per command under commands/. Usage
// problems (unknown command or option, missing argument) print the help and exit 2; errors
// thrown by a command go to exit.ts, which maps them to a message and an exit code.
import { readFileSync } from 'node:fs';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { graphCommand } from './commands/graph.ts';
import { listCommand } from './commands/list.ts';
import { mergeCommand } from './commands/merge.ts';
import { reportCommand } from './commands/report.ts';
import { runCommand } from './commands/run.ts';
import { schemaCommand } from './commands/schema.ts';
import { sizeFundCommand } from './commands/sizeFund.ts';
import { validateCommand } from './commands/validate.ts';
import { EXIT_BAD_INPUT, exitWithError } from './exit.ts';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

/** Parse `argv` (defaults to this process's arguments) and run the chosen command. */
export async function main(argv: string[] = hideBin(process.argv)): Promise<void> {
  const cli = yargs(argv)
    .scriptName('contagion')
    .usage('$0 <command> [options]\n\nSimulate liquidation cascades in leveraged crypto markets.')
    .command(runCommand)
    .command(validateCommand)
    .command(schemaCommand)
    .command(listCommand)
    .command(mergeCommand)
    .command(sizeFundCommand)
    .command(reportCommand)
    .command(graphCommand)
    .demandCommand(1, 'Name a command: run, merge, size-fund, report, validate, schema, list or graph.')
    .recommendCommands()
    .strict()
    .version(pkg.version)
    .help()
    .alias('h', 'help')
    .wrap(Math.min(100, process.stdout.columns || 100))
    .fail((msg, err, y) => {
      // yargs routes errors thrown by command handlers here too: those are not usage problems.
      // Its own parse errors (e.g. an option missing its value) arrive as a YError.
      if (err && err.name !== 'YError') throw err;
      y.showHelp((s: string) => process.stderr.write(s + '\n'));
      // recommendCommands() replaces "Unknown argument" by its suggestion; say what was wrong too.
      const text = msg?.startsWith('Did you mean') ? `Unknown command: ${argv[0] ?? ''}. ${msg}` : msg;
      process.stderr.write(`\n${text ?? err?.message ?? 'invalid usage'}\n`);
      process.exit(EXIT_BAD_INPUT);
    });
  await cli.parseAsync();
}

try {
  await main();
} catch (err) {
  exitWithError(err);
}
