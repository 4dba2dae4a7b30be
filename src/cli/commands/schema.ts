// `contagion schema`: print the JSON Schema of an experiment file, generated from the zod schema
// so it can never drift from what `validate` accepts. Fields with defaults are optional in it,
// because it describes what a user writes, not the filled-in result.
import type { CommandModule } from 'yargs';
import { z } from 'zod';
import { Experiment } from '../../experiment/schema.ts';

/** The JSON Schema (draft 2020-12) of an experiment file as a user writes it. */
export function experimentJsonSchema(): Record<string, unknown> {
  const generated = z.toJSONSchema(Experiment, { io: 'input', target: 'draft-2020-12' }) as Record<string, unknown>;
  const { $schema, ...rest } = generated;
  return {
    $schema,
    $id: 'urn:contagion:experiment',
    title: 'contagion experiment',
    description: 'An experiment for the contagion liquidation-cascade simulator (validate with `contagion validate FILE`).',
    ...rest,
  };
}

export const schemaCommand: CommandModule = {
  command: 'schema',
  describe: 'Print the JSON Schema of experiment files',
  handler: () => {
    process.stdout.write(JSON.stringify(experimentJsonSchema(), null, 2) + '\n');
  },
};
