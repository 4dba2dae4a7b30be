// Joins the results folders of the shards of one experiment into one folder whose Arrow files are
// byte-identical to an unsharded run's: every run's part is read from whichever shard holds it
// and the files are assembled in run order with the same dictionaries and sweep columns.
import { makeOutputFolder } from '../io/outputFolder.ts';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ExperimentError } from '../experiment/errors.ts';
import { parseExperiment } from '../experiment/load.ts';
import { expandSweep } from '../experiment/sweep.ts';
import { listParts } from '../io/parts.ts';
import { assembleFromParts } from '../io/resultsWriter.ts';
import { planRuns } from './plan.ts';
import { experimentHash, writerOptions } from './runExperiment.ts';

interface ShardManifest {
  experiment: unknown;
  experiment_hash: string;
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
      throw new ExperimentError(dirs[i]!, [
        {
          path: 'manifest.json experiment_hash',
          value: m.experiment_hash,
          message: `differs from ${dirs[0]} (${first.experiment_hash}): these folders are runs of different experiments`,
        },
      ]);
    }
  });
  const exp = parseExperiment(first.experiment, `${dirs[0]}/manifest.json`);
  if (experimentHash(exp) !== first.experiment_hash) {
    throw new ExperimentError(dirs[0]!, [{ path: 'manifest.json experiment', value: undefined, message: 'does not match its own experiment_hash' }]);
  }
  const points = expandSweep(exp);
  const all = planRuns(points.length, exp.runs, null, null);
  const available = new Set<string>();
  for (const d of dirs) for (const k of listParts(d)) available.add(`${k.point}/${k.replicate}`);
  const failures = manifests.flatMap((m) => m.failures ?? []);
  const failed = new Set(failures.map((f) => `${f.point_index}/${f.replicate}`));
  const missing = all.filter((k) => !available.has(`${k.point}/${k.replicate}`) && !failed.has(`${k.point}/${k.replicate}`));
  if (missing.length > 0) {
    const shown = missing.slice(0, 5).map((k) => `point=${k.point},replicate=${k.replicate}`).join('; ');
    throw new ExperimentError(dirs.join(' '), [
      {
        path: 'runs',
        value: `${missing.length} of ${all.length}`,
        message: `missing from every folder (${shown}${missing.length > 5 ? '; …' : ''}): merge all the shards, after each has finished`,
      },
    ]);
  }
  const runs = all.filter((k) => available.has(`${k.point}/${k.replicate}`) && !failed.has(`${k.point}/${k.replicate}`));
  const startedAt = new Date().toISOString();
  makeOutputFolder(outDir, '--out');
  await assembleFromParts(outDir, dirs, runs, writerOptions(exp, points), {
    ...first,
    merged_from: dirs,
    shards: manifests.map((m) => m.shard),
    shard: null,
    runs_planned: all.length,
    runs_done: runs.length,
    runs_failed: failures.length,
    failures,
    runs: undefined,
    started_at: startedAt,
    finished_at: new Date().toISOString(),
  });
  return { runs: runs.length, failed: failures.length };
}
