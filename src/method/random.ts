/**
 * Standard normal samples for ablations: Box-Muller over the project's seeded mulberry32 uniforms
 * (src/data/prng.ts), so every run with the same seed is bit-reproducible.
 */
import { mulberry32 } from "../data/prng";

/** N(0, 1) sampler; each Box-Muller pair is consumed in order (cos term, then sin term). */
export function normalSampler(seed: number): () => number {
  if (!Number.isInteger(seed)) throw new Error(`seed must be an integer, got ${seed}`);
  const uniform = mulberry32(seed);
  let spare = 0;
  let hasSpare = false;
  return () => {
    if (hasSpare) {
      hasSpare = false;
      return spare;
    }
    // uniform() lies in [0, 1), so 1 - uniform() lies in (0, 1] and the logarithm stays finite.
    const radius = Math.sqrt(-2 * Math.log(1 - uniform()));
    const angle = 2 * Math.PI * uniform();
    spare = radius * Math.sin(angle);
    hasSpare = true;
    return radius * Math.cos(angle);
  };
}
