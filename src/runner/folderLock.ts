// One command at a time per results folder. Two commands writing the same folder at once (the same
// command started twice, a requeued cluster job while the first still runs) would each remove the
// other's part temporaries at start and write the same `*.arrow.tmp` files: failed runs, and final
// files silently mixed from both. So a command holds `parts/lock` while it writes the folder: created
// exclusively, naming its host and process, its modification time refreshed as a heartbeat.
//
// A lock left by a command that died (SIGKILL, a lost node) is taken over: on the same host when its
// process no longer exists or its heartbeat is older than STALE_MS; from another host once its
// heartbeat has stopped for STALE_MS (a live command refreshes it every HEARTBEAT_MS, so the new
// command watches it that long before deciding).
import * as fs from 'node:fs';
import * as os from 'node:os';
import { resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { ExperimentError } from '../experiment/errors.ts';

interface LockInfo {
  host: string;
  pid: number;
  started_at: string;
  /** Tells apart two holders in one process (tests, a program calling runExperiment twice at once). */
  token: string;
}

/** Timings, in milliseconds (tests shorten them). */
export const folderLockTimings = { HEARTBEAT_MS: 10_000, STALE_MS: 35_000, POLL_MS: 1_000 };

/** A held lock: release() removes it (once). */
export interface FolderLock {
  release(): void;
}

const lockPath = (outDir: string) => resolve(outDir, 'parts', 'lock');

/** Holders in this process, by lock path (a pid check cannot tell them apart). */
const heldHere = new Set<string>();

function readLock(path: string): { info: LockInfo | null; mtimeMs: number } | null {
  try {
    const mtimeMs = fs.statSync(path).mtimeMs;
    let info: LockInfo | null = null;
    try {
      info = JSON.parse(fs.readFileSync(path, 'utf8')) as LockInfo;
    } catch {
      // Being written, or damaged: judged by its heartbeat alone.
    }
    return { info, mtimeMs };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
}

function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists, as another user's.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Whether the lock at `path` belongs to a live command: on this host, by its process; from another
 * (or unreadable), by whether its heartbeat moves within STALE_MS.
 */
async function isLive(path: string, seen: { info: LockInfo | null; mtimeMs: number }): Promise<boolean> {
  const { info } = seen;
  const { STALE_MS, POLL_MS } = folderLockTimings;
  if (info !== null && info.host === os.hostname()) {
    if (info.pid === process.pid) return heldHere.has(path);
    // A process of that number whose heartbeat has stopped is another one (a restarted container
    // reuses the pod's host name and low process numbers).
    return processExists(info.pid) && Date.now() - seen.mtimeMs < STALE_MS;
  }
  for (;;) {
    const now = readLock(path);
    if (now === null) return false; // released meanwhile
    if (now.mtimeMs !== seen.mtimeMs) return true; // its heartbeat moved
    if (Date.now() - now.mtimeMs >= STALE_MS) return false;
    await sleep(Math.min(POLL_MS, STALE_MS));
  }
}

/**
 * Takes the lock of results folder `outDir` (its parts folder must exist), or throws ExperimentError
 * (bad input: `--out`) when another live command holds it.
 */
export async function lockFolder(outDir: string): Promise<FolderLock> {
  const path = lockPath(outDir);
  const mine: LockInfo = { host: os.hostname(), pid: process.pid, started_at: new Date().toISOString(), token: randomBytes(8).toString('hex') };
  for (let attempt = 0; ; attempt++) {
    try {
      fs.writeFileSync(path, `${JSON.stringify(mine)}\n`, { flag: 'wx' });
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || attempt >= 3) throw e;
    }
    const seen = readLock(path);
    if (seen === null) continue;
    if (await isLive(path, seen)) {
      const who = seen.info ? `process ${seen.info.pid} on ${seen.info.host}, since ${seen.info.started_at}` : 'a command that left no details';
      throw new ExperimentError(outDir, [
        {
          path: '--out',
          value: outDir,
          message: `another contagion command is writing this folder (${who}): wait for it to finish, or choose another --out (if none is running, delete ${path})`,
        },
      ]);
    }
    // Stale: moved aside (atomically: of two commands taking it over, one rename finds it gone).
    try {
      fs.renameSync(path, `${path}.stale-${mine.token}`);
      fs.rmSync(`${path}.stale-${mine.token}`, { force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
  }
  heldHere.add(path);
  const heartbeat = setInterval(() => {
    try {
      const t = new Date();
      fs.utimesSync(path, t, t);
    } catch {
      // Removed under us (a user deleting the folder): nothing to refresh.
    }
  }, folderLockTimings.HEARTBEAT_MS);
  heartbeat.unref();
  let released = false;
  return {
    release() {
      if (released) return;
      released = true;
      clearInterval(heartbeat);
      heldHere.delete(path);
      // Only our own lock: one taken over from us (after a long freeze) is the other command's.
      const now = readLock(path);
      if (now?.info?.token === mine.token) fs.rmSync(path, { force: true });
    },
  };
}

/**
 * Removes everything in outDir/parts but the lock: for a command that holds the lock and starts the
 * folder's part files afresh (size-fund's scratch folder, whose parts are only the pool's hand-over).
 * Removing the parts folder itself would take the lock with it, and a second command would no longer
 * be refused.
 */
export function emptyPartsKeepingLock(outDir: string): void {
  const parts = resolve(outDir, 'parts');
  for (const name of fs.readdirSync(parts)) if (name !== 'lock') fs.rmSync(resolve(parts, name), { recursive: true, force: true });
}
