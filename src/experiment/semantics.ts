// Cross-field rules that a schema cannot express: unique ids, references that resolve, matrices
// that are valid correlations, margin tiers that form a ladder. Run after the schema has accepted
// the file, so every field here has its type; every rule reports a dotted path and the value.
import { cholesky } from '../model/cholesky.ts';
import type { InputIssue } from './errors.ts';
import type { Distribution, Experiment, LendingCohort } from './schema.ts';
import { effectiveMarginModel, isLendingCohort } from './kinds.ts';

const SYMMETRY_TOLERANCE = 1e-9;
const DIAGONAL_TOLERANCE = 1e-9;
// Relative slack when comparing a leverage with 1/initialMarginFraction (1/0.02 may not be 50).
const LEVERAGE_SLACK = 1e-9;

/**
 * Every cross-field problem of a schema-valid experiment, in file order; empty when it is
 * consistent. Paths are dotted with numeric indices, e.g. `scenario.exchanges.0.markets.1.oracle`.
 */
export function validateSemantics(exp: Experiment): InputIssue[] {
  const issues: InputIssue[] = [];
  const add = (path: string, value: unknown, message: string): void => {
    issues.push({ path, value, message });
  };
  const s = exp.scenario;

  // --- unique ids -------------------------------------------------------------------------
  const assetIndex = uniqueIndex(s.assets, (a) => a.symbol, 'scenario.assets', 'symbol', 'asset symbol', add);
  uniqueIndex(s.shocks, (x) => x.id, 'scenario.shocks', 'id', 'shock id', add);
  const oracleIndex = uniqueIndex(s.oracles, (x) => x.id, 'scenario.oracles', 'id', 'oracle id', add);
  const fundIndex = uniqueIndex(s.insuranceFunds, (x) => x.id, 'scenario.insuranceFunds', 'id', 'insurance fund id', add);
  const vaultIndex = uniqueIndex(s.backstopVaults, (x) => x.id, 'scenario.backstopVaults', 'id', 'backstop vault id', add);
  const exchangeIndex = uniqueIndex(s.exchanges, (x) => x.id, 'scenario.exchanges', 'id', 'exchange id', add);
  uniqueIndex(s.traders, (x) => x.id, 'scenario.traders', 'id', 'trader cohort id', add);

  const assetList = quotedList(s.assets.map((a) => a.symbol));

  // --- chains: references, and one latency per oracle ------------------------------------
  const chainIndex = uniqueIndex(s.chains, (c) => c.id, 'scenario.chains', 'id', 'chain id', add);
  const oracleLatency = new Map<string, { latency: number; at: string }>();
  const protocols: { chain?: string | undefined; at: string; oracles: string[] }[] = [
    ...s.exchanges.map((x, i) => ({ chain: x.chain, at: `scenario.exchanges.${i}`, oracles: x.markets.map((m) => m.oracle) })),
    ...s.lendingMarkets.map((l, i) => ({ chain: l.chain, at: `scenario.lendingMarkets.${i}`, oracles: l.reserves.map((r) => r.oracle) })),
  ];
  for (const p of protocols) {
    const ci = p.chain === undefined ? undefined : chainIndex.get(p.chain);
    if (p.chain !== undefined && ci === undefined) {
      add(`${p.at}.chain`, p.chain, `no chain with this id in scenario.chains (known: ${quotedList(s.chains.map((c) => c.id))})`);
      continue;
    }
    // Latency is applied to the oracle itself, so every protocol reading it must agree (an
    // off-chain protocol reads with none).
    const latency = ci === undefined ? 0 : s.chains[ci]!.oracleLatencySteps;
    for (const o of p.oracles) {
      const seen = oracleLatency.get(o);
      if (seen && seen.latency !== latency) {
        add(`${p.at}.chain`, p.chain ?? null, `oracle "${o}" is also read at ${seen.at} with a chain latency of ${seen.latency} steps, here ${latency}: declare one oracle per chain`);
      } else if (!seen) oracleLatency.set(o, { latency, at: p.at });
    }
  }

  // --- bridges ----------------------------------------------------------------------------
  const bridgeIndex = uniqueIndex(s.bridges, (b) => b.id, 'scenario.bridges', 'id', 'bridge id', add);
  s.bridges.forEach((b, i) => {
    for (const side of ['fromChain', 'toChain'] as const) {
      const c = b[side];
      if (c !== undefined && !chainIndex.has(c)) add(`scenario.bridges.${i}.${side}`, c, `no chain with this id in scenario.chains (known: ${quotedList(s.chains.map((x) => x.id))})`);
    }
    if (b.failAtStep !== undefined && b.failAtStep >= exp.steps) add(`scenario.bridges.${i}.failAtStep`, b.failAtStep, `expected a step below steps (${exp.steps})`);
  });

  // --- replayed price paths -------------------------------------------------------------
  s.assets.forEach((a, i) => {
    const path = a.pricePath;
    if (!path) return;
    const at = `scenario.assets.${i}.pricePath`;
    if (a.derived) add(at, '(set)', `a derived asset's fundamental is computed from another part of the system each step (derived.kind "${a.derived.kind}"): it cannot replay a path`);
    if ((path.csv === undefined) !== (path.column === undefined)) {
      add(path.csv === undefined ? `${at}.column` : `${at}.csv`, path.csv ?? path.column, 'csv and column go together: the file and the header of the column to replay');
    }
    if (path.prices === undefined) {
      add(
        `${at}.prices`,
        undefined,
        path.csv === undefined
          ? 'expected the series (prices), or a csv file and column to read it from'
          : 'expected the series: contagion reads the csv into prices when it loads the experiment file; a program calling parseExperiment gives prices itself',
      );
      return;
    }
    const rows = path.prices.length - path.fromRow;
    if (rows < exp.steps + 1) {
      const where = path.csv === undefined ? 'prices' : `column "${path.column}" of ${path.csv}`;
      add(`${at}.fromRow`, path.fromRow, `${where} holds ${path.prices.length} prices, ${Math.max(0, rows)} from row ${path.fromRow}: expected at least steps + 1 = ${exp.steps + 1} (one per step boundary)`);
    }
  });

  // --- derived assets ---------------------------------------------------------------------
  s.assets.forEach((a, i) => {
    if (!a.derived) return;
    const d = a.derived;
    if (d.kind === 'vaultShare') {
      if (!vaultIndex.has(d.vault)) add(`scenario.assets.${i}.derived.vault`, d.vault, `no backstop vault with this id in scenario.backstopVaults (known: ${quotedList(s.backstopVaults.map((v) => v.id))})`);
      else if (!s.exchanges.some((x) => x.backstop?.vault === d.vault)) add(`scenario.assets.${i}.derived.vault`, d.vault, 'this vault backstops no exchange, so it has no account whose equity could back a share');
      return;
    }
    if (d.kind === 'syntheticDollar') {
      const issuer = s.traders.find((c) => c.id === d.issuer);
      if (!issuer || issuer.kind !== 'basisIssuer') add(`scenario.assets.${i}.derived.issuer`, d.issuer, `expected the id of a basisIssuer cohort (known: ${quotedList(s.traders.filter((c) => c.kind === 'basisIssuer').map((c) => c.id))})`);
      return;
    }
    if (d.kind === 'algorithmicStable') {
      const at = `scenario.assets.${i}.derived`;
      const c = assetIndex.get(d.collateral);
      if (c === undefined) add(`${at}.collateral`, d.collateral, `no asset with this symbol in scenario.assets (known: ${assetList})`);
      else if (d.collateral === a.symbol) add(`${at}.collateral`, d.collateral, 'expected another asset than the stable itself');
      else if (s.assets[c]!.derived) add(`${at}.collateral`, d.collateral, `${d.collateral} is itself derived: expected an asset with an exogenous price (the mint dilutes it)`);
      else {
        const other = s.assets.findIndex((b, k) => k < i && b.derived?.kind === 'algorithmicStable' && b.derived.collateral === d.collateral);
        if (other >= 0) add(`${at}.collateral`, d.collateral, `scenario.assets.${other} already mints ${d.collateral}: expected one algorithmic stable per collateral token`);
      }
      const oi = oracleIndex.get(d.oracle);
      if (oi === undefined) add(`${at}.oracle`, d.oracle, `no oracle with this id in scenario.oracles (known: ${quotedList(s.oracles.map((o) => o.id))})`);
      else if (c !== undefined && s.oracles[oi]!.asset !== d.collateral) add(`${at}.oracle`, d.oracle, `this oracle prices ${s.oracles[oi]!.asset}: expected an oracle of the collateral, ${d.collateral}`);
      if (d.run && d.run.startStep >= exp.steps) add(`${at}.run.startStep`, d.run.startStep, `the run would start after the last step: expected a step below steps (${exp.steps})`);
      if (d.run && d.run.maxSharePerStep < d.run.sharePerStep) add(`${at}.run.maxSharePerStep`, d.run.maxSharePerStep, `expected at least sharePerStep (${d.run.sharePerStep})`);
      const shock = s.shocks.findIndex((sh) => sh.asset === a.symbol);
      if (shock >= 0) add(`scenario.shocks.${shock}.asset`, a.symbol, `${a.symbol} is an algorithmic stable, valued from its collateral's market cap every step: shock the collateral or start a run instead`);
      return;
    }
    if (d.kind === 'bridged' && !bridgeIndex.has(d.bridge)) {
      add(`scenario.assets.${i}.derived.bridge`, d.bridge, `no bridge with this id in scenario.bridges (known: ${quotedList(s.bridges.map((b) => b.id))})`);
    }
    const at = `scenario.assets.${i}.derived.underlying`;
    const u = assetIndex.get(d.underlying);
    if (u === undefined) add(at, d.underlying, `no asset with this symbol in scenario.assets (known: ${assetList})`);
    else if (d.underlying === a.symbol) add(at, d.underlying, 'expected another asset than this one');
    else if (s.assets[u]!.derived) add(at, d.underlying, `${d.underlying} is itself derived: expected an asset with an exogenous price`);
  });

  // --- lending markets (protocol ids are shared with the exchanges) ------------------------
  const lendingIndex = uniqueIndex(s.lendingMarkets, (x) => x.id, 'scenario.lendingMarkets', 'id', 'lending market id', add);
  s.lendingMarkets.forEach((l, i) => {
    const at = `scenario.lendingMarkets.${i}`;
    if (exchangeIndex.has(l.id)) add(`${at}.id`, l.id, `an exchange already has this id (scenario.exchanges.${exchangeIndex.get(l.id)}); protocol ids must be unique`);
    if (l.governanceToken && !assetIndex.has(l.governanceToken.asset)) {
      add(`${at}.governanceToken.asset`, l.governanceToken.asset, `no asset with this symbol in scenario.assets (known: ${assetList})`);
    }
    if (!fundIndex.has(l.safetyModule)) {
      add(`${at}.safetyModule`, l.safetyModule, `no insurance fund with this id in scenario.insuranceFunds (known: ${quotedList(s.insuranceFunds.map((f) => f.id))})`);
    }
    const seen = new Map<string, number>();
    l.reserves.forEach((r, k) => {
      const rat = `${at}.reserves.${k}`;
      if (r.preset !== undefined && l.profile !== 'aave-v3') add(`${rat}.preset`, r.preset, 'only the aave-v3 profile reads preset: expected profile "aave-v3" on the lending market');
      if (!assetIndex.has(r.asset)) add(`${rat}.asset`, r.asset, `no asset with this symbol in scenario.assets (known: ${assetList})`);
      const prev = seen.get(r.asset);
      if (prev !== undefined) add(`${rat}.asset`, r.asset, `asset already a reserve at ${at}.reserves.${prev}`);
      else seen.set(r.asset, k);
      const oi = oracleIndex.get(r.oracle);
      if (oi === undefined) add(`${rat}.oracle`, r.oracle, `no oracle with this id in scenario.oracles (known: ${quotedList(s.oracles.map((o) => o.id))})`);
      else if (s.oracles[oi]!.asset !== r.asset) add(`${rat}.oracle`, r.oracle, `this oracle prices ${s.oracles[oi]!.asset}, not ${r.asset}`);
      if (r.liquidationThreshold < r.ltv) add(`${rat}.liquidationThreshold`, r.liquidationThreshold, `expected at least ltv (${r.ltv})`);
      // Aave v3 PoolConfigurator.configureReserveAsCollateral: threshold × bonus ≤ 100%, so that
      // a liquidation at HF < 1 can always be paid out of the collateral.
      if (r.liquidationThreshold * r.liquidationBonus > 1) {
        add(`${rat}.liquidationBonus`, r.liquidationBonus, `liquidationThreshold × liquidationBonus must not exceed 1 (it is ${fmt(r.liquidationThreshold * r.liquidationBonus)})`);
      }
    });
  });

  // --- references from oracles and shocks -------------------------------------------------
  s.oracles.forEach((o, i) => {
    if (!assetIndex.has(o.asset)) add(`scenario.oracles.${i}.asset`, o.asset, `no asset with this symbol in scenario.assets (known: ${assetList})`);
    if (o.resumeAtStep !== undefined && o.floorUsd === undefined && o.freezeAtStep === undefined) {
      add(`scenario.oracles.${i}.resumeAtStep`, o.resumeAtStep, 'a step at which a floor or a freeze ends: give floorUsd or freezeAtStep too');
    }
    if (o.resumeAtStep !== undefined && o.freezeAtStep !== undefined && o.resumeAtStep <= o.freezeAtStep) {
      add(`scenario.oracles.${i}.resumeAtStep`, o.resumeAtStep, `a step after freezeAtStep (${o.freezeAtStep})`);
    }
    if (o.source === 'venue' && !o.venueMarket) add(`scenario.oracles.${i}.venueMarket`, undefined, 'expected the venue\'s own market (depthUsd, impact, impactCoefficient, resilienceHalfLifeSeconds) for source "venue"');
    if (o.source !== 'venue' && o.venueMarket) add(`scenario.oracles.${i}.venueMarket`, o.venueMarket, `only an oracle with source "venue" reads a venue market (this one reads "${o.source}")`);
  });
  s.shocks.forEach((sh, i) => {
    if (!assetIndex.has(sh.asset)) add(`scenario.shocks.${i}.asset`, sh.asset, `no asset with this symbol in scenario.assets (known: ${assetList})`);
    if (sh.startStep >= exp.steps) {
      add(`scenario.shocks.${i}.startStep`, sh.startStep, `the shock would start after the last step: expected a step below steps (${exp.steps})`);
    }
  });

  // --- exchanges: funds, backstops, markets, margin tiers, collateral ---------------------
  s.exchanges.forEach((ex, e) => {
    ex.outages.forEach((o, k) => {
      const at = `scenario.exchanges.${e}.outages.${k}`;
      if (o.toStep <= o.fromStep) add(`${at}.toStep`, o.toStep, `expected a step after fromStep (${o.fromStep}): the venue is down from fromStep until toStep`);
      if (o.fromStep >= exp.steps) add(`${at}.fromStep`, o.fromStep, `the outage would start after the last step: expected a step below steps (${exp.steps})`);
    });
    ex.markets.forEach((mkt, k) => {
      if (mkt.delisting != null && mkt.delisting.atStep >= exp.steps) {
        add(`scenario.exchanges.${e}.markets.${k}.delisting.atStep`, mkt.delisting.atStep, `the delisting would come after the last step: expected a step below steps (${exp.steps})`);
      }
    });
    if (ex.marginModel === 'portfolio' && !ex.portfolioMargin) add(`scenario.exchanges.${e}.marginModel`, 'portfolio', 'expected a portfolioMargin block to go with it');
    if (ex.marginModel === 'dynamic' && !ex.dynamicMargin) add(`scenario.exchanges.${e}.marginModel`, 'dynamic', 'expected a dynamicMargin block to go with it');
    ex.collateralAssets.forEach((c, k) => {
      const at = `scenario.exchanges.${e}.collateralAssets.${k}`;
      if (!assetIndex.has(c.asset)) add(`${at}.asset`, c.asset, `no asset with this symbol in scenario.assets (known: ${assetList})`);
      const oi = oracleIndex.get(c.oracle);
      if (oi === undefined) add(`${at}.oracle`, c.oracle, `no oracle with this id in scenario.oracles (known: ${quotedList(s.oracles.map((o) => o.id))})`);
      else if (s.oracles[oi]!.asset !== c.asset) add(`${at}.oracle`, c.oracle, `this oracle prices ${s.oracles[oi]!.asset}, not ${c.asset}`);
    });
  });
  const vaultUsers = new Map<string, number>();
  s.exchanges.forEach((ex, e) => {
    const at = `scenario.exchanges.${e}`;
    if (!fundIndex.has(ex.insuranceFund)) {
      add(`${at}.insuranceFund`, ex.insuranceFund, `no insurance fund with this id in scenario.insuranceFunds (known: ${quotedList(s.insuranceFunds.map((f) => f.id))})`);
    }
    if (ex.backstop) {
      const v = ex.backstop.vault;
      if (!vaultIndex.has(v)) {
        add(`${at}.backstop.vault`, v, `no backstop vault with this id in scenario.backstopVaults (known: ${quotedList(s.backstopVaults.map((b) => b.id))})`);
      } else {
        const other = vaultUsers.get(v);
        // A vault's equity is one pool; two exchanges drawing on it would double-count it.
        if (other !== undefined) add(`${at}.backstop.vault`, v, `this vault already backstops scenario.exchanges.${other} ("${s.exchanges[other]!.id}"); a vault serves one exchange`);
        else vaultUsers.set(v, e);
      }
    }
    const seenAssets = new Map<string, number>();
    ex.markets.forEach((m, k) => {
      const mat = `${at}.markets.${k}`;
      if (!assetIndex.has(m.asset)) add(`${mat}.asset`, m.asset, `no asset with this symbol in scenario.assets (known: ${assetList})`);
      const prev = seenAssets.get(m.asset);
      if (prev !== undefined) add(`${mat}.asset`, m.asset, `exchange "${ex.id}" already has a market for this asset at ${at}.markets.${prev}`);
      else seenAssets.set(m.asset, k);
      const oi = oracleIndex.get(m.oracle);
      if (oi === undefined) {
        add(`${mat}.oracle`, m.oracle, `no oracle with this id in scenario.oracles (known: ${quotedList(s.oracles.map((o) => o.id))})`);
      } else {
        const oracle = s.oracles[oi]!;
        if (oracle.asset !== m.asset) {
          add(`${mat}.oracle`, m.oracle, `oracle "${oracle.id}" prices ${oracle.asset}, but this market trades ${m.asset}`);
        }
      }
      checkTiers(m.marginTiers, `${mat}.marginTiers`, add);
      // Fields only a profile reads must not be ignored silently.
      if (m.maxLeverage !== undefined && ex.profile !== 'hyperliquid') add(`${mat}.maxLeverage`, m.maxLeverage, 'only the hyperliquid profile reads maxLeverage: expected profile "hyperliquid" on the exchange, or marginTiers alone');
      if (m.liquidityTier !== undefined && ex.profile !== 'dydx-v4') add(`${mat}.liquidityTier`, m.liquidityTier, 'only the dydx-v4 profile reads liquidityTier: expected profile "dydx-v4" on the exchange, or marginTiers alone');
      if (m.insuranceFund !== undefined && !fundIndex.has(m.insuranceFund)) {
        add(`${mat}.insuranceFund`, m.insuranceFund, `no insurance fund with this id in scenario.insuranceFunds (known: ${quotedList(s.insuranceFunds.map((f) => f.id))})`);
      }
    });
  });

  // --- option series -----------------------------------------------------------------------
  s.exchanges.forEach((ex, e) => {
    const seen = new Map<string, number>();
    const model = effectiveMarginModel(ex);
    ex.optionSeries.forEach((o, k) => {
      const at = `scenario.exchanges.${e}.optionSeries.${k}`;
      const prev = seen.get(o.id);
      if (prev !== undefined) add(`${at}.id`, o.id, `series id already used at scenario.exchanges.${e}.optionSeries.${prev}`);
      else seen.set(o.id, k);
      if (model !== 'portfolio') add(at, o.id, 'options are margined under portfolio margin only: expected marginModel "portfolio" (and a portfolioMargin block) on the exchange');
      const ai = assetIndex.get(o.asset);
      if (ai === undefined) add(`${at}.asset`, o.asset, `no asset with this symbol in scenario.assets (known: ${assetList})`);
      else if (!s.assets[ai]!.impliedVol) add(`scenario.assets.${ai}.impliedVol`, undefined, `asset ${o.asset} underlies option series "${o.id}": expected its impliedVol levels`);
      if (!ex.markets.some((m) => m.asset === o.asset)) add(`${at}.asset`, o.asset, `exchange "${ex.id}" has no perp market for this asset (the series' co-movement group is that market's)`);
      const oi = oracleIndex.get(o.oracle);
      if (oi === undefined) add(`${at}.oracle`, o.oracle, `no oracle with this id in scenario.oracles (known: ${quotedList(s.oracles.map((x) => x.id))})`);
      else if (s.oracles[oi]!.asset !== o.asset) add(`${at}.oracle`, o.oracle, `this oracle prices ${s.oracles[oi]!.asset}, not ${o.asset}`);
    });
  });

  // --- arbitrageurs -----------------------------------------------------------------------
  uniqueIndex(s.arbitrageurs, (x) => x.id, 'scenario.arbitrageurs', 'id', 'arbitrageur id', add);
  s.arbitrageurs.forEach((x, i) => {
    const at = `scenario.arbitrageurs.${i}`;
    if (!assetIndex.has(x.asset)) add(`${at}.asset`, x.asset, `no asset with this symbol in scenario.assets (known: ${assetList})`);
    if (x.exitDiscount >= x.entryDiscount) {
      add(`${at}.exitDiscount`, x.exitDiscount, `expected less than entryDiscount (${x.entryDiscount}): they buy below fundamental × (1 − entryDiscount) and sell above fundamental × (1 − exitDiscount)`);
    }
  });

  // --- direct exposures -------------------------------------------------------------------
  s.exposures.forEach((x, i) => {
    const at = `scenario.exposures.${i}`;
    if (!fundIndex.has(x.fund)) add(`${at}.fund`, x.fund, `no insurance fund with this id in scenario.insuranceFunds (known: ${quotedList(s.insuranceFunds.map((f) => f.id))})`);
    const li = lendingIndex.get(x.lendingMarket);
    if (li === undefined) {
      add(`${at}.lendingMarket`, x.lendingMarket, `no lending market with this id in scenario.lendingMarkets (known: ${quotedList(s.lendingMarkets.map((l) => l.id))})`);
      return;
    }
    const reserve = s.lendingMarkets[li]!.reserves.find((r) => r.asset === x.asset);
    if (!reserve) add(`${at}.asset`, x.asset, `lending market "${x.lendingMarket}" has no reserve for this asset`);
    else if (x.amountUsd > reserve.supplyUsd) add(`${at}.amountUsd`, x.amountUsd, `expected at most the reserve's supplyUsd (${reserve.supplyUsd}): the deposit is part of it`);
  });

  // --- trader cohorts ---------------------------------------------------------------------
  const makersPerExchange = new Set<string>();
  for (const c of s.traders) if (c.kind === 'marketMaker') makersPerExchange.add(c.exchange);
  const directionalExchanges = new Map<string, number>();
  s.traders.forEach((c, t) => {
    const at = `scenario.traders.${t}`;
    if (c.kind === 'directional' && c.withdrawal != null && !(c.withdrawal.downToInitialMarginMultiple < c.withdrawal.aboveInitialMarginMultiple)) {
      add(
        `${at}.withdrawal.downToInitialMarginMultiple`,
        c.withdrawal.downToInitialMarginMultiple,
        `expected a multiple below aboveInitialMarginMultiple (${c.withdrawal.aboveInitialMarginMultiple}): an account withdraws down to it from above that line`,
      );
    }
    if (isLendingCohort(c)) {
      checkLendingCohort(c, at, lendingIndex, s.lendingMarkets, exp.steps, add);
      return;
    }
    const ei = exchangeIndex.get(c.exchange);
    if (ei === undefined) {
      add(`${at}.exchange`, c.exchange, `no exchange with this id in scenario.exchanges (known: ${quotedList(s.exchanges.map((x) => x.id))})`);
      return;
    }
    if (c.kind === 'basisIssuer') {
      const ex = s.exchanges[ei]!;
      if (!ex.markets.some((m) => m.asset === c.hedgeAsset)) add(`${at}.hedgeAsset`, c.hedgeAsset, `exchange "${ex.id}" has no market for this asset to short`);
      if (!ex.collateralAssets.some((x) => x.asset === c.hedgeAsset)) add(`${at}.hedgeAsset`, c.hedgeAsset, `exchange "${ex.id}" does not accept it as collateral (add it to collateralAssets)`);
      return;
    }
    if (c.kind === 'optionSeller') {
      const ex = s.exchanges[ei]!;
      if (!ex.optionSeries.some((o) => o.id === c.series)) {
        add(`${at}.series`, c.series, `exchange "${ex.id}" lists no option series with this id (known: ${quotedList(ex.optionSeries.map((o) => o.id))})`);
      }
      if (!makersPerExchange.has(c.exchange)) add(`${at}.exchange`, c.exchange, 'option sellers sell to the exchange\'s market makers: expected a marketMaker cohort on it');
      return;
    }
    if (c.kind !== 'directional') return;
    if (!directionalExchanges.has(c.exchange)) directionalExchanges.set(c.exchange, t);
    const ex = s.exchanges[ei]!;
    const seen = new Map<string, number>();
    // The tightest first-tier cap among the markets this cohort trades, for the leverage check.
    let maxLeverage = Infinity;
    let capNote = '';
    c.positions.forEach((p, k) => {
      const pat = `${at}.positions.${k}.asset`;
      const prev = seen.get(p.asset);
      if (prev !== undefined) add(pat, p.asset, `asset already listed at ${at}.positions.${prev}; list each asset once and use weight`);
      else seen.set(p.asset, k);
      const market = ex.markets.find((m) => m.asset === p.asset);
      if (!market) {
        add(pat, p.asset, `exchange "${ex.id}" has no market for this asset (markets: ${quotedList(ex.markets.map((m) => m.asset))})`);
        return;
      }
      const imf = market.marginTiers[0]!.initialMarginFraction;
      if (1 / imf < maxLeverage) {
        maxLeverage = 1 / imf;
        capNote = `${fmt(maxLeverage)}× on ${p.asset} at exchange "${ex.id}" (1 / initialMarginFraction ${imf} of its first margin tier)`;
      }
    });
    if (Number.isFinite(maxLeverage)) {
      const limit = maxLeverage * (1 + LEVERAGE_SLACK);
      if (c.leverage.kind === 'fixed' && c.leverage.value > limit) {
        add(`${at}.leverage.value`, c.leverage.value, `leverage is above the venue maximum of ${capNote}`);
      } else if (c.leverage.kind === 'uniform' && c.leverage.min > limit) {
        add(`${at}.leverage.min`, c.leverage.min, `the whole leverage range is above the venue maximum of ${capNote}`);
      }
    }
    let mixTotal = 0;
    c.collateralMix.forEach((m, k) => {
      mixTotal += m.share;
      if (!ex.collateralAssets.some((x) => x.asset === m.asset)) {
        add(`${at}.collateralMix.${k}.asset`, m.asset, `exchange "${ex.id}" does not accept it as collateral (collateralAssets: ${quotedList(ex.collateralAssets.map((x) => x.asset))})`);
      }
    });
    if (mixTotal > 1 + 1e-12) add(`${at}.collateralMix`, mixTotal, 'expected the shares to add up to at most 1 (the rest is cash)');
    checkDistribution(c.leverage, `${at}.leverage`, add);
    checkDistribution(c.collateralUsd, `${at}.collateralUsd`, add);
    checkDistribution(c.walletUsd, `${at}.walletUsd`, add);
  });
  for (const [exchangeId, t] of directionalExchanges) {
    // Directional traders open positions against someone: market makers hold the other side.
    if (!makersPerExchange.has(exchangeId)) {
      add(`scenario.traders.${t}.exchange`, exchangeId, `exchange "${exchangeId}" has directional traders but no marketMaker cohort to hold the other side of their open interest`);
    }
  }

  // --- regimes ----------------------------------------------------------------------------
  const n = s.assets.length;
  for (const name of ['calm', 'stress'] as const) {
    checkCorrelation(s.regimes[name].correlation, n, `scenario.regimes.${name}.correlation`, add);
  }
  const sw = s.regimes.switching;
  if (sw.kind === 'scripted' && sw.toCalmAtStep !== undefined && sw.toCalmAtStep <= sw.toStressAtStep) {
    add('scenario.regimes.switching.toCalmAtStep', sw.toCalmAtStep, `expected a step after toStressAtStep (${sw.toStressAtStep})`);
  }

  return issues;
}

type Add = (path: string, value: unknown, message: string) => void;

/** References and limits of a looper or lending-liquidator cohort. */
function checkLendingCohort(c: LendingCohort, at: string, lendingIndex: Map<string, number>, markets: Experiment['scenario']['lendingMarkets'], steps: number, add: Add): void {
  const li = lendingIndex.get(c.lendingMarket);
  if (li === undefined) {
    add(`${at}.lendingMarket`, c.lendingMarket, `no lending market with this id in scenario.lendingMarkets (known: ${quotedList(markets.map((l) => l.id))})`);
    return;
  }
  if (c.kind === 'lendingLiquidator') return;
  const market = markets[li]!;
  const reserves = quotedList(market.reserves.map((r) => r.asset));
  const coll = market.reserves.find((r) => r.asset === c.collateral);
  const debt = market.reserves.find((r) => r.asset === c.debt);
  if (!coll) add(`${at}.collateral`, c.collateral, `lending market "${market.id}" has no reserve for this asset (reserves: ${reserves})`);
  else if (coll.liquidationThreshold === 0 || coll.ltv === 0) add(`${at}.collateral`, c.collateral, `reserve ${c.collateral} of "${market.id}" is not usable as collateral (ltv or liquidationThreshold is 0)`);
  if (!debt) add(`${at}.debt`, c.debt, `lending market "${market.id}" has no reserve for this asset (reserves: ${reserves})`);
  else if (!debt.borrowable) add(`${at}.debt`, c.debt, `reserve ${c.debt} of "${market.id}" is not borrowable`);
  if (c.collateral === c.debt) add(`${at}.debt`, c.debt, 'expected an asset other than the collateral');
  if (c.kind === 'manipulator') {
    if (c.pumpAtStep >= steps) add(`${at}.pumpAtStep`, c.pumpAtStep, `expected a step below steps (${steps})`);
    return;
  }
  if (coll) {
    const cap = 1 / (1 - coll.ltv);
    const low = c.leverage.kind === 'fixed' ? c.leverage.value : c.leverage.kind === 'uniform' ? c.leverage.min : c.leverage.median;
    if (low < 1) add(`${at}.leverage`, low, 'expected leverage (collateral / equity) of at least 1');
    if (c.leverage.kind === 'fixed' && c.leverage.value >= cap) {
      add(`${at}.leverage.value`, c.leverage.value, `expected below 1 / (1 − ltv) = ${fmt(cap)} (ltv ${coll.ltv} of ${c.collateral} at "${market.id}")`);
    }
  }
  checkDistribution(c.equityUsd, `${at}.equityUsd`, add);
  checkDistribution(c.leverage, `${at}.leverage`, add);
  checkDistribution(c.walletUsd, `${at}.walletUsd`, add);
}

/** Map id → first index; report every later duplicate at its own path. */
function uniqueIndex<T>(items: readonly T[], key: (x: T) => string, listPath: string, field: string, what: string, add: Add): Map<string, number> {
  const index = new Map<string, number>();
  items.forEach((item, i) => {
    const k = key(item);
    const first = index.get(k);
    if (first !== undefined) add(`${listPath}.${i}.${field}`, k, `duplicate ${what} (first used at ${listPath}.${first})`);
    else index.set(k, i);
  });
  return index;
}

function checkTiers(tiers: Experiment['scenario']['exchanges'][number]['markets'][number]['marginTiers'], at: string, add: Add): void {
  tiers.forEach((tier, i) => {
    const tat = `${at}.${i}`;
    const last = i === tiers.length - 1;
    if (last && tier.upToNotionalUsd !== null) {
      add(`${tat}.upToNotionalUsd`, tier.upToNotionalUsd, 'the last margin tier must be open-ended: expected null');
    }
    if (!last && tier.upToNotionalUsd === null) {
      add(`${tat}.upToNotionalUsd`, null, 'only the last margin tier may be open-ended: expected a finite notional bound');
    }
    if (i > 0) {
      const prev = tiers[i - 1]!;
      if (tier.upToNotionalUsd !== null && prev.upToNotionalUsd !== null && tier.upToNotionalUsd <= prev.upToNotionalUsd) {
        add(`${tat}.upToNotionalUsd`, tier.upToNotionalUsd, `tier bounds must increase strictly: expected more than ${at}.${i - 1}.upToNotionalUsd (${prev.upToNotionalUsd})`);
      }
      if (tier.initialMarginFraction < prev.initialMarginFraction) {
        add(`${tat}.initialMarginFraction`, tier.initialMarginFraction, `margin fractions must not decrease across tiers: expected at least ${at}.${i - 1}.initialMarginFraction (${prev.initialMarginFraction})`);
      }
      if (tier.maintenanceMarginFraction < prev.maintenanceMarginFraction) {
        add(`${tat}.maintenanceMarginFraction`, tier.maintenanceMarginFraction, `margin fractions must not decrease across tiers: expected at least ${at}.${i - 1}.maintenanceMarginFraction (${prev.maintenanceMarginFraction})`);
      }
    }
    if (tier.maintenanceMarginFraction >= tier.initialMarginFraction) {
      add(`${tat}.maintenanceMarginFraction`, tier.maintenanceMarginFraction, `expected less than initialMarginFraction (${tier.initialMarginFraction}) of the same tier`);
    }
  });
}

function checkDistribution(d: Distribution, at: string, add: Add): void {
  if (d.kind === 'uniform' && d.min > d.max) add(`${at}.min`, d.min, `expected min ≤ max (${d.max})`);
}

function checkCorrelation(m: number[][], n: number, at: string, add: Add): void {
  const order = 'one per asset, in the order of scenario.assets';
  if (m.length !== n) {
    add(at, m, `expected a ${n}×${n} matrix (${order}), got ${m.length} row${m.length === 1 ? '' : 's'}`);
    return;
  }
  let shapeOk = true;
  m.forEach((row, i) => {
    if (row.length !== n) {
      add(`${at}.${i}`, row, `expected ${n} entries (${order}), got ${row.length}`);
      shapeOk = false;
    }
  });
  if (!shapeOk) return;
  let valuesOk = true;
  for (let i = 0; i < n; i++) {
    const d = m[i]![i]!;
    if (Math.abs(d - 1) > DIAGONAL_TOLERANCE) {
      add(`${at}.${i}.${i}`, d, 'a diagonal entry of a correlation matrix must be 1');
      valuesOk = false;
    }
    for (let j = i + 1; j < n; j++) {
      const a = m[i]![j]!;
      const b = m[j]![i]!;
      if (Math.abs(a - b) > SYMMETRY_TOLERANCE) {
        add(`${at}.${i}.${j}`, a, `the matrix must be symmetric: expected the same value as ${at}.${j}.${i} (${b})`);
        valuesOk = false;
      }
    }
  }
  if (valuesOk && cholesky(m) === null) {
    add(at, m, 'not positive definite: these pairwise correlations cannot hold at the same time (lower the offending off-diagonal entries)');
  }
}

function quotedList(ids: readonly string[]): string {
  return ids.length === 0 ? 'none' : [...new Set(ids)].map((x) => `"${x}"`).join(', ');
}

function fmt(x: number): string {
  return Number.isInteger(x) ? String(x) : x.toPrecision(6).replace(/\.?0+$/, '');
}
