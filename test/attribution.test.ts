// Contagion attribution (src/engine/attribution.ts): a two-protocol cascade in which the second
// protocol's losses can only come through a derived asset, and the attribution table says so; then
// the table's identities on random runs of the minimal experiment.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseExperiment } from '../src/experiment/load.ts';
import type { ExperimentInput } from '../src/experiment/schema.ts';
import { buildGraph } from '../src/graph/build.ts';
import { runWorld, simulateRun, worldFor } from '../src/engine/simulate.ts';
import { attribute, attributionOrigins, causeChainDepth, experimentOrigins } from '../src/engine/attribution.ts';
import { CHANNELS, EventKindCode } from '../src/engine/record.ts';
import type { World } from '../src/model/world.ts';
import { minimalExperiment } from './fixtures/minimalExperiment.ts';
import { uncorrelatedRegimes } from './fixtures/regimes.ts';
import { lendingExperiment } from './fixtures/lendingExperiment.ts';

/**
 * Market A lends USDC against stETH (4× loops, HF 1.1); market B lends ETH against stETH (12×
 * e-mode loops: debt / collateral = 11/12, HF = 0.95 × 12/11 = 1.036). ETH falls 20% at step 2.
 * B's loops are ETH against ETH: the fall leaves their HF unchanged. A's are not: HF 0.88, A's
 * keepers seize stETH and sell it; the sales push stETH's peg down (pressureImpact), and only that
 * depeg can hurt B, whose oracles read fundamentals (exchange rates), not the stETH market.
 */
function twoMarkets(pressureImpact: number): ExperimentInput {
  const e = minimalExperiment();
  const s = e.scenario;
  e.steps = 8;
  s.assets = s.assets.map((a) => ({ ...a, volatilityAnnual: 0 }));
  s.assets.push(
    { symbol: 'USDC', initialPrice: 1, volatilityAnnual: 0, market: { depthUsd: 1e12, impact: 'linear', impactCoefficient: 0.0001, resilienceHalfLifeSeconds: 60, permanentShare: 0 } },
    {
      symbol: 'stETH',
      initialPrice: 3_000,
      volatilityAnnual: 0,
      derived: { kind: 'liquidStaking', underlying: 'ETH', pegHalfLifeSeconds: 86_400, pegVolatilityAnnual: 0, stressDiscount: 0, pressureImpact },
      market: { depthUsd: 100_000_000, impact: 'linear', impactCoefficient: 0.01, resilienceHalfLifeSeconds: 3_600, permanentShare: 0 },
    },
  );
  s.regimes = uncorrelatedRegimes(4);
  s.shocks = [{ id: 'eth-crash', asset: 'ETH', totalReturn: -0.2, startStep: 2, overSteps: 1 }];
  s.oracles.push(
    { id: 'usdc-feed', asset: 'USDC', source: 'fundamental' },
    { id: 'steth-rate', asset: 'stETH', source: 'fundamental' },
    { id: 'eth-feed', asset: 'ETH', source: 'fundamental' },
  );
  s.insuranceFunds.push({ id: 'safety-a', initialUsd: 0 }, { id: 'safety-b', initialUsd: 0 });
  s.lendingMarkets = [
    {
      id: 'market-a',
      safetyModule: 'safety-a',
      reserves: [
        { asset: 'stETH', oracle: 'steth-rate', ltv: 0.8, liquidationThreshold: 0.825, liquidationBonus: 1.05 },
        { asset: 'USDC', oracle: 'usdc-feed', ltv: 0.75, liquidationThreshold: 0.78, liquidationBonus: 1.05, borrowable: true, supplyUsd: 100_000_000 },
      ],
    },
    {
      id: 'market-b',
      safetyModule: 'safety-b',
      reserves: [
        { asset: 'stETH', oracle: 'steth-rate', ltv: 0.93, liquidationThreshold: 0.95, liquidationBonus: 1.01 },
        { asset: 'ETH', oracle: 'eth-feed', ltv: 0.8, liquidationThreshold: 0.825, liquidationBonus: 1.05, borrowable: true, supplyUsd: 100_000_000 },
      ],
    },
  ];
  const looper = (id: string, market: string, debt: string, leverage: number, count: number, equity: number) => ({
    id,
    kind: 'looper' as const,
    lendingMarket: market,
    count,
    collateral: 'stETH',
    debt,
    equityUsd: { kind: 'fixed' as const, value: equity },
    leverage: { kind: 'fixed' as const, value: leverage },
    walletUsd: { kind: 'fixed' as const, value: 0 },
  });
  s.traders = [
    ...s.traders.filter((c) => c.kind !== 'directional'),
    looper('a-loopers', 'market-a', 'USDC', 4, 10, 1_000_000),
    looper('b-loopers', 'market-b', 'ETH', 12, 5, 100_000),
    { id: 'a-keepers', kind: 'lendingLiquidator', lendingMarket: 'market-a', count: 1, cashUsd: 100_000_000 },
    { id: 'b-keepers', kind: 'lendingLiquidator', lendingMarket: 'market-b', count: 1, cashUsd: 50_000_000 },
  ];
  return e;
}

const A = 1; // protocols: perpdex, market-a, market-b
const B = 2;
const origins = attributionOrigins(['eth-crash']);

function run(input: ExperimentInput): World {
  const exp = parseExperiment(input, 'attribution');
  const w = worldFor(exp, buildGraph(exp), 0);
  runWorld(w, true);
  return w;
}

describe('attribution: a cascade that reaches a second protocol only through a derived asset', () => {
  it('without the peg channel, market B loses nothing', () => {
    const w = run(twoMarkets(0));
    expect(w.totals.liquidations[A]).toBeGreaterThan(0);
    expect(w.totals.liquidations[B]).toBe(0);
    expect(w.totals.badDebtUsd[B]).toBe(0);
  });

  it("with it, B's bad debt is all attributed to the ETH shock through the derived asset", () => {
    const w = run(twoMarkets(0.5));
    // A's forced sales (about 30M USD of stETH into 100M of depth) pull the peg down by about
    // 0.5 × 0.3 = 15% the next step, below B's deficit line (debt / collateral = 11/12 = 0.917).
    const depegs: number[] = [];
    for (let i = 0; i < w.events.length; i++) if (w.events.kind[i] === EventKindCode.depeg) depegs.push(i);
    expect(depegs.length).toBeGreaterThan(0);
    expect(w.totals.badDebtUsd[B]).toBeGreaterThan(0);
    const t = attribute(w);
    const rowsB = [...Array(t.rows).keys()].filter((r) => t.protocol[r] === B);
    expect(rowsB.map((r) => [origins[t.origin[r]!], CHANNELS[t.channel[r]!]])).toEqual([['eth-crash', 'derived_asset']]);
    expect(t.lossUsd[rowsB[0]!]).toBeCloseTo(w.totals.badDebtUsd[B]!, 6);
    // Every depeg traces to a sale at market A, and A's liquidations to the ETH shock.
    const e = w.events;
    const d = depegs[0]!;
    expect(e.kind[e.cause[d]!]).toBe(EventKindCode.unwind);
    expect(e.protocol[e.cause[d]!]).toBe(A);
    expect(causeChainDepth(w)).toBeGreaterThanOrEqual(4); // shock → A liquidation → sale → depeg → B liquidation → bad debt
  });
});

describe('attribution: identities', () => {
  it('splits every protocol\'s bad debt exactly: Σ rows per protocol = bad debt, rows unique and positive', () => {
    const base = parseExperiment(minimalExperiment(), 'identities');
    const graph = buildGraph(base);
    let withBadDebt = 0;
    let deepest = 0;
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1_000 }), (replicate) => {
        const r = simulateRun(base, graph, replicate, { check: false });
        const t = r.attribution;
        const byProtocol = new Float64Array(r.steps!.nProtocols);
        const seen = new Set<string>();
        for (let i = 0; i < t.rows; i++) {
          const key = `${t.protocol[i]}/${t.origin[i]}/${t.channel[i]}`;
          expect(seen.has(key)).toBe(false);
          seen.add(key);
          expect(t.events[i]).toBeGreaterThan(0);
          byProtocol[t.protocol[i]!] = byProtocol[t.protocol[i]!]! + t.lossUsd[i]!;
        }
        let badDebt = 0;
        for (let s = 0; s < r.steps!.rows; s++) badDebt += r.steps!.badDebtUsd[s]!;
        expect(byProtocol.reduce((a, b) => a + b, 0)).toBeCloseTo(badDebt, 6);
        if (badDebt > 0) withBadDebt++;
        // The summary's depth is the longest chain of causes, counted here by walking each row's chain
        // back to its root (causes point to earlier rows; -1 is none).
        const e = r.events;
        let longest = 0;
        for (let i = 0; i < e.storedRows; i++) {
          let links = 0;
          for (let j = i; e.cause[j]! >= 0; j = e.cause[j]!) {
            expect(e.cause[j]).toBeLessThan(j);
            links++;
          }
          longest = Math.max(longest, links);
        }
        expect(r.summary.causeChainDepth).toBe(longest);
        deepest = Math.max(deepest, longest);
      }),
      { numRuns: Number(process.env.FC_RUNS ?? 25), seed: Number(process.env.FC_SEED ?? 424242) },
    );
    // The split is only tested on runs with bad debt, and the depth on runs with chains.
    console.log(`attribution identities: ${withBadDebt} runs with bad debt; longest chain ${deepest}`);
    expect(withBadDebt).toBeGreaterThanOrEqual(1);
    expect(deepest).toBeGreaterThanOrEqual(2);
  });
});

describe('a lending borrower\'s cause is a move against it (design decision 45)', () => {
  it('a loan under water after a crash and a smaller rise in the same step is the crash\'s, not the rise\'s', () => {
    // The lending fixture's looper: 13.333 ETH against 30,000 USDC at HF 1.1. At step 2 ETH falls 30%
    // (the crash's event), then rises 1% (the rebound's event, the later one): 40,000 × 0.7 × 1.01 =
    // 28,280 of collateral against 30,000 of debt, so the loan leaves bad debt. The rise moved the
    // collateral's price for the borrower, not against it.
    const input = lendingExperiment({ shock: -0.3 });
    input.scenario.shocks!.push({ id: 'eth-rebound', asset: 'ETH', totalReturn: 0.01, startStep: 2, overSteps: 1 });
    const exp = parseExperiment(input, 'lending direction');
    const origins = experimentOrigins(exp);
    const r = simulateRun(exp, buildGraph(exp), 0, { check: true });
    const byOrigin = new Map<string, number>();
    for (let i = 0; i < r.attribution.rows; i++) {
      const o = origins[r.attribution.origin[i]!]!;
      byOrigin.set(o, (byOrigin.get(o) ?? 0) + r.attribution.lossUsd[i]!);
    }
    const total = [...byOrigin.values()].reduce((a, b) => a + b, 0);
    expect(total).toBeGreaterThan(100);
    expect(byOrigin.get('eth-rebound') ?? 0).toBe(0);
    expect(byOrigin.get('eth-crash')).toBeCloseTo(total, 6);
  });
});
