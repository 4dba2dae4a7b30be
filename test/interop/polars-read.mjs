// Interop check: reads a results folder's Arrow files with Polars (a Rust Arrow implementation)
// and prints each file's row count and columns, so a failure here means another reader rejects
// what src/io writes. Needs nodejs-polars (not a project dependency):
//   npm install --no-save nodejs-polars nodejs-polars-linux-x64-gnu && node test/interop/polars-read.mjs DIR
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import pl from 'nodejs-polars';

const dir = process.argv[2];
if (!dir) {
  console.error('usage: node test/interop/polars-read.mjs RESULTS_DIR');
  process.exit(2);
}
for (const table of ['runs', 'steps', 'prices', 'events']) {
  const file = join(dir, `${table}.arrow`);
  if (!existsSync(file)) {
    console.log(`${table}: absent`);
    continue;
  }
  // A Buffer, not the path: readIPC treats a string not ending in .ipc as inline IPC bytes.
  const df = pl.readIPC(readFileSync(file));
  const cols = df.columns.map((c) => `${c}:${df.getColumn(c).dtype}`);
  console.log(`${table}: ${df.height} rows; ${cols.join(', ')}`);
  console.log(df.head(4).toString());
}
