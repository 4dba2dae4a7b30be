// Sorting the first n entries of a scratch Int32Array without allocating on the usual small case: a
// typed-array sort needs a subarray view and, with a key, a comparator closure (both garbage every
// step); short prefixes are insertion-sorted in place instead. Orders are total (ties by value), so
// either way gives the same result.

/** Sorts list[0 … n) ascending. */
export function sortAscending(list: Int32Array, n: number): void {
  if (n > 32) {
    list.subarray(0, n).sort();
    return;
  }
  for (let i = 1; i < n; i++) {
    const v = list[i]!;
    let j = i - 1;
    while (j >= 0 && list[j]! > v) {
      list[j + 1] = list[j]!;
      j--;
    }
    list[j + 1] = v;
  }
}

/** True when account i comes before j: lower key first, then lower index. */
function before(key: Float64Array, i: number, j: number): boolean {
  const d = key[i]! - key[j]!;
  return d < 0 || (!(d > 0) && i < j);
}

const EMPTY: Float64Array = new Float64Array(0);
/** The keys of the sort in progress: one comparator for the whole process, not a closure per call. */
let sortKeys = EMPTY;
/**
 * `key[i] − key[j] || i − j` by its sign: the sort reads only the sign, and a comparator that
 * returns the difference of two doubles returns a fresh heap number per comparison (18% of what a
 * 10^4-account run allocated). NaN differences fall to the entries, as `||` did.
 */
const byKeyThenEntry = (i: number, j: number): number => {
  const d = sortKeys[i]! - sortKeys[j]!;
  return d < 0 ? -1 : d > 0 ? 1 : i - j;
};

/** Sorts list[0 … n) by key[entry] ascending, ties by the entry itself (as `key[i] − key[j] || i − j`). */
export function sortByKey(list: Int32Array, n: number, key: Float64Array): void {
  if (n > 32) {
    // A comparator made per call was compiled again by TurboFan in each run of a sweep.
    sortKeys = key;
    try {
      list.subarray(0, n).sort(byKeyThenEntry);
    } finally {
      sortKeys = EMPTY;
    }
    return;
  }
  for (let i = 1; i < n; i++) {
    const v = list[i]!;
    let j = i - 1;
    while (j >= 0 && before(key, v, list[j]!)) {
      list[j + 1] = list[j]!;
      j--;
    }
    list[j + 1] = v;
  }
}
