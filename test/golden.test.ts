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
    expect(r.events.length).toMatchInlineSnapshot(`232`);
    expect(r.summary).toMatchInlineSnapshot(`
      {
        "adlAbsorbedUsd": 0,
        "adlCount": 0,
        "adlHitMedianLeverage": NaN,
        "adlHitP95Leverage": NaN,
        "adlVolumeUsd": 0,
        "arbitrageVolumeUsd": 0,
        "arbitrageurMinCashShare": NaN,
        "arbitrageurPnlUsd": 0,
        "backstopVaultPnlUsd": -12339.78833158128,
        "backstopVolumeUsd": 105436.82472578355,
        "causeChainDepth": 12,
        "collateralHolderLossUsd": 0,
        "collateralSupplyMultiple": NaN,
        "drawdownAmplification": 1.0021954024930462,
        "exposureLossUsd": 0,
        "fundPayoutUsd": 22513.945279792148,
        "fundamentalDrawdown": 0.30875443690722004,
        "fundingLongsPaidUsd": -8.12605198117068,
        "insolventDebtUsd": 0,
        "insolventProtocols": 0,
        "insuranceFundDepletionStep": -1,
        "insuranceFundMinUsd": 977486.0547202078,
        "insuranceFundRequiredUsd": 22513.945279792144,
        "ledgerErrorUsd": 3.725290298461914e-9,
        "liquidatedMedianLeverage": Infinity,
        "liquidatedP95Leverage": Infinity,
        "liquidationCount": 13,
        "liquidationVolumeUsd": 1200327.325814503,
        "lossGini": 0.5034000074656695,
        "marginCalls": 22,
        "maxCascadeDepth": 1,
        "maxMarketDrawdown": 0.30943227716774524,
        "socializedLossUsd": 0,
        "stableHolderLossUsd": 0,
        "stableMinPriceShare": NaN,
        "stableRedeemedUsd": 0,
        "stableRunSoldUsd": 0,
        "stressSteps": 0,
        "totalBadDebtUsd": 22513.945279792148,
        "totalValueUsd": 30248029.007187515,
        "uncoveredBadDebtUsd": 0,
      }
    `);
  });

  it('The flagship experiment, replicate 28 (one that reaches ADL since the session-20 fix; replicate 2 did before), gives these exact figures', () => {
    const raw = JSON.parse(readFileSync(new URL('../experiments/cross-margin-flaw.json', import.meta.url), 'utf8'));
    const exp = parseExperiment(raw, 'flagship');
    const r = simulateRun(exp, buildGraph(exp), 28, { check: false });
    expect(r.summary.adlCount).toBeGreaterThan(0);
    expect(r.summary).toMatchInlineSnapshot(`
      {
        "adlAbsorbedUsd": 882404.3758138951,
        "adlCount": 2321,
        "adlHitMedianLeverage": 3.573885495517775,
        "adlHitP95Leverage": 8.048670143268273,
        "adlVolumeUsd": 37785550.984846525,
        "arbitrageVolumeUsd": 0,
        "arbitrageurMinCashShare": NaN,
        "arbitrageurPnlUsd": 0,
        "backstopVaultPnlUsd": -2242930.69847028,
        "backstopVolumeUsd": 16885521.237341367,
        "causeChainDepth": 2277,
        "collateralHolderLossUsd": 0,
        "collateralSupplyMultiple": NaN,
        "drawdownAmplification": 1.0355411371403287,
        "exposureLossUsd": 0,
        "fundPayoutUsd": 58056.36639789658,
        "fundamentalDrawdown": 0.3886582963089582,
        "fundingLongsPaidUsd": -3754447.0378847327,
        "insolventDebtUsd": 0,
        "insolventProtocols": 0,
        "insuranceFundDepletionStep": -1,
        "insuranceFundMinUsd": 50000,
        "insuranceFundRequiredUsd": 66675.8189817016,
        "ledgerErrorUsd": 4.3213367462158203e-7,
        "liquidatedMedianLeverage": 72.03708181822849,
        "liquidatedP95Leverage": Infinity,
        "liquidationCount": 4505,
        "liquidationVolumeUsd": 124317411.48690921,
        "lossGini": 0.7566447632445075,
        "marginCalls": 14799,
        "maxCascadeDepth": 11,
        "maxMarketDrawdown": 0.40247165411880137,
        "socializedLossUsd": 0,
        "stableHolderLossUsd": 0,
        "stableMinPriceShare": NaN,
        "stableRedeemedUsd": 0,
        "stableRunSoldUsd": 0,
        "stressSteps": 840,
        "totalBadDebtUsd": 940460.7422117908,
        "totalValueUsd": 125088326.86838362,
        "uncoveredBadDebtUsd": 0,
      }
    `);
  });
});
