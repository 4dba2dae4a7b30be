// Eisenberg–Noe clearing of a network of direct debts between protocols (one protocol's deposits in
// another): who can pay what, when every debtor pays its creditors pro rata out of what it has,
// including what its own debtors pay it. Computed exactly with the fictitious default algorithm.
//
// Eisenberg, L. & Noe, T. H. (2001), "Systemic Risk in Financial Systems", Management Science
// 47(2):236–249. Notation: p̄ total obligations, Π relative liabilities, e external assets; a
// clearing vector is a fixed point p = min(p̄, e + Πᵀp), and the algorithm of their section 3 finds
// the greatest one. External liabilities are paid pro rata with the network debts, as in
// Rogers & Veraart (2013) and Gandy & Veraart's `systemicrisk` R package (computerelativeliab:
// Π = L / (rowSums(L) + el), p̄ = rowSums(L) + el).

/** Input to {@link clearingVector}. */
export interface ClearingInput {
  /** liabilities[i][j] = what i owes j (square, ≥ 0, zero diagonal). */
  liabilities: ReadonlyArray<ReadonlyArray<number>>;
  /** Cash and other assets from outside the network, per node (≥ 0). */
  externalAssets: ReadonlyArray<number>;
  /** Owed outside the network, per node (≥ 0; default 0), paid pro rata with the network debts. */
  externalLiabilities?: ReadonlyArray<number>;
}

/** Output of {@link clearingVector}. */
export interface ClearingResult {
  /** p*: total each node pays (to the network and outside), 0 ≤ p* ≤ p̄. */
  payments: number[];
  /** defaulted[i] ⇔ p*_i < p̄_i (by more than the tolerance; a solvent node pays exactly p̄_i). */
  defaulted: boolean[];
  /**
   * Default-set rounds of the fictitious default algorithm: how many times the default set grew
   * and the payments of the defaulting nodes were solved for (0 when nobody defaults; at most n).
   */
  iterations: number;
}

/**
 * Bad input to {@link clearingVector} or `debtRank`: names the function, the argument, the index
 * (empty for the argument as a whole; [i] or [i, j]) and the offending value.
 */
export class NetworkInputError extends Error {
  override name = 'NetworkInputError';
  constructor(
    readonly fn: string,
    readonly argument: string,
    readonly index: readonly number[],
    readonly value: unknown,
    problem: string,
  ) {
    super(`${fn}: ${argument}${index.map((k) => `[${k}]`).join('')} = ${show(value)}: ${problem}`);
  }
}

function show(value: unknown): string {
  if (Array.isArray(value)) return `array of length ${value.length}`;
  if (typeof value === 'number') return String(value);
  if (value === undefined) return 'undefined';
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/** A node defaults when what it has falls short of p̄ by more than this, relative to max(1, p̄). */
const DEFAULT_TOLERANCE = 1e-12;

/**
 * Checks that `m` is an n×n matrix of finite numbers ≥ 0 with a zero diagonal; returns n.
 * Shared with debtRank.ts.
 */
export function checkSquareMatrix(fn: string, argument: string, m: unknown): number {
  if (!Array.isArray(m)) throw new NetworkInputError(fn, argument, [], m, 'must be an array of rows (a square matrix)');
  const n = m.length;
  for (let i = 0; i < n; i++) {
    const row: unknown = m[i];
    if (!Array.isArray(row)) throw new NetworkInputError(fn, argument, [i], row, `must be a row of length ${n}`);
    if (row.length !== n) {
      throw new NetworkInputError(fn, argument, [i], row, `must have length ${n} (the matrix must be square, ${n}×${n})`);
    }
    for (let j = 0; j < n; j++) {
      const v: unknown = row[j];
      if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
        throw new NetworkInputError(fn, argument, [i, j], v, 'must be a finite number ≥ 0');
      }
      if (i === j && v !== 0) throw new NetworkInputError(fn, argument, [i, j], v, 'the diagonal must be 0 (no claim on oneself)');
    }
  }
  return n;
}

/** Checks that `v` is an array of n finite numbers in [min, max]. Shared with debtRank.ts. */
export function checkVector(fn: string, argument: string, v: unknown, n: number, min = 0, max = Infinity): number[] {
  if (!Array.isArray(v)) throw new NetworkInputError(fn, argument, [], v, `must be an array of ${n} numbers`);
  if (v.length !== n) throw new NetworkInputError(fn, argument, [], v, `must have length ${n} (one entry per node)`);
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const x: unknown = v[i];
    if (typeof x !== 'number' || !Number.isFinite(x) || x < min || x > max) {
      const range = max === Infinity ? `≥ ${min}` : `in [${min}, ${max}]`;
      throw new NetworkInputError(fn, argument, [i], x, `must be a finite number ${range}`);
    }
    out[i] = x;
  }
  return out;
}

/**
 * The greatest clearing payment vector of Eisenberg & Noe (2001), by their fictitious default
 * algorithm: start from everyone paying p̄; the nodes that cannot (e_i + Σ_j Π_ji p_j < p̄_i) form
 * the default set D; solve the linear system p_D = e_D + Π_SDᵀ p̄_S + Π_DDᵀ p_D exactly (Gaussian
 * elimination with partial pivoting) for their payments, the others paying in full; add the nodes
 * that now fall short; repeat until D stops growing. D only grows, so there are at most n rounds,
 * and the result is exact up to floating-point rounding (not a fixed-point approximation).
 *
 * I − Π_DDᵀ is never singular here: that would need a set C ⊆ D whose nodes owe only to each other
 * (Π_CC stochastic), and summing the shortfalls over C then gives Σ_C e + inflow from outside C < 0.
 */
export function clearingVector(input: ClearingInput): ClearingResult {
  const FN = 'clearingVector';
  if (typeof input !== 'object' || input === null) throw new NetworkInputError(FN, 'input', [], input, 'must be an object');
  const n = checkSquareMatrix(FN, 'liabilities', input.liabilities);
  const L = input.liabilities;
  const e = checkVector(FN, 'externalAssets', input.externalAssets, n);
  const el = input.externalLiabilities === undefined ? new Array<number>(n).fill(0) : checkVector(FN, 'externalLiabilities', input.externalLiabilities, n);

  // p̄_i = Σ_j L_ij + el_i;  Π_ij = L_ij / p̄_i (0 for a node that owes nothing).
  const pBar = new Float64Array(n);
  const pi = new Float64Array(n * n); // row-major Π
  for (let i = 0; i < n; i++) {
    const row = L[i]!;
    let s = 0;
    for (let j = 0; j < n; j++) s += row[j]!;
    s += el[i]!;
    pBar[i] = s;
    if (s > 0) for (let j = 0; j < n; j++) pi[i * n + j] = row[j]! / s;
  }

  const p = Float64Array.from(pBar);
  const inD = new Uint8Array(n);
  let iterations = 0;
  for (;;) {
    // What each node has at the current payments: e_i + Σ_j Π_ji p_j.
    let grew = false;
    for (let i = 0; i < n; i++) {
      if (inD[i]) continue;
      let have = e[i]!;
      for (let j = 0; j < n; j++) have += pi[j * n + i]! * p[j]!;
      if (have < pBar[i]! - DEFAULT_TOLERANCE * Math.max(1, pBar[i]!)) {
        inD[i] = 1;
        grew = true;
      }
    }
    if (!grew) break;
    iterations++;

    // Solve (I − Π_DDᵀ) x = e_D + Σ_{j∉D} Π_jD p̄_j for the defaulting nodes' payments.
    const d: number[] = [];
    for (let i = 0; i < n; i++) if (inD[i]) d.push(i);
    const m = d.length;
    const a = new Float64Array(m * m);
    const b = new Float64Array(m);
    for (let r = 0; r < m; r++) {
      const i = d[r]!;
      let rhs = e[i]!;
      for (let j = 0; j < n; j++) if (!inD[j]) rhs += pi[j * n + i]! * pBar[j]!;
      b[r] = rhs;
      for (let c = 0; c < m; c++) a[r * m + c] = (r === c ? 1 : 0) - pi[d[c]! * n + i]!;
    }
    const x = solveLinear(a, b, m);
    for (let r = 0; r < m; r++) {
      const i = d[r]!;
      // The exact solution lies in [0, p̄_i]; clamp only the last-bit rounding.
      p[i] = Math.min(pBar[i]!, Math.max(0, x[r]!));
    }
    for (let i = 0; i < n; i++) if (!inD[i]) p[i] = pBar[i]!;
  }

  return {
    payments: Array.from(p),
    defaulted: Array.from(inD, (v) => v === 1),
    iterations,
  };
}

/**
 * Solves a·x = b for a dense m×m row-major matrix by Gaussian elimination with partial pivoting.
 * Overwrites a and b. Throws on a zero pivot (cannot happen for the systems clearingVector builds).
 */
function solveLinear(a: Float64Array, b: Float64Array, m: number): Float64Array {
  for (let k = 0; k < m; k++) {
    let piv = k;
    let best = Math.abs(a[k * m + k]!);
    for (let r = k + 1; r < m; r++) {
      const v = Math.abs(a[r * m + k]!);
      if (v > best) {
        best = v;
        piv = r;
      }
    }
    if (!(best > 0)) throw new Error(`clearingVector: singular default system at column ${k} (internal error)`);
    if (piv !== k) {
      for (let c = k; c < m; c++) {
        const t = a[k * m + c]!;
        a[k * m + c] = a[piv * m + c]!;
        a[piv * m + c] = t;
      }
      const t = b[k]!;
      b[k] = b[piv]!;
      b[piv] = t;
    }
    const akk = a[k * m + k]!;
    for (let r = k + 1; r < m; r++) {
      const f = a[r * m + k]! / akk;
      if (f === 0) continue;
      a[r * m + k] = 0;
      for (let c = k + 1; c < m; c++) a[r * m + c] = a[r * m + c]! - f * a[k * m + c]!;
      b[r] = b[r]! - f * b[k]!;
    }
  }
  const x = new Float64Array(m);
  for (let r = m - 1; r >= 0; r--) {
    let s = b[r]!;
    for (let c = r + 1; c < m; c++) s -= a[r * m + c]! * x[c]!;
    x[r] = s / a[r * m + r]!;
  }
  return x;
}
