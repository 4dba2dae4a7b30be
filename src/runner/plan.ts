// Which runs a process executes: every (point, replicate) pair of an experiment in a fixed global
// order (point-major), sliced for a shard of a cluster job (Slurm array, Kubernetes indexed job),
// or narrowed to one run for debugging (--only).
import { UsageError } from '../experiment/errors.ts';

/** One run of an experiment: a sweep point and a replicate. */
export interface RunKey {
  point: number;
  replicate: number;
}

/** The I-th (0-based) of N deterministic slices of the runs. */
export interface Shard {
  index: number;
  count: number;
}

/** Global position of a run: point-major, replicate-minor. */
export function runOrdinal(key: RunKey, runsPerPoint: number): number {
  return key.point * runsPerPoint + key.replicate;
}

/** The most runs (points × replicates) an experiment may have: ordinals are exact 32-bit integers. */
export const MAX_RUNS = 2 ** 31 - 1;

/**
 * The runs one command covers, without listing them: the ordinals first, first + step, … below
 * `total` (shard I of N: I, I + N, …; --only: one ordinal; otherwise all). Everything the runner keeps
 * per run is then a bit (which runs are on disk), so its memory does not grow with the number of runs:
 * a list of keys and string sets cost ~200 bytes a run (10^7 runs: 1.6 GB before the first run ended).
 */
export class RunPlan {
  /** Runs of the whole experiment (points × replicates). */
  readonly total: number;
  /** Runs this command covers. */
  readonly count: number;
  readonly first: number;
  readonly step: number;

  constructor(
    readonly points: number,
    readonly runsPerPoint: number,
    shard: Shard | null,
    only: RunKey | null,
  ) {
    this.total = points * runsPerPoint;
    this.step = shard ? shard.count : 1;
    this.first = shard ? shard.index : 0;
    let end = this.total;
    if (only) {
      const inRange = only.point < points && only.replicate < runsPerPoint;
      const o = runOrdinal(only, runsPerPoint);
      // A shard and --only together: the one run, if the shard holds it.
      const held = inRange && (!shard || o % shard.count === shard.index);
      this.first = held ? o : this.total;
      this.step = 1;
      end = held ? o + 1 : this.total;
    }
    this.count = this.first < end ? Math.ceil((end - this.first) / this.step) : 0;
  }

  /** The i-th run this command covers (0 ≤ i < count), as its ordinal. */
  ordinal(i: number): number {
    return this.first + i * this.step;
  }

  /** The index (0 ≤ i < count) of ordinal `o` in this plan, or −1 when the plan does not cover it. */
  indexOf(o: number): number {
    const d = o - this.first;
    if (d < 0 || d % this.step !== 0) return -1;
    const i = d / this.step;
    return i < this.count ? i : -1;
  }

  pointOf(ordinal: number): number {
    return Math.floor(ordinal / this.runsPerPoint);
  }

  replicateOf(ordinal: number): number {
    return ordinal % this.runsPerPoint;
  }
}

/** One bit per run of a plan, by its index in the plan (which runs are on disk). */
export class PlanBits {
  private readonly bytes: Uint8Array;
  /** Bits set. */
  count = 0;

  constructor(n: number) {
    this.bytes = new Uint8Array(Math.ceil(n / 8));
  }

  has(i: number): boolean {
    return ((this.bytes[i >>> 3]! >>> (i & 7)) & 1) === 1;
  }

  set(i: number): void {
    if (this.has(i)) return;
    this.bytes[i >>> 3] = this.bytes[i >>> 3]! | (1 << (i & 7));
    this.count++;
  }
}

/**
 * The runs this process executes, in global order. Shard I of N takes the runs whose ordinal ≡ I
 * (mod N): round-robin keeps the slices balanced when points differ in cost. (As a list: for tests and
 * small folders; the runner walks a RunPlan.)
 */
export function planRuns(points: number, runsPerPoint: number, shard: Shard | null, only: RunKey | null): RunKey[] {
  const out: RunKey[] = [];
  for (let point = 0; point < points; point++) {
    for (let replicate = 0; replicate < runsPerPoint; replicate++) {
      const key = { point, replicate };
      if (shard && runOrdinal(key, runsPerPoint) % shard.count !== shard.index) continue;
      if (only && (only.point !== point || only.replicate !== replicate)) continue;
      out.push(key);
    }
  }
  return out;
}

/** Parses "I/N" (0 ≤ I < N). */
export function parseShard(text: string, source = '--shard'): Shard {
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  const index = m ? Number(m[1]) : NaN;
  const count = m ? Number(m[2]) : NaN;
  if (!m || !(count >= 1) || !(index < count)) {
    throw new UsageError(`${source}: got "${text}", expected I/N with 0 ≤ I < N, e.g. 0/4`);
  }
  return { index, count };
}

/** The environment variables a Slurm array's shard is read from, as named in messages. */
export const SLURM_SHARD_SOURCE = 'SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT';
/** The environment variables a Kubernetes indexed Job's shard is read from, as named in messages. */
export const KUBERNETES_SHARD_SOURCE = 'JOB_COMPLETION_INDEX/CONTAGION_SHARDS';

/**
 * The shard given by a cluster scheduler, if any, and the variables it came from: a Slurm job array
 * (task k of SLURM_ARRAY_TASK_COUNT, k = (SLURM_ARRAY_TASK_ID − SLURM_ARRAY_TASK_MIN) /
 * SLURM_ARRAY_TASK_STEP, so --array=1-4 and --array=0-6:2 give slices 0…3 of 4) or a Kubernetes
 * indexed Job (JOB_COMPLETION_INDEX, of CONTAGION_SHARDS, which the Job sets from its completions).
 *
 * A Slurm array must be one evenly spaced range of indices. A list (--array=3,7), typically some tasks
 * of an earlier array submitted again, is refused: Slurm's variables then describe the new array, so
 * its tasks would run the slices of a 2-way split, not slices 3 and 7 of the first. (A list that
 * happens to be evenly spaced cannot be told from a range here; the folder's shard stamp catches it:
 * runExperiment's shardFrom.)
 */
export function shardFromEnvironment(env: NodeJS.ProcessEnv): { shard: Shard; from: string } | null {
  const int = (name: string, value: string | undefined): number => {
    if (value === undefined || !/^\d+$/.test(value.trim())) {
      throw new UsageError(`environment ${name}: got ${JSON.stringify(value)}, expected a whole number`);
    }
    return Number(value);
  };
  if (env.SLURM_ARRAY_TASK_ID !== undefined) {
    const id = int('SLURM_ARRAY_TASK_ID', env.SLURM_ARRAY_TASK_ID);
    const min = env.SLURM_ARRAY_TASK_MIN === undefined ? 0 : int('SLURM_ARRAY_TASK_MIN', env.SLURM_ARRAY_TASK_MIN);
    const step = env.SLURM_ARRAY_TASK_STEP === undefined ? 1 : int('SLURM_ARRAY_TASK_STEP', env.SLURM_ARRAY_TASK_STEP);
    const count = int('SLURM_ARRAY_TASK_COUNT', env.SLURM_ARRAY_TASK_COUNT);
    const max = env.SLURM_ARRAY_TASK_MAX === undefined ? null : int('SLURM_ARRAY_TASK_MAX', env.SLURM_ARRAY_TASK_MAX);
    const offset = id - min;
    if (step < 1 || offset % step !== 0 || (max !== null && count >= 1 && max - min !== (count - 1) * step)) {
      throw new UsageError(
        `${SLURM_SHARD_SOURCE}: task ${id} of an array of ${count} task(s) with indices ${min}…${max ?? '?'} in steps of ${step} ` +
          `is not one evenly spaced range of indices, so it does not say which slice to run: ` +
          `pass --shard I/N (I this task's slice, N the number of slices of the first submission)`,
      );
    }
    return { shard: parseShard(`${offset / step}/${count}`, SLURM_SHARD_SOURCE), from: SLURM_SHARD_SOURCE };
  }
  if (env.JOB_COMPLETION_INDEX !== undefined) {
    const index = int('JOB_COMPLETION_INDEX', env.JOB_COMPLETION_INDEX);
    if (env.CONTAGION_SHARDS === undefined) {
      throw new UsageError(
        `environment CONTAGION_SHARDS: got undefined, expected a whole number: JOB_COMPLETION_INDEX is set (a Kubernetes indexed Job), ` +
          `so set CONTAGION_SHARDS to the Job's completions (experiments/cluster/k8s-indexed-job.yaml does), or pass --shard I/N`,
      );
    }
    const count = int('CONTAGION_SHARDS', env.CONTAGION_SHARDS);
    return { shard: parseShard(`${index}/${count}`, KUBERNETES_SHARD_SOURCE), from: KUBERNETES_SHARD_SOURCE };
  }
  return null;
}

/** Parses "point=P,replicate=R". */
export function parseOnly(text: string): RunKey {
  const m = /^\s*point\s*=\s*(\d+)\s*,\s*replicate\s*=\s*(\d+)\s*$/.exec(text);
  if (!m) throw new UsageError(`--only: got "${text}", expected point=P,replicate=R, e.g. point=0,replicate=3`);
  return { point: Number(m[1]), replicate: Number(m[2]) };
}
