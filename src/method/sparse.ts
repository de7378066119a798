/**
 * The sparse-refit anchor of the selection rules: an elastic-net multinomial logistic regression on the
 * standardised training features (the recipe of Wong, Santurkar and Madry 2021, glm-saga: l1 share 0.99, a lambda
 * path from the largest useful value down by 1e-3), followed along the path to the last point where every class
 * uses at most k features, cut to exactly k, and refitted on those (src/method/refit.ts). It chooses features and
 * weights together, so it is the upper reference for what k features per class can carry. Each lambda is solved by
 * proximal gradient descent with Nesterov momentum and a backtracking step (FISTA), warm-started from the last.
 */
import { patternObjective } from "./refit";
import type { FeatureMatrix, IndexSets, Labels } from "./types";
import { validateClassesPresent, validateFeatures, validateK } from "./validate";

export interface ElasticNetOptions {
  /** Share of the penalty that is l1 (default 0.99). */
  l1Ratio?: number;
  /** Points on the path (default 100), geometric from lambda_max down to ratio x lambda_max. */
  points?: number;
  ratio?: number;
  /** Proximal-gradient iterations per lambda at most (default 300), and the relative change that stops them (1e-6). */
  iterations?: number;
  tolerance?: number;
  /** The lambdas to solve, largest first, instead of the geometric path. */
  lambdas?: readonly number[];
  /**
   * sparsePath: at most this many training images choose the features (every ceil(N / maxRows)-th; default 5,000),
   * since a full-batch path over CIFAR-10's 50,000 takes many minutes in JavaScript; the refit uses all of them.
   * Measured on ResNet20's features (path to 10 features per class): 5,000 images, 42 s, and 10,000, 79 s, gave
   * the same refitted A_d at k = 3 and 5 (89.10, 90.65-90.68 %) and 91.39 / 91.37 % at k = 10.
   */
  maxRows?: number;
}

export interface PathPoint {
  lambda: number;
  /** classes x features weights on the standardised features, and the biases. */
  weight: Float64Array;
  bias: Float64Array;
  /** Non-zero weights per class. */
  nonZeros: number[];
}

/** Per-feature mean and standard deviation (population), with constant features left unscaled. */
export function standardise(features: FeatureMatrix): { data: Float32Array; mean: Float64Array; std: Float64Array } {
  const { data, rows, cols } = features;
  const mean = new Float64Array(cols);
  const std = new Float64Array(cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) mean[j] += data[i * cols + j] / rows;
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) std[j] += (data[i * cols + j] - mean[j]) ** 2 / rows;
  for (let j = 0; j < cols; j++) std[j] = Math.sqrt(std[j]) || 1;
  const out = new Float32Array(rows * cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[i * cols + j] = (data[i * cols + j] - mean[j]) / std[j];
  return { data: out, mean, std };
}

/**
 * The path on standardised features, from lambda_max (the smallest lambda at which every weight is zero, the
 * biases at the class priors) downward; `stop` ends it early once a point is enough.
 */
export function elasticNetPath(features: FeatureMatrix, labels: Labels, classes: number, opts: ElasticNetOptions = {}, stop?: (p: PathPoint) => boolean): PathPoint[] {
  validateFeatures(features);
  validateClassesPresent(labels, classes);
  const alpha = opts.l1Ratio ?? 0.99;
  const points = opts.points ?? 100;
  const ratio = opts.ratio ?? 1e-3;
  const maxIterations = opts.iterations ?? 300;
  const tolerance = opts.tolerance ?? 1e-6;
  const { rows, cols } = features;
  const x = { data: standardise(features).data, rows, cols };
  // Every class reads every feature: the dense layer, its weights row-major, then the biases.
  const all = Int32Array.from({ length: cols }, (_, j) => j);
  const sets = Array.from({ length: classes }, () => all);
  const offsets = Array.from({ length: classes + 1 }, (_, y) => y * cols);
  const n = classes * cols;
  const size = n + classes;
  const smooth = (at: Float64Array, grad: Float64Array, l2: number) => patternObjective(at, grad, x, labels, sets, offsets, classes, l2);
  const p = new Float64Array(size);
  // At W = 0 the best biases are the log class priors; the l1 subgradient condition then gives lambda_max.
  const counts = new Float64Array(classes);
  for (let i = 0; i < rows; i++) counts[labels[i]]++;
  for (let y = 0; y < classes; y++) p[n + y] = Math.log(counts[y] / rows);
  const grad = new Float64Array(size);
  smooth(p, grad, 0);
  const lambdaMax = grad.subarray(0, n).reduce((m, v) => Math.max(m, Math.abs(v)), 0) / alpha;
  const path: PathPoint[] = [];
  let step = 1;
  const at = new Float64Array(size);
  const next = new Float64Array(size);
  const scratch = new Float64Array(size);
  const lambdas = opts.lambdas ?? Array.from({ length: points }, (_, q) => lambdaMax * Math.pow(ratio, q / (points - 1)));
  for (const lambda of lambdas) {
    const l1 = lambda * alpha;
    const l2 = lambda * (1 - alpha);
    at.set(p);
    let momentum = 1;
    for (let it = 0; it < maxIterations; it++) {
      const value = smooth(at, grad, l2);
      // Backtracking: shrink the step until the quadratic model bounds the smooth part at the proximal point
      // (soft-thresholding on the weights, a plain step on the biases).
      for (;;) {
        let model = value;
        for (let q = 0; q < size; q++) {
          const v = at[q] - step * grad[q];
          next[q] = q < n ? Math.sign(v) * Math.max(0, Math.abs(v) - step * l1) : v;
          const d = next[q] - at[q];
          model += grad[q] * d + (d * d) / (2 * step);
        }
        if (smooth(next, scratch, l2) <= model + 1e-12) break;
        step /= 2;
      }
      // Adaptive restart (O'Donoghue and Candes): momentum that points uphill is dropped.
      let uphill = 0;
      for (let q = 0; q < size; q++) uphill += (at[q] - next[q]) * (next[q] - p[q]);
      const following = uphill > 0 ? 1 : (1 + Math.sqrt(1 + 4 * momentum * momentum)) / 2;
      const carry = uphill > 0 ? 0 : (momentum - 1) / following;
      let change = 0;
      let largest = 0;
      for (let q = 0; q < size; q++) {
        change = Math.max(change, Math.abs(next[q] - p[q]));
        largest = Math.max(largest, Math.abs(next[q]));
        at[q] = next[q] + carry * (next[q] - p[q]);
      }
      p.set(next);
      momentum = following;
      step *= 2;
      if (change <= tolerance * Math.max(1, largest)) break;
    }
    const nonZeros = Array.from({ length: classes }, (_, y) => p.subarray(y * cols, (y + 1) * cols).reduce((c, v) => c + (v !== 0 ? 1 : 0), 0));
    const point = { lambda, weight: Float64Array.from(p.subarray(0, n)), bias: Float64Array.from(p.subarray(n)), nonZeros };
    path.push(point);
    if (stop?.(point)) break;
  }
  return path;
}

/**
 * The path on (at most maxRows of) the training features, followed until every class has at least kMax non-zero
 * weights: 50 lambdas, each solved to a relative change of 1e-3 or 100 iterations (the support, not the last digit,
 * is what it is for: solving each to 1e-4 took 2.6 times as long and moved the refitted A_d at k = 10 by 0.09 points).
 */
export function sparsePath(features: FeatureMatrix, labels: Labels, classes: number, kMax: number, opts: ElasticNetOptions = {}): PathPoint[] {
  validateK("k", kMax, features.cols);
  const stride = Math.ceil(features.rows / (opts.maxRows ?? 5_000));
  const rows = Array.from({ length: Math.ceil(features.rows / stride) }, (_, i) => i * stride);
  const m = features.cols;
  const sample = stride === 1 ? features : { data: Float32Array.from(rows.flatMap((r) => Array.from(features.data.subarray(r * m, (r + 1) * m)))), rows: rows.length, cols: m };
  const sampleLabels = stride === 1 ? labels : Int32Array.from(rows, (r) => labels[r]);
  return elasticNetPath(sample, sampleLabels, classes, { points: 50, tolerance: 1e-3, iterations: 100, ...opts }, (p) => p.nonZeros.every((c) => c >= kMax));
}

/**
 * Each class's k features from a path: at the last point where no class uses more than k, each class's non-zero
 * weights ranked by size (on standardised features, so sizes compare), then, where a class has fewer than k there,
 * the next to enter its support further down the path. Fails naming the class when the path never gives one k.
 */
export function setsFromPath(path: readonly PathPoint[], features: number, k: number, ratio = 1e-3): IndexSets {
  const classes = path[0].nonZeros.length;
  let at = 0;
  for (let p = 0; p < path.length; p++) if (path[p].nonZeros.every((c) => c <= k)) at = p;
  return Array.from({ length: classes }, (_, y) => {
    const chosen: number[] = [];
    for (let p = at; p < path.length && chosen.length < k; p++) {
      const row = path[p].weight.subarray(y * features, (y + 1) * features);
      const order = Array.from({ length: features }, (_, j) => j).filter((j) => row[j] !== 0 && !chosen.includes(j)).sort((a, b) => Math.abs(row[b]) - Math.abs(row[a]) || a - b);
      chosen.push(...order.slice(0, k - chosen.length));
    }
    if (chosen.length < k) {
      throw new Error(`sparse-refit: the elastic-net path gives class ${y} only ${chosen.length} features down to ${ratio} x lambda_max; use a smaller k, or a longer path (a smaller ratio)`);
    }
    return chosen;
  });
}

/** sparsePath then setsFromPath at one k. */
export function sparsePathSets(features: FeatureMatrix, labels: Labels, classes: number, k: number, opts: ElasticNetOptions = {}): IndexSets {
  return setsFromPath(sparsePath(features, labels, classes, k, opts), features.cols, k, opts.ratio ?? 1e-3);
}
