// Run seeds derived by hashing (experiment seed, replicate, stream): a run is reproducible on its
// own, and every point of a sweep sees the same random numbers for the same replicate (common
// random numbers), so differences between points are not sampling noise.

/** The independent random streams of one run (and `sweep`: the Latin hypercube design, replicate 0). */
export const Streams = { replicate: 0, prices: 1, behaviour: 2, init: 3, sweep: 4, lendingBehaviour: 5 } as const;
export type StreamName = keyof typeof Streams;

/** 32-bit finaliser of MurmurHash3: a bijective avalanche mix. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * uint32 seed for (experimentSeed, replicate, stream[, point]). `point` is only mixed in when a
 * study asks for independent points; by default it is left out (common random numbers).
 */
export function deriveSeed(experimentSeed: number, replicate: number, stream: number, point?: number): number {
  let h = fmix32((experimentSeed >>> 0) ^ 0x9e3779b9);
  h = fmix32(h ^ Math.imul(replicate + 1, 0x27d4eb2f));
  h = fmix32(h ^ Math.imul(stream + 1, 0x165667b1));
  if (point !== undefined) h = fmix32(h ^ Math.imul(point + 1, 0x61c88647));
  return h;
}
