// Venue profiles (src/venues/): each profile fills the fields an experiment leaves out, and each
// venue's distinctive rule is exercised on a small hand-built book with the outcome worked out in
// the comment beside it. Worlds come from test/fixtures/handWorld.ts (zero volatility, linear
// impact, prices set by the test) with the exchange's own rules removed and a profile named instead.
import { describe, expect, it } from 'vitest';
import { accountOf, eventsOf, handExperiment, setPrice, type HandOptions } from './fixtures/handWorld.ts';
import { checkExperiment, parseExperiment } from '../src/experiment/load.ts';
import { buildGraph } from '../src/graph/build.ts';
import { worldFor } from '../src/engine/simulate.ts';
import { liquidateAccount } from '../src/engine/phases/liquidate.ts';
import { initialMarginUsd } from '../src/engine/accounts.ts';
import { updateOracles } from '../src/engine/phases/updateOracles.ts';
import { EventKindCode } from '../src/engine/record.ts';
import { checkInvariants } from '../src/engine/invariants.ts';
import { Status, type World } from '../src/model/world.ts';
import { applyProfiles } from '../src/venues/index.ts';
import { LendingMarket, type Experiment } from '../src/experiment/schema.ts';
import { healthFactor, maxLiquidatableDebtUsd } from '../src/lending/aave.ts';

type Raw = Record<string, any>;

/** The hand experiment of `o` with its exchange's rules replaced by `profile`, edited by `edit`. */
function venueRaw(o: HandOptions, profile: string, edit: (exchange: Raw, scenario: Raw) => void = () => {}): Raw {
  const raw = structuredClone(handExperiment(o)) as Raw;
  const ex = raw.scenario.exchanges[0];
  delete ex.liquidation;
  delete ex.adl;
  delete ex.socialization;
  ex.profile = profile;
  edit(ex, raw.scenario);
  return raw;
}

function venueWorld(o: HandOptions, profile: string, edit?: (exchange: Raw, scenario: Raw) => void): { w: World; exp: Experiment } {
  const exp = parseExperiment(venueRaw(o, profile, edit), 'venue');
  return { w: worldFor(exp, buildGraph(exp), 0), exp };
}

const cash = (w: World, holder: number) => w.ledger.balance[holder]!;
const qtyOf = (w: World, a: number) => w.posQty[w.posStart[a]!]!;
const one = (id: string, side: 'long' | 'short', collateralUsd: number, leverage: number, asset = 'BTC') => ({
  id,
  marginMode: 'isolated' as const,
  positions: [{ asset, side }],
  collateralUsd,
  leverage,
});
const deep = [{ symbol: 'BTC', price: 100, depthUsd: 1e12, impactCoefficient: 0.1 }];

describe('profiles fill what the experiment leaves out, and the experiment overrides them', () => {
  it('hyperliquid: tiers from maxLeverage (maintenance half of initial), slices, no fee; a field given wins', () => {
    const { exp } = venueWorld({ assets: deep, traders: [one('t', 'long', 1000, 5)] }, 'hyperliquid', (ex) => {
      ex.markets[0].maxLeverage = 40;
      delete ex.markets[0].marginTiers;
      ex.liquidation = { penaltyFraction: 0.001 };
    });
    const x = exp.scenario.exchanges[0]!;
    // 40×: initial 1/40 = 2.5%, maintenance 1.25%.
    expect(x.markets[0]!.marginTiers).toEqual([{ upToNotionalUsd: null, initialMarginFraction: 0.025, maintenanceMarginFraction: 0.0125 }]);
    expect(x.liquidation.mode).toBe('full');
    expect(x.liquidation.penaltyFraction).toBe(0.001);
    expect(x.liquidation.slices).toEqual({ aboveNotionalUsd: 100_000, fraction: 0.2, cooldownSeconds: 30 });
    expect(x.adl).toEqual({ ranking: 'pnl-leverage', price: 'previous-mark' });
    expect(x.funding).toEqual({ interestRatePer8h: 0.0001, premiumClampPer8h: 0.0005, capPerHour: 0.04, indexPrice: 'fundamental' });
  });

  it('hyperliquid: the backstop vault named by the experiment takes over below 2/3 of maintenance', () => {
    const { exp } = venueWorld({ assets: deep, traders: [one('t', 'long', 1000, 5)], vault: { initialUsd: 1e6, maxLeverage: 5, takeoverBelowMaintenanceShare: 0.5 } }, 'hyperliquid', (ex) => {
      ex.backstop = { vault: 'vault' };
    });
    expect(exp.scenario.exchanges[0]!.backstop).toEqual({ vault: 'vault', takeoverBelowMaintenanceShare: 2 / 3 });
  });

  it('Filling is idempotent: a filled experiment validates to itself', () => {
    const raw = venueRaw({ assets: deep, traders: [one('t', 'long', 1000, 5)] }, 'dydx-v4', (ex) => {
      ex.markets[0].liquidityTier = 'small-cap';
      delete ex.markets[0].marginTiers;
    });
    const first = parseExperiment(raw, 'venue');
    const again = parseExperiment(JSON.parse(JSON.stringify(first)), 'venue');
    expect(again).toEqual(first);
    // Small-Cap: initial 100 000 ppm, maintenance fraction 500 000 ppm → 10%, 5%.
    expect(first.scenario.exchanges[0]!.markets[0]!.marginTiers).toEqual([{ upToNotionalUsd: null, initialMarginFraction: 0.1, maintenanceMarginFraction: 0.05 }]);
  });

  it('Binance BTCUSDT 2021 brackets: the maintenance amounts are Binance\'s published `cum` values', () => {
    // amount_k = amount_{k−1} + floor_k × (rate_k − rate_{k−1}): 50,000 × 0.1% = 50; 50 + 250,000 × 0.5%
    // = 1,300; 1,300 + 1M × 1.5% = 16,300; … as Binance's leverageBracket `cum` field lists them.
    const { w } = venueWorld({ assets: deep, traders: [one('t', 'long', 1000, 5)] }, 'binance', (ex) => {
      delete ex.markets[0].marginTiers;
    });
    expect(Array.from(w.tierMmAmount).map((v) => Math.round(v * 1e6) / 1e6)).toEqual([
      0, 50, 1_300, 16_300, 266_300, 1_266_300, 2_516_300, 5_016_300, 25_016_300, 100_016_300,
    ]);
  });

  it('BitMEX risk limits in XBT at the scenario\'s BTC price: 200 XBT, steps of 100, +0.40% per step', () => {
    const { exp } = venueWorld({ assets: deep, traders: [one('t', 'long', 1000, 5)] }, 'bitmex', (ex) => {
      delete ex.markets[0].marginTiers;
    });
    const tiers = exp.scenario.exchanges[0]!.markets[0]!.marginTiers;
    // BTC at 100: 200 XBT = $20,000, 300 XBT = $30,000; maintenance 0.40%, 0.80%; initial 1.00%, 1.40%.
    expect(tiers).toHaveLength(10);
    expect(tiers[0]).toEqual({ upToNotionalUsd: 20_000, initialMarginFraction: 0.01, maintenanceMarginFraction: 0.004 });
    expect(tiers[1]!.upToNotionalUsd).toBe(30_000);
    expect(tiers[1]!.initialMarginFraction).toBeCloseTo(0.014, 15);
    expect(tiers[1]!.maintenanceMarginFraction).toBeCloseTo(0.008, 15);
    expect(tiers[9]!.upToNotionalUsd).toBeNull();
  });

  it('Bad profile input names the field, the value and what was expected', () => {
    const issuesOf = (raw: Raw) => {
      const r = checkExperiment(raw);
      return r.ok ? [] : r.issues.map((i) => [i.path, i.value, i.message.slice(0, 40)]);
    };
    // A hyperliquid market with neither tiers nor maxLeverage.
    expect(issuesOf(venueRaw({ assets: deep, traders: [one('t', 'long', 1000, 5)] }, 'hyperliquid', (ex) => delete ex.markets[0].marginTiers))).toEqual([
      ['scenario.exchanges.0.markets.0.maxLeverage', undefined, 'the hyperliquid profile derives the marg'],
    ]);
    // A dYdX isolated market without a fund of its own.
    expect(
      issuesOf(
        venueRaw({ assets: deep, traders: [one('t', 'long', 1000, 5)] }, 'dydx-v4', (ex) => {
          delete ex.markets[0].marginTiers;
          ex.markets[0].liquidityTier = 'isolated';
        }),
      ),
    ).toEqual([['scenario.exchanges.0.markets.0.insuranceFund', undefined, 'a dYdX v4 isolated market has an insuran']]);
    // maxLeverage without the profile that reads it.
    const raw = structuredClone(handExperiment({ assets: deep, traders: [one('t', 'long', 1000, 5)] })) as Raw;
    raw.scenario.exchanges[0].markets[0].maxLeverage = 20;
    expect(issuesOf(raw)).toEqual([['scenario.exchanges.0.markets.0.maxLeverage', 20, 'only the hyperliquid profile reads maxLe']]);
    // An unknown profile is the schema's to report, with the known names.
    const bad = venueRaw({ assets: deep, traders: [one('t', 'long', 1000, 5)] }, 'ftx');
    const r = checkExperiment(bad);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.issues.find((i) => i.path === 'scenario.exchanges.0.profile')?.message).toContain('hyperliquid');
  });
});

describe('Hyperliquid: slices of 20% above $100k, with a 30-second cooldown', () => {
  // 20× market: initial 5%, maintenance 2.5%. Long 2,000 BTC at 100 (collateral 20,000, 10×).
  // At P: equity 20,000 + 2,000 (P − 100), maintenance 0.025 × 2,000 P = 50 P.
  const book = () =>
    venueWorld({ assets: deep, traders: [one('t', 'long', 20_000, 10)] }, 'hyperliquid', (ex) => {
      ex.markets[0].maxLeverage = 20;
      delete ex.markets[0].marginTiers;
    }).w;

  it('A large account sends 20% to the book, which can restore it', () => {
    // At 92: equity 4,000 < maintenance 4,600; notional 184,000 > 100,000 → sell 400 of 2,000.
    // After: 1,600 × 92 = 147,200 notional, maintenance 3,680 < equity ≈ 4,000 (the book is deep).
    const w = book();
    const a = accountOf(w, 0);
    setPrice(w, 'BTC', 92);
    expect(w.accountEquity[a]).toBeCloseTo(4000, 6);
    expect(liquidateAccount(w, a)).toBe(true);
    expect(qtyOf(w, a)).toBeCloseTo(1600, 9);
    expect(eventsOf(w, EventKindCode.liquidation).map((e) => e.quantity)).toEqual([expect.closeTo(-400, 9)]);
    expect(w.accountEquity[a]! > w.accountMaintenance[a]!).toBe(true);
    expect(liquidateAccount(w, a)).toBe(false);
    expect(w.accountStatus[a]).toBe(Status.active);
    checkInvariants(w);
  });

  it('Within the cooldown the next liquidation takes the whole position; after it, a slice again', () => {
    // Same step, price 91: equity ≈ 4,000 − 1,600 = 2,400 < maintenance 0.025 × 1,600 × 91 = 3,640:
    // inside the cooldown → all 1,600 go. In a world where the step has moved on (60 s > 30 s),
    // the same drop sends a slice: 20% of 1,600 = 320.
    const w = book();
    const a = accountOf(w, 0);
    setPrice(w, 'BTC', 92);
    liquidateAccount(w, a);
    setPrice(w, 'BTC', 91);
    expect(liquidateAccount(w, a)).toBe(true);
    expect(qtyOf(w, a)).toBe(0);
    expect(w.accountStatus[a]).toBe(Status.liquidated);

    const later = book();
    const b = accountOf(later, 0);
    setPrice(later, 'BTC', 92);
    liquidateAccount(later, b);
    later.step = 1;
    setPrice(later, 'BTC', 91);
    expect(liquidateAccount(later, b)).toBe(true);
    expect(qtyOf(later, b)).toBeCloseTo(1280, 9);
    checkInvariants(later);
  });

  it('An account under $100k goes whole', () => {
    // Long 200 at 100 (collateral 2,000, 10×): at 92 equity 400 < maintenance 460; notional 18,400.
    const w = venueWorld({ assets: deep, traders: [one('t', 'long', 2_000, 10)] }, 'hyperliquid', (ex) => {
      ex.markets[0].maxLeverage = 20;
      delete ex.markets[0].marginTiers;
    }).w;
    const a = accountOf(w, 0);
    setPrice(w, 'BTC', 92);
    expect(liquidateAccount(w, a)).toBe(true);
    expect(qtyOf(w, a)).toBe(0);
  });
});

describe('Hyperliquid: ADL closes at the previous mark', () => {
  it('Winners close at the previous step\'s mark, not at the bankruptcy price', () => {
    // As the BitMEX-ranked ADL case of engine.test.ts (F long 80 with 800; A short 50 with 1,000;
    // B short 50 with 500; fund 100), but the previous step ended at 91. At 88 F's equity is −160;
    // the bankruptcy price would be 90. ADL ranks B then A (PnL% × leverage) and closes them at 91:
    // B buys back 50 (cash 500 + 50 × 9 = 950), A 30 (1,000 + 30 × 9 = 1,270). F sells 80 at 91:
    // 800 + 80 × (91 − 100) = 80 left. The bad debt at mark was 160, all absorbed by ADL; F went
    // bankrupt at mark (its status says so) though the close left it 80.
    const { w } = venueWorld(
      {
        fundUsd: 100,
        traders: [one('F', 'long', 800, 10), one('A', 'short', 1000, 5), one('B', 'short', 500, 10)],
      },
      'hyperliquid',
    );
    const [f, a, b] = [accountOf(w, 0), accountOf(w, 1), accountOf(w, 2)];
    setPrice(w, 'BTC', 91);
    w.step = 1;
    updateOracles(w); // the new step starts: 91 becomes the previous mark
    setPrice(w, 'BTC', 88);
    expect(w.accountEquity[f]).toBeCloseTo(-160, 9);
    expect(liquidateAccount(w, f)).toBe(true);
    const adl = eventsOf(w, EventKindCode.adl);
    expect(adl.map((e) => e.account)).toEqual([b, a]);
    expect(adl.map((e) => e.quantity)).toEqual([50, 30]);
    for (const e of adl) expect(e.price).toBe(91);
    expect(cash(w, b)).toBeCloseTo(950, 9);
    expect(cash(w, a)).toBeCloseTo(1270, 9);
    expect(cash(w, f)).toBeCloseTo(80, 9);
    expect(w.accountStatus[f]).toBe(Status.bankrupt);
    expect(w.acc.badDebtUsd[0]).toBeCloseTo(160, 9);
    expect(w.acc.adlAbsorbedUsd[0]).toBeCloseTo(160, 9);
    expect(cash(w, w.fundHolderStart)).toBe(100);
    checkInvariants(w);
  });
});

describe('dYdX v4: the fillable price and isolated markets\' own funds', () => {
  it('A liquidation fills only down to the fillable price, which worsens with account health', () => {
    // Large-Cap: 5% / 3%. Long 100 at 100 (collateral 1,000, 10×). Book: depth $1M, linear λ 0.2.
    // At 92.5: TNC = 1,000 − 750 = 250, TMMR = 0.03 × 9,250 = 277.5 → ABR = 1 − 250/277.5 = 0.099099;
    // band = ABR × SMMR × PMMR/|PNN| = 0.099099 × 0.1 × 0.03 = 2.97297e−4 below the oracle.
    // Linear impact: marginal price factor 1 − λx ≥ 1 − band ⇒ x ≤ band/λ = 1.486486e−3 of depth
    // ⇒ 1.486486e−3 × 1,000,000 / 92.5 = 16.0701 BTC sold; 83.9299 left for later rounds.
    const { w } = venueWorld({ assets: [{ symbol: 'BTC', price: 100, depthUsd: 1e6, impactCoefficient: 0.2 }], traders: [one('t', 'long', 1000, 10)] }, 'dydx-v4', (ex) => {
      ex.markets[0].liquidityTier = 'large-cap';
      delete ex.markets[0].marginTiers;
    });
    const a = accountOf(w, 0);
    setPrice(w, 'BTC', 92.5);
    expect(w.accountEquity[a]).toBeCloseTo(250, 9);
    expect(w.accountMaintenance[a]).toBeCloseTo(277.5, 9);
    expect(liquidateAccount(w, a)).toBe(true);
    const band = (1 - 250 / 277.5) * 0.1 * 0.03;
    const sold = ((band / 0.2) * 1e6) / 92.5;
    expect(sold).toBeCloseTo(16.0701, 4);
    expect(qtyOf(w, a)).toBeCloseTo(100 - sold, 9);
    checkInvariants(w);
  });

  it('A bankruptcy in an isolated market is paid by that market\'s fund, not the exchange\'s', () => {
    // ETH isolated with fund "eth-fund" (10,000). Long 100 ETH at 100 (collateral 1,000, 10×); at 88
    // equity −200. ABR is bounded at 1: band 0.1 × 0.03 = 0.3%, room for 1,500 ETH at λ 0.2, depth
    // 8.8M; the 100 sell at 88 × (1 − 0.2 × 0.001 / 2) = 87.9912 → shortfall 200.88, from eth-fund.
    const { w } = venueWorld(
      {
        assets: [
          { symbol: 'BTC', price: 100, depthUsd: 1e12, impactCoefficient: 0.1 },
          { symbol: 'ETH', price: 100, depthUsd: 8.8e6, impactCoefficient: 0.2 },
        ],
        traders: [one('t', 'long', 1000, 10, 'ETH')],
      },
      'dydx-v4',
      (ex, scenario) => {
        scenario.insuranceFunds.push({ id: 'eth-fund', initialUsd: 10_000 });
        ex.markets[0].liquidityTier = 'large-cap';
        ex.markets[1].liquidityTier = 'isolated';
        ex.markets[1].insuranceFund = 'eth-fund';
        for (const m of ex.markets) delete m.marginTiers;
      },
    );
    const a = accountOf(w, 0);
    setPrice(w, 'ETH', 88);
    expect(liquidateAccount(w, a)).toBe(true);
    expect(cash(w, w.fundHolderStart + 1)).toBeCloseTo(10_000 - 200.88, 9);
    expect(cash(w, w.fundHolderStart)).toBe(10_000);
    expect(eventsOf(w, EventKindCode.fund_payout).map((e) => e.amountUsd)).toEqual([expect.closeTo(200.88, 9)]);
    checkInvariants(w);
  });
});

describe('Drift: the insurance fund up to the market\'s cap, then its fee pool, then funding', () => {
  it('Splits a bankruptcy across the three and charges open positions of both sides pro rata', () => {
    // F long 80 BTC (800, 10×), H long 20 (400, 5×); the maker holds −100. Depth 7.04M, λ 0.2.
    // At 88 F sells 80 to the maker at 87.9912 → cash 800 − 80 × 12.0088 = −160.704 (no ADL at Drift).
    // Fund 100 but BTC may claim only 30; the fee pool pays 20; 110.704 is socialized over the 40
    // units still open (H +20, maker −20): 2.7676 per unit, 55.352 off each quote.
    const { w } = venueWorld(
      {
        assets: [{ symbol: 'BTC', price: 100, depthUsd: 7.04e6, impactCoefficient: 0.2 }],
        fundUsd: 100,
        liquidatorCollateralUsd: null,
        traders: [one('F', 'long', 800, 10), one('H', 'long', 400, 5)],
      },
      'drift',
      (ex) => {
        ex.markets[0].insuranceClaimCapUsd = 30;
        ex.markets[0].feePoolUsd = 20;
      },
    );
    const [f, h] = [accountOf(w, 0), accountOf(w, 1)];
    const maker = accountOf(w, 2);
    const quoteH = w.posQuote[w.posStart[h]!]!;
    const quoteMaker = w.posQuote[w.posStart[maker]!]!;
    setPrice(w, 'BTC', 88);
    expect(liquidateAccount(w, f)).toBe(true);
    expect(eventsOf(w, EventKindCode.adl)).toHaveLength(0);
    expect(eventsOf(w, EventKindCode.bad_debt).map((e) => e.amountUsd)).toEqual([expect.closeTo(160.704, 9)]);
    expect(eventsOf(w, EventKindCode.fund_payout).map((e) => e.amountUsd)).toEqual([30]);
    expect(eventsOf(w, EventKindCode.fee_pool_payout).map((e) => e.amountUsd)).toEqual([20]);
    expect(eventsOf(w, EventKindCode.socialized_loss).map((e) => e.amountUsd)).toEqual([expect.closeTo(110.704, 9)]);
    expect(cash(w, w.fundHolderStart)).toBe(70);
    expect(cash(w, w.feePoolHolderStart)).toBe(0);
    expect(w.marketClaimRoomUsd[0]).toBe(0);
    expect(w.posQuote[w.posStart[h]!]! - quoteH).toBeCloseTo(-55.352, 9);
    // The maker's −100 (entry 100) became −20 in F's sale: closing 80 at entry takes 8,000 off its
    // quote (the profit is realized into cash); the charge comes on top.
    expect(w.posQuote[w.posStart[maker]!]! - quoteMaker).toBeCloseTo(-8000 - 55.352, 6);
    expect(cash(w, f)).toBeCloseTo(0, 9);
    checkInvariants(w);
  });
});

describe('BitMEX: ranked ADL; the fund takes over at the bankruptcy price', () => {
  it('ADL closes the highest PnL% × effective leverage first, at the bankruptcy price', () => {
    // The engine.test.ts book under the profile (tier 0 of XBTUSD: 1.00% / 0.40%): at 88, F's
    // equity −160 exceeds the fund (100); bankruptcy price 88 × (1 + 160/7,040) = 90. B scores
    // 0.12 × 4 = 0.48, A 0.12 × 2.75 = 0.33: B closes 50, then A 30, both at 90.
    const { w } = venueWorld({ fundUsd: 100, traders: [one('F', 'long', 800, 10), one('A', 'short', 1000, 5), one('B', 'short', 500, 10)] }, 'bitmex', (ex) => {
      delete ex.markets[0].marginTiers;
    });
    const [f, a, b] = [accountOf(w, 0), accountOf(w, 1), accountOf(w, 2)];
    setPrice(w, 'BTC', 88);
    expect(liquidateAccount(w, f)).toBe(true);
    const adl = eventsOf(w, EventKindCode.adl);
    expect(adl.map((e) => e.account)).toEqual([b, a]);
    expect(adl.map((e) => e.quantity)).toEqual([50, 30]);
    for (const e of adl) expect(e.price).toBeCloseTo(90, 9);
    checkInvariants(w);
  });

  it('A solvent liquidation leaves the trader nothing: the fund keeps the margin left', () => {
    // Long 100 at 100 (1,000, 10×), tier 0: maintenance 0.4% × 100 P. At 90.3: equity 1,000 − 970 = 30
    // < 36.12. The book is deep: 100 sell at ≈ 90.3, leaving ≈ 30, which goes to the fund (taken
    // over at the bankruptcy price). Without takeover and with no fee the trader would keep it.
    const { w } = venueWorld({ assets: deep, traders: [one('t', 'long', 1000, 10)] }, 'bitmex', (ex) => {
      delete ex.markets[0].marginTiers;
    });
    const a = accountOf(w, 0);
    setPrice(w, 'BTC', 90.3);
    expect(w.accountEquity[a]).toBeCloseTo(30, 9);
    expect(liquidateAccount(w, a)).toBe(true);
    expect(cash(w, a)).toBe(0);
    expect(cash(w, w.fundHolderStart)).toBeCloseTo(10_030, 3);
    expect(w.accountStatus[a]).toBe(Status.liquidated);
    checkInvariants(w);
  });
});

describe('Binance: partial reduction first in the upper brackets, with the liquidation fee', () => {
  it('A $5M account is reduced back to initial margin, paying 0.5% of what closed', () => {
    // Long 50,000 at 100 (500,000, 10×): bracket 1M–10M, maintenance 2.5% − 16,300, initial 5% − 32,600.
    // At 91.9: notional 4,595,000, equity 500,000 − 405,000 = 95,000 < maintenance 98,575; initial
    // 197,150. f = (IM − E) / (IM − fee × N) = 102,150 / (197,150 − 22,975) = 0.586479: 29,323.96
    // BTC sold; fee 0.5% × 0.586479 × 4,595,000 = 13,474.36 to the fund. The account stays open.
    const { w } = venueWorld({ assets: deep, traders: [one('t', 'long', 500_000, 10)] }, 'binance', (ex) => {
      delete ex.markets[0].marginTiers;
    });
    const a = accountOf(w, 0);
    setPrice(w, 'BTC', 91.9);
    expect(w.accountEquity[a]).toBeCloseTo(95_000, 6);
    expect(w.accountMaintenance[a]).toBeCloseTo(98_575, 6);
    expect(initialMarginUsd(w, a)).toBeCloseTo(197_150, 6);
    expect(liquidateAccount(w, a)).toBe(true);
    const f = 102_150 / 174_175;
    expect(qtyOf(w, a)).toBeCloseTo(50_000 * (1 - f), 3);
    expect(cash(w, w.fundHolderStart) - 10_000).toBeCloseTo(0.005 * f * 4_595_000, 1);
    expect(w.accountStatus[a]).toBe(Status.active);
    checkInvariants(w);
  });
});

describe('Aave v3: presets and the close factor', () => {
  it('A WETH preset fills the reserve; the 50% close factor holds above HF 0.95 and lifts at or below it', () => {
    // WETH (2023 launch): LTV 82.5%, threshold 86%, bonus 5.2%, protocol fee 10%. $10,000 of WETH
    // against $9,000 of debt: HF = 8,600 / 9,000 = 0.9556 > 0.95 → at most 50% = 4,500. Against
    // $9,100: HF = 0.94505 ≤ 0.95 → the whole 9,100.
    const raw = {
      scenario: {
        lendingMarkets: [{ id: 'aave', profile: 'aave-v3', safetyModule: 'sm', reserves: [{ asset: 'ETH', oracle: 'eth', preset: 'WETH' }, { asset: 'USDC', oracle: 'usdc', preset: 'USDC', ltv: 0.7 }] }],
      },
    };
    const filled = applyProfiles(raw);
    expect(filled.issues).toEqual([]);
    const market = LendingMarket.parse((filled.raw as Raw).scenario.lendingMarkets[0]);
    const weth = market.reserves[0]!;
    expect([weth.ltv, weth.liquidationThreshold, weth.liquidationBonus, weth.liquidationProtocolFee]).toEqual([0.825, 0.86, 1.052, 0.1]);
    expect(market.reserves[1]!.ltv).toBe(0.7); // the experiment's own field wins
    const rules = market.liquidation;
    const hf1 = healthFactor(10_000 * weth.liquidationThreshold, 9_000);
    expect(hf1).toBeCloseTo(0.955556, 6);
    expect(maxLiquidatableDebtUsd(hf1, 9_000, 10_000, rules)).toBe(4_500);
    const hf2 = healthFactor(10_000 * weth.liquidationThreshold, 9_100);
    expect(hf2).toBeCloseTo(0.945055, 6);
    expect(maxLiquidatableDebtUsd(hf2, 9_100, 10_000, rules)).toBe(9_100);
  });
});

describe('every profile runs a whole stressed scenario with the invariants checked at every step', () => {
  it.each(['hyperliquid', 'dydx-v4', 'drift', 'bitmex', 'binance'])('%s', async (profile) => {
    const { minimalExperiment } = await import('./fixtures/minimalExperiment.ts');
    const { simulateRun } = await import('../src/engine/simulate.ts');
    const raw = structuredClone(minimalExperiment()) as Raw;
    raw.steps = 120;
    raw.scenario.shocks = [{ id: 'crash', asset: raw.scenario.assets[0].symbol, startStep: 20, overSteps: 10, totalReturn: -0.3 }];
    const ex = raw.scenario.exchanges[0];
    delete ex.liquidation;
    delete ex.adl;
    ex.profile = profile;
    if (profile === 'drift') for (const m of ex.markets) Object.assign(m, { insuranceClaimCapUsd: 1_000, feePoolUsd: 500 });
    const exp = parseExperiment(raw, profile);
    // check: true throws at the first step that breaks the ledger, NaN or zero-sum invariants.
    const result = simulateRun(exp, buildGraph(exp), 0, { check: true });
    // The crash liquidates someone under every venue's rules.
    expect(result.summary.liquidationCount).toBeGreaterThan(0);
    expect(result.summary.liquidationVolumeUsd).toBeGreaterThan(0);
  });
});
