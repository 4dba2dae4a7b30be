// Algorithmic stablecoins redeemed by minting a collateral token (Terra's UST and LUNA, May 2022):
// the valuation and swap rules as plain functions over numbers, and the state the engine keeps
// (engine/phases/stablecoins.ts trades; engine/phases/evolveFundamentals.ts values).
//
// The swap is Terra's market module (terra-money/classic-core, x/market, the columbus-5 code):
// a holder offers stable tokens worth `offer` USD at the peg and receives that value, less a spread,
// in newly minted collateral priced at the protocol's oracle (keeper/swap.go ComputeInternalSwap:
// retAmount = offer × askRate / offerRate). The spread comes from a virtual constant-product pool of
// depth B on each side (keeper/swap.go ComputeSwap):
//   terraPool = B + δ, lunaPool = B² / terraPool, ask = lunaPool − B² / (terraPool + offer),
//   spread = max(minSpread, (offer − ask) / offer),
// the swap adds the offer to the pool delta δ, and every block the delta recovers by δ / R
// (spec/03_end_block.md: regressionAmt = delta / PoolRecoveryPeriod). Defaults in the code: B = 1M
// SDR, R = 14,400 blocks, minSpread 2% (types/params.go); on mainnet in May 2022 B = 50M SDR and
// R = 36 blocks until proposal 1164 raised B to 100M and cut R to 18 ("minting capacity will increase
// from $293M to ~$1200M", classic-agora.terra.money, thread 6837), and the live minimum spread was
// 0.5% (classic-docs.terra.money, spec-market).
import type { Scenario } from '../experiment/schema.ts';
import { denseId, type DependencyGraph } from '../graph/build.ts';

/**
 * USD value (at the oracle) received for offering `offerUsd` of stable tokens over a step of `blocks`
 * blocks (dt / blockSeconds, not necessarily whole) at an even rate, from pool delta `delta0`. A step of
 * at least one block is round(blocks) blocks, each a swap of its share o of the offer paying (1 − spread)
 * × o, spread = max(minSpread, 1 − B² / ((B + δ)(B + δ + o))), then δ += o and the block ends with
 * δ −= δ / R. A step shorter than a block is one swap of the whole offer, after which the delta recovers
 * by the step's share of a block, (1 − 1/R)^blocks. Writes the delta after the step into out[0] and
 * returns the value. A base pool of 0 or less pays nothing (the swap is shut).
 */
export function swapReceivedUsd(
  offerUsd: number,
  delta0: number,
  basePoolUsd: number,
  recoveryBlocks: number,
  minSpread: number,
  blocks: number,
  out: Float64Array,
): number {
  const b = basePoolUsd;
  const n = blocks < 1 ? 1 : Math.round(blocks);
  const o = offerUsd / n;
  const keep = blocks < 1 ? Math.pow(1 - 1 / recoveryBlocks, blocks) : 1 - 1 / recoveryBlocks;
  let delta = delta0;
  let received = 0;
  for (let k = 0; k < n; k++) {
    if (o > 0 && b > 0) {
      const cp = 1 - (b * b) / ((b + delta) * (b + delta + o));
      received += o * (1 - Math.max(minSpread, cp));
      delta += o;
    }
    delta *= keep;
  }
  out[0] = delta;
  return b > 0 ? received : 0;
}

/** Pool delta after `blocks` blocks without swaps: δ (1 − 1/R)^blocks. */
export function recoveredDelta(delta: number, recoveryBlocks: number, blocks: number): number {
  return delta * Math.pow(1 - 1 / recoveryBlocks, blocks);
}

/**
 * Fundamental of the stable (USD per token): face × min(1, backing × (1 − confidenceDiscount)),
 * backing = collateral market cap / (stable supply × face), floored at 1e-6 × face (prices stay
 * positive). Modelling choice: a holder's claim is worth the peg while the collateral's market cap,
 * discounted for the market's doubt that it can be sold at that price, covers the supply, and that
 * share of the peg below (continuous at the line).
 */
export function stableFundamentalUsd(faceUsd: number, collateralCapUsd: number, supplyUnits: number, confidenceDiscount: number): number {
  const backing = supplyUnits > 0 ? Math.max(0, collateralCapUsd) / (supplyUnits * faceUsd) : 1;
  return faceUsd * Math.max(MIN_STABLE_SHARE, Math.min(1, backing * (1 - confidenceDiscount)));
}

/** The swap shuts rather than dilute the collateral's fundamental under this share of its initial price (prices stay positive). */
export const MIN_COLLATERAL_PRICE_SHARE = 1e-12;

/** Lowest fundamental as a share of the face value. */
export const MIN_STABLE_SHARE = 1e-6;

/**
 * Share of what the holders still hold that they sell in one step of the run:
 * min(maxShare, share + panic × discount), discount = max(0, 1 − market / face).
 */
export function runShare(sharePerStep: number, panicPerDiscount: number, maxSharePerStep: number, market: number, faceUsd: number): number {
  const discount = Math.max(0, 1 - market / faceUsd);
  return Math.min(maxSharePerStep, sharePerStep + panicPerDiscount * discount);
}

export interface StableState {
  readonly n: number;
  /** The stable asset, its collateral asset and the oracle the swap mints at. */
  readonly asset: Int32Array;
  readonly collateral: Int32Array;
  readonly oracle: Int32Array;
  /** The peg, USD per token (the asset's initial price). */
  readonly faceUsd: Float64Array;
  /** Stable tokens outstanding at step 0 (supplyUnits). */
  readonly supply0: Float64Array;
  /** Collateral tokens outstanding at step 0 and minted by the swap since. */
  readonly collateralSupply0: Float64Array;
  readonly collateralMinted: Float64Array;
  /** Stable tokens burned by the swap. */
  readonly burned: Float64Array;
  readonly confidenceDiscount: Float64Array;
  /** The swap: base pool (USD), recovery period and blocks per step (dt / blockSeconds), minimum spread; the pool delta now. */
  readonly basePoolUsd: Float64Array;
  readonly recoveryBlocks: Float64Array;
  readonly blocksPerStep: Float64Array;
  readonly minSpread: Float64Array;
  readonly poolDelta: Float64Array;
  /** The swap shuts once the oracle's price of the collateral is under this (0: no such rule); the step it shut (-1: open). */
  readonly haltBelowPriceUsd: Float64Array;
  readonly haltStep: Int32Array;
  /** The collateral's initial price (its fundamental's floor is MIN_COLLATERAL_PRICE_SHARE of it). */
  readonly collateralInitialPrice: Float64Array;
  /** The holders' run: first step (-1: no run), share per step, panic share per unit of discount, cap. */
  readonly runStartStep: Int32Array;
  readonly runSharePerStep: Float64Array;
  readonly runPanic: Float64Array;
  readonly runMaxShare: Float64Array;
  /** Share of their collateral its holders sell per unit of the stable's discount each step of the run. */
  readonly collateralPanic: Float64Array;
  /** Unit-ledger holders: the holders' tokens, the swap desk's stable tokens and its collateral, the collateral's holders' tokens. */
  readonly holderUnits: Int32Array;
  readonly deskStableUnits: Int32Array;
  readonly deskCollateralUnits: Int32Array;
  readonly collateralHolderUnits: Int32Array;
  /** USD ledger holders: the holders' sale proceeds, the swap desk's profit, the collateral's holders' proceeds. */
  readonly holderCash: Int32Array;
  readonly deskCash: Int32Array;
  readonly collateralHolderCash: Int32Array;
  /** The run's first event (its root: "<symbol> run" in attribution); -1 before it. */
  readonly runEventId: Int32Array;
  /** Over the run: USD the holders' sales raised, face value redeemed, lowest market price / face. */
  readonly runSoldUsd: Float64Array;
  readonly redeemedUsd: Float64Array;
  readonly minMarketShare: Float64Array;
}

/** Unit-ledger holders per stable (stableUnits's order): the holders' supply, the desk's stable, the desk's collateral, the collateral's holders' supply. */
export const STABLE_UNIT_HOLDERS = 4;
/** USD ledger holders per stable: the holders' proceeds, the desk, the collateral's holders' proceeds. */
export const STABLE_CASH_HOLDERS = 3;

/** The algorithmic stables of a scenario, in asset order. */
export function stableAssets(s: Scenario) {
  return s.assets.flatMap((a) => (a.derived?.kind === 'algorithmicStable' ? [{ asset: a, d: a.derived }] : []));
}

/**
 * The stables' state: each takes STABLE_UNIT_HOLDERS unit-ledger holders from unitHolderStart and
 * STABLE_CASH_HOLDERS USD holders from cashHolderStart, all empty but the two supplies.
 */
export function buildStables(s: Scenario, graph: DependencyGraph, dt: number, unitHolderStart: number, cashHolderStart: number): StableState {
  const list = stableAssets(s);
  const n = list.length;
  const f = (g: (x: (typeof list)[number]) => number) => Float64Array.from(list, g);
  const unitHolder = (slot: number) => Int32Array.from(list, (_, k) => unitHolderStart + STABLE_UNIT_HOLDERS * k + slot);
  const cashHolder = (slot: number) => Int32Array.from(list, (_, k) => cashHolderStart + STABLE_CASH_HOLDERS * k + slot);
  return {
    n,
    asset: Int32Array.from(list, (x) => denseId(graph, 'asset', x.asset.symbol)),
    collateral: Int32Array.from(list, (x) => denseId(graph, 'asset', x.d.collateral)),
    oracle: Int32Array.from(list, (x) => denseId(graph, 'oracle', x.d.oracle)),
    faceUsd: f((x) => x.asset.initialPrice),
    supply0: f((x) => x.d.supplyUnits),
    collateralSupply0: f((x) => x.d.collateralSupplyUnits),
    collateralMinted: new Float64Array(n),
    burned: new Float64Array(n),
    confidenceDiscount: f((x) => x.d.confidenceDiscount),
    basePoolUsd: f((x) => x.d.swap.basePoolUsd),
    recoveryBlocks: f((x) => x.d.swap.poolRecoveryBlocks),
    blocksPerStep: f((x) => dt / x.d.swap.blockSeconds),
    minSpread: f((x) => x.d.swap.minSpread),
    poolDelta: new Float64Array(n),
    haltBelowPriceUsd: f((x) => x.d.swap.haltBelowPriceUsd ?? 0),
    haltStep: new Int32Array(n).fill(-1),
    collateralInitialPrice: f((x) => s.assets.find((b) => b.symbol === x.d.collateral)!.initialPrice),
    runStartStep: Int32Array.from(list, (x) => x.d.run?.startStep ?? -1),
    runSharePerStep: f((x) => x.d.run?.sharePerStep ?? 0),
    runPanic: f((x) => x.d.run?.panicSharePerDiscount ?? 0),
    runMaxShare: f((x) => x.d.run?.maxSharePerStep ?? 0),
    collateralPanic: f((x) => x.d.run?.collateralPanicSharePerDiscount ?? 0),
    holderUnits: unitHolder(0),
    deskStableUnits: unitHolder(1),
    deskCollateralUnits: unitHolder(2),
    collateralHolderUnits: unitHolder(3),
    holderCash: cashHolder(0),
    deskCash: cashHolder(1),
    collateralHolderCash: cashHolder(2),
    runEventId: new Int32Array(n).fill(-1),
    runSoldUsd: new Float64Array(n),
    redeemedUsd: new Float64Array(n),
    minMarketShare: new Float64Array(n).fill(1),
  };
}

/** The stables' unit-ledger holders at step 0, in buildStables's order: asset and units. */
export function stableUnits(s: Scenario, graph: DependencyGraph): { asset: number; qty: number }[] {
  return stableAssets(s).flatMap(({ asset, d }) => {
    const a = denseId(graph, 'asset', asset.symbol);
    const c = denseId(graph, 'asset', d.collateral);
    return [
      { asset: a, qty: d.supplyUnits },
      { asset: a, qty: 0 },
      { asset: c, qty: 0 },
      { asset: c, qty: d.collateralSupplyUnits },
    ];
  });
}
