/** Small labelled feature sets with class structure, for the experiment tests (deterministic, seeded). */
import { mulberry32 } from "../../src/data/prng";
import type { LinearLayer } from "../../src/method";
import type { LabelledFeatures } from "../../src/experiments/setup";

/**
 * rows x cols non-negative features over `classes` classes (labels cycle 0, 1, ...); each class has a few
 * preferred features that are larger on average, so Algorithm 1 finds something and A_d varies with k1, k2.
 */
export function syntheticSplit(seed: number, rows: number, cols: number, classes: number): LabelledFeatures {
  const rng = mulberry32(seed);
  const data = new Float32Array(rows * cols);
  const labels = new Uint8Array(rows);
  for (let i = 0; i < rows; i++) {
    const y = i % classes;
    labels[i] = y;
    for (let j = 0; j < cols; j++) {
      const preferred = (j * 7 + y * 3) % cols < 3;
      // Some exact zeros, as after a ReLU.
      const v = rng() < 0.2 ? 0 : rng() * (preferred ? 3 : 1.5);
      data[i * cols + j] = v;
    }
  }
  return { features: { data, rows, cols }, labels };
}

export function syntheticLayer(seed: number, cols: number, classes: number): LinearLayer {
  const rng = mulberry32(seed);
  const weight = new Float32Array(classes * cols);
  for (let y = 0; y < classes; y++) {
    for (let j = 0; j < cols; j++) {
      const preferred = (j * 7 + y * 3) % cols < 3;
      weight[y * cols + j] = (preferred ? 1 : 0) + (rng() - 0.5) * 0.8;
    }
  }
  const bias = Float32Array.from({ length: classes }, () => (rng() - 0.5) * 0.1);
  return { weight, bias, classes, features: cols };
}
