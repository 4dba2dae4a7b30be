// Tokens backed by an account's equity, in runs: a share of the backstop vault (NAV / shares) and a
// synthetic dollar backed by a delta-neutral basis account (spot collateral + an equal perp short).
import { describe, expect, it } from 'vitest';
import { parseExperiment } from '../src/experiment/load.ts';
import type { ExperimentInput } from '../src/experiment/schema.ts';
import { buildGraph } from '../src/graph/build.ts';
import { worldFor } from '../src/engine/simulate.ts';
import { step } from '../src/engine/step.ts';
import { accountNavUsd } from '../src/engine/accounts.ts';
import { checkInvariants } from '../src/engine/invariants.ts';
import type { World } from '../src/model/world.ts';
import { minimalExperiment } from './fixtures/minimalExperiment.ts';

/** The minimal experiment (BTC crash at step 10) plus a vault share and a synthetic dollar on ETH. */
function withTokens(o: { redeemable: boolean; confidenceDiscount: number; ethShock?: number }): ExperimentInput {
  const e = minimalExperiment();
  const s = e.scenario;
  e.steps = 30;
  const mkt = { depthUsd: 1e9, impact: 'linear', impactCoefficient: 0.01, resilienceHalfLifeSeconds: 600, permanentShare: 0 } as const;
  s.assets.push(
    { symbol: 'vSHARE', initialPrice: 1, volatilityAnnual: 0, derived: { kind: 'vaultShare', vault: 'vault' }, market: mkt },
    { symbol: 'sUSD', initialPrice: 1, volatilityAnnual: 0, derived: { kind: 'syntheticDollar', issuer: 'issuer', redeemable: o.redeemable, confidenceDiscount: o.confidenceDiscount }, market: mkt },
  );
  const n = s.assets.length;
  const corr = Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => (i === j ? 1 : i < 2 && j < 2 ? 0.6 : 0)));
  s.regimes = { calm: { correlation: corr }, stress: { correlation: corr }, switching: { kind: 'none' } };
  if (o.ethShock !== undefined) (s.shocks ??= []).push({ id: 'eth-fall', asset: 'ETH', totalReturn: o.ethShock, startStep: 5, overSteps: 1 });
  s.exchanges[0]!.collateralAssets = [{ asset: 'ETH', oracle: 'eth-oracle', weight: 0.9 }];
  s.traders.push({ id: 'issuer', kind: 'basisIssuer', exchange: 'perpdex', hedgeAsset: 'ETH', backingUsd: 1_000_000 });
  return e;
}

function build(input: ExperimentInput): World {
  const exp = parseExperiment(input, 'derived-engine');
  return worldFor(exp, buildGraph(exp), 0);
}

/**
 * An account's NAV written out here, not with the engine's accountNavUsd: its cash plus, per position,
 * qty × oracle price + quote − the funding not yet settled, qty × (market index − position index).
 */
function vaultNavUsd(w: World, a: number): number {
  let nav = w.ledger.balance[a]!;
  for (let p = w.posStart[a]!; p < w.posStart[a + 1]!; p++) {
    const m = w.posMarket[p]!;
    const q = w.posQty[p]!;
    nav += q * w.oraclePrice[w.marketOracle[m]!]! + w.posQuote[p]! - q * (w.fundingIndex[m]! - w.posFundingIndex[p]!);
  }
  return nav;
}

const VSHARE = 2;
const SUSD = 3;

describe('tokens backed by an account', () => {
  it("the vault share is the vault's NAV over its 5,000,000 shares, step by step, through the crash", () => {
    const w = build(withTokens({ redeemable: true, confidenceDiscount: 0 }));
    const vault = w.exchangeVaultAccount[0]!;
    // Its 5,000,000 USD of cash and no collateral or positions: a share is worth exactly 1 at first.
    expect(w.collStart[vault + 1]! - w.collStart[vault]!).toBe(0);
    expect(vaultNavUsd(w, vault)).toBe(5_000_000);
    let withPositions = 0;
    for (let s = 0; s < 30; s++) {
      // What the share will be worth this step: the NAV at the marks the last step left.
      const expected = vaultNavUsd(w, vault) / 5_000_000;
      if (w.posQty.subarray(w.posStart[vault]!, w.posStart[vault + 1]!).some((q) => q !== 0)) withPositions++;
      w.step = s;
      step(w);
      expect(w.fundamental[VSHARE]).toBeCloseTo(expected, 12);
    }
    checkInvariants(w);
    // The vault took positions over in the BTC crash (step 10), so the NAV moved with their marks.
    expect(withPositions).toBeGreaterThan(10);
    expect(w.fundamental[VSHARE]).not.toBe(1);
  });

  it('the synthetic dollar stays at 1 through a 30% fall of its hedge asset: spot and short offset', () => {
    const w = build(withTokens({ redeemable: true, confidenceDiscount: 0, ethShock: -0.3 }));
    const issuer = w.derivedAccount[SUSD]!;
    for (let s = 0; s < 30; s++) {
      w.step = s;
      step(w);
    }
    checkInvariants(w);
    // NAV = 1M of ETH spot + the short's PnL (+ funding): delta-neutral, so within funding of 1M.
    expect(Math.abs(accountNavUsd(w, issuer) - 1_000_000)).toBeLessThan(1_000);
    expect(w.fundamental[SUSD]).toBeGreaterThan(0.999);
    expect(w.fundamental[SUSD]).toBeLessThanOrEqual(1);
  });

  it('not redeemable, it trades at its backing less the confidence discount: 5% off → about 0.95', () => {
    const w = build(withTokens({ redeemable: false, confidenceDiscount: 0.05 }));
    w.step = 0;
    step(w);
    // Backing per token = NAV / supply = 1,000,000 / 1,000,000 = 1 at step 0 → min(1, 1) × 0.95.
    expect(w.fundamental[SUSD]).toBeCloseTo(0.95, 12);
  });
});
