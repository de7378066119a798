/**
 * Class-specific gates (CSG; Liang et al., ECCV 2020) as pure functions over typed arrays: a classes x
 * channels matrix G with entries in [0, 1] that multiplies the pooled features of an image of class y by
 * G[y]. Training needs the rows picked by label, their gradients summed back into G, the density hinge and the
 * column renormalisation; evaluation needs the CSG path's logits with the true labels and the gates' top-k
 * channels per class, to set beside Algorithm 1's S_y.
 */
import type { FeatureMatrix, IndexSets, Labels, LinearLayer } from "./types";
import { validateFeatures, validateLabels, validateLayer } from "./validate";

/** A gate matrix: row y is class y's gate over the channels. */
export interface GateMatrix {
  data: Float32Array;
  classes: number;
  channels: number;
}

/** The original code's start: every gate 0.5. */
export const INITIAL_GATE = 0.5;

export function initialGates(classes: number, channels: number, value = INITIAL_GATE): GateMatrix {
  for (const [name, n] of [["classes", classes], ["channels", channels]] as const) {
    if (!Number.isInteger(n) || n < 1) throw new Error(`a gate matrix needs a positive whole number of ${name}, got ${n}`);
  }
  if (!(value >= 0 && value <= 1)) throw new Error(`gates lie in [0, 1]; got an initial value of ${value}`);
  return { data: new Float32Array(classes * channels).fill(value), classes, channels };
}

export function validateGates(gates: GateMatrix, classes: number, channels: number): void {
  if (gates.classes !== classes || gates.channels !== channels) {
    throw new Error(`the gate matrix is ${gates.classes} x ${gates.channels} but the model has ${classes} classes and ${channels} channels in its last block; use a ${classes} x ${channels} matrix`);
  }
  if (gates.data.length !== classes * channels) throw new Error(`the gate matrix holds ${gates.data.length} values, not ${classes} x ${channels}`);
  for (let i = 0; i < gates.data.length; i++) {
    const g = gates.data[i];
    if (!(g >= 0 && g <= 1)) throw new Error(`gate (${Math.floor(i / channels)}, ${i % channels}) is ${+g.toPrecision(6)}; gates lie in [0, 1]`);
  }
}

function checkLabel(y: number, i: number, classes: number): void {
  if (!Number.isInteger(y) || y < 0 || y >= classes) throw new Error(`label ${y} of image ${i} is not a class of the gate matrix (0..${classes - 1})`);
}

/** Row G[labels[i]] for every image, count x channels: what the CSG path multiplies the pooled features by. */
export function gateRows(gates: GateMatrix, labels: ArrayLike<number>, out = new Float32Array(labels.length * gates.channels)): Float32Array {
  const { data, classes, channels } = gates;
  if (out.length < labels.length * channels) throw new Error(`gate rows: the output holds ${out.length} values, need ${labels.length * channels}`);
  for (let i = 0; i < labels.length; i++) {
    checkLabel(labels[i], i, classes);
    out.set(data.subarray(labels[i] * channels, (labels[i] + 1) * channels), i * channels);
  }
  return out;
}

/**
 * The gradient of G from the gradients of the rows gateRows picked: image i's row gradient is added to row
 * labels[i] (a row used by several images collects all of them), classes x channels.
 */
export function scatterGateGradient(rowGrad: ArrayLike<number>, labels: ArrayLike<number>, classes: number, channels: number): Float32Array {
  if (rowGrad.length !== labels.length * channels) throw new Error(`gate row gradients: expected ${labels.length} x ${channels} values, got ${rowGrad.length}`);
  const grad = new Float32Array(classes * channels);
  for (let i = 0; i < labels.length; i++) {
    const y = labels[i];
    checkLabel(y, i, classes);
    for (let j = 0; j < channels; j++) grad[y * channels + j] += rowGrad[i * channels + j];
  }
  return grad;
}

export interface DensityHinge {
  /** lambda * max(0, ||G||_1 - density * classes * channels). */
  penalty: number;
  /** Its gradient with respect to G: lambda * sign(G) while the hinge is active, zero otherwise. */
  grad: Float32Array;
}

/** The CSG loss's sparsity term: a hinge on G's L1 norm above the density target. */
export function densityHinge(gates: GateMatrix, density: number, lambda: number): DensityHinge {
  checkDensity(density);
  checkLambda(lambda);
  const { data } = gates;
  let norm = 0;
  for (let i = 0; i < data.length; i++) norm += Math.abs(data[i]);
  const excess = norm - density * data.length;
  const grad = new Float32Array(data.length);
  if (excess > 0 && lambda > 0) for (let i = 0; i < data.length; i++) grad[i] = lambda * Math.sign(data[i]);
  return { penalty: lambda * Math.max(0, excess), grad };
}

export function checkDensity(density: number): void {
  if (!(density > 0 && density <= 1)) throw new Error(`density must lie in (0, 1] (the fraction of G's L1 mass the hinge allows; the original uses 0.2), got ${density}`);
}

export function checkLambda(lambda: number): void {
  if (!(lambda >= 0) || !Number.isFinite(lambda)) throw new Error(`lambda must be a finite number >= 0 (the weight of the density hinge; the original uses 1e-3), got ${lambda}`);
}

/**
 * After every CSG step, in place: each channel's column is divided by its largest gate over the classes, then
 * clamped to [0, 1], so the class that uses a channel most has gate 1. A column with no positive gate (the
 * original divides by zero there) is set to zero: no class uses that channel.
 */
export function renormaliseGates(gates: GateMatrix): GateMatrix {
  const { data, classes, channels } = gates;
  for (let j = 0; j < channels; j++) {
    let max = -Infinity;
    for (let y = 0; y < classes; y++) max = Math.max(max, data[y * channels + j]);
    for (let y = 0; y < classes; y++) {
      const i = y * channels + j;
      data[i] = max > 0 ? Math.min(1, Math.max(0, data[i] / max)) : 0;
    }
  }
  return gates;
}

/**
 * N x classes logits of the CSG path with the true labels: image i's features times G[labels[i]], then the
 * full layer. Only defined with labels known, so it is reported beside the STD path's accuracy, not as the
 * network's.
 */
export function gatedLogits(features: FeatureMatrix, layer: LinearLayer, gates: GateMatrix, labels: Labels): Float32Array {
  validateFeatures(features);
  validateLayer(layer, features.cols);
  validateLabels(labels, features.rows, layer.classes);
  validateGates(gates, layer.classes, features.cols);
  const { data, rows, cols } = features;
  const { weight, bias, classes } = layer;
  const logits = new Float32Array(rows * classes);
  for (let i = 0; i < rows; i++) {
    const f = i * cols;
    const g = labels[i] * cols;
    for (let y = 0; y < classes; y++) {
      const w = y * cols;
      let sum = bias[y];
      for (let j = 0; j < cols; j++) sum += weight[w + j] * data[f + j] * gates.data[g + j];
      logits[i * classes + y] = sum;
    }
  }
  return logits;
}

/** Per class, the k channels with the largest gates (ties to the lower channel), in descending gate order. */
export function topGateSets(gates: GateMatrix, k: number): number[][] {
  const { data, classes, channels } = gates;
  if (!Number.isInteger(k) || k < 1 || k > channels) throw new Error(`k must be an integer from 1 to ${channels}, got ${k}`);
  return Array.from({ length: classes }, (_, y) => {
    const row = data.subarray(y * channels, (y + 1) * channels);
    return Array.from({ length: channels }, (_, j) => j)
      .sort((a, b) => row[b] - row[a] || a - b)
      .slice(0, k);
  });
}

/** Per class, how many indices two families of sets share; and the total over the classes. */
export function setOverlap(a: IndexSets, b: IndexSets): { perClass: number[]; total: number } {
  if (a.length !== b.length) throw new Error(`cannot compare ${a.length} sets with ${b.length}; give one set per class on both sides`);
  const perClass = a.map((s, y) => {
    const other = new Set(b[y]);
    return [...new Set(s)].filter((j) => other.has(j)).length;
  });
  return { perClass, total: perClass.reduce((x, y) => x + y, 0) };
}
