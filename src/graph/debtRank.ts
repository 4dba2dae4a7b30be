// DebtRank: how much of the system's economic value a shock to some nodes' equity destroys once
// the distress has travelled along direct exposures, each distressed node passing it on once.
//
// Battiston, S., Puliga, M., Kaushik, R., Tasca, P. & Caldarelli, G. (2012), "DebtRank: Too
// Central to Fail? Financial Networks, the FED and Systemic Risk", Scientific Reports 2:541
// (doi:10.1038/srep00541). Their definitions, in this module's convention (exposures[i][j] = A_ij
// = i's claim on j, so a loss at j reaches i):
//   impact of j on i    W_ij = min(1, A_ij / E_i)          (E_i = i's equity, its capital buffer)
//   relative economic value v_j = w_j / Σ_k w_k
//   states              s_i ∈ {U undistressed, D distressed, I inactive}; s_i(0) = D ⇔ h_i(0) > 0
//   distress            h_i(t) = min(1, h_i(t−1) + Σ_{j : s_j(t−1) = D} W_ij h_j(t−1))
//   state update        s_i(t) = I if s_i(t−1) = D; D if h_i(t) > 0 and s_i(t−1) = U; else s_i(t−1)
//   stop at T, the first step with no distressed node;  DebtRank R = Σ_j v_j h_j(T) − Σ_j v_j h_j(0)
// A node therefore propagates its distress exactly once (the walk of the paper never revisits an
// edge), while an inactive node can still receive distress. The same recursion, with the same
// U/D/I states, is the `debt_rank_shock` function of the NetworkRiskMeasures R package (Cinelli &
// Silva); its README example is reproduced in test/debtRank.test.ts.
import { checkSquareMatrix, checkVector, NetworkInputError } from './clearing.ts';

/** Input to {@link debtRank}. */
export interface DebtRankInput {
  /** exposures[i][j] = i's claim on j (square, ≥ 0, zero diagonal): a loss at j hits i's equity. */
  exposures: ReadonlyArray<ReadonlyArray<number>>;
  /** Equity (capital buffer) per node, ≥ 0. A node with zero equity is wiped out by any loss. */
  equity: ReadonlyArray<number>;
  /** Economic size per node (≥ 0, not all 0), normalised to sum 1; default equal weights. */
  weights?: ReadonlyArray<number>;
  /** h(0): initial distress per node, in [0, 1] (1 = equity wiped out). */
  initialDistress: ReadonlyArray<number>;
}

/** Output of {@link debtRank}. */
export interface DebtRankResult {
  /** h(T): final distress per node, in [h(0), 1]. */
  distress: number[];
  /** Σ_j v_j (h_j(T) − h_j(0)): the value lost to propagation, the initial shock excluded. */
  debtRank: number;
}

const UNDISTRESSED = 0;
const DISTRESSED = 1;
const INACTIVE = 2;

/** DebtRank of an initial distress (Battiston et al. 2012, three-state propagation, h capped at 1). */
export function debtRank(input: DebtRankInput): DebtRankResult {
  const FN = 'debtRank';
  if (typeof input !== 'object' || input === null) throw new NetworkInputError(FN, 'input', [], input, 'must be an object');
  const n = checkSquareMatrix(FN, 'exposures', input.exposures);
  const A = input.exposures;
  const equity = checkVector(FN, 'equity', input.equity, n);
  const h0 = checkVector(FN, 'initialDistress', input.initialDistress, n, 0, 1);
  const v = relativeValue(FN, input.weights, n);

  // W_ij = min(1, A_ij / E_i); with E_i = 0 any positive exposure wipes i out (the limit A/E → ∞).
  const W = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    const row = A[i]!;
    const E = equity[i]!;
    for (let j = 0; j < n; j++) {
      const a = row[j]!;
      if (a > 0) W[i * n + j] = E > 0 ? Math.min(1, a / E) : 1;
    }
  }

  let h = Float64Array.from(h0);
  const state = Uint8Array.from(h0, (x) => (x > 0 ? DISTRESSED : UNDISTRESSED));
  const distressed: number[] = [];
  for (let j = 0; j < n; j++) if (state[j] === DISTRESSED) distressed.push(j);
  // Each node is distressed in at most one step, so this loop runs at most n times.
  while (distressed.length > 0) {
    const next = Float64Array.from(h);
    for (let i = 0; i < n; i++) {
      let add = 0;
      for (const j of distressed) add += W[i * n + j]! * h[j]!;
      if (add > 0) next[i] = Math.min(1, h[i]! + add);
    }
    for (const j of distressed) state[j] = INACTIVE;
    distressed.length = 0;
    for (let i = 0; i < n; i++) {
      if (state[i] === UNDISTRESSED && next[i]! > 0) {
        state[i] = DISTRESSED;
        distressed.push(i);
      }
    }
    h = next;
  }

  let rank = 0;
  for (let j = 0; j < n; j++) rank += v[j]! * (h[j]! - h0[j]!);
  return { distress: Array.from(h), debtRank: rank };
}

/** v_j = w_j / Σ w, or 1/n when no weights are given. */
function relativeValue(fn: string, weights: ReadonlyArray<number> | undefined, n: number): number[] {
  if (weights === undefined) return new Array<number>(n).fill(1 / n);
  const w = checkVector(fn, 'weights', weights, n);
  let total = 0;
  for (const x of w) total += x;
  if (!(total > 0) || !Number.isFinite(total)) {
    throw new NetworkInputError(fn, 'weights', [], weights, 'must have a positive, finite sum (they are normalised to sum 1)');
  }
  return w.map((x) => x / total);
}
