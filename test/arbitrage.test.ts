// Capital-limited arbitrageurs (scenario.arbitrageurs; src/engine/phases/arbitrage.ts). Hand-computed
// trades on the minimal experiment's ETH market: linear impact g(x) = 1 − 0.01·x, depth $20M,
// fundamental $3,000, so a trade of q units moves x by q × 3,000 / 20M = 1.5e-4·q and fills at the
// fundamental × the average of g over the interval walked.
import { describe, expect, it } from 'vitest';
import { parseExperiment } from '../src/experiment/load.ts';
import type { ExperimentInput } from '../src/experiment/schema.ts';
import { buildGraph } from '../src/graph/build.ts';
import { simulateRun, worldFor } from '../src/engine/simulate.ts';
import { PHASES } from '../src/engine/step.ts';
import { invalidateMarks } from '../src/engine/accounts.ts';
import { updateMarketPrice } from '../src/engine/market.ts';
import { arbitrage } from '../src/engine/phases/arbitrage.ts';
import type { World } from '../src/model/world.ts';
import { minimalExperiment } from './fixtures/minimalExperiment.ts';
import { ethCrash } from './fixtures/ethCrash.ts';
import { issueLines } from './fixtures/issues.ts';

const ETH = 1;
type ArbitrageurIn = NonNullable<ExperimentInput['scenario']['arbitrageurs']>[number];

function withArbitrageurs(arbitrageurs: ArbitrageurIn[], edit?: (input: ExperimentInput) => void): ExperimentInput {
  const input = minimalExperiment();
  input.scenario.arbitrageurs = arbitrageurs;
  edit?.(input);
  return input;
}

function world(arbitrageurs: ArbitrageurIn[]): World {
  const exp = parseExperiment(withArbitrageurs(arbitrageurs), 'arbitrage');
  return worldFor(exp, buildGraph(exp), 0);
}

/** Puts ETH's impact state at x (all temporary) and re-derives its market price. */
function setImpact(w: World, x: number): void {
  w.impactPermanent[ETH] = 0;
  w.impactTemporary[ETH] = x;
  updateMarketPrice(w, ETH);
}

/** The arbitrageur's cash, inventory, and the outside market's cash and ETH. */
function holdings(w: World) {
  return {
    cash: w.ledger.balance[w.arbitrage.cashHolder[0]!]!,
    units: w.units.qty[w.arbitrage.unitHolder[0]!]!,
    outsideCash: w.ledger.balance[w.lending.externalCashHolder]!,
    outsideUnits: w.units.qty[w.lending.externalUnitHolder[ETH]!]!,
  };
}

describe('an arbitrageur buys below its entry line', () => {
  it('with cash to spare it lifts the market back to fundamental × 0.99 and pays the walk up the curve', () => {
    // x = 10 → market 3,000 × 0.9 = 2,700. The entry line is 2,970, g = 0.99 at x = 1: the walk is
    // Δx = −9, q = 9 / 1.5e-4 = 60,000 ETH, at the average of g over [1, 10] = 1 − 0.01 × 5.5 =
    // 0.945 → 2,835 a unit, 60,000 × 2,835 = $170.1M.
    const w = world([{ id: 'arb', asset: 'ETH', cashUsd: 200e6 }]);
    setImpact(w, 10);
    expect(w.market[ETH]).toBeCloseTo(2700, 9);
    const before = holdings(w);
    arbitrage(w);
    const after = holdings(w);
    expect(after.units).toBeCloseTo(60_000, 6);
    expect(after.cash).toBeCloseTo(200e6 - 170.1e6, 3);
    expect(w.market[ETH]).toBeCloseTo(2970, 9);
    expect(w.arbitrage.boughtUsd[0]).toBeCloseTo(170.1e6, 3);
    // Both ledgers balance: what it paid the outside market received, what it got the outside lost.
    expect(after.outsideCash - before.outsideCash).toBeCloseTo(170.1e6, 3);
    expect(before.outsideUnits - after.outsideUnits).toBeCloseTo(60_000, 6);
    // The permanent share (0.2) of the walk stays: x = 0 − 1.8 permanent + 10 − 7.2 temporary = 1.
    expect(w.impactPermanent[ETH]! + w.impactTemporary[ETH]!).toBeCloseTo(1, 12);
  });

  it('with $54.9M it buys 20,000 ETH and stops short of the line', () => {
    // q units cost 3,000 q (0.9 + 7.5e-7 q) = 2,700 q + 0.00225 q²; at q = 20,000 that is 54M + 0.9M
    // = $54.9M, an average of 2,745. The market ends at x = 10 − 3 = 7: 3,000 × 0.93 = 2,790.
    const w = world([{ id: 'arb', asset: 'ETH', cashUsd: 54.9e6 }]);
    setImpact(w, 10);
    arbitrage(w);
    const after = holdings(w);
    expect(after.units).toBeCloseTo(20_000, 6);
    expect(after.cash).toBeGreaterThanOrEqual(0);
    expect(after.cash).toBeLessThan(1e-3);
    expect(w.market[ETH]).toBeCloseTo(2790, 6);
    expect(w.arbitrage.minCashShare).toBeLessThan(1e-10);
  });

  it('maxBuyUsdPerStep caps one step\'s purchase: $54.9M of $200M buys the same 20,000 ETH', () => {
    const w = world([{ id: 'arb', asset: 'ETH', cashUsd: 200e6, maxBuyUsdPerStep: 54.9e6 }]);
    setImpact(w, 10);
    arbitrage(w);
    expect(holdings(w).units).toBeCloseTo(20_000, 6);
    expect(holdings(w).cash).toBeCloseTo(200e6 - 54.9e6, 2);
    // Σ cash / Σ initial: 145.1 / 200.
    expect(w.arbitrage.minCashShare).toBeCloseTo(0.7255, 9);
  });
});

describe('an arbitrageur sells what it holds above its exit line', () => {
  it('down to fundamental × 0.9975, then all of it when the line is further away than its inventory', () => {
    const w = world([{ id: 'arb', asset: 'ETH', cashUsd: 54.9e6 }]);
    setImpact(w, 10);
    arbitrage(w); // 20,000 ETH for $54.9M (above)
    // x = −1 → market 3,030. The exit line is 2,992.5, g = 0.9975 at x = 0.25: Δx = 1.25, q =
    // 1.25 / 1.5e-4 = 8,333.33 ETH at the average of g over [−1, 0.25] = 1.00375 → 3,011.25 a unit:
    // 8,333.33 × 3,011.25 = $25,093,750.
    setImpact(w, -1);
    const cash0 = holdings(w).cash;
    arbitrage(w);
    expect(holdings(w).units).toBeCloseTo(20_000 - 25_000 / 3, 6);
    expect(holdings(w).cash - cash0).toBeCloseTo(25_093_750, 2);
    expect(w.market[ETH]).toBeCloseTo(2992.5, 9);
    // x = −4 → 3,120: the line is 28,333 ETH away, it holds 11,666.67: Δx = 1.75, to x = −2.25,
    // at the average of g over [−4, −2.25] = 1.03125 → 3,093.75: $36,093,750; market 3,067.5.
    setImpact(w, -4);
    const cash1 = holdings(w).cash;
    arbitrage(w);
    expect(holdings(w).units).toBeCloseTo(0, 6);
    expect(holdings(w).cash - cash1).toBeCloseTo(36_093_750, 2);
    expect(w.market[ETH]).toBeCloseTo(3067.5, 9);
    expect(w.arbitrage.soldUsd[0]).toBeCloseTo(25_093_750 + 36_093_750, 2);
  });

  it('sells the inventory it starts with into a market pushed above the fundamental', () => {
    // inventoryUsd $15M at $3,000 = 5,000 ETH. x = −4 → 3,120: it sells all 5,000, Δx = 0.75 to
    // x = −3.25, at the average of g over [−4, −3.25] = 1.03625 → 3,108.75: $15,543,750; market
    // 3,000 × 1.0325 = 3,097.5.
    const w = world([{ id: 'arb', asset: 'ETH', cashUsd: 1, inventoryUsd: 15e6 }]);
    expect(holdings(w).units).toBeCloseTo(5000, 9);
    setImpact(w, -4);
    arbitrage(w);
    expect(holdings(w).units).toBeCloseTo(0, 9);
    expect(holdings(w).cash).toBeCloseTo(1 + 15_543_750, 3);
    expect(w.market[ETH]).toBeCloseTo(3097.5, 9);
  });

  it('between its lines it does nothing, inventory or not', () => {
    const w = world([{ id: 'arb', asset: 'ETH', cashUsd: 54.9e6 }]);
    setImpact(w, 10);
    arbitrage(w);
    // x = 0.5 → 2,985: above the entry line (2,970), below the exit line (2,992.5).
    setImpact(w, 0.5);
    const before = holdings(w);
    arbitrage(w);
    expect(holdings(w)).toEqual(before);
    expect(w.market[ETH]).toBeCloseTo(2985, 9);
  });
});

describe('arbitrageurs in a run', () => {
  /** The ETH crash (fixtures/ethCrash.ts) with longs that neither top up nor deleverage. */
  function crash(arbitrageurs: ArbitrageurIn[]) {
    const input = ethCrash({ topUpProbability: 0, deleverageProbability: 0 });
    input.scenario.arbitrageurs = arbitrageurs;
    return parseExperiment(input, 'crash');
  }

  it('every invariant holds after every step, and the run summary reports what they did', () => {
    const exp = crash([{ id: 'arb', asset: 'ETH', cashUsd: 20e6 }]);
    const r = simulateRun(exp, buildGraph(exp), 0, { check: true });
    const s = r.summary;
    expect(s.arbitrageVolumeUsd).toBeGreaterThan(0);
    expect(s.arbitrageurMinCashShare).toBeGreaterThanOrEqual(0);
    expect(s.arbitrageurMinCashShare).toBeLessThan(1);
    expect(Number.isFinite(s.arbitrageurPnlUsd)).toBe(true);
    // Without arbitrageurs the columns say so.
    const none = crash([]);
    const s0 = simulateRun(none, buildGraph(none), 0, { check: false }).summary;
    expect(s0.arbitrageVolumeUsd).toBe(0);
    expect(s0.arbitrageurPnlUsd).toBe(0);
    expect(s0.arbitrageurMinCashShare).toBeNaN();
  });

  it('with no cash they do nothing: the run is the run without them but for the arbitrage columns', () => {
    const a = crash([{ id: 'arb', asset: 'ETH', cashUsd: 0 }]);
    const b = crash([]);
    const ra = simulateRun(a, buildGraph(a), 1, { check: true });
    const rb = simulateRun(b, buildGraph(b), 1, { check: true });
    expect(ra.summary.arbitrageVolumeUsd).toBe(0);
    expect(ra.summary.arbitrageurMinCashShare).toBeNaN();
    expect(ra.summary.liquidationCount).toBeGreaterThan(0);
    expect(ra.summary).toEqual(rb.summary);
    expect(ra.events.storedRows).toBe(rb.events.storedRows);
  });

  it('their capital narrows the gap forced sales open between the market and the fundamental', () => {
    const runs = (cashUsd: number | null) => {
      const exp = crash(cashUsd === null ? [] : [{ id: 'arb', asset: 'ETH', cashUsd }]);
      const g = buildGraph(exp);
      return [0, 1, 2].map((r) => simulateRun(exp, g, r, { check: false }).summary);
    };
    const without = runs(null);
    const small = runs(1e6);
    const large = runs(1e9);
    for (let r = 0; r < 3; r++) {
      expect(without[r]!.liquidationCount, `replicate ${r} liquidates`).toBeGreaterThan(0);
      // Deep pockets never run dry (a $1B arbitrageur spends $0.17–0.19B); a $1M one spends all of it.
      expect(large[r]!.arbitrageurMinCashShare).toBeGreaterThan(0.5);
      expect(small[r]!.arbitrageurMinCashShare).toBeLessThan(0.05);
      // The market's fall beyond the fundamental's shrinks as arbitrage capital grows.
      expect(large[r]!.drawdownAmplification).toBeLessThan(without[r]!.drawdownAmplification);
      expect(large[r]!.drawdownAmplification).toBeLessThanOrEqual(small[r]!.drawdownAmplification);
      // Buying a 1% discount while the fundamental falls 40% loses money: both hold inventory worth
      // less than they paid (the limits of arbitrage: Shleifer and Vishny, 1997).
      expect(small[r]!.arbitrageurPnlUsd).toBeLessThan(-0.2 * 1e6);
      expect(large[r]!.arbitrageurPnlUsd).toBeLessThan(0);
    }
  });
});

describe('arbitrageurs between liquidation rounds (betweenRounds)', () => {
  /** Per step: cash spent in the liquidate phase, in the whole step, and ETH's lowest market / fundamental after any phase. */
  function trace(arbitrageur: ArbitrageurIn) {
    const input = ethCrash({ topUpProbability: 0, deleverageProbability: 0 });
    input.scenario.arbitrageurs = [arbitrageur];
    const exp = parseExperiment(input, 'rounds');
    const w = worldFor(exp, buildGraph(exp), 0);
    const liquidatePhase = PHASES.findIndex(([name]) => name === 'liquidate');
    const steps: { inCascade: number; inStep: number }[] = [];
    let lowest = Infinity;
    for (let s = 0; s < w.steps; s++) {
      w.step = s;
      const start = w.arbitrage.boughtUsd[0]!;
      let inCascade = 0;
      for (let i = 0; i < PHASES.length; i++) {
        invalidateMarks(w);
        const before = w.arbitrage.boughtUsd[0]!;
        PHASES[i]![1](w);
        if (i === liquidatePhase) inCascade = w.arbitrage.boughtUsd[0]! - before;
        lowest = Math.min(lowest, w.market[ETH]! / w.fundamental[ETH]!);
      }
      steps.push({ inCascade, inStep: w.arbitrage.boughtUsd[0]! - start });
    }
    return { steps, lowest, summary: simulateRun(exp, buildGraph(exp), 0, { check: true }).summary };
  }

  it('they meet the cascade within the step: the market stays near their line and less bad debt is left', () => {
    const once = trace({ id: 'arb', asset: 'ETH', cashUsd: 1e9 });
    const rounds = trace({ id: 'arb', asset: 'ETH', cashUsd: 1e9, betweenRounds: true });
    expect(once.steps.every((s) => s.inCascade === 0)).toBe(true);
    // Replicate 0: they buy $283M, all of it between rounds; ETH never trades more than 1% under
    // the fundamental (0.9900), against 0.910 when they act once a step, and the bad debt falls from
    // $6.55M to $2.71M.
    expect(rounds.steps.reduce((n, s) => n + s.inCascade, 0)).toBeGreaterThan(0.9 * rounds.summary.arbitrageVolumeUsd);
    expect(once.lowest).toBeLessThan(0.92);
    expect(rounds.lowest).toBeGreaterThan(0.989);
    expect(rounds.summary.totalBadDebtUsd).toBeLessThan(0.5 * once.summary.totalBadDebtUsd);
  });

  it('maxBuyUsdPerStep caps what they buy in the phase and the rounds together', () => {
    const capped = trace({ id: 'arb', asset: 'ETH', cashUsd: 1e9, betweenRounds: true, maxBuyUsdPerStep: 5e6 });
    for (const [s, step] of capped.steps.entries()) expect(step.inStep, `step ${s}`).toBeLessThanOrEqual(5e6 * (1 + 1e-12));
    // The cap binds: some steps spend all of it; and some of it is spent between rounds (where the
    // crash first opens a gap within a step).
    expect(capped.steps.filter((s) => s.inStep > 5e6 * (1 - 1e-9)).length).toBeGreaterThan(3);
    expect(capped.steps.some((s) => s.inCascade > 0)).toBe(true);
  });
});

describe('the dependency graph', () => {
  it('has a node per arbitrageur, which a fall of its asset reaches through a position edge', () => {
    const exp = parseExperiment(withArbitrageurs([{ id: 'eth-arb', asset: 'ETH', cashUsd: 1 }]), 'graph');
    const g = buildGraph(exp);
    expect(g.getNodeAttributes('arbitrageur:eth-arb')).toEqual({ kind: 'arbitrageur', denseId: 0, label: 'eth-arb' });
    expect(g.inEdges('arbitrageur:eth-arb').map((e) => [g.source(e), g.getEdgeAttribute(e, 'channel')])).toEqual([['asset:ETH', 'position']]);
    expect(g.outEdges('arbitrageur:eth-arb')).toEqual([]);
  });
});

describe('validation', () => {
  const issuesOf = (input: ExperimentInput) => issueLines(() => parseExperiment(input, 'x'));

  it('names an unknown asset and an exit line below the entry line', () => {
    expect(issuesOf(withArbitrageurs([{ id: 'arb', asset: 'DOGE', cashUsd: 1e6, entryDiscount: 0.01, exitDiscount: 0.02 }]))).toEqual([
      'scenario.arbitrageurs.0.asset: no asset with this symbol in scenario.assets (known: "BTC", "ETH")',
      'scenario.arbitrageurs.0.exitDiscount: expected less than entryDiscount (0.01): they buy below fundamental × (1 − entryDiscount) and sell above fundamental × (1 − exitDiscount)',
    ]);
    expect(issuesOf(withArbitrageurs([{ id: 'arb', asset: 'ETH', cashUsd: -1 }]))[0]).toMatch(/^scenario\.arbitrageurs\.0\.cashUsd: /);
    expect(issuesOf(withArbitrageurs([{ id: 'a', asset: 'ETH', cashUsd: 1 }, { id: 'a', asset: 'BTC', cashUsd: 1 }]))[0]).toMatch(/^scenario\.arbitrageurs\.1\.id: /);
  });
});
