// The dependency graph built from an experiment: one node per entity, typed edges that say why a
// loss travels, and dense ids that index the engine's state arrays.
import { describe, expect, it } from 'vitest';
import { buildGraph, denseId } from '../src/graph/build.ts';
import { parseExperiment } from '../src/experiment/load.ts';
import { minimalExperiment } from './fixtures/minimalExperiment.ts';
import { worldFor } from '../src/engine/simulate.ts';

describe('dependency graph', () => {
  const exp = parseExperiment(minimalExperiment(), 'minimal');
  const g = buildGraph(exp);

  it('Has a node per asset, oracle, fund, vault, protocol and cohort', () => {
    // 2 assets + 2 oracles + 1 fund + 1 vault + 1 protocol + 3 cohorts = 10.
    expect(g.order).toBe(10);
    const kinds = g.mapNodes((_, a) => a.kind).sort();
    expect(kinds).toEqual(['asset', 'asset', 'cohort', 'cohort', 'cohort', 'fund', 'oracle', 'oracle', 'protocol', 'vault']);
  });

  it('Types every edge by channel', () => {
    // asset→oracle ×2, fund→protocol, vault→protocol, asset→protocol ×2 (markets), oracle→protocol ×2,
    // cohort↔protocol ×3 pairs = 2 + 1 + 1 + 2 + 2 + 6 = 14 edges.
    expect(g.size).toBe(14);
    const channels: Record<string, number> = {};
    g.forEachEdge((_, a) => (channels[a.channel] = (channels[a.channel] ?? 0) + 1));
    expect(channels).toEqual({ oracle: 4, backs: 2, position: 8 });
    expect(g.hasDirectedEdge('fund:fund', 'protocol:perpdex')).toBe(true);
    expect(g.hasDirectedEdge('asset:BTC', 'oracle:btc-oracle')).toBe(true);
  });

  it('Assigns the dense ids the world uses', () => {
    const w = worldFor(exp, g, 0);
    expect(w.assetSymbols[denseId(g, 'asset', 'ETH')]).toBe('ETH');
    expect(w.exchangeIds[denseId(g, 'protocol', 'perpdex')]).toBe('perpdex');
    // Cohort 0 (degens, 16 cross accounts) fills accounts 0–15, then makers 16–17, liquidators 18–19, vault 20.
    expect(Array.from(w.accountCohort)).toEqual([...Array(16).fill(0), 1, 1, 2, 2, 3]);
  });
});
