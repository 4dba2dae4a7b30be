// `contagion report RESULTS`: the report of a finished sweep (provenance, outcomes per point, the loss
// waterfall per point, attribution, the cohorts' P&L), of a size-fund folder, and bad input (exit 2 naming the folder or file).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseExperiment } from '../src/experiment/load.ts';
import { runExperiment } from '../src/runner/runExperiment.ts';
import { columnToArray, readArrowTable } from '../src/io/readArrow.ts';
import { cohortPnlSums, usd } from '../src/analysis/report.ts';
import { tableFromArrays } from 'apache-arrow';
import { wilsonInterval } from '../src/analysis/statistics.ts';
import { minimalExperiment } from './fixtures/minimalExperiment.ts';
import { readCohortsFile } from './fixtures/cohortsFile.ts';
import { ethCrash } from './fixtures/ethCrash.ts';
import { stableExperiment } from './fixtures/stableExperiment.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const CLI = path.join(ROOT, 'src', 'cli', 'contagion.js');
const cli = (args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
let work: string;
let results: string;

beforeAll(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'contagion-report-'));
  results = path.join(work, 'sweep');
  const input = minimalExperiment();
  input.runs = 3;
  // No fund, and a fund far larger than any run's bad debt (those are 3k–56k on this fixture).
  input.sweep = { kind: 'grid', parameters: { 'scenario.insuranceFunds.0.initialUsd': [0, 1_000_000] } };
  await runExperiment(parseExperiment(input, 'report'), { outDir: results, check: false, overrides: [], source: 'report', workers: 1, shard: null });
}, 60_000);
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

describe('contagion report', () => {
  it('a sweep: provenance, outcomes per point, and who paid the bad debt, stage by stage', () => {
    const r = cli(['report', results]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^# minimal\n\nA minimal two-asset experiment/);
    expect(r.stdout).toMatch(/6 runs done, 0 failed \(2 points × 3 replicates; seed 42\)\. contagion 0\.1\.0/);
    expect(r.stdout).toContain('## Outcomes per point');
    expect(r.stdout).toContain('| scenario.insuranceFunds.0.initialUsd | runs | runs with bad debt |');
    // The waterfall rows are the means of runs.arrow's columns over each point's 3 runs.
    const runs = readArrowTable(path.join(results, 'runs.arrow'));
    const col = (n: string) => columnToArray(runs, n) as number[];
    const m = (n: string, p: number) => col(n).slice(3 * p, 3 * p + 3).reduce((a, b) => a + b, 0) / 3;
    const bad = [0, 1].map((p) => m('total_bad_debt_usd', p));
    expect(bad[0]).toBeGreaterThan(0);
    // Point 0 starts with no fund: it pays only what liquidation penalties put in it during the run, and
    // ADL'd winners and socialization take most of the rest. Each stage's share is its mean over the bad debt's.
    const stage = (n: string) => `${usd(m(n, 0))} (${((100 * m(n, 0)) / bad[0]!).toFixed(0)}%)`;
    expect(m('fund_payout_usd', 0)).toBeLessThan(0.1 * bad[0]!);
    expect(m('adl_absorbed_usd', 0) + m('socialized_loss_usd', 0)).toBeGreaterThan(0.9 * bad[0]!);
    expect(r.stdout).toContain(
      `| 0 | 0 | 3 | ${usd(bad[0]!)} | ${stage('fund_payout_usd')} | ${stage('adl_absorbed_usd')} | ${stage('socialized_loss_usd')} | ${stage('uncovered_bad_debt_usd')} |`,
    );
    // Point 1's fund of 1M pays all of it: 100% from the fund, 0 from the winners, nothing socialized.
    expect(m('fund_payout_usd', 1)).toBe(bad[1]);
    expect(r.stdout).toContain(`| 1 | 1000000 | 3 | ${usd(bad[1]!)} | ${usd(bad[1]!)} (100%) | 0 (0%) | 0 (0%) | 0 (0%) |`);
    expect(r.stdout).toContain('| point | insuranceFunds.0.initialUsd | runs | bad debt | insurance fund |');
    expect(r.stdout).toContain('## Where the losses came from');
    expect(r.stdout).toMatch(/\| 1 \| perpdex \| crash \| [a-z-]+ \| [\d.]+k \|/);
    // Who gained and who paid: cohorts.arrow's pnl_usd, mean over each point's 3 runs, a column per cohort.
    const cohorts = readCohortsFile(path.join(results, 'cohorts.arrow'));
    const names = cohorts.accounts;
    // Since schema 13, a second table: everyone else on the balance sheet (the fund, the exchange, the outside market).
    const others = cohorts.others;
    const cell = (p: number, c: string) => usd(cohorts.sum(p, c) / 3);
    expect(names.length).toBeGreaterThan(1);
    expect(others).toEqual(['fund fund', 'exchange perpdex', 'outside market']);
    expect(r.stdout).toContain(`## Who gained and who paid`);
    for (const list of [names, others]) {
      expect(r.stdout).toContain(`| point | ${list.join(' | ')} |`);
      for (const p of [0, 1]) expect(r.stdout).toContain(`| ${p} | ${list.map((c) => cell(p, c)).join(' | ')} |`);
    }
    // --out: the same text in a file.
    const file = path.join(work, 'reports', 'sweep.md');
    const o = cli(['report', results, '--out', file]);
    expect(o.status, o.stderr).toBe(0);
    expect(fs.readFileSync(file, 'utf8')).toBe(r.stdout);
  }, 60_000);

  it('risk metrics: VaR95, LaR95 and ES99 of each point, from runs.arrow by hand', () => {
    const r = cli(['report', results]);
    expect(r.status, r.stderr).toBe(0);
    const runs = readArrowTable(path.join(results, 'runs.arrow'));
    const col = (n: string) => columnToArray(runs, n) as number[];
    for (const p of [0, 1]) {
      const slice = (n: string) => col(n).slice(3 * p, 3 * p + 3);
      const loss = slice('total_bad_debt_usd').map((x, i) => x + slice('insolvent_debt_usd')[i]!).sort((a, b) => a - b);
      const liq = slice('liquidation_volume_usd').sort((a, b) => a - b);
      // Three paths: the 95th percentile sits at h = 2 × 0.95 = 1.9, i.e. x₂ + 0.9 (x₃ − x₂); B ~ Bin(3, 0.95)
      // gives P(B ≤ 1) = 0.0073 ≤ 0.025 < P(B ≤ 2) = 0.143, so the interval starts at x₂, and nothing bounds
      // it above (0.95³ = 0.86). ES99 is the worst path.
      const q95 = (x: number[]) => x[1]! + 0.9 * (x[2]! - x[1]!);
      const swept = p === 0 ? '0' : '1000000';
      expect(r.stdout).toContain(`| ${p} | ${swept} | 3 | ${usd(q95(loss))} [${usd(loss[1]!)} – …] | ${usd(q95(liq))} [${usd(liq[1]!)} – …] | ${usd(loss[2]!)} (1) |`);
    }
    expect(col('liquidation_volume_usd').every((x) => x > 0)).toBe(true);
  });

  it('--figures: Vega-Lite specs whose data are the folder’s numbers, and their SVG, the same bytes each time', () => {
    const figures = path.join(work, 'figures');
    const r = cli(['report', results, '--figures', figures]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe(cli(['report', results]).stdout);
    expect(r.stderr).toContain(`figures in ${figures}: adl-share.svg, loss-waterfall.svg, cohort-pnl.svg, balance-sheet.svg`);
    expect(fs.readdirSync(figures).sort()).toEqual([
      'adl-share.svg',
      'adl-share.vl.json',
      'balance-sheet.svg',
      'balance-sheet.vl.json',
      'cohort-pnl.svg',
      'cohort-pnl.vl.json',
      'loss-waterfall.svg',
      'loss-waterfall.vl.json',
    ]);
    const runs = readArrowTable(path.join(results, 'runs.arrow'));
    const col = (n: string) => columnToArray(runs, n) as number[];
    // Point p's runs are rows 3p..3p+2; its label is its swept value (the fund).
    const share = JSON.parse(fs.readFileSync(path.join(figures, 'adl-share.vl.json'), 'utf8')).data.values;
    expect(share).toEqual(
      [0, 1].map((p) => {
        const k = col('adl_count').slice(3 * p, 3 * p + 3).filter((x) => x > 0).length;
        const [lower, upper] = wilsonInterval(k, 3);
        return { point: p === 0 ? '0' : '1000000', runs: 3, adl_runs: k, share: k / 3, lower, upper };
      }),
    );
    // Point 1's $1M fund paid all of its bad debt: its bars are the fund's alone.
    const falls = JSON.parse(fs.readFileSync(path.join(figures, 'loss-waterfall.vl.json'), 'utf8')).data.values as { point: string; stage: string; usd: number }[];
    const mean = (n: string, p: number) => col(n).slice(3 * p, 3 * p + 3).reduce((a, b) => a + b, 0) / 3;
    expect(falls.filter((f) => f.point === '1000000').map((f) => [f.stage, f.usd])).toEqual([
      ['insurance fund', mean('total_bad_debt_usd', 1)],
      ["ADL'd winners", 0],
      ['socialized', 0],
      ['left uncovered', 0],
    ]);
    expect(falls.filter((f) => f.point === '0').map((f) => f.usd)).toEqual(
      ['fund_payout_usd', 'adl_absorbed_usd', 'socialized_loss_usd', 'uncovered_bad_debt_usd'].map((n) => mean(n, 0)),
    );
    // cohort-pnl: per point and cohort, cohorts.arrow's pnl_usd summed over the point's 3 runs, over 3.
    const bars = JSON.parse(fs.readFileSync(path.join(figures, 'cohort-pnl.vl.json'), 'utf8')).data.values as { point: string; cohort: string; usd: number }[];
    // The cohorts and vaults only: the rest of the balance sheet (role other than these) is drawn apart.
    const cohorts = readCohortsFile(path.join(results, 'cohorts.arrow'));
    const names = cohorts.accounts;
    expect(names.length).toBeGreaterThan(0);
    expect(cohorts.others.length).toBeGreaterThan(0);
    expect(bars).toHaveLength(2 * names.length);
    for (const b of bars) {
      const p = b.point === '0' ? 0 : 1;
      expect(b.usd, `${b.point} ${b.cohort}`).toBeCloseTo(cohorts.sum(p, b.cohort) / 3, 6);
    }
    // balance-sheet: the same for everyone else (design decision 57): the fund, the exchange, the outside market.
    const sheet = JSON.parse(fs.readFileSync(path.join(figures, 'balance-sheet.vl.json'), 'utf8')).data.values as { point: string; cohort: string; usd: number }[];
    expect(sheet.map((b) => `${b.point} ${b.cohort}`)).toEqual(['0', '1000000'].flatMap((p) => ['fund fund', 'exchange perpdex', 'outside market'].map((c) => `${p} ${c}`)));
    for (const b of sheet) {
      const p = b.point === '0' ? 0 : 1;
      expect(b.usd, `${b.point} ${b.cohort}`).toBeCloseTo(cohorts.sum(p, b.cohort) / 3, 6);
    }
    // Point 0's small fund pays out; what the fund gains or loses is what the cohorts lose or gain between them.
    const cohortsSum = (p: number) => names.reduce((a, c) => a + cohorts.sum(p, c), 0) / 3;
    for (const p of [0, 1]) expect(sheet.find((b) => b.point === (p === 0 ? '0' : '1000000') && b.cohort === 'fund fund')!.usd).toBeCloseTo(-cohortsSum(p), 6);
    const svg = fs.readFileSync(path.join(figures, 'adl-share.svg'), 'utf8');
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    expect(svg).toContain('Share of runs reaching ADL (95% Wilson interval)');
    const again = path.join(work, 'figures-again');
    expect(cli(['report', results, '--figures', again]).status).toBe(0);
    for (const f of fs.readdirSync(figures)) expect(fs.readFileSync(path.join(again, f)).equals(fs.readFileSync(path.join(figures, f))), f).toBe(true);
  }, 60_000);

  it('a folder without a sweep: one row per table, no column of swept values', async () => {
    const single = path.join(work, 'single');
    const input = minimalExperiment();
    await runExperiment(parseExperiment(input, 'single'), { outDir: single, check: false, overrides: [], source: 'single', workers: 1, shard: null });
    const r = cli(['report', single]);
    expect(r.status, r.stderr).toBe(0);
    const runs = readArrowTable(path.join(single, 'runs.arrow'));
    const bad = (columnToArray(runs, 'total_bad_debt_usd') as number[]).reduce((a, b) => a + b, 0) / 2;
    expect(r.stdout).toContain('| runs | runs with bad debt | bad debt mean / p99 (fund needed) | runs with ADL | left open (mean) |');
    expect(r.stdout).toContain('| point | runs | bad debt | insurance fund | ADL\'d winners | socialized | left uncovered |');
    expect(r.stdout).toContain(`| 0 | 2 | ${usd(bad)} |`);
  }, 60_000);

  it('several protocols: what each liquidated and lost, from steps.arrow; one protocol: no such section', async () => {
    expect(cli(['report', results]).stdout).not.toContain('## Per protocol');
    // The minimal experiment with a second venue: a copy of the first (no backstop), its own fund,
    // its own traders and makers, on the same two markets.
    const input = minimalExperiment();
    input.runs = 2;
    const s = input.scenario;
    s.insuranceFunds.push({ id: 'fund2', initialUsd: 0 });
    const { backstop: _backstop, ...first } = s.exchanges[0]!;
    s.exchanges.push({ ...structuredClone(first), id: 'perpdex2', insuranceFund: 'fund2' });
    for (const c of s.traders.filter((t) => t.kind === 'directional' || t.kind === 'marketMaker')) {
      s.traders.push({ ...structuredClone(c), id: `${c.id}-2`, exchange: 'perpdex2' } as typeof c);
    }
    const two = path.join(work, 'two-venues');
    await runExperiment(parseExperiment(input, 'two venues'), { outDir: two, check: true, overrides: [], source: 'report', workers: 1, shard: null });
    const r = cli(['report', two]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('## Per protocol');
    const rows = r.stdout.split('\n').filter((l) => /^\| 0 \| perpdex2? \| \d+ \|/.test(l));
    expect(rows.map((l) => l.split('|')[2]!.trim())).toEqual(['perpdex', 'perpdex2']);
    // The two venues' liquidations per run add up to the runs' liquidation_count (mean of 2 runs),
    // each mean printed to the nearest whole liquidation.
    const runs = readArrowTable(path.join(two, 'runs.arrow'));
    const count = columnToArray(runs, 'liquidation_count') as number[];
    const perVenue = rows.map((l) => Number(l.split('|')[3]!.trim()));
    expect(Math.abs(perVenue[0]! + perVenue[1]! - (count[0]! + count[1]!) / 2)).toBeLessThanOrEqual(1);
    expect(perVenue.every((n) => n > 0)).toBe(true);
  }, 60_000);

  it('arbitrageurs: their volume, PnL and cash per point when a run had any; no such section otherwise', async () => {
    expect(cli(['report', results]).stdout).not.toContain('## Arbitrageurs');
    const input = ethCrash({ topUpProbability: 0, deleverageProbability: 0 });
    input.runs = 2;
    input.scenario.arbitrageurs = [{ id: 'arb', asset: 'ETH', cashUsd: 20e6 }];
    const out = path.join(work, 'arbitrage');
    await runExperiment(parseExperiment(input, 'arbitrage'), { outDir: out, check: true, overrides: [], source: 'report', workers: 1, shard: null });
    const r = cli(['report', out]);
    expect(r.status, r.stderr).toBe(0);
    const runs = readArrowTable(path.join(out, 'runs.arrow'));
    const mean2 = (n: string) => ((columnToArray(runs, n) as number[]).reduce((a, b) => a + b, 0)) / 2;
    const share = (columnToArray(runs, 'arbitrageur_min_cash_share') as number[]).slice().sort((a, b) => a - b);
    // $20M against a $0.4B fire sale: spent on both paths (the arbitrage tests' crash).
    expect(share[1]).toBeLessThan(0.01);
    expect(r.stdout).toContain('## Arbitrageurs');
    expect(r.stdout).toContain(`| 0 | 2 | ${usd(mean2('arbitrage_volume_usd'))} | ${usd(mean2('arbitrageur_pnl_usd'))} | ${((share[0]! + share[1]!) / 2).toFixed(3)} | 2/2 |`);
  }, 60_000);

  it('algorithmic stables: the peg\'s low, collapses, the run, the swap, both holders\' losses and the collateral\'s supply per point', async () => {
    expect(cli(['report', results]).stdout).not.toContain('## Algorithmic stables');
    const input = stableExperiment((d) => {
      d.run!.panicSharePerDiscount = 2;
      d.run!.maxSharePerStep = 0.5;
    });
    input.runs = 2;
    const out = path.join(work, 'stable');
    await runExperiment(parseExperiment(input, 'stable'), { outDir: out, check: true, overrides: [], source: 'report', workers: 1, shard: null });
    const r = cli(['report', out]);
    expect(r.status, r.stderr).toBe(0);
    const runs = readArrowTable(path.join(out, 'runs.arrow'));
    const col = (n: string) => columnToArray(runs, n) as number[];
    const mean2 = (n: string) => (col(n)[0]! + col(n)[1]!) / 2;
    const low = col('stable_min_price_share');
    const multiple = col('collateral_supply_multiple');
    // The fixture's panicking run takes UST to 0.63 on both paths: no collapse (under 0.1), LUNA supply up 1.43×.
    expect(Math.max(...low)).toBeLessThan(0.7);
    expect(Math.min(...low)).toBeGreaterThan(0.1);
    expect(r.stdout).toContain('## Algorithmic stables');
    expect(r.stdout).toContain(
      `| 0 | 2 | ${((low[0]! + low[1]!) / 2).toFixed(3)} / ${Math.min(...low).toPrecision(2)} | 0% [0–66%] | ${usd(mean2('stable_run_sold_usd'))} | ` +
        `${usd(mean2('stable_redeemed_usd'))} | ${usd(mean2('stable_holder_loss_usd'))} | ${usd(mean2('collateral_holder_loss_usd'))} | ${((multiple[0]! + multiple[1]!) / 2).toFixed(2)} / ${Math.max(...multiple).toFixed(2)} |`,
    );
    // The stable-peg figure: per step, the median of the two runs' UST market price (their mean) and
    // the 10th and 90th percentiles (interpolated: 0.9 × lower + 0.1 × upper, and the reverse).
    const figures = path.join(work, 'stable-figures');
    const f = cli(['report', out, '--figures', figures]);
    expect(f.status, f.stderr).toBe(0);
    expect(f.stderr).toContain('stable-peg.svg');
    const values = JSON.parse(fs.readFileSync(path.join(figures, 'stable-peg.vl.json'), 'utf8')).data.values as { step: number; median: number; p10: number; p90: number }[];
    expect(values).toHaveLength(24);
    const prices = readArrowTable(path.join(out, 'prices.arrow'));
    const [asset, step, market] = ['asset', 'step', 'market_price'].map((n) => columnToArray(prices, n));
    for (const at of [0, 12, 23]) {
      const two = market!.filter((_, i) => asset![i] === 'UST' && step![i] === at) as number[];
      expect(two).toHaveLength(2);
      const [lo, hi] = [Math.min(...two), Math.max(...two)];
      const row = values.find((v) => v.step === at)!;
      expect(row.median).toBeCloseTo((lo + hi) / 2, 12);
      expect(row.p10).toBeCloseTo(0.9 * lo + 0.1 * hi, 12);
      expect(row.p90).toBeCloseTo(0.1 * lo + 0.9 * hi, 12);
    }
    expect(fs.readFileSync(path.join(figures, 'stable-peg.svg'), 'utf8')).toMatch(/^<svg/);
  }, 60_000);

  it('a size-fund folder: its answer', () => {
    const exp = minimalExperiment();
    exp.runs = 6;
    const file = path.join(work, 'sf.json');
    fs.writeFileSync(file, JSON.stringify(exp));
    const out = path.join(work, 'sf');
    expect(cli(['size-fund', file, '--target', '0.5', '--max', '1e6', '--tolerance', '0.05', '--out', out, '--quiet']).status).toBe(0);
    const answer = JSON.parse(fs.readFileSync(path.join(out, 'size-fund.json'), 'utf8')).points[0].answer;
    const r = cli(['report', out]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('# minimal: insurance fund sizing');
    expect(r.stdout).toContain('fewer than 50.00% of the stress paths reach adl');
    expect(r.stdout).toContain(`| 6 | ${usd(answer.fund_usd)} | `);
    expect(r.stdout).toContain(` | ${answer.paths_reaching_at_fund}/6 |`);
    // Its figure: the share of paths needing more than F, a step down at each requirement; at the
    // estimate it is the share the search counted above it.
    const figures = path.join(work, 'sf-figures');
    expect(cli(['report', out, '--figures', figures]).status).toBe(0);
    const curve = JSON.parse(fs.readFileSync(path.join(figures, 'fund-curve.vl.json'), 'utf8')).layer[0].data.values as { fund_usd: number; share: number }[];
    const requirements = JSON.parse(fs.readFileSync(path.join(out, 'size-fund.json'), 'utf8')).points[0].requirements_usd as (number | null)[];
    for (const { fund_usd, share } of curve) expect(share).toBe(requirements.filter((x) => x === null || x > fund_usd).length / 6);
    expect(curve.find((c) => c.fund_usd === answer.fund_usd)!.share).toBe(answer.paths_reaching_by_search / 6);
    expect(fs.readFileSync(path.join(figures, 'fund-curve.svg'), 'utf8')).toContain('Paths reaching ADL with an insurance fund of F');
  }, 60_000);

  it('bad input: exit 2 naming the folder or the file, never a stack trace', () => {
    const missing = cli(['report', path.join(work, 'nope')]);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain(`RESULTS: got "${path.join(work, 'nope')}", expected a results folder (none there)`);
    const empty = path.join(work, 'empty');
    fs.mkdirSync(empty);
    const unfinished = cli(['report', empty]);
    expect(unfinished.status).toBe(2);
    expect(unfinished.stderr).toContain('expected a finished results folder (manifest.json, written when a run ends) or a size-fund folder');
    // runs.arrow cut in half.
    const cut = path.join(work, 'cut');
    fs.cpSync(results, cut, { recursive: true });
    const runsFile = path.join(cut, 'runs.arrow');
    const bytes = fs.readFileSync(runsFile);
    fs.writeFileSync(runsFile, bytes.subarray(0, bytes.length >> 1));
    const r = cli(['report', cut]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`${runsFile}: cannot be read (`);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  }, 60_000);
});

describe('the report\'s money', () => {
  it('prints millions to two places, thousands to one, dollars whole, and a rounding residue as 0, not -0', () => {
    expect(usd(1_234_567)).toBe('1.23M');
    expect(usd(-2_345)).toBe('-2.3k');
    expect(usd(12.4)).toBe('12');
    expect(usd(-0.6)).toBe('-1');
    // A sum of rows that cancel (the balance sheet's Σ, a lender made whole) ends a hair under 0.
    expect(usd(-1e-9)).toBe('0');
    expect(usd(-0.4)).toBe('0');
    expect(usd(0)).toBe('0');
  });
});

describe('cohortPnlSums', () => {
  it('splits the cohorts from everyone else by role, and reads a folder from before schema 13 (no role column) as all cohorts', () => {
    const rows = {
      point_index: Int32Array.of(0, 0, 0, 1, 1),
      role: ['trader', 'backstop_vault', 'insurance_fund', 'trader', 'outside_market'],
      cohort: ['longs', 'vault', 'fund f', 'longs', 'outside market'],
      pnl_usd: Float64Array.of(-10, -5, 15, -2, 2),
    };
    const now = cohortPnlSums(tableFromArrays(rows));
    expect(now.accounts).toEqual(['longs', 'vault']);
    expect(now.others).toEqual(['fund f', 'outside market']);
    expect([now.sum(0, 'longs'), now.sum(0, 'fund f'), now.sum(1, 'outside market'), now.sum(1, 'vault')]).toEqual([-10, 15, 2, 0]);
    expect([now.has(1, 'vault'), now.has(1, 'longs')]).toEqual([false, true]);
    const { role: _, ...before } = rows;
    const old = cohortPnlSums(tableFromArrays(before));
    expect(old.accounts).toEqual(['longs', 'vault', 'fund f', 'outside market']);
    expect(old.others).toEqual([]);
  });
});
