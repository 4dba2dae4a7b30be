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
// Every table must have the rows the manifest says, and the types a reader relies on.
const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
const failures = [];
const expectType = (table, df, column, type) => {
  const got = String(df.getColumn(column).dtype).replace(/^DataType\((.*)\)$/, "$1");
  if (!got.startsWith(type)) failures.push(`${table}.${column}: Polars sees ${got}, expected ${type}`);
};
// runs.arrow is always written and cohorts.arrow at the default output level (schema 12).
for (const t of ['runs', 'cohorts']) if (!manifest.files.some((f) => f.table === t)) failures.push(`${t}: not in the manifest`);
// Every table the manifest lists (so a table added later is read too), each file present.
for (const { table } of manifest.files) {
  const file = join(dir, `${table}.arrow`);
  if (!existsSync(file)) {
    failures.push(`${table}: listed in the manifest, no ${table}.arrow`);
    continue;
  }
  // A Buffer, not the path: readIPC treats a string not ending in .ipc as inline IPC bytes.
  const df = pl.readIPC(readFileSync(file));
  const cols = df.columns.map((c) => `${c}:${df.getColumn(c).dtype}`);
  console.log(`${table}: ${df.height} rows; ${cols.join(', ')}`);
  const listed = manifest.files.find((f) => f.table === table);
  if (!listed || listed.rows !== df.height) failures.push(`${table}: Polars read ${df.height} rows, manifest lists ${listed?.rows}`);
  if (table === 'runs') expectType(table, df, 'seed', 'UInt32');
  if (table === 'steps') expectType(table, df, 'protocol', 'Categorical');
  if (table === 'prices') expectType(table, df, 'market_price', 'Float64');
  if (table === 'events') expectType(table, df, 'kind', 'Categorical');
  if (table === 'attribution') expectType(table, df, 'channel', 'Categorical');
  if (table === 'cohorts') expectType(table, df, 'cohort', 'Categorical');
  if (table === 'cohorts') expectType(table, df, 'pnl_usd', 'Float64');
}
if (failures.length) {
  console.error(failures.join('\n'));
  process.exit(1);
}
console.log('polars interop: ok');
