/**
 * The decomposed final layer: class y's logit uses only its influential features,
 *   logit_y = b_y + sum_{j in S_y} W[y, j] f_j,
 * against the full layer logit_y = b_y + sum_j W[y, j] f_j.
 * Both accumulate in float64 in ascending feature order, so with S_y = all features they agree exactly.
 */
import { accuracy, perClassAccuracy } from "./metrics";
import { FeatureMatrix, IndexSets, Labels, LinearLayer } from "./types";
import { validateFeatures, validateIndexSets, validateLabels, validateLayer } from "./validate";

/** N x classes logits of the full layer. */
export function fullLogits(features: FeatureMatrix, layer: LinearLayer): Float32Array {
  validateFeatures(features);
  validateLayer(layer, features.cols);
  const { data, rows, cols } = features;
  const { weight, bias, classes } = layer;
  const logits = new Float32Array(rows * classes);
  for (let i = 0; i < rows; i++) {
    const f = i * cols;
    for (let y = 0; y < classes; y++) {
      const w = y * cols;
      let sum = bias[y];
      for (let j = 0; j < cols; j++) sum += weight[w + j] * data[f + j];
      logits[i * classes + y] = sum;
    }
  }
  return logits;
}

/** N x classes logits of the decomposed layer with S_y = sets[y]. */
export function decomposedLogits(features: FeatureMatrix, layer: LinearLayer, sets: IndexSets): Float32Array {
  validateFeatures(features);
  validateLayer(layer, features.cols);
  validateIndexSets(sets, layer.classes, features.cols);
  const { data, rows, cols } = features;
  const { weight, bias, classes } = layer;
  const ascending = sets.map((s) => Int32Array.from(s).sort());
  const logits = new Float32Array(rows * classes);
  for (let i = 0; i < rows; i++) {
    const f = i * cols;
    for (let y = 0; y < classes; y++) {
      const w = y * cols;
      const set = ascending[y];
      let sum = bias[y];
      for (let r = 0; r < set.length; r++) sum += weight[w + set[r]] * data[f + set[r]];
      logits[i * classes + y] = sum;
    }
  }
  return logits;
}

/** Row-wise argmax; equal logits go to the lowest class index. */
export function predictFromLogits(logits: Float32Array, rows: number, classes: number): Int32Array {
  if (logits.length !== rows * classes) {
    throw new Error(`logits has ${logits.length} values but rows x classes = ${rows} x ${classes}`);
  }
  const predictions = new Int32Array(rows);
  for (let i = 0; i < rows; i++) {
    const base = i * classes;
    let best = 0;
    for (let y = 1; y < classes; y++) if (logits[base + y] > logits[base + best]) best = y;
    predictions[i] = best;
  }
  return predictions;
}

export function predictFull(features: FeatureMatrix, layer: LinearLayer): Int32Array {
  return predictFromLogits(fullLogits(features, layer), features.rows, layer.classes);
}

export function predictDecomposed(features: FeatureMatrix, layer: LinearLayer, sets: IndexSets): Int32Array {
  return predictFromLogits(decomposedLogits(features, layer, sets), features.rows, layer.classes);
}

export interface MacCounts {
  /** classes x features multiply-adds per instance for the full layer. */
  full: number;
  /** sum_y |S_y| multiply-adds per instance for the decomposed layer. */
  decomposed: number;
}

export function macCounts(layer: LinearLayer, sets: IndexSets): MacCounts {
  validateIndexSets(sets, layer.classes, layer.features);
  return { full: layer.classes * layer.features, decomposed: sets.reduce((n, s) => n + s.length, 0) };
}

export interface DecomposedEvaluation {
  /** A_f */
  fullAccuracy: number;
  /** A_d */
  decomposedAccuracy: number;
  /** r_A = A_d / A_f (NaN when A_f = 0). */
  accuracyRatio: number;
  perClassFull: Float64Array;
  perClassDecomposed: Float64Array;
  macs: MacCounts;
  fullPredictions: Int32Array;
  decomposedPredictions: Int32Array;
}

/** Full versus decomposed layer on one labelled feature set. */
export function evaluateDecomposed(
  features: FeatureMatrix,
  labels: Labels,
  layer: LinearLayer,
  sets: IndexSets,
): DecomposedEvaluation {
  validateLabels(labels, features.rows, layer.classes);
  const fullPredictions = predictFull(features, layer);
  const decomposedPredictions = predictDecomposed(features, layer, sets);
  const fullAccuracy = accuracy(fullPredictions, labels);
  const decomposedAccuracy = accuracy(decomposedPredictions, labels);
  return {
    fullAccuracy,
    decomposedAccuracy,
    accuracyRatio: fullAccuracy > 0 ? decomposedAccuracy / fullAccuracy : NaN,
    perClassFull: perClassAccuracy(fullPredictions, labels, layer.classes),
    perClassDecomposed: perClassAccuracy(decomposedPredictions, labels, layer.classes),
    macs: macCounts(layer, sets),
    fullPredictions,
    decomposedPredictions,
  };
}
