// One command at a time per results folder (src/runner/folderLock.ts): a second is refused while the
// first lives, and a lock left by a command that died is taken over — on this host when its process is
// gone, from another host once its heartbeat has stopped.
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { emptyPartsKeepingLock, folderLockTimings, lockFolder } from '../src/runner/folderLock.ts';
import { ExperimentError } from '../src/experiment/errors.ts';

const dirs: string[] = [];
function folder(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'contagion-lock-'));
  fs.mkdirSync(path.join(d, 'parts'));
  dirs.push(d);
  return d;
}
afterAll(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));
const defaults = { ...folderLockTimings };
afterEach(() => Object.assign(folderLockTimings, defaults));

const lockFile = (d: string) => path.join(d, 'parts', 'lock');
const holder = (d: string) => JSON.parse(fs.readFileSync(lockFile(d), 'utf8')) as { host: string; pid: number; token: string };

describe('the results folder lock', () => {
  it('emptying the parts folder (size-fund starts its hand-over afresh) keeps the lock: a second command is still refused', async () => {
    // Session 19's size-fund removed parts/ with the lock in it right after taking it and made the
    // folder again, so a second search into the same folder took the lock and went ahead.
    const d = folder();
    const lock = await lockFolder(d);
    fs.writeFileSync(path.join(d, 'parts', 'p000000-r000000.run'), 'stale');
    fs.mkdirSync(path.join(d, 'parts', 'old'));
    emptyPartsKeepingLock(d);
    expect(fs.readdirSync(path.join(d, 'parts'))).toEqual(['lock']);
    expect(holder(d)).toMatchObject({ host: os.hostname(), pid: process.pid });
    await expect(lockFolder(d)).rejects.toBeInstanceOf(ExperimentError);
    lock.release();
    expect(fs.readdirSync(path.join(d, 'parts'))).toEqual([]);
  });

  it('refuses a second holder while the first holds it (bad input naming the holder and the way out), and lets it in once released', async () => {
    const d = folder();
    const first = await lockFolder(d);
    expect(holder(d)).toMatchObject({ host: os.hostname(), pid: process.pid });
    const refused = await lockFolder(d).then(
      () => null,
      (e: unknown) => e,
    );
    expect(refused).toBeInstanceOf(ExperimentError);
    expect((refused as Error).message).toContain(`--out: another contagion command is writing this folder (process ${process.pid} on ${os.hostname()}, since `);
    expect((refused as Error).message).toContain(`if none is running, delete ${lockFile(d)}`);
    first.release();
    expect(fs.existsSync(lockFile(d))).toBe(false);
    const second = await lockFolder(d);
    second.release();
    second.release(); // once only
  });

  it('takes over a lock on this host whose process has exited, or whose heartbeat has stopped', async () => {
    const d = folder();
    const gone = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    const deadPid = Number(gone.stdout);
    fs.writeFileSync(lockFile(d), JSON.stringify({ host: os.hostname(), pid: deadPid, started_at: 'then', token: 'dead' }));
    const lock = await lockFolder(d);
    expect(holder(d).pid).toBe(process.pid);
    expect(fs.readdirSync(path.join(d, 'parts'))).toEqual(['lock']); // the stale one is not left aside
    lock.release();
    // A live process of that number (a restarted container reuses them) with a fresh heartbeat holds
    // it; with a heartbeat older than STALE_MS it is another process, and the lock is taken over.
    const live = { host: os.hostname(), pid: process.ppid, started_at: 'then', token: 'reused' };
    fs.writeFileSync(lockFile(d), JSON.stringify(live));
    await expect(lockFolder(d)).rejects.toThrow(/another contagion command is writing this folder/);
    const old = new Date(Date.now() - folderLockTimings.STALE_MS - 1_000);
    fs.utimesSync(lockFile(d), old, old);
    (await lockFolder(d)).release();
  });

  it('from another host: refuses while its heartbeat moves, takes it over once the heartbeat has stopped for STALE_MS', async () => {
    Object.assign(folderLockTimings, { STALE_MS: 300, POLL_MS: 10 });
    const d = folder();
    fs.writeFileSync(lockFile(d), JSON.stringify({ host: 'elsewhere', pid: 1, started_at: 'then', token: 'other' }));
    const beat = setInterval(() => {
      const t = new Date();
      fs.utimesSync(lockFile(d), t, t);
    }, 40);
    try {
      await expect(lockFolder(d)).rejects.toThrow(/another contagion command is writing this folder \(process 1 on elsewhere, since then\)/);
    } finally {
      clearInterval(beat);
    }
    // The heartbeat stops (its node died): the lock is taken once it has been still for 300 ms.
    const t0 = Date.now();
    const lock = await lockFolder(d);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(200);
    expect(holder(d).host).toBe(os.hostname());
    lock.release();
    // A lock already still for longer is taken at once.
    fs.writeFileSync(lockFile(d), JSON.stringify({ host: 'elsewhere', pid: 1, started_at: 'then', token: 'other' }));
    const old = new Date(Date.now() - 10_000);
    fs.utimesSync(lockFile(d), old, old);
    const t1 = Date.now();
    (await lockFolder(d)).release();
    expect(Date.now() - t1).toBeLessThan(200);
  });

  it('keeps its heartbeat, and does not remove a lock that is no longer its own', async () => {
    Object.assign(folderLockTimings, { HEARTBEAT_MS: 20 });
    const d = folder();
    const lock = await lockFolder(d);
    const old = new Date(Date.now() - 60_000);
    fs.utimesSync(lockFile(d), old, old);
    await new Promise((r) => setTimeout(r, 100));
    expect(Date.now() - fs.statSync(lockFile(d)).mtimeMs).toBeLessThan(1_000);
    // Taken over meanwhile (this process froze past STALE_MS, say): release leaves the new holder's.
    fs.writeFileSync(lockFile(d), JSON.stringify({ host: 'elsewhere', pid: 1, started_at: 'now', token: 'theirs' }));
    lock.release();
    expect(holder(d).token).toBe('theirs');
  });
});
