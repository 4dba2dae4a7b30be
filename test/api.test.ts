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
  it('Rejects a bad experiment with every issue named', () => {
    const input = minimalExperiment();
    input.steps = -1;
    expect(() => api.parseExperiment(input, 'api')).toThrow(api.ExperimentError);
  });
});
