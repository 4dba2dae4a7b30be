// cohorts.arrow's rows for everyone who is not a cohort of accounts (design decision 57): funds,
// exchanges, lenders, treasuries, arbitrageurs, stables and the outside market, by hand on the looped
// ETH/USDC borrower of test/fixtures/lendingExperiment.ts (zero volatility, one scripted ETH shock at
// step 2; the numbers of its liquidations are worked out in test/lending.test.ts), and the balance
// sheet check that holds every run's rows to what the prices did to the units in existence.
import { describe, expect, it } from 'vitest';
import { parseExperiment } from '../src/experiment/load.ts';
import { buildGraph } from '../src/graph/build.ts';
import { runWorld, simulateRun, worldFor } from '../src/engine/simulate.ts';
import { cohortTable } from '../src/engine/fairness.ts';
import { checkBalanceSheet, participantList, participantRows } from '../src/engine/participants.ts';
import { EventKindCode, PARTICIPANT_ROLES, type CohortTable } from '../src/engine/record.ts';
import { InvariantError } from '../src/experiment/errors.ts';
import type { World } from '../src/model/world.ts';
import { lendingExperiment, type Options } from './fixtures/lendingExperiment.ts';
import { everyChannelExperiment } from './fixtures/everyChannel.ts';
import { stableExperiment } from './fixtures/stableExperiment.ts';
import { ethCrash } from './fixtures/ethCrash.ts';

function run(o: Options): { w: World; t: CohortTable; row: (name: string) => { contributed: number; value: number; pnl: number } } {
  const exp = parseExperiment(lendingExperiment(o), 'participants test');
  const w = worldFor(exp, buildGraph(exp), 0);
  runWorld(w, true);
  const t = cohortTable(w);
  const { names } = participantList(exp.scenario);
  const row = (name: string) => {
    const r = [...t.cohort].findIndex((c) => names[c] === name);
    if (r < 0) throw new Error(`no row ${name}`);
    return { contributed: t.contributedUsd[r]!, value: t.valueUsd[r]!, pnl: t.valueUsd[r]! - t.contributedUsd[r]! };
  };
  return { w, t, row };
}

function firstEvent(w: World, kind: number) {
  const e = w.events;
  for (let i = 0; i < e.length; i++) if (e.kind[i] === kind) return { quantity: e.quantity[i]!, price: e.price[i]!, amountUsd: e.amountUsd[i]! };
  throw new Error(`no event of kind ${kind}`);
}

const ETH = 1;

describe('the rest of the balance sheet, by hand', () => {
  it('names every participant after the cohorts and vaults, each with its role', () => {
    const exp = parseExperiment(lendingExperiment({ shock: -0.1 }), 'names');
    const { names, roles } = participantList(exp.scenario);
    const traders = exp.scenario.traders.map((c) => c.id);
    expect(names).toEqual([...traders, 'vault', 'fund fund', 'fund safety', 'exchange perpdex', 'lend lenders', 'lend treasury', 'outside market']);
    expect(roles.map((r) => PARTICIPANT_ROLES[r])).toEqual([
      ...traders.map(() => 'trader'),
      'backstop_vault',
      'insurance_fund',
      'insurance_fund',
      'exchange',
      'lenders',
      'lending_treasury',
      'outside_market',
    ]);
    // The dictionary has a name for every code the world's table can hold: its cohorts and vaults, then
    // participantRows of everyone else.
    const w = worldFor(exp, buildGraph(exp), 0);
    expect(names).toHaveLength(w.cohortMaxLeverage.length + participantRows(w));
    // An algorithmic stable adds three rows, an arbitrageur one.
    const stable = parseExperiment(stableExperiment(), 'stable');
    const more = participantList(stable.scenario);
    const ws = worldFor(stable, buildGraph(stable), 0);
    expect(more.names).toHaveLength(ws.cohortMaxLeverage.length + participantRows(ws));
    const sym = stable.scenario.assets.find((a) => a.derived?.kind === 'algorithmicStable')!.symbol;
    expect(more.names.filter((n) => n.startsWith(`${sym} `))).toEqual([`${sym} holders`, `${sym} desk`, `${sym} collateral holders`]);
    const crash = ethCrash({ topUpProbability: 0, deleverageProbability: 0 });
    crash.scenario.arbitrageurs = [{ id: 'arb', asset: 'ETH', cashUsd: 1e6 }];
    const withArb = participantList(parseExperiment(crash, 'arb').scenario);
    expect(withArb.names.filter((n) => n.startsWith('arbitrageur '))).toEqual(['arbitrageur arb']);
    expect(PARTICIPANT_ROLES[withArb.roles[withArb.names.indexOf('arbitrageur arb')]!]).toBe('arbitrageur');
  });

  it('a 10% fall: the treasury keeps its 10% of the bonus, the outside market buys the keeper\'s ETH, the lenders are whole', () => {
    const { w, row } = run({ shock: -0.1 });
    const P = w.market[ETH]!; // 2,699.98…: the fall and the keeper's sale's permanent impact; the oracle reads it
    expect(w.oraclePrice[w.lending.reserveOracle[0]!]).toBe(P);
    // The treasury: 75 USD of bonus at 2,700 = 0.027778 ETH, held at the end's oracle price.
    expect(row('lend treasury').contributed).toBe(0);
    expect(row('lend treasury').value).toBeCloseTo((75 / 2_700) * P, 9);
    // The outside market bought the keeper's 15,750 − 75 = 15,675 USD of ETH at 2,700 (5.80556 ETH)
    // at the sale's fill, and holds it at P; it sold the keeper 15,000 USDC at 1 for 15,000: nothing.
    const sale = firstEvent(w, EventKindCode.unwind);
    expect(-sale.quantity).toBeCloseTo(15_675 / 2_700, 12);
    expect(row('outside market').pnl).toBeCloseTo(-sale.quantity * P - sale.amountUsd, 6);
    // The lenders supplied 10M USDC; at the end 9,985,000 in the pool and 15,000 still owed: 10M.
    expect(row('lend lenders').contributed).toBe(10_000_000);
    expect(row('lend lenders').value).toBeCloseTo(10_000_000, 6);
    // No loss reached a fund or the exchange.
    expect(row('fund safety').pnl).toBe(0);
    expect(row('fund fund').pnl).toBe(0);
    expect(row('exchange perpdex').pnl).toBe(0);
    // Every row together: the only units at step 0 are the looper's 13.333 ETH (40,000 USD at 3,000),
    // and every unit of ETH is valued at P at the end, so Σ P&L = 13.333 × (P − 3,000) ≈ −4,000.
    const t = cohortTable(w);
    let sum = 0;
    for (let r = 0; r < t.rows; r++) sum += t.valueUsd[r]! - t.contributedUsd[r]!;
    expect(sum).toBeCloseTo((40_000 / 3_000) * (P - 3_000), 6);
    expect(sum).toBeLessThan(-4_000);
  });

  it('a 60% fall: the safety module pays the 14,761.90 deficit; with 5,000 in it, the lenders lose the other 9,761.90', () => {
    // test/lending.test.ts: 16,000 USD of collateral repays 16,000 / 1.05 = 15,238.095 of the 30,000
    // USDC; 14,761.905 is written off.
    const deficit = 30_000 - 16_000 / 1.05;
    const full = run({ shock: -0.6 });
    expect(full.row('fund safety').pnl).toBeCloseTo(-deficit, 6);
    expect(full.row('lend lenders').pnl).toBeCloseTo(0, 6); // the recovery account holds the payout
    // The treasury's 10% of the bonus: (16,000 − 15,238.095) × 0.1 = 76.19 USD of ETH at 1,200.
    expect(full.row('lend treasury').value).toBeCloseTo(((16_000 - 16_000 / 1.05) * 0.1 * full.w.market[ETH]!) / 1_200, 6);
    const thin = run({ shock: -0.6, safetyModuleUsd: 5_000 });
    expect(thin.row('fund safety').pnl).toBeCloseTo(-5_000, 9);
    expect(thin.row('lend lenders').pnl).toBeCloseTo(-(deficit - 5_000), 6);
    // The same as the run's uncovered bad debt.
    expect(thin.row('lend lenders').pnl).toBeCloseTo(-thin.w.totals.uncoveredBadDebtUsd[1]!, 6);
  });
});

describe('the balance sheet check', () => {
  it('passes a whole table and stops a run whose rows miss or double a dollar, naming the gap', () => {
    const { w, t } = run({ shock: -0.1 });
    expect(() => checkBalanceSheet(w, t)).not.toThrow();
    // One dollar more in one row is a dollar from nowhere.
    const extra = Float64Array.from(t.valueUsd);
    extra[0] = extra[0]! + 1;
    const off = { ...t, valueUsd: extra } as CohortTable;
    expect(() => checkBalanceSheet(w, off)).toThrow(InvariantError);
    expect(gapOf(() => checkBalanceSheet(w, off))).toBeCloseTo(1, 6);
    // A row dropped: the treasury's 75 USD of ETH is in none.
    const { names } = participantList(parseExperiment(lendingExperiment({ shock: -0.1 }), 'x').scenario);
    const treasury = [...t.cohort].findIndex((c) => names[c] === 'lend treasury');
    const dropped = Float64Array.from(t.valueUsd);
    dropped[treasury] = t.contributedUsd[treasury]!;
    const fee = t.valueUsd[treasury]! - t.contributedUsd[treasury]!;
    expect(fee).toBeCloseTo(75, 0);
    expect(gapOf(() => checkBalanceSheet(w, { ...t, valueUsd: dropped } as CohortTable))).toBeCloseTo(-fee, 6);
  });

  it('under --check stops the run at the first step whose rows miss a dollar; without, after the last', () => {
    const exp = parseExperiment(lendingExperiment({ shock: -0.1 }), 'tampered');
    const tampered = (check: boolean) => {
      const w = worldFor(exp, buildGraph(exp), 0);
      // 100 USD the looper is said to have put in that no wallet paid.
      w.lending.borrowerContributedUsd[0] = w.lending.borrowerContributedUsd[0]! + 100;
      try {
        runWorld(w, check);
        const t = cohortTable(w);
        checkBalanceSheet(w, t);
      } catch (e) {
        expect(e).toBeInstanceOf(InvariantError);
        return { step: (e as InvariantError).step, gap: gapOf(() => { throw e; }) };
      }
      return null;
    };
    expect(tampered(true)).toEqual({ step: 0, gap: expect.closeTo(-100, 6) as number });
    expect(tampered(false)).toEqual({ step: exp.steps - 1, gap: expect.closeTo(-100, 6) as number });
  });

  it('holds on every run of the fixture with every channel on (depegs, bridges, a manipulation, fire sales)', () => {
    // Caught by this check when it was written: a borrower deleveraging by more than its debt kept the
    // rest of the sale in its wallet, which neither its value nor its contribution counted (115 USD in
    // replicate 5); it is now taken back out of what it put in.
    const exp = parseExperiment(everyChannelExperiment(), 'every-channel');
    const graph = buildGraph(exp);
    const roles = participantList(exp.scenario).roles;
    let outsideMoved = 0;
    for (let r = 0; r < 12; r++) {
      // The check called here, not only inside simulateRun, so this test fails if it stops checking.
      const w = worldFor(exp, graph, r);
      runWorld(w, false);
      const t = cohortTable(w);
      expect(() => checkBalanceSheet(w, t)).not.toThrow();
      expect(t).toEqual(simulateRun(exp, graph, r, { check: false }).cohorts);
      for (let i = 0; i < t.rows; i++) {
        if (PARTICIPANT_ROLES[roles[t.cohort[i]!]!] === 'outside_market' && Math.abs(t.valueUsd[i]! - t.contributedUsd[i]!) > 1) outsideMoved++;
      }
    }
    // The outside market took the other side of fire sales in every run.
    expect(outsideMoved).toBe(12);
  });

  it("an arbitrageur's row is runs.arrow's arbitrageur_pnl_usd", () => {
    const input = ethCrash({ topUpProbability: 0, deleverageProbability: 0 });
    input.scenario.arbitrageurs = [{ id: 'arb', asset: 'ETH', cashUsd: 20e6, inventoryUsd: 1e6 }];
    const exp = parseExperiment(input, 'crash');
    const { names } = participantList(exp.scenario);
    for (let rep = 0; rep < 3; rep++) {
      const res = simulateRun(exp, buildGraph(exp), rep, { check: true });
      const t = res.cohorts;
      const r = [...t.cohort].findIndex((c) => names[c] === 'arbitrageur arb');
      expect(res.summary.arbitrageVolumeUsd).toBeGreaterThan(0);
      expect(t.contributedUsd[r]).toBe(21e6); // its cash and its inventory at the initial price
      expect(t.valueUsd[r]! - t.contributedUsd[r]!).toBeCloseTo(res.summary.arbitrageurPnlUsd, 6);
    }
  });
});

/** The gap (USD) a checkBalanceSheet call reports, or NaN if it does not throw. */
function gapOf(f: () => void): number {
  try {
    f();
  } catch (e) {
    const m = /: (-?[\d.e+-]+) USD is in no row or in two/.exec((e as Error).message);
    if (m === null) throw e;
    return Number(m[1]);
  }
  return NaN;
}
