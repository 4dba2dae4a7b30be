// Stage 2, after the impact decay and before the arbitrageurs: the algorithmic stables
// (assets[].derived.kind "algorithmicStable"; src/model/algorithmicStable.ts). For each, in asset order:
//   the run: from run.startStep the holders sell a share of what they still hold into the stable's
//     market (runShare: a steady share plus panic in proportion to the discount to the peg), and the
//     collateral's holders a share of theirs in proportion to the same discount;
//   the swap: when the stable trades under its face value less the swap's spread, a desk buys it in
//     the market, redeems it through the protocol's swap for its face value less the spread in newly
//     minted collateral at the oracle's price (Terra's market module), and sells that collateral into
//     its market. It trades the quantity that maximises its profit (concave: the stable's price rises
//     as it buys, the spread widens as the pool delta grows, the collateral's price falls as it sells),
//     so it never loses on a step. The mint then dilutes the collateral: its fundamental × S / (S + minted).
//     The swap shuts for good once the oracle's price of the collateral is under swap.haltBelowPriceUsd,
//     or when a mint would take the collateral's fundamental under 1e-12 of its initial price.
// Cash goes through the USD ledger and units through the unit ledger (minted and burned, recorded),
// so both balance. The run is an origin of attribution ("<symbol> run"); each swap is caused by the
// latest sale or depeg of the stable, and is the latest mover down of the collateral.
import type { World } from '../../model/world.ts';
import { MIN_COLLATERAL_PRICE_SHARE, recoveredDelta, runShare, swapReceivedUsd } from '../../model/algorithmicStable.ts';
import { EventKindCode } from '../record.ts';
import { MARKET, MARKET_LIMIT, MARKET_WITHIN, quantityWithinLimitAt, quoteFill, tradeIntoMarket, updateMarketPrice } from '../market.ts';
import { latestMove, noteMarketTrade, noteShock } from '../causes.ts';

/** Golden-section steps of the desk's search (the bracket shrinks by 0.618 each: 2^-69 after 100). */
const SEARCH_STEPS = 100;
const INV_PHI = (Math.sqrt(5) - 1) / 2;
/** Pool delta after a swap (swapReceivedUsd's out). */
const DELTA_OUT = new Float64Array(1);

export function stablecoins(w: World): void {
  const S = w.stables;
  for (let k = 0; k < S.n; k++) {
    run(w, k);
    swap(w, k);
    const share = w.market[S.asset[k]!]! / S.faceUsd[k]!;
    if (share < S.minMarketShare[k]!) S.minMarketShare[k] = share;
  }
}

/** The holders' sale of this step, and the collateral's holders' (both read the discount before either sells). */
function run(w: World, k: number): void {
  const S = w.stables;
  if (S.runStartStep[k]! < 0 || w.step < S.runStartStep[k]!) return;
  const a = S.asset[k]!;
  const market = w.market[a]!;
  const share = runShare(S.runSharePerStep[k]!, S.runPanic[k]!, S.runMaxShare[k]!, market, S.faceUsd[k]!);
  S.runSoldUsd[k] = S.runSoldUsd[k]! + runSale(w, k, a, S.holderUnits[k]!, S.holderCash[k]!, w.units.qty[S.holderUnits[k]!]! * share);
  const panic = runShare(0, S.collateralPanic[k]!, S.runMaxShare[k]!, market, S.faceUsd[k]!);
  const c = S.collateral[k]!;
  runSale(w, k, c, S.collateralHolderUnits[k]!, S.collateralHolderCash[k]!, w.units.qty[S.collateralHolderUnits[k]!]! * panic);
}

/**
 * Holders (units `from`, cash `cash`) sell q units of asset a into its market: a `stable_run` event, the
 * run's first its root and every later one hanging from it. Returns the USD raised (0 when q is not positive).
 */
function runSale(w: World, k: number, a: number, from: number, cash: number, q: number): number {
  if (!(q > 0)) return 0;
  const S = w.stables;
  const price = tradeIntoMarket(w, a, q);
  const usd = q * price;
  w.ledger.transfer(w.lending.externalCashHolder, cash, usd);
  w.units.transfer(from, w.lending.externalUnitHolder[a]!, q);
  const id = w.events.push(w.step, w.round, EventKindCode.stable_run, -1, -1, a, q, price, usd, S.runEventId[k]!);
  if (S.runEventId[k]! < 0) S.runEventId[k] = id;
  noteMarketTrade(w, a, id, q);
  return usd;
}

/** The desk's profit (USD) from redeeming q tokens of stable k now, without trading (exported for tests). */
export function deskProfitUsd(w: World, k: number, q: number): number {
  if (!(q > 0)) return 0;
  const S = w.stables;
  const value = swapReceivedUsd(q * S.faceUsd[k]!, S.poolDelta[k]!, S.basePoolUsd[k]!, S.recoveryBlocks[k]!, S.minSpread[k]!, S.blocksPerStep[k]!, DELTA_OUT);
  const minted = value / w.oraclePrice[S.oracle[k]!]!;
  const proceeds = minted > 0 ? minted * quoteFill(w, S.collateral[k]!, minted) : 0;
  return proceeds - q * quoteFill(w, S.asset[k]!, -q);
}

/** The desk's redemption of this step (the rules above); the pool recovers whatever it does. */
function swap(w: World, k: number): void {
  const S = w.stables;
  const a = S.asset[k]!;
  const c = S.collateral[k]!;
  const oraclePrice = w.oraclePrice[S.oracle[k]!]!;
  if (S.haltStep[k]! < 0 && oraclePrice < S.haltBelowPriceUsd[k]!) S.haltStep[k] = w.step;
  const q = S.haltStep[k]! < 0 ? bestRedemption(w, k, oraclePrice) : 0;
  if (!(q > 0)) {
    S.poolDelta[k] = recoveredDelta(S.poolDelta[k]!, S.recoveryBlocks[k]!, S.blocksPerStep[k]!);
    return;
  }
  const face = S.faceUsd[k]!;
  const value = swapReceivedUsd(q * face, S.poolDelta[k]!, S.basePoolUsd[k]!, S.recoveryBlocks[k]!, S.minSpread[k]!, S.blocksPerStep[k]!, DELTA_OUT);
  const minted = value / oraclePrice;
  // Every collateral token is a claim on the same value: the new ones dilute it.
  const supply = S.collateralSupply0[k]! + S.collateralMinted[k]!;
  const diluted = (w.fundamental[c]! * supply) / (supply + minted);
  if (diluted < MIN_COLLATERAL_PRICE_SHARE * S.collateralInitialPrice[k]!) {
    // The model's floor: the swap shuts rather than take the collateral's price towards 0.
    S.haltStep[k] = w.step;
    S.poolDelta[k] = recoveredDelta(S.poolDelta[k]!, S.recoveryBlocks[k]!, S.blocksPerStep[k]!);
    return;
  }
  S.poolDelta[k] = DELTA_OUT[0]!;
  const desk = S.deskCash[k]!;
  const outside = w.lending.externalCashHolder;
  // Sell the minted collateral first (at the fundamental it was quoted at), then buy the stable and
  // burn it: the proceeds cover the purchase (deskProfitUsd > 0).
  w.units.mint(S.deskCollateralUnits[k]!, minted);
  const fill = tradeIntoMarket(w, c, minted);
  w.ledger.transfer(outside, desk, minted * fill);
  w.units.transfer(S.deskCollateralUnits[k]!, w.lending.externalUnitHolder[c]!, minted);
  const cost = q * tradeIntoMarket(w, a, -q);
  w.ledger.transfer(desk, outside, cost);
  w.units.transfer(w.lending.externalUnitHolder[a]!, S.deskStableUnits[k]!, q);
  w.units.burn(S.deskStableUnits[k]!, q);
  w.fundamental[c] = diluted;
  updateMarketPrice(w, c);
  S.collateralMinted[k] = S.collateralMinted[k]! + minted;
  S.burned[k] = S.burned[k]! + q;
  S.redeemedUsd[k] = S.redeemedUsd[k]! + q * face;
  const id = w.events.push(w.step, w.round, EventKindCode.stable_swap, -1, -1, c, minted, fill, q * face, latestMove(w, a, true));
  noteMarketTrade(w, c, id, minted);
  noteShock(w, c, id, -1);
  noteMarketTrade(w, a, id, -q);
}

/**
 * The units of the stable whose redemption maximises the desk's profit now (0 when none pays): a
 * golden-section search of the concave profit over [0, hi], hi the units it can buy before the stable's
 * marginal price passes face × (1 − minSpread) × the collateral's market price / the oracle's (past
 * it no unit pays even before the spread widens and the collateral falls), and no more than the market
 * holds: the units sold into it (by the run, by liquidators) and not bought back. The holders who have
 * not sold are not in the market.
 */
function bestRedemption(w: World, k: number, oraclePrice: number): number {
  const S = w.stables;
  if (!(S.basePoolUsd[k]! > 0) || !(oraclePrice > 0)) return 0;
  const a = S.asset[k]!;
  MARKET[MARKET_LIMIT] = (S.faceUsd[k]! * (1 - S.minSpread[k]!) * w.market[S.collateral[k]!]!) / oraclePrice;
  quantityWithinLimitAt(w, a, -1);
  const hi = Math.min(MARKET[MARKET_WITHIN]!, w.units.qty[w.lending.externalUnitHolder[a]!]!);
  if (!(hi > 0)) return 0;
  let lo = 0;
  let top = hi;
  let x1 = top - INV_PHI * (top - lo);
  let x2 = lo + INV_PHI * (top - lo);
  let f1 = deskProfitUsd(w, k, x1);
  let f2 = deskProfitUsd(w, k, x2);
  for (let i = 0; i < SEARCH_STEPS; i++) {
    if (f1 < f2) {
      lo = x1;
      x1 = x2;
      f1 = f2;
      x2 = lo + INV_PHI * (top - lo);
      f2 = deskProfitUsd(w, k, x2);
    } else {
      top = x2;
      x2 = x1;
      f2 = f1;
      x1 = top - INV_PHI * (top - lo);
      f1 = deskProfitUsd(w, k, x1);
    }
  }
  const q = f1 >= f2 ? x1 : x2;
  return deskProfitUsd(w, k, q) > 0 ? q : 0;
}
