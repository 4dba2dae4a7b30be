// Joins the results folders of the shards of one experiment into one folder whose Arrow files are
// byte-identical to an unsharded run's: every run's part is read from whichever shard holds it
// and the files are assembled in run order with the same dictionaries and sweep columns.
import { makeOutputFolder } from '../io/outputFolder.ts';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ExperimentError } from '../experiment/errors.ts';
import { parseExperiment } from '../experiment/load.ts';
import { expandSweep } from '../experiment/sweep.ts';
import { assembleRuns } from '../io/resultsWriter.ts';
import { RunPlan, runOrdinal } from './plan.ts';
import { partsOnDisk } from './onDisk.ts';
import { experimentHash, partsHash, readStamp, writerOptions } from './runExperiment.ts';
import { lockFolder, type FolderLock } from './folderLock.ts';

interface ShardManifest {
  experiment: unknown;
  experiment_hash: string;
  /** The build that computed the shard's runs (engineHash.ts); absent before session 16. */
  engine_sha256?: string;
  shard: { index: number; count: number } | null;
  failures?: { point_index: number; replicate: number; seed: number; error: string }[];
  [key: string]: unknown;
}

function readManifest(dir: string): ShardManifest {
  const file = join(dir, 'manifest.json');
  if (!existsSync(file)) {
    throw new ExperimentError(dir, [{ path: 'manifest.json', value: undefined, message: 'no manifest.json: not a finished results folder (did this shard finish?)' }]);
  }
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as ShardManifest;
  } catch (e) {
    throw new ExperimentError(dir, [{ path: 'manifest.json', value: undefined, message: `not valid JSON: ${(e as Error).message}` }]);
  }
}

export async function mergeResults(dirs: string[], outDir: string): Promise<{ runs: number; failed: number }> {
  // Written into, a shard's folder would claim the whole sweep's runs while holding its own parts only.
  if (dirs.some((d) => resolve(d) === resolve(outDir))) {
    throw new ExperimentError(outDir, [{ path: '--out', value: outDir, message: 'is one of the folders being merged: expected another folder' }]);
  }
  const manifests = dirs.map(readManifest);
  const first = manifests[0]!;
  manifests.forEach((m, i) => {
    if (m.experiment_hash !== first.experiment_hash) {
      // The same experiment with another number of replicates is the likelier slip: say so.
      const runsOf = (x: ShardManifest) => (x.experiment as { runs?: unknown } | null)?.runs;
      const sameButRuns = sameExceptRuns(m, first);
      throw new ExperimentError(dirs[i]!, [
        {
          path: 'manifest.json experiment_hash',
          value: m.experiment_hash,
          message: sameButRuns
            ? `differs from ${dirs[0]} (${first.experiment_hash}): the same experiment with ${String(runsOf(m))} replicates per point against ${String(runsOf(first))} there; shards of one sweep must share --runs (run this shard again with --runs ${String(runsOf(first))}, or the others with ${String(runsOf(m))})`
            : `differs from ${dirs[0]} (${first.experiment_hash}): these folders are runs of different experiments`,
        },
      ]);
    }
  });
  // Shards of different builds would merge into files no single build writes.
  const builds = [...new Set(manifests.map((m) => m.engine_sha256).filter((e): e is string => typeof e === 'string'))];
  if (builds.length > 1) {
    throw new ExperimentError(dirs.join(' '), [
      {
        path: 'manifest.json engine_sha256',
        value: builds.map((b) => `${b.slice(0, 12)}…`).join(', '),
        message: 'the folders were computed by different builds of contagion (sources, dependencies or V8): merging would mix them; run every shard with one build',
      },
    ]);
  }
  const exp = parseExperiment(first.experiment, `${dirs[0]}/manifest.json`);
  if (experimentHash(exp) !== first.experiment_hash) {
    throw new ExperimentError(dirs[0]!, [{ path: 'manifest.json experiment', value: undefined, message: 'does not match its own experiment_hash' }]);
  }
  const points = expandSweep(exp);
  // Walked without a list (one bit a run per folder, by plan index): a merge's memory does not grow
  // with the runs.
  const plan = new RunPlan(points.length, exp.runs, null, null);
  const inDir = dirs.map((d) => partsOnDisk(d, plan));
  // A run failed in one folder and held by another (a shard run again, overlapping) is taken from that
  // one; a failure listed by several folders (the same folder given twice) counts once.
  const indexOfFailure = (f: { point_index: number; replicate: number }) => plan.indexOf(runOrdinal({ point: f.point_index, replicate: f.replicate }, exp.runs));
  const failed = new Set<number>();
  const failures = manifests
    .flatMap((m) => m.failures ?? [])
    .filter((f) => {
      const i = indexOfFailure(f);
      if (failed.has(i) || inDir.some((bits) => bits.has(i))) return false;
      failed.add(i);
      return true;
    })
    .sort((a, b) => indexOfFailure(a) - indexOfFailure(b));
  const key = (i: number) => {
    const o = plan.ordinal(i);
    return { point: plan.pointOf(o), replicate: plan.replicateOf(o) };
  };
  let missing = 0;
  let runs = 0;
  const shown: string[] = [];
  for (let i = 0; i < plan.count; i++) {
    if (failed.has(i)) continue;
    if (inDir.some((bits) => bits.has(i))) runs++;
    else if (++missing <= 5) shown.push(`point=${key(i).point},replicate=${key(i).replicate}`);
  }
  if (missing > 0) {
    throw new ExperimentError(dirs.join(' '), [
      {
        path: 'runs',
        value: `${missing} of ${plan.count}`,
        message: `missing from every folder (${shown.join('; ')}${missing > 5 ? '; …' : ''}): merge all the shards, after each has finished`,
      },
    ]);
  }
  // In order, each from the first folder that holds it.
  function* order(): Generator<{ dir: string; point: number; replicate: number }> {
    for (let i = 0; i < plan.count; i++) {
      if (failed.has(i)) continue;
      yield { dir: dirs[inDir.findIndex((bits) => bits.has(i))]!, ...key(i) };
    }
  }
  const startedAt = new Date().toISOString();
  refuseForeignFolder(outDir, exp);
  makeOutputFolder(outDir, '--out');
  // A run's folder (of this experiment) is written by its run command under parts/lock: not at the same time.
  const lock: FolderLock | null = existsSync(join(outDir, 'parts')) ? await lockFolder(outDir) : null;
  try {
    await assembleRuns(outDir, order(), writerOptions(exp, points), {
      ...first,
      merged_from: dirs,
      shards: manifests.map((m) => m.shard),
      shard: null,
      runs_planned: plan.count,
      runs_done: runs,
      runs_failed: failures.length,
      failures,
      runs: undefined,
      started_at: startedAt,
      finished_at: new Date().toISOString(),
    });
  } finally {
    lock?.release();
  }
  return { runs, failed: failures.length };
}

/** Whether two manifests' experiments differ in their number of replicates only. */
function sameExceptRuns(a: ShardManifest, b: ShardManifest): boolean {
  try {
    return partsHash(parseExperiment(a.experiment, 'manifest')) === partsHash(parseExperiment(b.experiment, 'manifest'));
  } catch {
    return false;
  }
}

/**
 * Refuses an --out that holds the results of another experiment: its Arrow files and manifest would be
 * replaced by the merge's, next to runs (parts/) the new files do not come from. A folder of the same
 * experiment is fine (a merge again, or a run's folder: the merged files are the bytes its own parts give).
 */
function refuseForeignFolder(outDir: string, exp: ReturnType<typeof parseExperiment>): void {
  const refuse = (what: string, found: string) => {
    throw new ExperimentError(outDir, [
      { path: '--out', value: outDir, message: `holds the results of another experiment (${what} ${found.slice(0, 12)}…, the merged one is ${experimentHash(exp).slice(0, 12)}…): choose another --out` },
    ]);
  };
  const manifest = join(outDir, 'manifest.json');
  if (existsSync(manifest)) {
    let found: unknown;
    try {
      found = (JSON.parse(readFileSync(manifest, 'utf8')) as { experiment_hash?: unknown }).experiment_hash;
    } catch {
      found = undefined;
    }
    if (found !== experimentHash(exp)) refuse('manifest.json experiment_hash', typeof found === 'string' ? found : 'unreadable');
  }
  const found = readStamp(join(outDir, 'parts', 'experiment.sha256'));
  if (found !== null && found !== partsHash(exp) && found !== experimentHash(exp)) refuse('parts/experiment.sha256', found);
}
