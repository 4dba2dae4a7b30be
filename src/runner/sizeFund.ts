// `contagion size-fund`: the smallest insurance fund under which fewer than a share P of an
// experiment's stress paths reach ADL (or socialized loss), with a confidence interval. The search
// and the statistics are in analysis/fundSizing.ts; this drives them on the worker pool.
//
// Every path is a replicate of the experiment and sees the same random numbers at every fund size
// (common random numbers), so a path reaching ADL at one fund and not at a larger one is the fund's
// doing. Each round runs every path whose requirement is not yet bracketed closely enough, each at its
// own next fund size; a last round runs every path at the estimate, so the count reported there is
// measured, not inferred (a path whose outcome is not monotone in the fund would show up as a
// difference from the search's count).
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { MarginChecks } from '../engine/marginIndex.ts';
import type { Experiment } from '../experiment/schema.ts';
import { RunFailedError } from '../experiment/errors.ts';
import type { SweepPoint } from '../experiment/sweep.ts';
import { fundAnswer, newBracket, nextFund, reached, recordTry, requirementOf, type FundAnswer, type FundOutcome, type PathBracket, type SearchBounds } from '../analysis/fundSizing.ts';
import type { RunOutcome } from './execute.ts';
import { applySweepHeapPolicy } from './heapPolicy.ts';
import { runPool } from './pool.ts';

export interface SizeFundOptions {
  /** Index of the fund in scenario.insuranceFunds. */
  fund: number;
  target: number;
  confidence: number;
  bounds: SearchBounds;
  outcome: FundOutcome;
  workers: number;
  /** A folder for the runs' part files (its parts/ made here; the caller removes it). */
  scratchDir: string;
  check: boolean;
  marginChecks: MarginChecks;
  signal?: AbortSignal;
  /** After each round: its number, the paths it ran, the funds they tried, paths still searching after it. */
  onRound?: (r: { round: number; paths: number; minFund: number; maxFund: number; searching: number }) => void;
}

/** One run of the search: a path (replicate) at a fund size, and whether it reached the outcome. */
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

/** Runs the search on `exp` (no sweep; exp.runs paths) and returns the answer. */
export async function sizeFund(exp: Experiment, opts: SizeFundOptions): Promise<SizeFundResult> {
  const paths = exp.runs;
  const brackets: PathBracket[] = Array.from({ length: paths }, newBracket);
  // A cleared run's draw on the fund guides the next tries (fundSizing.ts nextFund) when the run's lowest
  // fund balance is this fund's: with one fund in the scenario.
  const hints = exp.scenario.insuranceFunds.length === 1;
  const tries: FundTry[] = [];
  // Only the run summaries are read: no tables are written.
  const base: Experiment = { ...exp, output: { steps: false, prices: false, events: false, attribution: false } };
  mkdirSync(join(opts.scratchDir, 'parts'), { recursive: true });
  applySweepHeapPolicy();
  // Every (path, fund) is a point of its own: its index names its part file in the scratch folder.
  let nextPoint = 0;
  const runRound = async (round: number, jobs: { replicate: number; fund: number; hinted: boolean }[]): Promise<FundTry[]> => {
    const tasks = jobs.map((j) => ({ point: { index: nextPoint++, values: { fund: j.fund } } as SweepPoint, replicate: j.replicate }));
    const byPoint = new Map(tasks.map((t, i) => [t.point.index, jobs[i]!]));
    const out: FundTry[] = [];
    const failures: { replicate: number; fund: number; error: string }[] = [];
    let i = 0;
    await runPool(
      Math.max(1, Math.min(opts.workers, tasks.length)),
      { base, outDir: opts.scratchDir, check: opts.check, marginChecks: opts.marginChecks },
      { count: tasks.length, next: () => tasks[i++] },
      (o: RunOutcome) => {
        const job = byPoint.get(o.point)!;
        if (!o.ok || !o.summary) {
          failures.push({ replicate: job.replicate, fund: job.fund, error: o.error ?? 'unknown error' });
          return;
        }
        const s = o.summary;
        out.push({
          round,
          replicate: job.replicate,
          fund_usd: job.fund,
          reached: reached(opts.outcome, s),
          adl_count: s.adlCount,
          socialized_loss_usd: s.socializedLossUsd,
          total_bad_debt_usd: s.totalBadDebtUsd,
          fund_min_usd: s.insuranceFundMinUsd,
          hinted: job.hinted,
        });
      },
      (point) => withFund(base, opts.fund, (point.values as { fund: number }).fund),
      opts.signal,
    );
    if (opts.signal?.aborted) throw new SizeFundInterrupted();
    if (failures.length > 0) {
      const f = failures.sort((a, b) => a.replicate - b.replicate)[0]!;
      throw new RunFailedError(
        `${failures.length} run${failures.length === 1 ? '' : 's'} of the fund search failed (round ${round}); the first: path ${f.replicate} at a fund of ${f.fund} USD: ${f.error}`,
        { replicate: f.replicate, values: { [`scenario.insuranceFunds.${opts.fund}.initialUsd`]: f.fund } },
      );
    }
    // Completion order varies with the workers: the record does not.
    out.sort((a, b) => a.replicate - b.replicate);
    return out;
  };

  let round = 0;
  for (;;) {
    const jobs: { replicate: number; fund: number; hinted: boolean }[] = [];
    for (let r = 0; r < paths; r++) {
      const next = nextFund(brackets[r]!, opts.bounds);
      if (next !== null) jobs.push({ replicate: r, ...next });
    }
    if (jobs.length === 0) break;
    if (++round > MAX_ROUNDS) throw new Error(`internal: the fund search did not converge in ${MAX_ROUNDS} rounds`);
    const done = await runRound(round, jobs);
    for (const t of done) recordTry(brackets[t.replicate]!, t.fund_usd, t.reached, hints ? t.fund_usd - t.fund_min_usd : null, t.hinted);
    tries.push(...done);
    let searching = 0;
    for (let r = 0; r < paths; r++) if (nextFund(brackets[r]!, opts.bounds) !== null) searching++;
    let minFund = Infinity;
    let maxFund = -Infinity;
    for (const j of jobs) {
      minFund = Math.min(minFund, j.fund);
      maxFund = Math.max(maxFund, j.fund);
    }
    opts.onRound?.({ round, paths: jobs.length, minFund, maxFund, searching });
  }
  const requirements = brackets.map(requirementOf);
  const answer = fundAnswer(requirements, opts.target, opts.confidence);
  let reachedAtEstimate: number | null = null;
  if (Number.isFinite(answer.estimate)) {
    round++;
    const check = await runRound(
      round,
      Array.from({ length: paths }, (_, r) => ({ replicate: r, fund: answer.estimate, hinted: false })),
    );
    tries.push(...check);
    reachedAtEstimate = check.filter((t) => t.reached).length;
    opts.onRound?.({ round, paths, minFund: answer.estimate, maxFund: answer.estimate, searching: 0 });
  }
  return { paths, requirements, answer, reachedAtEstimate, rounds: round, tries };
}
