// Algorithmic stables (assets[].derived.kind "algorithmicStable"; src/model/algorithmicStable.ts and
// src/engine/phases/stablecoins.ts): Terra's swap spread by hand and as a property, the run and the
// desk's redemption by hand on test/fixtures/stableExperiment.ts, the ledgers under --check, the run
// as an origin of attribution, and the input checks.
import { afterAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { parseExperiment } from '../src/experiment/load.ts';
import type { ExperimentInput } from '../src/experiment/schema.ts';
import { buildGraph } from '../src/graph/build.ts';
import { simulateRun, worldFor } from '../src/engine/simulate.ts';
import { PHASES } from '../src/engine/step.ts';
import { invalidateMarks } from '../src/engine/accounts.ts';
import { updateMarketPrice } from '../src/engine/market.ts';
import { deskProfitUsd, stablecoins } from '../src/engine/phases/stablecoins.ts';
import { experimentOrigins } from '../src/engine/attribution.ts';
import { CHANNELS } from '../src/engine/record.ts';
import { recoveredDelta, runShare, stableFundamentalUsd, swapReceivedUsd } from '../src/model/algorithmicStable.ts';
import type { World } from '../src/model/world.ts';
import { LUNA, UST, stableExperiment } from './fixtures/stableExperiment.ts';
import { issueLines } from './fixtures/issues.ts';
import { caseArb } from './fixtures/randomScenario.ts';
import { logReal, mixedReal, real } from './fixtures/reals.ts';

type Derived = Parameters<NonNullable<Parameters<typeof stableExperiment>[0]>>[0];

/** The fixture without its lending market's borrowers (nothing but the stable trades). */
function bare(edit: (d: Derived) => void = () => {}): ExperimentInput {
  const input = stableExperiment(edit);
  input.scenario.traders = input.scenario.traders.filter((c) => c.kind !== 'looper');
  return input;
}

function worldOf(input: ExperimentInput): World {
  const exp = parseExperiment(input, 'stable');
  return worldFor(exp, buildGraph(exp), 0);
}

/** Runs the phases before the stables' for step `step`, then theirs. */
function stepUpToStables(w: World, step: number): void {
  w.step = step;
  for (const [name, phase] of PHASES) {
    invalidateMarks(w);
    phase(w);
    if (name === 'stablecoins') return;
  }
}

const out = new Float64Array(1);

/** Step 0 up to the stables' phase, then `units` of UST moved from the holders into the market (sold there earlier) and UST's impact state at x (its book 1 − x). */
function ustOffPeg(w: World, units: number, x: number): void {
  stepUpToStables(w, 0);
  w.units.transfer(w.stables.holderUnits[0]!, w.lending.externalUnitHolder[UST]!, units);
  w.impactPermanent[UST] = 0;
  w.impactTemporary[UST] = x;
  updateMarketPrice(w, UST);
}

describe("Terra's swap (x/market: a virtual constant-product pool, a minimum spread, the delta's recovery)", () => {
  it('one block: $10 offered to a pool of 100 pays 10 × 100² / (100 × 110) = $9.0909 and leaves δ = 10 × (1 − 1/2)', () => {
    // spread = 1 − 100² / (100 × 110) = 1/11 ≥ 0.005; received = 10 × 10/11 = 9.090909…; δ = 10, then
    // the block's recovery δ −= δ / 2 → 5.
    expect(swapReceivedUsd(10, 0, 100, 2, 0.005, 1, out)).toBeCloseTo(100 / 11, 12);
    expect(out[0]).toBe(5);
  });

  it('two blocks of $5: the pool recovers in between, so the second pays more than the telescoped single swap', () => {
    // Block 1: 1 − 100²/(100 × 105) = 1/21, received 5 × 20/21 = 4.761905; δ = 5 → 2.5.
    // Block 2: 100²/(102.5 × 107.5) = 10000/11018.75 = 0.907544, received 4.537720; δ = 7.5 → 3.75.
    const received = swapReceivedUsd(10, 0, 100, 2, 0.005, 2, out);
    expect(received).toBeCloseTo((5 * 20) / 21 + (5 * 10_000) / 11_018.75, 12);
    expect(received).toBeCloseTo(9.299625, 6);
    expect(out[0]).toBe(3.75);
  });

  it('a step shorter than a block (1 s of a 6 s block) is one swap, and the pool recovers by a sixth of a block', () => {
    // The one-block swap above, $9.0909; then δ = 10 × (1 − 1/2)^(1/6) = 10 × 0.890899 = 8.90899.
    expect(swapReceivedUsd(10, 0, 100, 2, 0.005, 1 / 6, out)).toBeCloseTo(100 / 11, 12);
    expect(out[0]).toBeCloseTo(10 * Math.pow(0.5, 1 / 6), 12);
    expect(out[0]).toBeCloseTo(8.90899, 5);
  });

  it('a small offer pays the minimum spread: $0.01 into a pool of 100 (CP spread 1e-4) pays 0.01 × 0.995', () => {
    expect(swapReceivedUsd(0.01, 0, 100, 36, 0.005, 1, out)).toBeCloseTo(0.00995, 15);
  });

  it('a base pool of 0 shuts the swap; without swaps the delta recovers by (1 − 1/R)^blocks', () => {
    expect(swapReceivedUsd(1e6, 0, 0, 36, 0.005, 600, out)).toBe(0);
    // 1e6 × (35/36)^600 = 1e6 × e^(600 ln(35/36)) = 4.6e-2.
    expect(recoveredDelta(1e6, 36, 600)).toBeCloseTo(1e6 * Math.pow(35 / 36, 600), 9);
    expect(recoveredDelta(1e6, 36, 600)).toBeLessThan(0.05);
  });

  it('without recovery or minimum spread the pool is path-independent: any split pays B²·(1/(B+δ0) − 1/(B+δ0+o))', () => {
    fc.assert(
      fc.property(
        mixedReal(1e3, 1e9),
        mixedReal(0, 1e9),
        mixedReal(0, 1e9),
        fc.integer({ min: 1, max: 50 }),
        (b, delta0, offer, blocks) => {
          // recoveryBlocks = Infinity: the delta never recovers (1 − 1/∞ = 1).
          const received = swapReceivedUsd(offer, delta0, b, Infinity, 0, blocks, out);
          // B²·(1/(B+δ0) − 1/(B+δ0+o)) written without its cancellation: B²·o / ((B+δ0)(B+δ0+o)).
          const telescoped = (b * b * offer) / ((b + delta0) * (b + delta0 + offer));
          // Relative 1e-9, plus an absolute allowance for the engine's form: it takes each block's
          // share as 1 − cp with cp = 1 − B²/(…), which where B² is small against (B+δ)² keeps an
          // absolute precision of ~2^-52 of the block's offer, i.e. ~2e-16 × o in all; and 1e-300 for
          // offers of subnormal size (5e-324), where every product rounds.
          expect(Math.abs(received - telescoped)).toBeLessThanOrEqual(1e-9 * telescoped + 1e-13 * offer + 1e-300);
          expect(Math.abs(out[0]! - (delta0 + offer))).toBeLessThanOrEqual(1e-9 * (delta0 + offer + 1));
        },
      ),
      { seed: 7, numRuns: 200 },
    );
  });
});

describe("the stable's value and the run", () => {
  it('the peg holds while the discounted cap covers the supply, and falls in proportion below', () => {
    // $27.2B of LUNA (340M × $80) backs 18.5B UST: 27.2/18.5 × 0.8 = 1.176 ≥ 1 → $1.
    expect(stableFundamentalUsd(1, 27.2e9, 18.5e9, 0.2)).toBe(1);
    // $10B: 10/18.5 × 0.8 = 0.432432…
    expect(stableFundamentalUsd(1, 10e9, 18.5e9, 0.2)).toBeCloseTo(0.4324324324, 9);
    // Nothing left to back it: the floor, 1e-6 of the face.
    expect(stableFundamentalUsd(1, 0, 18.5e9, 0.2)).toBe(1e-6);
  });

  it('the holders sell 0.3% a step plus 0.05 per unit of discount, at most 5%', () => {
    expect(runShare(0.003, 0.05, 0.05, 1, 1)).toBe(0.003);
    // 10% off the peg: 0.003 + 0.05 × 0.1 = 0.008.
    expect(runShare(0.003, 0.05, 0.05, 0.9, 1)).toBeCloseTo(0.008, 15);
    // 30% off the peg with panic 0.5: 0.153, capped at 0.05.
    expect(runShare(0.003, 0.5, 0.05, 0.7, 1)).toBe(0.05);
  });

  it('two steps of a run by hand: 1% of 1B at par, then 2% of what is left 2% under it, and 2% of LUNA by its panicking holders', () => {
    // UST: g(x) = 1 − x, depth $300M, fundamental $1, permanent share 0.2, half-life one step.
    // Step 0: 1e7 UST sold (discount 0): x 0 → 1e7/3e8 = 0.033333, average g 0.983333, $9,833,333.33;
    // the market ends at 0.966667.
    // Step 1: the temporary 0.026667 halves: x = 0.006667 + 0.013333 = 0.02, market 0.98; share =
    // 0.01 + 0.5 × 0.02 = 0.02 of 9.9e8 = 1.98e7 UST, x 0.02 → 0.086, average g 0.947, $18,750,600.
    // LUNA's holders panic at 1 × the discount: nothing at step 0 (at par), at step 1 2% of their 20M
    // LUNA, 400,000 at $80 into g(x) = 1 − 0.01·x over depth $100M: x 0 → 0.32, average g 0.9984,
    // $31,948,800, and LUNA's market ends at 80 × 0.9968 = 79.744.
    const w = worldOf(
      bare((d) => {
        d.swap.basePoolUsd = 0;
        d.run!.collateralPanicSharePerDiscount = 1;
      }),
    );
    const S = w.stables;
    stepUpToStables(w, 0);
    expect(w.units.qty[S.holderUnits[0]!]).toBeCloseTo(9.9e8, 3);
    expect(w.ledger.balance[S.holderCash[0]!]).toBeCloseTo(9_833_333.3333, 3);
    expect(w.market[UST]).toBeCloseTo(0.9666667, 6);
    expect(w.units.qty[S.collateralHolderUnits[0]!]).toBe(20e6);
    stepUpToStables(w, 1);
    expect(w.units.qty[S.collateralHolderUnits[0]!]).toBeCloseTo(20e6 - 400_000, 6);
    expect(w.ledger.balance[S.collateralHolderCash[0]!]).toBeCloseTo(31_948_800, 3);
    expect(w.market[LUNA]).toBeCloseTo(79.744, 9);
    expect(w.units.qty[S.holderUnits[0]!]).toBeCloseTo(9.9e8 - 1.98e7, 3);
    expect(S.runSoldUsd[0]).toBeCloseTo(9_833_333.3333 + 18_750_600, 2);
    expect(w.market[UST]).toBeCloseTo(0.914, 9);
    // The swap is shut: nothing redeemed, nothing minted, LUNA's value untouched (its market is not).
    expect(S.redeemedUsd[0]).toBe(0);
    expect(S.collateralMinted[0]).toBe(0);
    expect(w.fundamental[LUNA]).toBe(80);
  });
});

describe("the desk's redemption", () => {
  it('by hand: with a fixed spread and a deep LUNA market it buys UST from 0.90 up to 0.995 and mints $0.995 of LUNA a token', () => {
    // A base pool of $1e15 keeps the CP spread under the 0.5% minimum; LUNA's depth of $1e15 keeps its
    // price at $80. Profit per token at the margin: 0.995 − UST's marginal price 1 − x, so it buys
    // until x = 0.005: from x = 0.1, Δx = 0.095, q = 0.095 × 3e8 = 2.85e7 UST at an average g of
    // 1 − 0.0525 = 0.9475, $27,003,750; it mints 2.85e7 × 0.995 / 80 = 354,468.75 LUNA and sells it for
    // $28,357,500: $1,353,750 of profit. The 20M LUNA outstanding become 20,354,468.75: LUNA's
    // fundamental 80 × 20 / 20.35446875 = 78.606889.
    const input = bare((d) => {
      d.swap.basePoolUsd = 1e15;
      delete d.run;
    });
    input.scenario.assets[LUNA]!.market.depthUsd = 1e15;
    const w = worldOf(input);
    const S = w.stables;
    // 1e8 UST in the market, and UST's book 10% down.
    ustOffPeg(w, 1e8, 0.1);
    stablecoins(w);
    expect(S.burned[0]).toBeCloseTo(2.85e7, -1);
    expect(S.collateralMinted[0]).toBeCloseTo(354_468.75, 1);
    expect(w.market[UST]).toBeCloseTo(0.995, 7);
    expect(w.ledger.balance[S.deskCash[0]!]).toBeCloseTo(1_353_750, -2);
    expect(w.fundamental[LUNA]).toBeCloseTo((80 * 20e6) / 20_354_468.75, 4);
    // Burned and minted, both recorded: each ledger balances.
    expect(w.units.errorUnits(UST)).toBeLessThan(1e-3);
    expect(w.units.errorUnits(LUNA)).toBeLessThan(1e-3);
    expect(w.units.qty[S.deskStableUnits[0]!]).toBe(0);
    expect(w.units.qty[S.deskCollateralUnits[0]!]).toBe(0);
  });

  it("trades the quantity that maximises its profit under Terra's widening spread (no grid point does better)", () => {
    const w = worldOf(bare((d) => delete d.run));
    const S = w.stables;
    ustOffPeg(w, 5e8, 0.15);
    let best = 0;
    let bestQ = 0;
    for (let i = 1; i <= 2000; i++) {
      const q = i * 1e5;
      const p = deskProfitUsd(w, 0, q);
      if (p > best) [best, bestQ] = [p, q];
    }
    // The best lies inside the grid, where the spread (not the market's units) stops the desk.
    expect(bestQ).toBeGreaterThan(1e6);
    expect(bestQ).toBeLessThan(1.9e8);
    stablecoins(w);
    const q = S.burned[0]!;
    expect(Math.abs(q - bestQ)).toBeLessThanOrEqual(1e5);
    expect(w.ledger.balance[S.deskCash[0]!]).toBeGreaterThanOrEqual(best - 1e-6 * best);
  });

  it('does nothing at par, with the swap shut (base pool 0), or halted (LUNA under haltBelowPriceUsd)', () => {
    for (const edit of [(d: Derived) => delete d.run, (d: Derived) => (d.swap.basePoolUsd = 0), (d: Derived) => (d.swap.haltBelowPriceUsd = 100)]) {
      const w = worldOf(bare(edit));
      const S = w.stables;
      stepUpToStables(w, 0);
      w.units.transfer(S.holderUnits[0]!, w.lending.externalUnitHolder[UST]!, 1e8);
      if (S.runStartStep[0]! < 0) {
        // At par: nothing to redeem.
        stablecoins(w);
        expect(S.redeemedUsd[0]).toBe(0);
      }
      w.impactTemporary[UST] = 0.1;
      updateMarketPrice(w, UST);
      stablecoins(w);
      const shut = S.basePoolUsd[0] === 0 || S.haltBelowPriceUsd[0]! > 80;
      expect(S.redeemedUsd[0]! > 0).toBe(!shut);
      if (S.haltBelowPriceUsd[0]! > 80) expect(S.haltStep[0]).toBe(0);
    }
  });
});

describe('a run on the fixture under --check', () => {
  // A panicking run: 1% a step plus 2 per unit of discount, up to half of what the holders hold.
  const exp = parseExperiment(
    stableExperiment((d) => {
      d.run!.panicSharePerDiscount = 2;
      d.run!.maxSharePerStep = 0.5;
    }),
    'stable',
  );

  it('every invariant holds every step; the supply left is the holders\' and the market\'s; LUNA is diluted by what was minted', () => {
    const r = simulateRun(exp, buildGraph(exp), 0, { check: true });
    expect(r.summary.stableRedeemedUsd).toBeGreaterThan(5e8);
    expect(r.summary.collateralSupplyMultiple).toBeGreaterThan(1.2);
    expect(r.summary.stableMinPriceShare).toBeLessThan(0.6);
    const w = worldFor(exp, buildGraph(exp), 0);
    for (let k = 0; k < exp.steps; k++) {
      w.step = k;
      for (const [, phase] of PHASES) {
        invalidateMarks(w);
        phase(w);
      }
    }
    const S = w.stables;
    // UST units anywhere (holders, market, the lending market's holders) = supply − burned.
    let ust = 0;
    for (let h = 0; h < w.units.qty.length; h++) if (w.units.holderAsset[h] === UST) ust += w.units.qty[h]!;
    expect(ust).toBeCloseTo(1e9 + w.units.initialTotal[UST]! - 1e9 - S.burned[0]!, -1);
    expect(w.units.burned[UST]).toBe(S.burned[0]);
    expect(w.units.minted[LUNA]).toBe(S.collateralMinted[0]);
    // The desk never lost: its cash is the sum of its profits.
    expect(w.ledger.balance[S.deskCash[0]!]).toBeGreaterThan(0);
    expect(r.summary.collateralSupplyMultiple).toBeCloseTo((20e6 + S.collateralMinted[0]!) / 20e6, 12);
    // Who paid: the holders lost $1B − what their sales raised − what they still hold at the last price.
    const stillHeld = w.units.qty[S.holderUnits[0]!]! * w.market[UST]!;
    expect(r.summary.stableHolderLossUsd).toBeCloseTo(1e9 - S.runSoldUsd[0]! - stillHeld, 3);
    expect(r.summary.stableHolderLossUsd).toBeGreaterThan(0);
    // And LUNA's holders (calm here: they never sell) lost 20M × ($80 − LUNA's last market price), diluted.
    expect(w.ledger.balance[S.collateralHolderCash[0]!]).toBe(0);
    expect(r.summary.collateralHolderLossUsd).toBeCloseTo(20e6 * (80 - w.market[LUNA]!), 3);
    expect(w.market[LUNA]).toBeLessThan(80 * 0.9);
  });

  it("the lending market's bad debt is all the run's (origin \"UST run\"); without the run nothing is lost", () => {
    const r = simulateRun(exp, buildGraph(exp), 0, { check: false });
    expect(r.summary.totalBadDebtUsd).toBeGreaterThan(1e5);
    const origins = experimentOrigins(exp);
    expect(origins).toContain('UST run');
    const t = r.attribution;
    let total = 0;
    // Through the run's own sales of UST, the latest moves down of the borrowers' collateral: a
    // stable_run is outside every protocol and exogenous, like a shock.
    for (let i = 0; i < t.rows; i++) {
      expect(origins[t.origin[i]!]).toBe('UST run');
      expect(CHANNELS[t.channel[i]!]).toBe('exogenous');
      total += t.lossUsd[i]!;
    }
    expect(total).toBeCloseTo(r.summary.totalBadDebtUsd, 3);
    const calm = parseExperiment(stableExperiment((d) => delete d.run), 'stable');
    expect(experimentOrigins(calm)).not.toContain('UST run');
    expect(simulateRun(calm, buildGraph(calm), 0, { check: true }).summary.totalBadDebtUsd).toBe(0);
  });

  it('is deterministic: the same replicate twice gives the same summary and attribution', () => {
    const a = simulateRun(exp, buildGraph(exp), 1, { check: false });
    const b = simulateRun(exp, buildGraph(exp), 1, { check: false });
    expect(JSON.stringify(b.summary)).toBe(JSON.stringify(a.summary));
    expect(Array.from(b.attribution.lossUsd)).toEqual(Array.from(a.attribution.lossUsd));
  });
});

describe('the graph and the input checks', () => {
  it('the stable and its collateral derive from each other', () => {
    const exp = parseExperiment(stableExperiment(), 'stable');
    const g = buildGraph(exp);
    const derives = (from: string, to: string) => g.hasEdge(`asset:${from}->asset:${to}:derives`);
    expect(derives('LUNA', 'UST')).toBe(true);
    expect(derives('UST', 'LUNA')).toBe(true);
  });

  const issuesOf = (input: ExperimentInput) => issueLines(() => parseExperiment(input, 'stable'));

  it('names the field, the value and what was expected', () => {
    expect(issuesOf(stableExperiment((d) => (d.collateral = 'DOGE')))).toEqual([
      `scenario.assets.${UST}.derived.collateral: no asset with this symbol in scenario.assets (known: "BTC", "ETH", "LUNA", "UST", "USDC")`,
    ]);
    expect(issuesOf(stableExperiment((d) => (d.oracle = 'ust-oracle')))).toEqual([
      `scenario.assets.${UST}.derived.oracle: this oracle prices UST: expected an oracle of the collateral, LUNA`,
    ]);
    expect(issuesOf(stableExperiment((d) => (d.run!.startStep = 24)))).toEqual([
      `scenario.assets.${UST}.derived.run.startStep: the run would start after the last step: expected a step below steps (24)`,
    ]);
    expect(issuesOf(stableExperiment((d) => (d.run!.maxSharePerStep = 0.001)))).toEqual([
      `scenario.assets.${UST}.derived.run.maxSharePerStep: expected at least sharePerStep (0.01)`,
    ]);
    const shocked = stableExperiment();
    shocked.scenario.shocks = [{ id: 'depeg', asset: 'UST', totalReturn: -0.5, startStep: 1, overSteps: 1 }];
    expect(issuesOf(shocked)).toEqual([
      'scenario.shocks.0.asset: UST is an algorithmic stable, valued from its collateral\'s market cap every step: shock the collateral or start a run instead',
    ]);
    const twice = stableExperiment();
    twice.scenario.assets.push({ ...twice.scenario.assets[UST]!, symbol: 'UST2' });
    twice.scenario.regimes = stableExperiment().scenario.regimes;
    const correlation = Array.from({ length: 6 }, (_, i) => Array.from({ length: 6 }, (_, j) => (i === j ? 1 : 0)));
    twice.scenario.regimes.calm.correlation = correlation;
    twice.scenario.regimes.stress.correlation = correlation;
    expect(issuesOf(twice)).toEqual([`scenario.assets.5.derived.collateral: scenario.assets.${UST} already mints LUNA: expected one algorithmic stable per collateral token`]);
    expect(issuesOf(stableExperiment((d) => (d.collateral = 'UST')))[0]).toBe(`scenario.assets.${UST}.derived.collateral: expected another asset than the stable itself`);
    expect(issuesOf(stableExperiment((d) => (d.swap.minSpread = 2)))[0]).toMatch(new RegExp(`^scenario\\.assets\\.${UST}\\.derived\\.swap\\.minSpread: `));
  });
});

describe('random scenarios with an algorithmic stable (the property tests\' scenarios, a stable added)', () => {
  // Backed by one of the scenario's assets at 0.5–3× its supply, with or without a run and a swap.
  const stableArb = fc.record({
    collateral: fc.integer({ min: 0, max: 2 }),
    collateralSupplyUnits: logReal(1e3, 1e9),
    backing: real(0.5, 3),
    depthUsd: logReal(1e5, 1e10),
    coefficient: real(0.01, 1),
    confidenceDiscount: real(0, 0.5),
    basePoolUsd: fc.oneof(fc.constant(0), logReal(1e3, 1e10)),
    poolRecoveryBlocks: fc.integer({ min: 1, max: 20_000 }),
    minSpread: real(0, 0.05),
    blockSeconds: fc.constantFrom(1, 6, 60),
    halt: fc.option(logReal(1e-6, 1e3), { nil: undefined }),
    run: fc.option(fc.record({ start: real(0, 1), share: real(0, 0.1), panic: real(0, 5), extra: real(0, 1), collateralPanic: fc.oneof(fc.constant(0), real(0, 2)) }), {
      nil: undefined,
    }),
  });
  type StableDraw = typeof stableArb extends fc.Arbitrary<infer T> ? T : never;

  function withStable(input: ExperimentInput, d: StableDraw): ExperimentInput {
    const s = input.scenario;
    const n = s.assets.length;
    const collateral = s.assets[d.collateral % n]!;
    const supplyUnits = (collateral.initialPrice * d.collateralSupplyUnits) / d.backing;
    s.assets.push({
      symbol: 'STBL',
      initialPrice: 1,
      volatilityAnnual: 0,
      derived: {
        kind: 'algorithmicStable',
        collateral: collateral.symbol,
        oracle: 'swap-oracle',
        supplyUnits,
        collateralSupplyUnits: d.collateralSupplyUnits,
        confidenceDiscount: d.confidenceDiscount,
        swap: {
          basePoolUsd: d.basePoolUsd,
          poolRecoveryBlocks: d.poolRecoveryBlocks,
          minSpread: d.minSpread,
          blockSeconds: d.blockSeconds,
          ...(d.halt === undefined ? {} : { haltBelowPriceUsd: d.halt }),
        },
        ...(d.run === undefined
          ? {}
          : {
              run: {
                startStep: Math.min(input.steps - 1, Math.floor(d.run.start * input.steps)),
                sharePerStep: d.run.share,
                panicSharePerDiscount: d.run.panic,
                maxSharePerStep: d.run.share + d.run.extra * (1 - d.run.share),
                collateralPanicSharePerDiscount: d.run.collateralPanic,
              },
            }),
      },
      market: { depthUsd: d.depthUsd, impact: 'linear', impactCoefficient: d.coefficient, resilienceHalfLifeSeconds: 600, permanentShare: 0.2 },
    });
    s.oracles.push({ id: 'swap-oracle', asset: collateral.symbol, source: 'market' });
    // The stable is uncorrelated with the rest (its fundamental is computed, not drawn).
    for (const regime of [s.regimes.calm, s.regimes.stress]) {
      regime.correlation = [...regime.correlation.map((row) => [...row, 0]), [...Array(n).fill(0), 1]];
    }
    return input;
  }

  const caseWithStable = fc.record({ c: caseArb, stable: stableArb });
  // The draws must exercise the swap: at least 5 of the 40 cases at this seed redeem.
  const counts = { n: 0, redeemed: 0 };
  afterAll(() => {
    expect(counts.n).toBe(40);
    expect(counts.redeemed).toBeGreaterThanOrEqual(5);
  });

  it('every invariant holds at every step (--check), and the event-driven margin checks give what checking every account does', () => {
    fc.assert(
      fc.property(caseWithStable, ({ c, stable }) => {
        const exp = parseExperiment(withStable(c.experiment, stable), 'property case');
        const graph = buildGraph(exp);
        const checked = simulateRun(exp, graph, c.replicate, { check: true });
        const every = simulateRun(exp, graph, c.replicate, { check: false, marginChecks: 'every-step' });
        expect(JSON.stringify(every.summary)).toBe(JSON.stringify(checked.summary));
        counts.n++;
        if (checked.summary.stableRedeemedUsd > 0) counts.redeemed++;
        // The swap burns no more than was redeemed, and mints only while redeeming.
        expect(checked.summary.collateralSupplyMultiple >= 1).toBe(true);
        expect(checked.summary.collateralSupplyMultiple > 1).toBe(checked.summary.stableRedeemedUsd > 0);
      }),
      { seed: 20261207, numRuns: 40, interruptAfterTimeLimit: 90_000, markInterruptAsFailure: true },
    );
  }, 120_000);
});
