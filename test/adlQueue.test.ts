// Ranked ADL from a queue kept through the cascade round (src/engine/adlQueue.ts): the second failed
// position of a round must see the first one's counterparties as they are after it, not as they
// were ranked when the queue was built. Hand-computed; the reference engine (every-step checks,
// which ranks by scanning the market at every call) must agree.
import { describe, expect, it } from 'vitest';
import { liquidateAccount } from '../src/engine/phases/liquidate.ts';
import { EventKindCode } from '../src/engine/record.ts';
import { checkInvariants } from '../src/engine/invariants.ts';
import { InvariantError } from '../src/experiment/errors.ts';
import { accountOf, eventsOf, handWorld, setPrice } from './fixtures/handWorld.ts';
import type { MarginChecks } from '../src/engine/marginIndex.ts';

const book = (marginChecks: MarginChecks) =>
  handWorld(
    {
      fundUsd: 100,
      traders: [
        { id: 'F1', marginMode: 'isolated', positions: [{ asset: 'BTC', side: 'long' }], collateralUsd: 800, leverage: 10 },
        { id: 'F2', marginMode: 'isolated', positions: [{ asset: 'BTC', side: 'long' }], collateralUsd: 800, leverage: 10 },
        { id: 'A', marginMode: 'isolated', positions: [{ asset: 'BTC', side: 'short' }], collateralUsd: 1000, leverage: 5 },
        { id: 'B', marginMode: 'isolated', positions: [{ asset: 'BTC', side: 'short' }], collateralUsd: 500, leverage: 10 },
        { id: 'C', marginMode: 'isolated', positions: [{ asset: 'BTC', side: 'short' }], collateralUsd: 2400, leverage: 2.5 },
      ],
    },
    { marginChecks },
  );

describe('ranked ADL within one cascade round', () => {
  for (const marginChecks of ['event', 'every-step'] as const) {
    it(`two failed longs in one round: the second ranks the first one's counterparties as they are after it (${marginChecks})`, () => {
      // Entry 100. F1, F2: long 80 (C 800, 10×). A: short 50 (C 1000, 5×). B: short 50 (C 500, 10×).
      // C: short 60 (C 2400, 2.5×). At 88, F1 and F2 each have E = 800 − 80·12 = −160, beyond the
      // fund of 100: ADL at the bankruptcy price 88 × (1 + 160/7040) = 90.
      // Scores (PnL% × notional/equity), all PnL% = 12/100 = 0.12:
      //   A: equity 1000 + 600 = 1600, notional 4400 → 0.12 × 2.75 = 0.33
      //   B: equity 500 + 600 = 1100, notional 4400 → 0.12 × 4 = 0.48
      //   C: equity 2400 + 720 = 3120, notional 5280 → 0.12 × 1.6923 = 0.2031
      // F1 (80): B buys back 50, then A 30 (A: cash 1000 + 30·10 = 1300, short 20 left).
      // F2 (80): A is now equity 1300 + 20·12 = 1540, notional 1760 → 0.12 × 1.1429 = 0.1371,
      //   below C's 0.2031: C buys back its 60 (cash 2400 + 60·10 = 3000), then A its last 20
      //   (cash 1300 + 20·10 = 1500). Ranked on A's score from before F1 (0.33), A would go first;
      //   with A left out of the queue once F1 had taken from it, 20 would stay unplaced.
      const w = book(marginChecks);
      // --check on: the queue's pops are compared with ranking afresh at every call (no false alarm).
      w.marginIndex.verify = true;
      const [f1, f2, a, b, c] = [0, 1, 2, 3, 4].map((i) => accountOf(w, i)) as [number, number, number, number, number];
      setPrice(w, 'BTC', 88);
      expect(liquidateAccount(w, f1)).toBe(true);
      expect(liquidateAccount(w, f2)).toBe(true);
      const adl = eventsOf(w, EventKindCode.adl);
      expect(adl.map((e) => [e.account, e.quantity])).toEqual([
        [b, 50],
        [a, 30],
        [c, 60],
        [a, 20],
      ]);
      for (const e of adl) expect(e.price).toBeCloseTo(90, 9);
      expect(w.ledger.balance[a]).toBeCloseTo(1500, 9);
      expect(w.ledger.balance[c]).toBeCloseTo(3000, 9);
      expect(w.posQty[w.posStart[a]!]).toBeCloseTo(0, 12);
      expect(w.posQty[w.posStart[c]!]).toBeCloseTo(0, 12);
      // Both shortfalls absorbed by ADL: 2 × 160.
      expect(w.acc.adlAbsorbedUsd[0]).toBeCloseTo(320, 9);
      // The event engine answered both calls from one queue, built for the first and kept for the second.
      if (marginChecks === 'event') expect([w.adlQueues.served, w.adlQueues.reused]).toEqual([2, 1]);
      else expect(w.adlQueues.served).toBe(0);
      checkInvariants(w);
    });
  }

  it('--check stops a round in which an account changed without the ledger hearing of it', () => {
    // The queues (and stored marks) rely on every change to an account going through the ledger.
    // Here C's cash is raised behind its back between the two failures: ranking afresh would put A
    // (0.1371) before C (equity 3120 + 10,000 → 0.12 × 5280/13,120 = 0.0483), while the queue still
    // holds C at 0.2031. Under --check the fresh ranking re-marks C, and the stored-marks check stops
    // the run there, naming the account and both values, rather than let ADL take the wrong winner.
    const w = book('event');
    w.marginIndex.verify = true;
    const [f1, f2, , , c] = [0, 1, 2, 3, 4].map((i) => accountOf(w, i)) as [number, number, number, number, number];
    setPrice(w, 'BTC', 88);
    expect(liquidateAccount(w, f1)).toBe(true);
    w.ledger.balance[c] = w.ledger.balance[c]! + 10_000;
    let caught: unknown = null;
    try {
      liquidateAccount(w, f2);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(InvariantError);
    // C's stored marks (equity 2400 + 60·12 = 3120, maintenance 5% × 5280 = 264) against 3120 + 10,000.
    expect((caught as Error).message).toBe(
      `invariant broken at step 0 (markAccount): account ${c}: stored marks (equity 3120, maintenance 264) reused, but marking again gives 13120, 264`,
    );
  });
});
