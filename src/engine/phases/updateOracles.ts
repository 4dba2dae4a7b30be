// Stage 3: oracles. Each oracle reads its source (the market or the fundamental price) into a
// ring buffer and reports the value from `lagSteps` steps ago. Zero-lag oracles are refreshed
// again between cascade rounds, so a fire sale reaches the marks within the step; a lagged
// oracle shows it `lagSteps` steps later.
import type { World } from '../../model/world.ts';

function sourcePrice(w: World, o: number): number {
  const a = w.oracleAsset[o]!;
  return w.oracleSource[o] === 0 ? w.market[a]! : w.fundamental[a]!;
}

/** Start-of-step update of every oracle. */
export function updateOracles(w: World): void {
  const len = w.historyLength;
  const slot = w.step % len;
  for (let o = 0; o < w.nOracles; o++) {
    w.oracleHistory[o * len + slot] = sourcePrice(w, o);
    const lag = w.oracleLag[o]!;
    w.oraclePrice[o] = w.oracleHistory[o * len + ((((w.step - lag) % len) + len) % len)]!;
  }
}

/**
 * Between cascade rounds: records the latest source price as this step's reading, and moves
 * zero-lag oracles to it. Returns true if any oracle price changed.
 */
export function refreshOracles(w: World): boolean {
  const len = w.historyLength;
  const slot = w.step % len;
  let changed = false;
  for (let o = 0; o < w.nOracles; o++) {
    const p = sourcePrice(w, o);
    w.oracleHistory[o * len + slot] = p;
    if (w.oracleLag[o] === 0 && w.oraclePrice[o] !== p) {
      w.oraclePrice[o] = p;
      changed = true;
    }
  }
  return changed;
}
