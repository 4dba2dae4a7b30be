// Golden outputs of tiny seeded runs: exact numbers that any change to the engine, the random
// streams or the experiment defaults will move. When a change moves them on purpose, update them
// in the same commit and say why; when it moves them by accident, this is the test that says so.
import { describe, expect, it } from 'vitest';
import { parseExperiment } from '../src/experiment/load.ts';
import { buildGraph } from '../src/graph/build.ts';
import { simulateRun } from '../src/engine/simulate.ts';
import { minimalExperiment } from './fixtures/minimalExperiment.ts';
import { readFileSync } from 'node:fs';

describe('golden runs', () => {
  it('The minimal experiment, replicate 0, gives these exact figures', () => {
    const exp = parseExperiment(minimalExperiment(), 'minimal');
    const r = simulateRun(exp, buildGraph(exp), 0, { check: true });
    expect(r.seed).toMatchInlineSnapshot(`1330542340`);
    expect(r.events.length).toMatchInlineSnapshot(`222`);
    expect(r.summary).toMatchInlineSnapshot(`
      {
        "adlAbsorbedUsd": 0,
        "adlCount": 0,
        "adlHitMedianLeverage": NaN,
        "adlVolumeUsd": 0,
        "backstopVolumeUsd": 105424.34485986666,
        "causeChainDepth": 7,
        "drawdownAmplification": 1.001996356317843,
        "exposureLossUsd": 0,
        "fundPayoutUsd": 14964.772469004578,
        "fundamentalDrawdown": 0.30875443690722004,
        "insolventDebtUsd": 0,
        "insolventProtocols": 0,
        "insuranceFundDepletionStep": -1,
        "insuranceFundMinUsd": 985035.2275309954,
        "ledgerErrorUsd": 1.4901161193847656e-8,
        "liquidatedMedianLeverage": Infinity,
        "liquidationCount": 8,
        "liquidationVolumeUsd": 771809.2095463367,
        "lossGini": 0.433329286455552,
        "marginCalls": 22,
        "maxCascadeDepth": 1,
        "maxMarketDrawdown": 0.3093708207780018,
        "socializedLossUsd": 0,
        "stressSteps": 0,
        "totalBadDebtUsd": 14964.772469004578,
        "totalValueUsd": 30248029.007187534,
        "uncoveredBadDebtUsd": 0,
      }
    `);
  });

  it('The flagship experiment, replicate 2 (one that reaches ADL), gives these exact figures', () => {
    const raw = JSON.parse(readFileSync(new URL('../experiments/cross-margin-flaw.json', import.meta.url), 'utf8'));
    const exp = parseExperiment(raw, 'flagship');
    const r = simulateRun(exp, buildGraph(exp), 2, { check: false });
    expect(r.summary.adlCount).toBeGreaterThan(0);
    expect(r.summary).toMatchInlineSnapshot(`
      {
        "adlAbsorbedUsd": 174317.25330849807,
        "adlCount": 1295,
        "adlHitMedianLeverage": 2.322355840358724,
        "adlVolumeUsd": 15441219.095888512,
        "backstopVolumeUsd": 19873692.229762953,
        "causeChainDepth": 1734,
        "drawdownAmplification": 1.0262164802783373,
        "exposureLossUsd": 0,
        "fundPayoutUsd": 91617.65139501428,
        "fundamentalDrawdown": 0.45109284544657813,
        "insolventDebtUsd": 0,
        "insolventProtocols": 0,
        "insuranceFundDepletionStep": -1,
        "insuranceFundMinUsd": 50000,
        "ledgerErrorUsd": 2.086162567138672e-7,
        "liquidatedMedianLeverage": 57.78527404032709,
        "liquidationCount": 2879,
        "liquidationVolumeUsd": 85932702.2898124,
        "lossGini": 0.7476925724364338,
        "marginCalls": 38873,
        "maxCascadeDepth": 6,
        "maxMarketDrawdown": 0.46291891213292746,
        "socializedLossUsd": 0,
        "stressSteps": 840,
        "totalBadDebtUsd": 265934.9047035123,
        "totalValueUsd": 113665892.23161289,
        "uncoveredBadDebtUsd": 0,
      }
    `);
  });
});
