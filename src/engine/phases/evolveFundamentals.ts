// Stage 1: exogenous moves of the fundamental prices. The regime (calm or stress) switches by a
// Markov chain or at a scripted step; log-returns are correlated through the regime's Cholesky
// factor, with Merton jumps and scripted shocks on top; an asset with a recorded path replays its
// returns instead. Draws come from the prices stream only, in a fixed number per step, so behaviour
// never shifts the price path.
import { EventKindCode } from '../record.ts';
import { normal, poisson } from '../../model/random.ts';
import { DerivedKind, type World } from '../../model/world.ts';
import {
  bridgeFails,
  lstFundamentalUsd,
  nextPeg,
  syntheticDollarFundamental,
  vaultSharePrice,
  type BridgeFailureRule,
  type LstPegStep,
} from '../../model/derived.ts';
import { stableFundamentalUsd } from '../../model/algorithmicStable.ts';
import { accountNavUsd } from '../accounts.ts';
import { causeFor, followUnderlying, latestMove, latestShock, latestTrade, noteShock } from '../causes.ts';

export function evolveFundamentals(w: World): void {
  switchRegime(w);
  const n = w.nAssets;
  const z = w.normals;
  for (let i = 0; i < n; i++) z[i] = normal(w.prices);
  const l = w.choleskyByRegime[w.regime as 0 | 1];
  const volMult = w.volMultiplier[w.regime]!;
  const jumpMult = w.jumpMultiplier[w.regime]!;
  for (let i = 0; i < n; i++) {
    let eps = 0;
    for (let k = 0; k <= i; k++) eps += l[i * n + k]! * z[k]!;
    const sigma = w.volPerStep[i]! * volMult;
    // Merton: jumps arrive Poisson(λ dt); the sum of k log-jumps is N(kμ, kσ_J²). One uniform
    // and one normal are drawn per asset whatever the outcome, keeping the stream aligned.
    const lambda = w.jumpLambdaPerStep[i]! * jumpMult;
    const k = poisson(w.prices, lambda);
    const zJump = normal(w.prices);
    const mu = w.jumpMean[i]!;
    const sd = w.jumpStd[i]!;
    const jump = k * mu + Math.sqrt(k) * sd * zJump;
    const compensator = lambda * (Math.exp(mu + 0.5 * sd * sd) - 1);
    const replay = w.replayStart[i]!;
    if (replay >= 0) {
      // A replayed path (assets[].pricePath): the series' return over this step, the draws above
      // made all the same so that no other asset's path depends on which are replayed.
      const r = replay + w.step;
      if (w.step === 0) startReplay(w, i);
      w.fundamental[i] = w.fundamental[i]! * (w.replayPrices[r + 1]! / w.replayPrices[r]!);
      continue;
    }
    const logReturn = w.driftPerStep[i]! - 0.5 * sigma * sigma - compensator + sigma * eps + jump;
    w.fundamental[i] = w.fundamental[i]! * Math.exp(logReturn);
  }
  applyShocks(w);
  updateDerived(w);
}

/**
 * Derived assets (liquid-staking tokens): the peg moves toward its target (1, or 1 − the stress
 * discount under stress) and is pushed down by the previous step's net sales of the token into its
 * market as a share of depth — liquidations that dump the token weaken its value, not only its
 * market price. Then fundamental = underlying fundamental × peg. This is stage 9 of the previous
 * step (derived values from the system), done here so that it sees this step's underlying price.
 * One normal per derived asset per step, drawn only when the scenario has derived assets.
 */
function updateDerived(w: World): void {
  updateBridges(w);
  updateStables(w);
  for (let a = 0; a < w.nAssets; a++) {
    const u = w.derivedUnderlying[a]!;
    const sold = w.soldUsdThisStep[a]!;
    w.soldUsdThisStep[a] = 0;
    const kind = w.derivedKind[a]!;
    if (kind === DerivedKind.vaultShare || kind === DerivedKind.syntheticDollar) {
      updateAccountBacked(w, a, kind);
      continue;
    }
    if (u < 0) continue;
    if (kind === DerivedKind.bridged) {
      updateBridged(w, a, u);
      continue;
    }
    pegStep.meanReversionPerStep = w.pegReversionPerStep[a]!;
    pegStep.volPerStep = w.pegVolPerStep[a]!;
    pegStep.stressDiscount = w.pegStressDiscount[a]!;
    pegStep.inStress = w.regime === 1;
    pegStep.redemptionQueuePressure = sold > 0 ? sold / w.depthUsd[a]! : 0;
    pegStep.pressureImpact = w.pegPressureImpact[a]!;
    w.peg[a] = nextPeg(w.peg[a]!, pegStep, w.prices);
    w.fundamental[a] = lstFundamentalUsd(w.fundamental[u]!, w.peg[a]!);
    // A move of the underlying moves the token: its holders' troubles trace back to that shock.
    followUnderlying(w, a, u);
    // A fall of the peg is an event of its own (the derived-asset channel of attribution), once it
    // adds up to DEPEG_EVENT_THRESHOLD since the last one: caused by the latest forced sale of the
    // token when sales pushed it this step, else by the regime switch that set a stress target.
    if (pegFell(w, a)) {
      const trade = latestTrade(w, a);
      recordDepeg(w, a, w.fundamental[u]!, sold > 0 && trade >= 0 ? trade : w.regime === 1 ? w.regimeEvent : -1);
    }
  }
}

/**
 * Whether asset a's peg has fallen DEPEG_EVENT_THRESHOLD under the level of its last depeg event (or
 * its high since); if not, a higher peg becomes that level.
 */
function pegFell(w: World, a: number): boolean {
  if (w.peg[a]! < w.pegAtLastEvent[a]! * (1 - DEPEG_EVENT_THRESHOLD)) return true;
  if (w.peg[a]! > w.pegAtLastEvent[a]!) w.pegAtLastEvent[a] = w.peg[a]!;
  return false;
}

/**
 * Records the fall pegFell found as a `depeg` event (the latest mover down of a's fundamental): the
 * peg lost × `usdPerPeg` is its amount, `cause` its cause.
 */
function recordDepeg(w: World, a: number, usdPerPeg: number, cause: number): void {
  const lostUsd = (w.pegAtLastEvent[a]! - w.peg[a]!) * usdPerPeg;
  noteShock(w, a, w.events.push(w.step, 0, EventKindCode.depeg, -1, -1, a, w.peg[a]!, w.fundamental[a]!, lostUsd, cause), -1);
  w.pegAtLastEvent[a] = w.peg[a]!;
}

/**
 * Bridges fail at their scripted step or with their chance per step. One uniform is drawn per step
 * for every bridge with a chance, failed or not, so a failure never shifts later price draws.
 */
function updateBridges(w: World): void {
  for (let b = 0; b < w.nBridges; b++) {
    const p = w.bridgeFailProbability[b]!;
    bridgeRule.failAtStep = w.bridgeFailAtStep[b]! >= 0 ? w.bridgeFailAtStep[b]! : undefined;
    bridgeRule.failProbabilityPerStep = Number.isNaN(p) ? undefined : p;
    const fails = bridgeFails(w.step, bridgeRule, w.prices);
    if (fails && w.bridgeFailed[b] === 0) {
      w.bridgeFailed[b] = 1;
      w.bridgeEventId[b] = w.events.push(w.step, 0, EventKindCode.bridge_failure, -1, -1, -1, 0, 0, w.bridgeRecoveryFraction[b]!, -1);
    }
  }
}

/**
 * A bridged token: the underlying × the bridge's solvency (1 until it fails, then the recovery
 * fraction, floored at 1e-6 so that prices stay positive for the impact curves).
 */
function updateBridged(w: World, a: number, u: number): void {
  const b = w.derivedBridge[a]!;
  const failed = w.bridgeFailed[b] === 1;
  w.peg[a] = failed ? Math.max(w.bridgeRecoveryFraction[b]!, MIN_BRIDGE_SOLVENCY) : 1;
  w.fundamental[a] = w.fundamental[u]! * w.peg[a]!;
  followUnderlying(w, a, u);
  if (failed && w.bridgeEventId[b]! > latestShock(w, a)) noteShock(w, a, w.bridgeEventId[b]!, -1);
}

/**
 * A token backed by an account's equity: a vault share (NAV / shares) or a synthetic dollar (backing
 * per token → 1 while fully backed and redeemable, else the backing less a confidence discount). The
 * NAV is read at the previous step's oracle prices. A fall is a `depeg` event caused by whatever last
 * moved a price the account is marked with.
 */
function updateAccountBacked(w: World, a: number, kind: number): void {
  const acct = w.derivedAccount[a]!;
  const perToken = accountNavUsd(w, acct) / w.derivedSupply[a]!;
  const price =
    kind === DerivedKind.vaultShare
      ? vaultSharePrice(perToken, 1)
      : syntheticDollarFundamental(perToken, w.derivedRedeemable[a] === 1, w.derivedConfidenceDiscount[a]!);
  w.fundamental[a] = Math.max(price, MIN_BRIDGE_SOLVENCY * w.initialPrice[a]!);
  w.peg[a] = w.fundamental[a]! / w.initialPrice[a]!;
  if (pegFell(w, a)) recordDepeg(w, a, w.initialPrice[a]!, causeFor(w, acct));
}

/**
 * Algorithmic stables (src/model/algorithmicStable.ts): backing = the collateral's market cap at the
 * previous step's market price, over the supply left after burns; fundamental = face × min(1, backing
 * × (1 − confidenceDiscount)). A fall is a `depeg` event caused by what last moved the collateral down
 * (a swap's mint and sale, a shock).
 */
function updateStables(w: World): void {
  const S = w.stables;
  for (let k = 0; k < S.n; k++) {
    const a = S.asset[k]!;
    const c = S.collateral[k]!;
    const cap = w.market[c]! * (S.collateralSupply0[k]! + S.collateralMinted[k]!);
    const face = S.faceUsd[k]!;
    w.fundamental[a] = stableFundamentalUsd(face, cap, S.supply0[k]! - S.burned[k]!, S.confidenceDiscount[k]!);
    w.peg[a] = w.fundamental[a]! / face;
    if (pegFell(w, a)) recordDepeg(w, a, face, latestMove(w, c, true));
  }
}

/** Lowest solvency a failed bridge's token keeps (prices must stay positive). */
const MIN_BRIDGE_SOLVENCY = 1e-6;

/** Reused rule object of bridgeFails. */
const bridgeRule: BridgeFailureRule = { failAtStep: undefined, failProbabilityPerStep: undefined };

/** A peg fall is recorded as a depeg event each time it adds up to this share. */
const DEPEG_EVENT_THRESHOLD = 1e-3;

/** Reused parameter object of nextPeg (no allocation per step). */
const pegStep: LstPegStep = {
  meanReversionPerStep: 0,
  volPerStep: 0,
  stressDiscount: 0,
  inStress: false,
  redemptionQueuePressure: 0,
  pressureImpact: 0,
};

function switchRegime(w: World): void {
  const sw = w.switching;
  const u = w.prices.uniform();
  let next = w.regime;
  if (sw.kind === 'markov') {
    if (w.regime === 0 && u < sw.calmToStressPerStep) next = 1;
    else if (w.regime === 1 && u < sw.stressToCalmPerStep) next = 0;
  } else if (sw.kind === 'scripted') {
    if (w.step === sw.toStressAtStep) next = 1;
    if (w.step === sw.toCalmAtStep) next = 0;
  }
  if (next !== w.regime) {
    w.regime = next;
    w.regimeEvent = w.events.push(w.step, 0, EventKindCode.regime_switch, -1, -1, -1, 0, 0, next, -1);
    // The regime's market depth (Regime.depthMultiplier): the impact already in each market stays
    // (its share of depth, so the price does not jump at the switch); trades from now on walk the
    // curve of the new depth.
    const m = w.depthMultiplier[next]!;
    for (let a = 0; a < w.nAssets; a++) w.depthUsd[a] = w.baseDepthUsd[a]! * m;
  }
  if (w.regime === 1) w.stressSteps++;
}

/**
 * A replayed path starts with a `shock` event on its asset (amount: the window's total return over
 * the run), the latest mover of its price until another event moves it, so that the losses its
 * moves cause are attributed to it ("<symbol> path" in attribution.arrow) as a scripted shock's are.
 */
function startReplay(w: World, a: number): void {
  const start = w.replayStart[a]!;
  const total = w.replayPrices[start + w.steps]! / w.replayPrices[start]! - 1;
  const id = w.events.push(w.step, 0, EventKindCode.shock, -1, -1, a, 0, w.fundamental[a]!, total, -1);
  w.replayEventId[a] = id;
  // The path moves both ways: the latest mover of the price in either direction.
  noteShock(w, a, id, 0);
}

/** Scripted shocks: a total simple return spread geometrically over `overSteps` steps. */
function applyShocks(w: World): void {
  for (let s = 0; s < w.nShocks; s++) {
    if (w.step < w.shockStartStep[s]! || w.step >= w.shockEndStep[s]!) continue;
    const a = w.shockAsset[s]!;
    if (w.step === w.shockStartStep[s]) {
      const f = w.shockFactorPerStep[s]!;
      const total = Math.pow(f, w.shockEndStep[s]! - w.shockStartStep[s]!) - 1;
      const id = w.events.push(w.step, 0, EventKindCode.shock, -1, -1, a, 0, w.fundamental[a]!, total, -1);
      w.shockEventId[s] = id;
      noteShock(w, a, id, total < 0 ? -1 : 1);
    }
    w.fundamental[a] = w.fundamental[a]! * w.shockFactorPerStep[s]!;
    // A shock to a derived asset is a shock to its peg (else the next step would undo it).
    if (w.derivedUnderlying[a]! >= 0) w.peg[a] = w.peg[a]! * w.shockFactorPerStep[s]!;
  }
}
