// The baseline of `baseline_speedup` (issue 6): the flagship's perp mechanics written the obvious
// way — an object per account holding an array of position objects, markets as objects with their
// tiers, and every account marked and checked every step. It starts from the same built world as
// the engine (so both see the same accounts, positions, tiers and balances) and runs the core of the
// model: prices follow each asset's per-step volatility (seeded, uncorrelated); funding accrues to
// every position every step; each account is marked (equity, tiered maintenance) and, below
// maintenance, closed in full against a linear-impact book, paying the penalty to its fund, which
// covers any shortfall. No margin calls, ADL, oracles, lending or event log: it does less work per
// account-step than the engine, so the ratio understates the engine's advantage.
import seedrandom from 'seedrandom';
import { exchangeOf, type World } from '../../../src/model/world.ts';

interface Tier {
  upperUsd: number;
  rate: number;
  amount: number;
}
interface Market {
  asset: number;
  exchange: number;
  tiers: Tier[];
  fundingIndex: number;
}
interface Position {
  market: Market;
  qty: number;
  quote: number;
  fundingPaidIndex: number;
}
interface Account {
  exchange: number;
  cash: number;
  positions: Position[];
  liquidated: boolean;
}
export interface BaselineState {
  accounts: Account[];
  markets: Market[];
  prices: number[];
  volPerStep: number[];
  depthUsd: number[];
  impactCoefficient: number[];
  penalty: number[];
  funds: number[];
  fundOfExchange: number[];
  fundingPer8h: number[];
  stepSeconds: number;
}

/** Copies a freshly built world into objects (accounts, positions, markets, tiers). */
export function baselineFromWorld(w: World): BaselineState {
  const markets: Market[] = [];
  for (let m = 0; m < w.nMarkets; m++) {
    const tiers: Tier[] = [];
    for (let k = w.tierStart[m]!; k < w.tierStart[m + 1]!; k++) tiers.push({ upperUsd: w.tierUpperUsd[k]!, rate: w.tierMmRate[k]!, amount: w.tierMmAmount[k]! });
    markets.push({ asset: w.marketAsset[m]!, exchange: w.marketExchange[m]!, tiers, fundingIndex: 0 });
  }
  const accounts: Account[] = [];
  for (let a = 0; a < w.nAccounts; a++) {
    const positions: Position[] = [];
    for (let p = w.posStart[a]!; p < w.posStart[a + 1]!; p++) {
      positions.push({ market: markets[w.posMarket[p]!]!, qty: w.posQty[p]!, quote: w.posQuote[p]!, fundingPaidIndex: 0 });
    }
    accounts.push({ exchange: exchangeOf(w, a), cash: w.ledger.balance[a]!, positions, liquidated: false });
  }
  const funds: number[] = [];
  for (let f = 0; f < w.nFunds; f++) funds.push(w.ledger.balance[w.fundHolderStart + f]!);
  return {
    accounts,
    markets,
    prices: Array.from(w.initialPrice),
    volPerStep: Array.from(w.volPerStep),
    depthUsd: Array.from(w.depthUsd),
    impactCoefficient: Array.from(w.impactCoefficient),
    penalty: Array.from(w.penaltyFraction),
    funds,
    fundOfExchange: Array.from(w.exchangeFund),
    fundingPer8h: Array.from(w.fundingInterestPer8h),
    stepSeconds: w.stepSeconds,
  };
}

/** Maintenance requirement of `notional` in a market: rate × notional − amount of its bracket. */
function maintenance(market: Market, notional: number): number {
  for (const t of market.tiers) if (notional <= t.upperUsd) return t.rate * notional - t.amount;
  const last = market.tiers[market.tiers.length - 1]!;
  return last.rate * notional - last.amount;
}

/** Runs `steps` steps; returns the liquidations and the shortfall the funds paid. */
export function runBaseline(s: BaselineState, steps: number, seed: string): { liquidations: number; shortfallUsd: number } {
  const rng = seedrandom.alea(seed);
  const normal = () => Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());
  let liquidations = 0;
  let shortfallUsd = 0;
  for (let t = 0; t < steps; t++) {
    for (let i = 0; i < s.prices.length; i++) s.prices[i] = s.prices[i]! * Math.exp(s.volPerStep[i]! * normal());
    for (const m of s.markets) m.fundingIndex += s.fundingPer8h[m.exchange]! * (s.stepSeconds / 28_800) * s.prices[m.asset]!;
    for (const acc of s.accounts) {
      if (acc.liquidated) continue;
      // Funding settles into the position every step; then mark and check.
      let equity = acc.cash;
      let requirement = 0;
      for (const pos of acc.positions) {
        pos.quote -= pos.qty * (pos.market.fundingIndex - pos.fundingPaidIndex);
        pos.fundingPaidIndex = pos.market.fundingIndex;
        const price = s.prices[pos.market.asset]!;
        equity += pos.qty * price + pos.quote;
        requirement += maintenance(pos.market, Math.abs(pos.qty) * price);
      }
      if (equity >= requirement || requirement === 0) continue;
      // Liquidate: close every position into the book (linear impact), penalty to the fund.
      let closed = 0;
      for (const pos of acc.positions) {
        if (pos.qty === 0) continue;
        const a = pos.market.asset;
        const price = s.prices[a]!;
        const usd = Math.abs(pos.qty) * price;
        const fill = price * (1 - Math.sign(pos.qty) * s.impactCoefficient[a]! * (usd / s.depthUsd[a]!) * 0.5);
        acc.cash += pos.qty * fill + pos.quote;
        closed += usd;
        pos.qty = 0;
        pos.quote = 0;
      }
      const f = s.fundOfExchange[acc.exchange]!;
      const penalty = Math.min(s.penalty[acc.exchange]! * closed, Math.max(0, acc.cash));
      acc.cash -= penalty;
      s.funds[f] = s.funds[f]! + penalty;
      if (acc.cash < 0) {
        shortfallUsd -= acc.cash;
        s.funds[f] = s.funds[f]! + acc.cash;
        acc.cash = 0;
      }
      acc.liquidated = true;
      liquidations++;
    }
  }
  return { liquidations, shortfallUsd };
}
