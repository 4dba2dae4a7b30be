// The flagship scaled for the benchmark (test/bench/run.ts and its helper processes): its directional
// cohorts grown to a target number of accounts, the rest of the economy with them, and its scripted
// timeline stretched to a run length.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const FLAGSHIP = fileURLToPath(new URL('../../experiments/cross-margin-flaw.json', import.meta.url));

export type Raw = Record<string, any>;

export function readFlagship(): Raw {
  return JSON.parse(readFileSync(FLAGSHIP, 'utf8')) as Raw;
}

/** Accounts one trader of a directional cohort opens: one per position when isolated. */
function accountsPerTrader(c: Raw): number {
  return c.marginMode === 'isolated' ? (c.positions as unknown[]).length : 1;
}

/**
 * Sets `steps` and moves the scripted regime switch and the shocks to the same fraction of the
 * new run length (a shock must start before the last step). Returns the stretch factor.
 */
export function stretchTimeline(raw: Raw, steps: number): number {
  const stretch = steps / raw.steps;
  const at = (s: number) => Math.min(steps - 1, Math.round(s * stretch));
  const sw = raw.scenario.regimes.switching as Raw;
  if (sw.kind === 'scripted') {
    sw.toStressAtStep = at(sw.toStressAtStep);
    if (sw.toCalmAtStep !== undefined) sw.toCalmAtStep = Math.max(sw.toStressAtStep + 1, at(sw.toCalmAtStep));
  }
  for (const sh of raw.scenario.shocks as Raw[]) {
    sh.startStep = at(sh.startStep);
    sh.overSteps = Math.max(1, Math.round(sh.overSteps * stretch));
  }
  raw.steps = steps;
  return stretch;
}

/**
 * The flagship with its directional cohorts scaled so that they open about `targetAccounts`
 * accounts (and its balances and depths by the same factor), `steps` steps, one run and no event
 * log. Scripted times move with the run length.
 */
export function scaledScenario(targetAccounts: number, steps: number): { raw: Raw; scale: number; stretch: number } {
  const raw = readFlagship();
  const traders = raw.scenario.traders as Raw[];
  const directional = traders.filter((c) => c.kind === 'directional');
  const base = directional.reduce((n, c) => n + c.count * accountsPerTrader(c), 0);
  const scale = targetAccounts / base;
  for (const c of directional) c.count = Math.max(1, Math.round(c.count * scale));
  // The rest of the economy grows with the crowd (funds, vault, maker and liquidator capital,
  // book depth), so the scaled world is a larger copy of the flagship rather than a market whose
  // makers and fund are swamped (which would turn the cascade into wall-to-wall ADL).
  for (const c of traders) if (c.kind !== 'directional') c.collateralUsd *= scale;
  for (const f of raw.scenario.insuranceFunds as Raw[]) f.initialUsd *= scale;
  for (const v of raw.scenario.backstopVaults as Raw[]) v.initialUsd *= scale;
  for (const a of raw.scenario.assets as Raw[]) a.market.depthUsd *= scale;

  const stretch = stretchTimeline(raw, steps);
  // One world, not the flagship's study: its sweep (16 points) would multiply every run count here.
  delete raw.sweep;
  raw.runs = 1;
  raw.output = { ...(raw.output ?? {}), events: false };
  raw.name = `${raw.name}-bench`;
  return { raw, scale, stretch };
}

