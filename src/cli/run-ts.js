#!/usr/bin/env node
// `node src/cli/run-ts.js FILE.ts [args…]`: runs one of this package's TypeScript programs the way the
// CLI runs main.ts — as one bundle of the sources (bundle.js), else through tsx — with process.argv as
// if it had been started directly (`node FILE.ts args…`). The benchmark and its helper processes use
// it, so that they measure the code the CLI runs.
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { importEntry } from './bundle.js';

const file = process.argv[2];
if (file === undefined) {
  process.stderr.write('usage: node src/cli/run-ts.js FILE.ts [args…]\n');
  process.exit(2);
}
process.argv.splice(1, 2, resolve(file));
await importEntry(pathToFileURL(resolve(file)));
