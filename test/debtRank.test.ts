// DebtRank (src/graph/debtRank.ts) against hand-computed propagations, the worked example of the
// NetworkRiskMeasures R package, and bounds over random networks.
//
// Battiston, Puliga, Kaushik, Tasca & Caldarelli (2012), "DebtRank: Too Central to Fail?",
// Scientific Reports 2:541. With exposures[i][j] = A_ij = i's claim on j and equity E:
//   W_ij = min(1, A_ij / E_i)   (a loss at j reaches i)
//   h_i(t) = min(1, h_i(t−1) + Σ_{j distressed at t−1} W_ij h_j(t−1))
//   distressed at t−1 → inactive at t (it propagates once); undistressed with h > 0 → distressed.
//   DebtRank = Σ_j v_j (h_j(T) − h_j(0)), v = weights / Σ weights.
import fc from 'fast-check';
import { mixedReal } from './fixtures/reals.ts';
import { describe, expect, it } from 'vitest';
import { debtRank, NetworkInputError } from '../src/index.ts';
import type { DebtRankInput } from '../src/index.ts';

function expectClose(actual: number[], expected: number[], tol = 1e-12): void {
  expect(actual).toHaveLength(expected.length);
  actual.forEach((a, i) => expect(Math.abs(a - expected[i]!), `entry ${i}: ${a} vs ${expected[i]}`).toBeLessThanOrEqual(tol));
}

describe('debtRank: hand-computed examples', () => {
  it('two nodes with mutual claims, step by step', () => {
    // A_01 = 4 (0's claim on 1), A_10 = 3; E = (10, 6): W_01 = 4/10 = 0.4, W_10 = 3/6 = 0.5.
    // h(0) = (0, 0.5): node 1 distressed.
    // t=1: distressed {1}: h_0 = 0 + W_01·h_1 = 0.4·0.5 = 0.2. Node 1 → inactive, node 0 → distressed.
    // t=2: distressed {0}: h_1 = 0.5 + W_10·h_0 = 0.5 + 0.5·0.2 = 0.6. Node 0 → inactive.
    // t=3: nobody distressed: stop. h(T) = (0.2, 0.6).
    // Equal weights v = (1/2, 1/2): DebtRank = 0.5·(0.2 − 0) + 0.5·(0.6 − 0.5) = 0.15.
    const r = debtRank({ exposures: [[0, 4], [3, 0]], equity: [10, 6], initialDistress: [0, 0.5] });
    expectClose(r.distress, [0.2, 0.6]);
    expect(r.debtRank).toBeCloseTo(0.15, 12);
  });

  it('a three-node chain, with the impact W capped at 1', () => {
    // A_01 = 6, E_0 = 5: W_01 = min(1, 6/5) = 1 (not 1.2). A_12 = 3, E_1 = 6: W_12 = 0.5. E_2 = 4.
    // h(0) = (0, 0, 0.8).
    // t=1: distressed {2}: h_1 = 0.5·0.8 = 0.4 (nobody else has a claim on 2). 2 → I, 1 → D.
    // t=2: distressed {1}: h_0 = 0 + 1·0.4 = 0.4 (0.48 with an uncapped W). 1 → I, 0 → D.
    // t=3: distressed {0}: nobody has a claim on 0. 0 → I. Stop: h(T) = (0.4, 0.4, 0.8).
    // Weights (1, 1, 2) → v = (0.25, 0.25, 0.5): DebtRank = 0.25·0.4 + 0.25·0.4 + 0.5·0 = 0.2.
    const r = debtRank({
      exposures: [
        [0, 6, 0],
        [0, 0, 3],
        [0, 0, 0],
      ],
      equity: [5, 6, 4],
      weights: [1, 1, 2],
      initialDistress: [0, 0, 0.8],
    });
    expectClose(r.distress, [0.4, 0.4, 0.8]);
    expect(r.debtRank).toBeCloseTo(0.2, 12);
  });

  it('distress is capped at 1', () => {
    // A_01 = A_02 = 8, E_0 = 10: W_01 = W_02 = 0.8. h(0) = (0, 1, 1).
    // t=1: distressed {1, 2}: h_0 = min(1, 0 + 0.8·1 + 0.8·1) = min(1, 1.6) = 1. 1, 2 → I, 0 → D.
    // t=2: distressed {0}: nobody has a claim on 0. 0 → I. Stop.
    // Equal weights: DebtRank = (1/3)·(1 − 0) = 1/3.
    const r = debtRank({
      exposures: [
        [0, 8, 8],
        [0, 0, 0],
        [0, 0, 0],
      ],
      equity: [10, 1, 1],
      initialDistress: [0, 1, 1],
    });
    expectClose(r.distress, [1, 1, 1]);
    expect(r.debtRank).toBeCloseTo(1 / 3, 12);
  });

  it('no double propagation: a node passes its distress on once, around a cycle too', () => {
    // Ring of claims A_01 = A_12 = A_20 = 5, E = 10 each: W_01 = W_12 = W_20 = 0.5, so distress
    // travels 2 → 1 → 0 → 2. h(0) = (0, 0, 0.8).
    // t=1: distressed {2}: h_1 = 0.5·0.8 = 0.4. 2 → I, 1 → D.
    // t=2: distressed {1}: h_0 = 0.5·0.4 = 0.2. 1 → I, 0 → D.
    // t=3: distressed {0}: h_2 = 0.8 + 0.5·0.2 = 0.9 — node 2 still receives distress, but it is
    //   inactive: the extra 0.1 is not passed on to node 1 again (h_1 stays 0.4, not 0.4 + 0.05).
    //   0 → I. t=4: nobody distressed: stop. h(T) = (0.2, 0.4, 0.9).
    // Equal weights: DebtRank = (0.2 + 0.4 + 0.1)/3 = 0.7/3.
    const ring = [
      [0, 5, 0],
      [0, 0, 5],
      [5, 0, 0],
    ];
    const r = debtRank({ exposures: ring, equity: [10, 10, 10], initialDistress: [0, 0, 0.8] });
    expectClose(r.distress, [0.2, 0.4, 0.9]);
    expect(r.debtRank).toBeCloseTo(0.7 / 3, 12);

    // An initially distressed node also propagates only once, with its initial distress:
    // h(0) = (0.2, 0, 0.8). t=1: distressed {0, 2}: h_2 = 0.8 + 0.5·0.2 = 0.9, h_1 = 0.5·0.8 = 0.4.
    //   0, 2 → I; 1 → D. t=2: distressed {1}: h_0 = 0.2 + 0.5·0.4 = 0.4. 1 → I. Stop.
    // h(T) = (0.4, 0.4, 0.9): node 0's gain at t=2 never reaches node 2.
    const both = debtRank({ exposures: ring, equity: [10, 10, 10], initialDistress: [0.2, 0, 0.8] });
    expectClose(both.distress, [0.4, 0.4, 0.9]);
    expect(both.debtRank).toBeCloseTo((0.2 + 0.4 + 0.1) / 3, 12);
  });

  it('weights are normalised to sum 1; default weights are equal', () => {
    // The ring above: h(T) − h(0) = (0.2, 0.4, 0.1).
    const ring = [
      [0, 5, 0],
      [0, 0, 5],
      [5, 0, 0],
    ];
    const base = { exposures: ring, equity: [10, 10, 10], initialDistress: [0, 0, 0.8] };
    // (1, 1, 2), (2, 2, 4) and (0.25, 0.25, 0.5) are the same v: 0.25·0.2 + 0.25·0.4 + 0.5·0.1 = 0.2.
    for (const weights of [[1, 1, 2], [2, 2, 4], [0.25, 0.25, 0.5]]) {
      expect(debtRank({ ...base, weights }).debtRank).toBeCloseTo(0.2, 12);
    }
    // No weights ≡ equal weights of any size: 0.7/3.
    expect(debtRank(base).debtRank).toBeCloseTo(debtRank({ ...base, weights: [7, 7, 7] }).debtRank, 15);
    // All the weight on node 2: only its own increase counts, 0.9 − 0.8 = 0.1 (initial shock excluded).
    expect(debtRank({ ...base, weights: [0, 0, 5] }).debtRank).toBeCloseTo(0.1, 12);
    // Weights never change the distress itself.
    expect(debtRank({ ...base, weights: [1, 2, 3] }).distress).toEqual(debtRank(base).distress);
  });

  it("a star: the hub's DebtRank exceeds a leaf's", () => {
    // Hub 0 and leaves 1–4. Each leaf has a claim of 5 on the hub with equity 10: W_k0 = 0.5.
    // The hub has a claim of 1 on each leaf with equity 20: W_0k = 0.05. Equal weights v = 1/5.
    const n = 5;
    const exposures = Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => (i === j ? 0 : i === 0 ? 1 : j === 0 ? 5 : 0)));
    const equity = [20, 10, 10, 10, 10];
    const shock = (k: number) => debtRank({ exposures, equity, initialDistress: Array.from({ length: n }, (_, i) => (i === k ? 1 : 0)) });

    // Hub defaults, h(0) = e_0. t=1: each leaf h_k = 0.5·1 = 0.5. 0 → I, leaves → D.
    // t=2: hub h_0 = min(1, 1 + 4·0.05·0.5) = 1. Leaves → I. Stop.
    // DebtRank = (4·0.5)/5 = 0.4.
    const hub = shock(0);
    expectClose(hub.distress, [1, 0.5, 0.5, 0.5, 0.5]);
    expect(hub.debtRank).toBeCloseTo(0.4, 12);

    // Leaf 1 defaults. t=1: hub h_0 = 0.05·1 = 0.05. 1 → I, 0 → D.
    // t=2: leaves 2–4: h_k = 0.5·0.05 = 0.025; leaf 1: min(1, 1 + 0.025) = 1. 0 → I, 2–4 → D.
    // t=3: hub (inactive, still receiving): h_0 = 0.05 + 3·0.05·0.025 = 0.05375. 2–4 → I. Stop.
    // DebtRank = (0.05375 + 3·0.025)/5 = 0.12875/5 = 0.02575.
    const leaf = shock(1);
    expectClose(leaf.distress, [0.05375, 1, 0.025, 0.025, 0.025]);
    expect(leaf.debtRank).toBeCloseTo(0.02575, 12);
    expect(hub.debtRank).toBeGreaterThan(leaf.debtRank);
  });

  it('a node with zero equity is wiped out by any loss on a claim', () => {
    // A_01 = 1, E_0 = 0: W_01 = 1 (the limit of min(1, A/E)). h(0) = (0, 0.3) → h_0 = 0.3.
    // A_01 = 0 with E_0 = 0: no claim, no impact.
    expectClose(debtRank({ exposures: [[0, 1], [0, 0]], equity: [0, 5], initialDistress: [0, 0.3] }).distress, [0.3, 0.3]);
    expectClose(debtRank({ exposures: [[0, 0], [0, 0]], equity: [0, 5], initialDistress: [0, 0.3] }).distress, [0, 0.3]);
  });

  it('no initial distress, no DebtRank', () => {
    const r = debtRank({ exposures: [[0, 4], [3, 0]], equity: [10, 6], initialDistress: [0, 0] });
    expect(r).toEqual({ distress: [0, 0], debtRank: 0 });
    expect(debtRank({ exposures: [], equity: [], initialDistress: [] })).toEqual({ distress: [], debtRank: 0 });
  });
});

describe('debtRank: the worked example of the NetworkRiskMeasures R package', () => {
  // Cinelli & Silva, NetworkRiskMeasures (github.com/carloscinelli/NetworkRiskMeasures), README.md
  // "Example usage" (the early version of the README, whose example is also in ?debt_rank):
  //   assets_matrix <- matrix(c(0, 10, 3, 1, 0, 2, 0, 3, 0), ncol = 3)   # column-major; A -> B: A has an asset with B
  //   buffer <- c(a = 2, b = 5, c = 2);  weights <- c(a = 10, b = 100, c = 30)
  //   debt_rank(assets_matrix, buffer, weights)
  //     Stressed Vertex  Vertex Weight  Additional Stress  Number of Additional Defaults
  //     a                0.07142857     0.9285714          2
  //     c                0.21428571     0.6642857          0
  //     b                0.71428571     0.2500000          1
  //   debt_rank_shock(assets_matrix, buffer, weights, shock = c(0.1, 0.1, 0.1))
  //     additional stress 16.07%; final stress a 0.15, b 0.26, c 0.30
  // Rows of the assets matrix (i's claim on j, this module's convention):
  //   a: (0, 1, 0)   b: (10, 0, 3)   c: (3, 2, 0)
  // W_ij = min(1, A_ij/E_i): a: (0, 0.5, 0); b: (min(1, 2) = 1, 0, 0.6); c: (min(1, 1.5) = 1, 1, 0).
  // v = (10, 100, 30)/140 = (1/14, 10/14, 3/14).
  const exposures = [
    [0, 1, 0],
    [10, 0, 3],
    [3, 2, 0],
  ];
  const equity = [2, 5, 2];
  const weights = [10, 100, 30];

  it('default of a: additional stress 0.9285714 (13/14), two additional defaults', () => {
    // t=1: h_b = min(1, 1·1) = 1, h_c = min(1, 1·1) = 1. t=2: b, c propagate to a (already 1)
    // and to each other (already 1). h(T) = (1, 1, 1): (10 + 3)/14 = 13/14.
    const r = debtRank({ exposures, equity, weights, initialDistress: [1, 0, 0] });
    expectClose(r.distress, [1, 1, 1]);
    expect(r.debtRank).toBeCloseTo(0.9285714, 7);
    expect(r.debtRank).toBeCloseTo(13 / 14, 14);
  });

  it('default of b: additional stress 0.25 (3.5/14), one additional default', () => {
    // t=1: h_a = 0.5·1 = 0.5, h_c = 1·1 = 1. t=2: a and c propagate: h_c = min(1, 1 + 1·0.5) = 1,
    // h_b = min(1, 1 + 1·0.5 + 0.6·1) = 1, h_a gets nothing from c (W_ac = 0).
    // t=3: nobody distressed. h(T) = (0.5, 1, 1): DebtRank = 0.5·(1/14) + 1·(3/14) = 3.5/14 = 0.25.
    const r = debtRank({ exposures, equity, weights, initialDistress: [0, 1, 0] });
    expectClose(r.distress, [0.5, 1, 1]);
    expect(r.debtRank).toBeCloseTo(0.25, 12);
  });

  it('default of c: additional stress 0.6642857 (9.3/14), no additional default', () => {
    // t=1: h_b = 0.6·1 = 0.6 (W_ac = 0). t=2: b propagates: h_a = 0.5·0.6 = 0.3, h_c stays 1.
    // t=3: a propagates: h_b = 0.6 + 1·0.3 = 0.9 (b is inactive: it receives, it does not pass on),
    // h_c stays 1. h(T) = (0.3, 0.9, 1): 0.3/14 + 0.9·10/14 = 9.3/14 = 0.6642857.
    // (With an uncapped W_ba = 2, h_b would reach 1 and the result would be 10.3/14 = 0.7357: the
    // README's figure confirms the cap.)
    const r = debtRank({ exposures, equity, weights, initialDistress: [0, 0, 1] });
    expectClose(r.distress, [0.3, 0.9, 1]);
    expect(r.debtRank).toBeCloseTo(0.6642857, 7);
    expect(r.debtRank).toBeCloseTo(9.3 / 14, 14);
  });

  it('a 10% shock to every node: additional stress 16.07%, final stress (0.15, 0.26, 0.30)', () => {
    // All distressed at t=0 with h = 0.1, so all propagate at t=1 and are inactive after:
    // h_a = 0.1 + 0.5·0.1 = 0.15; h_b = 0.1 + 1·0.1 + 0.6·0.1 = 0.26; h_c = 0.1 + 1·0.1 + 1·0.1 = 0.30.
    // DebtRank = (0.05·10 + 0.16·100 + 0.20·30)/140 = 22.5/140 = 0.1607143.
    const r = debtRank({ exposures, equity, weights, initialDistress: [0.1, 0.1, 0.1] });
    expectClose(r.distress, [0.15, 0.26, 0.3]);
    expect(r.debtRank).toBeCloseTo(0.1607, 4);
    expect(r.debtRank).toBeCloseTo(22.5 / 140, 14);
  });
});

describe('debtRank: input validation', () => {
  const ok: DebtRankInput = { exposures: [[0, 1], [2, 0]], equity: [1, 1], initialDistress: [0.5, 0] };
  const cases: [string, DebtRankInput, string, number[], unknown][] = [
    ['a non-square matrix', { ...ok, exposures: [[0, 1]] }, 'exposures', [0], [0, 1]],
    ['a negative exposure', { ...ok, exposures: [[0, -1], [2, 0]] }, 'exposures', [0, 1], -1],
    ['a claim on oneself', { ...ok, exposures: [[3, 1], [2, 0]] }, 'exposures', [0, 0], 3],
    ['negative equity', { ...ok, equity: [1, -1] }, 'equity', [1], -1],
    ['equity of the wrong length', { ...ok, equity: [1] }, 'equity', [], [1]],
    ['initial distress above 1', { ...ok, initialDistress: [0, 1.5] }, 'initialDistress', [1], 1.5],
    ['negative initial distress', { ...ok, initialDistress: [-0.1, 0] }, 'initialDistress', [0], -0.1],
    ['a NaN weight', { ...ok, weights: [NaN, 1] }, 'weights', [0], NaN],
    ['weights that are all 0', { ...ok, weights: [0, 0] }, 'weights', [], [0, 0]],
  ];
  it.each(cases)('rejects %s, naming the argument, index and value', (_what, input, argument, index, value) => {
    let caught: unknown;
    try {
      debtRank(input);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(NetworkInputError);
    const err = caught as NetworkInputError;
    expect(err.fn).toBe('debtRank');
    expect(err.argument).toBe(argument);
    expect(err.index).toEqual(index);
    expect(err.value).toEqual(value);
    expect(err.message).toMatch(new RegExp(`^debtRank: ${argument}${index.map((k) => `\\[${k}\\]`).join('')} = `));
  });
});

describe('debtRank: bounds over random networks', () => {
  const SEED = process.env.FC_SEED !== undefined ? Number(process.env.FC_SEED) : 20260301;
  const RUNS = process.env.FC_RUNS !== undefined ? Number(process.env.FC_RUNS) : 300;
  const amount = fc.oneof({ arbitrary: fc.constant(0), weight: 2 }, { arbitrary: fc.integer({ min: 1, max: 10_000 }).map((c) => c / 100), weight: 3 });
  const caseArb = fc.integer({ min: 1, max: 8 }).chain((n) =>
    fc.record({
      exposures: fc
        .array(fc.array(amount, { minLength: n, maxLength: n }), { minLength: n, maxLength: n })
        .map((m) => m.map((row, i) => row.map((v, j) => (i === j ? 0 : v)))),
      equity: fc.array(amount, { minLength: n, maxLength: n }),
      weights: fc.option(fc.array(fc.integer({ min: 1, max: 100 }), { minLength: n, maxLength: n }), { nil: undefined }),
      initialDistress: fc.array(fc.oneof(fc.constant(0), fc.constant(1), mixedReal(0, 1)), { minLength: n, maxLength: n }),
    }),
  );

  it('h(0) ≤ h(T) ≤ 1 and 0 ≤ DebtRank ≤ Σ v (1 − h(0)); untouched by distress ⇒ unchanged', () => {
    fc.assert(
      fc.property(caseArb, (input) => {
        const n = input.equity.length;
        const { distress, debtRank: dr } = debtRank(input);
        const w = input.weights ?? new Array<number>(n).fill(1);
        const total = w.reduce((s, x) => s + x, 0);
        let headroom = 0;
        for (let i = 0; i < n; i++) {
          const h0 = input.initialDistress[i]!;
          expect(distress[i]!).toBeGreaterThanOrEqual(h0);
          expect(distress[i]!).toBeLessThanOrEqual(1);
          headroom += (w[i]! / total) * (1 - h0);
          // A node with no claim on anyone keeps its initial distress.
          if (input.exposures[i]!.every((a) => a === 0)) expect(distress[i]).toBe(h0);
        }
        expect(dr).toBeGreaterThanOrEqual(-1e-15);
        expect(dr).toBeLessThanOrEqual(headroom + 1e-12);
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });
});
