// Growing typed arrays: the one helper for lists that start small and double when full.

/** A typed array twice as long as `a` (at least `need`), holding a copy of it. */
export function grown<T extends Int32Array | Uint8Array | Float64Array>(a: T, need: number): T {
  const next = new (a.constructor as new (n: number) => T)(Math.max(need, 2 * a.length));
  next.set(a);
  return next;
}
