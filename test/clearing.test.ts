// Eisenberg–Noe clearing (src/graph/clearing.ts) against worked examples whose clearing vector is
// computed by hand below, then properties over random networks: the result is a fixed point, is
// bounded by p̄, its default set is exactly the nodes paying less than p̄, and it is the greatest
// fixed point (plain iteration from p̄ reaches the same vector).
//
// Notation (Eisenberg & Noe 2001, Management Science 47(2)): L_ij what i owes j, e external
// assets, el external liabilities, p̄_i = Σ_j L_ij + el_i, Π_ij = L_ij / p̄_i, and the clearing
// vector p* = min(p̄, e + Πᵀp*). "has_i" below is e_i + Σ_j Π_ji p_j, what i has to pay with.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { clearingVector, NetworkInputError } from '../src/index.ts';
import type { ClearingInput } from '../src/index.ts';

/** |a − b| ≤ tol for every entry. */
function expectClose(actual: number[], expected: number[], tol = 1e-12): void {
  expect(actual).toHaveLength(expected.length);
  actual.forEach((a, i) => expect(Math.abs(a - expected[i]!), `entry ${i}: ${a} vs ${expected[i]}`).toBeLessThanOrEqual(tol));
}

describe('clearingVector: worked examples', () => {
  it('the three-bank example of the systemicrisk R package (Gandy & Veraart), with external liabilities', () => {
    // Inputs from the `default_clearing` / `default` examples of the CRAN package systemicrisk
    // (R/lib_Network_Evaluations.R): ea = (1/2, 5/8, 3/4), el = (3/2, 1/2, 1/2), x = 0.5,
    // L = matrix(c(0,x,1-x, 1-x,0,x, x,1-x,0), nrow = 3) (column-major, so every L_ij = 0.5 off the
    // diagonal). The package clears with Π = L / (rowSums(L) + el), as here. Arithmetic:
    //   p̄ = (1 + 3/2, 1 + 1/2, 1 + 1/2) = (2.5, 1.5, 1.5)
    //   Π row 0 = 0.5/2.5 = 0.2 to each of 1, 2; rows 1 and 2 = 0.5/1.5 = 1/3 to each other node.
    // Round 1 (p = p̄): has_0 = 0.5 + 1.5/3 + 1.5/3 = 1.5 < 2.5 → 0 defaults;
    //   has_1 = 0.625 + 0.2·2.5 + 1.5/3 = 1.625 ≥ 1.5; has_2 = 0.75 + 0.5 + 0.5 = 1.75 ≥ 1.5.
    //   Solve D = {0}: p_0 = 0.5 + 1.5/3 + 1.5/3 = 1.5.
    // Round 2: has_1 = 0.625 + 0.2·1.5 + 0.5 = 1.425 < 1.5 → 1 defaults; has_2 = 0.75 + 0.3 + 0.5
    //   = 1.55 ≥ 1.5. Solve D = {0, 1}: p_0 = 0.5 + p_1/3 + 0.5, p_1 = 0.625 + 0.2 p_0 + 0.5
    //   ⇒ p_0 = 1 + (1.125 + 0.2 p_0)/3 ⇒ (14/15) p_0 = 1.375 ⇒ p_0 = 165/112;
    //   p_1 = 1.125 + 0.2·165/112 = 126/112 + 33/112 = 159/112.
    // Round 3: has_2 = 0.75 + 0.2·165/112 + (159/112)/3 = 0.75 + 33/112 + 53/112 = 1.5179 ≥ 1.5:
    //   the default set is unchanged, p* = (165/112, 159/112, 3/2) after 2 rounds.
    const x = 0.5;
    const r = clearingVector({
      liabilities: [
        [0, 1 - x, x],
        [x, 0, 1 - x],
        [1 - x, x, 0],
      ],
      externalAssets: [1 / 2, 5 / 8, 3 / 4],
      externalLiabilities: [3 / 2, 1 / 2, 1 / 2],
    });
    expectClose(r.payments, [165 / 112, 159 / 112, 3 / 2]);
    expect(r.defaulted).toEqual([true, true, false]);
    expect(r.iterations).toBe(2);
  });

  it('no default: everyone pays p̄ (Rogers & Veraart 2013, Example 3.3, without default costs)', () => {
    // Rogers & Veraart, "Failure and Rescue in an Interbank Network", Management Science 59(4),
    // Example 3.3: L = [[0, 2], [2.2, 0]], e = (1, 1). has_0 = 1 + 2.2 = 3.2 ≥ p̄_0 = 2 and
    // has_1 = 1 + 2 = 3 ≥ p̄_1 = 2.2, so p* = p̄ = (2, 2.2) — the greatest clearing vector
    // (2, 2.2) they report holds a fortiori without default costs. No default set is ever solved.
    const r = clearingVector({ liabilities: [[0, 2], [2.2, 0]], externalAssets: [1, 1] });
    expect(r.payments).toEqual([2, 2.2]);
    expect(r.defaulted).toEqual([false, false]);
    expect(r.iterations).toBe(0);
  });

  it('a chain default: 0 → 1 → 2 → outside, one more default per round, n rounds at most', () => {
    // L_01 = 10, L_12 = 10, el_2 = 8, e = (4, 3, 0); p̄ = (10, 10, 8).
    // Round 1 (p = p̄): has_0 = 4 < 10 → D = {0}; has_1 = 3 + 10 = 13 ≥ 10; has_2 = 10 ≥ 8. p_0 = 4.
    // Round 2: has_1 = 3 + 4 = 7 < 10 → D = {0, 1}; has_2 = 10 ≥ 8. p_1 = 3 + 4 = 7.
    // Round 3: has_2 = 7 < 8 → D = {0, 1, 2}; p_2 = 7. Round 4: nothing changes.
    // p* = (4, 7, 7): 3 rounds = n.
    const r = clearingVector({
      liabilities: [
        [0, 10, 0],
        [0, 0, 10],
        [0, 0, 0],
      ],
      externalAssets: [4, 3, 0],
      externalLiabilities: [0, 0, 8],
    });
    expectClose(r.payments, [4, 7, 7]);
    expect(r.defaulted).toEqual([true, true, true]);
    expect(r.iterations).toBe(3);

    // With el_2 = 5 the chain stops at node 2: has_2 = 7 ≥ 5, p* = (4, 7, 5) after 2 rounds.
    const stop = clearingVector({
      liabilities: [
        [0, 10, 0],
        [0, 0, 10],
        [0, 0, 0],
      ],
      externalAssets: [4, 3, 0],
      externalLiabilities: [0, 0, 5],
    });
    expectClose(stop.payments, [4, 7, 5]);
    expect(stop.defaulted).toEqual([true, true, false]);
    expect(stop.iterations).toBe(2);
  });

  it('a cycle: a ring of debts clears in full with no cash at all, and a leak makes it default as one system', () => {
    // Ring L_01 = L_12 = L_20 = 10, e = 0: has_i = 10 = p̄_i for everyone, so p* = p̄ (netting).
    const ring = [
      [0, 10, 0],
      [0, 0, 10],
      [10, 0, 0],
    ];
    const full = clearingVector({ liabilities: ring, externalAssets: [0, 0, 0] });
    expect(full.payments).toEqual([10, 10, 10]);
    expect(full.defaulted).toEqual([false, false, false]);

    // Same ring, el_0 = 5, e = (2, 1, 0): p̄ = (15, 10, 10); Π_01 = 10/15 = 2/3 (1/3 goes outside).
    // Round 1: has_0 = 2 + 10 = 12 < 15 → D = {0}; has_1 = 1 + (2/3)·15 = 11 ≥ 10;
    //   has_2 = 0 + 10 = 10 ≥ 10 (exactly at the boundary: solvent). p_0 = 2 + 10 = 12.
    // Round 2: has_1 = 1 + (2/3)·12 = 9 < 10 → D = {0, 1}; has_2 = 10. p_1 = 9 (p_0 still 12).
    // Round 3: has_2 = p_1 = 9 < 10 → D = {0, 1, 2}; the whole ring is solved at once:
    //   p_0 = 2 + p_2, p_1 = 1 + (2/3) p_0, p_2 = p_1 ⇒ p_1 = 1 + (2/3)(2 + p_1) ⇒ p_1/3 = 7/3
    //   ⇒ p_1 = p_2 = 7, p_0 = 9 (6 to node 1, 3 outside). 3 rounds.
    const leak = clearingVector({ liabilities: ring, externalAssets: [2, 1, 0], externalLiabilities: [5, 0, 0] });
    expectClose(leak.payments, [9, 7, 7]);
    expect(leak.defaulted).toEqual([true, true, true]);
    expect(leak.iterations).toBe(3);
  });

  it('external liabilities are paid pro rata with the network debts', () => {
    // Node 0: e = 6, owes 4 to node 1 and 8 outside: p̄_0 = 12, has_0 = 6 → pays 6, split
    // 4/12 : 8/12, i.e. 2 to node 1 and 4 outside. Node 1: e = 0, owes 3 outside: has_1 = 2 < 3
    // → pays 2. p* = (6, 2).
    const r = clearingVector({ liabilities: [[0, 4], [0, 0]], externalAssets: [6, 0], externalLiabilities: [8, 3] });
    expectClose(r.payments, [6, 2]);
    expect(r.defaulted).toEqual([true, true]);
    expect(r.iterations).toBe(2);
    // Without node 0's outside debt, node 0 pays node 1 in full (4 ≤ 6) and node 1 pays its 3.
    const noOutside = clearingVector({ liabilities: [[0, 4], [0, 0]], externalAssets: [6, 0], externalLiabilities: [0, 3] });
    expectClose(noOutside.payments, [4, 3]);
    expect(noOutside.defaulted).toEqual([false, false]);
    // Omitting externalLiabilities is the same as zeros.
    expect(clearingVector({ liabilities: [[0, 4], [0, 0]], externalAssets: [6, 0] })).toEqual(
      clearingVector({ liabilities: [[0, 4], [0, 0]], externalAssets: [6, 0], externalLiabilities: [0, 0] }),
    );
  });

  it('a node with zero obligations pays 0 and never defaults, even with nothing', () => {
    // Node 2 owes nothing (p̄_2 = 0) and has e = 0: p_2 = min(0, ·) = 0, not a default.
    // Node 0 owes 5 to node 2 with e_0 = 3: has_0 = 3 < 5 → pays 3 (all of it to node 2).
    // Node 1 is isolated with e = 7: p̄_1 = 0, pays 0.
    const r = clearingVector({
      liabilities: [
        [0, 0, 5],
        [0, 0, 0],
        [0, 0, 0],
      ],
      externalAssets: [3, 7, 0],
    });
    expectClose(r.payments, [3, 0, 0]);
    expect(r.defaulted).toEqual([true, false, false]);
    expect(r.iterations).toBe(1);
  });

  it('a nearly closed default set: exact where plain iteration crawls', () => {
    // Node 0 owes 100 to node 1 and 1e-6 outside; node 1 owes 100 to node 0; no cash (e = 0).
    // p̄ = (100.000001, 100); Π_01 = 100/100.000001 = 1 − 1e-8 (approximately), Π_10 = 1.
    // Round 1 (p = p̄): has_0 = p̄_1 = 100 < p̄_0 → D = {0}; has_1 = Π_01 · p̄_0 = 100 ≥ 100.
    //   p_0 = 0 + p̄_1 = 100.
    // Round 2: has_1 = Π_01 · 100 < 100 → D = {0, 1}; solve p_0 = p_1, p_1 = Π_01 p_0
    //   ⇒ (1 − Π_01) p_0 = 0 ⇒ p* = (0, 0): with no cash, every unit paid around the ring leaks
    //   1e-8 of itself outside, so nothing can be paid in the end. 2 rounds.
    const net: ClearingInput = { liabilities: [[0, 100], [100, 0]], externalAssets: [0, 0], externalLiabilities: [1e-6, 0] };
    const r = clearingVector(net);
    expect(r.payments).toEqual([0, 0]);
    expect(r.defaulted).toEqual([true, true]);
    expect(r.iterations).toBe(2);
    // Plain iteration p ← min(p̄, e + Πᵀp) from p̄ loses a factor Π_01 every two steps: after
    // 100,000 steps it is still at 100·(1 − 1e-8)^50,000 ≈ 99.95.
    const { phi } = model(net);
    let p = [100.000001, 100];
    for (let k = 0; k < 100_000; k++) p = phi(p);
    expect(p[0]!).toBeGreaterThan(99.9);
  });

  it('large amounts: the same ring with leak scaled by 1e9 gives the scaled clearing vector', () => {
    const s = 1e9;
    const r = clearingVector({
      liabilities: [
        [0, 10 * s, 0],
        [0, 0, 10 * s],
        [10 * s, 0, 0],
      ],
      externalAssets: [2 * s, 1 * s, 0],
      externalLiabilities: [5 * s, 0, 0],
    });
    expectClose(r.payments, [9 * s, 7 * s, 7 * s], 1e-12 * 10 * s);
    expect(r.defaulted).toEqual([true, true, true]);
  });

  it('the empty network', () => {
    expect(clearingVector({ liabilities: [], externalAssets: [] })).toEqual({ payments: [], defaulted: [], iterations: 0 });
  });
});

describe('clearingVector: input validation', () => {
  const ok: ClearingInput = { liabilities: [[0, 1], [2, 0]], externalAssets: [1, 1] };
  const cases: [string, ClearingInput, string, number[], unknown][] = [
    ['a non-square matrix', { ...ok, liabilities: [[0, 1], [2, 0, 3]] }, 'liabilities', [1], [2, 0, 3]],
    ['a negative liability', { ...ok, liabilities: [[0, -1], [2, 0]] }, 'liabilities', [0, 1], -1],
    ['a NaN liability', { ...ok, liabilities: [[0, NaN], [2, 0]] }, 'liabilities', [0, 1], NaN],
    ['a non-zero diagonal', { ...ok, liabilities: [[0, 1], [2, 4]] }, 'liabilities', [1, 1], 4],
    ['externalAssets of the wrong length', { ...ok, externalAssets: [1] }, 'externalAssets', [], [1]],
    ['a negative external asset', { ...ok, externalAssets: [1, -2] }, 'externalAssets', [1], -2],
    ['externalLiabilities of the wrong length', { ...ok, externalLiabilities: [1, 2, 3] }, 'externalLiabilities', [], [1, 2, 3]],
    ['an infinite external liability', { ...ok, externalLiabilities: [Infinity, 0] }, 'externalLiabilities', [0], Infinity],
  ];
  it.each(cases)('rejects %s, naming the argument, index and value', (_what, input, argument, index, value) => {
    let caught: unknown;
    try {
      clearingVector(input);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(NetworkInputError);
    const err = caught as NetworkInputError;
    expect(err.fn).toBe('clearingVector');
    expect(err.argument).toBe(argument);
    expect(err.index).toEqual(index);
    expect(err.value).toEqual(value);
    expect(err.message).toContain(`${argument}${index.map((k) => `[${k}]`).join('')}`);
  });
  it('the message reads as a sentence', () => {
    expect(() => clearingVector({ ...ok, liabilities: [[0, -1], [2, 0]] })).toThrow(
      'clearingVector: liabilities[0][1] = -1: must be a finite number ≥ 0',
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Properties over random networks

const SEED = process.env.FC_SEED !== undefined ? Number(process.env.FC_SEED) : 20260301;
const RUNS = process.env.FC_RUNS !== undefined ? Number(process.env.FC_RUNS) : 300;

/** Amounts up to `max` in steps of `unit`, often 0, so that sparse networks, ties and isolated nodes occur. */
const amount = (max: number, unit: number) =>
  fc.oneof(
    { arbitrary: fc.constant(0), weight: 2 },
    { arbitrary: fc.integer({ min: 1, max: Math.round(max / unit) }).map((k) => k * unit), weight: 3 },
  );

/** Networks of 1–7 nodes: debts up to 100, external assets and liabilities up to 60. */
const networkArb = (unit: number) =>
  fc.integer({ min: 1, max: 7 }).chain((n) =>
    fc.record({
      liabilities: fc
        .array(fc.array(amount(100, unit), { minLength: n, maxLength: n }), { minLength: n, maxLength: n })
        .map((m) => m.map((row, i) => row.map((v, j) => (i === j ? 0 : v)))),
      externalAssets: fc.array(amount(60, unit), { minLength: n, maxLength: n }),
      externalLiabilities: fc.option(fc.array(amount(60, unit), { minLength: n, maxLength: n }), { nil: undefined }),
    }),
  );

/** p̄, Π and the map Φ(p) = min(p̄, e + Πᵀp) of a network. */
function model(net: ClearingInput) {
  const n = net.liabilities.length;
  const el = net.externalLiabilities ?? new Array<number>(n).fill(0);
  const pBar = net.liabilities.map((row, i) => row.reduce((s, v) => s + v, 0) + el[i]!);
  const pi = net.liabilities.map((row, i) => row.map((v) => (pBar[i]! > 0 ? v / pBar[i]! : 0)));
  const has = (p: number[]) => p.map((_, i) => net.externalAssets[i]! + p.reduce((s, pj, j) => s + pi[j]![i]! * pj, 0));
  const phi = (p: number[]) => has(p).map((h, i) => Math.min(pBar[i]!, h));
  return { pBar, phi };
}

describe('clearingVector: properties over random networks', () => {
  it('p* = min(p̄, e + Πᵀp*) to 1e-10, 0 ≤ p* ≤ p̄, defaulted = {i : p*_i < p̄_i − 1e-12}, rounds ≤ n', () => {
    fc.assert(
      // Amounts in cents: debts of 0.01 next to debts of 100 make nearly closed default sets.
      fc.property(networkArb(0.01), (net) => {
        const { pBar, phi } = model(net);
        const r = clearingVector(net);
        const n = pBar.length;
        expect(r.iterations).toBeLessThanOrEqual(n);
        expect(r.iterations).toBeLessThanOrEqual(r.defaulted.filter(Boolean).length);
        const image = phi(r.payments);
        for (let i = 0; i < n; i++) {
          const p = r.payments[i]!;
          expect(Math.abs(p - image[i]!)).toBeLessThanOrEqual(1e-10);
          expect(p).toBeGreaterThanOrEqual(0);
          // (p̄ summed here in possibly another order than in the module: allow its last bits.)
          expect(p).toBeLessThanOrEqual(pBar[i]! * (1 + 1e-15));
          expect(r.defaulted[i]).toBe(p < pBar[i]! - 1e-12);
        }
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });

  it('p* is the greatest fixed point: plain iteration p ← Φ(p) from p̄ converges to it (within 1e-9)', () => {
    // Whole amounts, so that plain iteration converges in a few thousand steps: it contracts at
    // the rate ρ(Π_DD), which debts of 0.01 next to debts of 100 push towards 1 (see the nearly
    // closed example above for what that costs it).
    fc.assert(
      fc.property(networkArb(1), (net) => {
        const { pBar, phi } = model(net);
        // Φ is monotone and Φ(p̄) ≤ p̄, so the iterates decrease to the greatest fixed point
        // (Eisenberg & Noe 2001, Theorem 1 and Lemma 4). Stop when a step moves less than 1e-14.
        let p = pBar.slice();
        let converged = false;
        for (let k = 0; k < 2_000_000 && !converged; k++) {
          const q = phi(p);
          converged = q.every((v, i) => Math.abs(v - p[i]!) < 1e-14);
          p = q;
        }
        expect(converged).toBe(true);
        const r = clearingVector(net);
        r.payments.forEach((v, i) => expect(Math.abs(v - p[i]!), `node ${i}`).toBeLessThanOrEqual(1e-9));
      }),
      { seed: SEED, numRuns: RUNS },
    );
  }, 120_000);
});
