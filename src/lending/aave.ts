// Aave v3 (v3.3) liquidation arithmetic in base-currency (USD) units, as plain functions over numbers for
// the engine's struct-of-arrays step loop: health factor, v3.3 close factor, one liquidationCall quote
// (bonus, protocol fee, dust rule, deficit), and the looped-position helpers used to seed accounts.
// Source: aave-dao/aave-v3-origin src/contracts/protocol/libraries/logic/LiquidationLogic.sol (v3.3), GenericLogic.sol,
// ValidationLogic.sol, and docs/3.3/Aave-v3.3-features.md. Integer rounding (wad/ray/bps) is not modelled: Float64.

/**
 * Protocol constants of Aave v3.3 liquidations, in fractions and USD.
 * From LiquidationLogic.sol (aave-v3-origin, v3.3):
 * - `DEFAULT_LIQUIDATION_CLOSE_FACTOR = 0.5e4` (bps) → closeFactor 0.5;
 * - `CLOSE_FACTOR_HF_THRESHOLD = 0.95e18` (wad) → fullCloseHealthFactor 0.95 (at or below it, 100% closable);
 * - `MIN_BASE_MAX_CLOSE_FACTOR_THRESHOLD = 2000e8` (base currency, 8 decimals, USD on the USD-based markets) → 2000 USD;
 * - `MIN_LEFTOVER_BASE = MIN_BASE_MAX_CLOSE_FACTOR_THRESHOLD / 2` → 1000 USD.
 */
export const AAVE_V3 = {
  closeFactor: 0.5,
  fullCloseHealthFactor: 0.95,
  minBaseMaxCloseFactorUsd: 2000,
  minLeftoverBaseUsd: 1000,
} as const;

/** The liquidation constants as parameters (so an experiment can vary them); {@link AAVE_V3} holds Aave's values. */
export interface AaveLiquidationRules {
  /** Share of the account's total debt (USD) repayable in one call while HF > fullCloseHealthFactor (Aave: 0.5). */
  closeFactor: number;
  /** Health factor at or below which the whole reserve debt is repayable in one call (Aave: 0.95). */
  fullCloseHealthFactor: number;
  /** USD: if the reserve's debt or the reserve's collateral is below this, the close factor is 100% (Aave: 2000). */
  minBaseMaxCloseFactorUsd: number;
  /** USD: a partial liquidation must leave at least this much debt and collateral in the two reserves (Aave: 1000). */
  minLeftoverBaseUsd: number;
}

/**
 * Health factor (dimensionless): Σ collateral_usd × liquidationThreshold / debt_usd; Infinity when debt ≤ 0.
 * As GenericLogic.calculateUserAccountData (`avgLiquidationThreshold.wadDiv(totalDebtInBaseCurrency)`, and
 * `type(uint256).max` when the debt is 0). A position is liquidatable when HF < 1
 * (ValidationLogic.validateLiquidationCall: `healthFactor < HEALTH_FACTOR_LIQUIDATION_THRESHOLD`, 1e18).
 * @param thresholdWeightedCollateralUsd Σ over collateral reserves of value (USD) × liquidation threshold (fraction).
 * @param debtUsd total debt of the account over all debt reserves (USD).
 */
export function healthFactor(thresholdWeightedCollateralUsd: number, debtUsd: number): number {
  return debtUsd > 0 ? thresholdWeightedCollateralUsd / debtUsd : Infinity;
}

/**
 * Largest debt (USD, of the one debt reserve being repaid) a liquidator may repay in one call, per v3.3 close-factor
 * rules (LiquidationLogic.executeLiquidationCall): the whole reserve debt, unless the reserve collateral and the
 * reserve debt are both ≥ minBaseMaxCloseFactorUsd and HF > fullCloseHealthFactor, in which case at most
 * closeFactor × the account's TOTAL debt (v3.3 applies the close factor to the whole position, not per reserve).
 * Returns 0 when the account is not liquidatable (HF ≥ 1, or no debt).
 * @param hf health factor of the account (dimensionless).
 * @param reserveDebtUsd the account's debt in the reserve being repaid (USD).
 * @param reserveCollateralUsd the account's balance in the collateral reserve being seized (USD).
 * @param rules liquidation constants (use {@link AAVE_V3}).
 * @param totalDebtUsd the account's debt over all reserves (USD); defaults to reserveDebtUsd (one debt reserve).
 * @returns USD of the debt reserve, 0 ≤ result ≤ reserveDebtUsd.
 */
export function maxLiquidatableDebtUsd(
  hf: number,
  reserveDebtUsd: number,
  reserveCollateralUsd: number,
  rules: AaveLiquidationRules,
  totalDebtUsd: number = reserveDebtUsd,
): number {
  if (!(hf < 1) || !(reserveDebtUsd > 0)) return 0;
  if (
    reserveCollateralUsd >= rules.minBaseMaxCloseFactorUsd &&
    reserveDebtUsd >= rules.minBaseMaxCloseFactorUsd &&
    hf > rules.fullCloseHealthFactor
  ) {
    const cap = totalDebtUsd * rules.closeFactor; // totalDebtInBaseCurrency.percentMul(DEFAULT_LIQUIDATION_CLOSE_FACTOR)
    if (reserveDebtUsd > cap) return cap;
  }
  return reserveDebtUsd;
}

/** Result of {@link quoteLiquidation}; all fields in USD. Preallocate one with {@link createLiquidationQuote}. */
export interface LiquidationQuote {
  /** Debt the liquidator repays (USD). */
  debtRepaidUsd: number;
  /** Collateral taken from the borrower in total: the liquidator's share + the protocol fee (USD). */
  collateralSeizedUsd: number;
  /** What the liquidator receives: collateralSeizedUsd − protocolFeeUsd (USD). */
  liquidatorCollateralUsd: number;
  /** liquidationProtocolFee × the bonus part, to the protocol treasury (USD). */
  protocolFeeUsd: number;
  /** collateralSeizedUsd − debtRepaidUsd: the part above par (USD). */
  bonusUsd: number;
}

/** A zeroed {@link LiquidationQuote}, to allocate once and pass as `out` on every call. */
export function createLiquidationQuote(): LiquidationQuote {
  return { debtRepaidUsd: 0, collateralSeizedUsd: 0, liquidatorCollateralUsd: 0, protocolFeeUsd: 0, bonusUsd: 0 };
}

function setQuote(out: LiquidationQuote, debtUsd: number, seizedUsd: number, protocolFeeShare: number): LiquidationQuote {
  // _calculateAvailableCollateralToLiquidate: bonusCollateral = collateralAmount − collateralAmount.percentDiv(bonus),
  // fee = bonusCollateral.percentMul(liquidationProtocolFee), liquidator gets collateralAmount − fee. Since
  // collateralAmount = debt × bonus (or debt = collateralAmount / bonus when collateral-limited),
  // collateralAmount / bonus = debt, so the bonus part is seized − debt (exactly ≥ 0 in Float64 for bonus ≥ 1).
  const bonusUsd = seizedUsd - debtUsd;
  const feeUsd = bonusUsd * protocolFeeShare;
  out.debtRepaidUsd = debtUsd;
  out.collateralSeizedUsd = seizedUsd;
  out.protocolFeeUsd = feeUsd;
  out.liquidatorCollateralUsd = seizedUsd - feeUsd;
  out.bonusUsd = bonusUsd;
  return out;
}

/**
 * The v3.3 dust rule (LiquidationLogic.executeLiquidationCall, `MUST_NOT_LEAVE_DUST`): unless the call repays the
 * whole reserve debt or seizes the whole reserve collateral, both leftovers must be ≥ minLeftoverBaseUsd.
 * Collateral leftover counts the protocol fee as taken (balance − liquidator part − fee), as the v3.3 feature doc
 * says ("debt or collateral after the liquidation") and as later aave-v3-origin versions compute it; the v3.3.0
 * code subtracted only the liquidator's part (`userCollateralBalance − actualCollateralToLiquidate`).
 */
function leavesDust(
  debtUsd: number,
  seizedUsd: number,
  reserveDebtUsd: number,
  reserveCollateralUsd: number,
  minLeftoverUsd: number,
): boolean {
  if (debtUsd >= reserveDebtUsd || seizedUsd >= reserveCollateralUsd) return false;
  return reserveDebtUsd - debtUsd < minLeftoverUsd || reserveCollateralUsd - seizedUsd < minLeftoverUsd;
}

/**
 * One liquidation call against one (collateral reserve, debt reserve) pair, given what the liquidator wants to repay
 * (`wantedDebtUsd`, e.g. its capital or Infinity for "as much as allowed"). Fills and returns `out` (no allocation).
 *
 * Steps (LiquidationLogic.executeLiquidationCall and _calculateAvailableCollateralToLiquidate):
 * 1. not liquidatable (HF ≥ 1, no reserve debt or collateral, nothing wanted) → all zeros (Aave reverts);
 * 2. debt = min(wantedDebtUsd, {@link maxLiquidatableDebtUsd});
 * 3. seized = debt × liquidationBonus; if that exceeds the collateral balance, seized = the whole balance and
 *    debt = balance / liquidationBonus (the rest of the debt stays; if the account has no other collateral it becomes
 *    a v3.3 deficit, see {@link liquidationDeficitUsd});
 * 4. dust rule: if the call is partial (debt < reserve debt and seized < reserve collateral) and would leave less
 *    than minLeftoverBaseUsd of debt or of collateral, Aave reverts; modelled as the liquidator taking everything
 *    allowed instead (debt = the close-factor cap, step 3 again). NOTE: debtRepaidUsd can then exceed
 *    wantedDebtUsd. If even that is partial and leaves dust (possible only under the 50% cap), the liquidator
 *    repays the largest dust-free amount, min(cap, reserveDebt − minLeftover, (reserveCollateral − minLeftover) /
 *    bonus), or nothing if that is ≤ 0 — the amounts for which Aave would not revert.
 * 5. bonus part = seized − debt; protocol fee = bonus part × protocolFeeShare; liquidator gets seized − fee.
 *
 * @param hf account health factor (dimensionless).
 * @param reserveDebtUsd the account's debt in the debt reserve (USD).
 * @param reserveCollateralUsd the account's balance in the collateral reserve (USD).
 * @param wantedDebtUsd debt the liquidator is willing to repay (USD; Infinity = as much as allowed).
 * @param liquidationBonus Aave's fractional encoding, ≥ 1: 1.05 for a 5% bonus (eMode bonus if the account uses it).
 * @param protocolFeeShare in [0, 1]: the reserve's liquidationProtocolFee, share of the bonus part to the treasury.
 * @param rules liquidation constants (use {@link AAVE_V3}).
 * @param out result object to fill (USD fields).
 * @param totalDebtUsd the account's debt over all reserves (USD), for the close factor; defaults to reserveDebtUsd.
 * @returns `out`.
 */
export function quoteLiquidation(
  hf: number,
  reserveDebtUsd: number,
  reserveCollateralUsd: number,
  wantedDebtUsd: number,
  liquidationBonus: number,
  protocolFeeShare: number,
  rules: AaveLiquidationRules,
  out: LiquidationQuote,
  totalDebtUsd: number = reserveDebtUsd,
): LiquidationQuote {
  const capUsd = maxLiquidatableDebtUsd(hf, reserveDebtUsd, reserveCollateralUsd, rules, totalDebtUsd);
  if (!(capUsd > 0) || !(reserveCollateralUsd > 0) || !(wantedDebtUsd > 0)) return setQuote(out, 0, 0, 0);

  let debt = wantedDebtUsd < capUsd ? wantedDebtUsd : capUsd;
  let seized = debt * liquidationBonus; // baseCollateral.percentMul(liquidationBonus)
  if (seized > reserveCollateralUsd) {
    seized = reserveCollateralUsd;
    debt = reserveCollateralUsd / liquidationBonus;
  }

  const minLeft = rules.minLeftoverBaseUsd;
  if (leavesDust(debt, seized, reserveDebtUsd, reserveCollateralUsd, minLeft)) {
    debt = capUsd;
    seized = debt * liquidationBonus;
    if (seized > reserveCollateralUsd) {
      seized = reserveCollateralUsd;
      debt = reserveCollateralUsd / liquidationBonus;
    }
    if (leavesDust(debt, seized, reserveDebtUsd, reserveCollateralUsd, minLeft)) {
      // Here debt = cap < reserve debt and seized < reserve collateral: shrink to the largest amount leaving
      // ≥ minLeft of both (never collateral-limited, as (C − minLeft)/bonus × bonus < C).
      debt = Math.min(capUsd, reserveDebtUsd - minLeft, (reserveCollateralUsd - minLeft) / liquidationBonus);
      if (!(debt > 0)) return setQuote(out, 0, 0, 0);
      seized = debt * liquidationBonus;
    }
  }
  return setQuote(out, debt, seized, protocolFeeShare);
}

/**
 * v3.3 deficit created by a liquidation (USD): when the seized collateral is all the collateral the account has
 * (LiquidationLogic.executeLiquidationCall: `hasNoCollateralLeft = totalCollateralInBaseCurrency ==
 * collateralToLiquidateInBaseCurrency`), the remaining debt of the repaid reserve (_burnDebtTokens) and of every other
 * debt reserve (_burnBadDebt) is burned and booked as reserve deficit. Otherwise 0.
 * @param totalCollateralUsd the account's collateral over all reserves before the call (USD).
 * @param totalDebtUsd the account's debt over all reserves before the call (USD).
 * @param q the quote of the call.
 * @returns USD of debt written off into reserve deficits (0 when collateral remains).
 */
export function liquidationDeficitUsd(totalCollateralUsd: number, totalDebtUsd: number, q: LiquidationQuote): number {
  if (!(q.collateralSeizedUsd > 0) || q.collateralSeizedUsd < totalCollateralUsd) return 0;
  const rest = totalDebtUsd - q.debtRepaidUsd;
  return rest > 0 ? rest : 0;
}

/**
 * A looped position built to a target leverage L = collateral / equity from equity E (USD) in one collateral asset
 * against one stable debt: collateral = L·E, debt = (L−1)·E. Valid only when the resulting LTV (debt/collateral =
 * (L−1)/L) does not exceed the asset's max LTV (ValidationLogic.validateBorrow: `collateralNeededInBaseCurrency =
 * debt.percentDiv(ltv) <= userCollateralInBaseCurrency`); a target above 1/(1−maxLtv) is clamped to it (a caller may
 * clamp slightly below to stay strictly under), a target below 1 to 1 (no borrowing).
 * @param equityUsd the owner's own capital E (USD).
 * @param targetLeverage wanted collateral / equity (dimensionless, ≥ 1).
 * @param maxLtv the collateral's max loan-to-value (fraction, < 1).
 * @param liquidationThreshold the collateral's liquidation threshold (fraction).
 * @returns collateralUsd and debtUsd (USD), the leverage used, and the starting health factor (Infinity at L = 1).
 */
export function loopPosition(
  equityUsd: number,
  targetLeverage: number,
  maxLtv: number,
  liquidationThreshold: number,
): { collateralUsd: number; debtUsd: number; leverage: number; healthFactor: number } {
  const maxLeverage = maxLtv < 1 ? 1 / (1 - maxLtv) : Infinity;
  let leverage = targetLeverage > maxLeverage ? maxLeverage : targetLeverage;
  if (!(leverage > 1)) leverage = 1;
  const collateralUsd = leverage * equityUsd;
  const debtUsd = (leverage - 1) * equityUsd;
  return { collateralUsd, debtUsd, leverage, healthFactor: healthFactor(collateralUsd * liquidationThreshold, debtUsd) };
}

/**
 * Price fall of the collateral (fraction, 0..1) at which a single-collateral, stable-debt position reaches HF = 1:
 * 1 − debt/(collateral × threshold). Clamped to [0, 1]: 0 when HF ≤ 1 already, 1 when there is no debt.
 * @param collateralUsd collateral value now (USD).
 * @param debtUsd debt value (USD, stable).
 * @param liquidationThreshold the collateral's liquidation threshold (fraction).
 */
export function liquidationDrawdown(collateralUsd: number, debtUsd: number, liquidationThreshold: number): number {
  if (!(debtUsd > 0)) return 1;
  const weighted = collateralUsd * liquidationThreshold;
  if (!(weighted > debtUsd)) return 0;
  return 1 - debtUsd / weighted;
}
