// Every run's World must share one V8 hidden class (see src/model/shape.ts): otherwise the step
// kernels' inline caches go megamorphic after four runs and a sweep's later runs are several times
// slower. Checked with V8's own %HaveSameMap in a child process started with
// --allow-natives-syntax (the flag cannot be turned on inside the test runner's process).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { withStableShape } from '../src/model/shape.ts';

const SCRIPT = fileURLToPath(new URL('./fixtures/hiddenClasses.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../', import.meta.url));

describe('hidden classes', () => {
  it('the World and the objects inside it have one map across replicates, before and after running', () => {
    const r = spawnSync(process.execPath, ['--allow-natives-syntax', '--import', 'tsx', SCRIPT], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout) as { before: Record<string, boolean>; after: Record<string, boolean> };
    const all = { world: true, ledger: true, events: true, acc: true, totals: true, scratch: true, switching: true, prices: true, behaviour: true };
    expect(out.before).toEqual(all);
    expect(out.after).toEqual(all);
  });

  it('withStableShape copies every field, in order, and rejects a name it cannot assign', () => {
    const fields = Object.fromEntries(Array.from({ length: 140 }, (_, i) => [`f${i}`, i * 1.5]));
    const copy = withStableShape(fields);
    expect(Object.keys(copy)).toEqual(Object.keys(fields));
    expect(Object.values(copy)).toEqual(Object.values(fields));
    expect(copy).not.toBe(fields);
    expect(() => withStableShape({ 'not-an-identifier': 1 })).toThrow(/not an identifier/);
  });
});
