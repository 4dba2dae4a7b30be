// Sorting the first n entries of a scratch Int32Array without allocating: a typed-array sort needs a
// subarray view and, with a key, a comparator (whose calls go through the runtime and, for a typed
// array, a copy of the list). Short prefixes are insertion-sorted in place, and keyed lists of any
// length are sorted in place. Orders are total (ties by value), so every path gives the same result.

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

/** Ranges still to sort (lo, hi pairs): the smaller side of each split is sorted first, so at most log₂ n wait. */
const PENDING = new Int32Array(128);
/** Ranges this short are insertion-sorted. */
const SHORT = 16;

/**
 * Sorts list[0 … n) by key[entry] ascending, ties by the entry itself (as `key[i] − key[j] || i − j`).
 * In place, without allocating: a quicksort (median of three, Hoare partition) over ranges longer
 * than SHORT, insertion sort below. The order is total for keys that are not NaN (the engine's are
 * equity / maintenance of accounts below maintenance, ±∞ included), so any correct sort gives the
 * one result the typed-array sort with that comparator gave; it copied the list into a fresh array
 * and called the comparator through the runtime (5% of a worker's time in a crash-heavy sweep).
 */
export function sortByKey(list: Int32Array, n: number, key: Float64Array): void {
  let sp = 0;
  let lo = 0;
  let hi = n - 1;
  for (;;) {
    while (hi - lo > SHORT) {
      // Median of three to the middle: list[lo] ≤ list[mid] ≤ list[hi] in the order.
      const mid = (lo + hi) >>> 1;
      if (before(key, list[mid]!, list[lo]!)) swap(list, lo, mid);
      if (before(key, list[hi]!, list[lo]!)) swap(list, lo, hi);
      if (before(key, list[hi]!, list[mid]!)) swap(list, mid, hi);
      const pivot = list[mid]!;
      let i = lo;
      let j = hi;
      while (i <= j) {
        while (before(key, list[i]!, pivot)) i++;
        while (before(key, pivot, list[j]!)) j--;
        if (i <= j) {
          swap(list, i, j);
          i++;
          j--;
        }
      }
      // [lo … j] come before the pivot's place, [i … hi] after: keep the larger side for later.
      if (j - lo < hi - i) {
        PENDING[sp++] = i;
        PENDING[sp++] = hi;
        hi = j;
      } else {
        PENDING[sp++] = lo;
        PENDING[sp++] = j;
        lo = i;
      }
    }
    insertionSort(list, lo, hi, key);
    if (sp === 0) return;
    hi = PENDING[--sp]!;
    lo = PENDING[--sp]!;
  }
}

function swap(list: Int32Array, i: number, j: number): void {
  const t = list[i]!;
  list[i] = list[j]!;
  list[j] = t;
}

/** Insertion sort of list[lo … hi] by key, ties by entry. */
function insertionSort(list: Int32Array, lo: number, hi: number, key: Float64Array): void {
  for (let i = lo + 1; i <= hi; i++) {
    const v = list[i]!;
    let j = i - 1;
    while (j >= lo && before(key, v, list[j]!)) {
      list[j + 1] = list[j]!;
      j--;
    }
    list[j + 1] = v;
  }
}
