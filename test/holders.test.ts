// Who each ledger holder is, and the flow rule (src/engine/holders.ts): under --check every USD
// transfer must join two holders that the model lets trade — an account and the settlement pool,
// reserve, fee pools and accounts of its own exchange, the fund that backs it, its trader's wallet; a
// lending market's recovery account and its safety module (or a fund with deposits in it); the outside
// market and every spot buyer and seller. The engine's transfer sites, as of this rule:
//   account ↔ pool: engine/accounts.ts settleFill (realized PnL), settleLosses.ts socializeLoss
//     and socializeThroughFunding (socialized loss)
//   account ↔ fund, account → reserve: settleLosses.ts payIntoFund, settleShortfall
//   account ↔ account: liquidate.ts backstopTakeover (vault)
//   account ↔ fee pool: settleLosses.ts payFromFeePools;  wallet → account: respondToMarginCalls.ts
//   outside → account, borrower wallet, liquidator cash: spot.ts sellUnits
//   borrower wallet, liquidator cash → outside: lending.ts repay, pumps;  outside → recovery: lending.ts
//   fund → recovery: lending.ts (safety module, exposure losses);  outside ↔ arbitrageur: arbitrage.ts
//   outside ↔ a stable's holders, desk, collateral holders: stablecoins.ts
// And every unit transfer must be a trade with the outside market (never a treasury's), or a lending
// liquidation's seizure: a borrower's collateral to the treasury of its own reserve and to the inventory,
// in that reserve, of a liquidator of its own market (lending.ts seize, write-offs).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseExperiment } from '../src/experiment/load.ts';
import type { ExperimentInput } from '../src/experiment/schema.ts';
import { buildGraph } from '../src/graph/build.ts';
import { runWorld, worldFor } from '../src/engine/simulate.ts';
import { checkInvariants } from '../src/engine/invariants.ts';
import { flowRule, HolderKind, holderName, holderTable, mayMoveUnits, mayTransfer, UnitHolderKind, unitFlowRule, unitHolderName, unitHolderTable } from '../src/engine/holders.ts';
import { InvariantError } from '../src/experiment/errors.ts';
import { exchangeOf, walletOf, type World } from '../src/model/world.ts';
import { fundOf } from '../src/engine/phases/settleLosses.ts';
import { positionIn } from '../src/engine/accounts.ts';
import { everyChannelExperiment } from './fixtures/everyChannel.ts';
import { stableExperiment } from './fixtures/stableExperiment.ts';
import { accountOf, handExperiment } from './fixtures/handWorld.ts';

function worldOf(raw: ExperimentInput, replicate = 0): World {
  const exp = parseExperiment(raw, 'holders test');
  return worldFor(exp, buildGraph(exp), replicate);
}

const file = (name: string): ExperimentInput => JSON.parse(readFileSync(new URL(`../experiments/${name}.json`, import.meta.url), 'utf8')) as ExperimentInput;

/** The error `fn` throws (fails the test when it throws none). */
function thrown(fn: () => void): InvariantError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(InvariantError);
    return e as InvariantError;
  }
  throw new Error('expected an InvariantError, none was thrown');
}

/** How many holders of each of `n` kinds; adds the kinds present to `seen`. */
function countKinds(kind: Uint8Array, n: number, seen: Set<number>): number[] {
  const count = new Array<number>(n).fill(0);
  kind.forEach((k) => {
    count[k]!++;
    seen.add(k);
  });
  return count;
}

describe('who each ledger holder is', () => {
  it('classifies every USD holder from the layout arrays, in the numbers the holder ranges lay out; together the fixtures hold every kind', () => {
    const kindsSeen = new Set<number>();
    for (const raw of [everyChannelExperiment(), stableExperiment(), file('arbitrage-capital')]) {
      const w = worldOf(raw);
      const t = holderTable(w); // throws if a holder has no kind
      const count = countKinds(t.kind, 14, kindsSeen);
      const L = w.lending;
      const K = HolderKind;
      expect(count[K.account]).toBe(w.nAccounts);
      expect(count[K.wallet]).toBe(w.fundHolderStart - w.walletHolderStart);
      expect(count[K.fund]).toBe(w.nFunds);
      expect(count[K.pool]).toBe(w.nExchanges);
      expect(count[K.reserve]).toBe(w.nExchanges);
      expect(count[K.feePool]).toBe(w.nMarkets);
      expect(count[K.liquidatorCash]).toBe(L.liquidatorMarket.length);
      expect(count[K.borrowerWallet]).toBe(L.nBorrowers);
      expect(count[K.recovery]).toBe(L.nMarkets);
      expect(count[K.outside]).toBe(1);
      expect(count[K.arbitrageur]).toBe(w.arbitrage.n);
      expect(count[K.stableHolders]).toBe(w.stables.n);
      expect(count[K.stableDesk]).toBe(w.stables.n);
      expect(count[K.stableCollateralHolders]).toBe(w.stables.n);
      expect(count.reduce((a, b) => a + b, 0)).toBe(w.ledger.balance.length);
    }
    expect(kindsSeen.size).toBe(14);
  });

  it('names USD and unit holders by their roles', () => {
    const w = worldOf(everyChannelExperiment());
    const L = w.lending;
    // everyChannel: one exchange "perpdex" (markets 0 BTC, 1 …), funds "fund" and "safety", lending market "lend".
    expect(holderName(w, 0)).toBe('ledger holder 0, account 0 (a directional trader of perpdex)');
    expect(holderName(w, w.walletHolderStart)).toBe(`ledger holder ${w.walletHolderStart}, wallet 0`);
    const safety = w.fundIds.indexOf('safety');
    expect(safety).toBeGreaterThanOrEqual(0);
    expect(holderName(w, w.fundHolderStart + safety)).toBe(`ledger holder ${w.fundHolderStart + safety}, the insurance fund safety`);
    expect(holderName(w, w.poolHolderStart)).toBe(`ledger holder ${w.poolHolderStart}, the settlement pool of perpdex`);
    expect(holderName(w, w.reserveHolderStart)).toBe(`ledger holder ${w.reserveHolderStart}, the reserve of perpdex`);
    expect(holderName(w, w.feePoolHolderStart)).toBe(`ledger holder ${w.feePoolHolderStart}, the fee pool of market 0 (perpdex BTC)`);
    expect(holderName(w, L.liquidatorCashHolder[1]!)).toBe(`ledger holder ${L.liquidatorCashHolder[1]}, the cash of liquidator 1 of lend`);
    expect(holderName(w, L.borrowerWallet[0]!)).toBe(`ledger holder ${L.borrowerWallet[0]}, the wallet of borrower 0 of lend`);
    expect(holderName(w, L.marketRecoveryHolder[0]!)).toBe(`ledger holder ${L.marketRecoveryHolder[0]}, the recovery account of lend`);
    expect(holderName(w, L.externalCashHolder)).toBe(`ledger holder ${L.externalCashHolder}, the outside market's cash`);
    expect(holderName(w, w.ledger.balance.length)).toBe(`ledger holder ${w.ledger.balance.length} (there are ${w.ledger.balance.length})`);
    const eth = w.assetSymbols.indexOf('ETH');
    const r = Array.from(L.reserveAsset).indexOf(eth);
    expect(unitHolderName(w, L.liquidityHolder[r]!)).toBe(`unit holder ${L.liquidityHolder[r]}, the liquidity of lend's ETH reserve`);
    expect(unitHolderName(w, L.treasuryHolder[r]!)).toBe(`unit holder ${L.treasuryHolder[r]}, the treasury of lend's ETH reserve`);
    expect(unitHolderName(w, L.externalUnitHolder[eth]!)).toBe(`unit holder ${L.externalUnitHolder[eth]}, the outside market's ETH`);
    expect(unitHolderName(w, 0)).toBe(`unit holder 0, the collateral of borrower 0 of lend`);
    expect(unitHolderName(w, L.liquidatorInventoryStart[1]! + r - L.marketFirstReserve[0]!)).toBe(
      `unit holder ${L.liquidatorInventoryStart[1]! + r}, the inventory of liquidator 1 of lend in lend's ETH reserve`,
    );
    const slot = w.collStart[0]!;
    expect(w.collStart[1]).toBeGreaterThan(slot); // account 0 posts USDe (everyChannel's collateral cohort)
    expect(unitHolderName(w, w.collHolder[slot]!)).toBe(`unit holder ${w.collHolder[slot]}, the USDe collateral of account 0`);

    const s = worldOf(stableExperiment());
    const S = s.stables;
    expect(holderName(s, S.holderCash[0]!)).toBe(`ledger holder ${S.holderCash[0]}, the cash of UST's holders`);
    expect(holderName(s, S.deskCash[0]!)).toBe(`ledger holder ${S.deskCash[0]}, the cash of UST's swap desk`);
    expect(holderName(s, S.collateralHolderCash[0]!)).toBe(`ledger holder ${S.collateralHolderCash[0]}, the cash of the holders of UST's collateral`);
    expect(unitHolderName(s, S.holderUnits[0]!)).toBe(`unit holder ${S.holderUnits[0]}, the UST held by its holders`);
    expect(unitHolderName(s, S.deskCollateralUnits[0]!)).toBe(`unit holder ${S.deskCollateralUnits[0]}, the LUNA held by UST's swap desk`);
    expect(unitHolderName(s, S.collateralHolderUnits[0]!)).toBe(`unit holder ${S.collateralHolderUnits[0]}, the LUNA held by the holders of UST's collateral`);
  });
});

describe('the flow rule', () => {
  // venue-outage: two exchanges, venue-a and venue-b, each with its own fund.
  const twoVenues = () => worldOf(file('venue-outage'));
  const firstAccountOf = (w: World, x: number, withWallet = false, except = -1): number => {
    for (let a = 0; a < w.nAccounts; a++) if (a !== except && exchangeOf(w, a) === x && (!withWallet || walletOf(w, a) >= 0)) return a;
    throw new Error(`no account on exchange ${x}`);
  };

  it("lets value move along a venue's own channels, either way", () => {
    const w = twoVenues();
    const t = holderTable(w);
    const a = firstAccountOf(w, 0, true);
    const b = firstAccountOf(w, 1);
    const own = [
      w.poolHolderStart + 0,
      w.fundHolderStart + fundOf(w, a),
      walletOf(w, a),
      firstAccountOf(w, 0, false, a), // another account of venue-a
    ];
    for (const h of own) {
      expect(mayTransfer(w, t, a, h), holderName(w, h, t)).toBe(true);
      expect(mayTransfer(w, t, h, a), holderName(w, h, t)).toBe(true);
    }
    expect(mayTransfer(w, t, b, w.poolHolderStart + 1)).toBe(true);
    w.ledger.flowRule = flowRule(w);
    const before = w.ledger.balance[a]!;
    w.ledger.transfer(w.poolHolderStart + 0, a, 10); // realized PnL, as settleFill pays it
    expect(w.ledger.balance[a]).toBe(before + 10);
    w.ledger.transfer(a, w.fundHolderStart + fundOf(w, a), 4); // a liquidation penalty
    expect(w.ledger.balance[a]).toBe(before + 6);
  });

  it('an account pays its reserve only over a capped fund, takes from fee pools only of its own markets that have one, and trades with the outside market only when it posts non-cash collateral', () => {
    const plain = twoVenues();
    const pt = holderTable(plain);
    const a = firstAccountOf(plain, 0);
    // venue-outage: funds without caps, markets without fee pools, cash collateral only.
    expect(mayTransfer(plain, pt, a, plain.reserveHolderStart + 0)).toBe(false);
    expect(mayTransfer(plain, pt, a, plain.feePoolHolderStart + plain.posMarket[plain.posStart[a]!]!)).toBe(false);
    expect(mayTransfer(plain, pt, a, plain.lending.externalCashHolder)).toBe(false);

    const raw = file('venue-outage');
    raw.scenario.insuranceFunds[0]!.capUsd = 400_000;
    raw.scenario.exchanges[0]!.markets[0]!.feePoolUsd = 1_000;
    const w = worldOf(raw);
    const t = holderTable(w);
    const holder = firstAccountOf(w, 0);
    expect(positionIn(w, holder, 0)).toBeGreaterThanOrEqual(0); // venue-a lists one market, BTC (market 0)
    expect(w.fundCapUsd[fundOf(w, holder)]).toBe(400_000);
    expect(mayTransfer(w, t, holder, w.reserveHolderStart + 0)).toBe(true);
    expect(w.marketHasFeePool[0]).toBe(1);
    expect(mayTransfer(w, t, w.feePoolHolderStart + 0, holder)).toBe(true);
    expect(mayTransfer(w, t, w.feePoolHolderStart + 1, holder)).toBe(false); // no fee pool on market 1

    // A fee pool of the account's own exchange, in a market it holds no position in: F trades only BTC,
    // G only ETH, both markets with a pool.
    const hand = handExperiment({
      assets: [
        { symbol: 'BTC', price: 100, depthUsd: 1e12, impactCoefficient: 0.1 },
        { symbol: 'ETH', price: 100, depthUsd: 1e12, impactCoefficient: 0.1 },
      ],
      traders: [
        { id: 'F', marginMode: 'isolated', positions: [{ asset: 'BTC', side: 'long' }], collateralUsd: 800, leverage: 10 },
        { id: 'G', marginMode: 'isolated', positions: [{ asset: 'ETH', side: 'long' }], collateralUsd: 2000, leverage: 5 },
      ],
    });
    for (const m of hand.scenario.exchanges[0]!.markets) m.feePoolUsd = 500;
    const h = worldOf(hand);
    const ht = holderTable(h);
    const [f, g] = [accountOf(h, 0), accountOf(h, 1)];
    expect([h.marketHasFeePool[0], h.marketHasFeePool[1]]).toEqual([1, 1]);
    expect(mayTransfer(h, ht, h.feePoolHolderStart + 0, f)).toBe(true);
    expect(mayTransfer(h, ht, h.feePoolHolderStart + 1, f)).toBe(false); // not F's market
    expect(mayTransfer(h, ht, h.feePoolHolderStart + 1, g)).toBe(true);
    expect(mayTransfer(h, ht, h.feePoolHolderStart + 0, g)).toBe(false);

    const c = worldOf(everyChannelExperiment());
    const ct = holderTable(c);
    expect(c.collStart[1]).toBeGreaterThan(c.collStart[0]!); // account 0 posts USDe
    expect(mayTransfer(c, ct, c.lending.externalCashHolder, 0)).toBe(true);
  });

  it('stops value moving between holders that do not trade, naming both; double entry and zero-sum alone do not see it', () => {
    const w = twoVenues();
    const t = holderTable(w);
    const a = firstAccountOf(w, 0, true);
    const b = firstAccountOf(w, 1, true);
    const fundA = w.fundHolderStart + fundOf(w, a);
    const fundB = w.fundHolderStart + fundOf(w, b);
    expect(fundA).not.toBe(fundB);
    // A payout from venue-a's fund to a wallet: every balance sum and every settlement pool is unchanged,
    // so the run-time checks without the rule pass it.
    w.ledger.transfer(fundA, walletOf(w, b), 1_000);
    expect(() => checkInvariants(w)).not.toThrow();
    w.ledger.transfer(fundA, walletOf(w, b), -1_000);
    const strays: [number, number][] = [
      [fundA, walletOf(w, b)], // a fund paying a trader's wallet
      [fundB, a], // another venue's fund paying a shortfall
      [w.poolHolderStart + 1, a], // another venue's settlement pool paying PnL
      [a, b], // accounts of two venues (an ADL haircut across venues)
      [walletOf(w, b), a], // a top-up from another trader's wallet
      [w.reserveHolderStart + 1, a],
      [fundA, w.poolHolderStart + 0], // a fund paying the pool directly
      [w.lending.externalCashHolder, fundA], // the outside market paying a fund
      [w.lending.externalCashHolder, w.lending.externalCashHolder],
    ];
    w.ledger.flowRule = flowRule(w);
    for (const [from, to] of strays) {
      expect(mayTransfer(w, t, from, to), `${holderName(w, from, t)} → ${holderName(w, to, t)}`).toBe(false);
      const before = w.ledger.balance.slice();
      const e = thrown(() => w.ledger.transfer(from, to, 1));
      expect(e.where).toBe('ledger.flow');
      expect(e.detail).toBe(`a transfer from ${holderName(w, from, t)}, to ${holderName(w, to, t)}: value does not move between these two`);
      expect(w.ledger.balance).toEqual(before); // stopped before it moved anything
    }
    expect(thrown(() => w.ledger.transfer(fundB, a, 1)).detail).toBe(
      `a transfer from ledger holder ${fundB}, the insurance fund venue-b-fund, to ${holderName(w, a, t)}: value does not move between these two`,
    );
  });

  it("a lending market's recovery account takes from its own safety module and from funds with deposits in it, from no other fund", () => {
    const w = worldOf(everyChannelExperiment());
    const t = holderTable(w);
    const L = w.lending;
    const recovery = L.marketRecoveryHolder[0]!;
    const safety = w.fundHolderStart + L.marketFund[0]!;
    const perpFund = w.fundHolderStart + w.exchangeFund[0]!;
    expect(safety).not.toBe(perpFund);
    expect(mayTransfer(w, t, safety, recovery)).toBe(true);
    const deposits = Array.from(L.exposureFund).some((f, e) => f === w.exchangeFund[0] && L.reserveMarket[L.exposureReserve[e]!] === 0);
    expect(mayTransfer(w, t, perpFund, recovery)).toBe(deposits);
    expect(mayTransfer(w, t, recovery, 0)).toBe(false);
    // From the outside market only the proceeds of its governance token minted and sold to cover a deficit.
    expect(mayTransfer(w, t, L.externalCashHolder, recovery)).toBe(L.governanceAsset[0]! >= 0);
  });

  it('a stray inside a run: without --check the run ends clean; with it, the run stops at the transfer', () => {
    // Sabotage: liquidation penalties and shortfall payouts of venue-a go to and from venue-b's fund
    // (a wrong fund index). Balances still sum, the settlement pools still match the positions.
    const sabotage = (w: World): void => {
      const fundA = w.fundHolderStart + w.exchangeFund[0]!;
      const fundB = w.fundHolderStart + w.exchangeFund[1]!;
      const move = w.ledger.transferAmount.bind(w.ledger);
      w.ledger.transferAmount = (from, to) => move(from === fundA ? fundB : from, to === fundA ? fundB : to);
    };
    let replicate = -1;
    let stoppedAt = -1;
    const exp = parseExperiment(file('venue-outage'), 'holders test');
    const graph = buildGraph(exp);
    for (let r = 0; r < 10 && stoppedAt < 0; r++) {
      const clean = worldFor(exp, graph, r);
      sabotage(clean);
      runWorld(clean, false); // the end-of-run checks pass the sabotaged run
      expect(clean.ledger.flowRule).toBeNull();
      const checked = worldFor(exp, graph, r);
      sabotage(checked);
      try {
        runWorld(checked, true);
      } catch (e) {
        expect(e).toBeInstanceOf(InvariantError);
        expect((e as InvariantError).where).toBe('ledger.flow');
        expect((e as InvariantError).detail).toMatch(/the insurance fund venue-b-fund/);
        stoppedAt = (e as InvariantError).step;
        replicate = r;
      }
    }
    expect(replicate).toBeGreaterThanOrEqual(0); // some replicate of ten moves money through venue-a's fund
    expect(stoppedAt).toBeGreaterThanOrEqual(0);
  });
});

describe('the unit flow rule', () => {
  it('classifies every unit holder, in the numbers the lending markets, perp collateral, arbitrageurs and stables lay out; together the fixtures hold every kind', () => {
    const kindsSeen = new Set<number>();
    for (const raw of [everyChannelExperiment(), stableExperiment(), file('arbitrage-capital')]) {
      const w = worldOf(raw);
      const t = unitHolderTable(w); // throws if a holder has no kind
      const count = countKinds(t.kind, 11, kindsSeen);
      const L = w.lending;
      const K = UnitHolderKind;
      let inventories = 0;
      for (let k = 0; k < L.liquidatorMarket.length; k++) inventories += L.marketFirstReserve[L.liquidatorMarket[k]! + 1]! - L.marketFirstReserve[L.liquidatorMarket[k]!]!;
      expect(count[K.borrowerCollateral]).toBe(L.nBorrowers);
      expect(count[K.liquidity]).toBe(L.nReserves);
      expect(count[K.treasury]).toBe(L.nReserves);
      expect(count[K.inventory]).toBe(inventories);
      expect(count[K.outside]).toBe(w.nAssets);
      expect(count[K.perpCollateral]).toBe(w.collHolder.length);
      expect(count[K.arbitrageur]).toBe(w.arbitrage.n);
      for (const k of [K.stableHolders, K.stableDesk, K.stableDeskCollateral, K.stableCollateralHolders]) expect(count[k]).toBe(w.stables.n);
      expect(count.reduce((a, b) => a + b, 0)).toBe(w.units.qty.length);
    }
    expect(kindsSeen.size).toBe(11);
  });

  it("lets a seizure go to the borrower's own reserve's treasury and its own market's liquidators, and every trade go through the outside market", () => {
    const w = worldOf(everyChannelExperiment());
    const t = unitHolderTable(w);
    const L = w.lending;
    const b = 0;
    const r = L.borrowerCollReserve[b]!;
    const other = r === L.marketFirstReserve[0] ? r + 1 : r - 1; // another reserve of the same market
    const inventory = (k: number, reserve: number) => L.liquidatorInventoryStart[k]! + reserve - L.marketFirstReserve[L.liquidatorMarket[k]!]!;
    const outside = L.externalUnitHolder[L.reserveAsset[r]!]!;
    expect(mayMoveUnits(w, t, b, L.treasuryHolder[r]!)).toBe(true);
    expect(mayMoveUnits(w, t, b, L.treasuryHolder[other]!)).toBe(false);
    expect(mayMoveUnits(w, t, b, inventory(0, r))).toBe(true);
    expect(mayMoveUnits(w, t, inventory(1, r), b)).toBe(true);
    expect(mayMoveUnits(w, t, b, inventory(0, other))).toBe(false);
    expect(mayMoveUnits(w, t, b, outside)).toBe(true);
    expect(mayMoveUnits(w, t, outside, L.liquidityHolder[r]!)).toBe(true);
    expect(mayMoveUnits(w, t, inventory(0, r), outside)).toBe(true);
    expect(mayMoveUnits(w, t, w.collHolder[w.collStart[0]!]!, L.externalUnitHolder[w.units.holderAsset[w.collHolder[w.collStart[0]!]!]!]!)).toBe(true);
    // No trade but through the outside market; a treasury never pays out.
    expect(mayMoveUnits(w, t, L.treasuryHolder[r]!, outside)).toBe(false);
    expect(mayMoveUnits(w, t, b, L.liquidityHolder[r]!)).toBe(false);
    expect(mayMoveUnits(w, t, inventory(0, r), L.treasuryHolder[r]!)).toBe(false);
    expect(mayMoveUnits(w, t, outside, outside)).toBe(false);
  });

  it('stops units moving between two borrowers, naming both; the unit and reserve checks alone do not see it', () => {
    const w = worldOf(everyChannelExperiment());
    const L = w.lending;
    // Two borrowers holding the same collateral asset.
    let b1 = -1;
    let b2 = -1;
    for (let i = 0; i < L.nBorrowers && b2 < 0; i++) {
      for (let j = i + 1; j < L.nBorrowers; j++) {
        if (w.units.holderAsset[i] === w.units.holderAsset[j]) {
          b1 = i;
          b2 = j;
          break;
        }
      }
    }
    expect(b2).toBeGreaterThan(b1);
    expect(b1).toBeGreaterThanOrEqual(0);
    w.units.transfer(b1, b2, 1);
    expect(() => checkInvariants(w)).not.toThrow();
    w.units.transfer(b2, b1, 1);
    w.units.flowRule = unitFlowRule(w);
    const before = w.units.qty.slice();
    const e = thrown(() => w.units.transfer(b1, b2, 1));
    expect(e.where).toBe('units.flow');
    expect(e.detail).toBe(`a unit transfer from unit holder ${b1}, the collateral of borrower ${b1} of lend, to unit holder ${b2}, the collateral of borrower ${b2} of lend: units do not move between these two`);
    expect(w.units.qty).toEqual(before);
  });

  it('--check installs both rules for the run; a run without it installs neither', () => {
    const exp = parseExperiment(everyChannelExperiment(), 'holders test');
    const graph = buildGraph(exp);
    const checked = worldFor(exp, graph, 0);
    runWorld(checked, true);
    expect(checked.ledger.flowRule).not.toBeNull();
    expect(checked.units.flowRule).not.toBeNull();
    expect(() => checked.units.transfer(0, 0, 1)).toThrow(/units do not move between these two/);
    const plain = worldFor(exp, graph, 0);
    runWorld(plain, false);
    expect(plain.ledger.flowRule).toBeNull();
    expect(plain.units.flowRule).toBeNull();
    // Errors name holders by role either way.
    expect(() => plain.units.transfer(0, outsideOfBorrower0(plain), Number.NaN)).toThrow(/non-finite unit transfer NaN from unit holder 0, the collateral of borrower 0 of lend to unit holder/);
  });
});

/** The outside market's holder of borrower 0's collateral asset. */
function outsideOfBorrower0(w: World): number {
  return w.lending.externalUnitHolder[w.units.holderAsset[0]!]!;
}
