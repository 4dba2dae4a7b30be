#!/usr/bin/env node
// Entry point of the `contagion` command. It registers tsx so the TypeScript sources run as they
// are (no build step after `npm ci`), pinned to this package's tsconfig whatever the cwd, then
// hands over to main.ts. A failure to even load the CLI is reported without a stack trace.
import { register } from 'tsx/esm/api';
import { fileURLToPath } from 'node:url';

register({ tsconfig: fileURLToPath(new URL('../../tsconfig.json', import.meta.url)) });
try {
  await import('./main.ts');
} catch (err) {
  const debug = process.env.CONTAGION_DEBUG === '1';
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`internal error: ${message}\n`);
  if (debug && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
  else process.stderr.write('(set CONTAGION_DEBUG=1 to see the stack trace)\n');
  process.exit(1);
}
