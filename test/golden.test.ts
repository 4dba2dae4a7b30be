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
        "adlHitP95Leverage": NaN,
        "adlVolumeUsd": 0,
        "backstopVolumeUsd": 105424.34485986666,
        "causeChainDepth": 7,
        "drawdownAmplification": 1.001996356317843,
        "exposureLossUsd": 0,
        "fundPayoutUsd": 14964.772469004578,
        "fundamentalDrawdown": 0.30875443690722004,
        "insolventDebtUsd": 7544.3429384611845,
        "insolventProtocols": 0,
        "insuranceFundDepletionStep": -1,
        "insuranceFundMinUsd": 985035.2275309954,
        "insuranceFundRequiredUsd": 14964.772469004663,
        "ledgerErrorUsd": 1.4901161193847656e-8,
        "liquidatedMedianLeverage": Infinity,
        "liquidatedP95Leverage": Infinity,
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
        "adlAbsorbedUsd": 173059.1042106619,
        "adlCount": 1298,
        "adlHitMedianLeverage": 2.5340049053522335,
        "adlHitP95Leverage": 53.305432884309745,
        "adlVolumeUsd": 15347608.058868451,
        "backstopVolumeUsd": 19786341.655631963,
        "causeChainDepth": 1933,
        "drawdownAmplification": 1.0282838833551,
        "exposureLossUsd": 0,
        "fundPayoutUsd": 61597.3448205969,
        "fundamentalDrawdown": 0.45109284544657813,
        "insolventDebtUsd": 448380.8578892308,
        "insolventProtocols": 0,
        "insuranceFundDepletionStep": -1,
        "insuranceFundMinUsd": 50000,
        "insuranceFundRequiredUsd": 81955.5845177761,
        "ledgerErrorUsd": 1.4901161193847656e-7,
        "liquidatedMedianLeverage": 61.097958431083036,
        "liquidatedP95Leverage": 20886.867942837016,
        "liquidationCount": 3296,
        "liquidationVolumeUsd": 85749975.28092113,
        "lossGini": 0.725563640123223,
        "marginCalls": 45667,
        "maxCascadeDepth": 20,
        "maxMarketDrawdown": 0.46385150286950927,
        "socializedLossUsd": 0,
        "stressSteps": 840,
        "totalBadDebtUsd": 234656.4490312588,
        "totalValueUsd": 125671634.16805945,
        "uncoveredBadDebtUsd": 0,
      }
    `);
  });
});
