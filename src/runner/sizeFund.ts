// `contagion size-fund`: the smallest insurance fund under which fewer than a share P of an
// experiment's stress paths reach ADL (or socialized loss), with a confidence interval. The search
// and the statistics are in analysis/fundSizing.ts; this drives them on the worker pool.
//
// Every path is a replicate of the experiment and sees the same random numbers at every fund size
// (common random numbers), so a path reaching ADL at one fund and not at a larger one is the fund's
// doing. Each round runs every path (of every sweep point) whose requirement is not yet bracketed
// closely enough, each at its own next fund size; a last round runs every path at its point's estimate,
// so the count reported there is measured, not inferred, and a path whose outcome there contradicts its
// search (not monotone in the fund) is counted.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { MarginChecks } from '../engine/marginIndex.ts';
import type { Experiment } from '../experiment/schema.ts';
import { RunFailedError } from '../experiment/errors.ts';
import type { SweepPoint } from '../experiment/sweep.ts';
import { fundAnswer, newBracket, nextFund, reached, recordTry, requirementOf, type FundAnswer, type FundOutcome, type PathBracket, type SearchBounds } from '../analysis/fundSizing.ts';
import type { RunOutcome } from './execute.ts';
import { searchKey, type FundJournal, type JournalRun } from './fundJournal.ts';
import { applySweepHeapPolicy } from './heapPolicy.ts';
import { WorkerPool } from './pool.ts';

export interface SizeFundOptions {
  /** Index of the fund in scenario.insuranceFunds. */
  fund: number;
  target: number;
  confidence: number;
  outcome: FundOutcome;
  workers: number;
  /** A folder for the runs' part files (its parts/ made here; the caller removes it). */
  scratchDir: string;
  check: boolean;
  marginChecks: MarginChecks;
  signal?: AbortSignal;
  /** Runs of an earlier search of the same points (fundJournal.ts): answered from it, and each round's new runs added to it. */
  journal?: FundJournal;
  /**
   * After each round: its number, the runs it asked for (of which `fromJournal` were answered by the
   * journal), the funds they tried, paths still searching after it.
   */
  onRound?: (r: { round: number; paths: number; fromJournal: number; minFund: number; maxFund: number; searching: number }) => void;
}

/** One search: an experiment (a sweep point's, or the only one) and its bounds. */
export interface FundSearch {
  exp: Experiment;
  bounds: SearchBounds;
}

export interface FundTry {
  round: number;
  replicate: number;
  fund_usd: number;
  reached: boolean;
  adl_count: number;
  socialized_loss_usd: number;
  total_bad_debt_usd: number;
  /** The fund's lowest balance in the run (the lowest of any fund's when the scenario has several). */
  fund_min_usd: number;
  /** The run's insurance_fund_required_usd: the smallest fund that meets every demand it met (the hint). */
  fund_required_usd: number;
  /** Whether the fund size was chosen from an earlier run's draw on the fund (nextFund's hint). */
  hinted: boolean;
}

export interface SizeFundResult {
  paths: number;
  /** Each path's requirement (Infinity: it reached the outcome at the largest fund). */
  requirements: number[];
  answer: FundAnswer;
  /** Paths that reached the outcome when all were run at the estimate (null when the estimate is Infinity). */
  reachedAtEstimate: number | null;
  /**
   * Paths whose run at the estimate contradicts their search: the outcome there though a smaller or equal
   * fund cleared them, or none though a larger or equal fund did not (not monotone in the fund size).
   */
  notMonotone: number;
  rounds: number;
  tries: FundTry[];
}

/** The experiment with fund `index` starting at `usd` (the base is validated; a fund size ≥ 0 is always valid). */
export function withFund(exp: Experiment, index: number, usd: number): Experiment {
  const funds = exp.scenario.insuranceFunds.map((f, i) => (i === index ? { ...f, initialUsd: usd } : f));
  return { ...exp, scenario: { ...exp.scenario, insuranceFunds: funds } };
}

/** The largest number of rounds a search can take (far above what the bounds need: a guard, not a setting). */
const MAX_ROUNDS = 200;

export class SizeFundInterrupted extends Error {
  constructor() {
    super('interrupted');
    this.name = 'SizeFundInterrupted';
  }
}

/**
 * Runs the searches (one per sweep point, each on its experiment's exp.runs paths) and returns their
 * answers, in order. The searches share their rounds: each round runs every path of every point still
 * searching, so the workers stay busy while one point's last few paths are bracketed.
 */
export async function sizeFunds(searches: FundSearch[], opts: SizeFundOptions): Promise<SizeFundResult[]> {
  // Only the run summaries are read: no tables are written.
  const bases = searches.map(({ exp }) => ({ ...exp, output: { steps: false, prices: false, events: false, attribution: false, cohorts: false } }));
  mkdirSync(join(opts.scratchDir, 'parts'), { recursive: true });
  applySweepHeapPolicy();
  // One pool for every round: its workers start, and compile the engine, once (pool.ts).
  const pool = new WorkerPool(Math.max(1, opts.workers), { base: bases[0]!, outDir: opts.scratchDir, check: opts.check, marginChecks: opts.marginChecks });
  try {
    return await searchOn(pool, searches, bases, opts);
  } finally {
    await pool.close();
  }
}

/** sizeFunds' rounds on `pool`, the searches' experiments as `bases` (tables off). */
async function searchOn(pool: WorkerPool, searches: FundSearch[], bases: Experiment[], opts: SizeFundOptions): Promise<SizeFundResult[]> {
  const brackets: PathBracket[][] = bases.map((e) => Array.from({ length: e.runs }, newBracket));
  // A cleared run's insurance_fund_required_usd guides the next tries (fundSizing.ts nextFund) when it is
  // this fund's: with one fund in the scenario.
  const hints = bases.map((e) => e.scenario.insuranceFunds.length === 1);
  const tries: FundTry[][] = bases.map(() => []);
  type Job = { search: number; replicate: number; fund: number; hinted: boolean };
  // Every (search, path, fund) is a point of its own: its index names its part file in the scratch folder,
  // and its experiment in the pool's workers for the whole search (never reused, as WorkerPool asks).
  let nextPoint = 0;
  const keys = bases.map((e) => searchKey(e, opts.fund));
  const tryOf = (round: number, job: Job, s: JournalRun): FundTry & { search: number } => ({
    search: job.search,
    round,
    replicate: job.replicate,
    fund_usd: job.fund,
    reached: reached(opts.outcome, { adlCount: s.adl_count, socializedLossUsd: s.socialized_loss_usd }),
    adl_count: s.adl_count,
    socialized_loss_usd: s.socialized_loss_usd,
    total_bad_debt_usd: s.total_bad_debt_usd,
    fund_min_usd: s.fund_min_usd,
    fund_required_usd: s.fund_required_usd,
    hinted: job.hinted,
  });
  // A round's tries in (search, replicate) order, and how many of them the journal answered.
  const runRound = async (round: number, all: Job[]): Promise<{ done: (FundTry & { search: number })[]; fromJournal: number }> => {
    const out: (FundTry & { search: number })[] = [];
    // Runs an earlier search made are read back, not made again.
    const jobs: Job[] = [];
    for (const j of all) {
      const known = opts.journal?.get(keys[j.search]!, j.replicate, j.fund);
      if (known) out.push(tryOf(round, j, known));
      else jobs.push(j);
    }
    const tasks = jobs.map((j) => ({ point: { index: nextPoint++, values: {} } as SweepPoint, replicate: j.replicate }));
    const byPoint = new Map(tasks.map((t, i) => [t.point.index, jobs[i]!]));
    const made: (FundTry & { search: number })[] = [];
    const failures: { job: Job; error: string }[] = [];
    let i = 0;
    if (tasks.length > 0) await pool.run(
      { count: tasks.length, next: () => tasks[i++] },
      (o: RunOutcome) => {
        const job = byPoint.get(o.point)!;
        if (!o.ok || !o.summary) {
          failures.push({ job, error: o.error ?? 'unknown error' });
          return;
        }
        const s = o.summary;
        made.push(
          tryOf(round, job, {
            adl_count: s.adlCount,
            socialized_loss_usd: s.socializedLossUsd,
            total_bad_debt_usd: s.totalBadDebtUsd,
            fund_min_usd: s.insuranceFundMinUsd,
            fund_required_usd: s.insuranceFundRequiredUsd,
          }),
        );
      },
      (point) => {
        const job = byPoint.get(point.index)!;
        return withFund(bases[job.search]!, opts.fund, job.fund);
      },
      opts.signal,
    );
    // What finished is kept, even when the round was interrupted or a run failed.
    made.sort((a, b) => a.search - b.search || a.replicate - b.replicate);
    opts.journal?.append(made.map((t) => ({ ...t, point: keys[t.search]! })));
    out.push(...made);
    if (opts.signal?.aborted) throw new SizeFundInterrupted();
    if (failures.length > 0) {
      const { job: f, error } = failures.sort((a, b) => a.job.search - b.job.search || a.job.replicate - b.job.replicate)[0]!;
      throw new RunFailedError(
        `${failures.length} run${failures.length === 1 ? '' : 's'} of the fund search failed (round ${round}); the first: path ${f.replicate} at a fund of ${f.fund} USD: ${error}`,
        { search: f.search, replicate: f.replicate, values: { [`scenario.insuranceFunds.${opts.fund}.initialUsd`]: f.fund } },
      );
    }
    // Completion order varies with the workers: the record does not.
    out.sort((a, b) => a.search - b.search || a.replicate - b.replicate);
    return { done: out, fromJournal: all.length - jobs.length };
  };
  const record = (done: (FundTry & { search: number })[]) => {
    for (const { search, ...t } of done) tries[search]!.push(t);
  };
  const fundRange = (jobs: Job[]) => {
    let minFund = Infinity;
    let maxFund = -Infinity;
    for (const j of jobs) {
      minFund = Math.min(minFund, j.fund);
      maxFund = Math.max(maxFund, j.fund);
    }
    return { minFund, maxFund };
  };

  // The next try of every path still searching (one each, so their number is the paths searching).
  const pending = (): Job[] => {
    const jobs: Job[] = [];
    brackets.forEach((paths, k) =>
      paths.forEach((b, r) => {
        const next = nextFund(b, searches[k]!.bounds);
        if (next !== null) jobs.push({ search: k, replicate: r, ...next });
      }),
    );
    return jobs;
  };
  let round = 0;
  for (let jobs = pending(); jobs.length > 0; ) {
    if (++round > MAX_ROUNDS) throw new Error(`internal: the fund search did not converge in ${MAX_ROUNDS} rounds`);
    const { done, fromJournal } = await runRound(round, jobs);
    for (const t of done) recordTry(brackets[t.search]![t.replicate]!, t.fund_usd, t.reached, hints[t.search] ? t.fund_required_usd : null, t.hinted);
    record(done);
    const next = pending();
    opts.onRound?.({ round, paths: jobs.length, fromJournal, ...fundRange(jobs), searching: next.length });
    jobs = next;
  }
  const rounds = round;
  const answers = brackets.map((paths) => {
    const requirements = paths.map(requirementOf);
    return { requirements, answer: fundAnswer(requirements, opts.target, opts.confidence) };
  });
  // Every path at its point's estimate, in one last round.
  const check: Job[] = [];
  answers.forEach(({ answer }, k) => {
    if (Number.isFinite(answer.estimate)) for (let r = 0; r < bases[k]!.runs; r++) check.push({ search: k, replicate: r, fund: answer.estimate, hinted: false });
  });
  const reachedAt = bases.map(() => 0);
  const notMonotone = bases.map(() => 0);
  if (check.length > 0) {
    round++;
    const { done, fromJournal } = await runRound(round, check);
    for (const t of done) {
      const b = brackets[t.search]![t.replicate]!;
      if (t.reached) reachedAt[t.search]!++;
      if (t.reached ? b.clear <= t.fund_usd : b.hit >= t.fund_usd) notMonotone[t.search]!++;
    }
    record(done);
    opts.onRound?.({ round, paths: check.length, fromJournal, ...fundRange(check), searching: 0 });
  }
  return answers.map(({ requirements, answer }, k) => ({
    paths: bases[k]!.runs,
    requirements,
    answer,
    reachedAtEstimate: Number.isFinite(answer.estimate) ? reachedAt[k]! : null,
    notMonotone: notMonotone[k]!,
    rounds: tries[k]!.reduce((m, t) => Math.max(m, t.round), 0) || rounds,
    tries: tries[k]!,
  }));
}
