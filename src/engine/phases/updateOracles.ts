// Stage 3: oracles. Each oracle records its source (the market or the fundamental price) in a ring
// buffer; its reading is the mean of `twapSteps` readings ending `lagSteps` steps ago. A push feed
// (Chainlink-style) publishes the reading only when it moved by the deviation threshold or the
// heartbeat is due; a floor keeps the feed from reporting lower (the LUNA feed held $0.107 while the
// market traded near $0.01); a frozen feed stops updating; from a resume step on, neither applies
// (Venus restored its feeds on 15 May 2022). Zero-lag oracles are refreshed again
// between cascade rounds, so a fire sale reaches the marks within the step.
import { OracleSource, type World } from '../../model/world.ts';
import { venuePrice } from '../venueMarket.ts';
import { invalidateMarks } from '../accounts.ts';

function sourcePrice(w: World, o: number): number {
  const a = w.oracleAsset[o]!;
  const source = w.oracleSource[o]!;
  return source === OracleSource.market ? w.market[a]! : source === OracleSource.fundamental ? w.fundamental[a]! : venuePrice(w, o);
}

/** Mean of the oracle's source over `twapSteps` steps ending `lagSteps` before the current step. */
function reading(w: World, o: number): number {
  const len = w.historyLength;
  const base = o * len;
  const end = w.step - w.oracleLag[o]!;
  const n = w.oracleTwapSteps[o]!;
  let sum = 0;
  // Steps before 0 read the ring's initial fill (the initial price): never overwritten by then.
  for (let k = 0; k < n; k++) sum += w.oracleHistory[base + ((((end - k) % len) + len) % len)]!;
  return sum / n;
}

/** Publishes oracle o's reading if its feed rules allow; returns true if its price changed. */
function publish(w: World, o: number): boolean {
  const resume = w.oracleResumeStep[o]!;
  // From its resume step on, a feed has neither floor nor freeze, and publishes at that step.
  const resumed = resume >= 0 && w.step >= resume;
  const freeze = w.oracleFreezeStep[o]!;
  if (!resumed && freeze >= 0 && w.step >= freeze) return false;
  const candidate = reading(w, o);
  const last = w.oraclePrice[o]!;
  const threshold = w.oracleDeviation[o]!;
  const heartbeat = w.oracleHeartbeatSteps[o]!;
  const due =
    threshold === 0 ||
    w.step === resume ||
    Math.abs(candidate - last) >= threshold * last ||
    (heartbeat > 0 && w.step - w.oracleLastUpdateStep[o]! >= heartbeat);
  if (!due) return false;
  const price = resumed ? candidate : Math.max(candidate, w.oracleFloorUsd[o]!);
  w.oracleLastUpdateStep[o] = w.step;
  if (price === last) return false;
  w.oraclePrice[o] = price;
  return true;
}

/** Start-of-step update of every oracle. */
export function updateOracles(w: World): void {
  invalidateMarks(w);
  // The readings the previous step ended on (Hyperliquid's ADL closes at them).
  w.oraclePrevPrice.set(w.oraclePrice);
  const len = w.historyLength;
  const slot = w.step % len;
  for (let o = 0; o < w.nOracles; o++) {
    w.oracleHistory[o * len + slot] = sourcePrice(w, o);
    publish(w, o);
  }
}

/**
 * Between cascade rounds: records the latest source price as this step's reading, and lets
 * zero-lag oracles publish it. Returns true if any oracle price changed.
 */
export function refreshOracles(w: World): boolean {
  invalidateMarks(w);
  const len = w.historyLength;
  const slot = w.step % len;
  let changed = false;
  for (let o = 0; o < w.nOracles; o++) {
    w.oracleHistory[o * len + slot] = sourcePrice(w, o);
    if (w.oracleLag[o] === 0 && publish(w, o)) changed = true;
  }
  return changed;
}
