// The declared topology of a scenario as a graphology multi-directed graph. Nodes are assets,
// oracles, protocols, insurance funds, backstop vaults, trader cohorts and arbitrageurs; an edge
// points the way a loss travels and says why (its channel). Dense ids of the engine's state arrays
// come from here.
import { MultiDirectedGraph } from 'graphology';
import type { Experiment } from '../experiment/schema.ts';
import { isLendingCohort } from '../experiment/kinds.ts';

export type NodeKind = 'asset' | 'oracle' | 'protocol' | 'fund' | 'vault' | 'cohort' | 'arbitrageur' | 'chain';
/** Why a loss at the source node can reach the target node. */
export type EdgeChannel = 'oracle' | 'position' | 'collateral' | 'backs' | 'derives' | 'bridge' | 'exposure' | 'hosts';

export interface NodeAttributes {
  kind: NodeKind;
  /** Index into this kind's state arrays. */
  denseId: number;
  label: string;
  /** Sub-kind: 'perp' or 'lending' for protocols, the cohort kind for cohorts. */
  subKind?: string;
}
export interface EdgeAttributes {
  channel: EdgeChannel;
}
export type DependencyGraph = MultiDirectedGraph<NodeAttributes, EdgeAttributes>;

/** Node key of an entity, e.g. nodeKey('asset', 'BTC') = 'asset:BTC'. */
export function nodeKey(kind: NodeKind, id: string): string {
  return `${kind}:${id}`;
}

/**
 * Adds an edge with a stable key, "source->target:channel" (graphology's generated keys start from
 * a random number in each process, which would make exports differ between runs).
 */
function link(g: DependencyGraph, source: string, target: string, channel: EdgeChannel): void {
  const base = `${source}->${target}:${channel}`;
  let key = base;
  for (let n = 2; g.hasEdge(key); n++) key = `${base}#${n}`;
  g.addDirectedEdgeWithKey(key, source, target, { channel });
}

/** Builds the dependency graph of a validated experiment (references are known to resolve). */
export function buildGraph(exp: Experiment): DependencyGraph {
  const g: DependencyGraph = new MultiDirectedGraph<NodeAttributes, EdgeAttributes>();
  const s = exp.scenario;
  s.assets.forEach((a, i) => g.addNode(nodeKey('asset', a.symbol), { kind: 'asset', denseId: i, label: a.symbol }));
  s.oracles.forEach((o, i) => {
    g.addNode(nodeKey('oracle', o.id), { kind: 'oracle', denseId: i, label: o.id });
    link(g, nodeKey('asset', o.asset), nodeKey('oracle', o.id), 'oracle');
  });
  // A chain hosts protocols: congestion there delays all of their liquidations at once.
  s.chains.forEach((c, i) => g.addNode(nodeKey('chain', c.id), { kind: 'chain', denseId: i, label: c.id }));
  s.insuranceFunds.forEach((f, i) => g.addNode(nodeKey('fund', f.id), { kind: 'fund', denseId: i, label: f.id }));
  s.backstopVaults.forEach((v, i) => g.addNode(nodeKey('vault', v.id), { kind: 'vault', denseId: i, label: v.id }));
  s.exchanges.forEach((x, i) => {
    const key = nodeKey('protocol', x.id);
    g.addNode(key, { kind: 'protocol', denseId: i, label: x.id, subKind: x.kind });
    link(g, nodeKey('fund', x.insuranceFund), key, 'backs');
    if (x.chain) link(g, nodeKey('chain', x.chain), key, 'hosts');
    if (x.backstop) link(g, nodeKey('vault', x.backstop.vault), key, 'backs');
    // An isolated market's own fund (dYdX v4) backs the exchange too.
    const own = new Set(x.markets.flatMap((m) => (m.insuranceFund !== undefined && m.insuranceFund !== x.insuranceFund ? [m.insuranceFund] : [])));
    for (const f of own) link(g, nodeKey('fund', f), key, 'backs');
    for (const m of x.markets) {
      link(g, nodeKey('asset', m.asset), key, 'position');
      link(g, nodeKey('oracle', m.oracle), key, 'oracle');
    }
  });
  // Lending markets follow the exchanges in the protocol id space.
  s.lendingMarkets.forEach((l, i) => {
    const key = nodeKey('protocol', l.id);
    g.addNode(key, { kind: 'protocol', denseId: s.exchanges.length + i, label: l.id, subKind: l.kind });
    link(g, nodeKey('fund', l.safetyModule), key, 'backs');
    if (l.chain) link(g, nodeKey('chain', l.chain), key, 'hosts');
    for (const r of l.reserves) {
      // A fall of a deposited asset weakens every borrower against it.
      link(g, nodeKey('asset', r.asset), key, 'collateral');
      link(g, nodeKey('oracle', r.oracle), key, 'oracle');
    }
  });
  // A fund's deposit in a lending market: that market's unrecovered losses reach the fund.
  for (const x of s.exposures) link(g, nodeKey('protocol', x.lendingMarket), nodeKey('fund', x.fund), 'exposure');
  s.traders.forEach((c, i) => {
    const key = nodeKey('cohort', c.id);
    g.addNode(key, { kind: 'cohort', denseId: i, label: c.id, subKind: c.kind });
  });
  // An arbitrageur holds what it bought of its asset: a fall of the asset reaches its capital.
  s.arbitrageurs.forEach((x, i) => {
    const key = nodeKey('arbitrageur', x.id);
    g.addNode(key, { kind: 'arbitrageur', denseId: i, label: x.id });
    link(g, nodeKey('asset', x.asset), key, 'position');
  });
  // A derived asset's value comes from its source: the underlying, a bridge, a vault's or an
  // issuer's equity, an algorithmic stable's collateral.
  s.assets.forEach((a) => {
    const d = a.derived;
    if (!d) return;
    const target = nodeKey('asset', a.symbol);
    if (d.kind === 'vaultShare') link(g, nodeKey('vault', d.vault), target, 'derives');
    else if (d.kind === 'syntheticDollar') link(g, nodeKey('cohort', d.issuer), target, 'derives');
    else if (d.kind === 'algorithmicStable') {
      // Both ways: the collateral's market cap backs the stable, and redeeming the stable mints
      // (dilutes) the collateral.
      link(g, nodeKey('asset', d.collateral), target, 'derives');
      link(g, target, nodeKey('asset', d.collateral), 'derives');
    }
    else link(g, nodeKey('asset', d.underlying), target, d.kind === 'bridged' ? 'bridge' : 'derives');
  });
  s.traders.forEach((c) => {
    const key = nodeKey('cohort', c.id);
    // A cohort's losses beyond its collateral become its protocol's bad debt; the protocol's
    // ADL and socialized losses come back to the cohort.
    const protocol = nodeKey('protocol', cohortProtocol(c));
    link(g, key, protocol, 'position');
    link(g, protocol, key, 'position');
  });
  return g;
}

/** Protocol ids in dense-id order: the exchanges, then the lending markets (the protocol dictionary of the outputs). */
export function protocolIds(exp: Experiment): string[] {
  return [...exp.scenario.exchanges.map((x) => x.id), ...exp.scenario.lendingMarkets.map((l) => l.id)];
}

/** Id of the protocol a cohort trades on (an exchange or a lending market). */
export function cohortProtocol(c: Experiment['scenario']['traders'][number]): string {
  return isLendingCohort(c) ? c.lendingMarket : c.exchange;
}

/** Dense id of a node; throws if the node is missing (a validated experiment never misses). */
export function denseId(g: DependencyGraph, kind: NodeKind, id: string): number {
  return g.getNodeAttribute(nodeKey(kind, id), 'denseId');
}
