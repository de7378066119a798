/**
 * Seeded randomness for augmentation. Algorithm: mulberry32 (a 32-bit Weyl-sequence state, increment
 * 0x6D2B79F5, followed by an xorshift-multiply output mix; period 2^32), chosen because it is tiny, fast in
 * JavaScript's 32-bit integer arithmetic and good enough for crops and flips. Per-image streams come from
 * mixing (seed, index) with the murmur3 32-bit finaliser, so image i gets the same draws whatever batch it is in.
 */

export type Rng = () => number;

/** Returns floats in [0, 1) with 32 bits of randomness. */
export function mulberry32(seed: number): Rng {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A 32-bit seed for stream `index` of `seed` (e.g. per image, or per epoch then per image). */
export function deriveSeed(seed: number, index: number): number {
  return fmix32((fmix32(seed >>> 0) ^ Math.imul(index >>> 0, 0x9e3779b9)) >>> 0);
}

/** Integer in [0, n). */
export function randomInt(rng: Rng, n: number): number {
  return Math.floor(rng() * n);
}
