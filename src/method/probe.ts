/**
 * Linear classifier probes (Alain and Bengio 2017) on a stage's pooled features, and class selectivity per channel
 * (Morcos et al. 2018). The probe is a multinomial logistic regression on the features scaled per channel but not
 * centred: the features stay non-negative, as the final layer's inputs are, so a channel left out of S_y takes
 * nothing from the bias and Algorithm 1 reads the probe as it reads the network's own head.
 */
import { refitSets, type RefitOptions } from "./refit";
import type { FeatureMatrix, IndexSets, Labels, LinearLayer } from "./types";
import { validateClassesPresent, validateFeatures, validateLabels } from "./validate";

export interface Probe {
  /** The probe as a final layer on the unscaled features (weights divided by each channel's scale). */
  layer: LinearLayer;
  /** Each channel's divisor: its standard deviation over the training images (1 for a constant channel). */
  scale: Float64Array;
  /** Mean cross-entropy plus penalty at the end, on the scaled features, and L-BFGS iterations taken. */
  loss: number;
  iterations: number;
}

/** Each channel's population standard deviation (as scikit-learn's StandardScaler), 1 where a channel is constant. */
export function channelScales(features: FeatureMatrix): Float64Array {
  const { data, rows, cols } = features;
  const mean = new Float64Array(cols);
  const square = new Float64Array(cols);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) mean[j] += data[i * cols + j];
  }
  for (let j = 0; j < cols; j++) mean[j] /= rows;
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      const d = data[i * cols + j] - mean[j];
      square[j] += d * d;
    }
  }
  return square.map((s) => {
    const sd = Math.sqrt(s / rows);
    return sd > 0 ? sd : 1;
  });
}

/** The probe's fit: l2 1e-3, up to 500 L-BFGS iterations, gradient tolerance 1e-6 unless given. */
const probeOptions = (o: RefitOptions): RefitOptions => ({ l2: o.l2 ?? 1e-3, iterations: o.iterations ?? 500, tolerance: o.tolerance ?? 1e-6 });

function scaleChannels(features: FeatureMatrix, scale: Float64Array): FeatureMatrix {
  const { data, rows, cols } = features;
  return { data: data.map((v, p) => v / scale[p % cols]), rows, cols };
}

/**
 * Fits the probe: mean cross-entropy + l2 / 2 |W|^2 on the scaled features (biases unpenalised), full-batch
 * L-BFGS from zero, deterministic.
 */
export function fitProbe(features: FeatureMatrix, labels: Labels, classes: number, options: RefitOptions = {}): Probe {
  validateFeatures(features);
  validateLabels(labels, features.rows, classes);
  validateClassesPresent(labels, classes);
  const { cols } = features;
  const scale = channelScales(features);
  const scaled = scaleChannels(features, scale);
  const every = Array.from({ length: classes }, () => Array.from({ length: cols }, (_, j) => j));
  const start: LinearLayer = { weight: new Float32Array(classes * cols), bias: new Float32Array(classes), classes, features: cols };
  const fit = refitSets(scaled, labels, start, every, probeOptions(options));
  const weight = fit.layer.weight.map((w, p) => w / scale[p % cols]);
  return { layer: { ...fit.layer, weight }, scale, loss: fit.loss, iterations: fit.iterations };
}

/**
 * Class selectivity of each channel: (mu_max - mu_rest) / (mu_max + mu_rest + eps), mu_max the largest
 * class-conditional mean activity and mu_rest the mean of the other classes' means. 1 for a channel active for
 * one class only, 0 for one equally active for all; the activity is non-negative (post-ReLU, pooled).
 */
export function selectivityIndex(features: FeatureMatrix, labels: Labels, classes: number, eps = 1e-7): Float64Array {
  validateFeatures(features);
  validateLabels(labels, features.rows, classes);
  validateClassesPresent(labels, classes);
  const { data, rows, cols } = features;
  const sums = new Float64Array(classes * cols);
  const counts = new Float64Array(classes);
  for (let i = 0; i < rows; i++) {
    counts[labels[i]]++;
    for (let j = 0; j < cols; j++) sums[labels[i] * cols + j] += data[i * cols + j];
  }
  const index = new Float64Array(cols);
  for (let j = 0; j < cols; j++) {
    let max = -Infinity;
    let total = 0;
    for (let c = 0; c < classes; c++) {
      const mu = sums[c * cols + j] / counts[c];
      total += mu;
      if (mu > max) max = mu;
    }
    const rest = classes > 1 ? (total - max) / (classes - 1) : 0;
    index[j] = (max - rest) / (max + rest + eps);
  }
  return index;
}

/**
 * The probe refitted on each class's set only (the refit scoring at a stage), on the same scaled features and
 * penalty as the probe itself, warm-started from it; returned on the unscaled features like the probe.
 */
export function refitProbe(probe: Probe, features: FeatureMatrix, labels: Labels, sets: IndexSets, options: RefitOptions = {}): LinearLayer {
  const { cols } = features;
  const { scale } = probe;
  const scaled = scaleChannels(features, scale);
  const start = { ...probe.layer, weight: probe.layer.weight.map((w, p) => w * scale[p % cols]) };
  const fit = refitSets(scaled, labels, start, sets, probeOptions(options));
  return { ...fit.layer, weight: fit.layer.weight.map((w, p) => w / scale[p % cols]) };
}
