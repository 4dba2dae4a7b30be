// Property tests over random small scenarios. An arbitrary builds a valid experiment from the
// minimal fixture with random variations (1–3 assets, equicorrelated calm and stress regimes,
// volatility, jumps, every impact model with coefficients that matter, depth, permanent share,
// shocks, isolated or cross margin, partial or full liquidation, penalty, backstop vault or not,
// liquidators or not, a small insurance fund, 1–2 exchanges sharing the assets' markets), steps the
// world by hand and checks after every step: the ledger balances, no NaN or infinity in any state
// array, positive prices, zero-sum positions and settlement pools, and the engine's own
// invariants; then the loss waterfall in the run summary. A fixed harsh scenario shows that the
// waterfall is actually reached, so none of this is vacuous.
//
// The seed is fixed so that CI is deterministic; FC_SEED=<n> (and FC_RUNS=<n>) explore further.
//
// These properties found four engine defects, now fixed; each fix is named beside the property
// that caught it, and a hand-reduced reproduction is pinned in the "regressions" block at the end.
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import type { ExperimentInput } from '../src/experiment/schema.ts';
import { parseExperiment } from '../src/experiment/load.ts';
import { buildGraph } from '../src/graph/build.ts';
import { summarize, worldFor } from '../src/engine/simulate.ts';
import { cohortTable } from '../src/engine/fairness.ts';
import { checkBalanceSheet, participantList } from '../src/engine/participants.ts';
import { hasPositions, invalidateMarks, markAccount } from '../src/engine/accounts.ts';
import { PHASES, step } from '../src/engine/step.ts';
import { checkInvariants } from '../src/engine/invariants.ts';
import { installHolderChecks } from '../src/engine/holders.ts';
import { EVENT_KINDS, EventKindCode, PARTICIPANT_ROLES } from '../src/engine/record.ts';
import type { RunSummary } from '../src/engine/record.ts';
import { exchangeOf, ImpactCode, Status, type World } from '../src/model/world.ts';
import { averageImpactFactor, impactFactor, MIN_IMPACT_FACTOR } from '../src/model/impact.ts';
import { minimalExperiment } from './fixtures/minimalExperiment.ts';
import { caseArb } from './fixtures/randomScenario.ts';

const SEED = process.env.FC_SEED !== undefined ? Number(process.env.FC_SEED) : 20251126;
const RUNS = process.env.FC_RUNS !== undefined ? Number(process.env.FC_RUNS) : 40;
// A property stops after 40 s. Stopped before all its cases ran, it fails: fast-check would report it
// as passed (its interruptAfterTimeLimit counts from the property's start, not from a failure), so on
// a slow machine a property could have checked one case in 40 and gone green. A failing property is
// shrunk until then and reports the best counterexample found.
const fcParams = (numRuns = RUNS) => ({ seed: SEED, numRuns, interruptAfterTimeLimit: 40_000, markInterruptAsFailure: true });
/** Relative tolerance of every balance check (the engine's LEDGER_TOLERANCE). */
const REL = 1e-9;
const TIMEOUT = 60_000;
// Coverage floors of the properties whose checks apply only to some cases or rows, in proportion to the
// number of cases (each property prints its counts). With the default seed and 40 cases (session 29,
// with delistings in about one case in eight): 24 cases with bad debt, 16 past the fund; 27,074
// account-steps of accounts with no positions; fills 364 liquidations, 633 deleverages, 1,012 unwinds,
// 2,698 ADL closes, 61 backstop takeovers and 328 settlements.
const MIN_BAD_DEBT_CASES = RUNS / 5;
const MIN_PAST_FUND_CASES = RUNS / 10;
const MIN_FLAT_ACCOUNT_STEPS = 25 * RUNS;
const MIN_FILLS_PER_KIND = RUNS / 4;

// ---------------------------------------------------------------------------------------------
// Running a case

/** Validates (every generated case must be valid: a rejection fails the property) and builds. */
function worldOf(raw: ExperimentInput, replicate: number): World {
  const exp = parseExperiment(raw, 'property case');
  const w = worldFor(exp, buildGraph(exp), replicate);
  marketNets(w); // records the gross open interest at step 0
  // As under --check: every USD and unit transfer of every case must join two holders the model lets trade.
  installHolderChecks(w, true);
  return w;
}

/** Steps the world by hand, calling `check(w, s)` after every step; returns the run's summary. */
function stepAll(w: World, check?: (w: World, s: number) => void): RunSummary {
  for (let s = 0; s < w.steps; s++) {
    w.step = s;
    step(w);
    check?.(w, s);
  }
  return summarize(w);
}

/** Ids of the run's events of `kind` (of `account`'s only, when given), in order. */
function eventIds(w: World, kind: number, account?: number): number[] {
  const e = w.events;
  const ids: number[] = [];
  for (let i = 0; i < e.length; i++) if (e.kind[i] === kind && (account === undefined || e.account[i] === account)) ids.push(i);
  return ids;
}

/** Runs phase i of a step as step() does (stored marks start over first). */
function runPhase(w: World, i: number): void {
  invalidateMarks(w);
  PHASES[i]![1](w);
}

/** Asserts that `check(w, s)` holds after every step of every generated case. */
function afterEveryStep(check: (w: World, s: number) => void): void {
  fc.assert(
    fc.property(caseArb, ({ experiment, replicate }) => {
      stepAll(worldOf(experiment, replicate), check);
    }),
    fcParams(),
  );
}

// ---------------------------------------------------------------------------------------------
// Independent checks (written here, not borrowed from src/engine/invariants.ts)

/** Every non-finite element of every Float64Array reachable from the world, as "path[i] = v". */
function nonFiniteEntries(w: World): string[] {
  const found: string[] = [];
  // +Infinity is the documented "no bound" sentinel in five configuration arrays, and only there:
  // the last (open-ended) margin tier of each market, the cap of a fund configured without one,
  // the slice threshold of an exchange without slices, the claim room of a market without a cap,
  // and the buy cap of an arbitrageur without one.
  const lastTier = new Set<number>();
  for (let m = 0; m < w.nMarkets; m++) lastTier.add(w.tierStart[m + 1]! - 1);
  const allowed = (path: string, i: number, v: number) =>
    v === Infinity &&
    ((path === 'tierUpperUsd' && lastTier.has(i)) ||
      path === 'fundCapUsd' ||
      path === 'sliceAboveNotionalUsd' ||
      path === 'marketClaimRoomUsd' ||
      path === 'arbitrage.maxBuyUsdPerStep');
  const seen = new Set<unknown>();
  const visit = (path: string, v: unknown): void => {
    if (v instanceof Float64Array) {
      for (let i = 0; i < v.length; i++) {
        const x = v[i]!;
        if (!Number.isFinite(x) && !allowed(path, i, x)) found.push(`${path}[${i}] = ${x}`);
      }
      return;
    }
    if (v === null || typeof v !== 'object' || ArrayBuffer.isView(v) || seen.has(v)) return;
    seen.add(v);
    // Own fields of the world, its ledger, accumulators, tables, event log and scratch arrays.
    for (const [k, child] of Object.entries(v)) visit(path === '' ? k : `${path}.${k}`, child);
  };
  visit('', w);
  return found;
}

/** Σ qty of each market and the gross Σ|qty| it is measured against. */
/**
 * Per market: Σ qty, Σ |qty| now, and the scale Σ qty is measured against: the larger of the
 * gross now and the gross at step 0 (computed here from the build, independently of the engine's
 * own field), because floating-point drift in Σ qty comes from the sizes positions have had —
 * a liquidator unwinding a share per step shrinks its inventory geometrically towards 1e-20 units,
 * where any residue is 100% of what is left.
 */
function marketNets(w: World): { market: number; net: number; gross: number; scale: number }[] {
  const out = [];
  let initial = initialGross.get(w);
  if (!initial) {
    initial = new Float64Array(w.nMarkets);
    for (let p = 0; p < w.nPositions; p++) initial[w.posMarket[p]!] = initial[w.posMarket[p]!]! + Math.abs(w.posQty[p]!);
    initialGross.set(w, initial);
  }
  for (let m = 0; m < w.nMarkets; m++) {
    let net = 0;
    let gross = 0;
    for (let i = w.marketPosStart[m]!; i < w.marketPosStart[m + 1]!; i++) {
      const q = w.posQty[w.marketPositions[i]!]!;
      net += q;
      gross += Math.abs(q);
    }
    out.push({ market: m, net, gross, scale: Math.max(gross, initial[m]!) });
  }
  return out;
}
/** Gross open interest per market of each world at build (worldOf records it before any step). */
const initialGross = new WeakMap<World, Float64Array>();

/**
 * Per exchange: its settlement pool's balance and Σ over its positions of
 * qty × mark + quote − qty × (fundingIndex[m] − posFundingIndex[p]), with the scale the
 * difference is measured against (Σ of the absolute terms, plus the ledger's scale, since the
 * pool is the running sum of every realized PnL transfer since step 0).
 */
function poolValues(w: World): { exchange: number; pool: number; value: number; scale: number }[] {
  const out = [];
  for (let x = 0; x < w.nExchanges; x++) {
    let value = 0;
    let scale = 0;
    for (let m = 0; m < w.nMarkets; m++) {
      if (w.marketExchange[m] !== x) continue;
      const mark = w.oraclePrice[w.marketOracle[m]!]!;
      for (let i = w.marketPosStart[m]!; i < w.marketPosStart[m + 1]!; i++) {
        const p = w.marketPositions[i]!;
        const q = w.posQty[p]!;
        const unsettled = q * (w.fundingIndex[m]! - w.posFundingIndex[p]!);
        value += q * mark + w.posQuote[p]! - unsettled;
        scale += Math.abs(q * mark) + Math.abs(w.posQuote[p]!) + Math.abs(unsettled);
      }
    }
    out.push({ exchange: x, pool: w.ledger.balance[w.poolHolderStart + x]!, value, scale: scale + w.ledger.scaleUsd });
  }
  return out;
}

const FILL_KINDS = new Set<number>(
  (['liquidation', 'deleverage', 'unwind', 'adl', 'backstop', 'settlement'] as const).map((k) => EventKindCode[k]),
);

// ---------------------------------------------------------------------------------------------

describe('the arbitrary', () => {
  test('every generated experiment passes parseExperiment', () => {
    fc.assert(
      fc.property(caseArb, ({ experiment }) => {
        expect(() => parseExperiment(experiment, 'property case')).not.toThrow();
      }),
      fcParams(300),
    );
  });

  test('it covers every option the properties are meant to exercise', () => {
    const cases = fc.sample(caseArb, { seed: SEED, numRuns: 300 }).map((c) => parseExperiment(c.experiment, 'property case'));
    const count = (pred: (e: (typeof cases)[number]) => boolean) => cases.filter(pred).length;
    const s = (e: (typeof cases)[number]) => e.scenario;
    const coverage = {
      linear: count((e) => s(e).assets.some((a) => a.market.impact === 'linear')),
      sqrt: count((e) => s(e).assets.some((a) => a.market.impact === 'sqrt')),
      exponential: count((e) => s(e).assets.some((a) => a.market.impact === 'exponential')),
      threeAssets: count((e) => s(e).assets.length === 3),
      jumps: count((e) => s(e).assets.some((a) => a.jumps !== undefined)),
      crash: count((e) => s(e).shocks.some((k) => k.totalReturn < -0.5)),
      cross: count((e) => s(e).traders.some((t) => t.kind === 'directional' && t.marginMode === 'cross')),
      isolated: count((e) => s(e).traders.some((t) => t.kind === 'directional' && t.marginMode === 'isolated')),
      partial: count((e) => s(e).exchanges.some((x) => x.liquidation.mode === 'partial')),
      full: count((e) => s(e).exchanges.some((x) => x.liquidation.mode === 'full')),
      vault: count((e) => s(e).backstopVaults.length > 0),
      noVault: count((e) => s(e).backstopVaults.length === 0),
      liquidators: count((e) => s(e).traders.some((t) => t.kind === 'liquidator')),
      noLiquidators: count((e) => !s(e).traders.some((t) => t.kind === 'liquidator')),
      twoExchanges: count((e) => s(e).exchanges.length === 2),
      emptyFund: count((e) => s(e).insuranceFunds.some((f) => f.initialUsd === 0)),
      leverageOver30: count((e) => s(e).traders.some((t) => t.kind === 'directional' && t.leverage.kind === 'uniform' && t.leverage.max > 30)),
      arbitrageurs: count((e) => s(e).arbitrageurs.length > 0),
      outages: count((e) => s(e).exchanges.some((x) => x.outages.length > 0)),
      fundingAfterPermanentImpact: count((e) => s(e).exchanges.some((x) => x.funding.indexPrice === 'after-permanent-impact')),
      fundingOracle: count((e) => s(e).exchanges.some((x) => x.funding.indexPrice === 'oracle')),
      arbitrageurBuyCap: count((e) => s(e).arbitrageurs.some((x) => x.maxBuyUsdPerStep !== undefined)),
      arbitrageurBetweenRounds: count((e) => s(e).arbitrageurs.some((x) => x.betweenRounds)),
    };
    for (const [option, n] of Object.entries(coverage)) expect(n, option).toBeGreaterThanOrEqual(15);
  });
});

describe('invariants after every step of random small scenarios', () => {
  // Caught (in ~2% of cases, with other seeds): runaway buy-side impact. Buying into an exponential
  // market walked p = p0·exp(−α·x) without bound while the book's capacity was sized at a lagged
  // mark, driving prices to 1e13–1e150× the fundamental within a step. Fixed by bounding every
  // impact curve and by the exchange's price band on book orders. Regression R2.
  test('(a) the ledger balances, |Σ holdings − initial Σ| ≤ 1e-9 × scale, and every USD and unit transfer joins holders that may trade (the flow rules)', { timeout: TIMEOUT }, () => {
    afterEveryStep((w, s) => {
      expect(w.ledger.errorUsd(), `ledger error at step ${s}`).toBeLessThanOrEqual(REL * w.ledger.scaleUsd);
    });
  });

  // Caught (with other seeds): the runaway of (a) ended in "non-finite transfer Infinity", reported
  // at step −1; the step is now named. Regression R2.
  test('(b) no NaN or infinity in any Float64Array of the world', { timeout: TIMEOUT }, () => {
    fc.assert(
      fc.property(caseArb, ({ experiment, replicate }) => {
        const w = worldOf(experiment, replicate);
        expect(nonFiniteEntries(w), 'at build').toEqual([]);
        stepAll(w, (w, s) => {
          expect(nonFiniteEntries(w), `after step ${s}`).toEqual([]);
        });
      }),
      fcParams(),
    );
  });

  test('(c) fundamental, market and oracle prices stay positive', { timeout: TIMEOUT }, () => {
    afterEveryStep((w, s) => {
      for (let a = 0; a < w.nAssets; a++) {
        expect(w.fundamental[a], `fundamental[${a}] at step ${s}`).toBeGreaterThan(0);
        expect(w.market[a], `market[${a}] at step ${s}`).toBeGreaterThan(0);
      }
      for (let o = 0; o < w.nOracles; o++) expect(w.oraclePrice[o], `oraclePrice[${o}] at step ${s}`).toBeGreaterThan(0);
    });
  });

  // Caught: dust positions. Makers took −net/n each (not summing exactly to −net) and fills never
  // snapped to zero, so a lone residue of 1e-16…1e-8 units could outlive every counterparty. Fixed:
  // the last maker takes the remainder and a close within 1e-14 of a whole position closes it.
  // Measured against the larger of today's and step 0's gross (see marketNets). Regression R1.
  test('(d1) perp positions net to zero in every market (relative 1e-9 of gross)', { timeout: TIMEOUT }, () => {
    afterEveryStep((w, s) => {
      for (const { market, net, gross, scale } of marketNets(w)) {
        expect(Math.abs(net), `Σ qty of market ${market} at step ${s} (gross ${gross})`).toBeLessThanOrEqual(REL * scale);
      }
    });
  });

  // Caught (with other seeds): the runaway of (a) broke this equality by floating-point absorption.
  test('(d2) each settlement pool equals the value of its open positions (zero-sum PnL)', { timeout: TIMEOUT }, () => {
    afterEveryStep((w, s) => {
      for (const { exchange, pool, value, scale } of poolValues(w)) {
        expect(Math.abs(pool - value), `pool of exchange ${exchange} at step ${s}: ${pool} vs ${value}`).toBeLessThanOrEqual(REL * scale);
      }
    });
  });

  // Caught: the dust positions of (d1) made `contagion run --check` abort ordinary runs.
  test('(d3) checkInvariants does not throw after any step', { timeout: TIMEOUT }, () => {
    afterEveryStep((w) => checkInvariants(w));
  });

  // Added to the requested list: it is what "prices stay positive" means for trades.
  // Caught two defects. (1) Unbounded bankruptcy price: with a deficit large against gross
  // notional N, P_bk = P·(1 − sign(q)·E/N) put ADL fills far from mark, negative once E < −N. Fixed:
  // a winner is never closed beyond its own entry price (regression R3). (2) Rounding in
  // averageImpactFactor: past a curve's floor a tiny trade's (G(x1) − G(x0))/dx cancelled to 0.
  // Fixed: short intervals use the midpoint value (regression R4).
  test('(g) every fill (liquidation, deleverage, unwind, ADL, backstop, a delisting\'s settlement) is at a positive finite price', { timeout: TIMEOUT }, () => {
    const fills = new Array<number>(EVENT_KINDS.length).fill(0);
    fc.assert(
      fc.property(caseArb, ({ experiment, replicate }) => {
        const w = worldOf(experiment, replicate);
        stepAll(w);
        const e = w.events;
        for (let i = 0; i < e.length; i++) {
          if (!FILL_KINDS.has(e.kind[i]!)) continue;
          const what = `${EVENT_KINDS[e.kind[i]!]} event ${i} at step ${e.step[i]} (qty ${e.quantity[i]})`;
          expect(Number.isFinite(e.price[i]!), what).toBe(true);
          expect(e.price[i], what).toBeGreaterThan(0);
          fills[e.kind[i]!]!++;
        }
      }),
      fcParams(),
    );
    // Every kind of fill was checked, not only the common ones.
    const byKind = Object.fromEntries([...FILL_KINDS].map((k) => [EVENT_KINDS[k]!, fills[k]!]));
    console.log(`(g): fills checked ${JSON.stringify(byKind)}`);
    for (const [kind, n] of Object.entries(byKind)) expect(n, kind).toBeGreaterThanOrEqual(MIN_FILLS_PER_KIND);
  });
});

describe('the loss waterfall in the run summary', () => {
  test('(e) bad debt = fund payout + ADL-absorbed + socialized + uncovered, and each part is in range', { timeout: TIMEOUT }, () => {
    let withBadDebt = 0;
    let pastTheFund = 0;
    fc.assert(
      fc.property(caseArb, ({ experiment, replicate }) => {
        const w = worldOf(experiment, replicate);
        const s = stepAll(w);
        // A protocol defaulted (one `default` event) exactly when it socialized a loss or left one uncovered.
        let defaulted = 0;
        for (let p = 0; p < w.nProtocols; p++) if (w.totals.socializedLossUsd[p]! > 0 || w.totals.uncoveredBadDebtUsd[p]! > 0) defaulted++;
        let defaults = 0;
        for (let i = 0; i < w.events.length; i++) if (w.events.kind[i] === EventKindCode.default) defaults++;
        expect(s.insolventProtocols).toBe(defaulted);
        expect(defaults).toBe(defaulted);
        expect(s.fundPayoutUsd).toBeLessThanOrEqual(s.totalBadDebtUsd + 1e-6);
        expect(s.socializedLossUsd).toBeGreaterThanOrEqual(0);
        expect(s.uncoveredBadDebtUsd).toBeGreaterThanOrEqual(0);
        expect(s.adlAbsorbedUsd).toBeGreaterThanOrEqual(0);
        expect(s.fundPayoutUsd).toBeGreaterThanOrEqual(0);
        expect(s.insuranceFundMinUsd).toBeGreaterThanOrEqual(-1e-9);
        // ADL only absorbs bad debt when it closed someone.
        if (s.adlCount === 0) expect(s.adlAbsorbedUsd).toBe(0);
        const parts = s.fundPayoutUsd + s.adlAbsorbedUsd + s.socializedLossUsd + s.uncoveredBadDebtUsd;
        expect(Math.abs(s.totalBadDebtUsd - parts), `bad debt ${s.totalBadDebtUsd} vs Σ parts ${parts}`).toBeLessThanOrEqual(
          REL * Math.max(1, s.totalBadDebtUsd),
        );
        if (s.totalBadDebtUsd > 0) withBadDebt++;
        if (s.fundPayoutUsd > 0 && s.fundPayoutUsd < s.totalBadDebtUsd) pastTheFund++;
      }),
      fcParams(),
    );
    // The identity is only tested where there is bad debt, and the parts after the fund only where the
    // fund ran short.
    console.log(`(e): ${withBadDebt} cases with bad debt, ${pastTheFund} past the fund`);
    expect(withBadDebt).toBeGreaterThanOrEqual(MIN_BAD_DEBT_CASES);
    expect(pastTheFund).toBeGreaterThanOrEqual(MIN_PAST_FUND_CASES);
  });

  // Added in session 29 with cohorts.arrow: what the cohorts gained and lost must be what the rest of the
  // ledger lost and gained. Σ value − Σ contributed over every perp account = Δ(accounts' cash + settlement
  // pools + wallets), the pools holding the open positions' value (zero-sum PnL) and the wallets paying
  // the top-ups counted in what was contributed; the ledger is conserved, so that is −Δ of every other
  // holder (funds, reserves, fee pools, arbitrageurs, the outside market). It fails if cohortTable misses
  // an account (a vault), values a position other than as the pool does (unsettled funding), or counts a
  // top-up twice.
  test('(e3) the cohorts gained what the rest of the ledger lost (cohorts.arrow)', { timeout: TIMEOUT }, () => {
    let withGains = 0;
    fc.assert(
      fc.property(caseArb, ({ experiment, replicate }) => {
        const w = worldOf(experiment, replicate);
        const start = w.ledger.balance.slice();
        stepAll(w);
        const t = cohortTable(w);
        let pnl = 0;
        let accounts = 0;
        for (let r = 0; r < t.rows; r++) {
          // The cohorts' and vaults' rows (codes below the other participants', design decision 57).
          if (t.cohort[r]! >= w.cohortMaxLeverage.length) continue;
          pnl += t.valueUsd[r]! - t.contributedUsd[r]!;
          accounts += t.accounts[r]!;
        }
        expect(accounts).toBe(w.nAccounts);
        const inside = (h: number) =>
          h < w.nAccounts || (h >= w.walletHolderStart && h < w.fundHolderStart) || (h >= w.poolHolderStart && h < w.poolHolderStart + w.nExchanges);
        let others = 0;
        for (let h = 0; h < start.length; h++) if (!inside(h)) others += w.ledger.balance[h]! - start[h]!;
        expect(Math.abs(pnl + others), `Σ cohort P&L ${pnl}, the other holders' change ${others}`).toBeLessThanOrEqual(REL * w.ledger.scaleUsd);
        if (Math.abs(others) > 1) withGains++;
      }),
      fcParams(),
    );
    // Checked where the rest of the ledger moved (a fund paid out or took a penalty, arbitrageurs traded).
    console.log(`(e3): ${withGains} cases where the cohorts' P&L was not zero-sum among themselves`);
    expect(withGains).toBeGreaterThanOrEqual(MIN_BAD_DEBT_CASES);
  });

  // Added in session 30 with the rest of the balance sheet in cohorts.arrow (design decision 57): the
  // rows of every participant sum to what the prices did to the units in existence (checkBalanceSheet,
  // which every run also calls), each fund's row is its balance's change, and the arbitrageurs' rows are
  // what runs.arrow's arbitrageur_pnl_usd sums (cash + inventory at market − what they started with).
  test('(e4) every participant: the rows are the whole balance sheet (cohorts.arrow)', { timeout: TIMEOUT }, () => {
    let withArbitrage = 0;
    let withFundMoves = 0;
    fc.assert(
      fc.property(caseArb, ({ experiment, replicate }) => {
        const w = worldOf(experiment, replicate);
        const funds0 = w.fundInitialUsd.slice();
        stepAll(w);
        const t = cohortTable(w);
        checkBalanceSheet(w, t);
        const { roles } = participantList(parseExperiment(experiment, 'property case').scenario);
        const pnlOf = (role: string) => {
          const out: number[] = [];
          for (let r = 0; r < t.rows; r++) if (PARTICIPANT_ROLES[roles[t.cohort[r]!]!] === role) out.push(t.valueUsd[r]! - t.contributedUsd[r]!);
          return out;
        };
        const tol = REL * w.ledger.scaleUsd;
        const funds = pnlOf('insurance_fund');
        expect(funds).toHaveLength(w.nFunds);
        funds.forEach((pnl, f) => expect(Math.abs(pnl - (w.ledger.balance[w.fundHolderStart + f]! - funds0[f]!))).toBeLessThanOrEqual(tol));
        if (funds.some((x) => Math.abs(x) > 1)) withFundMoves++;
        const A = w.arbitrage;
        const arbs = pnlOf('arbitrageur');
        expect(arbs).toHaveLength(A.n);
        for (let k = 0; k < A.n; k++) {
          const expected = w.ledger.balance[A.cashHolder[k]!]! + w.units.qty[A.unitHolder[k]!]! * w.market[A.asset[k]!]! - A.initialCashUsd[k]! - A.initialInventoryUsd[k]!;
          expect(Math.abs(arbs[k]! - expected)).toBeLessThanOrEqual(tol + REL * (A.initialCashUsd[k]! + A.initialInventoryUsd[k]!));
          if (A.boughtUsd[k]! + A.soldUsd[k]! > 0) withArbitrage++;
        }
        expect(pnlOf('outside_market')).toHaveLength(1);
      }),
      fcParams(),
    );
    console.log(`(e4): ${withFundMoves} cases where a fund's row moved, ${withArbitrage} arbitrageurs that traded`);
    expect(withFundMoves).toBeGreaterThanOrEqual(MIN_BAD_DEBT_CASES);
    expect(withArbitrage).toBeGreaterThanOrEqual(MIN_BAD_DEBT_CASES);
  });

  // Caught (session 19, by reading a run's ledger; this property came after): a trader under water
  // that deleveraged at its margin call sold everything and kept the negative cash, with no position
  // left to liquidate, so no stage above saw the loss. Fixed in session 20 (design decision 40).
  test('(e2) no perp account is left holding no positions under water: a loss beyond collateral is booked as bad debt', { timeout: TIMEOUT }, () => {
    let checked = 0;
    afterEveryStep((w, s) => {
      for (let a = 0; a < w.nAccounts; a++) {
        if (w.accountStatus[a] !== Status.active || hasPositions(w, a)) continue;
        const equity = markAccount(w, a);
        expect(equity, `account ${a} at step ${s}: no positions, equity ${equity}`).toBeGreaterThanOrEqual(-REL * w.ledger.scaleUsd);
        checked++;
      }
    });
    // Active accounts with no positions left (closed by a deleverage or a partial liquidation), checked.
    console.log(`(e2): ${checked} account-steps of active accounts with no positions`);
    expect(checked).toBeGreaterThanOrEqual(MIN_FLAT_ACCOUNT_STEPS);
  });

  // The arbitrageurs' phase checked on its own: run each step's phases by hand around it.
  test('(h) arbitrageurs trade only across their lines and never past them, within their cash and their buy cap (between rounds too)', { timeout: TIMEOUT }, () => {
    const at = PHASES.findIndex(([name]) => name === 'arbitrage');
    let buys = 0;
    let sales = 0;
    fc.assert(
      fc.property(caseArb, ({ experiment, replicate }) => {
        const w = worldOf(experiment, replicate);
        const A = w.arbitrage;
        const cap = experiment.scenario.arbitrageurs ?? [];
        for (let s = 0; s < w.steps; s++) {
          w.step = s;
          for (let i = 0; i < at; i++) runPhase(w, i);
          const before = Array.from({ length: A.n }, (_, k) => ({
            market: w.market[A.asset[k]!]!,
            fundamental: w.fundamental[A.asset[k]!]!,
            bought: A.boughtUsd[k]!,
            sold: A.soldUsd[k]!,
            cash: w.ledger.balance[A.cashHolder[k]!]!,
            units: w.units.qty[A.unitHolder[k]!]!,
          }));
          runPhase(w, at);
          // Arbitrageurs of one asset act in turn: the market before the first of them decides its
          // trade, and the line is checked after the last of them.
          for (let k = 0; k < A.n; k++) {
            const b = before[k]!;
            const a = A.asset[k]!;
            const f = w.fundamental[a]!;
            const spent = A.boughtUsd[k]! - b.bought;
            const got = A.soldUsd[k]! - b.sold;
            const cash = w.ledger.balance[A.cashHolder[k]!]!;
            const units = w.units.qty[A.unitHolder[k]!]!;
            const where = `arbitrageur ${k} at step ${s}`;
            const first = !A.asset.some((x, j) => x === a && j < k);
            const last = !A.asset.some((x, j) => x === a && j > k);
            expect(spent > 0 && got > 0, `${where} both bought and sold`).toBe(false);
            if (spent > 0) {
              buys++;
              if (first) expect(b.market, `${where} bought above its entry line`).toBeLessThan(b.fundamental * A.entryFactor[k]!);
              // To REL of its starting cash, as the run-time check holds it: relative to the cash left, the
              // bound failed on rounding when that was dust (FC_SEED=1: 7.3e-12 USD spent of 5.6e-12).
              expect(spent, `${where} spent more than its cash`).toBeLessThanOrEqual(b.cash + REL * A.initialCashUsd[k]!);
              expect(spent, `${where} spent more than its buy cap`).toBeLessThanOrEqual((cap[k]!.maxBuyUsdPerStep ?? Infinity) * (1 + REL));
              expect(cash, `${where} cash`).toBeCloseTo(b.cash - spent, 6);
              // A purchase with dust cash can add less than one ulp of the inventory (FC_SEED=1, step 15).
              if (spent > REL * A.initialCashUsd[k]!) expect(units, `${where} inventory`).toBeGreaterThan(b.units);
              if (last) expect(w.market[a]!, `${where} lifted the market past its entry line`).toBeLessThanOrEqual(f * A.entryFactor[k]! * (1 + 1e-9));
            }
            if (got > 0) {
              sales++;
              if (first) expect(b.market, `${where} sold below its exit line`).toBeGreaterThan(b.fundamental * A.exitFactor[k]!);
              expect(units, `${where} sold more than it held`).toBeGreaterThanOrEqual(-REL * b.units);
              expect(cash, `${where} cash`).toBeCloseTo(b.cash + got, 6);
              if (last && units > REL * b.units) {
                expect(w.market[a]!, `${where} pushed the market past its exit line`).toBeGreaterThanOrEqual(f * A.exitFactor[k]! * (1 - 1e-9));
              }
            }
          }
          for (let i = at + 1; i < PHASES.length; i++) runPhase(w, i);
          // With betweenRounds they also bought in the cascade: the cap holds for the step as a whole.
          for (let k = 0; k < A.n; k++) {
            expect(A.boughtThisStepUsd[k], `arbitrageur ${k}: bought in step ${s}`).toBeLessThanOrEqual((cap[k]!.maxBuyUsdPerStep ?? Infinity) * (1 + REL));
            expect(w.ledger.balance[A.cashHolder[k]!], `arbitrageur ${k}: cash after step ${s}`).toBeGreaterThanOrEqual(-REL * A.initialCashUsd[k]!);
          }
        }
      }),
      fcParams(),
    );
    // The property is exercised: arbitrageurs bought and sold in the generated cases (with the
    // fixed seed, 64 purchases and 299 sales in the phase; those with betweenRounds buy in the cascade too).
    console.log(`(h): ${buys} purchases and ${sales} sales by arbitrageurs`);
    expect(buys).toBeGreaterThanOrEqual(10);
    expect(sales).toBeGreaterThanOrEqual(10);
  });

  test('(f) a harsh scenario reaches ADL or socialized loss and the fund in some of 10 seeds', () => {
    // The fixture with a 60% BTC and 50% ETH crash over two steps, a $1,000 fund, no backstop
    // vault, every trader at 20–40× (the venue caps ETH at 25×) and no margin-call top-ups.
    const summaries = Array.from({ length: 10 }, (_, k) => {
      const exp = minimalExperiment();
      exp.seed = 1000 + k;
      const s = exp.scenario;
      s.shocks = [
        { id: 'btc-crash', asset: 'BTC', totalReturn: -0.6, startStep: 10, overSteps: 2 },
        { id: 'eth-crash', asset: 'ETH', totalReturn: -0.5, startStep: 10, overSteps: 2 },
      ];
      s.insuranceFunds = [{ id: 'fund', initialUsd: 1000 }];
      s.backstopVaults = [];
      delete s.exchanges[0]!.backstop;
      const degens = s.traders[0]!;
      if (degens.kind !== 'directional') throw new Error('fixture changed: traders[0] is not directional');
      degens.count = 30;
      degens.leverage = { kind: 'uniform', min: 20, max: 40 };
      degens.marginCall = { topUpProbability: 0, deleverageProbability: 0 };
      return stepAll(worldOf(exp, 0));
    });
    const waterfallBeyondFund = summaries.filter((s) => s.adlCount > 0 || s.socializedLossUsd > 0).length;
    const fundPaid = summaries.filter((s) => s.fundPayoutUsd > 0).length;
    expect(waterfallBeyondFund).toBeGreaterThanOrEqual(1);
    expect(fundPaid).toBeGreaterThanOrEqual(1);
    // And the bad debt there is real money: more than the $1,000 fund could ever pay.
    expect(Math.max(...summaries.map((s) => s.totalBadDebtUsd))).toBeGreaterThan(1000);
  });
});

// ---------------------------------------------------------------------------------------------
// Regressions: hand-reduced reproductions of the engine bugs the properties found. Each FAILS
// against the engine before their fixes; they stay as regression tests.

interface ThinMarket {
  price: number;
  impact: 'linear' | 'sqrt' | 'exponential';
  coefficient: number;
  shock?: number;
  oracleLag?: number;
  cohorts: { side: 'long' | 'short'; count: number; leverage: number; collateralUsd: number }[];
  makerUsd: number;
  makerLeverage: number;
  liquidators?: { usd: number; leverage: number };
}

/**
 * One asset (volatility 0.1, depth $10,000) on one exchange (IMF 2%, MMF 1%, full liquidation,
 * no penalty, empty fund, no vault), isolated traders with fixed size and no margin-call response,
 * one market maker, optionally one liquidator that never unwinds; seed 0, 20 steps, an optional
 * shock at step 1.
 */
function thinMarket(o: ThinMarket): ExperimentInput {
  const exp = minimalExperiment();
  exp.seed = 0;
  exp.steps = 20;
  exp.runs = 1;
  exp.scenario = {
    assets: [
      {
        symbol: 'AAA',
        initialPrice: o.price,
        volatilityAnnual: 0.1,
        market: { depthUsd: 10_000, impact: o.impact, impactCoefficient: o.coefficient, resilienceHalfLifeSeconds: 60, permanentShare: 0 },
      },
    ],
    regimes: { calm: { correlation: [[1]] }, stress: { correlation: [[1]] }, switching: { kind: 'none' } },
    shocks: o.shock === undefined ? [] : [{ id: 'shock', asset: 'AAA', totalReturn: o.shock, startStep: 1, overSteps: 1 }],
    oracles: [{ id: 'oracle', asset: 'AAA', lagSteps: o.oracleLag ?? 0 }],
    insuranceFunds: [{ id: 'fund', initialUsd: 0 }],
    exchanges: [
      {
        id: 'dex',
        insuranceFund: 'fund',
        liquidation: { mode: 'full', penaltyFraction: 0 },
        markets: [{ asset: 'AAA', oracle: 'oracle', marginTiers: [{ upToNotionalUsd: null, initialMarginFraction: 0.02, maintenanceMarginFraction: 0.01 }] }],
      },
    ],
    traders: [
      ...o.cohorts.map((c, i) => ({
        id: `traders${i}`,
        kind: 'directional' as const,
        exchange: 'dex',
        count: c.count,
        marginMode: 'isolated' as const,
        positions: [{ asset: 'AAA', side: c.side }],
        leverage: { kind: 'fixed' as const, value: c.leverage },
        collateralUsd: { kind: 'fixed' as const, value: c.collateralUsd },
        walletUsd: { kind: 'fixed' as const, value: 0 },
        marginCall: { topUpProbability: 0, deleverageProbability: 0 },
      })),
      { id: 'makers', kind: 'marketMaker' as const, exchange: 'dex', count: 1, collateralUsd: o.makerUsd, maxLeverage: o.makerLeverage },
      ...(o.liquidators
        ? [{ id: 'liquidators', kind: 'liquidator' as const, exchange: 'dex', count: 1, collateralUsd: o.liquidators.usd, maxLeverage: o.liquidators.leverage, unwindSharePerStep: 0 }]
        : []),
    ],
  };
  return exp;
}

describe('regressions found by the properties', () => {
  test('R1 ADL closing a market down to one position leaves no dust without a counterparty', () => {
    // 3 longs of 50,000 units (300 USD at 5× on 0.03), 1 short of 14,666.67 units (400 USD at
    // 1.1×); the maker holds the rest, −135,333.33. A 40% crash at step 1 bankrupts the longs, which ADL
    // closes against the short and the maker: the maker is left with −1.455e-11 units and nobody
    // holds the other side (Σ qty = 100% of gross), and checkInvariants throws "positions net to".
    const w = worldOf(
      thinMarket({
        price: 0.03,
        impact: 'linear',
        coefficient: 0.5,
        shock: -0.4,
        cohorts: [
          { side: 'long', count: 3, leverage: 5, collateralUsd: 300 },
          { side: 'short', count: 1, leverage: 1.1, collateralUsd: 400 },
        ],
        makerUsd: 1200,
        makerLeverage: 0.5,
      }),
      0,
    );
    stepAll(w, (w, s) => {
      for (const { market, net, gross, scale } of marketNets(w)) {
        expect(Math.abs(net), `Σ qty of market ${market} at step ${s} (gross ${gross})`).toBeLessThanOrEqual(REL * scale);
      }
      expect(() => checkInvariants(w), `checkInvariants at step ${s}`).not.toThrow();
    });
  });

  test('R2 a forced buy-back on a thin exponential market keeps prices finite and the ledger balanced', () => {
    // 5 longs of 1,000,000 units (50,000 USD at 20× on 1.00); the maker (10,000 USD) is short
    // 5,000,000 units, below maintenance at step 0, and is liquidated into a 20,000 USD liquidator
    // with a one-step oracle lag. The liquidator's capacity is sized at the lagged mark (1.00) while
    // its fills walk exp(−α·x): 20,000 units at 1.72, … 797,970 at 2.6e17, 4,124,783 at 1.9e106.
    // Bad debt 8e112 is socialized and the ledger is off by 280,000 USD: its whole scale.
    const w = worldOf(
      thinMarket({
        price: 1,
        impact: 'exponential',
        coefficient: 0.5,
        oracleLag: 1,
        cohorts: [{ side: 'long', count: 5, leverage: 20, collateralUsd: 50_000 }],
        makerUsd: 10_000,
        makerLeverage: 1,
        liquidators: { usd: 20_000, leverage: 1 },
      }),
      0,
    );
    stepAll(w, (w, s) => {
      expect(w.ledger.errorUsd(), `ledger error at step ${s}`).toBeLessThanOrEqual(REL * w.ledger.scaleUsd);
      expect(nonFiniteEntries(w), `after step ${s}`).toEqual([]);
    });
  });

  test('R3 ADL of a cross account deep under water fills at positive prices', () => {
    // The fixture's exchange without vault and with an empty fund; 5 cross traders, 1,000 USD at
    // 20×, long BTC and short ETH (weights 1 : 0.1). At step 5 BTC falls 90% and ETH rises 5%:
    // E ≈ −15,450 USD against a gross notional N ≈ 3,700, so P_bk = P·(1 + E/N) ≈ −3.2·P on the ETH
    // short: ADL closes the makers' ETH longs at −9,913 USD (and their BTC shorts at 30,874 against
    // a mark of 5,974).
    const exp = minimalExperiment();
    exp.steps = 10;
    const s = exp.scenario;
    s.shocks = [
      { id: 'btc-crash', asset: 'BTC', totalReturn: -0.9, startStep: 5, overSteps: 1 },
      { id: 'eth-pump', asset: 'ETH', totalReturn: 0.05, startStep: 5, overSteps: 1 },
    ];
    s.insuranceFunds = [{ id: 'fund', initialUsd: 0 }];
    s.backstopVaults = [];
    delete s.exchanges[0]!.backstop;
    s.traders[0] = {
      id: 'degens',
      kind: 'directional',
      exchange: 'perpdex',
      count: 5,
      marginMode: 'cross',
      positions: [
        { asset: 'BTC', side: 'long' },
        { asset: 'ETH', side: 'short', weight: 0.1 },
      ],
      leverage: { kind: 'fixed', value: 20 },
      collateralUsd: { kind: 'fixed', value: 1000 },
      walletUsd: { kind: 'fixed', value: 0 },
      marginCall: { topUpProbability: 0, deleverageProbability: 0 },
    };
    const w = worldOf(exp, 0);
    stepAll(w);
    const e = w.events;
    let adlFills = 0;
    for (let i = 0; i < e.length; i++) {
      if (e.kind[i] !== EventKindCode.adl) continue;
      adlFills++;
      expect(e.price[i], `adl event ${i} at step ${e.step[i]} on asset ${e.asset[i]}`).toBeGreaterThan(0);
    }
    expect(adlFills).toBeGreaterThan(0);
  });

  test('R5 a liquidator under water takes no flow: session 27\'s closed-out liquidator is no longer filled down to zero', () => {
    // Found by the check of booked shortfalls (design decision 51) in test/marginIndex.test.ts's random
    // scenarios; the shrunk case is test/fixtures/closedOutLiquidator.json, replicate 1. ex0's liquidator
    // (account 36) ends step 2 below maintenance (equity 2,317.80 against 5,205.45; ex0 is down for
    // steps 1-4, so nobody liquidates it). Until session 28 its whole position still counted as capacity
    // to reduce: at step 3 it took the other side of other accounts' liquidations, a fill away from mark
    // closed it out with -312.80 USD of cash, and settleClosedOut booked it bankrupt. Now an account below
    // maintenance has no orders on the book (design decision 53): it unwinds its own inventory and ends
    // the run active and solvent, with no bad debt of its own.
    const raw = JSON.parse(readFileSync(new URL('./fixtures/closedOutLiquidator.json', import.meta.url), 'utf8')) as ExperimentInput;
    const w = worldOf(raw, 1);
    const liquidator = 36;
    expect(w.liquidatorAccounts.subarray(w.liquidatorStart[0]!, w.liquidatorStart[1]!)).toContain(liquidator);
    stepAll(w, (w, s) => {
      expect(() => checkInvariants(w), `checkInvariants at step ${s}`).not.toThrow();
      if (s === 2) {
        markAccount(w, liquidator);
        expect(w.accountEquity[liquidator]).toBeCloseTo(2317.8, 1);
        expect(w.accountMaintenance[liquidator]).toBeCloseTo(5205.45, 1);
      }
    });
    expect(eventIds(w, EventKindCode.bad_debt, liquidator)).toEqual([]);
    expect(eventIds(w, EventKindCode.liquidation, liquidator)).toEqual([]);
    expect(w.accountStatus[liquidator]).toBe(Status.active);
    expect(w.ledger.balance[liquidator]).toBeGreaterThan(6000);
  });

  test('R6 ranked ADL gives a winner\'s profit up only as far as its equity: a winner whose debt that profit carried is not left under water', () => {
    // Found by the random scenarios of test/marginIndex.test.ts once under-water accounts took no book flow
    // (R5): test/fixtures/closedOutByAdl.json, replicate 2. At step 1 a margin call's deleverage leaves
    // account 91 (ex1) short 12,625.73 units with cash of −2,873.81: its short's profit is all that keeps
    // its equity above zero. At step 2 a crash (shock1, −63% over two steps) fails long 34, and ranked
    // ADL closes 91's whole short. At the price the others get, 1.01597 (34's bankruptcy price, capped at
    // each winner's entry), 91 gave up more than its equity and was left flat with −580.50 USD: bankrupt,
    // its shortfall paid by the fund (design decision 51 booked it). Since design decision 54 it gives up
    // its equity at mark less a part in 1e9 (price 0.969995) and ends flat with 2.9e-6 USD; the 580.50 it
    // no longer absorbs stays 34's shortfall, which ex1's fund (59,188 USD) pays.
    const raw = JSON.parse(readFileSync(new URL('./fixtures/closedOutByAdl.json', import.meta.url), 'utf8')) as ExperimentInput;
    const w = worldOf(raw, 2);
    const [a, failed] = [91, 34];
    expect(w.exchangeIds[exchangeOf(w, a)]).toBe('ex1');
    stepAll(w, (w, s) => {
      expect(() => checkInvariants(w), `checkInvariants at step ${s}`).not.toThrow();
      if (s === 1) {
        expect(w.ledger.balance[a]).toBeCloseTo(-2873.81, 2);
        expect(w.posQty[w.posStart[a]!]).toBeCloseTo(-12_625.73, 2);
      }
    });
    const e = w.events;
    const adl = eventIds(w, EventKindCode.adl, a);
    expect(adl).toHaveLength(1);
    expect(e.step[adl[0]!]).toBe(2);
    expect(e.quantity[adl[0]!]).toBeCloseTo(12_625.73, 2);
    expect(e.price[adl[0]!]).toBeCloseTo(0.969995, 6);
    // The next winner of the same failure (the next event) closes at 1.01597.
    expect(e.kind[adl[0]! + 1]).toBe(EventKindCode.adl);
    expect(e.price[adl[0]! + 1]).toBeCloseTo(1.01597, 5);
    expect(eventIds(w, EventKindCode.bad_debt, a)).toEqual([]);
    expect(w.accountStatus[a]).toBe(Status.active);
    expect(hasPositions(w, a)).toBe(false);
    expect(w.ledger.balance[a]).toBeGreaterThanOrEqual(0);
    expect(w.ledger.balance[a]).toBeLessThan(1e-5);
    // What 91 no longer absorbs is 34's: a bad debt of 580.50 at step 2, which the fund pays.
    const residual = eventIds(w, EventKindCode.bad_debt, failed).filter((i) => e.step[i] === 2 && Math.abs(e.amountUsd[i]! - 580.5) < 0.01);
    expect(residual).toHaveLength(1);
    const payout = eventIds(w, EventKindCode.fund_payout).filter((i) => e.cause[i] === residual[0]);
    expect(payout.map((i) => e.amountUsd[i])).toEqual([expect.closeTo(580.5, 2)]);
  });

  test('R4 a tiny trade past the floor of the linear and sqrt curves fills at the floor, not 0', () => {
    // Past x = (1 − floor)/λ the curve is flat at MIN_IMPACT_FACTOR, so the average over any
    // interval there is MIN_IMPACT_FACTOR; (G(x0 + dx) − G(x0))/dx loses every digit for dx ≈ 1e-14
    // at x0 = 5 and returns 0 (2.2× the floor for dx = 1e-12).
    for (const model of [ImpactCode.linear, ImpactCode.sqrt]) {
      expect(impactFactor(model, 0.5, 5)).toBe(MIN_IMPACT_FACTOR);
      for (const dx of [1e-14, 1e-12]) {
        expect(averageImpactFactor(model, 0.5, 5, 5 + dx), `model ${model}, dx ${dx}`).toBeCloseTo(MIN_IMPACT_FACTOR, 8);
      }
    }
  });
});
