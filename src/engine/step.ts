// One step of the simulation: a fixed, documented order of phases, each a function of the
// state and the step's random draws (DESIGN.md, "One step"). Stage 9 (derived assets and
// protocol solvency) arrives with the contagion channels; the loss waterfall (stage 8) runs
// inside each liquidation, where the shortfall is known.
import type { World } from '../model/world.ts';
import { evolveFundamentals } from './phases/evolveFundamentals.ts';
import { decayImpact } from './phases/decayImpact.ts';
import { arbitrage } from './phases/arbitrage.ts';
import { stablecoins } from './phases/stablecoins.ts';
import { updateOracles } from './phases/updateOracles.ts';
import { updateOptions } from './optionBook.ts';
import { delistMarkets } from './phases/delistMarkets.ts';
import { accrueFunding } from './phases/accrueFunding.ts';
import { markToMarket } from './phases/markToMarket.ts';
import { respondToMarginCalls } from './phases/respondToMarginCalls.ts';
import { liquidate } from './phases/liquidate.ts';
import { manipulateMarkets, respondToHealthCalls } from './phases/lending.ts';
import { resetChains, updateOutages } from './chains.ts';
import { updateMarginRates } from './phases/updateMarginRates.ts';
import { recordStep } from './phases/recordStep.ts';
import { invalidateMarks } from './accounts.ts';

/** The phases in execution order. */
export const PHASES: ReadonlyArray<readonly [string, (w: World) => void]> = [
  ['resetChains', resetChains],
  ['updateOutages', updateOutages],
  ['evolveFundamentals', evolveFundamentals],
  ['decayImpact', decayImpact],
  ['stablecoins', stablecoins],
  ['arbitrage', arbitrage],
  ['updateOracles', updateOracles],
  ['updateOptions', updateOptions],
  ['delistMarkets', delistMarkets],
  ['updateMarginRates', updateMarginRates],
  ['accrueFunding', accrueFunding],
  ['markToMarket', markToMarket],
  ['respondToMarginCalls', respondToMarginCalls],
  ['respondToHealthCalls', respondToHealthCalls],
  ['manipulateMarkets', manipulateMarkets],
  ['liquidate', liquidate],
  ['recordStep', recordStep],
];

/** Advances the world by one step (w.step must be set to the step being run). */
export function step(w: World): void {
  for (let i = 0; i < PHASES.length; i++) {
    // Any phase may move prices, funding, margin rates or option marks: stored marks start over.
    invalidateMarks(w);
    PHASES[i]![1](w);
  }
}
