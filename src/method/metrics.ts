/** Classification and summary metrics over plain arrays. */
import { Labels } from "./types";

function checkLengths(predictions: Int32Array, labels: Labels): void {
  if (predictions.length !== labels.length) {
    throw new Error(`got ${predictions.length} predictions for ${labels.length} labels; they must match`);
  }
  if (labels.length === 0) throw new Error("cannot score an empty set of predictions");
}

/** Fraction of predictions equal to the label. */
export function accuracy(predictions: Int32Array, labels: Labels): number {
  checkLengths(predictions, labels);
  let correct = 0;
  for (let i = 0; i < labels.length; i++) if (predictions[i] === labels[i]) correct++;
  return correct / labels.length;
}

/** Accuracy within each true class; NaN for a class with no instances (there is nothing to score). */
export function perClassAccuracy(predictions: Int32Array, labels: Labels, classes: number): Float64Array {
  checkLengths(predictions, labels);
  const correct = new Float64Array(classes);
  const total = new Float64Array(classes);
  for (let i = 0; i < labels.length; i++) {
    total[labels[i]]++;
    if (predictions[i] === labels[i]) correct[labels[i]]++;
  }
  return correct.map((c, y) => (total[y] > 0 ? c / total[y] : NaN));
}

/** classes x classes counts, row = true class, column = predicted class. */
export function confusionCounts(predictions: Int32Array, labels: Labels, classes: number): Int32Array {
  checkLengths(predictions, labels);
  const counts = new Int32Array(classes * classes);
  for (let i = 0; i < labels.length; i++) {
    const p = predictions[i];
    if (!(p >= 0 && p < classes)) throw new Error(`prediction ${p} at row ${i} is outside 0..${classes - 1}`);
    counts[labels[i] * classes + p]++;
  }
  return counts;
}

export interface MeanStd {
  mean: number;
  /** Sample standard deviation (n - 1 denominator); 0 for a single value. */
  std: number;
  n: number;
}

/** Mean and spread of a metric over repeated runs (e.g. noise seeds). */
export function meanStd(values: ArrayLike<number>): MeanStd {
  const n = values.length;
  if (n === 0) throw new Error("meanStd needs at least one value");
  let sum = 0;
  for (let i = 0; i < n; i++) sum += values[i];
  const mean = sum / n;
  if (n === 1) return { mean, std: 0, n };
  let squares = 0;
  for (let i = 0; i < n; i++) squares += (values[i] - mean) ** 2;
  return { mean, std: Math.sqrt(squares / (n - 1)), n };
}

/** Largest elementwise |a - b|; how parity with a reference implementation is measured. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`cannot compare outputs of ${a.length} and ${b.length} values`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}
