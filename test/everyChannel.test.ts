// Every contagion channel on at once (test/fixtures/everyChannel.ts): the ledgers still balance at
// every step of every run, attribution still accounts for every dollar of bad debt, and the Arrow
// output is byte-identical whatever the number of workers.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseExperiment } from '../src/experiment/load.ts';
import { buildGraph } from '../src/graph/build.ts';
import { simulateRun } from '../src/engine/simulate.ts';
import { runExperiment } from '../src/runner/runExperiment.ts';
import { EventKindCode } from '../src/engine/record.ts';
import { everyChannelExperiment } from './fixtures/everyChannel.ts';

const WORK = mkdtempSync(join(tmpdir(), 'contagion-every-channel-'));
afterAll(() => rmSync(WORK, { recursive: true, force: true }));

describe('every channel on', () => {
  const exp = parseExperiment(everyChannelExperiment(), 'every-channel');
  const graph = buildGraph(exp);

  it('keeps every invariant at every step of 12 runs, and every channel fires somewhere', () => {
    const kinds = new Set<number>();
    for (let r = 0; r < 12; r++) {
      const run = simulateRun(exp, graph, r, { check: true }); // throws on any broken invariant
      expect(run.summary.ledgerErrorUsd).toBeLessThan(1e-6);
      let attributed = 0;
      for (let i = 0; i < run.attribution.rows; i++) attributed += run.attribution.lossUsd[i]!;
      expect(attributed).toBeCloseTo(run.summary.totalBadDebtUsd, 4);
      for (let i = 0; i < run.events.storedRows; i++) kinds.add(run.events.kind[i]!);
    }
    // The channels this fixture is for: depegs, bridge failures, a manipulation and the loan on it,
    // lending liquidations with fire sales, collateral sold off the venue book.
    for (const k of ['depeg', 'bridge_failure', 'manipulation', 'borrow', 'liquidation', 'unwind', 'bad_debt'] as const) {
      expect(kinds.has(EventKindCode[k]), k).toBe(true);
    }
  });

  it('writes byte-identical Arrow files with 1 and 2 workers', async () => {
    const out = async (workers: number) => {
      const dir = join(WORK, `w${workers}`);
      await runExperiment(exp, { outDir: dir, check: true, overrides: [], source: 'every-channel', workers, shard: null });
      return dir;
    };
    const one = await out(1);
    const two = await out(2);
    for (const t of ['runs', 'steps', 'prices', 'events', 'attribution']) {
      expect(readFileSync(join(one, `${t}.arrow`)).equals(readFileSync(join(two, `${t}.arrow`))), t).toBe(true);
    }
  }, 120_000);
});
