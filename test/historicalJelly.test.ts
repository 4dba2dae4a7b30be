// The JELLY scenario (experiments/jelly-vault-squeeze.json): a liquidator vault that inherits a short the
// market then squeezes, and a market delisted and settled by decision (Hyperliquid, 26 March 2025). The
// shipped file is loaded and run in-process, one point at a time (its sweep removed): the squeeze's
// calibration against the shock arithmetic with the noise off, then the study's direction on seeded runs
// with every invariant checked after every step.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseExperiment } from '../src/experiment/load.ts';
import type { Experiment, ExperimentInput } from '../src/experiment/schema.ts';
import { buildGraph } from '../src/graph/build.ts';
import { simulateRun } from '../src/engine/simulate.ts';
import { EventKindCode, type RunResult } from '../src/engine/record.ts';

const FILE = new URL('../experiments/jelly-vault-squeeze.json', import.meta.url);
const REPLICATES = [0, 1, 2, 3];

/** The shipped experiment with one vault size and delisting, without its sweep; `edit` changes it further. */
function point(vaultUsd: number, delisting: { atStep: number; priceUsd?: number } | null, edit: (e: ExperimentInput) => void = () => {}): Experiment {
  const raw = JSON.parse(readFileSync(FILE, 'utf8')) as ExperimentInput;
  delete raw.sweep;
  raw.scenario.backstopVaults![0]!.initialUsd = vaultUsd;
  raw.scenario.exchanges[0]!.markets[0]!.delisting = delisting;
  edit(raw);
  return parseExperiment(raw, 'jelly-vault-squeeze');
}

function run(exp: Experiment, replicate: number): RunResult {
  return simulateRun(exp, buildGraph(exp), replicate, { check: true });
}

/** Σ amount_usd of events of a kind whose account is in cohort `cohort` (RunResult.accountCohort codes). */
function amountOf(r: RunResult, kind: number, cohort: number): number {
  let sum = 0;
  for (let i = 0; i < r.events.length; i++) {
    const a = r.events.account[i]!;
    if (r.events.kind[i] === kind && a >= 0 && r.accountCohort[a] === cohort) sum += r.events.amountUsd[i]!;
  }
  return sum;
}

// Cohort codes: the traders in file order, then the vault.
const SELF_LONG = 1;
const CROWD = 2;

describe('the squeeze as scripted', () => {
  it('takes JELLY from $0.0095 to the $0.037555 close over the hour from minute 30', () => {
    const exp = point(230e6, null, (e) => {
      e.scenario.assets[0]!.volatilityAnnual = 0;
      e.output = { steps: false, prices: true, events: false };
    });
    const r = run(exp, 0);
    const f = r.prices!.fundamental;
    // 0.0095 × (1 + 2.9532) = 0.0375554: Hyperliquid's closing price 0.037555 to five digits.
    expect(f[29]).toBeCloseTo(0.0095, 12);
    expect(f[89]).toBeCloseTo(0.0095 * 3.9532, 12);
    expect(f[239]).toBeCloseTo(0.0095 * 3.9532, 12);
  });
});

describe('who pays for the squeeze, on seeded paths', () => {
  const results = (exp: Experiment) => REPLICATES.map((rep) => run(exp, rep));
  const holding = results(point(230e6, null));
  const settled = results(point(230e6, { atStep: 150, priceUsd: 0.0095 }));
  const capped = results(point(5e6, null));

  it('the shared vault loses millions holding what it inherited, and gains when the market is settled at $0.0095', () => {
    for (let k = 0; k < REPLICATES.length; k++) {
      // It inherits shorts worth millions at takeover, and never reaches its own maintenance.
      expect(holding[k]!.summary.backstopVolumeUsd).toBeGreaterThan(4e6);
      expect(holding[k]!.summary.backstopVaultPnlUsd).toBeLessThan(-4e6);
      // Settled at $0.0095, below every price it took a short over at: a gain.
      expect(settled[k]!.summary.backstopVaultPnlUsd).toBeGreaterThan(0);
      // Common random numbers: until minute 150 the two runs are the same run.
      expect(settled[k]!.summary.backstopVolumeUsd).toBe(holding[k]!.summary.backstopVolumeUsd);
    }
  });

  it('the settlement closes every position at the decided price and is one delisting event', () => {
    for (const r of settled) {
      const delistings = [...r.events.kind].filter((k) => k === EventKindCode.delisting).length;
      expect(delistings).toBe(1);
      let n = 0;
      for (let i = 0; i < r.events.length; i++) {
        if (r.events.kind[i] !== EventKindCode.settlement) continue;
        expect(r.events.price[i]).toBe(0.0095);
        expect(r.events.step[i]).toBe(150);
        n++;
      }
      // 300 traders, the self-trader's legs still open, the makers and the vault: hundreds of positions.
      expect(n).toBeGreaterThan(100);
    }
  });

  it('a capped vault loses at most its capital, and ADL then falls first on the self-trader’s long', () => {
    for (const r of capped) {
      expect(r.summary.backstopVaultPnlUsd).toBeGreaterThanOrEqual(-5e6 - 1e-6);
      expect(r.summary.backstopVaultPnlUsd).toBeLessThan(-4e6);
      expect(r.summary.adlCount).toBeGreaterThan(0);
      // Ranked by PnL × leverage, the 10× long that gained fourfold is closed before the crowd's longs at
      // 1–5×: the first ADL close is its, and it alone bears more than a third of the crowd's 150-odd longs' share.
      const first = [...r.events.kind].indexOf(EventKindCode.adl);
      expect(r.accountCohort[r.events.account[first]!]).toBe(SELF_LONG);
      expect(amountOf(r, EventKindCode.adl, SELF_LONG)).toBeGreaterThan(amountOf(r, EventKindCode.adl, CROWD) / 3);
    }
  });
});
