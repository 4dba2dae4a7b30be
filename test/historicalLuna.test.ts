// The shipped LUNA study (experiments/luna-oracle-floor.json): its calibration to the May 2022 path
// and, on one seeded path of the whole scenario, the floor's arithmetic. The mechanism itself is
// tested by hand in test/lending.test.ts ("a floored feed and its restoration").
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseExperiment } from '../src/experiment/load.ts';
import type { ExperimentInput } from '../src/experiment/schema.ts';
import { buildGraph } from '../src/graph/build.ts';
import { runWorld, worldFor } from '../src/engine/simulate.ts';
import { step } from '../src/engine/step.ts';
import { EventKindCode } from '../src/engine/record.ts';
import { attribute, experimentOrigins } from '../src/engine/attribution.ts';
import { CHANNELS } from '../src/engine/record.ts';
import type { World } from '../src/model/world.ts';

function shipped(): ExperimentInput {
  const raw = JSON.parse(readFileSync(new URL('../experiments/luna-oracle-floor.json', import.meta.url), 'utf8')) as ExperimentInput;
  delete raw.sweep;
  return raw;
}

const LUNA = 0;
const VENUS = 1; // protocols: the perp venue, then the lending market

function sumOf(w: World, kind: number, protocol: number | null): { usd: number; qty: number; n: number; steps: Set<number> } {
  const e = w.events;
  const out = { usd: 0, qty: 0, n: 0, steps: new Set<number>() };
  for (let i = 0; i < e.length; i++) {
    if (e.kind[i] !== kind || (protocol !== null && e.protocol[i] !== protocol)) continue;
    out.usd += e.amountUsd[i]!;
    out.qty += e.quantity[i]!;
    out.n++;
    out.steps.add(e.step[i]!);
  }
  return out;
}

describe('experiments/luna-oracle-floor.json', () => {
  it('without volatility its shocks trace May 2022: $80 → $0.69 over five days, → $0.01 over the sixth', () => {
    const raw = shipped();
    raw.scenario.assets[LUNA]!.volatilityAnnual = 0;
    const exp = parseExperiment(raw, 'luna');
    const w = worldFor(exp, buildGraph(exp), 0);
    const path: number[] = [];
    for (let s = 0; s < 150; s++) {
      w.step = s;
      step(w);
      path.push(w.fundamental[LUNA]!);
    }
    // Shock 1 spreads 1 − 0.991375 = 0.008625 over steps 0–119: 80 × 0.008625 = 0.69 at step 119.
    expect(path[119]).toBeCloseTo(0.69, 10);
    // Shock 2, steps 120–143: 0.69 × (1 − 0.985507) = 0.69 × 0.014493 = 0.0100002.
    expect(path[143]).toBeCloseTo(0.69 * 0.014493, 12);
    expect(path[143]! / 0.01).toBeCloseTo(1, 4);
    // Then nothing scripted: the fundamental stays.
    expect(path[149]).toBe(path[143]);
  });

  it('one seeded path: the ten borrow 0.55 × $0.107 × the LUNA they hold, and Venus writes the loss off when the feed is restored', () => {
    const exp = parseExperiment(shipped(), 'luna');
    const w = worldFor(exp, buildGraph(exp), 0);
    runWorld(w, true);
    const pumps = sumOf(w, EventKindCode.manipulation, null);
    const borrows = sumOf(w, EventKindCode.borrow, VENUS);
    expect(pumps.n).toBe(10);
    expect([...pumps.steps]).toEqual([150]);
    // Each spends at most its $200k (slices never overspend).
    expect(pumps.usd).toBeLessThanOrEqual(2_000_000);
    expect(pumps.usd).toBeGreaterThan(1_999_000);
    // Each deposited $1 of LUNA at $80 (1/80 token) before buying: loans = 0.55 × 0.107 × Σ tokens.
    expect(borrows.usd).toBeCloseTo(0.55 * 0.107 * (pumps.qty + 10 / 80), 3);
    // Bought near $0.01, borrowed against $0.107: more than 0.55 × 0.107 / 0.0115 = 5.1× the spend.
    // The deficit is the debt less the collateral's value over the 1.1 bonus: at the purchase prices
    // debt × (1 − 1 / (ratio × 1.1)) ≥ 1 − 1 / (5.1 × 1.1) = 82% of it (LUNA moves a little by step 215).
    expect(borrows.usd / pumps.usd).toBeGreaterThan(5.1);
    // No exploiter is liquidated before the feed is restored at step 215 (HF 0.6 / 0.55 = 1.09).
    const cohortOf = (account: number) => w.lending.borrowerCohort[account - w.nAccounts];
    const exploiters = exp.scenario.traders.findIndex((c) => c.id === 'floor-exploiters');
    const e = w.events;
    const liquidationSteps = new Set<number>();
    for (let i = 0; i < e.length; i++) {
      if (e.kind[i] === EventKindCode.liquidation && e.protocol[i] === VENUS && cohortOf(e.account[i]!) === exploiters) liquidationSteps.add(e.step[i]!);
    }
    expect([...liquidationSteps]).toEqual([215]);
    // All of Venus's bad debt is theirs, through the oracle, and less than they borrowed.
    const t = attribute(w);
    const origins = experimentOrigins(exp);
    const venusRows = [...Array(t.rows).keys()].filter((r) => t.protocol[r] === VENUS);
    expect(venusRows.map((r) => [origins[t.origin[r]!], CHANNELS[t.channel[r]!]])).toEqual([['floor-exploiters', 'oracle']]);
    const badDebt = w.totals.badDebtUsd[VENUS]!;
    expect(t.lossUsd[venusRows[0]!]).toBeCloseTo(badDebt, 6);
    expect(badDebt).toBeGreaterThan(0.8 * borrows.usd);
    expect(badDebt).toBeLessThan(borrows.usd);
  });

  it('the same path without the floor: the ten borrow 0.55× what they bought and Venus books no bad debt', () => {
    const raw = shipped();
    raw.scenario.lendingMarkets![0]!.reserves[0]!.oracle = 'luna-unfloored';
    const exp = parseExperiment(raw, 'luna');
    const w = worldFor(exp, buildGraph(exp), 0);
    runWorld(w, true);
    const borrows = sumOf(w, EventKindCode.borrow, VENUS);
    const pumps = sumOf(w, EventKindCode.manipulation, null);
    // The unfloored feed reads the market after the purchases: within 1% of what they paid per token.
    expect(borrows.usd / (0.55 * pumps.usd)).toBeCloseTo(1, 2);
    expect(w.totals.badDebtUsd[VENUS]).toBe(0);
  });
});
