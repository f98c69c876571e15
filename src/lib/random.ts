/**
 * mulberry32: a small 32-bit PRNG, uniform in [0, 1), identical on every
 * platform (integer arithmetic only). For anything that must be repeatable
 * from a seed: generated traces, noisy test series.
 */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 15), z | 1);
    z ^= z + Math.imul(z ^ (z >>> 7), z | 61);
    return ((z ^ (z >>> 14)) >>> 0) / 4294967296;
  };
}
