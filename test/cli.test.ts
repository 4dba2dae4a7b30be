// The real `contagion` command, spawned as a user would run it (from another cwd, stdin closed):
// malformed experiments must exit 2 naming the field path and value with no stack trace, and
// schema/validate/list must work on good input.
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test, vi } from 'vitest';
import { firstSentence, listExperiments } from '../src/cli/commands/list.ts';
import { formatSeconds, makeProgress, runOverrides } from '../src/cli/commands/run.ts';
import { applyOverrides } from '../src/experiment/overrides.ts';
import { minimalExperiment } from './fixtures/minimalExperiment.ts';
import { CLI, runCli } from './fixtures/cli.ts';
import { spawn } from 'node:child_process';

// A cwd outside the package proves the CLI finds its own files (tsconfig, experiments/).
const WORK = mkdtempSync(join(tmpdir(), 'contagion-cli-'));
const TIMEOUT = 30_000;

const contagion = (...args: string[]) => runCli(WORK, ...args);
// A recorded path too short for the fixture's 50 steps (3 prices), beside the experiments written below.
writeFileSync(join(WORK, 'short-path.csv'), 'time,BTC\n0,60000\n1,59000\n2,58000\n');
// … and one long enough (51 prices of two columns).
writeFileSync(join(WORK, 'path-51.csv'), `BTC,ETH\n${Array.from({ length: 51 }, (_, i) => `${60000 - i},${3000 - i}`).join('\n')}\n`);

let fileCount = 0;
/** Write an experiment (the fixture with overrides, or raw text) to a fresh temp file. */
function writeExperiment(content: string[] | { text: string }): string {
  const file = join(WORK, `exp-${++fileCount}.json`);
  const text = Array.isArray(content) ? JSON.stringify(applyOverrides(minimalExperiment(), content), null, 2) : content.text;
  writeFileSync(file, text);
  return file;
}

interface BadCase {
  /** How to build the file: overrides of the fixture, raw text, or no file at all. */
  file: string[] | { text: string } | 'missing';
  /** Arguments after the file (the command defaults to validate). */
  command?: 'validate' | 'run';
  extra?: string[];
  /** Strings stderr must contain: the field path, and the value where there is one. */
  expect: string[];
}

const badCases: Array<[string, BadCase]> = [
  ['a string where steps must be a number is named with its value', { file: ['steps="fifty"'], expect: ['steps: expected an integer', '"fifty"'] }],
  ['a negative penalty fraction is named with its value', { file: ['scenario.exchanges.0.liquidation.penaltyFraction=-0.1'], expect: ['scenario.exchanges.0.liquidation.penaltyFraction', '-0.1', '≥ 0'] }],
  ['a misspelled key is named and the right spelling suggested', { file: ['scenario.assets.0.volatilityAnual=0.6'], expect: ['scenario.assets.0.volatilityAnual', 'unknown key', 'did you mean "volatilityAnnual"'] }],
  ['a correlation matrix that is not positive definite is named', { file: ['scenario.regimes.stress.correlation=[[1,1],[1,1]]'], expect: ['scenario.regimes.stress.correlation', 'not positive definite', '[[1,1],[1,1]]'] }],
  ['a market on an asset that does not exist is named', { file: ['scenario.exchanges.0.markets.1.asset=SOL'], expect: ['scenario.exchanges.0.markets.1.asset', '"SOL"', 'no asset'] }],
  ['an oracle on another asset than its market is named', { file: ['scenario.exchanges.0.markets.1.oracle=btc-oracle'], expect: ['scenario.exchanges.0.markets.1.oracle', '"btc-oracle"', 'prices BTC'] }],
  ['a maintenance margin not below the initial margin is named', { file: ['scenario.exchanges.0.markets.1.marginTiers.0.maintenanceMarginFraction=0.05'], expect: ['scenario.exchanges.0.markets.1.marginTiers.0.maintenanceMarginFraction', '0.05', 'less than initialMarginFraction'] }],
  ['a file that is not JSON is reported with line and column', { file: { text: '{\n  "name": "x",\n  "steps": 5,\n}\n' }, expect: ['(file)', 'not valid JSON at line 4, column 1'] }],
  ['a missing file is reported as such', { file: 'missing', expect: ['(file)', 'no such file', 'does-not-exist.json'] }],
  ['an unknown distribution kind lists the allowed kinds', { file: ['scenario.traders.0.leverage={"kind":"gaussian","mean":5}'], expect: ['scenario.traders.0.leverage.kind', '"gaussian"', '"fixed", "uniform", "lognormal"'] }],
  ['a duplicate asset symbol is named', { file: ['scenario.assets.1.symbol=BTC'], expect: ['scenario.assets.1.symbol', 'duplicate asset symbol', '"BTC"'] }],
  ['a --set of an unknown key in the run command is named', { file: [], command: 'run', extra: ['--set', 'scenario.assets.0.volatilityAnual=0.9'], expect: ['scenario.assets.0.volatilityAnual', 'unknown key', '0.9'] }],
  ['a --set through a missing object in the run command names the argument', { file: [], command: 'run', extra: ['--set', 'scenario.nothing.here=1'], expect: ['--set "scenario.nothing.here=1"', 'scenario.nothing does not exist'] }],
  ['an unknown --margin-checks mode in the run command is named with the modes', { file: [], command: 'run', extra: ['--margin-checks', 'lazy'], expect: ['--margin-checks', '"lazy"', '"event" or "every-step"'] }],
  ['a --runs that is not an integer in the run command is named', { file: [], command: 'run', extra: ['--runs', '2.5'], expect: ['runs: expected an integer', '2.5'] }],
  ['a leverage above the venue maximum is named', { file: ['scenario.traders.0.leverage={"kind":"fixed","value":100}'], expect: ['scenario.traders.0.leverage.value', '100', 'venue maximum'] }],
  ['a sweep over a path that does not exist is named', { file: ['sweep={"kind":"grid","parameters":{"scenario.assets.0.volatilityAnual":[0.5,0.9]}}'], expect: ['sweep.parameters.scenario.assets.0.volatilityAnual', 'scenario.assets.0.volatilityAnual does not exist in the experiment'] }],
  ['a sweep point that makes the experiment invalid is named with the point and the field', { file: ['sweep={"kind":"grid","parameters":{"scenario.exchanges.0.liquidation.penaltyFraction":[0.01,-0.1]}}'], expect: ['sweep point 1 (scenario.exchanges.0.liquidation.penaltyFraction=-0.1): scenario.exchanges.0.liquidation.penaltyFraction', '≥ 0', '(got -0.1)'] }],
  ['a Latin hypercube on a log scale with min 0 is named', { file: ['sweep={"kind":"latinHypercube","samples":8,"parameters":{"scenario.insuranceFunds.0.initialUsd":{"min":0,"max":1000000,"scale":"log"}}}'], expect: ['sweep.parameters.scenario.insuranceFunds.0.initialUsd.min', 'a log scale needs min > 0', '(got 0)'] }],
  ['sweeping the seed is refused', { file: ['sweep={"kind":"grid","parameters":{"seed":[1,2]}}'], expect: ['sweep.parameters.seed', 'cannot sweep the seed'] }],
  ['a replayed path whose CSV does not exist is named with the file', { file: ['scenario.assets.0.pricePath={"csv":"nope.csv","column":"BTC"}'], expect: ['scenario.assets.0.pricePath.csv', '"nope.csv"', 'no such file'] }],
  ['a replayed path without the named column lists the columns there are', { file: ['scenario.assets.0.pricePath={"csv":"short-path.csv","column":"ETH"}'], expect: ['scenario.assets.0.pricePath.csv', 'no column "ETH"', '"time", "BTC"'] }],
  ['a replayed path shorter than the run is named with the count it needs', { file: ['scenario.assets.0.pricePath={"csv":"short-path.csv","column":"BTC"}'], command: 'run', expect: ['scenario.assets.0.pricePath.fromRow', 'holds 3 prices', 'at least steps + 1 = 51'] }],
  ['sweeping a replayed path\'s column is refused', { file: ['scenario.assets.0.pricePath={"csv":"path-51.csv","column":"BTC"}', 'sweep={"kind":"grid","parameters":{"scenario.assets.0.pricePath.column":["BTC","ETH"]}}'], expect: ['sweep.parameters.scenario.assets.0.pricePath.column', 'cannot sweep a replayed path'] }],
  ['list sweep points that set different paths are named', { file: ['sweep={"kind":"list","points":[{"steps":20},{"stepSeconds":30}]}'], expect: ['sweep.points.1', 'does not set steps', 'every point must set the same paths'] }],
  ['a --set that breaks a sweep point in the run command is named', { file: ['sweep={"kind":"grid","parameters":{"steps":[20,40]}}'], command: 'run', extra: ['--set', 'scenario.shocks.0.startStep=30'], expect: ['sweep point 0 (steps=20): scenario.shocks.0.startStep', 'expected a step below steps (20)'] }],
];

describe('malformed experiments exit 2 with a clear message', () => {
  test.each(badCases)('%s', (_name, c) => {
    const file = c.file === 'missing' ? join(WORK, 'does-not-exist.json') : writeExperiment(c.file);
    const r = contagion(c.command ?? 'validate', file, ...(c.extra ?? []));
    expect(r.status, r.stderr).toBe(2);
    for (const s of c.expect) expect(r.stderr).toContain(s);
    expect(r.stderr).not.toContain('    at ');
    expect(r.stdout).toBe('');
  }, TIMEOUT);
});

describe('the commands', () => {
  test('schema prints a JSON Schema describing experiments', () => {
    const r = contagion('schema');
    expect(r.status, r.stderr).toBe(0);
    const schema = JSON.parse(r.stdout) as { $id: string; properties: Record<string, unknown>; required: string[] };
    expect(Object.keys(schema.properties)).toEqual(expect.arrayContaining(['scenario', 'seed', 'steps', 'runs']));
    expect(schema.$id).toBeTruthy();
    // Fields with defaults are optional for the user.
    expect(schema.required).not.toContain('stepSeconds');
  }, TIMEOUT);

  test('validate accepts a valid file and summarises it', () => {
    const file = writeExperiment([]);
    const r = contagion('validate', file);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe(`${file}: valid (2 assets, 1 exchange, 3 trader cohorts, 2 runs × 50 steps)`);
  }, TIMEOUT);

  test('validate counts the points of a sweep', () => {
    const file = writeExperiment(['sweep={"kind":"grid","parameters":{"scenario.insuranceFunds.0.initialUsd":[0,1000],"scenario.assets.0.volatilityAnnual":[0.3,0.6,0.9]}}']);
    const r = contagion('validate', file);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe(`${file}: valid (2 assets, 1 exchange, 3 trader cohorts, 6 points × 2 runs × 50 steps)`);
    const lhs = writeExperiment(['sweep={"kind":"latinHypercube","samples":25,"parameters":{"scenario.assets.0.volatilityAnnual":{"min":0.2,"max":1}}}']);
    expect(contagion('validate', lhs).stdout).toContain('25 points × 2 runs × 50 steps');
  }, TIMEOUT);

  test('schema describes sweeps and independentPoints', () => {
    const r = contagion('schema');
    expect(r.status, r.stderr).toBe(0);
    const schema = JSON.parse(r.stdout) as { properties: Record<string, { oneOf?: Array<{ properties: { kind: { const: string } } }> }>; required: string[] };
    expect(schema.properties.sweep?.oneOf?.map((o) => o.properties.kind.const)).toEqual(['grid', 'list', 'latinHypercube']);
    expect(schema.properties).toHaveProperty('independentPoints');
    expect(schema.required).not.toContain('sweep');
    expect(schema.required).not.toContain('independentPoints');
  }, TIMEOUT);

  test('validate applies --set before validating', () => {
    const r = contagion('validate', writeExperiment([]), '--set', 'runs=7', '--set', 'steps=20');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('7 runs × 20 steps');
  }, TIMEOUT);

  test('list shows every shipped experiment: its name, then its file (absolute from a cwd outside the package), none marked invalid', () => {
    const r = contagion('list');
    expect(r.status, r.stderr).toBe(0);
    const dir = fileURLToPath(new URL('../experiments/', import.meta.url));
    const files = readdirSync(dir).filter((f) => f.endsWith('.json')).sort();
    expect(files.length).toBeGreaterThanOrEqual(10);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(2 * files.length);
    files.forEach((f, k) => {
      const { name } = JSON.parse(readFileSync(join(dir, f), 'utf8')) as { name: string };
      expect(lines[2 * k]!.startsWith(`${name} `), lines[2 * k]).toBe(true);
      expect(lines[2 * k + 1]!.trim()).toBe(join(dir, f));
    });
    expect(r.stdout).not.toContain('[invalid');
  }, TIMEOUT);

  test('an unknown command exits 2 with usage', () => {
    const r = contagion('frobnicate');
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('frobnicate');
    expect(r.stderr).not.toContain('    at ');
  }, TIMEOUT);

  test('no command exits 2', () => {
    const r = contagion();
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('Name a command');
  }, TIMEOUT);

  test('an unknown option exits 2', () => {
    const r = contagion('validate', writeExperiment([]), '--bogus');
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('Unknown argument: bogus');
  }, TIMEOUT);

  test('--only or --shard without --out writes to a folder of its own, leaving the sweep\'s files whole', () => {
    // Before, it wrote its one run's files over the sweep's in results/<name>.
    const exp = writeExperiment(['runs=3']);
    expect(contagion('run', exp, '--quiet').status).toBe(0);
    const name = JSON.parse(readFileSync(exp, 'utf8')).name as string;
    const sweepRuns = join(WORK, 'results', name, 'runs.arrow');
    const before = readFileSync(sweepRuns);
    const one = contagion('run', exp, '--only', 'point=0,replicate=1', '--quiet');
    expect(one.status, one.stderr).toBe(0);
    expect(one.stdout).toContain(`1 run done; results in ${join(WORK, 'results', `${name}-p0-r1`)}`);
    expect(readFileSync(sweepRuns).equals(before)).toBe(true);
    // So does a shard (given, or from a job array's variables): each in a folder that merge then joins.
    const shard = contagion('run', exp, '--shard', '1/2', '--quiet');
    expect(shard.status, shard.stderr).toBe(0);
    expect(shard.stdout).toContain(`results in ${join(WORK, 'results', `${name}-shard-1-of-2`)}`);
    expect(readFileSync(sweepRuns).equals(before)).toBe(true);
  }, TIMEOUT);

  test('an --out that a file is in the way of exits 2 naming it (run, below a file, merge), not as an internal error; so does merging into one of the merged folders', () => {
    // Before: "internal error: EEXIST / ENOTDIR … mkdir", exit 1.
    const file = join(WORK, 'a-file');
    writeFileSync(file, 'not a folder');
    const exp = writeExperiment([]);
    for (const [args, shown] of [
      [['run', exp, '--out', file, '--quiet'], file],
      [['run', exp, '--out', join(file, 'below'), '--quiet'], join(file, 'below')],
    ] as const) {
      const r = contagion(...args);
      expect(r.status, r.stderr).toBe(2);
      expect(r.stderr).toContain(`--out: a file is in the way: expected a folder`);
      expect(r.stderr).toContain(`(got "${shown}")`);
      expect(r.stderr).not.toContain('internal error');
    }
    // merge: two real shards, merged into the file's place.
    const shards = [0, 1].map((i) => join(WORK, `out-shard-${i}`));
    shards.forEach((dir, i) => expect(contagion('run', exp, '--runs', '2', '--shard', `${i}/2`, '--out', dir, '--quiet').status).toBe(0));
    const r = contagion('merge', ...shards, '--out', file);
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr).toContain(`--out: a file is in the way: expected a folder (an existing one, or a path where one can be made) (got "${file}")`);
    // Nor into one of the folders it merges: that shard's folder would claim every run and hold its own.
    const into = contagion('merge', ...shards, '--out', `${shards[1]}/`);
    expect(into.status, into.stderr).toBe(2);
    expect(into.stderr).toContain(`--out: is one of the folders being merged: expected another folder`);
    expect(JSON.parse(readFileSync(join(shards[1]!, 'manifest.json'), 'utf8')).shard).toEqual({ index: 1, count: 2 });
    expect(contagion('merge', ...shards, '--out', join(WORK, 'merged')).status).toBe(0);
  }, TIMEOUT);
});

describe('command helpers', () => {
  test('list reads name, first sentence and validity of each experiment file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'contagion-list-'));
    writeFileSync(join(dir, 'b.json'), JSON.stringify(minimalExperiment()));
    writeFileSync(join(dir, 'a.json'), JSON.stringify({ name: 'broken', note: 'Half written, e.g. no scenario. More later.' }));
    writeFileSync(join(dir, 'c.json'), '{ not json');
    writeFileSync(join(dir, 'notes.txt'), 'ignored');
    expect(listExperiments(dir).map(({ name, summary, valid }) => ({ name, summary, valid }))).toEqual([
      { name: 'broken', summary: 'Half written, e.g. no scenario.', valid: false },
      { name: 'minimal', summary: 'A minimal two-asset experiment for tests.', valid: true },
      { name: 'c', summary: '(not readable as JSON)', valid: false },
    ]);
    expect(listExperiments(join(dir, 'absent'))).toEqual([]);
  });

  test('the first sentence of a note ignores abbreviations and newlines', () => {
    expect(firstSentence('Does cross margin,\n e.g. on Hyperliquid, spread losses? Then more.')).toBe('Does cross margin, e.g. on Hyperliquid, spread losses?');
    expect(firstSentence('No full stop')).toBe('No full stop');
  });

  test('--runs and --seed become overrides applied after --set', () => {
    expect(runOverrides({ set: 'runs=3', runs: '5', seed: '9' })).toEqual(['runs=3', 'runs=5', 'seed=9']);
    expect(runOverrides({ set: ['a=1', 'b=2'] })).toEqual(['a=1', 'b=2']);
    expect(runOverrides({})).toEqual([]);
  });
});

describe('the end of a sweep', () => {
  test('prints one row per point: runs, share with bad debt, bad debt mean / p99, share with ADL, funding the longs paid — matching runs.arrow', async () => {
    const e = minimalExperiment();
    e.runs = 3;
    e.steps = 30;
    e.sweep = { kind: 'grid', parameters: { 'scenario.insuranceFunds.0.initialUsd': [0, 1_000_000] } };
    const file = join(WORK, 'sweep-table.json');
    writeFileSync(file, JSON.stringify(e));
    const out = join(WORK, 'sweep-table-out');
    const r = contagion('run', file, '--out', out, '--workers', '1');
    expect(r.status).toBe(0);
    const table = r.stdout.split('\n').filter((l) => l.startsWith('|'));
    expect(table[0]).toBe('| scenario.insuranceFunds.0.initialUsd | runs | runs with bad debt | bad debt mean / p99 (fund needed) | runs with ADL | left open (mean) | funding longs paid (mean) |');
    expect(table).toHaveLength(4); // header, rule, two points
    const { columnToArray, readArrowTable } = await import('../src/io/readArrow.ts');
    const runs = readArrowTable(join(out, 'runs.arrow'));
    const point = columnToArray(runs, 'point_index') as number[];
    const badDebt = columnToArray(runs, 'total_bad_debt_usd') as number[];
    const adl = columnToArray(runs, 'adl_count') as number[];
    const open = columnToArray(runs, 'insolvent_debt_usd') as number[];
    const funding = columnToArray(runs, 'funding_longs_paid_usd') as number[];
    const { usd } = await import('../src/analysis/pointTable.ts');
    const { quantile, wilsonInterval } = await import('../src/analysis/statistics.ts');
    // "k of 3" as the table writes it: the share, then the 95% Wilson interval, in whole percent.
    const share = (k: number) => {
      const [lo, hi] = wilsonInterval(k, 3);
      return `${((100 * k) / 3).toFixed(0)}% [${(100 * lo).toFixed(0)}–${(100 * hi).toFixed(0)}%]`;
    };
    const of = (values: number[], p: number) => values.filter((_, i) => point[i] === p);
    const mean3 = (v: number[]) => (v[0]! + v[1]! + v[2]!) / 3;
    for (const p of [0, 1]) {
      const cells = table[2 + p]!.split('|').map((c) => c.trim());
      expect(cells[1]).toBe(String([0, 1_000_000][p]));
      expect(cells[2]).toBe('3');
      const bd = of(badDebt, p);
      expect(cells[3]).toBe(share(bd.filter((x) => x > 0).length));
      expect(cells[4]).toBe(`${usd(mean3(bd))} / ${usd(quantile(bd, 0.99))}`);
      expect(cells[5]).toBe(share(of(adl, p).filter((x) => x > 0).length));
      expect(cells[6]).toBe(usd(mean3(of(open, p))));
      const paid = of(funding, p);
      expect(paid.every((x) => x !== 0)).toBe(true); // every run paid or received some funding
      expect(cells[7]).toBe(usd(mean3(paid)));
    }
    // Not a table of zeros: with no fund, every run has bad debt and ADL.
    expect(of(badDebt, 0).every((x) => x > 0)).toBe(true);
    expect(of(adl, 0).every((x) => x > 0)).toBe(true);
    // --quiet keeps it to the final line.
    const q = contagion('run', file, '--out', join(WORK, 'sweep-table-quiet'), '--workers', '1', '--quiet');
    expect(q.stdout.trim().split('\n')).toHaveLength(1);
  }, 60_000);

  test('a reader that closes the pipe early (contagion list | head) ends the command quietly, exit 0', async () => {
    const child = spawn(process.execPath, [CLI, 'list'], { cwd: WORK, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, CONTAGION_DEBUG: '' } });
    // Closed before the command has started (it takes a few hundred ms): its first write meets EPIPE.
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const status = await new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    expect(stderr).toBe('');
    expect(status).toBe(0);
  }, 30_000);
});

describe('progress times', () => {
  test('An ETA is rounded once, then split into units: 59.6 s is 1m00s, not 60s', () => {
    expect([0.4, 59.4, 59.6, 125, 3599.4, 3599.7, 7322, Infinity, NaN].map(formatSeconds)).toEqual([
      '0s',
      '59s',
      '1m00s', // was "60s"
      '2m05s',
      '59m59s',
      '1h00m', // was "59m60s"
      '2h02m',
      '?', // no run finished yet: the rate is 0
      '?',
    ]);
  });
});

describe('progress when not on a terminal', () => {
  /** What `body` writes to stdout, a string per write; `clock` is the progress's clock, in ms. */
  function linesOf(body: (progress: ReturnType<typeof makeProgress>, setClock: (ms: number) => void) => void): string[] {
    let clock = 0;
    const progress = makeProgress('lines', () => clock);
    const lines: string[] = [];
    const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    });
    try {
      body(progress, (ms) => (clock = ms));
    } finally {
      write.mockRestore();
    }
    return lines;
  }

  test('one line per finished point; the rate and ETA count only runs done since the start, not resumed ones', () => {
    const lines = linesOf((progress, at) => {
      // 6 runs, 2 resumed. 2 s later the 4th is done (2 done now): 2 runs / 2 s = 1.00 runs/s, and the
      // 2 left take 2 / 1.00 = 2 s. Counting the resumed runs would have claimed 2.00 runs/s.
      progress.start({ planned: 6, resumed: 2 });
      at(1_000);
      progress.update({ done: 3, failed: 0, total: 6 });
      at(2_000);
      progress.update({ done: 4, failed: 0, total: 6, pointDone: { point: 1, runs: 3, failed: 0 } });
      // 1 s on, the 5th failed and ended point 2: 3 runs / 3 s = 1.00 runs/s, 1 left: 1 s.
      at(3_000);
      progress.update({ done: 5, failed: 1, total: 6, pointDone: { point: 2, runs: 2, failed: 1 } });
      progress.stop();
    });
    expect(lines).toEqual([
      'point 1 done (3 runs); 4/6 runs, 1.00 runs/s, ETA 2s\n',
      'point 2 done (2 runs, 1 failed); 5/6 runs, 1.00 runs/s, ETA 1s, 1 failed\n',
    ]);
  });

  test('within a long point, a line a minute at most', () => {
    const lines = linesOf((progress, at) => {
      progress.start({ planned: 10_000, resumed: 0 });
      // Runs end at 30 s (no line: under a minute since the start), 60 s (a line: 2 runs / 60 s =
      // 0.03 runs/s, 9,998 left → 299,940 s = 83h19m) and 90 s (no line: 30 s since the last).
      for (const [t, done] of [[30_000, 1], [60_000, 2], [90_000, 3]] as const) {
        at(t);
        progress.update({ done, failed: 0, total: 10_000 });
      }
      // 150 s: 5 runs / 150 s = 0.03 runs/s, 9,995 left → 299,850 s = 83h17m.
      at(150_000);
      progress.update({ done: 5, failed: 0, total: 10_000 });
    });
    expect(lines).toEqual(['2/10000 runs, 0.03 runs/s, ETA 83h19m\n', '5/10000 runs, 0.03 runs/s, ETA 83h17m\n']);
  });
});
