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

/** Mean of repeated runs with its standard error and a two-sided Student-t confidence interval. */
export interface MeanInterval extends MeanStd {
  /** std / sqrt(n): the spread of the mean, not of one run. */
  standardError: number;
  /** Confidence level of [low, high], e.g. 0.95. */
  level: number;
  low: number;
  high: number;
}

/** ln Gamma(x) for x > 0 (Lanczos, g = 7, 9 terms; about 15 digits). */
function logGamma(x: number): number {
  const c = [0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7];
  if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - logGamma(1 - x);
  const z = x - 1;
  let a = c[0];
  const t = z + 7.5;
  for (let i = 1; i < 9; i++) a += c[i] / (z + i);
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

/** Continued fraction of the regularised incomplete beta function (modified Lentz), valid for x < (a + 1) / (a + b + 2). */
function betaFraction(a: number, b: number, x: number): number {
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  d = 1 / (Math.abs(d) < tiny ? tiny : d);
  let h = d;
  for (let m = 1; m <= 300; m++) {
    for (const aa of [(m * (b - m) * x) / ((a + 2 * m - 1) * (a + 2 * m)), (-(a + m) * (a + b + m) * x) / ((a + 2 * m) * (a + 2 * m + 1))]) {
      d = 1 + aa * d;
      d = 1 / (Math.abs(d) < tiny ? tiny : d);
      c = 1 + aa / c;
      if (Math.abs(c) < tiny) c = tiny;
      h *= d * c;
    }
    if (Math.abs(d * c - 1) < 1e-15) break;
  }
  return h;
}

/** Regularised incomplete beta I_x(a, b). */
function incompleteBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const front = Math.exp(logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log(1 - x));
  return x < (a + 1) / (a + b + 2) ? (front * betaFraction(a, b, x)) / a : 1 - (front * betaFraction(b, a, 1 - x)) / b;
}

/** P(T <= t) for Student's t with `df` degrees of freedom. */
export function studentTCdf(t: number, df: number): number {
  // Near 0, df / (df + t^2) rounds to 1; the complementary form keeps the small t^2 / (df + t^2) exact.
  const t2 = t * t;
  const tail = t2 < df ? 0.5 - 0.5 * incompleteBeta(t2 / (df + t2), 0.5, df / 2) : 0.5 * incompleteBeta(df / (df + t2), df / 2, 0.5);
  return t >= 0 ? 1 - tail : tail;
}

/** The t with P(T <= t) = p, for 0 < p < 1 (bisection on the CDF, to about 1e-12). */
export function studentTQuantile(p: number, df: number): number {
  if (!(p > 0 && p < 1)) throw new Error(`a quantile needs 0 < p < 1, got ${p}`);
  if (!(df > 0)) throw new Error(`Student's t needs positive degrees of freedom, got ${df}`);
  let lo = -1;
  let hi = 1;
  while (studentTCdf(lo, df) > p) lo *= 2;
  while (studentTCdf(hi, df) < p) hi *= 2;
  for (let i = 0; i < 200 && hi - lo > 1e-12 * Math.max(1, Math.abs(hi)); i++) {
    const mid = (lo + hi) / 2;
    if (studentTCdf(mid, df) < p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/**
 * Mean, per-run standard deviation, standard error and the `level` confidence interval of the mean
 * (mean ± t(1 - (1 - level) / 2, n - 1) * std / sqrt(n)); a single run has no interval (NaN bounds).
 */
export function meanInterval(values: ArrayLike<number>, level = 0.95): MeanInterval {
  if (!(level > 0 && level < 1)) throw new Error(`a confidence level must lie strictly between 0 and 1, got ${level}`);
  const summary = meanStd(values);
  const { mean, std, n } = summary;
  if (n < 2) return { ...summary, standardError: NaN, level, low: NaN, high: NaN };
  const standardError = std / Math.sqrt(n);
  const half = studentTQuantile(1 - (1 - level) / 2, n - 1) * standardError;
  return { ...summary, standardError, level, low: mean - half, high: mean + half };
}
