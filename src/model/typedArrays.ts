// Growing typed arrays: the one helper for lists that start small and double when full.

/** A typed array twice as long as `a` (at least `need`), holding a copy of it. */
export function grown<T extends Int8Array | Int16Array | Uint16Array | Int32Array | Uint8Array | Float64Array>(a: T, need: number): T {
  const next = new (a.constructor as new (n: number) => T)(Math.max(need, 2 * a.length));
  next.set(a);
  return next;
}

/**
 * First capacity of the engine's lists of accounts that hold a few of the n accounts at a time
 * (touched, near the line, liquidatable): 64 + n/64 entries (all n when fewer), which grown()
 * doubles when a step needs more, instead of sizing each for every account (4 bytes an account
 * apiece).
 */
export function listStart(n: number): number {
  return Math.min(n, 64 + (n >> 6));
}

/**
 * The first n entries of `a` as an array of their own: `a` itself when it holds exactly n (no copy:
 * the world builder sizes its drafts exactly, so their columns become the world's), else a copy.
 */
export function exactly<T extends Uint16Array | Int32Array | Float64Array>(a: T, n: number): T {
  return (a.length === n ? a : a.slice(0, n)) as T;
}
