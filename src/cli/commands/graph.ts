// `contagion graph FILE --format gexf|graphml|json [--out PATH] [--set path=value]...`: write the
// experiment's dependency graph (nodes with their kind, edges with their channel) for Gephi and
// other graph tools, to stdout or to a file. A format outside the choices is a usage error: yargs
// rejects it and main.ts's fail handler prints the help and the message, exit 2.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import { UsageError } from '../../experiment/errors.ts';
import { loadExperiment } from '../../experiment/load.ts';
import { buildGraph } from '../../graph/build.ts';
import { exportGraph, GRAPH_FORMATS, type GraphFormat } from '../../graph/export.ts';
import { setList, setOption } from './validate.ts';

interface GraphArgs {
  file: string;
  format: GraphFormat;
  out: string | undefined;
  set: string[] | undefined;
}

export const graphCommand: CommandModule<object, GraphArgs> = {
  command: 'graph <file>',
  describe: 'Write the dependency graph of an experiment (GEXF for Gephi, GraphML or graphology JSON)',
  builder: (y: Argv) =>
    y
      .positional('file', { type: 'string', demandOption: true, describe: 'experiment JSON file' })
      .option('format', {
        type: 'string',
        choices: GRAPH_FORMATS,
        requiresArg: true,
        demandOption: true,
        describe: 'gexf (GEXF 1.3, opens in Gephi), graphml, or json (graphology serialization)',
      })
      .option('out', { type: 'string', requiresArg: true, describe: 'file to write (default: standard output)' })
      .option('set', setOption)
      // yargs's own wording names the option without its dashes ("Argument: format"); say it as the
      // user typed it. The string table is yargs's, process-wide, but the builder only runs when this
      // command is chosen and the CLI parses once per process; `format` is the only option with choices.
      .updateStrings({ 'Argument: %s, Given: %s, Choices: %s': '--%s: %s is not an allowed value (choices: %s)' }) as unknown as Argv<GraphArgs>,
  handler: (argv) => {
    // yargs turns a repeated option into an array; these two must be given once.
    for (const name of ['format', 'out'] as const) {
      if (Array.isArray(argv[name])) throw new UsageError(`--${name} given more than once (${(argv[name] as unknown as string[]).join(', ')}): give it once`);
    }
    const exp = loadExperiment(argv.file, setList(argv.set));
    const g = buildGraph(exp);
    const text = exportGraph(g, argv.format, { description: `Dependency graph of the contagion experiment "${exp.name}"` });
    if (argv.out === undefined) {
      process.stdout.write(text);
      return;
    }
    const out = resolve(argv.out);
    try {
      mkdirSync(dirname(out), { recursive: true });
      writeFileSync(out, text);
    } catch (err) {
      throw new UsageError(`cannot write --out ${argv.out}: ${err instanceof Error ? err.message : String(err)}`);
    }
    process.stdout.write(`wrote ${out} (${argv.format}: ${g.order} nodes, ${g.size} edges)\n`);
  },
};
