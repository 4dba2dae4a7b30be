// A binary heap of positions by ADL rank, in two parallel typed arrays: heap[k] is a position and
// score[k] its score. Higher score first, ties by lower position index — a total order, so popping
// gives the same sequence however the heap was built (settleLosses.autoDeleverage, adlQueue.ts).

/**
 * True when position i with score si ranks before position j with score sj: higher score first, then
 * lower index (as sj − si || i − j).
 */
export function ranksBefore(si: number, i: number, sj: number, j: number): boolean {
  const d = sj - si;
  return d < 0 || (!(d > 0) && i < j);
}

/** Restores the heap order of heap[0 … size) below slot `from`. */
export function siftDown(heap: Int32Array, score: Float64Array, size: number, from: number): void {
  let k = from;
  const item = heap[k]!;
  const itemScore = score[k]!;
  for (;;) {
    let child = 2 * k + 1;
    if (child >= size) break;
    if (child + 1 < size && ranksBefore(score[child + 1]!, heap[child + 1]!, score[child]!, heap[child]!)) child++;
    if (!ranksBefore(score[child]!, heap[child]!, itemScore, item)) break;
    heap[k] = heap[child]!;
    score[k] = score[child]!;
    k = child;
  }
  heap[k] = item;
  score[k] = itemScore;
}

/** Orders heap[0 … n) so that heap[0] ranks first and every parent ranks before its children. */
export function heapify(heap: Int32Array, score: Float64Array, n: number): void {
  for (let k = (n >> 1) - 1; k >= 0; k--) siftDown(heap, score, n, k);
}

/** Removes and returns the first-ranked of heap[0 … size) (the heap is then size − 1 long). */
export function popBest(heap: Int32Array, score: Float64Array, size: number): number {
  const best = heap[0]!;
  heap[0] = heap[size - 1]!;
  score[0] = score[size - 1]!;
  siftDown(heap, score, size - 1, 0);
  return best;
}

/** Adds position p with score s to heap[0 … size) (the arrays must have room for size + 1). */
export function pushRanked(heap: Int32Array, score: Float64Array, size: number, p: number, s: number): void {
  let k = size;
  while (k > 0) {
    const parent = (k - 1) >> 1;
    if (!ranksBefore(s, p, score[parent]!, heap[parent]!)) break;
    heap[k] = heap[parent]!;
    score[k] = score[parent]!;
    k = parent;
  }
  heap[k] = p;
  score[k] = s;
}
