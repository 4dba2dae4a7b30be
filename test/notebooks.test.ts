// The notebooks on results folders a researcher may hand them: a finished one (the table), one whose
// files were cut short by an interrupted copy or whose run never finished (exit 2 naming the file, no
// stack trace), and a reader that stops early (`… | head`: exit 0, quietly). Also the reader they
// share: an Arrow file cut short or empty is an error, not a table of the batches before the cut.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseExperiment } from '../src/experiment/load.ts';
import { runExperiment } from '../src/runner/runExperiment.ts';
import { columnToArray, readArrowTable } from '../src/io/readArrow.ts';
import { minimalExperiment } from './fixtures/minimalExperiment.ts';
import { readCohortsFile } from './fixtures/cohortsFile.ts';
import { ethCrash } from './fixtures/ethCrash.ts';
import { usdShort } from '../notebooks/sweepResults.ts';
import { UST, stableExperiment } from './fixtures/stableExperiment.ts';
import { shareWithInterval } from '../src/analysis/pointTable.ts';
import { mean, quantile } from '../src/analysis/statistics.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
let work = '';
let results = '';

beforeAll(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'contagion-notebooks-'));
  results = path.join(work, 'results');
  const input = minimalExperiment();
  input.runs = 3;
  input.steps = 40;
  (input as Record<string, unknown>).sweep = { kind: 'grid', parameters: { 'scenario.insuranceFunds.0.initialUsd': [1000, 1_000_000] } };
  await runExperiment(parseExperiment(input, 'notebooks'), { outDir: results, check: false, overrides: [], source: 'notebooks', workers: 1, shard: null });
}, 60_000);
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

const notebook = (name: string, dir: string) =>
  spawnSync(process.execPath, ['--import', 'tsx', path.join(ROOT, 'notebooks', `${name}.ts`), dir], { cwd: ROOT, encoding: 'utf8' });

/** A copy of the results folder, changed by `damage`. */
function damagedCopy(damage: (dir: string) => void): string {
  const dir = fs.mkdtempSync(path.join(work, 'copy-'));
  fs.cpSync(results, dir, { recursive: true });
  damage(dir);
  return dir;
}

describe('the shared Arrow reader', () => {
  it('Refuses a file cut short and an empty file, naming them, where apache-arrow reads the batches before the cut or nothing', () => {
    const file = path.join(results, 'steps.arrow');
    const size = fs.statSync(file).size;
    const cut = path.join(work, 'cut.arrow');
    fs.writeFileSync(cut, fs.readFileSync(file).subarray(0, size - 100));
    expect(() => readArrowTable(cut)).toThrow(`${cut}: cut short (${size - 100} bytes, no Arrow file footer): not a complete Arrow file`);
    const empty = path.join(work, 'empty.arrow');
    fs.writeFileSync(empty, '');
    expect(() => readArrowTable(empty)).toThrow(`${empty}: empty (0 bytes): not an Arrow file`);
    expect(readArrowTable(file).numRows).toBe(6 * 40); // 2 points × 3 runs × 40 steps
  });
});

describe('notebooks', () => {
  it('fund-sizing prints a row per point: P(ADL), the fund emptied, the bad-debt tail and the socialized loss of its runs in runs.arrow', () => {
    const r = notebook('fund-sizing', results);
    expect(r.status, r.stderr).toBe(0);
    const runs = readArrowTable(path.join(results, 'runs.arrow'));
    const col = (name: string) => columnToArray(runs, name) as number[];
    const [fund, adl, depleted, badDebt, socialized] = [
      'p_scenario_insurance_funds_0_initial_usd',
      'adl_count',
      'insurance_fund_depletion_step',
      'total_bad_debt_usd',
      'socialized_loss_usd',
    ].map(col);
    const lines = r.stdout.split('\n');
    for (const size of [1000, 1_000_000]) {
      const rows = fund!.flatMap((f, i) => (f === size ? [i] : []));
      expect(rows).toHaveLength(3);
      const bd = rows.map((i) => badDebt![i]!);
      const cells = [
        String(size),
        '3',
        shareWithInterval(rows.filter((i) => adl![i]! > 0).length, 3),
        `${rows.filter((i) => depleted![i]! >= 0).length}/3`,
        `${usdShort(mean(bd))} / ${usdShort(quantile(bd, 0.95))} / ${usdShort(quantile(bd, 0.99))}`,
        usdShort(mean(rows.map((i) => socialized![i]!))),
      ];
      expect(lines.filter((l) => l.startsWith(`| ${size} |`))).toEqual([`| ${cells.join(' | ')} |`]);
    }
    // Not a table of zeros: the $1,000 fund is emptied on every path, and the bad debt it leaves shows.
    const small = fund!.flatMap((f, i) => (f === 1000 ? [i] : []));
    expect(small.every((i) => depleted![i]! >= 0)).toBe(true);
    expect(small.some((i) => badDebt![i]! > 1000)).toBe(true);
  }, 30_000);

  it('arbitrage-capital prints one row per point, with no arbitrage where the experiment has none', () => {
    const r = notebook('arbitrage-capital', results);
    expect(r.status, r.stderr).toBe(0);
    const rows = r.stdout.split('\n').filter((l) => /^\| (1000|1000000) \| 3 \|/.test(l));
    expect(rows).toHaveLength(2);
    // Volume and PnL 0.0k, and no cash to run out of ('–').
    for (const row of rows) expect(row.endsWith('| 0.0k | 0.0k | – |'), row).toBe(true);
  }, 30_000);

  it('arbitrage-capital on a run with arbitrageurs: their volume and PnL are runs.arrow\'s means, and both runs spent the cash', async () => {
    // The ETH crash with $20M of ETH arbitrage, which a $0.4B fire sale uses up (test/arbitrage.test.ts).
    const input = ethCrash({ topUpProbability: 0, deleverageProbability: 0 });
    input.runs = 2;
    input.scenario.arbitrageurs = [{ id: 'arb', asset: 'ETH', cashUsd: 20e6 }];
    const dir = path.join(work, 'arbitrage');
    await runExperiment(parseExperiment(input, 'arbitrage'), { outDir: dir, check: false, overrides: [], source: 'notebooks', workers: 1, shard: null });
    const runs = readArrowTable(path.join(dir, 'runs.arrow'));
    const mean = (name: string) => (columnToArray(runs, name) as number[]).reduce((a, b) => a + b, 0) / 2;
    const r = notebook('arbitrage-capital', dir);
    expect(r.status, r.stderr).toBe(0);
    const row = r.stdout.split('\n').find((l) => l.startsWith('| 2 |'))!;
    expect(row.endsWith(`| ${usdShort(mean('arbitrage_volume_usd'))} | ${usdShort(mean('arbitrageur_pnl_usd'))} | 2/2 |`), row).toBe(true);
    expect(mean('arbitrage_volume_usd')).toBeGreaterThan(0);
  }, 60_000);

  it('luna-death-spiral pivots the stable\'s collapses, lowest price and both holders\' losses by the sweep\'s last path; no stable is exit 2', async () => {
    // The stable fixture's panicking run, swept over the swap pool (shut, $50M) × LUNA holders' panic (0, 1), 2 paths a point.
    const input = stableExperiment((d) => {
      d.run!.panicSharePerDiscount = 2;
      d.run!.maxSharePerStep = 0.5;
    });
    input.runs = 2;
    const pool = `scenario.assets.${UST}.derived.swap.basePoolUsd`;
    const panic = `scenario.assets.${UST}.derived.run.collateralPanicSharePerDiscount`;
    input.sweep = { kind: 'grid', parameters: { [pool]: [0, 50e6], [panic]: [0, 1] } };
    const dir = path.join(work, 'stable-sweep');
    await runExperiment(parseExperiment(input, 'stable'), { outDir: dir, check: false, overrides: [], source: 'notebooks', workers: 1, shard: null });
    const r = notebook('luna-death-spiral', dir);
    expect(r.status, r.stderr).toBe(0);
    const runs = readArrowTable(path.join(dir, 'runs.arrow'));
    const [low, loss, lunaLoss, p0, p1] = ['stable_min_price_share', 'stable_holder_loss_usd', 'collateral_holder_loss_usd', ...Object.keys(JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8')).sweep_columns)].map(
      (n) => columnToArray(runs, n) as number[],
    );
    const cell = (a: number, b: number) => low!.flatMap((_, i) => (p0![i] === a && p1![i] === b ? [i] : []));
    const lines = r.stdout.split('\n');
    // Three matrices, each a row per pool and a column per panic; the median of two is their mean.
    const rowsOf = (start: number) => lines.slice(start).filter((l) => /^\| (0|50000000) \|/.test(l)).slice(0, 2);
    const medianRows = rowsOf(lines.findIndex((l) => l.startsWith("The stable's lowest price")));
    const lossRows = rowsOf(lines.findIndex((l) => l.startsWith("The stable's holders' loss")));
    const lunaRows = rowsOf(lines.findIndex((l) => l.startsWith("The collateral's holders' loss")));
    for (const [k, a] of [0, 50e6].entries()) {
      const med = [0, 1].map((b) => cell(a, b)).map((c) => ((low![c[0]!]! + low![c[1]!]!) / 2).toFixed(3));
      const mean = [0, 1].map((b) => cell(a, b)).map((c) => usdShort((loss![c[0]!]! + loss![c[1]!]!) / 2));
      expect(medianRows[k]).toBe(`| ${a} | ${med.join(' | ')} |`);
      expect(lossRows[k]).toBe(`| ${a} | ${mean.join(' | ')} |`);
      const luna = [0, 1].map((b) => cell(a, b)).map((c) => usdShort((lunaLoss![c[0]!]! + lunaLoss![c[1]!]!) / 2));
      expect(lunaRows[k]).toBe(`| ${a} | ${luna.join(' | ')} |`);
    }
    // The collapse matrix: paths under a tenth of the peg, k of 2 with their Wilson interval.
    const collapseRows = rowsOf(lines.findIndex((l) => l.startsWith('Paths where the stable collapsed')));
    for (const [k, a] of [0, 50e6].entries()) {
      const shares = [0, 1].map((b) => cell(a, b).filter((i) => low![i]! < 0.1).length).map((n) => shareWithInterval(n, 2));
      expect(collapseRows[k]).toBe(`| ${a} | ${shares.join(' | ')} |`);
    }
    const none = notebook('luna-death-spiral', results);
    expect(none.status).toBe(2);
    expect(none.stderr).toBe(`${results}: its experiment has no algorithmic stable\n`);
  }, 60_000);

  it('who-pays prints the funding the longs paid the shorts, runs.arrow\'s mean (schema 10)', async () => {
    // The shared folder's runs pay a few dollars each, under the notebook's 0.1k resolution: here the
    // interest term is 1% per 8 h and the clamp (1 = 100%) lets it through whole, F = P + (I − P) = I,
    // so the longs pay the shorts thousands.
    const input = minimalExperiment();
    input.runs = 3;
    input.steps = 40;
    (input.scenario.exchanges[0] as Record<string, unknown>).funding = { interestRatePer8h: 0.01, premiumClampPer8h: 1 };
    const dir = path.join(work, 'funding');
    await runExperiment(parseExperiment(input, 'funding'), { outDir: dir, check: false, overrides: [], source: 'notebooks', workers: 1, shard: null });
    const r = notebook('who-pays', dir);
    expect(r.status, r.stderr).toBe(0);
    const paid = columnToArray(readArrowTable(path.join(dir, 'runs.arrow')), 'funding_longs_paid_usd') as number[];
    expect(paid).toHaveLength(3);
    // A positive interest term with the premium let through whole: every run's longs paid.
    expect(paid.every((x) => x > 0)).toBe(true);
    const sum = paid.reduce((a, b) => a + b, 0);
    const m = sum / paid.length;
    const usd = (x: number) => (Math.abs(x) >= 1e6 ? `${(x / 1e6).toFixed(2)}M` : `${(x / 1e3).toFixed(1).replace(/^-(0\.0)$/, '$1')}k`); // no "-0.0k"
    // The mean is told apart from what a wrong column would print: nothing, one run's, or their sum.
    expect(new Set([usd(m), usd(0), usd(paid[0]!), usd(sum)]).size).toBe(4);
    expect(r.stdout).toContain(`| funding the longs paid the shorts per run (mean; negative: the shorts paid) | ${usd(m)} |`);
  }, 30_000);

  it('who-pays prints the vaults\' P&L (runs.arrow) and each cohort\'s P&L per point (cohorts.arrow), their means per run', () => {
    const r = notebook('who-pays', results);
    expect(r.status, r.stderr).toBe(0);
    const usd = (x: number) => (Math.abs(x) >= 1e6 ? `${(x / 1e6).toFixed(2)}M` : `${(x / 1e3).toFixed(1).replace(/^-(0\.0)$/, '$1')}k`); // no "-0.0k"
    const runs = readArrowTable(path.join(results, 'runs.arrow'));
    const vault = columnToArray(runs, 'backstop_vault_pnl_usd') as number[];
    const fund = columnToArray(runs, 'p_scenario_insurance_funds_0_initial_usd') as number[];
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(r.stdout).toContain(`| backstop vaults' P&L per run (mean; negative: a loss) | ${usd(mean(vault))} |`);
    // The cohort table: a row per point, the swept fund, its 3 runs, then a cell per cohort in name order.
    const cohorts = readCohortsFile(path.join(results, 'cohorts.arrow'));
    const names = [...cohorts.accounts].sort();
    expect(names).toContain('vault');
    const header = r.stdout.split('\n').find((l) => l.startsWith('| scenario.insuranceFunds.0.initialUsd | runs | ') && l.endsWith(`| ${names.join(' | ')} |`));
    expect(header, r.stdout).toBeDefined();
    for (const [p, size] of [[0, 1000], [1, 1_000_000]] as const) {
      const cells = names.map((c) => usd(cohorts.sum(p, c) / 3));
      expect(r.stdout).toContain(`| ${size} | 3 | ${cells.join(' | ')} |`);
      // The vault's cell is runs.arrow's column for that point.
      const vaultMean = mean(vault.filter((_, i) => fund[i] === size));
      expect(cells[names.indexOf('vault')]).toBe(usd(vaultMean));
    }
    // Schema 13: everyone else on the balance sheet in a table of its own, in row order, then Σ over
    // every row (the cohorts' too): for cash-only perp runs, 0 (design decision 57).
    const others = cohorts.others;
    expect(others).toEqual(['fund fund', 'exchange perpdex', 'outside market']);
    expect(r.stdout).toContain(`| scenario.insuranceFunds.0.initialUsd | runs | ${others.join(' | ')} | Σ every row |`);
    for (const [p, size] of [[0, 1000], [1, 1_000_000]] as const) {
      const cells = others.map((c) => usd(cohorts.sum(p, c) / 3));
      const total = cohorts.total(p) / 3;
      expect(Math.abs(total)).toBeLessThan(1e-3);
      expect(r.stdout).toContain(`| ${size} | 3 | ${[...cells, usd(total)].join(' | ')} |`);
    }
  });

  it('channels prints each point\'s losses, each protocol\'s liquidations and waterfall, and where the bad debt came from, agreeing with runs.arrow', () => {
    const r = notebook('channels', results);
    expect(r.status, r.stderr).toBe(0);
    const cells = (line: string) => line.split('|').slice(1, -1).map((c) => c.trim());
    const lines = r.stdout.split('\n');
    // The points' table: swept fund, runs, bad debt, left open, liquidations (mean), drawdowns.
    const perPoint = lines.filter((l) => /^\| (1000|1000000) \| 3 \|/.test(l)).map(cells);
    // (The attribution table's rows start the same way, with five cells.)
    const perProtocol = lines.filter((l) => /^\| [01] \| perpdex \|/.test(l)).map(cells).filter((c) => c.length === 8);
    const attribution = lines.filter((l) => /^\| [01] \| perpdex \|/.test(l)).map(cells).filter((c) => c.length === 5);
    expect(perPoint).toHaveLength(2);
    expect(perProtocol).toHaveLength(2);
    expect(attribution).toHaveLength(2);
    // The notebook's USD format, written again here: 1.2M, 3.4k, or whole dollars.
    const usd = (x: number) => (Math.abs(x) >= 1e6 ? `${(x / 1e6).toFixed(1)}M` : Math.abs(x) >= 1e3 ? `${(x / 1e3).toFixed(1)}k` : x.toFixed(0));
    const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
    const runs = readArrowTable(path.join(results, 'runs.arrow'));
    const point = columnToArray(runs, 'point_index') as number[];
    for (let p = 0; p < 2; p++) {
      const of = (name: string) => (columnToArray(runs, name) as number[]).filter((_, i) => point[i] === p);
      const avg = (name: string) => mean(of(name));
      const tail = (name: string) => `${usd(avg(name))} / ${usd(quantile(of(name), 0.95))}`;
      expect(perPoint[p]!.slice(1), `point ${p}`).toEqual([
        '3',
        tail('total_bad_debt_usd'),
        tail('insolvent_debt_usd'),
        avg('liquidation_count').toFixed(0),
        pct(avg('max_market_drawdown')),
        pct(avg('fundamental_drawdown')),
      ]);
      // One exchange, so its line (Σ over steps.arrow's rows of each run, averaged) is the runs' own.
      expect(perProtocol[p], `point ${p}`).toEqual([
        String(p),
        'perpdex',
        avg('liquidation_count').toFixed(0),
        usd(avg('liquidation_volume_usd')),
        usd(avg('total_bad_debt_usd')),
        usd(avg('fund_payout_usd')),
        usd(avg('adl_volume_usd')),
        usd(avg('socialized_loss_usd')),
      ]);
      // All of it from the fixture's one crash, through the price it moved.
      expect(attribution[p], `point ${p}`).toEqual([String(p), 'perpdex', 'crash', 'exogenous', usd(avg('total_bad_debt_usd'))]);
    }
    // Not a table of zeros: both points have bad debt, and only the $1,000 fund runs out into ADL.
    expect(perProtocol.map((c) => c[4])).not.toContain('0');
    expect(perProtocol[0]![6]).not.toBe('0');
    expect(perProtocol[1]![6]).toBe('0');
  }, 30_000);

  it('Each notebook refuses a folder whose runs.arrow was cut short, or whose run never finished, with exit 2 and no stack trace', () => {
    const cut = damagedCopy((d) => fs.truncateSync(path.join(d, 'runs.arrow'), 300));
    const unfinished = damagedCopy((d) => fs.rmSync(path.join(d, 'manifest.json')));
    for (const name of ['who-pays', 'fund-sizing', 'channels', 'arbitrage-capital', 'luna-death-spiral']) {
      const a = notebook(name, cut);
      expect(a.status, `${name}: ${a.stderr}`).toBe(2);
      expect(a.stderr).toBe(`${path.join(cut, 'runs.arrow')}: cannot be read (cut short (300 bytes, no Arrow file footer): not a complete Arrow file): copy the folder again, or run the experiment again into a new folder\n`);
      const b = notebook(name, unfinished);
      expect(b.status, `${name}: ${b.stderr}`).toBe(2);
      expect(b.stderr).toBe(`no manifest.json in ${unfinished}: not a finished results folder (did its run finish?)\n`);
    }
  }, 60_000);

  it('Stops quietly (exit 0) when its reader closes the pipe, as `… | head -1` does', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'notebooks', 'who-pays.ts'), results], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    // Closed before the notebook writes: its first write meets a closed pipe.
    child.stdout.destroy();
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    expect(stderr).toBe('');
    expect(code).toBe(0);
  }, 30_000);
});
