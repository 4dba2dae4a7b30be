// `contagion merge DIR... --out DIR`: join the results folders of an experiment's shards into
// one, byte-identical to an unsharded run. Bad input (a missing shard, another experiment) exits 2.
import { resolve } from 'node:path';
import type { Argv, CommandModule } from 'yargs';

interface MergeArgs {
  dirs: string[];
  out: string;
}

export const mergeCommand: CommandModule<object, MergeArgs> = {
  command: 'merge <dirs..>',
  describe: 'Join the results folders of the shards of one experiment',
  builder: (y: Argv) =>
    y
      .positional('dirs', { type: 'string', array: true, demandOption: true, describe: 'shard results folders' })
      .option('out', { type: 'string', requiresArg: true, demandOption: true, describe: 'merged results folder' }) as unknown as Argv<MergeArgs>,
  handler: async (argv) => {
    const { mergeResults } = await import('../../runner/merge.ts');
    const out = resolve(argv.out);
    const { runs, failed } = await mergeResults(argv.dirs.map((d) => resolve(d)), out);
    process.stdout.write(`merged ${argv.dirs.length} folders: ${runs} runs${failed ? ` (${failed} failed runs listed in the manifest)` : ''}; results in ${out}\n`);
  },
};
