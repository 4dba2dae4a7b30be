// The margin index (src/engine/marginIndex.ts): event-driven margin checks must decide exactly what
// checking every account at every mark decides. Three kinds of evidence:
//  1. hand-computed bands: where a single position's account is filed, and that a price inside the band
//     skips it and a price at its edge looks at it;
//  2. exactness on random scenarios (the property tests' arbitrary, widened with every margin model,
//     the open-interest surcharge, venue liquidation rules and Drift's funding socialization): both
//     modes give byte-identical events, step and price tables, attribution and summaries, and the
//     event run, with --check, proves at every mark that no skipped account was at or below its line;
//  3. the index does skip: on a calm stretch of the flagship it marks a small share of the accounts.
import fc from 'fast-check';
import './fixtures/fcSeed.ts';
import { describe, expect, it, test } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { parseExperiment } from '../src/experiment/load.ts';
import { buildGraph } from '../src/graph/build.ts';
import { runWorld, simulateRun, summarize, worldFor } from '../src/engine/simulate.ts';
import { attribute } from '../src/engine/attribution.ts';
import { step } from '../src/engine/step.ts';
import { respondToMarginCalls } from '../src/engine/phases/respondToMarginCalls.ts';
import type { RunResult } from '../src/engine/record.ts';
import type { ExperimentInput } from '../src/experiment/schema.ts';
import { FUNDING_SHARE, markCandidates, noteFunding, priceKey } from '../src/engine/marginIndex.ts';
import { IN_CALL_LIST, TOUCHED } from '../src/engine/ledger.ts';
import { fillMarketTable, initialMarginUsd, invalidateMarks, isPlainAccount, markAccount, storeMarks, storePlainMarks, TABLE_STRIDE } from '../src/engine/accounts.ts';
import { requirementUsd } from '../src/model/margin.ts';
import { exchangeOf, Status } from '../src/model/world.ts';
import { sortAscending, sortByKey } from '../src/engine/sortPrefix.ts';
import { accountOf, handWorld, setPrice } from './fixtures/handWorld.ts';
import { caseArb, real, type Scenario } from './fixtures/randomScenario.ts';
import { scaledScenario } from './bench/scaled.ts';
import { listStart } from '../src/model/typedArrays.ts';

const SEED = process.env.FC_SEED !== undefined ? Number(process.env.FC_SEED) : 20261126;
const RUNS = process.env.FC_RUNS !== undefined ? Number(process.env.FC_RUNS) : 500;
// The properties below stop at a time limit well inside their test's timeout; stopped before all their
// cases ran they fail (markInterruptAsFailure), where fast-check would report them as passed.

/** 2000 USD at 5× cross-margined over BTC (long) and ETH (`eth` side), both at 100, deep books. */
function crossWorld(eth: 'long' | 'short') {
  return handWorld({
    assets: [
      { symbol: 'BTC', price: 100, depthUsd: 1e12, impactCoefficient: 0.1 },
      { symbol: 'ETH', price: 100, depthUsd: 1e12, impactCoefficient: 0.1 },
    ],
    traders: [{ id: 't', marginMode: 'cross', positions: [{ asset: 'BTC', side: 'long' }, { asset: 'ETH', side: eth }], collateralUsd: 2000, leverage: 5 }],
  });
}

/** Moves several assets at once (one mark, after the last), as setPrice moves one. */
function setPrices(w: ReturnType<typeof handWorld>, prices: [string, number][]): void {
  for (const [symbol, price] of prices.slice(0, -1)) {
    const x = w.assetSymbols.indexOf(symbol);
    w.fundamental[x] = price;
    w.market[x] = price;
    w.impactPermanent[x] = 0;
    w.impactTemporary[x] = 0;
  }
  setPrice(w, ...prices.at(-1)!);
}

/** True when account a was looked at by the last mark. */
function listed(w: ReturnType<typeof handWorld>, a: number): boolean {
  return Array.from(w.candidates.subarray(0, w.nCandidates)).includes(a);
}

describe('bands of single-position accounts (hand-computed)', () => {
  // C = 1000 at 10× on BTC at 100: |q| = 100, N = 10,000; maintenance 5% → M = 500; the default call
  // level c = 1.25 → c·M = 625, c·μ = 1.25 × 5% = 0.0625. Rounding allowance S = 1e-9 × (|C| + N +
  // |quote| + 1) = 1e-9 × 21,001 ≈ 2.1e-5, so the raw headroom is 1000 − 625 − S ≈ 375. The funding
  // allowance reserves a tenth of it: β = 0.1 × 375 / (c·μ × |q| × 100) = 0.06 (6% of the price), reserve
  // 37.5, headroom H = 0.9 × 375 ≈ 337.5. No funding yet: X₀ = P₀ = 100.
  const H = (1 - FUNDING_SHARE) * (1000 - 625 - 1e-9 * 21_001);
  it('A long is filed at L = X₀ − H/q = 96.625 (its call line is 9000/93.75 = 96, below it)', () => {
    const w = handWorld({ traders: [{ id: 't', marginMode: 'isolated', positions: [{ asset: 'BTC', side: 'long' }], collateralUsd: 1000, leverage: 10 }] });
    const a = accountOf(w, 0);
    setPrice(w, 'BTC', 100);
    const L = 100 - H / 100;
    expect(L).toBeCloseTo(96.625, 6);
    expect(L).toBeGreaterThan(9000 / 93.75);
    // A bucket is 1/512 of log-price wide (≈ 0.2%): 0.5% above L is in a higher bucket, so skipped.
    setPrice(w, 'BTC', L * 1.005);
    expect(listed(w, a)).toBe(false);
    // Rising prices need a long looked at only once its notional could leave the tiers μ was taken
    // over (c·μ < 1): X₀ + P₀ = 200. 190 is not enough, 201 is.
    setPrice(w, 'BTC', 190);
    expect(listed(w, a)).toBe(false);
    setPrice(w, 'BTC', 201);
    expect(listed(w, a)).toBe(true);
    setPrice(w, 'BTC', 100);
    setPrice(w, 'BTC', L);
    expect(listed(w, a)).toBe(true);
    // Marked at L: equity 1000 + 100 × (L − 100) = 662.5, above c·M = 6.25 × L = 603.9, so no call.
    expect(w.accountEquity[a]).toBeCloseTo(1000 + 100 * (L - 100), 6);
    expect(w.accountEquity[a]!).toBeGreaterThan(1.25 * w.accountMaintenance[a]!);
  });

  it('A short is filed at X₀ + H/(|q|(1 + c·μ)) = 103.18 (its call line is 11000/106.25 = 103.53, above it)', () => {
    const w = handWorld({ traders: [{ id: 't', marginMode: 'isolated', positions: [{ asset: 'BTC', side: 'short' }], collateralUsd: 1000, leverage: 10 }] });
    const a = accountOf(w, 0);
    setPrice(w, 'BTC', 100);
    const top = 100 + H / (100 * (1 + 1.25 * 0.05));
    expect(top).toBeCloseTo(103.1765, 3);
    expect(top).toBeLessThan(11000 / 106.25);
    setPrice(w, 'BTC', top / 1.005);
    expect(listed(w, a)).toBe(false);
    // A fall only helps a short.
    setPrice(w, 'BTC', 10);
    expect(listed(w, a)).toBe(false);
    setPrice(w, 'BTC', top);
    expect(listed(w, a)).toBe(true);
  });

  it('Funding: the long is looked at once X = P − F falls to 96.625, or once the funding clock has moved 6% of the price', () => {
    const w = handWorld({ traders: [{ id: 't', marginMode: 'isolated', positions: [{ asset: 'BTC', side: 'long' }], collateralUsd: 1000, leverage: 10 }] });
    const a = accountOf(w, 0);
    setPrice(w, 'BTC', 100);
    const fund = (delta: number) => {
      w.fundingIndex[0] = w.fundingIndex[0]! + delta;
      noteFunding(w, 0, delta);
    };
    // Back and forth: X ends where it was, but the clock moves |2.5| + |2.5| = 5 USD = 5% < 6%.
    fund(2.5);
    fund(-2.5);
    setPrice(w, 'BTC', 100);
    expect(listed(w, a)).toBe(false);
    // Another 1.2 USD of path (6.2% in all): the allowance is used up.
    fund(0.6);
    fund(-0.6);
    setPrice(w, 'BTC', 100);
    expect(listed(w, a)).toBe(true);
    // Re-filed at X₀ = 100 with a fresh allowance; now the index rises by 3.5: X = 96.5 < 96.625.
    setPrice(w, 'BTC', 100);
    expect(listed(w, a)).toBe(false);
    fund(3.5);
    setPrice(w, 'BTC', 100);
    expect(listed(w, a)).toBe(true);
  });

  it('A long whose bound lies below zero is still watched: X = P − F can go negative (regression, FC_SEED=11)', () => {
    // C = 1000 at 0.5×: q = 5 at 100, M = 25, raw headroom 1000 − 31.25, H = 0.9 × that = 871.9, so the
    // bound is X₀ − H/q = 100 − 174.4 < 0. The allowance β is capped at 1 (100 USD of funding path).
    const w = handWorld({ traders: [{ id: 't', marginMode: 'isolated', positions: [{ asset: 'BTC', side: 'long' }], collateralUsd: 1000, leverage: 0.5 }] });
    const a = accountOf(w, 0);
    setPrice(w, 'BTC', 100);
    w.fundingIndex[0] = 60; // 60 USD of path: within the allowance
    noteFunding(w, 0, 60);
    setPrice(w, 'BTC', 100);
    expect(listed(w, a)).toBe(false);
    // The price halves: X = 50 − 60 < 0, the lowest bucket, where every bound ≤ 0 is filed.
    setPrice(w, 'BTC', 50);
    expect(listed(w, a)).toBe(true);
  });

  it('A cross account long two markets is filed τ = H / (N(1 + c·μ)) from each price on its adverse side', () => {
    // C = 2000 at 5× split over BTC and ETH at 100: 50 units each, N = 10,000, M = 500, c·M = 625,
    // S = 1e-9 × (2000 + 10,000 + 10,000 + 1), a tenth of the headroom reserved for funding;
    // τ = 0.9 × (2000 − 625 − S) / (10,000 × 1.0625) = 0.116471.
    const w = crossWorld('long');
    const a = accountOf(w, 0);
    const tau = ((1 - FUNDING_SHARE) * (2000 - 625 - 1e-9 * 22_001)) / (10_000 * 1.0625);
    expect(tau).toBeCloseTo(0.116471, 5);
    setPrice(w, 'BTC', 100);
    // Both legs just inside their adverse edges (both down): not looked at.
    setPrice(w, 'BTC', 100 * (1 - tau) * 1.005);
    setPrice(w, 'ETH', 100 * (1 - tau) * 1.005);
    expect(listed(w, a)).toBe(false);
    // Either leg at its adverse edge has it looked at, whichever way the other one moved.
    setPrice(w, 'ETH', 100 * (1 - tau));
    expect(listed(w, a)).toBe(true);
    // Re-filed around BTC 88.9 and ETH 88.4. Rises cost nothing (c·μ = 0.0625 ≤ 1): both up 30% from
    // there is not looked at; BTC back down past its new edge is.
    const btc = 100 * (1 - tau) * 1.005;
    setPrice(w, 'BTC', btc * 1.3);
    setPrice(w, 'ETH', 100 * (1 - tau) * 1.3);
    expect(listed(w, a)).toBe(false);
    setPrice(w, 'BTC', btc * 0.7);
    expect(listed(w, a)).toBe(true);
  });

  it('A pair trade (long BTC, short ETH) is filed on the ratio BTC/ETH ≥ 1 − τ and on ETH ≤ 100(1 + τ), τ = 0.184', () => {
    // C = 2000 at 5× split over BTC and ETH at 100: q_L = 50, q_S = −50, N_L = N_S = 5000, D = 0, M = 500,
    // c·M = 625, c·μ = 0.0625, H = 0.9 × (2000 − 625 − S) ≈ 1237.5 as above (S = 1e-9 × 22,001).
    // B = N_L + |D| + c·μ·N = 5000 + 0 + 625 = 5625, τ₀ = H/B = 0.22, τ = H / (B + N_L·τ₀) = H / 6725
    // = 0.184015 (filed leg by leg it would be H / 10,625 = 0.1165 on each leg).
    const w = crossWorld('short');
    const a = accountOf(w, 0);
    const H = (1 - FUNDING_SHARE) * (2000 - 625 - 1e-9 * 22_001);
    const tau = H / (5625 + 5000 * (H / 5625));
    expect(tau).toBeCloseTo(0.184015, 5);
    setPrice(w, 'BTC', 100);
    // The legs moving together leave the ratio where it was: both down 30%, then both up 15% (ETH at
    // 115 < 118.4), are not looked at — filed leg by leg, BTC's edge at 88.35 would have been crossed.
    setPrices(w, [['BTC', 70], ['ETH', 70]]);
    expect(listed(w, a)).toBe(false);
    setPrices(w, [['BTC', 115], ['ETH', 115]]);
    expect(listed(w, a)).toBe(false);
    // The short leg at its edge is looked at (with BTC there too, the ratio stays inside).
    setPrices(w, [['BTC', 100 * (1 + tau) * 1.005], ['ETH', 100 * (1 + tau) * 1.005]]);
    expect(listed(w, a)).toBe(true);
    // A fresh world: BTC alone falls to the ratio's edge. Just inside, not looked at; at it, looked at.
    const fresh = crossWorld('short');
    setPrice(fresh, 'BTC', 100);
    setPrice(fresh, 'BTC', 100 * (1 - tau) * 1.005);
    expect(listed(fresh, a)).toBe(false);
    setPrice(fresh, 'BTC', 100 * (1 - tau));
    expect(listed(fresh, a)).toBe(true);
    // The worst corner of the band, ratio at its edge with ETH at its edge (BTC = 0.815985 × 118.4015 =
    // 96.6138): equity 2000 + 50 × (96.6138 − 100) − 50 × (118.4015 − 100) = 2000 − 169.31 − 920.08 =
    // 910.6 against c·M = 1.25 × 0.05 × 50 × (96.61 + 118.40) = 671.9: above the call level, as promised.
    const eth = 100 * (1 + tau);
    setPrices(fresh, [['ETH', eth], ['BTC', (1 - tau) * eth]]);
    markAccount(fresh, a);
    expect(fresh.accountEquity[a]).toBeCloseTo(2000 + 50 * ((1 - tau) * eth - 100) - 50 * (eth - 100), 6);
    expect(fresh.accountEquity[a]).toBeCloseTo(910.6, 0);
    expect(fresh.accountEquity[a]!).toBeGreaterThan(1.25 * fresh.accountMaintenance[a]!);
  });
});

// ---------------------------------------------------------------------------------------------
// Exactness on random scenarios

/** Margin models and venue rules the property tests' arbitrary does not draw. */
const variantArb = fc.record({
  model: fc.constantFrom('tiered' as const, 'portfolio' as const, 'dynamic' as const),
  grid: real(0.03, 0.3),
  tailWeight: real(0, 1),
  netDelta: real(0, 0.05),
  comovement: fc.constantFrom('joint' as const, 'independent' as const),
  referenceVol: real(0.1, 2),
  surcharge: fc.option(real(0.05, 1), { nil: undefined }),
  slices: fc.option(fc.record({ above: real(1e3, 1e5), fraction: real(0.1, 0.5), cooldown: real(0, 120) }), { nil: undefined }),
  previousMark: fc.boolean(),
  /** Every directional cohort cross-margined over all of its exchange's markets (multi-asset bands). */
  allCross: fc.boolean(),
});

type Variant = typeof variantArb extends fc.Arbitrary<infer T> ? T : never;

function withVariant(exp: ExperimentInput, v: Variant): ExperimentInput {
  const scenario: Scenario = exp.scenario;
  for (const x of scenario.exchanges) {
    if (v.model === 'portfolio') {
      x.marginModel = 'portfolio';
      x.portfolioMargin = {
        moves: [-v.grid, -v.grid / 2, 0, v.grid / 2, v.grid],
        tailMoves: [-2 * v.grid, 2 * v.grid],
        tailWeight: v.tailWeight,
        netDeltaChargeFraction: v.netDelta,
        comovement: { kind: v.comovement },
      };
    } else if (v.model === 'dynamic') {
      x.marginModel = 'dynamic';
      x.dynamicMargin = { referenceAnnualVol: v.referenceVol };
    }
    if (v.surcharge !== undefined) x.openInterestSurcharge = { perMultiple: v.surcharge, aboveInitialMultiple: 1 };
    if (v.slices) x.liquidation.slices = { aboveNotionalUsd: v.slices.above, fraction: v.slices.fraction, cooldownSeconds: v.slices.cooldown };
    if (v.previousMark) x.adl = { ranking: x.adl?.ranking ?? 'pnl-leverage', price: 'previous-mark' };
  }
  if (v.allCross) {
    for (const t of scenario.traders) {
      if (t.kind !== 'directional') continue;
      const x = scenario.exchanges.find((e) => e.id === t.exchange)!;
      t.marginMode = 'cross';
      t.positions = x.markets.map((m, j) => ({ asset: m.asset, side: t.positions[j % t.positions.length]!.side ?? 'random' }));
      // The validator wants some leverage at or under every market's first-tier 1 / IMF.
      const cap = 0.99 * Math.min(...x.markets.map((m) => 1 / m.marginTiers[0]!.initialMarginFraction));
      const lev = t.leverage;
      if (lev.kind === 'fixed') lev.value = Math.min(lev.value, cap);
      else if (lev.kind === 'uniform') lev.min = Math.min(lev.min, cap);
    }
  }
  return exp;
}

/** Every typed array of a run's tables (truncated to the rows written) and its summary, as bytes/JSON. */
function fingerprint(r: RunResult): Record<string, string> {
  const out: Record<string, string> = {};
  const tables: [string, object | null, number][] = [
    ['events', r.events, r.events.length],
    ['steps', r.steps, Infinity],
    ['prices', r.prices, Infinity],
  ];
  for (const [name, table, rows] of tables) {
    if (!table) continue;
    for (const [k, v] of Object.entries(table)) {
      if (!ArrayBuffer.isView(v)) continue;
      const arr = v as unknown as { subarray(a: number, b: number): ArrayBufferView; length: number };
      const view = arr.subarray(0, Math.min(rows, arr.length));
      out[`${name}.${k}`] = Buffer.from(view.buffer, view.byteOffset, view.byteLength).toString('base64');
    }
  }
  out.summary = JSON.stringify(r.summary, (_, x) => (typeof x === 'number' && !Number.isFinite(x) ? String(x) : x));
  out.attribution = JSON.stringify(r.attribution);
  return out;
}

describe('event-driven margin checks decide exactly what checking every account decides', () => {
  test('random scenarios, every margin model: byte-identical outputs, and --check finds no skipped account at its line', { timeout: 120_000 }, () => {
    let withLiquidations = 0;
    let skippedMarks = 0;
    let adlFromKeptQueue = 0;
    let withPairs = 0;
    fc.assert(
      fc.property(caseArb, variantArb, ({ experiment, replicate }, variant) => {
        const exp = parseExperiment(withVariant(experiment, variant), 'margin index case');
        const graph = buildGraph(exp);
        const every = simulateRun(exp, graph, replicate, { check: false, marginChecks: 'every-step' });
        // check: true makes the event run verify the index's guarantee at every mark (it throws if not).
        const event = simulateRun(exp, graph, replicate, { check: true, marginChecks: 'event' });
        expect(fingerprint(event)).toEqual(fingerprint(every));
        if (every.summary.liquidationCount > 0) withLiquidations++;
        const w = worldFor(exp, graph, replicate);
        for (let s = 0; s < w.steps; s++) {
          w.step = s;
          step(w);
        }
        if (w.marginIndex.accountMarks < w.marginIndex.marks * w.nAccounts) skippedMarks++;
        if (w.adlQueues.reused > 0) adlFromKeptQueue++;
        if (w.marginIndex.nPairs > 0) withPairs++;
      }),
      { seed: SEED, numRuns: RUNS, interruptAfterTimeLimit: 90_000, markInterruptAsFailure: true },
    );
    // Not vacuous: most cases liquidate someone, in most the index skipped accounts, and many rank
    // ADL from a queue kept through the round.
    expect(withLiquidations).toBeGreaterThanOrEqual(RUNS / 2);
    expect(skippedMarks).toBeGreaterThanOrEqual(RUNS / 2);
    // Ranked ADL served from a queue kept within a round (engine/adlQueue.ts): 83 of the 500 default cases.
    expect(adlFromKeptQueue).toBeGreaterThanOrEqual(RUNS / 10);
    // Pair trades filed on a ratio grid (filePair): 78 of the 500 default cases.
    expect(withPairs).toBeGreaterThanOrEqual(RUNS / 20);
  });

  it('every shipped experiment gives the same outputs both ways (replicates 0 and 1)', { timeout: 120_000 }, () => {
    const dir = new URL('../experiments/', import.meta.url);
    // Every file in experiments/, so that a new study is covered without being named here.
    const files = readdirSync(dir).filter((f) => f.endsWith('.json')).sort();
    expect(files.length).toBeGreaterThanOrEqual(10);
    for (const file of files) {
      const raw = JSON.parse(readFileSync(new URL(file, dir), 'utf8'));
      delete raw.sweep;
      const exp = parseExperiment(raw, file);
      const graph = buildGraph(exp);
      for (const replicate of [0, 1]) {
        const every = simulateRun(exp, graph, replicate, { check: false, marginChecks: 'every-step' });
        const event = simulateRun(exp, graph, replicate, { check: false, marginChecks: 'event' });
        expect(fingerprint(event), `${file} replicate ${replicate}`).toEqual(fingerprint(every));
      }
    }
  });
});

/** A random world after its first `steps` steps (at most all of them), its oracle prices then × scale. */
function worldPartWay(experiment: ExperimentInput, replicate: number, steps: number, scale: number) {
  const exp = parseExperiment(experiment, 'random world part-way');
  const w = worldFor(exp, buildGraph(exp), replicate);
  for (let s = 0; s < Math.min(steps, w.steps); s++) {
    w.step = s;
    step(w);
  }
  for (let o = 0; o < w.nOracles; o++) w.oraclePrice[o] = w.oraclePrice[o]! * scale;
  return w;
}

describe('the plain-account kernel (storePlainMarks) marks exactly as storeMarks', () => {
  test('random worlds part-way through their runs, prices scaled so that notionals reach every tier: the same four marks, bit for bit', { timeout: 60_000 }, () => {
    let plain = 0;
    let pastFirstTier = 0;
    fc.assert(
      fc.property(caseArb, variantArb, fc.integer({ min: 0, max: 40 }), real(0.2, 60), ({ experiment, replicate }, variant, steps, scale) => {
        // Large scales push notionals past the first tier (the kernel's bracket search), small ones
        // below it.
        const w = worldPartWay(withVariant(experiment, variant), replicate, steps, scale);
        const table = new Float64Array(w.nMarkets * TABLE_STRIDE);
        fillMarketTable(w, table);
        const marks = () => [w.accountEquity, w.accountMaintenance, w.accountNotional].map((x) => x.slice());
        for (let a = 0; a < w.nAccounts; a++) {
          if (w.accountStatus[a] !== Status.active || !isPlainAccount(w, a)) continue;
          plain++;
          storeMarks(w, a);
          const expected = marks().map((x) => x[a]);
          const stampExpected = w.ledger.markStamp[a];
          for (const x of [w.accountEquity, w.accountMaintenance, w.accountNotional]) x[a] = Number.NaN;
          w.ledger.markStamp[a] = 0;
          storePlainMarks(w, table, a, a + 1);
          const got = marks().map((x) => x[a]);
          for (let k = 0; k < 3; k++) expect(Object.is(got[k], expected[k]), `account ${a} mark ${k}: ${got[k]} vs ${expected[k]}`).toBe(true);
          expect(w.ledger.markStamp[a]).toBe(stampExpected);
          for (let p = w.posStart[a]!; p < w.posStart[a + 1]!; p++) {
            const m = w.posMarket[p]!;
            if (w.posQty[p] !== 0 && Math.abs(w.posQty[p]!) * table[m * TABLE_STRIDE]! > table[m * TABLE_STRIDE + 3]!) pastFirstTier++;
          }
        }
      }),
      { seed: SEED, numRuns: Math.min(RUNS, 200), interruptAfterTimeLimit: 45_000, markInterruptAsFailure: true },
    );
    // Not vacuous: thousands of accounts compared, hundreds of positions beyond their first tier.
    expect(plain).toBeGreaterThan(1_000);
    expect(pastFirstTier).toBeGreaterThan(100);
  });

  test('the initial requirement computed where it is read (initialMargin): Σ multiplier × the tier IM of each position, bit for bit; IM/MM × maintenance on portfolio venues', { timeout: 60_000 }, () => {
    let tiered = 0;
    let portfolio = 0;
    fc.assert(
      fc.property(caseArb, variantArb, fc.integer({ min: 0, max: 40 }), real(0.2, 60), ({ experiment, replicate }, variant, steps, scale) => {
        const w = worldPartWay(withVariant(experiment, variant), replicate, steps, scale);
        invalidateMarks(w);
        for (let a = 0; a < w.nAccounts; a++) {
          if (w.accountStatus[a] !== Status.active) continue;
          markAccount(w, a);
          const x = exchangeOf(w, a);
          let expected = 0;
          if (w.exchangePortfolio[x] === 1) {
            expected = w.exchangeImToMm[x]! * w.accountMaintenance[a]!;
            portfolio++;
          } else {
            // model/margin.ts's requirementUsd on the IM tiers, position by position in slot order.
            for (let p = w.posStart[a]!; p < w.posStart[a + 1]!; p++) {
              const q = w.posQty[p]!;
              if (q === 0) continue;
              const m = w.posMarket[p]!;
              const n = Math.abs(q) * w.oraclePrice[w.marketOracle[m]!]!;
              expected += w.marketMarginMultiplier[m]! * requirementUsd(w.tierStart, w.tierUpperUsd, w.tierImRate, w.tierImAmount, m, n);
            }
            tiered++;
          }
          const got = initialMarginUsd(w, a);
          expect(Object.is(got, expected), `account ${a}: ${got} vs ${expected}`).toBe(true);
        }
      }),
      { seed: SEED, numRuns: Math.min(RUNS, 100), interruptAfterTimeLimit: 45_000, markInterruptAsFailure: true },
    );
    // Not vacuous: both kinds of venue seen.
    expect(tiered).toBeGreaterThan(1_000);
    expect(portfolio).toBeGreaterThan(10);
  });

  it('a range marks every active account in it and skips the others, and lists the ones it marked', () => {
    const { raw } = scaledScenario(2_000, 100);
    const exp = parseExperiment(raw, 'scaled flagship');
    const w = worldFor(exp, buildGraph(exp), 0);
    const table = new Float64Array(w.nMarkets * TABLE_STRIDE);
    fillMarketTable(w, table);
    w.accountStatus[5] = Status.liquidated;
    w.accountEquity.fill(Number.NaN);
    const list = new Int32Array(w.nAccounts).fill(-7);
    // Accounts 0 … n − 1 less account 5: n − 1 listed, in order, 0 1 2 3 4 6 7 …
    expect(storePlainMarks(w, table, 0, w.nAccounts, list)).toBe(w.nAccounts - 1);
    expect(Array.from(list.subarray(3, 7))).toEqual([3, 4, 6, 7]);
    expect(list[w.nAccounts - 2]).toBe(w.nAccounts - 1);
    expect(list[w.nAccounts - 1]).toBe(-7);
    const expected = new Float64Array(w.nAccounts);
    for (let a = 0; a < w.nAccounts; a++) {
      if (a === 5) continue;
      expected[a] = w.accountEquity[a]!;
      storeMarks(w, a);
      expect(Object.is(w.accountEquity[a], expected[a]), `account ${a}`).toBe(true);
    }
    expect(w.accountEquity[5]).toBeNaN();
  });
});

describe('the every-account mark (--margin-checks every-step): stores and lists only accounts that may be at or under their line', () => {
  // t: 1000 USD at 10× long BTC at 100, q = 100, quote −10,000: equity 100P − 9000, maintenance 5% × 100P
  // = 5P. u: 1000 USD at 2× long, q = 20: equity 20P − 1000, maintenance P. u's cohort calls at 1.5 ×
  // maintenance (set below), t's at the default 1.25: the largest multiple ĉ = 1.5 decides the listing.
  it('at P = 97 t is listed (equity 700 < ĉ × 485 = 727.5, above its own call line 606.25); at 98 nobody (800 ≥ 735); u never (940 ≥ 145.5)', () => {
    const w = handWorld(
      {
        traders: [
          { id: 't', marginMode: 'isolated', positions: [{ asset: 'BTC', side: 'long' }], collateralUsd: 1000, leverage: 10 },
          { id: 'u', marginMode: 'isolated', positions: [{ asset: 'BTC', side: 'long' }], collateralUsd: 1000, leverage: 2 },
        ],
      },
      { marginChecks: 'every-step' },
    );
    const t = accountOf(w, 0);
    const u = accountOf(w, 1);
    w.cohortCallMultiple[w.accountCohort[u]!] = 1.5;
    let active = 0;
    for (let a = 0; a < w.nAccounts; a++) if (w.accountStatus[a] === Status.active) active++;
    w.accountEquity.fill(Number.NaN);
    const before = w.marginIndex.accountMarks;
    setPrice(w, 'BTC', 97);
    expect(Array.from(w.candidates.subarray(0, w.nCandidates))).toEqual([t]);
    // Every active account was marked; only t's marks were stored: 100 × 97 − 9000 = 700, 5 × 97 = 485.
    expect(w.marginIndex.accountMarks - before).toBe(active);
    expect(w.accountEquity[t]).toBe(700);
    expect(w.accountMaintenance[t]).toBe(485);
    expect(w.accountEquity[u]).toBeNaN();
    // Whoever reads u's marks marks it again (its stamp is older): 20 × 97 − 1000 = 940.
    expect(markAccount(w, u)).toBe(940);
    // No margin call: 700 is above t's own line 1.25 × 485 = 606.25.
    expect(w.acc.marginCalls[0]).toBe(0);
    setPrice(w, 'BTC', 98);
    expect(w.nCandidates).toBe(0);
    // Below t's line (P < 96): 95.9 gives 590 < 1.25 × 479.5 = 599.375, so a call.
    setPrice(w, 'BTC', 95.9);
    expect(Array.from(w.candidates.subarray(0, w.nCandidates))).toEqual([t]);
    respondToMarginCalls(w);
    expect(w.acc.marginCalls[0]).toBe(1);
  });
});

describe('the flags byte (Ledger.flags): the ledger\'s TOUCHED bit and the index\'s LISTED and IN_CALL_LIST bits', () => {
  it('a touch sets only its own bit, and a mark clears only the bits it owns', () => {
    const w = handWorld({ traders: [{ id: 't', marginMode: 'isolated', positions: [{ asset: 'BTC', side: 'long' }], collateralUsd: 1000, leverage: 10 }] });
    const a = accountOf(w, 0);
    const flags = w.ledger.flags;
    expect(w.marginIndex.flags).toBe(flags); // one array for both
    flags[a] = IN_CALL_LIST; // as refile leaves a caller
    w.ledger.touch(a);
    // 4 | 1 = 5: the caller bit survives the touch, and the account is on the touched list once.
    expect(flags[a]).toBe(IN_CALL_LIST | TOUCHED);
    expect(Array.from(w.ledger.touchedList.subarray(0, w.ledger.nTouched))).toEqual([a]);
    w.ledger.touch(a);
    expect(w.ledger.nTouched).toBe(1);
    // The first mark (every account) clears TOUCHED; a liquidation-round mark leaves the call list.
    markCandidates(w, false);
    expect(flags[a]).toBe(IN_CALL_LIST);
    expect(w.ledger.nTouched).toBe(0);
    // A later mark lists the touched account (LISTED set, then cleared once the list is made).
    w.ledger.touch(a);
    markCandidates(w, false);
    expect(Array.from(w.candidates.subarray(0, w.nCandidates))).toContain(a);
    expect(flags[a]).toBe(IN_CALL_LIST);
  });
});

describe('mark stamps (one byte per account)', () => {
  it('a stamp 255 epochs old is not taken for a current one: every stamp is cleared when the count comes round', () => {
    const w = handWorld({ traders: [{ id: 't', marginMode: 'isolated', positions: [{ asset: 'BTC', side: 'long' }], collateralUsd: 1000, leverage: 10 }] });
    const a = accountOf(w, 0);
    invalidateMarks(w);
    markAccount(w, a);
    const now = w.markStampNow;
    const epoch = w.markEpoch;
    expect(w.ledger.markStamp[a]).toBe(now);
    // Untouched, the stamp stays until the count passes 255 and starts again at 1, which clears it.
    while (w.markStampNow < 255) {
      invalidateMarks(w);
      expect(w.ledger.markStamp[a]).toBe(now);
    }
    invalidateMarks(w);
    expect(w.markStampNow).toBe(1);
    expect(w.ledger.markStamp[a]).toBe(0);
    // 255 epochs after the mark its stamp value is current again: the account's is not.
    while (w.markStampNow !== now) invalidateMarks(w);
    expect(w.markEpoch).toBe(epoch + 255);
    expect(w.ledger.markStamp[a]).toBe(0);
    expect(w.markStampNow).toBeGreaterThanOrEqual(1);
    expect(w.markStampNow).toBeLessThanOrEqual(255);
  });
});

describe('a larger population', () => {
  it('the flagship scaled to 10^4 accounts, its crash squeezed into 1,000 steps: identical both ways, and --check holds', { timeout: 120_000 }, () => {
    // Thousands of accounts near their line at once: hot lists, callers filed under maintenance,
    // ADL and socialization reading reused marks, the funding clock.
    const { raw } = scaledScenario(10_000, 1_000);
    raw.output = { steps: true, prices: true, events: true, attribution: true, cohorts: true };
    const exp = parseExperiment(raw, 'scaled flagship');
    const graph = buildGraph(exp);
    for (const replicate of [0, 3]) {
      const every = simulateRun(exp, graph, replicate, { check: false, marginChecks: 'every-step' });
      const event = simulateRun(exp, graph, replicate, { check: true, marginChecks: 'event' });
      expect(every.summary.liquidationCount).toBeGreaterThan(1_000);
      expect(fingerprint(event), `replicate ${replicate}`).toEqual(fingerprint(every));
    }
    // The lists of a few accounts at a time start at listStart(n) = 64 + n/64 entries (220 here) and
    // grow: this crash needs more, so the identity above covers grown lists (a copy that lost
    // entries would differ). The hot list holds entries as well as the accounts counted hot at the
    // end of a step (107 at most on replicate 0 since session 20, when under-water accounts stopped
    // lingering), so it is its length, not that count, that shows the growth.
    const w = worldFor(exp, graph, 0, undefined, { marginChecks: 'event' });
    let most = { hot: 0, queue: 0 };
    for (let k = 0; k < exp.steps; k++) {
      w.step = k;
      step(w);
      most = { hot: Math.max(most.hot, w.marginIndex.nHot), queue: Math.max(most.queue, w.scratch.queue.length) };
    }
    const start = listStart(w.nAccounts);
    expect(start).toBe(64 + Math.floor(w.nAccounts / 64));
    expect(most.hot).toBe(107);
    expect(w.marginIndex.hotList.length).toBeGreaterThan(start);
    expect(w.scratch.queue.length).toBeGreaterThan(start);
    expect(w.marginIndex.callList.length).toBeGreaterThan(start);
    expect(w.marginIndex.hotList.length).toBeLessThan(w.nAccounts);
  });
});

describe('the ADL rank scratch', () => {
  it('grows on demand: started at one entry, the flagship\'s replicate 28 (every-step engine, ranked ADL by scan) grows it past 1,000 and runs the same', () => {
    // The scratch starts at listStart(the largest market's positions) rather than at that size; the
    // every-step engine ranks ADL winners in it (the event engine keeps queues, adlQueue.ts).
    const raw = JSON.parse(readFileSync(new URL('../experiments/cross-margin-flaw.json', import.meta.url), 'utf8'));
    delete raw.sweep;
    const exp = parseExperiment(raw, 'flagship');
    const graph = buildGraph(exp);
    const w = worldFor(exp, graph, 28, undefined, { marginChecks: 'every-step' });
    w.scratch.ranked = new Int32Array(1);
    w.scratch.rankScore = new Float64Array(1);
    runWorld(w, false);
    expect(w.scratch.ranked.length).toBeGreaterThan(1000);
    expect(w.scratch.rankScore.length).toBe(w.scratch.ranked.length);
    const reference = simulateRun(exp, graph, 28, { check: false, marginChecks: 'every-step' });
    expect(reference.summary.adlCount).toBeGreaterThan(0);
    const grown: RunResult = { ...reference, steps: w.stepTable, prices: w.priceTable, events: w.events, attribution: attribute(w), summary: summarize(w) };
    expect(fingerprint(grown)).toEqual(fingerprint(reference));
  });
});

describe('the index skips quiet accounts', () => {
  it('over the flagship\'s 300 calm steps before its crash, fewer than 2% of account marks are done', () => {
    const raw = JSON.parse(readFileSync(new URL('../experiments/cross-margin-flaw.json', import.meta.url), 'utf8'));
    delete raw.sweep;
    const exp = parseExperiment(raw, 'flagship');
    const w = worldFor(exp, buildGraph(exp), 0);
    const crash = Math.min(...exp.scenario.shocks.map((s) => s.startStep));
    const steps = Math.min(300, crash);
    expect(steps).toBeGreaterThanOrEqual(100);
    // The first mark files everyone; count from the second step on.
    w.step = 0;
    step(w);
    const marks0 = w.marginIndex.marks;
    const done0 = w.marginIndex.accountMarks;
    for (let s = 1; s < steps; s++) {
      w.step = s;
      step(w);
    }
    const share = (w.marginIndex.accountMarks - done0) / ((w.marginIndex.marks - marks0) * w.nAccounts);
    expect(share).toBeLessThan(0.02);
  });
});

describe('the price grid of the bands (priceKey)', () => {
  it('has 512 buckets per octave: hand-computed keys', () => {
    // 1.0 is 0x3FF00000_00000000: high word 1,072,693,248, >> 11 = 523,776. Each octave adds 1 to the
    // exponent, 2^20 to the high word, 2^9 = 512 to the key; 1.5 sets the top mantissa bit (2^19 in
    // the high word): + 256. 1 + 2^-9 is the first double of the next bucket, and the double just
    // below it still in the bucket of 1.
    expect(priceKey(1)).toBe(523_776);
    expect(priceKey(2) - priceKey(1)).toBe(512);
    expect(priceKey(1024) - priceKey(1)).toBe(10 * 512);
    expect(priceKey(1.5) - priceKey(1)).toBe(256);
    expect(priceKey(1 + 2 ** -9) - priceKey(1)).toBe(1);
    expect(priceKey(1 + 2 ** -9 - 2 ** -52)).toBe(priceKey(1));
    // 60,000 lies in the octave [32,768, 65,536): buckets 32,768 / 512 = 64 USD wide (0.107%), with
    // edges at multiples of 64: 59,968 | 60,032 | 60,096.
    expect(priceKey(60_031.99)).toBe(priceKey(59_968));
    expect(priceKey(60_032) - priceKey(60_000)).toBe(1);
    expect(priceKey(60_064) - priceKey(60_000)).toBe(1);
    expect(priceKey(60_096) - priceKey(60_000)).toBe(2);
  });

  it('is monotone in the price, which is all the index relies on', () => {
    // A lower bound in bucket b is reached once the price's bucket is ≤ b: that must hold whenever the
    // price is ≤ the bound, for every pair of positive doubles (tiny, huge and subnormal included).
    const positive = fc.double({ min: Number.MIN_VALUE, max: Number.MAX_VALUE, noNaN: true });
    fc.assert(
      fc.property(positive, positive, (a, b) => {
        const [lo, hi] = a <= b ? [a, b] : [b, a];
        expect(priceKey(lo)).toBeLessThanOrEqual(priceKey(hi));
      }),
      { numRuns: 2000 },
    );
  });
});

describe('in-place prefix sorts (src/engine/sortPrefix.ts)', () => {
  it('sortByKey sorts long lists (the quicksort path) exactly as the typed-array sort with its comparator', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 999 }), { minLength: 33, maxLength: 700, size: 'max' }),
        fc.array(fc.oneof(fc.integer({ min: -5, max: 5 }), fc.constantFrom(Infinity, -Infinity)), { minLength: 1000, maxLength: 1000 }),
        (values, keys) => {
          // Few distinct keys (many ties broken by the entry) and ±∞, over lists longer than the
          // insertion-sort cut-off; entries may repeat.
          const key = Float64Array.from(keys, (k) => k / 4);
          const list = Int32Array.from(values);
          sortByKey(list, list.length, key);
          const want = Int32Array.from(values).sort((i, j) => key[i]! - key[j]! || i - j);
          expect(Array.from(list)).toEqual(Array.from(want));
        },
      ),
      { seed: SEED, numRuns: 200 },
    );
    // Already sorted, reversed and all-equal inputs (a quicksort's usual worst cases) of 10^5 entries.
    const n = 100_000;
    const flat = new Float64Array(n);
    for (const make of [(i: number) => i, (i: number) => n - 1 - i]) {
      const list = Int32Array.from({ length: n }, (_, i) => make(i));
      sortByKey(list, n, flat);
      expect(list.every((v, i) => v === i)).toBe(true);
    }
  });

  it('sort the first n entries exactly as a typed-array sort does, keyed or not, short or long', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 200 }), { minLength: 0, maxLength: 80 }), fc.integer({ min: 0, max: 80 }), (values, cut) => {
        const n = Math.min(cut, values.length);
        // Many ties, and ±∞ keys (∞ − ∞ is NaN: such ties fall to the entries, as for equal keys).
        const key = Float64Array.from({ length: 201 }, (_, i) => (i % 29 === 0 ? Infinity : i % 31 === 0 ? -Infinity : Math.floor(i / 7)));
        const plain = Int32Array.from(values);
        const keyed = Int32Array.from(values);
        sortAscending(plain, n);
        sortByKey(keyed, n, key);
        const wantPlain = Int32Array.from(values);
        wantPlain.subarray(0, n).sort();
        const wantKeyed = Int32Array.from(values);
        wantKeyed.subarray(0, n).sort((i, j) => key[i]! - key[j]! || i - j);
        expect(Array.from(plain)).toEqual(Array.from(wantPlain));
        expect(Array.from(keyed)).toEqual(Array.from(wantKeyed));
      }),
      { seed: SEED, numRuns: 300 },
    );
  });
});
