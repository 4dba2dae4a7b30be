// Margin withdrawal (design decision 58): a cohort that takes margin out of the exchange when its
// equity is well above the initial requirement, down to that requirement, unrealized profit included
// (dYdX v4's rule for any subaccount update). Hand-built worlds (test/fixtures/handWorld.ts): BTC at 100,
// a 10% initial and 5% maintenance margin, no fees or penalties, books deep enough to fill at the mark.
import { describe, expect, it } from 'vitest';
import { accountOf, eventsOf, handExperiment, handWorld, setPrice, type HandTrader } from './fixtures/handWorld.ts';
import { respondToMarginCalls } from '../src/engine/phases/respondToMarginCalls.ts';
import { liquidate } from '../src/engine/phases/liquidate.ts';
import { checkInvariants } from '../src/engine/invariants.ts';
import { cohortTable } from '../src/engine/fairness.ts';
import { checkBalanceSheet } from '../src/engine/participants.ts';
import { EventKindCode } from '../src/engine/record.ts';
import { walletOf, type World } from '../src/model/world.ts';
import { checkExperiment, parseExperiment } from '../src/experiment/load.ts';
import { buildGraph } from '../src/graph/build.ts';
import { simulateRun } from '../src/engine/simulate.ts';
import { ethCrash } from './fixtures/ethCrash.ts';

/** A long of 10 BTC at 100 on 200 of collateral (5×), isolated. */
function long(id: string, withdrawal?: HandTrader['withdrawal']): HandTrader {
  return { id, positions: [{ asset: 'BTC', side: 'long' }], marginMode: 'isolated', collateralUsd: 200, leverage: 5, ...(withdrawal ? { withdrawal } : {}) };
}

function world(withdrawal: HandTrader['withdrawal']): { w: World; taker: number; holder: number } {
  const w = handWorld({ traders: [long('takers', withdrawal), long('holders')] });
  return { w, taker: accountOf(w, 0), holder: accountOf(w, 1) };
}

const EVERY_STEP = { aboveInitialMarginMultiple: 2, everySteps: 1 };

describe('margin withdrawal, by hand', () => {
  it('at 120 the long takes out 280 and keeps its initial requirement; a fall to 113 then liquidates it and not its twin', () => {
    const { w, taker, holder } = world(EVERY_STEP);
    setPrice(w, 'BTC', 120);
    // Equity 200 + 10 × (120 − 100) = 400; initial requirement 10% × 1,200 = 120; 400 > 2 × 120, so it
    // withdraws 400 − 120 = 280: its cash goes from 200 to −80, backed by the 200 of open profit.
    expect(w.accountEquity[taker]).toBeCloseTo(400, 9);
    respondToMarginCalls(w);
    const out = eventsOf(w, EventKindCode.withdrawal);
    expect(out).toHaveLength(1);
    expect(out[0]).toMatchObject({ account: taker, protocol: 0, cause: -1 });
    expect(out[0]!.amountUsd).toBeCloseTo(280, 9);
    expect(w.ledger.balance[taker]).toBeCloseTo(-80, 9);
    expect(w.ledger.balance[walletOf(w, taker)]).toBeCloseTo(280, 9);
    expect(w.accountEquity[taker]).toBeCloseTo(120, 9);
    // What it put in is what it has taken back out of it: 200 − 280 = −80 (cohorts.arrow).
    expect(w.accountContributedUsd[taker]).toBeCloseTo(-80, 9);
    expect(w.ledger.balance[holder]).toBe(200);
    checkInvariants(w);
    // At 113: the taker's equity −80 + 130 = 50 is under its maintenance 5% × 1,130 = 56.5 (its
    // liquidation price is 1,080 / 9.5 = 113.68); the holder's 330 is far above it.
    setPrice(w, 'BTC', 113);
    expect(w.accountEquity[taker]).toBeCloseTo(50, 9);
    expect(w.accountMaintenance[taker]).toBeCloseTo(56.5, 9);
    liquidate(w);
    expect(eventsOf(w, EventKindCode.liquidation).map((e) => e.account)).toEqual([taker]);
    checkInvariants(w);
    checkBalanceSheet(w, cohortTable(w));
  });

  it('keeps a multiple of its requirement when asked, and stays put under its line, off its schedule, or when its draw says no', () => {
    // Down to 2 × 120: it takes 400 − 240 = 160.
    const two = world({ ...EVERY_STEP, downToInitialMarginMultiple: 2, aboveInitialMarginMultiple: 3 });
    setPrice(two.w, 'BTC', 120);
    respondToMarginCalls(two.w);
    expect(eventsOf(two.w, EventKindCode.withdrawal).map((e) => e.amountUsd)).toEqual([expect.closeTo(160, 9)]);
    // A line at 4 × 120 = 480 is above its 400: nothing.
    const high = world({ ...EVERY_STEP, aboveInitialMarginMultiple: 4 });
    setPrice(high.w, 'BTC', 120);
    respondToMarginCalls(high.w);
    expect(eventsOf(high.w, EventKindCode.withdrawal)).toHaveLength(0);
    // Every 60 steps: at step 30 it does not look; at step 60 it does.
    const hourly = world({ aboveInitialMarginMultiple: 2, everySteps: 60 });
    setPrice(hourly.w, 'BTC', 120);
    hourly.w.step = 30;
    respondToMarginCalls(hourly.w);
    expect(eventsOf(hourly.w, EventKindCode.withdrawal)).toHaveLength(0);
    hourly.w.step = 60;
    respondToMarginCalls(hourly.w);
    expect(eventsOf(hourly.w, EventKindCode.withdrawal)).toHaveLength(1);
    // Probability 0: never.
    const never = world({ ...EVERY_STEP, probability: 0 });
    setPrice(never.w, 'BTC', 120);
    respondToMarginCalls(never.w);
    expect(eventsOf(never.w, EventKindCode.withdrawal)).toHaveLength(0);
  });

  it('rejects a rule that would withdraw down to a line at or above the one it withdraws from (exit 2 names the field)', () => {
    const input = handExperiment({ traders: [long('takers', { aboveInitialMarginMultiple: 2, downToInitialMarginMultiple: 2 })] });
    const r = checkExperiment(input);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.issues.map((i) => i.path)).toContain('scenario.traders.0.withdrawal.downToInitialMarginMultiple');
    expect(r.issues.find((i) => i.path === 'scenario.traders.0.withdrawal.downToInitialMarginMultiple')!.message).toMatch(/below aboveInitialMarginMultiple \(2\)/);
  });
});

describe('margin withdrawal in a run', () => {
  it('shorts in the ETH crash that take their profit every 10 steps: they withdraw, every invariant and the balance sheet hold after every step, and the margin index decides what checking every account decides', () => {
    const shortsCrash = (withdrawal: boolean) => {
      const input = ethCrash({ topUpProbability: 0, deleverageProbability: 0 });
      const c = input.scenario.traders[0]!;
      if (c.kind !== 'directional') throw new Error('expected the crash fixture\'s directional cohort first');
      c.positions = [{ asset: 'ETH', side: 'short' }];
      if (withdrawal) (c as { withdrawal?: unknown }).withdrawal = { aboveInitialMarginMultiple: 1.5, everySteps: 10 };
      return parseExperiment(input, 'shorts in a crash');
    };
    const exp = shortsCrash(true);
    const r = simulateRun(exp, buildGraph(exp), 0, { check: true }); // invariants and the balance sheet every step
    let withdrawn = 0;
    let count = 0;
    for (let i = 0; i < r.events.length; i++) {
      if (r.events.kind[i] !== EventKindCode.withdrawal) continue;
      withdrawn += r.events.amountUsd[i]!;
      count++;
    }
    expect(count).toBeGreaterThan(0);
    // What the shorts put in, in cohorts.arrow, is their 200 × 200,000 of collateral less what they took out.
    const row = [...r.cohorts.cohort].indexOf(0);
    expect(r.cohorts.contributedUsd[row]).toBeCloseTo(200 * 200_000 - withdrawn, 3);
    // Event-driven margin checks decide what marking every account every step decides, withdrawals and all.
    const every = simulateRun(exp, buildGraph(exp), 0, { check: false, marginChecks: 'every-step' });
    expect(every.summary).toEqual(r.summary);
    expect(every.events.length).toBe(r.events.length);
    // Without the rule nothing is withdrawn.
    const base = shortsCrash(false);
    const r0 = simulateRun(base, buildGraph(base), 0, { check: false });
    for (let i = 0; i < r0.events.length; i++) expect(r0.events.kind[i]).not.toBe(EventKindCode.withdrawal);
  });
});
