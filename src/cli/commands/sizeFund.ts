// `contagion size-fund FILE --target P [--fund ID] [--outcome adl|socialized-loss|adl-or-socialized-loss]
// [--min USD] [--max USD] [--tolerance F] [--confidence C] [--runs N] [--seed S] [--set k=v]...
// [--workers W] [--out DIR] [--check] [--margin-checks M] [--quiet]`: the smallest insurance fund under
// which fewer than a share P of the experiment's stress paths reach ADL, with a confidence interval
// (runner/sizeFund.ts), one per point of a sweep over other fields. Prints each answer (and a table of
// them for a sweep) and writes DIR/size-fund.json (per point: the answer, every path's requirement,
// every run of the search; and the provenance). An interrupted search keeps its runs in
// DIR/size-fund-runs/journal.jsonl and the same command resumes it (runner/fundJournal.ts).
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import { loadExperiment } from '../../experiment/load.ts';
import { ExperimentError, RunFailedError, UsageError } from '../../experiment/errors.ts';
import { expandSweep, pointExperiment, sweptPaths, type SweepPoint } from '../../experiment/sweep.ts';
import type { Experiment } from '../../experiment/schema.ts';
import { makeOutputFolder } from '../../io/outputFolder.ts';
import { confidenceLabel, FUND_OUTCOMES, pathsForUpperBound, type FundOutcome } from '../../analysis/fundSizing.ts';
import { fundAnswerTable } from '../../analysis/report.ts';
import { wilsonInterval } from '../../analysis/statistics.ts';
import { checkOption, parseMarginChecks, parseWorkers, runOverrides, seedOption, workersOption } from './run.ts';
import { setOption } from './validate.ts';
import { listenForStop, signalExitCode } from '../stopSignals.ts';
import type { SizeFundResult } from '../../runner/sizeFund.ts';

interface SizeFundArgs {
  file: string;
  target: string;
  fund: string | undefined;
  outcome: string | undefined;
  min: string | undefined;
  max: string | undefined;
  tolerance: string | undefined;
  confidence: string | undefined;
  runs: string | undefined;
  seed: string | undefined;
  set: string[] | undefined;
  workers: string | undefined;
  out: string | undefined;
  check: boolean;
  marginChecks: string | undefined;
  quiet: boolean;
}

/** A number option within (lo, hi) (open) or [lo, hi] (closed); else a UsageError naming it. */
function numberOption(name: string, text: string, lo: number, hi: number, closed: boolean, expected: string): number {
  const v = Number(text);
  const ok = text.trim() !== '' && Number.isFinite(v) && (closed ? v >= lo && v <= hi : v > lo && v < hi);
  if (!ok) throw new UsageError(`--${name}: got "${text}", expected ${expected}`);
  return v;
}

/** Which fund: --fund ID, or the experiment's only one. */
export function fundIndex(exp: Experiment, id: string | undefined, source: string): number {
  const funds = exp.scenario.insuranceFunds;
  if (id === undefined) {
    if (funds.length === 1) return 0;
    throw new UsageError(`--fund: the experiment has ${funds.length} insurance funds (${funds.map((f) => f.id).join(', ')}): name the one to size`);
  }
  const i = funds.findIndex((f) => f.id === id);
  if (i < 0) throw new ExperimentError(source, [{ path: '--fund', value: id, message: `no such insurance fund: expected one of ${funds.map((f) => f.id).join(', ')}` }]);
  return i;
}

/**
 * The experiments to search, one per sweep point (one without a sweep). A sweep over the sized fund
 * alone is what the search replaces (dropped, and said); a sweep over other fields gives one search per
 * point (the fund needed under each margin model, say); a sweep over the fund and other fields together
 * is refused.
 */
export function searchableExperiments(
  exp: Experiment,
  fundPath: string,
  source: string,
): { base: Experiment; points: { point: SweepPoint | null; exp: Experiment }[]; droppedSweep: boolean } {
  if (exp.independentPoints) {
    throw new ExperimentError(source, [
      {
        path: 'independentPoints',
        value: true,
        message: 'size-fund compares each stress path with itself at every fund size (common random numbers): expected false',
      },
    ]);
  }
  if (!exp.sweep) return { base: exp, points: [{ point: null, exp }], droppedSweep: false };
  const swept = sweptPaths(exp);
  if (swept.length === 1 && swept[0] === fundPath) {
    const { sweep: _sweep, ...rest } = exp;
    const base = rest as Experiment;
    return { base, points: [{ point: null, exp: base }], droppedSweep: true };
  }
  if (swept.includes(fundPath)) {
    throw new ExperimentError(source, [
      {
        path: 'sweep',
        value: swept.join(', '),
        message: `the sweep varies the fund being sized (${fundPath}) along with other fields: remove it from the sweep (size-fund searches it), and each point gets its own answer`,
      },
    ]);
  }
  return { base: exp, points: expandSweep(exp).map((point) => ({ point, exp: pointExperiment(exp, point) })), droppedSweep: false };
}

const usd = (x: number): string => {
  if (!Number.isFinite(x)) return x > 0 ? 'more than the largest fund tried' : String(x);
  const a = Math.abs(x);
  return a >= 1e9 ? `${(x / 1e9).toFixed(3)}B` : a >= 1e6 ? `${(x / 1e6).toFixed(3)}M` : a >= 1e3 ? `${(x / 1e3).toFixed(2)}k` : x.toFixed(0);
};
const pct = (x: number) => `${(100 * x).toFixed(x < 0.1 ? 2 : 1)}%`;

/** The answer as the command prints it. */
export function formatAnswer(r: SizeFundResult, o: { target: number; confidence: number; outcome: FundOutcome; fundPath: string; min: number; max: number; tolerance: number }): string {
  const what = o.outcome === 'adl' ? 'ADL' : o.outcome === 'socialized-loss' ? 'a socialized loss' : 'ADL or a socialized loss';
  const n = r.paths;
  const zero = r.requirements.filter((x) => x <= o.min).length;
  const beyond = r.requirements.filter((x) => x === Infinity).length;
  const a = r.answer;
  const lines = [
    `${o.fundPath}: the smallest fund under which fewer than ${pct(o.target)} of ${n} stress paths reach ${what}`,
    `  paths: ${zero} need no more than ${usd(o.min)}, ${beyond} reach ${what} even with ${usd(o.max)}, ` +
      `${n - zero - beyond} need a fund in between (each found to within ${pct(o.tolerance)})`,
  ];
  if (!Number.isFinite(a.estimate)) {
    lines.push(
      `  no fund up to ${usd(o.max)} does it: ${beyond} of ${n} paths (${pct(beyond / n)}) reach ${what} with any fund tried ` +
        `(raise --max, or the losses do not come from the fund running dry: a backstop vault, a venue without ADL)`,
    );
    return lines.join('\n');
  }
  const k = r.reachedAtEstimate ?? a.exceeding;
  const [lo, hi] = wilsonInterval(k, n);
  lines.push(
    `  estimate: ${usd(a.estimate)} (${a.estimate.toFixed(2)} USD): run at it, ${k} of ${n} paths reach ${what} ` +
      `(${pct(k / n)}; 95% Wilson interval ${pct(lo)}–${pct(hi)})`,
  );
  if (r.notMonotone > 0) {
    lines.push(
      `  note: ${r.notMonotone} path${r.notMonotone === 1 ? ' is' : 's are'} not monotone in the fund size (at the estimate, the outcome ` +
        `contradicts a run of the search: reached though a fund no larger cleared it, or the reverse); the search counted ${a.exceeding}`,
    );
  } else if (r.reachedAtEstimate !== null && r.reachedAtEstimate !== a.exceeding) {
    lines.push(
      `  note: the search counted ${a.exceeding}: the difference is paths whose requirement lies within the tolerance of the estimate ` +
        `(each requirement is the smallest fund seen to clear the path)`,
    );
  }
  const level = confidenceLabel(o.confidence);
  const lower = a.lower === null ? `below ${usd(o.min)}…` : usd(a.lower);
  const upper = a.upper === null ? 'unbounded' : usd(a.upper);
  lines.push(
    `  ${level} confidence interval for the fund needed: ${lower} to ${upper} ` +
      `(order statistics ${a.ranks.lower || '–'} and ${a.ranks.upper <= n ? a.ranks.upper : '–'} of the ${n} paths' requirements)`,
  );
  if (a.upper === null) {
    const need = pathsForUpperBound(1 - o.target, o.confidence);
    lines.push(
      a.ranks.upper > n
        ? `  the interval is open above: at least ${need} paths are needed to bound it (--runs ${need})`
        : `  the interval is open above: its upper order statistic is a path that reaches ${what} with any fund tried (raise --max)`,
    );
  }
  return lines.join('\n');
}

export const sizeFundCommand: CommandModule<object, SizeFundArgs> = {
  command: 'size-fund <file>',
  describe: 'Find the smallest insurance fund under which fewer than a share P of stress paths reach ADL, with a confidence interval',
  builder: (y: Argv) =>
    y
      .positional('file', { type: 'string', demandOption: true, describe: 'experiment JSON file' })
      .option('target', { type: 'string', requiresArg: true, demandOption: true, describe: 'the share of paths P, between 0 and 1 (0.01: fewer than 1% of paths)' })
      .option('fund', { type: 'string', requiresArg: true, describe: 'id of the insurance fund to size (default: the only one)' })
      .option('outcome', { type: 'string', requiresArg: true, describe: `what the fund must prevent: ${FUND_OUTCOMES.join(', ')} (default adl)` })
      .option('min', { type: 'string', requiresArg: true, describe: 'smallest fund considered, USD (default 0)' })
      .option('max', { type: 'string', requiresArg: true, describe: "largest fund considered, USD (default 100 × the fund's size in the experiment)" })
      .option('tolerance', { type: 'string', requiresArg: true, describe: "each path's requirement to within this fraction (default 0.01), or 1 USD" })
      .option('confidence', { type: 'string', requiresArg: true, describe: 'level of the interval (default 0.95)' })
      .option('runs', { type: 'string', requiresArg: true, describe: 'stress paths (replicates; overrides "runs")' })
      .option('seed', seedOption)
      .option('set', setOption)
      .option('workers', workersOption)
      .option('out', { type: 'string', requiresArg: true, describe: 'folder for size-fund.json (default results/<name>-size-fund)' })
      .option('check', checkOption)
      .option('margin-checks', { type: 'string', requiresArg: true, describe: 'event (default) or every-step (same results, slower)' })
      .option('quiet', { type: 'boolean', default: false, describe: 'print the answer only' }) as unknown as Argv<SizeFundArgs>,
  handler: async (argv) => {
    const target = numberOption('target', argv.target, 0, 1, false, 'a share between 0 and 1, e.g. 0.01 for 1% of paths');
    const outcome = (argv.outcome ?? 'adl') as FundOutcome;
    if (!FUND_OUTCOMES.includes(outcome)) throw new UsageError(`--outcome: got "${argv.outcome}", expected one of ${FUND_OUTCOMES.join(', ')}`);
    const tolerance = argv.tolerance === undefined ? 0.01 : numberOption('tolerance', argv.tolerance, 0, 1, false, 'a fraction between 0 and 1, e.g. 0.01');
    const confidence = argv.confidence === undefined ? 0.95 : numberOption('confidence', argv.confidence, 0, 1, false, 'a level between 0 and 1, e.g. 0.95');
    const min = argv.min === undefined ? 0 : numberOption('min', argv.min, 0, Number.MAX_VALUE, true, 'a fund size in USD, ≥ 0');
    const workers = parseWorkers(argv.workers);
    const marginChecks = parseMarginChecks(argv.marginChecks);
    const overrides = runOverrides(argv);
    const loaded = loadExperiment(argv.file, overrides);
    const fund = fundIndex(loaded, argv.fund, argv.file);
    const fundPath = `scenario.insuranceFunds.${fund}.initialUsd`;
    const { base, points, droppedSweep } = searchableExperiments(loaded, fundPath, argv.file);
    const maxOf = (exp: Experiment): number => {
      const configured = exp.scenario.insuranceFunds[fund]!.initialUsd;
      if (argv.max !== undefined) return numberOption('max', argv.max, 0, Number.MAX_VALUE, true, 'a fund size in USD, ≥ 0');
      if (configured > 0) return 100 * configured;
      throw new UsageError(`--max: the fund starts at 0 in the experiment, so there is no default (100 × its size): give the largest fund to consider, in USD`);
    };
    const maxes = points.map((p) => maxOf(p.exp));
    for (const max of maxes) if (!(max > min)) throw new UsageError(`--max: got ${max}, expected more than --min (${min})`);

    const out = resolve(argv.out ?? `results/${base.name}-size-fund`);
    makeOutputFolder(out, '--out', argv.out ?? out);
    const scratch = join(out, 'size-fund-runs');
    const { sizeFunds, SizeFundInterrupted } = await import('../../runner/sizeFund.ts');
    const { emptyPartsKeepingLock, lockFolder } = await import('../../runner/folderLock.ts');
    makeOutputFolder(join(scratch, 'parts'), '--out', argv.out ?? out);
    const lock = await lockFolder(scratch);
    // Part files are only the pool's hand-over (a search reads run summaries): start them afresh,
    // keeping the lock just taken. The journal of an interrupted search is kept and read back.
    emptyPartsKeepingLock(scratch);
    const journalFile = join(scratch, 'journal.jsonl');
    const { FundJournal } = await import('../../runner/fundJournal.ts');
    let journal: InstanceType<typeof FundJournal>;
    try {
      journal = new FundJournal(journalFile, '--out', argv.out ?? out);
    } catch (e) {
      lock.release();
      throw e;
    }
    const say = (s: string) => {
      if (!argv.quiet) process.stdout.write(`${s}\n`);
    };
    if (droppedSweep) say(`(the experiment's sweep over ${fundPath} is replaced by the search)`);
    if (journal.resumed > 0) say(`resuming: ${journal.resumed} run${journal.resumed === 1 ? '' : 's'} of an interrupted search, from ${journalFile}`);
    const stop = listenForStop();
    const startedAt = new Date().toISOString();
    let results: SizeFundResult[];
    const label = (point: SweepPoint | null) =>
      point === null ? '' : `point ${point.index} (${Object.entries(point.values).map(([k, v]) => `${k}=${String(v)}`).join(', ')})`;
    const paths = points.reduce((n, p) => n + p.exp.runs, 0);
    const range = maxes.every((m) => m === maxes[0]) ? `between ${min} and ${maxes[0]} USD` : `from ${min} USD up to each point's --max`;
    say(
      `searching ${paths} paths${points.length > 1 ? ` (${points.length} points)` : ''} for ${fundPath} ${range}, ${workers} worker${workers === 1 ? '' : 's'}`,
    );
    try {
      results = await sizeFunds(
        points.map((p, i) => ({ exp: p.exp, bounds: { min, max: maxes[i]!, tolerance } })),
        {
          fund,
          target,
          confidence,
          outcome,
          workers,
          scratchDir: scratch,
          check: argv.check,
          marginChecks,
          signal: stop.signal,
          journal,
          onRound: (r) =>
            say(
              `round ${r.round}: ${r.paths} run${r.paths === 1 ? '' : 's'}${r.fromJournal > 0 ? ` (${r.fromJournal} already made)` : ''} at funds ` +
                `${r.minFund === r.maxFund ? usd(r.minFund) : `${usd(r.minFund)}–${usd(r.maxFund)}`}; ` +
                `${r.searching} path${r.searching === 1 ? '' : 's'} still searching`,
            ),
        },
      );
    } catch (e) {
      if (e instanceof RunFailedError && e.run !== null) {
        // How to run that one run alone: the same file and overrides, the fund it failed at, its point.
        lock.release();
        rmSync(scratch, { recursive: true, force: true });
        const point = points[e.run.search]!.point;
        const sets = [...overrides, ...Object.entries(e.run.values).map(([k, v]) => `${k}=${String(v)}`)];
        const command =
          `contagion run ${argv.file}${sets.map((x) => ` --set ${x}`).join('')} --only point=${point?.index ?? 0},replicate=${e.run.replicate} ` +
          `--out ${out}-debug --check`;
        throw new RunFailedError(
          `${e.message}${point ? ` (${label(point)})` : ''}\nReproduce it with: ${command}` +
            (droppedSweep ? ` (in a copy of the experiment without its sweep over ${fundPath})` : ''),
        );
      }
      const stopping = stop.stopping();
      if (e instanceof SizeFundInterrupted && stopping !== null) {
        process.stderr.write(
          `\ninterrupted by ${stopping}: the runs made so far are kept in ${journalFile}; the same command resumes the search\n`,
        );
        lock.release();
        rmSync(join(scratch, 'parts'), { recursive: true, force: true });
        process.exit(signalExitCode(stopping));
      }
      throw e;
    } finally {
      stop.dispose();
    }
    lock.release();
    rmSync(scratch, { recursive: true, force: true });
    const { experimentHash, gitCommit } = await import('../../runner/runExperiment.ts');
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
    const finite = (x: number | null) => (x === null || !Number.isFinite(x) ? null : x);
    const record = {
      command: 'size-fund',
      fund_path: fundPath,
      fund_id: base.scenario.insuranceFunds[fund]!.id,
      outcome,
      target,
      confidence,
      search: { min_usd: min, tolerance },
      points: results.map((r, i) => {
        const a = r.answer;
        return {
          point_index: points[i]!.point?.index ?? null,
          values: points[i]!.point?.values ?? {},
          max_usd: maxes[i]!,
          rounds: r.rounds,
          runs: r.tries.length,
          paths: r.paths,
          answer: {
            fund_usd: finite(a.estimate),
            reachable: Number.isFinite(a.estimate),
            paths_allowed: a.allowed,
            paths_reaching_at_fund: r.reachedAtEstimate,
            paths_reaching_by_search: a.exceeding,
            paths_not_monotone: r.notMonotone,
            interval_usd: [finite(a.lower), finite(a.upper)],
            interval_ranks: [a.ranks.lower || null, a.ranks.upper <= r.paths ? a.ranks.upper : null],
          },
          // Each path's requirement: the smallest fund that cleared it (null: none up to max_usd did).
          requirements_usd: r.requirements.map((x) => finite(x)),
          tries: r.tries,
        };
      }),
      experiment: base,
      experiment_hash: experimentHash(base),
      source: argv.file,
      overrides,
      package_version: pkg.version,
      git_commit: gitCommit(),
      node_version: process.version,
      workers,
      started_at: startedAt,
      finished_at: new Date().toISOString(),
    };
    const file = join(out, 'size-fund.json');
    writeFileSync(`${file}.tmp`, `${JSON.stringify(record, null, 2)}\n`);
    renameSync(`${file}.tmp`, file);
    for (const [i, r] of results.entries()) {
      const point = points[i]!.point;
      process.stdout.write(`${point === null ? '' : `${label(point)}\n`}${formatAnswer(r, { target, confidence, outcome, fundPath, min, max: maxes[i]!, tolerance })}\n`);
    }
    if (points.length > 1) {
      const rows = results.map((r, i) => ({
        values: points[i]!.point!.values,
        paths: r.paths,
        fund: Number.isFinite(r.answer.estimate) ? r.answer.estimate : null,
        interval: [r.answer.lower, r.answer.upper] as [number | null, number | null],
        reaching: r.reachedAtEstimate ?? r.answer.exceeding,
      }));
      const table = fundAnswerTable(rows, { fundHeader: `${fundPath} needed`, none: 'none up to --max', confidence, money: usd });
      process.stdout.write(`\n${table.join('\n')}\n`);
    }
    process.stdout.write(`results in ${file}\n`);
  },
};
