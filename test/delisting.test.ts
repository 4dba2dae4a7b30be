// Delisting with settlement by decision (scenario.exchanges[].markets[].delisting; src/engine/phases/
// delistMarkets.ts), runs.arrow's backstop_vault_pnl_usd and cohorts.arrow's P&L, on hand-built books.
import { describe, expect, it } from 'vitest';
import { accountOf, eventsOf, handExperiment, handWorld, setPrice, type HandOptions } from './fixtures/handWorld.ts';
import { delistMarkets } from '../src/engine/phases/delistMarkets.ts';
import { liquidate } from '../src/engine/phases/liquidate.ts';
import { checkInvariants } from '../src/engine/invariants.ts';
import { summarize } from '../src/engine/simulate.ts';
import { cohortTable } from '../src/engine/fairness.ts';
import { attribute, experimentOrigins } from '../src/engine/attribution.ts';
import { CHANNELS, EventKindCode } from '../src/engine/record.ts';
import { parseExperiment } from '../src/experiment/load.ts';
import { Status, type World } from '../src/model/world.ts';
import { issueLines } from './fixtures/issues.ts';

// Cohorts in order: 0 the long, 1 the short, then the makers (2) and the liquidators (3); the vault after them.
const LONG = 0;
const SHORT = 1;
const MAKERS = 2;

/** A long of 100 BTC (1,000 of collateral at 10×) and a short of 50 (500 at 10×) at 100; the maker holds the other 50 short. */
function book(extra: Partial<HandOptions> = {}): HandOptions {
  return {
    fundUsd: 10_000,
    liquidatorCollateralUsd: null,
    traders: [
      { id: 'long', positions: [{ asset: 'BTC', side: 'long' }], marginMode: 'cross', collateralUsd: 1_000, leverage: 10 },
      { id: 'short', positions: [{ asset: 'BTC', side: 'short' }], marginMode: 'cross', collateralUsd: 500, leverage: 10 },
    ],
    ...extra,
  };
}

function cash(w: World, a: number): number {
  return w.ledger.balance[a]!;
}

function delistNow(w: World): void {
  w.step = 0;
  delistMarkets(w);
  checkInvariants(w);
}

describe('a delisting settles every position at the decided price', () => {
  it('at the mark: the winners are paid, the under-water short goes down the waterfall, caused by its own settlement', () => {
    const w = handWorld(book({ delistings: { BTC: {} } }));
    const long = accountOf(w, LONG);
    const short = accountOf(w, SHORT);
    const maker = accountOf(w, MAKERS);
    const makerCash = cash(w, maker);
    setPrice(w, 'BTC', 130);
    delistNow(w);
    // Settled at the mark, 130: the long realizes 100 × 30 = +3,000 (cash 1,000 → 4,000); the short
    // 50 × −30 = −1,500 (cash 500 → −1,000); the maker's 50 short −1,500. The pool pays 3,000 and takes
    // 1,500 + 1,500: it ends where it began.
    expect(cash(w, long)).toBeCloseTo(4_000, 9);
    expect(cash(w, maker)).toBeCloseTo(makerCash - 1_500, 6);
    for (let i = w.marketPosStart[0]!; i < w.marketPosStart[1]!; i++) expect(w.posQty[w.marketPositions[i]!]).toBe(0);
    // The short has nothing left and −1,000 of cash: bad debt, paid by the 10,000 fund (9,000 left).
    expect(w.accountStatus[short]).toBe(Status.bankrupt);
    expect(cash(w, short)).toBeCloseTo(0, 9);
    expect(w.ledger.balance[w.fundHolderStart]).toBeCloseTo(9_000, 9);
    const [root] = eventsOf(w, EventKindCode.delisting);
    // One delisting event: no account, the price, and the positions settled, both sides, (100 + 50 + 50) × 130 = 26,000.
    expect(root).toMatchObject({ account: -1, price: 130, cause: -1 });
    expect(root!.amountUsd).toBeCloseTo(26_000, 9);
    const settlements = eventsOf(w, EventKindCode.settlement);
    expect(settlements.map((e) => [e.account, e.quantity, e.price, e.cause])).toEqual([
      [long, -100, 130, root!.id],
      [short, 50, 130, root!.id],
      [maker, 50, 130, root!.id],
    ]);
    const [bad] = eventsOf(w, EventKindCode.bad_debt);
    expect(bad).toMatchObject({ account: short, cause: settlements[1]!.id });
    expect(bad!.amountUsd).toBeCloseTo(1_000, 9);
    // cohorts.arrow: the long put in 1,000 and holds 4,000 (+3,000); the short put in 500 and holds
    // nothing (−500); the maker lost 1,500 on its 50 short. Σ = +1,000: what the fund paid.
    const c = cohortTable(w);
    const pnl = (cohort: number) => {
      const r = [...c.cohort].indexOf(cohort);
      return c.valueUsd[r]! - c.contributedUsd[r]!;
    };
    expect(pnl(LONG)).toBeCloseTo(3_000, 6);
    expect(pnl(SHORT)).toBeCloseTo(-500, 6);
    expect(pnl(MAKERS)).toBeCloseTo(-1_500, 6);
    // attribution.arrow: the 1,000 at the exchange, rooted in the delisting, inside the protocol.
    const origins = experimentOrigins(parseExperiment(handExperiment(book({ delistings: { BTC: {} } })), 'hand'));
    const t = attribute(w);
    expect(t.rows).toBe(1);
    expect([origins[t.origin[0]!], CHANNELS[t.channel[0]!]]).toEqual(['dex BTC delisting', 'internal']);
    expect(t.lossUsd[0]).toBeCloseTo(1_000, 9);
  });

  it('at a decided price away from the mark: everyone closes there, whatever the market says', () => {
    const w = handWorld(book({ delistings: { BTC: { priceUsd: 100 } } }));
    const long = accountOf(w, LONG);
    const short = accountOf(w, SHORT);
    setPrice(w, 'BTC', 130);
    delistNow(w);
    // Settled at the entry price, 100: nobody realizes anything, so nobody is under water (the short,
    // at −1,000 of equity at the mark, keeps its 500).
    expect(cash(w, long)).toBeCloseTo(1_000, 9);
    expect(cash(w, short)).toBeCloseTo(500, 9);
    expect(w.accountStatus[short]).toBe(Status.active);
    expect(eventsOf(w, EventKindCode.bad_debt)).toEqual([]);
    expect(eventsOf(w, EventKindCode.settlement).map((e) => e.price)).toEqual([100, 100, 100]);
    // The market is gone: a later move of its price moves nobody's equity.
    setPrice(w, 'BTC', 60);
    expect(w.accountEquity[long]).toBeCloseTo(1_000, 9);
    checkInvariants(w);
  });

  it('settles only at its step: a later step (the hand world delists at step 0) leaves the market alone', () => {
    const w = handWorld(book({ delistings: { BTC: {} } }));
    setPrice(w, 'BTC', 130);
    w.step = 1;
    delistMarkets(w);
    expect(eventsOf(w, EventKindCode.delisting)).toEqual([]);
    expect(eventsOf(w, EventKindCode.settlement)).toEqual([]);
    expect(w.posQty[w.marketPositions[0]!]).not.toBe(0);
  });
});

describe('backstop_vault_pnl_usd: what the vault gained or lost', () => {
  // The short alone against the maker; a 10,000 vault takes over below 2/3 of maintenance (5%).
  const vaultBook = (delistAt?: number) =>
    handWorld({
      fundUsd: 10_000,
      liquidatorCollateralUsd: null,
      vault: { initialUsd: 10_000, maxLeverage: 5, takeoverBelowMaintenanceShare: 2 / 3 },
      ...(delistAt === undefined ? {} : { delistings: { BTC: { priceUsd: delistAt } } }),
      traders: [{ id: 'short', positions: [{ asset: 'BTC', side: 'short' }], marginMode: 'cross', collateralUsd: 500, leverage: 10 }],
    });

  function takenOver(w: World): number {
    // At 108.5 the short's equity is 500 − 50 × 8.5 = 75, under 2/3 × 5% × 50 × 108.5 = 180.83: the vault
    // takes the 50 short at the mark with the 75 left (5,425 of notional on 10,075, within 5×).
    setPrice(w, 'BTC', 108.5);
    w.step = 0;
    liquidate(w);
    const vault = w.exchangeVaultAccount[0]!;
    // The event's quantity is the account's side of the trade: it buys its 50 back from the vault.
    expect(eventsOf(w, EventKindCode.backstop).map((e) => e.quantity)).toEqual([50]);
    expect(w.posQty[w.posStart[vault]!]).toBe(-50);
    expect(cash(w, vault)).toBeCloseTo(10_075, 9);
    return vault;
  }

  it('holding the short as the price runs to 130 loses 1,000', () => {
    const w = vaultBook();
    takenOver(w);
    setPrice(w, 'BTC', 130);
    // 10,000 + 75 + 50 × (108.5 − 130) = 9,000: −1,000.
    expect(summarize(w).backstopVaultPnlUsd).toBeCloseTo(-1_000, 9);
  });

  it('settled by decision at 100, the same vault gains 500: the short trader’s whole collateral', () => {
    const w = vaultBook(100);
    const vault = takenOver(w);
    setPrice(w, 'BTC', 130);
    w.step = 0;
    delistMarkets(w);
    checkInvariants(w);
    // The vault's short closes at 100: 50 × (108.5 − 100) = +425, on top of the 75 it took over.
    expect(cash(w, vault)).toBeCloseTo(10_500, 9);
    expect(summarize(w).backstopVaultPnlUsd).toBeCloseTo(500, 9);
  });

  it('is 0 without a vault', () => {
    const w = handWorld(book());
    setPrice(w, 'BTC', 130);
    expect(summarize(w).backstopVaultPnlUsd).toBe(0);
  });
});

describe('a delisting is checked like any input', () => {
  it('names atStep when it comes after the last step (the hand world has one step)', () => {
    const input = handExperiment(book({ delistings: { BTC: {} } }));
    input.scenario.exchanges[0]!.markets[0]!.delisting = { atStep: 1 };
    expect(issueLines(() => parseExperiment(input, 'hand'))).toEqual([
      'scenario.exchanges.0.markets.0.delisting.atStep: the delisting would come after the last step: expected a step below steps (1)',
    ]);
    input.scenario.exchanges[0]!.markets[0]!.delisting = { atStep: 0, priceUsd: 0 };
    expect(issueLines(() => parseExperiment(input, 'hand'))[0]).toMatch(/^scenario\.exchanges\.0\.markets\.0\.delisting\.priceUsd: /);
  });
});
