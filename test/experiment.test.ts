// Loading experiments: the fixture and its defaults, --set overrides, the schema's messages and
// every cross-field rule of semantics.ts. Each rule is checked by breaking the minimal fixture in
// one place and asserting the exact path of the reported issue.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { UsageError, type InputIssue } from '../src/experiment/errors.ts';
import { loadExperiment, locateJsonError, parseExperiment } from '../src/experiment/load.ts';
import { applyOverrides, parseOverride } from '../src/experiment/overrides.ts';
import type { ExperimentInput } from '../src/experiment/schema.ts';
import { validateSemantics } from '../src/experiment/semantics.ts';
import { minimalExperiment } from './fixtures/minimalExperiment.ts';
import { lendingExperiment } from './fixtures/lendingExperiment.ts';
import { buildGraph } from '../src/graph/build.ts';
import { worldFor } from '../src/engine/simulate.ts';
import { issuesOf } from './fixtures/issues.ts';


/** Parse the fixture with some --set overrides applied and return the issues. */
function issuesWith(...sets: string[]): InputIssue[] {
  return issuesOf(() => parseExperiment(applyOverrides(minimalExperiment(), sets), 'test'));
}

const paths = (issues: InputIssue[]): string[] => issues.map((i) => i.path);

describe('limits of the engine\'s 16-bit codes', () => {
  test('more than 32,767 trader cohorts, or 255 exchanges, is bad input naming the field and the limit', () => {
    const many = minimalExperiment();
    const t = many.scenario.traders[0]!;
    many.scenario.traders = Array.from({ length: 32768 }, (_, i) => ({ ...t, id: `c${i}` }));
    const issues = issuesOf(() => parseExperiment(many, 'test'));
    expect(paths(issues)).toContain('scenario.traders');
    expect(issues.find((i) => i.path === 'scenario.traders')!.message).toMatch(/32767/);
    const venues = minimalExperiment();
    const x = venues.scenario.exchanges[0]!;
    venues.scenario.exchanges = Array.from({ length: 256 }, (_, i) => ({ ...x, id: `x${i}` }));
    const vIssues = issuesOf(() => parseExperiment(venues, 'test'));
    expect(paths(vIssues)).toContain('scenario.exchanges');
    expect(vIssues.find((i) => i.path === 'scenario.exchanges')!.message).toMatch(/255/);
  });
});

describe('the minimal fixture', () => {
  test('parses and gets every default filled in', () => {
    const exp = parseExperiment(minimalExperiment(), 'fixture');
    expect(exp.stepSeconds).toBe(60);
    expect(exp.output).toEqual({ steps: true, prices: true, events: true, attribution: true, cohorts: true });
    expect(exp.scenario.regimes.initial).toBe('calm');
    expect(exp.scenario.regimes.calm.volatilityMultiplier).toBe(1);
    expect(exp.scenario.assets[0]!.driftAnnual).toBe(0);
    expect(exp.scenario.oracles[0]).toMatchObject({ source: 'market', lagSteps: 0 });
    const ex = exp.scenario.exchanges[0]!;
    expect(ex.kind).toBe('perp');
    expect(ex.liquidation.maxRoundsPerStep).toBe(20);
    expect(ex.liquidation.partialMinNotionalUsd).toBe(0);
    expect(ex.adl.ranking).toBe('pnl-leverage');
    expect(ex.funding.capPerHour).toBe(0.04);
    const degens = exp.scenario.traders[0]!;
    expect(degens.kind === 'directional' && degens.longShare).toBe(0.5);
    expect(degens.kind === 'directional' && degens.marginCall.callBelowMaintenanceMultiple).toBe(1.25);
  });

  test('has no cross-field problems', () => {
    expect(validateSemantics(parseExperiment(minimalExperiment(), 'fixture'))).toEqual([]);
  });

  test('is small: 20 traders, 50 steps, 2 runs', () => {
    const exp = minimalExperiment();
    expect(exp.scenario.traders.reduce((n, c) => n + (c.count ?? 1), 0)).toBe(20);
    expect([exp.steps, exp.runs]).toEqual([50, 2]);
  });
});

describe('--set overrides', () => {
  test('set numbers, strings, arrays and objects, parsing JSON when it parses', () => {
    const out = applyOverrides(minimalExperiment(), [
      'steps=200',
      'name=renamed',
      'note="quoted string"',
      'scenario.regimes.calm.correlation=[[1,0.1],[0.1,1]]',
      'scenario.assets.1.jumps={"intensityPerYear":2,"meanLogJump":-0.1,"stdLogJump":0.05}',
      'scenario.traders.0.positions.1.side=short',
    ]) as ExperimentInput;
    expect(out.steps).toBe(200);
    expect(out.name).toBe('renamed');
    expect(out.note).toBe('quoted string');
    expect(out.scenario.regimes.calm.correlation).toEqual([[1, 0.1], [0.1, 1]]);
    expect(out.scenario.assets[1]!.jumps).toEqual({ intensityPerYear: 2, meanLogJump: -0.1, stdLogJump: 0.05 });
    const cohort = out.scenario.traders[0]!;
    expect(cohort.kind === 'directional' && cohort.positions[1]!.side).toBe('short');
    expect(parseExperiment(out, 'overridden').steps).toBe(200);
  });

  test('accept bracketed indices as well as dotted ones', () => {
    const out = applyOverrides(minimalExperiment(), ['scenario.assets[0].volatilityAnnual=0.9', 'scenario.regimes.stress.correlation[0][1]=0.5']) as ExperimentInput;
    expect(out.scenario.assets[0]!.volatilityAnnual).toBe(0.9);
    expect(out.scenario.regimes.stress.correlation[0]![1]).toBe(0.5);
  });

  test('keep a value that is not JSON as a string, and split at the first "="', () => {
    expect(parseOverride('name=a=b').value).toBe('a=b');
    expect(parseOverride('x=1e3').value).toBe(1000);
    expect(parseOverride('x=true').value).toBe(true);
    expect(parseOverride('x=null').value).toBe(null);
    expect(parseOverride('x=').value).toBe('');
  });

  test('apply in order, later ones winning, without touching the input', () => {
    const input = minimalExperiment();
    const out = applyOverrides(input, ['runs=5', 'runs=7']) as ExperimentInput;
    expect(out.runs).toBe(7);
    expect(input.runs).toBe(2);
  });

  test('may add an unknown last key, which the schema then rejects by its path', () => {
    const issues = issuesWith('scenario.assets.0.volatilityAnual=0.9');
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject({ path: 'scenario.assets.0.volatilityAnual', value: 0.9 });
    expect(issues[0]!.message).toContain('did you mean "volatilityAnnual"');
  });

  const malformed: Array<[string, string, RegExp]> = [
    ['an argument without "="', 'steps', /no "=" found/],
    ['an empty path', '=5', /path before "=" is empty/],
    ['an empty segment', 'scenario..assets=1', /empty segment/],
    ['a path through a number', 'steps.x=1', /steps: it is the number 50/],
    ['a path through a string', 'name.first=1', /not an object or array/],
    ['a missing intermediate object', 'scenario.assets.0.jumps.intensityPerYear=1', /scenario\.assets\.0\.jumps does not exist/],
    ['an index out of range', 'scenario.assets.2.symbol=SOL', /index 2 is out of range: scenario\.assets has 2 elements/],
    ['a key where an index is needed', 'scenario.assets.first.symbol=SOL', /expected a numeric index/],
    ['a bracket that is not an index', 'scenario.assets[x].symbol=SOL', /not an array index/],
    ['a prototype key', '__proto__.polluted=1', /cannot be used as a key/],
  ];
  test.each(malformed)('reject %s with a UsageError naming the argument', (_name, arg, why) => {
    let caught: unknown;
    try {
      applyOverrides(minimalExperiment(), [arg]);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(UsageError);
    expect((caught as Error).message).toContain(JSON.stringify(arg));
    expect((caught as Error).message).toMatch(why);
  });
});

describe('schema messages', () => {
  test('name the path, the value found and what was expected', () => {
    const issues = issuesWith('steps="50"', 'scenario.exchanges.0.liquidation.penaltyFraction=-0.1', 'scenario.traders.2.count=1.5');
    expect(issues).toEqual([
      { path: 'steps', value: '50', message: 'expected an integer, not a string' },
      { path: 'scenario.exchanges.0.liquidation.penaltyFraction', value: -0.1, message: 'expected a number ≥ 0' },
      { path: 'scenario.traders.2.count', value: 1.5, message: 'expected an integer, not a fractional number' },
    ]);
  });

  test('list the allowed kinds of a discriminated union', () => {
    const [issue] = issuesWith('scenario.traders.0.leverage.kind=gaussian');
    expect(issue).toMatchObject({ path: 'scenario.traders.0.leverage.kind', value: 'gaussian' });
    expect(issue!.message).toBe('expected "kind" to be one of "fixed", "uniform", "lognormal"');
  });

  test('report each unknown key separately, with the allowed keys when no key is close', () => {
    const issues = issuesWith('scenario.zzz=1', 'scenario.qqq=2');
    expect(paths(issues)).toEqual(['scenario.zzz', 'scenario.qqq']);
    expect(issues[0]!.message).toMatch(/allowed here: assets, regimes/);
  });

  test('call a missing required field missing, and mention nullable numbers', () => {
    const raw = minimalExperiment() as unknown as { scenario: { assets: Array<Record<string, unknown>> } };
    delete raw.scenario.assets[0]!.initialPrice;
    const [missing] = issuesOf(() => parseExperiment(raw, 'test'));
    expect(missing).toMatchObject({ path: 'scenario.assets.0.initialPrice', value: undefined });
    expect(missing!.message).toMatch(/^required field is missing: expected a number/);
    const [nullable] = issuesWith('scenario.exchanges.0.markets.1.marginTiers.0.upToNotionalUsd="lots"');
    expect(nullable!.message).toBe('expected a number or null, not a string');
  });

  test('reject something that is not an object at the root', () => {
    expect(issuesOf(() => parseExperiment([], 'test'))).toEqual([{ path: '', value: [], message: 'expected an object, not an array' }]);
  });
});

describe('cross-field rules', () => {
  // [name, overrides, expected path of one issue, expected words in its message]
  const cases: Array<[string, string[], string, RegExp]> = [
    ['duplicate asset symbols are rejected', ['scenario.assets.1.symbol=BTC'], 'scenario.assets.1.symbol', /duplicate asset symbol/],
    ['duplicate oracle ids are rejected', ['scenario.oracles.1.id=btc-oracle'], 'scenario.oracles.1.id', /duplicate oracle id/],
    ['duplicate fund ids are rejected', ['scenario.insuranceFunds=[{"id":"fund","initialUsd":1},{"id":"fund","initialUsd":2}]'], 'scenario.insuranceFunds.1.id', /duplicate insurance fund id/],
    ['duplicate vault ids are rejected', ['scenario.backstopVaults=[{"id":"vault","initialUsd":1,"maxLeverage":2},{"id":"vault","initialUsd":2,"maxLeverage":2}]'], 'scenario.backstopVaults.1.id', /duplicate backstop vault id/],
    ['duplicate cohort ids are rejected across cohort kinds', ['scenario.traders.2.id=makers'], 'scenario.traders.2.id', /duplicate trader cohort id/],
    ['an oracle of an unknown asset is rejected', ['scenario.oracles.1.asset=SOL'], 'scenario.oracles.1.asset', /no asset with this symbol/],
    ['a shock on an unknown asset is rejected', ['scenario.shocks.0.asset=SOL'], 'scenario.shocks.0.asset', /no asset/],
    ['a shock that starts after the last step is rejected', ['scenario.shocks.0.startStep=50'], 'scenario.shocks.0.startStep', /below steps \(50\)/],
    ['an unknown insurance fund is rejected', ['scenario.exchanges.0.insuranceFund=other'], 'scenario.exchanges.0.insuranceFund', /no insurance fund/],
    ['an unknown backstop vault is rejected', ['scenario.exchanges.0.backstop.vault=other'], 'scenario.exchanges.0.backstop.vault', /no backstop vault/],
    ['a market on an unknown asset is rejected', ['scenario.exchanges.0.markets.1.asset=SOL'], 'scenario.exchanges.0.markets.1.asset', /no asset/],
    ['an unknown oracle is rejected', ['scenario.exchanges.0.markets.1.oracle=other'], 'scenario.exchanges.0.markets.1.oracle', /no oracle/],
    ['an oracle on another asset than its market is rejected', ['scenario.exchanges.0.markets.1.oracle=btc-oracle'], 'scenario.exchanges.0.markets.1.oracle', /prices BTC, but this market trades ETH/],
    ['two markets on one asset are rejected', ['scenario.exchanges.0.markets.1.asset=BTC'], 'scenario.exchanges.0.markets.1.asset', /already has a market/],
    ['a cohort on an unknown exchange is rejected', ['scenario.traders.2.exchange=other'], 'scenario.traders.2.exchange', /no exchange/],
    ['a position in an asset the exchange does not list is rejected', ['scenario.exchanges.0.markets=[{"asset":"BTC","oracle":"btc-oracle","marginTiers":[{"upToNotionalUsd":null,"initialMarginFraction":0.1,"maintenanceMarginFraction":0.05}]}]'], 'scenario.traders.0.positions.1.asset', /has no market for this asset/],
    ['an asset listed twice in a cohort is rejected', ['scenario.traders.0.positions.1.asset=BTC'], 'scenario.traders.0.positions.1.asset', /already listed/],
    ['directional traders without market makers are rejected', ['scenario.traders.1.kind=liquidator'], 'scenario.traders.0.exchange', /no marketMaker cohort/],
    ['a correlation matrix of the wrong size is rejected', ['scenario.regimes.calm.correlation=[[1]]'], 'scenario.regimes.calm.correlation', /expected a 2×2 matrix/],
    ['a ragged correlation row is rejected', ['scenario.regimes.calm.correlation.1=[0.6]'], 'scenario.regimes.calm.correlation.1', /expected 2 entries/],
    ['an asymmetric correlation matrix is rejected', ['scenario.regimes.calm.correlation.0.1=0.5'], 'scenario.regimes.calm.correlation.0.1', /symmetric/],
    ['a diagonal entry other than 1 is rejected', ['scenario.regimes.stress.correlation.1.1=0.9'], 'scenario.regimes.stress.correlation.1.1', /must be 1/],
    ['a correlation matrix that is not positive definite is rejected', ['scenario.regimes.stress.correlation=[[1,1],[1,1]]'], 'scenario.regimes.stress.correlation', /not positive definite/],
    ['a bounded last margin tier is rejected', ['scenario.exchanges.0.markets.1.marginTiers.0.upToNotionalUsd=100'], 'scenario.exchanges.0.markets.1.marginTiers.0.upToNotionalUsd', /last margin tier must be open-ended/],
    ['an open-ended tier before the last is rejected', ['scenario.exchanges.0.markets.0.marginTiers.0.upToNotionalUsd=null'], 'scenario.exchanges.0.markets.0.marginTiers.0.upToNotionalUsd', /only the last/],
    ['tier bounds that do not increase are rejected', ['scenario.exchanges.0.markets.0.marginTiers=[{"upToNotionalUsd":10,"initialMarginFraction":0.02,"maintenanceMarginFraction":0.01},{"upToNotionalUsd":10,"initialMarginFraction":0.02,"maintenanceMarginFraction":0.01},{"upToNotionalUsd":null,"initialMarginFraction":0.02,"maintenanceMarginFraction":0.01}]'], 'scenario.exchanges.0.markets.0.marginTiers.1.upToNotionalUsd', /increase strictly/],
    ['margin fractions that decrease across tiers are rejected', ['scenario.exchanges.0.markets.0.marginTiers.1.initialMarginFraction=0.015', 'scenario.exchanges.0.markets.0.marginTiers.1.maintenanceMarginFraction=0.005'], 'scenario.exchanges.0.markets.0.marginTiers.1.initialMarginFraction', /must not decrease/],
    ['maintenance margin not below initial margin is rejected', ['scenario.exchanges.0.markets.1.marginTiers.0.maintenanceMarginFraction=0.04'], 'scenario.exchanges.0.markets.1.marginTiers.0.maintenanceMarginFraction', /less than initialMarginFraction \(0\.04\)/],
    ['a uniform distribution with min above max is rejected', ['scenario.traders.0.collateralUsd={"kind":"uniform","min":10,"max":5}'], 'scenario.traders.0.collateralUsd.min', /min ≤ max/],
    ['a scripted return to calm before the stress is rejected', ['scenario.regimes.switching={"kind":"scripted","toStressAtStep":10,"toCalmAtStep":10}'], 'scenario.regimes.switching.toCalmAtStep', /after toStressAtStep/],
    ['a fixed leverage above the venue maximum is rejected', ['scenario.traders.0.leverage={"kind":"fixed","value":30}'], 'scenario.traders.0.leverage.value', /25× on ETH/],
    ['a uniform leverage entirely above the venue maximum is rejected', ['scenario.traders.0.leverage={"kind":"uniform","min":26,"max":40}'], 'scenario.traders.0.leverage.min', /above the venue maximum/],
  ];

  test.each(cases)('%s', (_name, sets, path, why) => {
    const issues = issuesWith(...sets);
    const issue = issues.find((i) => i.path === path);
    expect(issue, `issues were: ${JSON.stringify(issues)}`).toBeDefined();
    expect(issue!.message).toMatch(why);
  });

  // Needs a second exchange, which --set cannot create: build it from the first.
  test('one vault backing two exchanges is rejected', () => {
    const raw = minimalExperiment();
    raw.scenario.exchanges.push({ ...structuredClone(raw.scenario.exchanges[0]!), id: 'other' });
    const issues = issuesOf(() => parseExperiment(raw, 'test'));
    expect(issues).toEqual([
      expect.objectContaining({ path: 'scenario.exchanges.1.backstop.vault', value: 'vault', message: expect.stringMatching(/already backstops scenario\.exchanges\.0/) }),
    ]);
  });

  test('a fixed leverage exactly at the venue maximum is accepted', () => {
    expect(() => parseExperiment(applyOverrides(minimalExperiment(), ['scenario.traders.0.leverage={"kind":"fixed","value":25}']), 'test')).not.toThrow();
  });

  test('the issue value is the offending value', () => {
    const [issue] = issuesWith('scenario.assets.1.symbol=BTC');
    expect(issue).toMatchObject({ path: 'scenario.assets.1.symbol', value: 'BTC' });
  });
});

describe('cross-field rules of lending markets and derived assets', () => {
  const lendingIssues = (...sets: string[]) => issuesOf(() => parseExperiment(applyOverrides(lendingExperiment({ shock: -0.1 }), sets), 'test'));
  // Reserves: 0 ETH (collateral), 1 USDC (borrowable). Cohorts: 0 makers, 1 liquidators (perp), 2 loopers, 3 keepers.
  const cases: Array<[string, string[], string, RegExp]> = [
    ['a lending market with an exchange\'s id is rejected', ['scenario.lendingMarkets.0.id=perpdex'], 'scenario.lendingMarkets.0.id', /protocol ids must be unique/],
    ['an unknown safety module is rejected', ['scenario.lendingMarkets.0.safetyModule=nope'], 'scenario.lendingMarkets.0.safetyModule', /no insurance fund/],
    ['a reserve on an unknown asset is rejected', ['scenario.lendingMarkets.0.reserves.0.asset=SOL'], 'scenario.lendingMarkets.0.reserves.0.asset', /no asset/],
    ['a reserve priced by another asset\'s oracle is rejected', ['scenario.lendingMarkets.0.reserves.0.oracle=btc-oracle'], 'scenario.lendingMarkets.0.reserves.0.oracle', /prices BTC, not ETH/],
    ['a liquidation threshold under the ltv is rejected', ['scenario.lendingMarkets.0.reserves.0.liquidationThreshold=0.7'], 'scenario.lendingMarkets.0.reserves.0.liquidationThreshold', /at least ltv \(0\.8\)/],
    ['threshold × bonus above 1 is rejected (Aave PoolConfigurator)', ['scenario.lendingMarkets.0.reserves.0.liquidationBonus=1.25'], 'scenario.lendingMarkets.0.reserves.0.liquidationBonus', /must not exceed 1/],
    ['a looper on an unknown market is rejected', ['scenario.traders.2.lendingMarket=nope'], 'scenario.traders.2.lendingMarket', /no lending market/],
    ['borrowing a reserve that is not borrowable is rejected', ['scenario.lendingMarkets.0.reserves.1.borrowable=false'], 'scenario.traders.2.debt', /not borrowable/],
    ['collateral the market does not list is rejected', ['scenario.traders.2.collateral=BTC'], 'scenario.traders.2.collateral', /no reserve for this asset/],
    ['a fixed leverage at or above 1 / (1 − ltv) is rejected', ['scenario.traders.2.leverage={"kind":"fixed","value":6}'], 'scenario.traders.2.leverage.value', /below 1 \/ \(1 − ltv\) = 5/],
    ['a derived asset on an unknown underlying is rejected', ['scenario.assets.0.derived={"kind":"liquidStaking","underlying":"SOL"}'], 'scenario.assets.0.derived.underlying', /no asset/],
    ['a derived asset on itself is rejected', ['scenario.assets.1.derived={"kind":"liquidStaking","underlying":"ETH"}'], 'scenario.assets.1.derived.underlying', /another asset/],
    ['a venue oracle without its venue market is rejected', ['scenario.oracles.1.source=venue'], 'scenario.oracles.1.venueMarket', /expected the venue's own market/],
    ['a venue market on an oracle that does not read one is rejected', ['scenario.oracles.1.venueMarket={"depthUsd":1,"impact":"linear","impactCoefficient":1,"resilienceHalfLifeSeconds":60}'], 'scenario.oracles.1.venueMarket', /only an oracle with source "venue"/],
    ['a feed resumed with neither floor nor freeze is rejected', ['scenario.oracles.1.resumeAtStep=3'], 'scenario.oracles.1.resumeAtStep', /give floorUsd or freezeAtStep too/],
    ['a feed resumed before it freezes is rejected', ['scenario.oracles.1.freezeAtStep=3', 'scenario.oracles.1.resumeAtStep=3'], 'scenario.oracles.1.resumeAtStep', /after freezeAtStep \(3\)/],
    ['a manipulator pumping after the last step is rejected', ['scenario.traders.3={"id":"p","kind":"manipulator","lendingMarket":"lend","count":1,"collateral":"ETH","debt":"USDC","depositUsd":1,"pumpUsd":1,"pumpAtStep":6}'], 'scenario.traders.3.pumpAtStep', /below steps \(6\)/],
    ['an exposure of an unknown fund is rejected', ['scenario.exposures=[{"fund":"nope","lendingMarket":"lend","asset":"USDC","amountUsd":1}]'], 'scenario.exposures.0.fund', /no insurance fund/],
    ['an exposure larger than the reserve it is part of is rejected', ['scenario.exposures=[{"fund":"fund","lendingMarket":"lend","asset":"USDC","amountUsd":20000000}]'], 'scenario.exposures.0.amountUsd', /at most the reserve's supplyUsd \(10000000\)/],
    ['a portfolio margin model without its grid is rejected', ['scenario.exchanges.0.marginModel=portfolio'], 'scenario.exchanges.0.marginModel', /expected a portfolioMargin block/],
    ['a dynamic margin model without its parameters is rejected', ['scenario.exchanges.0.marginModel=dynamic'], 'scenario.exchanges.0.marginModel', /expected a dynamicMargin block/],
    ['a governance token that is not an asset is rejected', ['scenario.lendingMarkets.0.governanceToken={"asset":"NOPE"}'], 'scenario.lendingMarkets.0.governanceToken.asset', /no asset with this symbol/],
    ['a bridged token on an unknown bridge is rejected', ['scenario.assets.1.derived={"kind":"bridged","underlying":"BTC","bridge":"nope"}'], 'scenario.assets.1.derived.bridge', /no bridge with this id/],
    ['a bridge on an unknown chain is rejected', ['scenario.bridges=[{"id":"b","toChain":"nowhere"}]'], 'scenario.bridges.0.toChain', /no chain with this id/],
    ['a bridge failing after the last step is rejected', ['scenario.bridges=[{"id":"b","failAtStep":6}]'], 'scenario.bridges.0.failAtStep', /below steps \(6\)/],
  ];
  test.each(cases)('%s', (_name, sets, path, why) => {
    const issues = lendingIssues(...sets);
    const issue = issues.find((i) => i.path === path);
    expect(issue, `issues were: ${JSON.stringify(issues)}`).toBeDefined();
    expect(issue!.message).toMatch(why);
  });

  test('loopers borrowing more than the lenders supplied stop the run with the field to change', () => {
    const exp = parseExperiment(applyOverrides(lendingExperiment({ shock: -0.1 }), ['scenario.lendingMarkets.0.reserves.1.supplyUsd=20000']), 'test');
    // 30,000 USDC borrowed at step 0 against 20,000 supplied.
    expect(() => worldFor(exp, buildGraph(exp), 0)).toThrow(/scenario\.lendingMarkets\.0\.reserves\.1\.supplyUsd: .*borrow 30000 USD of USDC/);
  });
});

describe('loadExperiment', () => {
  const dir = mkdtempSync(join(tmpdir(), 'contagion-load-'));

  test('reads a file and applies overrides', () => {
    const file = join(dir, 'ok.json');
    writeFileSync(file, JSON.stringify(minimalExperiment()));
    expect(loadExperiment(file).runs).toBe(2);
    expect(loadExperiment(file, ['runs=9']).runs).toBe(9);
  });

  test('reports a missing file at path (file)', () => {
    const issues = issuesOf(() => loadExperiment(join(dir, 'absent.json')));
    expect(issues).toEqual([expect.objectContaining({ path: '(file)', message: expect.stringMatching(/no such file/) })]);
  });

  test('reports invalid JSON with its line and column', () => {
    const file = join(dir, 'bad.json');
    writeFileSync(file, '{\n  "name": "x",\n  "steps": 5,\n}\n');
    const [issue] = issuesOf(() => loadExperiment(file));
    expect(issue!.path).toBe('(file)');
    expect(issue!.message).toMatch(/^not valid JSON at line 4, column 1/);
  });

  test('locates JSON errors that V8 reports without a position', () => {
    expect(locateJsonError('[1,2,,3]')).toBe(5);
    expect(locateJsonError('{"a": tru}')).toBe(9);
    expect(locateJsonError('{"a":')).toBe(5);
    expect(locateJsonError('{"a":1} x')).toBe(8);
  });
});

describe('cross-field rules of chains', () => {
  const withChain = (...sets: string[]) => issuesOf(() => parseExperiment(applyOverrides(lendingExperiment({ shock: -0.1 }), ['scenario.chains=[{"id":"l1","oracleLatencySteps":2}]', ...sets]), 'test'));
  test('a protocol on an unknown chain is rejected', () => {
    const issues = withChain('scenario.lendingMarkets.0.chain=l2');
    expect(issues).toContainEqual(expect.objectContaining({ path: 'scenario.lendingMarkets.0.chain', value: 'l2', message: expect.stringMatching(/no chain with this id/) }));
  });
  test('one oracle read with two different chain latencies is rejected', () => {
    // eth-oracle is read off-chain by perpdex (latency 0) and on l1 (latency 2) by the lending market.
    const issues = withChain('scenario.lendingMarkets.0.chain=l1');
    expect(issues).toContainEqual(expect.objectContaining({ path: 'scenario.lendingMarkets.0.chain', message: expect.stringMatching(/oracle "eth-oracle" is also read at scenario\.exchanges\.0 with a chain latency of 0 steps, here 2/) }));
  });
});
