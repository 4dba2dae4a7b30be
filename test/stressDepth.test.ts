// A regime's market depth (regimes.*.depthMultiplier): a book that thins under stress. Hand-computed
// impact on the minimal experiment's ETH market (linear, coefficient 0.01, depth $20M, $3,000).
import { describe, expect, it } from 'vitest';
import { parseExperiment } from '../src/experiment/load.ts';
import type { ExperimentInput } from '../src/experiment/schema.ts';
import { buildGraph } from '../src/graph/build.ts';
import { worldFor } from '../src/engine/simulate.ts';
import { step } from '../src/engine/step.ts';
import { tradeIntoMarket } from '../src/engine/market.ts';
import { minimalExperiment } from './fixtures/minimalExperiment.ts';

const ETH = 1;

/** The minimal experiment with stress depth × 0.25, quiet prices, and the given regime switching. */
function thinning(initial: 'calm' | 'stress', switching: ExperimentInput['scenario']['regimes']['switching']): ExperimentInput {
  const input = minimalExperiment();
  input.scenario.shocks = [];
  for (const a of input.scenario.assets) a.volatilityAnnual = 0;
  input.scenario.regimes.initial = initial;
  input.scenario.regimes.stress.depthMultiplier = 0.25;
  input.scenario.regimes.switching = switching;
  return input;
}

function world(input: ExperimentInput) {
  const exp = parseExperiment(input, 'stress depth');
  return worldFor(exp, buildGraph(exp), 0);
}

describe('a regime\'s market depth', () => {
  it('selling 1,000 ETH moves the market 4× as far in a stress regime with depth × 0.25', () => {
    // Calm: x = 1,000 × 3,000 / 20M = 0.15, g = 1 − 0.01 × 0.15 = 0.9985 → 2,995.5; the average
    // fill is at g(0.075) = 0.99925 → 2,997.75. Stress: depth 5M, x = 0.6, g = 0.994 → 2,982, the
    // average fill at g(0.3) = 0.997 → 2,991.
    const calm = world(thinning('calm', { kind: 'none' }));
    expect(calm.depthUsd[ETH]).toBe(20_000_000);
    expect(tradeIntoMarket(calm, ETH, 1000)).toBeCloseTo(2997.75, 9);
    expect(calm.market[ETH]).toBeCloseTo(2995.5, 9);
    const stress = world(thinning('stress', { kind: 'none' }));
    expect(stress.depthUsd[ETH]).toBe(5_000_000);
    expect(stress.baseDepthUsd[ETH]).toBe(20_000_000);
    expect(tradeIntoMarket(stress, ETH, 1000)).toBeCloseTo(2991, 9);
    expect(stress.market[ETH]).toBeCloseTo(2982, 9);
  });

  it('a scripted switch thins every shared market at its step and a switch back restores it', () => {
    const w = world(thinning('calm', { kind: 'scripted', toStressAtStep: 3, toCalmAtStep: 6 }));
    const depths: number[][] = [];
    for (let k = 0; k < 8; k++) {
      w.step = k;
      step(w);
      depths.push([w.depthUsd[0]!, w.depthUsd[ETH]!]);
    }
    // BTC 50M and ETH 20M, × 0.25 from step 3 to step 5.
    const calm = [50e6, 20e6];
    const stress = [12.5e6, 5e6];
    expect(depths).toEqual([calm, calm, calm, stress, stress, stress, calm, calm]);
  });
});
