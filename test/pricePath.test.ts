// Replaying a recorded price path (assets[].pricePath; DESIGN.md, "Price process": replay of a
// price path from CSV): reading a CSV column, the cross-field rules, and the engine moving the
// fundamental by the series' returns, with every expected number worked out beside it.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { csvColumn } from '../src/experiment/pricePath.ts';
import { loadExperiment, parseExperiment } from '../src/experiment/load.ts';
import type { Experiment, ExperimentInput } from '../src/experiment/schema.ts';
import { expandSweep, pointExperiment } from '../src/experiment/sweep.ts';
import { buildGraph } from '../src/graph/build.ts';
import { runWorld, worldFor } from '../src/engine/simulate.ts';
import { attribute, experimentOrigins } from '../src/engine/attribution.ts';
import { CHANNELS, EventKindCode } from '../src/engine/record.ts';
import { step } from '../src/engine/step.ts';
import { minimalExperiment } from './fixtures/minimalExperiment.ts';
import { issueLines as issuesOf } from './fixtures/issues.ts';

/** Fundamental prices of every asset after each of the first `steps` steps of replicate r. */
function fundamentals(input: ExperimentInput, steps: number, replicate = 0): number[][] {
  const exp = parseExperiment(input, 'price path');
  const w = worldFor(exp, buildGraph(exp), replicate);
  const out: number[][] = [];
  for (let k = 0; k < steps; k++) {
    w.step = k;
    step(w);
    out.push([...w.fundamental]);
  }
  return out;
}

/** The minimal experiment, 6 steps, no scripted shock, BTC replaying `prices` from `fromRow`. */
function replaying(prices: number[], fromRow = 0): ExperimentInput {
  const input = minimalExperiment();
  input.steps = 6;
  input.scenario.shocks = [];
  input.scenario.assets[0]!.pricePath = { prices, fromRow };
  return input;
}

describe('reading a CSV column', () => {
  it('takes the named column under its header, skipping blank lines, CRLF endings, a BOM and quotes', () => {
    const text = '\uFEFF"time","BTC",ETH\r\n2020-03-12T00:00,7900,190\r\n\r\n2020-03-12T00:01,"7850.5",189\r\n';
    expect(csvColumn(text, 'BTC')).toEqual({ prices: [7900, 7850.5] });
    expect(csvColumn(text, 'ETH')).toEqual({ prices: [190, 189] });
  });

  it('names what is wrong: a missing column (listing those there are), a cell that is not a positive price (with its line), an empty file', () => {
    const text = 'time,BTC\n0,100\n1,-5\n';
    expect(csvColumn(text, 'SOL')).toEqual({ error: 'no column "SOL" in the header (columns: "time", "BTC")' });
    expect(csvColumn(text, 'BTC')).toEqual({ error: 'line 3: column "BTC" holds "-5": expected a positive number (a price)' });
    expect(csvColumn('time,BTC\n0,\n', 'BTC')).toEqual({ error: 'line 2: column "BTC" holds "": expected a positive number (a price)' });
    expect(csvColumn('time,BTC\n0\n', 'BTC')).toEqual({ error: 'line 2: column "BTC" holds nothing: expected a positive number (a price)' });
    expect(csvColumn('\n\n', 'BTC')).toEqual({ error: 'the file is empty: expected a header row, then one row per price' });
    expect(csvColumn('time,BTC\n', 'BTC')).toEqual({ error: 'the file has a header but no rows: expected one row per price' });
  });

  it('loadExperiment reads the file relative to the experiment file into prices, which the resolved experiment carries', () => {
    const dir = mkdtempSync(join(tmpdir(), 'contagion-path-'));
    writeFileSync(join(dir, 'btc.csv'), 'minute,BTC\n' + [60000, 60600, 59994, 54000, 54540, 55000, 56000].map((p, i) => `${i},${p}`).join('\n'));
    const input = replaying([]);
    input.scenario.assets[0]!.pricePath = { csv: 'btc.csv', column: 'BTC' };
    writeFileSync(join(dir, 'exp.json'), JSON.stringify(input));
    const exp = loadExperiment(join(dir, 'exp.json'));
    expect(exp.scenario.assets[0]!.pricePath!.prices).toEqual([60000, 60600, 59994, 54000, 54540, 55000, 56000]);
    expect(exp.scenario.assets[0]!.pricePath!.csv).toBe('btc.csv');
  });
});

describe('the rules', () => {
  it('a path needs steps + 1 prices from fromRow; csv and column go together; prices are required; a derived asset cannot replay', () => {
    // 6 steps need 7 prices: 7 given from row 1 leaves 6.
    expect(issuesOf(() => parseExperiment(replaying([1, 2, 3, 4, 5, 6, 7], 1), 'x'))).toEqual([
      'scenario.assets.0.pricePath.fromRow: prices holds 7 prices, 6 from row 1: expected at least steps + 1 = 7 (one per step boundary)',
    ]);
    expect(issuesOf(() => parseExperiment(replaying([1, 2, 3, 4, 5, 6, 7]), 'x'))).toEqual([]);
    const noColumn = replaying([1, 2, 3, 4, 5, 6, 7]);
    noColumn.scenario.assets[0]!.pricePath = { csv: 'a.csv', prices: [1, 2, 3, 4, 5, 6, 7] };
    expect(issuesOf(() => parseExperiment(noColumn, 'x'))).toEqual(['scenario.assets.0.pricePath.csv: csv and column go together: the file and the header of the column to replay']);
    const unread = replaying([]);
    unread.scenario.assets[0]!.pricePath = { csv: 'a.csv', column: 'BTC' };
    expect(issuesOf(() => parseExperiment(unread, 'x'))).toEqual([
      'scenario.assets.0.pricePath.prices: expected the series: contagion reads the csv into prices when it loads the experiment file; a program calling parseExperiment gives prices itself',
    ]);
    const derived = replaying([1, 2, 3, 4, 5, 6, 7]);
    derived.scenario.assets[0]!.pricePath = undefined;
    derived.scenario.assets.push({
      symbol: 'stETH',
      initialPrice: 3000,
      volatilityAnnual: 0,
      derived: { kind: 'liquidStaking', underlying: 'ETH' },
      pricePath: { prices: [1, 2, 3, 4, 5, 6, 7] },
      market: { depthUsd: 1e7, impact: 'linear', impactCoefficient: 0.01, resilienceHalfLifeSeconds: 300, permanentShare: 0.2 },
    });
    expect(issuesOf(() => parseExperiment(derived, 'x')).filter((m) => m.startsWith('scenario.assets.2.pricePath'))).toEqual([
      'scenario.assets.2.pricePath: a derived asset\'s fundamental is computed from another part of the system each step (derived.kind "liquidStaking"): it cannot replay a path',
    ]);
  });
});

describe('the engine replays the returns', () => {
  // BTC starts at 60,000 (the fixture) and replays a series that starts at 100: after k steps its
  // fundamental is 60,000 × prices[k] / 100 — +1%, −1%, −10%, +1%, … of the series, not its levels.
  const series = [100, 101, 99.99, 90, 90.9, 91, 92];

  it('the fundamental is initialPrice × prices[k] / prices[0] after k steps', () => {
    const path = fundamentals(replaying(series), 6).map((f) => f[0]!);
    expect(path).toEqual([60600, 59994, 54000, 54540, 54600, 55200].map((x) => expect.closeTo(x, 8)));
  });

  it('from row 2 it replays the series from there: 60,000 × prices[2 + k] / prices[2]', () => {
    const path = fundamentals(replaying([...series, 93, 94], 2), 6).map((f) => f[0]!);
    // 60,000 × 90 / 99.99 = 54,005.40; × 90.9 / 99.99 = 54,545.45; then 91, 92, 93, 94.
    expect(path).toEqual([90, 90.9, 91, 92, 93, 94].map((p) => expect.closeTo((60000 * p) / 99.99, 8)));
  });

  it('the other asset\'s path is the same bit for bit whether or not BTC replays (its draws are still made)', () => {
    const input = replaying(series);
    const diffusing = replaying(series);
    diffusing.scenario.assets[0]!.pricePath = undefined;
    const eth = fundamentals(input, 6, 3).map((f) => f[1]!);
    expect(eth).toEqual(fundamentals(diffusing, 6, 3).map((f) => f[1]!));
    // … and the diffusing BTC does move (so the equality above is not two constant paths).
    expect(new Set(fundamentals(diffusing, 6, 3).map((f) => f[0]!)).size).toBe(6);
  });

  it('a sweep over fromRow replays other windows of one series: point 1 starts one row later', () => {
    const input = replaying([...series, 93]);
    input.sweep = { kind: 'grid', parameters: { 'scenario.assets.0.pricePath.fromRow': [0, 1] } };
    const exp = parseExperiment(input, 'windows');
    const points = expandSweep(exp).map((p) => pointExperiment(exp, p));
    const first = (e: Experiment) => {
      const w = worldFor(e, buildGraph(e), 0);
      w.step = 0;
      step(w);
      return w.fundamental[0]!;
    };
    // Point 0: 60,000 × 101 / 100 = 60,600; point 1: 60,000 × 99.99 / 101 = 59,400.
    expect(points.map(first)).toEqual([expect.closeTo(60600, 8), expect.closeTo((60000 * 99.99) / 101, 8)]);
  });

  it('the losses a replayed crash causes are attributed to it: origin "BTC path", channel exogenous', () => {
    // BTC's series halves over steps 1–3 (100 → 50): the fixture's leveraged BTC longs are
    // liquidated under water, and every bad-debt event traces back to the path's shock event.
    const input = replaying([100, 100, 80, 60, 50, 50, 50]);
    const exp = parseExperiment(input, 'replayed crash');
    const w = worldFor(exp, buildGraph(exp), 0);
    runWorld(w, true);
    const origins = experimentOrigins(exp);
    expect(origins).toEqual(['BTC path', 'regime_switch', 'endogenous']);
    // The path's event: a shock on BTC at step 0 carrying the window's total return, 50 / 100 − 1.
    const shock = w.replayEventId[0]!;
    expect([w.events.kind[shock], w.events.step[shock], w.events.asset[shock], w.events.amountUsd[shock]]).toEqual([EventKindCode.shock, 0, 0, -0.5]);
    const t = attribute(w);
    const rows = [...Array(t.rows).keys()].map((r) => [origins[t.origin[r]!], CHANNELS[t.channel[r]!]]);
    expect(w.totals.badDebtUsd[0]).toBeGreaterThan(0);
    expect(rows).toContainEqual(['BTC path', 'exogenous']);
    // All of the bad debt is the path's (no other origin carries any).
    const fromPath = [...Array(t.rows).keys()].filter((r) => origins[t.origin[r]!] === 'BTC path').reduce((s, r) => s + t.lossUsd[r]!, 0);
    expect(fromPath).toBeCloseTo(w.totals.badDebtUsd[0]!, 6);
  });

  it('a scripted shock applies on top of the replay: −10% at step 2 takes 54,000 to 48,600', () => {
    const input = replaying(series);
    input.scenario.shocks = [{ id: 'extra', asset: 'BTC', totalReturn: -0.1, startStep: 2, overSteps: 1 }];
    const path = fundamentals(input, 4).map((f) => f[0]!);
    // Steps 0, 1 as before; step 2: 60,000 × 90/100 × 0.9 = 48,600; step 3: × 90.9/90 = 49,086.
    expect(path).toEqual([60600, 59994, 48600, 49086].map((x) => expect.closeTo(x, 8)));
  });
});
