// Cholesky factorisation of a correlation matrix, used to turn independent normal draws into
// correlated asset returns. Returns null when the matrix is not (numerically) positive definite.

/**
 * Lower-triangular L with L·Lᵀ = m, row-major in an n×n Float64Array; null if m is not
 * symmetric positive definite (a pivot ≤ `tolerance`).
 */
export function cholesky(m: ReadonlyArray<ReadonlyArray<number>>, tolerance = 1e-12): Float64Array | null {
  const n = m.length;
  const l = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let sum = m[i]![j]!;
      for (let k = 0; k < j; k++) sum -= l[i * n + k]! * l[j * n + k]!;
      if (i === j) {
        if (!(sum > tolerance)) return null;
        l[i * n + i] = Math.sqrt(sum);
      } else {
        l[i * n + j] = sum / l[j * n + j]!;
      }
    }
  }
  return l;
}
