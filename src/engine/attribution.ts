// Contagion attribution: every event names the event that caused it, so a run's event log is a
// forest whose roots are shocks and regime switches. Each loss at a protocol (bad debt, or its
// insurance fund's loss on a deposit elsewhere) is traced to
// its root (the originating shock) and classified by the channel through which it reached that
// protocol — the first event up its chain that belongs elsewhere: a depeg (derived asset), a bridge
// failure, another protocol's trade (market impact), or the shock itself (exogenous).
import type { World } from '../model/world.ts';
import type { Experiment } from '../experiment/schema.ts';
import { AttributionTable, ChannelCode, EventKindCode } from './record.ts';
import { delistedMarkets } from '../experiment/kinds.ts';

/**
 * Origins dictionary of a scenario: its shocks, its bridges (a failure), its manipulator cohorts (a
 * pump), its replayed paths, its algorithmic stables' runs, its delistings (`delistings` as
 * "<exchange> <symbol>"), then the two other roots.
 */
export function attributionOrigins(
  shockIds: readonly string[],
  bridgeIds: readonly string[] = [],
  manipulatorIds: readonly string[] = [],
  replayedSymbols: readonly string[] = [],
  runSymbols: readonly string[] = [],
  delistings: readonly string[] = [],
): string[] {
  return [
    ...shockIds,
    ...bridgeIds,
    ...manipulatorIds,
    ...replayedSymbols.map(replayOrigin),
    ...runSymbols.map(runOrigin),
    ...delistings.map(delistingOrigin),
    'regime_switch',
    'endogenous',
  ];
}

/** The origin of a delisting's settlement (markets[].delisting): "<exchange> <symbol> delisting". */
export function delistingOrigin(market: string): string {
  return `${market} delisting`;
}

/** The origin of an algorithmic stable's run (derived.run): "<symbol> run". */
export function runOrigin(symbol: string): string {
  return `${symbol} run`;
}

/** The origin of the moves of a replayed price path (assets[].pricePath): "<symbol> path". */
export function replayOrigin(symbol: string): string {
  return `${symbol} path`;
}

/** The origins dictionary of an experiment (see attributionOrigins). */
export function experimentOrigins(exp: Experiment): string[] {
  const s = exp.scenario;
  return attributionOrigins(
    s.shocks.map((x) => x.id),
    s.bridges.map((x) => x.id),
    s.traders.filter((c) => c.kind === 'manipulator').map((c) => c.id),
    s.assets.filter((a) => a.pricePath !== undefined).map((a) => a.symbol),
    s.assets.filter((a) => a.derived?.kind === 'algorithmicStable' && a.derived.run !== undefined).map((a) => a.symbol),
    delistedMarkets(s.exchanges).map((d) => `${d.exchange.id} ${d.asset}`),
  );
}

/**
 * Length of the longest chain of causes (edges) in the log. Causes always point to earlier ids,
 * so one forward pass suffices. Returns 0 when the log stores no rows.
 */
export function causeChainDepth(w: World): number {
  const e = w.events;
  const n = e.storedRows;
  if (n === 0) return 0;
  const depth = new Int32Array(n);
  let max = 0;
  for (let i = 0; i < n; i++) {
    const c = e.cause[i]!;
    depth[i] = c >= 0 && c < i ? depth[c]! + 1 : 0;
    if (depth[i]! > max) max = depth[i]!;
  }
  return max;
}

/** The attribution table of a finished run (empty when the log stores no rows). */
export function attribute(w: World): AttributionTable {
  const e = w.events;
  const n = e.storedRows;
  const nManipulators = w.lending.manipulatorIds.length;
  let nReplays = 0;
  for (let a = 0; a < w.nAssets; a++) if (w.replayStart[a]! >= 0) nReplays++;
  const S = w.stables;
  let nRuns = 0;
  for (let k = 0; k < S.n; k++) if (S.runStartStep[k]! >= 0) nRuns++;
  const nDelistings = w.delistMarket.length;
  const nOrigins = w.nShocks + w.nBridges + nManipulators + nReplays + nRuns + nDelistings + 2;
  const nChannels = 7;
  const cells = w.nProtocols * nOrigins * nChannels;
  const loss = new Float64Array(cells);
  const count = new Int32Array(cells);
  for (let i = 0; i < n; i++) {
    const exposure = e.kind[i] === EventKindCode.exposure_loss;
    if (e.kind[i] !== EventKindCode.bad_debt && !exposure) continue;
    const p = e.protocol[i]!;
    if (p < 0) continue;
    // Walk up: the first event outside p gives the channel; the root gives the origin. A loss on a
    // deposit in another protocol arrived through that deposit, whatever came before.
    let channel = exposure ? ChannelCode.direct_exposure : -1;
    let j = i;
    while (e.cause[j]! >= 0 && e.cause[j]! < j) {
      j = e.cause[j]!;
      if (channel < 0 && e.protocol[j] !== p) channel = channelOf(e.kind[j]!);
    }
    const root = j;
    let origin = nOrigins - 1; // endogenous
    if (e.kind[root] === EventKindCode.shock) {
      for (let s = 0; s < w.nShocks; s++) if (w.shockEventId[s] === root) origin = s;
      // A replayed path's shock event: its origin follows the manipulators', in asset order.
      for (let a = 0, r = 0; a < w.nAssets; a++) {
        if (w.replayStart[a]! < 0) continue;
        if (w.replayEventId[a] === root) origin = w.nShocks + w.nBridges + nManipulators + r;
        r++;
      }
    } else if (e.kind[root] === EventKindCode.bridge_failure) {
      for (let b = 0; b < w.nBridges; b++) if (w.bridgeEventId[b] === root) origin = w.nShocks + b;
    } else if (e.kind[root] === EventKindCode.manipulation) {
      // Every member of a manipulator cohort pumps: the origin is the cohort of the borrower that did.
      origin = w.nShocks + w.nBridges + w.lending.borrowerManipulator[e.account[root]! - w.nAccounts]!;
    } else if (e.kind[root] === EventKindCode.stable_run) {
      // A stable's run: its origin follows the replayed paths', in asset order of the stables with a run.
      for (let k = 0, r = 0; k < S.n; k++) {
        if (S.runStartStep[k]! < 0) continue;
        if (S.runEventId[k] === root) origin = w.nShocks + w.nBridges + nManipulators + nReplays + r;
        r++;
      }
    } else if (e.kind[root] === EventKindCode.delisting) {
      // A delisting's settlements: its origin follows the stables' runs, in market order.
      for (let k = 0; k < nDelistings; k++) if (w.delistEventId[k] === root) origin = w.nShocks + w.nBridges + nManipulators + nReplays + nRuns + k;
    } else if (e.kind[root] === EventKindCode.regime_switch) {
      origin = nOrigins - 2;
    }
    if (channel < 0) channel = ChannelCode.internal;
    const cell = (p * nOrigins + origin) * nChannels + channel;
    loss[cell] = loss[cell]! + e.amountUsd[i]!;
    count[cell]!++;
  }
  let rows = 0;
  for (let c = 0; c < cells; c++) if (count[c]! > 0) rows++;
  const t = new AttributionTable(rows);
  let r = 0;
  for (let c = 0; c < cells; c++) {
    if (count[c] === 0) continue;
    t.protocol[r] = Math.floor(c / (nOrigins * nChannels));
    t.origin[r] = Math.floor(c / nChannels) % nOrigins;
    t.channel[r] = c % nChannels;
    t.lossUsd[r] = loss[c]!;
    t.events[r] = count[c]!;
    r++;
  }
  return t;
}

/** Channel of a loss whose first event outside the protocol has this kind. */
function channelOf(kind: number): number {
  switch (kind) {
    case EventKindCode.shock:
    case EventKindCode.regime_switch:
      return ChannelCode.exogenous;
    case EventKindCode.stable_run:
      return ChannelCode.exogenous;
    case EventKindCode.depeg:
    case EventKindCode.stable_swap:
      return ChannelCode.derived_asset;
    case EventKindCode.bridge_failure:
      return ChannelCode.bridge;
    case EventKindCode.manipulation:
      return ChannelCode.oracle;
    default:
      // Another protocol's liquidation, sale, deleveraging or ADL: it reached here through a market.
      return ChannelCode.market_impact;
  }
}
