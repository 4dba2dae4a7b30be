// The bundle cache (src/cli/bundle.js): a bundle is reused, without esbuild, while every file it was
// made from hashes as it did, and made again when one of them changes; a bundle of other sources is
// kept for a day after its last use, since a running process may still start workers from it.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { bundleFile, KEEP_OTHER_BUNDLES_MS } from '../src/cli/bundle.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const cacheDir = path.join(root, 'node_modules', '.cache', 'contagion');
const stamp = `${process.pid}-${Date.now()}`;
// Two files of the package (the record's paths are relative to its root): an entry and what it imports.
const entry = path.join(root, 'test', `tmp-bundle-entry-${stamp}.ts`);
const dep = path.join(root, 'test', `tmp-bundle-dep-${stamp}.ts`);
const made: string[] = [entry, dep];

afterAll(() => {
  for (const f of made) fs.rmSync(f, { force: true });
  for (const f of fs.readdirSync(cacheDir)) if (f.includes(`tmp-bundle-entry-${stamp}`)) fs.rmSync(path.join(cacheDir, f), { force: true });
});

describe('the bundle cache', () => {
  it('reuses a bundle while its inputs hash the same, and makes a new one when one changes', async () => {
    fs.writeFileSync(dep, 'export const answer: number = 41;\n');
    fs.writeFileSync(entry, `import { answer } from './tmp-bundle-dep-${stamp}.ts';\nexport const value = answer + 1;\n`);
    const first = await bundleFile(pathToFileURL(entry));
    expect(first).not.toBeNull();
    expect((await import(first!.href)).value).toBe(42);
    // The record lists both files (and tsconfig.json) with their hashes.
    const records = fs.readdirSync(cacheDir).filter((f) => f.startsWith(`tmp-bundle-entry-${stamp}-`) && f.endsWith('.inputs.json'));
    expect(records).toHaveLength(1);
    const recordFile = path.join(cacheDir, records[0]!);
    const record = JSON.parse(fs.readFileSync(recordFile, 'utf8')) as { bundle: string; inputs: Record<string, string> };
    expect(Object.keys(record.inputs).sort()).toEqual([`test/tmp-bundle-dep-${stamp}.ts`, `test/tmp-bundle-entry-${stamp}.ts`, 'tsconfig.json']);
    expect(record.bundle).toBe(path.basename(fileURLToPath(first!)));

    // A hit returns the recorded bundle without building: point the record at a copy under another
    // name, and that name comes back (esbuild would have named the bundle by its contents).
    const alias = record.bundle.replace(/\.mjs$/, '-alias.mjs');
    fs.copyFileSync(fileURLToPath(first!), path.join(cacheDir, alias));
    made.push(path.join(cacheDir, alias));
    fs.writeFileSync(recordFile, JSON.stringify({ ...record, bundle: alias }));
    const hit = await bundleFile(pathToFileURL(entry));
    expect(path.basename(fileURLToPath(hit!))).toBe(alias);

    // A changed import is a miss: a new bundle, named by its contents, with the new value.
    fs.writeFileSync(dep, 'export const answer: number = 99;\n');
    const rebuilt = await bundleFile(pathToFileURL(entry));
    expect(path.basename(fileURLToPath(rebuilt!))).not.toBe(alias);
    expect(rebuilt!.href).not.toBe(first!.href);
    expect((await import(rebuilt!.href)).value).toBe(100);

    // The bundles of the earlier sources are still there: a process started from one may start more
    // workers from it. Once unused for longer than KEEP_OTHER_BUNDLES_MS (24 h), the next new bundle of
    // the entry removes them, and keeps the one made or used within the day.
    const firstFile = fileURLToPath(first!);
    const aliasFile = path.join(cacheDir, alias);
    expect(fs.existsSync(firstFile)).toBe(true);
    expect(fs.existsSync(aliasFile)).toBe(true);
    expect(KEEP_OTHER_BUNDLES_MS).toBe(24 * 3600 * 1000);
    const old = new Date(Date.now() - KEEP_OTHER_BUNDLES_MS - 60_000);
    fs.utimesSync(firstFile, old, old);
    fs.utimesSync(aliasFile, old, old);
    fs.writeFileSync(dep, 'export const answer: number = 7;\n');
    const third = await bundleFile(pathToFileURL(entry));
    expect((await import(third!.href)).value).toBe(8);
    expect(fs.existsSync(firstFile)).toBe(false);
    expect(fs.existsSync(aliasFile)).toBe(false);
    expect(fs.existsSync(fileURLToPath(rebuilt!))).toBe(true);
  });
});
