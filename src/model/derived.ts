// Valuation rules of derived assets: each step (stage 9) an asset's fundamental is recomputed from
// another part of the system — a peg, a vault's NAV, a basis trade's backing, a bridge's reserves,
// or the market for a governance token minted to cover bad debt. This is the direct-contagion
// channel. Plain functions over numbers; random draws only from the Stream passed in.
import { averageImpactFactor, impactFactor, MIN_IMPACT_FACTOR } from './impact.ts';
import { normal, type Stream } from './random.ts';

// ——— Liquid-staking token ———

/** Highest peg an LST can reach: a small premium over the underlying, never a runaway one. */
export const MAX_LST_PEG = 1.05;
/** Lowest peg: keeps the LST's price positive, like MIN_IMPACT_FACTOR does for markets. */
export const MIN_LST_PEG = 1e-4;

/**
 * One step's inputs to an LST's peg. Not retained by nextPeg, so the engine can reuse one object
 * per asset and refill it each step (no allocation in the step loop).
 */
export interface LstPegStep {
  /** Share of the gap to the target closed per step, in [0, 1] (1 = snaps to the target). */
  meanReversionPerStep: number;
  /** Standard deviation of the peg's additive noise per step, in peg units (0.001 = 0.1%). */
  volPerStep: number;
  /** Target discount under stress, as a fraction of the underlying (0.06 = 6%). */
  stressDiscount: number;
  /** Whether the stress regime is on this step (the target becomes 1 − stressDiscount). */
  inStress: boolean;
  /**
   * Fraction in [0, 1] of the LST's supply trying to exit through the secondary market this step
   * (the engine's forced sales of the LST); values outside are clamped.
   */
  redemptionQueuePressure: number;
  /** Peg drop per unit of pressure (peg units per fraction of supply): drop = pressureImpact × pressure. */
  pressureImpact: number;
}

/**
 * Next peg (LST per unit of underlying) after one step, in [MIN_LST_PEG, MAX_LST_PEG]:
 *
 *   peg' = peg + meanReversionPerStep × (target − peg) − pressureImpact × pressure + volPerStep × z,
 *   target = 1 in calm, 1 − stressDiscount in stress, z ~ N(0, 1) from `rng`.
 *
 * A discrete Ornstein–Uhlenbeck step toward the target, pushed down by exits through the market.
 * Modelling choice: the stress target is a level the peg reverts to, not a floor. For scale, the
 * stETH/ETH discount in June 2022 (Celsius, 3AC and Alameda selling into a drained Curve pool)
 * passed 6% at worst (ForkLog, "Since early May, the largest stETH liquidity pool has shrunk
 * sevenfold", https://forklog.com/en/news/since-early-may-the-largest-steth-liquidity-pool-has-shrunk-sevenfold),
 * so stressDiscount ≈ 0.06 reproduces that episode; the pressure term is what lets liquidations of
 * the LST itself take it further.
 *
 * Draws exactly one normal per call, whatever volPerStep (0 included), so sweeping the volatility
 * does not shift later draws of the stream (common random numbers across sweep points).
 */
export function nextPeg(peg: number, p: LstPegStep, rng: Stream): number {
  const z = normal(rng);
  const target = p.inStress ? 1 - p.stressDiscount : 1;
  const pressure = Math.min(Math.max(p.redemptionQueuePressure, 0), 1);
  const next = peg + p.meanReversionPerStep * (target - peg) - p.pressureImpact * pressure + p.volPerStep * z;
  return Math.min(Math.max(next, MIN_LST_PEG), MAX_LST_PEG);
}

/** LST fundamental (USD per LST) = underlying fundamental (USD) × peg (underlying per LST). */
export function lstFundamentalUsd(underlyingFundamentalUsd: number, peg: number): number {
  return underlyingFundamentalUsd * peg;
}

// ——— Vault / LP share ———

/**
 * Price per share (USD) = NAV / supply, NAV = cash + Σ positions marked (computed by the engine).
 * A vault with NAV ≤ 0 is worth 0 (shareholders' liability is limited), and so is one with no
 * shares outstanding (nobody holds a claim; keeps the state finite).
 */
export function vaultSharePrice(navUsd: number, supplyShares: number): number {
  if (navUsd <= 0 || supplyShares <= 0) return 0;
  return navUsd / supplyShares;
}

// ——— Synthetic dollar backed by a basis trade (USDe-style) ———

/** A synthetic dollar's balance sheet at one step, all in USD except the supply. */
export interface SyntheticDollarBook {
  /** Mark value of the spot collateral (the long leg), USD. */
  spotCollateralUsd: number;
  /** Unrealized PnL of the perp shorts (the hedge), USD; positive when the price has fallen. */
  perpUnrealizedPnlUsd: number;
  /** Funding accrued to the shorts, USD; negative when funding is negative (shorts pay longs). */
  accruedFundingUsd: number;
  /** Socialized losses (ADL haircuts, clawbacks) borne by the hedge venue's accounts, USD, ≥ 0. */
  socializedLossUsd: number;
  /** Tokens outstanding. */
  supply: number;
}

/**
 * Backing per token (USD per token) = (spot + perp PnL + accrued funding − socialized loss) / supply.
 * Not clamped: a negative value says the backing is gone and by how much. No tokens outstanding
 * → 0.
 */
export function syntheticDollarBacking(b: SyntheticDollarBook): number {
  if (b.supply <= 0) return 0;
  return (b.spotCollateralUsd + b.perpUnrealizedPnlUsd + b.accruedFundingUsd - b.socializedLossUsd) / b.supply;
}

/**
 * Fundamental (USD per token) of a synthetic dollar, in [0, 1]:
 * - redemptions open and backing ≥ 1: 1 (redemption arbitrage holds the peg);
 * - otherwise min(1, max(0, backing)) × (1 − confidenceDiscount).
 *
 * Modelling choice: a holder of an under-backed token gets at most the backing and the market
 * prices in the risk that it falls further (confidenceDiscount, a fraction); with redemptions
 * gated the arbitrage that enforces the peg is gone, so the discount applies even when the token
 * is fully backed. The USDe print at $0.65 of October 2025 was a venue-local mark of a thin book,
 * not a loss of backing: that belongs to the oracle model, not here.
 */
export function syntheticDollarFundamental(
  backingPerToken: number,
  redeemable: boolean,
  confidenceDiscount: number,
): number {
  if (redeemable && backingPerToken >= 1) return 1;
  return Math.min(1, Math.max(0, backingPerToken)) * (1 - confidenceDiscount);
}

// ——— Bridged token ———

/**
 * Bridge solvency, a fraction in [0, 1]: reserves / wrapped supply capped at 1 (reserves below 0
 * count as 0; no wrapped supply → 1); a failed bridge pays `recoveryFraction` instead.
 */
export function bridgeSolvency(
  reservesQty: number,
  wrappedSupplyQty: number,
  failed: boolean,
  recoveryFraction: number,
): number {
  if (failed) return recoveryFraction;
  if (wrappedSupplyQty <= 0) return 1;
  return Math.min(1, Math.max(0, reservesQty) / wrappedSupplyQty);
}

/**
 * Fundamental (USD per wrapped token) = underlying price (USD) × bridge solvency (see
 * bridgeSolvency). `recoveryFraction` (0 = total loss, as in an exploit that drains the
 * reserves) is what a holder recovers once the bridge has failed.
 */
export function bridgedTokenFundamental(
  underlyingPrice: number,
  reservesQty: number,
  wrappedSupplyQty: number,
  failed: boolean,
  recoveryFraction: number,
): number {
  return underlyingPrice * bridgeSolvency(reservesQty, wrappedSupplyQty, failed, recoveryFraction);
}

/** How a bridge fails: at a scripted step, by a per-step chance, both, or never. */
export interface BridgeFailureRule {
  /** Step from which the bridge has failed (scripted); undefined = no scripted failure. */
  failAtStep?: number | undefined;
  /** Chance of failing in one step, in [0, 1]; undefined = no random failure. */
  failProbabilityPerStep?: number | undefined;
}

/**
 * Whether the bridge has failed by this step: true from `failAtStep` on, or with chance
 * `failProbabilityPerStep` in any step. The engine latches the result.
 *
 * Draw discipline: exactly one uniform whenever failProbabilityPerStep is set (0 included), none
 * otherwise, and never depending on failAtStep or on the outcome, so adding a scripted failure
 * does not shift any other draw of the stream and a sweep over the probability (from 0) keeps
 * common random numbers.
 */
export function bridgeFails(step: number, rule: BridgeFailureRule, rng: Stream): boolean {
  let fails = rule.failAtStep !== undefined && step >= rule.failAtStep;
  if (rule.failProbabilityPerStep !== undefined) {
    if (rng.uniform() < rule.failProbabilityPerStep) fails = true;
  }
  return fails;
}

// ——— Governance token minted to cover bad debt ———

/** Result of mintAndSellToCover. */
export interface MintAndSellResult {
  /** Governance tokens minted and sold (quantity, ≤ maxMint). */
  minted: number;
  /** USD raised by the sale. */
  proceedsUsd: number;
  /** Deficit left uncovered (USD, ≥ 0): > 0 only when the maximum mint did not raise enough. */
  uncoveredUsd: number;
  /** Market price right after the sale: fundamental × g(x1), USD per token. */
  priceAfter: number;
}

/**
 * Mint governance tokens and sell them into their market until the proceeds equal the deficit
 * (MakerDAO's MKR debt auctions after 12 March 2020; Aave's safety module), capped at `maxMint`.
 *
 * The market is the project's impact model (impact.ts, as in engine/market.ts): the state x is the
 * net sold share of depth, price = fundamental × g(x), and selling q tokens moves x by
 * q × fundamental / depth and fills at the average of g over the move. The proceeds of moving x
 * from x0 to x1 are therefore depthUsd × (x1 − x0) × averageImpactFactor(x0, x1) = depthUsd × ∫ g,
 * increasing in x1; the x1 that raises the deficit is found by bisection to adjacent doubles.
 * Selling `minted` through engine/market.ts tradeIntoMarket fills at the same average price.
 *
 * Degenerate markets (fundamental ≤ 0 or depth ≤ 0) raise nothing; a deficit ≤ 0 mints nothing.
 *
 * @param deficitUsd       bad debt to cover, USD
 * @param fundamentalUsd   the governance token's fundamental price, USD per token
 * @param impactState      current impact state x0 (permanent + temporary), share of depth
 * @param impactModel      ImpactCode of the token's market
 * @param impactCoefficient the curve's coefficient (impact.ts)
 * @param depthUsd         market depth, USD (as World.depthUsd)
 * @param maxMint          most tokens that may be minted (Infinity = no cap)
 * @param out              optional result object to fill (no allocation when given)
 */
export function mintAndSellToCover(
  deficitUsd: number,
  fundamentalUsd: number,
  impactState: number,
  impactModel: number,
  impactCoefficient: number,
  depthUsd: number,
  maxMint: number,
  out: MintAndSellResult = { minted: 0, proceedsUsd: 0, uncoveredUsd: 0, priceAfter: 0 },
): MintAndSellResult {
  const x0 = impactState;
  out.minted = 0;
  out.proceedsUsd = 0;
  out.uncoveredUsd = Math.max(0, deficitUsd);
  out.priceAfter = fundamentalUsd > 0 ? fundamentalUsd * impactFactor(impactModel, impactCoefficient, x0) : 0;
  if (deficitUsd <= 0 || fundamentalUsd <= 0 || depthUsd <= 0 || !(maxMint > 0)) return out;

  // Selling everything allowed moves x to xCap. g ≥ MIN_IMPACT_FACTOR bounds the move that raises
  // the deficit, so the bracket is finite even without a cap.
  const xCap = x0 + (maxMint * fundamentalUsd) / depthUsd;
  const xEnough = x0 + deficitUsd / (depthUsd * MIN_IMPACT_FACTOR);
  const capped = xCap <= xEnough && saleProceedsUsd(impactModel, impactCoefficient, depthUsd, x0, xCap) <= deficitUsd;
  let x1 = xCap;
  if (!capped) {
    let lo = x0;
    let hi = Math.min(xCap, xEnough);
    // Bisection to adjacent doubles: at most ~1,100 halvings over the whole double range.
    for (let i = 0; i < 2000; i++) {
      const mid = lo + 0.5 * (hi - lo);
      if (mid <= lo || mid >= hi) break;
      if (saleProceedsUsd(impactModel, impactCoefficient, depthUsd, x0, mid) < deficitUsd) lo = mid;
      else hi = mid;
    }
    x1 = hi;
  }
  const proceedsUsd = saleProceedsUsd(impactModel, impactCoefficient, depthUsd, x0, x1);
  // Within the cap even where x0 + cap's move rounds: (x1 − x0) recovers that move only to the
  // precision of x0's doubles (found by the property test with x0 ≈ 0.25: 2e-11 over the cap).
  out.minted = capped ? maxMint : Math.min(maxMint, ((x1 - x0) * depthUsd) / fundamentalUsd);
  out.proceedsUsd = proceedsUsd;
  out.uncoveredUsd = Math.max(0, deficitUsd - proceedsUsd);
  out.priceAfter = fundamentalUsd * impactFactor(impactModel, impactCoefficient, x1);
  return out;
}

/**
 * USD raised by moving the impact state from x0 to x1 > x0: depth × (x1 − x0) × average g, which
 * is quantity × fill price as engine/market.ts computes it (midpoint rule on short moves).
 */
function saleProceedsUsd(model: number, coefficient: number, depthUsd: number, x0: number, x1: number): number {
  return depthUsd * (x1 - x0) * averageImpactFactor(model, coefficient, x0, x1);
}
