// The public API (src/index.ts) is enough to run a study from another program: validate an
// experiment, run it, and read the results back — without the CLI.
import { describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as api from '../src/index.ts';
import { minimalExperiment } from './fixtures/minimalExperiment.ts';

describe('public API', () => {
  it('Runs an experiment and reads its results back through src/index.ts alone', async () => {
    const input = minimalExperiment();
    input.runs = 2;
    input.steps = 30;
    const exp = api.parseExperiment(input, 'api');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'contagion-api-'));
    try {
      const r = await api.runExperiment(exp, { outDir: dir, check: true, overrides: [], source: 'api', workers: 1 });
      expect(r.runsDone).toBe(2);
      const runs = api.readArrowTable(path.join(dir, 'runs.arrow'));
      expect(api.columnToArray(runs, 'replicate')).toEqual([0, 1]);
      // The same run through simulateRun gives the same summary as the file.
      const direct = api.simulateRun(exp, api.buildGraph(exp), 1, { check: false });
      expect(api.columnToArray(runs, 'total_bad_debt_usd')[1]).toBe(direct.summary.totalBadDebtUsd);
      expect(api.columnToArray(runs, 'liquidation_count')[1]).toBe(direct.summary.liquidationCount);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
  it('Exposes the margin, pricing and lending arithmetic with the numbers of their own tests', () => {
    // Hull's example: S 42, K 40, r 10%, σ 20%, T 0.5 → call 4.76.
    const g = api.blackScholes('call', 42, 40, 0.5, 0.2, 0.1, { price: 0, delta: 0, gamma: 0, vega: 0, theta: 0 });
    expect(g.price).toBeCloseTo(4.759422, 5);
    // 10 ETH at 2,000 (threshold 0.825) against 15,000 of debt: HF = 16,500 / 15,000 = 1.1.
    expect(api.healthFactor(16_500, 15_000)).toBeCloseTo(1.1, 12);
    // A long 1,000,000 / short 1,000,000 book: 0 under joint co-movement, 320,000 under independent.
    const book = [
      { asset: 0, kind: 'linear' as const, qty: 10 },
      { asset: 1, kind: 'linear' as const, qty: -200 },
    ];
    const grid = { moves: [-0.16, 0.16], volShocks: [0], tailMoves: [], tailWeight: 0, netDeltaChargeFraction: 0 };
    expect(api.portfolioRequirementUsd(book, [100_000, 5_000], { ...grid, comovement: { kind: 'joint' } }).requirementUsd).toBe(0);
    expect(api.portfolioRequirementUsd(book, [100_000, 5_000], { ...grid, comovement: { kind: 'independent' } }).requirementUsd).toBeCloseTo(320_000, 6);
    expect(api.CHANNELS).toContain('derived_asset');
  });
  it('Rejects a bad experiment with every issue named', () => {
    const input = minimalExperiment();
    input.steps = -1;
    expect(() => api.parseExperiment(input, 'api')).toThrow(api.ExperimentError);
  });
});
