// Venue profiles: named bundles of a venue's rules, one file each, every parameter with its source.
// An exchange names one with `profile` (a lending market likewise); before the experiment is
// validated, the profile's fields are filled in under the experiment's own, so any single parameter
// can still be overridden in the file, by --set, or by a sweep. Filling is idempotent: an experiment
// that already carries every field comes out unchanged (sweep points are re-validated).
import type { InputIssue } from '../experiment/errors.ts';
import { aaveV3 } from './aave-v3.ts';
import { binance } from './binance.ts';
import { bitmex } from './bitmex.ts';
import { drift } from './drift.ts';
import { dydxV4 } from './dydx-v4.ts';
import { hyperliquid } from './hyperliquid.ts';
import type { ExchangeProfile, LendingProfile, Raw } from './types.ts';

export const EXCHANGE_PROFILES: Readonly<Record<string, ExchangeProfile>> = {
  hyperliquid,
  'dydx-v4': dydxV4,
  drift,
  bitmex,
  binance,
};
export const LENDING_PROFILES: Readonly<Record<string, LendingProfile>> = { 'aave-v3': aaveV3 };

const isObject = (v: unknown): v is Raw => typeof v === 'object' && v !== null && !Array.isArray(v);

/** `over` on top of `base`: objects merge key by key, anything else (arrays included) from `over` wins. */
export function mergeUnder(base: Raw, over: Raw): Raw {
  const out: Raw = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    out[k] = isObject(b) && isObject(v) ? mergeUnder(b, v) : v;
  }
  return out;
}

/**
 * Returns `raw` with every named profile filled in, and the problems found (a market a profile
 * cannot complete). Unknown profile names and malformed blocks are left for the schema to report.
 */
export function applyProfiles(raw: unknown): { raw: unknown; issues: InputIssue[] } {
  if (!isObject(raw) || !isObject(raw.scenario)) return { raw, issues: [] };
  const scenario = raw.scenario;
  const issues: InputIssue[] = [];
  const prices = new Map<string, number>();
  if (Array.isArray(scenario.assets)) {
    for (const a of scenario.assets) if (isObject(a) && typeof a.symbol === 'string' && typeof a.initialPrice === 'number') prices.set(a.symbol, a.initialPrice);
  }
  let changed = false;
  const exchanges = Array.isArray(scenario.exchanges)
    ? scenario.exchanges.map((x: unknown, i: number) => {
        const profile = isObject(x) && typeof x.profile === 'string' ? EXCHANGE_PROFILES[x.profile] : undefined;
        if (!profile || !isObject(x)) return x;
        changed = true;
        let ex = mergeUnder(profile.exchange, x);
        if (profile.adjust) ex = profile.adjust(ex);
        if (profile.market && Array.isArray(ex.markets)) {
          const market = profile.market;
          ex.markets = ex.markets.map((m: unknown, k: number) => {
            if (!isObject(m)) return m;
            const r = market(m, { at: `scenario.exchanges.${i}.markets.${k}`, assetPrice: (s) => prices.get(s) });
            issues.push(...r.issues);
            return r.market;
          });
        }
        return ex;
      })
    : scenario.exchanges;
  const lendingMarkets = Array.isArray(scenario.lendingMarkets)
    ? scenario.lendingMarkets.map((l: unknown, i: number) => {
        const profile = isObject(l) && typeof l.profile === 'string' ? LENDING_PROFILES[l.profile] : undefined;
        if (!profile || !isObject(l)) return l;
        changed = true;
        const lm = mergeUnder(profile.lendingMarket, l);
        if (profile.reserve && Array.isArray(lm.reserves)) {
          const reserve = profile.reserve;
          lm.reserves = lm.reserves.map((r: unknown, k: number) => {
            if (!isObject(r)) return r;
            const out = reserve(r, `scenario.lendingMarkets.${i}.reserves.${k}`);
            issues.push(...out.issues);
            return out.reserve;
          });
        }
        return lm;
      })
    : scenario.lendingMarkets;
  if (!changed) return { raw, issues };
  return { raw: { ...raw, scenario: { ...scenario, exchanges, lendingMarkets } }, issues };
}
