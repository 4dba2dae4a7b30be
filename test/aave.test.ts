// Aave v3.3 liquidation arithmetic (src/lending/aave.ts) against hand-computed cases, then properties over random
// accounts. Rules as in aave-v3-origin LiquidationLogic.sol (executeLiquidationCall,
// _calculateAvailableCollateralToLiquidate) and docs/3.3/Aave-v3.3-features.md. All amounts in USD.
import fc from 'fast-check';
import './fixtures/fcSeed.ts';
import { mixedReal } from './fixtures/reals.ts';
import { describe, expect, it } from 'vitest';
import {
  AAVE_V3,
  createLiquidationQuote,
  healthFactor,
  liquidationDeficitUsd,
  liquidationDrawdown,
  loopPosition,
  maxLiquidatableDebtUsd,
  quoteLiquidation,
} from '../src/lending/aave.ts';
import type { LiquidationQuote } from '../src/lending/aave.ts';

/** The five fields of a quote, for toEqual-style comparisons. */
type Expected = Pick<LiquidationQuote, 'debtRepaidUsd' | 'collateralSeizedUsd' | 'liquidatorCollateralUsd' | 'protocolFeeUsd' | 'bonusUsd'>;

function expectQuote(q: LiquidationQuote, e: Expected, digits = 9): void {
  expect(q.debtRepaidUsd, 'debtRepaidUsd').toBeCloseTo(e.debtRepaidUsd, digits);
  expect(q.collateralSeizedUsd, 'collateralSeizedUsd').toBeCloseTo(e.collateralSeizedUsd, digits);
  expect(q.liquidatorCollateralUsd, 'liquidatorCollateralUsd').toBeCloseTo(e.liquidatorCollateralUsd, digits);
  expect(q.protocolFeeUsd, 'protocolFeeUsd').toBeCloseTo(e.protocolFeeUsd, digits);
  expect(q.bonusUsd, 'bonusUsd').toBeCloseTo(e.bonusUsd, digits);
}

describe('constants', () => {
  it('carries over the v3.3 LiquidationLogic constants', () => {
    // DEFAULT_LIQUIDATION_CLOSE_FACTOR = 0.5e4 bps, CLOSE_FACTOR_HF_THRESHOLD = 0.95e18,
    // MIN_BASE_MAX_CLOSE_FACTOR_THRESHOLD = 2000e8, MIN_LEFTOVER_BASE = 2000e8 / 2.
    expect(AAVE_V3).toEqual({ closeFactor: 0.5, fullCloseHealthFactor: 0.95, minBaseMaxCloseFactorUsd: 2000, minLeftoverBaseUsd: 1000 });
  });
});

describe('healthFactor', () => {
  it.each([
    // 10 ETH × 2000 × 0.825 = 16500; 5000 USDC × 0.78 = 3900; (16500 + 3900) / 15000 = 1.36
    { name: 'a two-collateral account (10 ETH at 2000, LT 0.825, + 5000 USDC, LT 0.78) with 15000 debt has HF 1.36', tw: 10 * 2000 * 0.825 + 5000 * 0.78, debt: 15000, hf: 1.36 },
    // 3300 / 3000 = 1.1
    { name: 'a 4000 USD position at LT 0.825 with 3000 debt has HF 1.1', tw: 4000 * 0.825, debt: 3000, hf: 1.1 },
    { name: 'an account without debt has an infinite HF', tw: 5000, debt: 0, hf: Infinity },
    { name: 'an account with negative debt (a rounding artefact) has an infinite HF', tw: 5000, debt: -1e-9, hf: Infinity },
  ])('$name', ({ tw, debt, hf }) => {
    if (hf === Infinity) expect(healthFactor(tw, debt)).toBe(Infinity);
    else expect(healthFactor(tw, debt)).toBeCloseTo(hf, 12);
  });
});

describe('maxLiquidatableDebtUsd (v3.3 close factor)', () => {
  it.each([
    // both ≥ 2000 and HF 0.97 > 0.95 → 0.5 × 10000 = 5000
    { name: 'HF 0.97 on a large position allows 50% of the debt', hf: 0.97, debt: 10000, coll: 12000, total: undefined, max: 5000 },
    // HF ≤ 0.95 (inclusive) → 100%
    { name: 'HF exactly 0.95 allows 100% of the debt', hf: 0.95, debt: 10000, coll: 12000, total: undefined, max: 10000 },
    { name: 'HF 0.5 allows 100% of the debt', hf: 0.5, debt: 10000, coll: 12000, total: undefined, max: 10000 },
    // reserve debt 1500 < 2000 → 100%
    { name: 'HF 0.99 but reserve debt under 2000 USD allows 100%', hf: 0.99, debt: 1500, coll: 12000, total: undefined, max: 1500 },
    // reserve collateral 1800 < 2000 → 100%
    { name: 'HF 0.97 but reserve collateral under 2000 USD allows 100%', hf: 0.97, debt: 10000, coll: 1800, total: undefined, max: 10000 },
    // the thresholds are inclusive (≥ 2000): 0.5 × 2000 = 1000
    { name: 'debt and collateral exactly 2000 USD keep the 50% close factor', hf: 0.97, debt: 2000, coll: 2000, total: undefined, max: 1000 },
    // v3.3 feature doc 2.1: 3k GHO + 3k USDC + 3k DAI debt, 9k ETH: 0.5 × 9000 = 4500 ≥ 3000 → all 3000
    { name: 'the close factor applies to the whole position: 3k of 9k total debt is fully repayable', hf: 0.97, debt: 3000, coll: 9000, total: 9000, max: 3000 },
    // 6000 > 0.5 × 9000 = 4500 → 4500
    { name: 'a reserve holding more than half of the total debt is capped at half the total', hf: 0.97, debt: 6000, coll: 9000, total: 9000, max: 4500 },
    { name: 'HF exactly 1 is not liquidatable', hf: 1, debt: 10000, coll: 12000, total: undefined, max: 0 },
    { name: 'HF 1.2 is not liquidatable', hf: 1.2, debt: 10000, coll: 12000, total: undefined, max: 0 },
    { name: 'no debt in the reserve means nothing to repay', hf: 0.5, debt: 0, coll: 12000, total: undefined, max: 0 },
  ])('$name', ({ hf, debt, coll, total, max }) => {
    expect(maxLiquidatableDebtUsd(hf, debt, coll, AAVE_V3, total)).toBe(max);
  });
});

describe('quoteLiquidation', () => {
  it.each([
    {
      // cap 0.5 × 10000 = 5000; seized 5000 × 1.05 = 5250 ≤ 12000; bonus 250; fee 0.1 × 250 = 25; liquidator 5250 − 25 = 5225.
      // Leftovers 5000 debt and 12000 − 5250 = 6750 collateral are ≥ 1000.
      name: 'a partial liquidation at HF 0.97 repays 50% and seizes debt × 1.05',
      args: [0.97, 10000, 12000, Infinity, 1.05, 0.1] as const,
      e: { debtRepaidUsd: 5000, collateralSeizedUsd: 5250, bonusUsd: 250, protocolFeeUsd: 25, liquidatorCollateralUsd: 5225 },
    },
    {
      // 3000 < cap 5000; seized 3150; bonus 150; fee 15; liquidator 3135. Leftovers 7000 and 8850.
      name: 'a liquidator with less capital than the cap repays what it wants',
      args: [0.97, 10000, 12000, 3000, 1.05, 0.1] as const,
      e: { debtRepaidUsd: 3000, collateralSeizedUsd: 3150, bonusUsd: 150, protocolFeeUsd: 15, liquidatorCollateralUsd: 3135 },
    },
    {
      // fee share 1: the whole 250 bonus goes to the treasury, the liquidator gets par, 5000.
      name: 'a 100% protocol fee leaves the liquidator exactly the debt it repaid',
      args: [0.97, 10000, 12000, Infinity, 1.05, 1] as const,
      e: { debtRepaidUsd: 5000, collateralSeizedUsd: 5250, bonusUsd: 250, protocolFeeUsd: 250, liquidatorCollateralUsd: 5000 },
    },
    {
      // HF 0.9 ≤ 0.95 → cap 10000; 10000 × 1.05 = 10500 > 9000 → seize all 9000, repay 9000 / 1.05 = 8571.428571…;
      // bonus 9000 − 8571.428571… = 428.571428…; fee 42.857142…; liquidator 9000 − 42.857142… = 8957.142857…
      name: 'a collateral-limited liquidation seizes all collateral and scales the debt repaid down to collateral / bonus',
      args: [0.9, 10000, 9000, Infinity, 1.05, 0.1] as const,
      e: { debtRepaidUsd: 9000 / 1.05, collateralSeizedUsd: 9000, bonusUsd: 9000 - 9000 / 1.05, protocolFeeUsd: (9000 - 9000 / 1.05) * 0.1, liquidatorCollateralUsd: 9000 - (9000 - 9000 / 1.05) * 0.1 },
    },
    {
      // wanted 2500 would leave 3000 − 2500 = 500 < 1000 of debt → repay all 3000 (cap: HF 0.9 → 100%); seized 3150.
      name: 'the leftover rule turns a partial call leaving 500 USD of debt into a full liquidation',
      args: [0.9, 3000, 4000, 2500, 1.05, 0] as const,
      e: { debtRepaidUsd: 3000, collateralSeizedUsd: 3150, bonusUsd: 150, protocolFeeUsd: 0, liquidatorCollateralUsd: 3150 },
    },
    {
      // wanted 4500 → seized 4725, collateral left 5500 − 4725 = 775 < 1000 → repay all 5000, seize 5250 ≤ 5500
      // (250 of collateral may stay because the debt is cleared).
      name: 'the leftover rule turns a partial call leaving 775 USD of collateral into a full repayment',
      args: [0.9, 5000, 5500, 4500, 1.05, 0] as const,
      e: { debtRepaidUsd: 5000, collateralSeizedUsd: 5250, bonusUsd: 250, protocolFeeUsd: 0, liquidatorCollateralUsd: 5250 },
    },
    {
      // wanted 4000 → seized 4200, 900 left < 1000 → take everything: 5000 × 1.05 = 5250 > 5100 → seize 5100, repay 5100 / 1.05.
      name: 'a full liquidation forced by the leftover rule can itself be collateral-limited',
      args: [0.9, 5000, 5100, 4000, 1.05, 0] as const,
      e: { debtRepaidUsd: 5100 / 1.05, collateralSeizedUsd: 5100, bonusUsd: 5100 - 5100 / 1.05, protocolFeeUsd: 0, liquidatorCollateralUsd: 5100 },
    },
    {
      // cap 0.5 × 2000 = 1000 → seized 1050, collateral left 2040 − 1050 = 990 < 1000 and Aave would revert; the largest
      // call that leaves ≥ 1000 of both: min(1000, 2000 − 1000, (2040 − 1000) / 1.05 = 990.476190…) → seized 1040.
      name: 'when even the 50% cap would leave collateral dust, the largest dust-free amount is repaid',
      args: [0.97, 2000, 2040, Infinity, 1.05, 0] as const,
      e: { debtRepaidUsd: 1040 / 1.05, collateralSeizedUsd: 1040, bonusUsd: 1040 - 1040 / 1.05, protocolFeeUsd: 0, liquidatorCollateralUsd: 1040 },
    },
    { name: 'HF 1 is not liquidatable: all zeros', args: [1, 10000, 12000, Infinity, 1.05, 0.1] as const, e: { debtRepaidUsd: 0, collateralSeizedUsd: 0, bonusUsd: 0, protocolFeeUsd: 0, liquidatorCollateralUsd: 0 } },
    { name: 'a liquidator wanting nothing repays nothing', args: [0.9, 10000, 12000, 0, 1.05, 0.1] as const, e: { debtRepaidUsd: 0, collateralSeizedUsd: 0, bonusUsd: 0, protocolFeeUsd: 0, liquidatorCollateralUsd: 0 } },
    { name: 'no collateral in the reserve means nothing to seize', args: [0.5, 10000, 0, Infinity, 1.05, 0.1] as const, e: { debtRepaidUsd: 0, collateralSeizedUsd: 0, bonusUsd: 0, protocolFeeUsd: 0, liquidatorCollateralUsd: 0 } },
  ])('$name', ({ args, e }) => {
    const [hf, debt, coll, wanted, bonus, fee] = args;
    const out = createLiquidationQuote();
    const q = quoteLiquidation(hf, debt, coll, wanted, bonus, fee, AAVE_V3, out);
    expect(q).toBe(out);
    expectQuote(q, e);
  });

  it('with several debt reserves, a 50% cap that leaves debt dust falls back to leaving exactly 1000', () => {
    // reserve debt 2000 of 3900 total, HF 0.97: cap = 0.5 × 3900 = 1950 < 2000 → 50 USD would remain, Aave reverts;
    // largest dust-free amount min(1950, 2000 − 1000, (10000 − 1000) / 1.05) = 1000, seized 1050.
    const q = quoteLiquidation(0.97, 2000, 10000, Infinity, 1.05, 0, AAVE_V3, createLiquidationQuote(), 3900);
    expectQuote(q, { debtRepaidUsd: 1000, collateralSeizedUsd: 1050, bonusUsd: 50, protocolFeeUsd: 0, liquidatorCollateralUsd: 1050 });
  });

  it('reuses the out object across calls, overwriting every field', () => {
    const out = createLiquidationQuote();
    quoteLiquidation(0.97, 10000, 12000, Infinity, 1.05, 0.1, AAVE_V3, out);
    quoteLiquidation(1.5, 10000, 12000, Infinity, 1.05, 0.1, AAVE_V3, out);
    expect(out).toEqual(createLiquidationQuote());
  });
});

describe('liquidationDeficitUsd (v3.3 bad debt)', () => {
  it.each([
    // collateral-limited call above: repaid 9000 / 1.05 = 8571.428571…, the rest 10000 − 8571.428571… = 1428.571428… is burned
    { name: 'seizing the only collateral turns the remaining debt of 1428.57 USD into deficit', totalColl: 9000, totalDebt: 10000, deficit: 10000 - 9000 / 1.05 },
    // same call, with 10000 of other debt reserves: all of it is burned too (_burnBadDebt): 20000 − 8571.428571…
    { name: 'the other debt reserves are written off too when no collateral is left', totalColl: 9000, totalDebt: 20000, deficit: 20000 - 9000 / 1.05 },
    // 3000 USD of another collateral remains → no deficit
    { name: 'no deficit while another collateral reserve remains', totalColl: 12000, totalDebt: 10000, deficit: 0 },
  ])('$name', ({ totalColl, totalDebt, deficit }) => {
    const q = quoteLiquidation(0.9, 10000, 9000, Infinity, 1.05, 0.1, AAVE_V3, createLiquidationQuote());
    expect(liquidationDeficitUsd(totalColl, totalDebt, q)).toBeCloseTo(deficit, 9);
  });

  it('a liquidation that clears the debt leaves no deficit even if all collateral is taken', () => {
    // debt 1000 (HF 0.9, full close), collateral 1050: seized exactly 1000 × 1.05 = 1050, nothing left to burn.
    const q = quoteLiquidation(0.9, 1000, 1050, Infinity, 1.05, 0, AAVE_V3, createLiquidationQuote());
    expect(liquidationDeficitUsd(1050, 1000, q)).toBe(0);
  });
});

describe('loopPosition and liquidationDrawdown', () => {
  it.each([
    // collateral 4 × 1000 = 4000, debt 3 × 1000 = 3000, HF 4000 × 0.825 / 3000 = 1.1
    { name: 'E=1000 looped to 4x at max LTV 0.8, LT 0.825: 4000 collateral, 3000 debt, HF 1.1', target: 4, lev: 4, coll: 4000, debt: 3000, hf: 1.1 },
    // 1 / (1 − 0.8) = 5 → collateral 5000, debt 4000, HF 5000 × 0.825 / 4000 = 1.03125
    { name: 'a target of 7x above 1/(1−0.8) = 5 is clamped to 5x', target: 7, lev: 5, coll: 5000, debt: 4000, hf: 1.03125 },
    { name: 'a target below 1x means no borrowing and an infinite HF', target: 0.5, lev: 1, coll: 1000, debt: 0, hf: Infinity },
  ])('$name', ({ target, lev, coll, debt, hf }) => {
    const p = loopPosition(1000, target, 0.8, 0.825);
    expect(p.leverage).toBeCloseTo(lev, 9);
    expect(p.collateralUsd).toBeCloseTo(coll, 9);
    expect(p.debtUsd).toBeCloseTo(debt, 9);
    if (hf === Infinity) expect(p.healthFactor).toBe(Infinity);
    else expect(p.healthFactor).toBeCloseTo(hf, 9);
  });

  it.each([
    // 1 − 3000 / (4000 × 0.825) = 1 − 3000/3300 = 1/11 = 0.0909…
    { name: 'the 4x loop is liquidated after a 1/11 = 9.09% fall', coll: 4000, debt: 3000, lt: 0.825, dd: 1 / 11 },
    // 1 − 4000 / (5000 × 0.825) = 1 − 4000/4125 = 125/4125 = 0.0303…
    { name: 'the 5x loop is liquidated after a 3.03% fall', coll: 5000, debt: 4000, lt: 0.825, dd: 125 / 4125 },
    { name: 'a position without debt is never liquidated: drawdown 1', coll: 1000, debt: 0, lt: 0.8, dd: 1 },
    // 1000 × 0.8 = 800 < 900: HF 0.89 already
    { name: 'a position already at HF < 1 has drawdown 0', coll: 1000, debt: 900, lt: 0.8, dd: 0 },
  ])('$name', ({ coll, debt, lt, dd }) => {
    expect(liquidationDrawdown(coll, debt, lt)).toBeCloseTo(dd, 12);
  });
});

describe('properties', () => {
  const usd = mixedReal(1, 1e7);
  const quoteInput = fc.record({
    hf: mixedReal(0.01, 0.9999),
    debt: usd,
    coll: usd,
    wanted: fc.oneof(fc.constant(Infinity), mixedReal(0, 2e7)),
    bonus: mixedReal(1, 1.25),
    fee: mixedReal(0, 1),
    otherDebt: fc.oneof(fc.constant(0), mixedReal(0, 1e7)),
  });
  const eps = (x: number): number => 1e-9 * Math.max(1, Math.abs(x));

  it('every quote respects the caps, the bonus, the fee split and the dust rule', () => {
    fc.assert(
      fc.property(quoteInput, ({ hf, debt, coll, wanted, bonus, fee, otherDebt }) => {
        const total = debt + otherDebt;
        const q = quoteLiquidation(hf, debt, coll, wanted, bonus, fee, AAVE_V3, createLiquidationQuote(), total);
        const cap = maxLiquidatableDebtUsd(hf, debt, coll, AAVE_V3, total);
        expect(q.debtRepaidUsd).toBeGreaterThanOrEqual(0);
        expect(q.collateralSeizedUsd).toBeGreaterThanOrEqual(q.debtRepaidUsd); // bonus ≥ 1
        expect(q.collateralSeizedUsd).toBeLessThanOrEqual(coll);
        expect(q.debtRepaidUsd).toBeLessThanOrEqual(cap);
        expect(q.debtRepaidUsd).toBeLessThanOrEqual(debt);
        expect(q.bonusUsd).toBe(q.collateralSeizedUsd - q.debtRepaidUsd);
        expect(q.protocolFeeUsd).toBeGreaterThanOrEqual(0);
        expect(q.protocolFeeUsd).toBeLessThanOrEqual(q.bonusUsd);
        expect(Math.abs(q.liquidatorCollateralUsd + q.protocolFeeUsd - q.collateralSeizedUsd)).toBeLessThanOrEqual(eps(coll));
        if (q.collateralSeizedUsd < coll) {
          // not collateral-limited: seized = repaid × bonus
          expect(Math.abs(q.collateralSeizedUsd - q.debtRepaidUsd * bonus)).toBeLessThanOrEqual(eps(q.collateralSeizedUsd));
        } else {
          // collateral-limited: repaid = collateral / bonus
          expect(Math.abs(q.debtRepaidUsd - coll / bonus)).toBeLessThanOrEqual(eps(coll));
        }
        // dust rule: nothing, the whole debt, the whole collateral, or ≥ 1000 of both left
        const partial = q.debtRepaidUsd > 0 && q.debtRepaidUsd < debt && q.collateralSeizedUsd < coll;
        if (partial) {
          expect(debt - q.debtRepaidUsd).toBeGreaterThanOrEqual(AAVE_V3.minLeftoverBaseUsd - eps(debt));
          expect(coll - q.collateralSeizedUsd).toBeGreaterThanOrEqual(AAVE_V3.minLeftoverBaseUsd - eps(coll));
        }
        // repaying more than wanted happens only when the dust rule forced "as much as allowed"
        if (q.debtRepaidUsd > wanted) {
          const all = quoteLiquidation(hf, debt, coll, Infinity, bonus, fee, AAVE_V3, createLiquidationQuote(), total);
          expect(q.debtRepaidUsd).toBe(all.debtRepaidUsd);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('a healthy account (HF ≥ 1) is never liquidated', () => {
    fc.assert(
      fc.property(quoteInput, mixedReal(1, 100), ({ debt, coll, wanted, bonus, fee }, hf) => {
        const q = quoteLiquidation(hf, debt, coll, wanted, bonus, fee, AAVE_V3, createLiquidationQuote());
        expect(q).toEqual(createLiquidationQuote());
      }),
    );
  });

  it('a partial liquidation raises HF iff collateral/debt exceeds the bonus (single collateral, single debt)', () => {
    // HF' = (C − x·b)·LT / (D − x) > C·LT / D  ⇔  −x·b·D > −x·C  ⇔  C > b·D. Below that the liquidation spirals.
    // Drawn where the liquidation is partial: HF in (0.95, 1), so the close factor is 50%, and debt and
    // collateral ≥ 10,000 (over the 2,000 below which Aave closes 100%). Then x = D/2, b·x ≤ 0.6·D < C
    // (C = D·HF/LT ≥ 0.95·D/0.97), and ≥ 1,000 of each is left. C < b·D (the spiral) needs LT > HF/b,
    // which LT ∈ [0.5, 0.97] and b ∈ [1, 1.2] give in about a fifth of the cases.
    let raises = 0;
    let spirals = 0;
    fc.assert(
      fc.property(
        mixedReal(1e4, 1e7),
        mixedReal(0.5, 0.97),
        mixedReal(0.951, 0.999),
        mixedReal(1, 1.2),
        (debt, lt, hf0, bonus) => {
          const coll = (debt * hf0) / lt; // so that healthFactor(coll × lt, debt) = hf0 < 1
          const hf = healthFactor(coll * lt, debt);
          const q = quoteLiquidation(hf, debt, coll, Infinity, bonus, 0, AAVE_V3, createLiquidationQuote());
          expect(q.debtRepaidUsd).toBeCloseTo(0.5 * debt, 6);
          expect(q.collateralSeizedUsd).toBeCloseTo(0.5 * debt * bonus, 6);
          const after = healthFactor((coll - q.collateralSeizedUsd) * lt, debt - q.debtRepaidUsd);
          if (coll > bonus * debt * (1 + 1e-9)) {
            expect(after).toBeGreaterThanOrEqual(hf * (1 - 1e-9));
            raises++;
          }
          if (coll < bonus * debt * (1 - 1e-9)) {
            expect(after).toBeLessThanOrEqual(hf * (1 + 1e-9));
            spirals++;
          }
        },
      ),
      { numRuns: 1000 },
    );
    // Both sides of C = b·D were tested.
    expect(raises).toBeGreaterThanOrEqual(100);
    expect(spirals).toBeGreaterThanOrEqual(100);
  });

  it('a loop stays within max LTV, and a price fall of exactly the drawdown brings it to HF 1', () => {
    fc.assert(
      fc.property(
        mixedReal(1, 1e6),
        mixedReal(1, 30),
        mixedReal(0.3, 0.93),
        mixedReal(0.01, 0.05),
        (equity, target, maxLtv, gap) => {
          const lt = maxLtv + gap;
          const p = loopPosition(equity, target, maxLtv, lt);
          expect(p.leverage).toBeLessThanOrEqual(1 / (1 - maxLtv));
          expect(p.debtUsd / p.collateralUsd).toBeLessThanOrEqual(maxLtv * (1 + 1e-12));
          expect(p.collateralUsd - p.debtUsd).toBeCloseTo(equity, 6);
          expect(p.healthFactor).toBeGreaterThan(1); // LT > max LTV
          if (p.debtUsd > 1e-6 * p.collateralUsd) {
            // (skipping near-zero debt, where 1 − dd cancels catastrophically)
            const dd = liquidationDrawdown(p.collateralUsd, p.debtUsd, lt);
            expect(dd).toBeGreaterThan(0);
            expect(healthFactor(p.collateralUsd * (1 - dd) * lt, p.debtUsd)).toBeCloseTo(1, 9);
          }
        },
      ),
      { numRuns: 1000 },
    );
  });
});
