// Runs every replicate of an experiment in order and streams each run's tables to the results
// folder; writes the manifest (provenance: the resolved experiment and its hash, seeds,
// overrides, versions, times) when all runs are done. Files appear under their final names only
// when complete.
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import type { Experiment } from '../experiment/schema.ts';
import { buildGraph } from '../graph/build.ts';
import { replicateSeeds, simulateRun } from '../engine/simulate.ts';
import type { RunSummary } from '../engine/record.ts';
import { ResultsWriter } from '../io/resultsWriter.ts';

export interface RunExperimentOptions {
  outDir: string;
  /** Check every invariant after every step. */
  check: boolean;
  quiet: boolean;
  /** The --set arguments, recorded in the manifest. */
  overrides: string[];
  /** Path of the experiment file, recorded in the manifest. */
  source: string;
  onRunDone?: (done: number, total: number, summary: RunSummary) => void;
}

const packageRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** sha256 of the experiment's canonical JSON (keys sorted), so a manifest names what ran. */
export function experimentHash(exp: Experiment): string {
  const canonical = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(canonical)
      : v && typeof v === 'object'
        ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, canonical((v as Record<string, unknown>)[k])]))
        : v;
  return createHash('sha256').update(JSON.stringify(canonical(exp))).digest('hex');
}

function gitCommit(): string | null {
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], { cwd: packageRoot, stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .trim();
  } catch {
    return null;
  }
}

export async function runExperiment(
  exp: Experiment,
  opts: RunExperimentOptions,
): Promise<{ runsDone: number; outDir: string; summaries: RunSummary[] }> {
  const startedAt = new Date().toISOString();
  const graph = buildGraph(exp);
  const writer = await ResultsWriter.open(opts.outDir, {
    protocols: exp.scenario.exchanges.map((x) => x.id),
    assets: exp.scenario.assets.map((a) => a.symbol),
    cohorts: [...exp.scenario.traders.map((c) => c.id), ...exp.scenario.backstopVaults.map((v) => v.id)],
    output: exp.output,
  });
  const summaries: RunSummary[] = [];
  try {
    for (let r = 0; r < exp.runs; r++) {
      const result = simulateRun(exp, graph, r, { check: opts.check });
      writer.append(result);
      summaries.push(result.summary);
      opts.onRunDone?.(r + 1, exp.runs, result.summary);
    }
  } catch (e) {
    await writer.abort();
    throw e;
  }
  const pkg = JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as { version: string };
  await writer.close({
    experiment: exp,
    experiment_hash: experimentHash(exp),
    source: opts.source,
    overrides: opts.overrides,
    package_version: pkg.version,
    git_commit: gitCommit(),
    node_version: process.version,
    checked_invariants: opts.check,
    runs: Array.from({ length: exp.runs }, (_, r) => ({ point_index: 0, replicate: r, seed: replicateSeeds(exp.seed, r) })),
    runs_done: summaries.length,
    runs_failed: 0,
    started_at: startedAt,
    finished_at: new Date().toISOString(),
  });
  return { runsDone: summaries.length, outDir: opts.outDir, summaries };
}
