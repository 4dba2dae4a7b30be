#!/usr/bin/env node
// Entry point of the `contagion` command. Runs main.ts as one esbuild bundle of the sources (no build
// step after `npm ci`: the bundle is made at start-up, about 0.1 s, and cached; see bundle.js), or
// through tsx when no bundle can be made. A failure to even load the CLI is reported without a stack
// trace.
import { importEntry } from './bundle.js';

// A reader that stops early (`contagion list | head -3`) closes the pipe: stop quietly, as Unix tools
// do, instead of an unhandled EPIPE with a stack trace.
process.stdout.on('error', (err) => {
  if (err.code === 'EPIPE') process.exit(0);
  process.stderr.write(`internal error: standard output: ${err.message}\n`);
  process.exit(1);
});

try {
  await importEntry(new URL('./main.ts', import.meta.url));
} catch (err) {
  const debug = process.env.CONTAGION_DEBUG === '1';
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`internal error: ${message}\n`);
  if (debug && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
  else process.stderr.write('(set CONTAGION_DEBUG=1 to see the stack trace)\n');
  process.exit(1);
}
