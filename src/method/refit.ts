/**
 * The refit scoring of a sparsity pattern: class c's logit reads only its set S_c, and those weights and the
 * biases are fitted anew by multinomial logistic regression on the training features (mean cross-entropy plus
 * l2 / 2 times the squared weights, convex), with full-batch L-BFGS. Against the keep scoring (the pretrained
 * weights on S_c) it separates "are these the right features" from "are the pretrained weights right for them".
 */
import type { FeatureMatrix, IndexSets, Labels, LinearLayer } from "./types";
import { validateFeatures, validateIndexSets, validateLabels, validateLayer } from "./validate";

export interface RefitOptions {
  /** Weight of the squared-weight penalty (default 1e-4); the biases are not penalised. */
  l2?: number;
  /** L-BFGS iterations at most (default 300). */
  iterations?: number;
  /** Stop when the gradient's largest entry falls below this (default 1e-5). */
  tolerance?: number;
}

export interface RefitResult {
  /** The refitted layer: weight zero outside every S_c. */
  layer: LinearLayer;
  /** Objective (mean cross-entropy + penalty) at the end, and iterations taken. */
  loss: number;
  iterations: number;
}

/**
 * Mean cross-entropy of a linear layer that reads, for class y, only the features in sets[y], plus l2 / 2 |w|^2,
 * and its gradient. The parameters are packed as each class's set weights in turn (class y's from offsets[y]),
 * then the biases (from offsets[classes]); with every set all the features this is the dense layer, row-major.
 */
export function patternObjective(x: Float64Array, grad: Float64Array, features: FeatureMatrix, labels: Labels, sets: ArrayLike<number>[], offsets: number[], classes: number, l2: number): number {
  const { data, rows, cols } = features;
  const biasAt = offsets[classes];
  grad.fill(0);
  const logits = new Float64Array(classes);
  let loss = 0;
  for (let i = 0; i < rows; i++) {
    const f = i * cols;
    let top = -Infinity;
    for (let y = 0; y < classes; y++) {
      let s = x[biasAt + y];
      const set = sets[y];
      for (let r = 0; r < set.length; r++) s += x[offsets[y] + r] * data[f + set[r]];
      logits[y] = s;
      if (s > top) top = s;
    }
    let z = 0;
    for (let y = 0; y < classes; y++) z += Math.exp(logits[y] - top);
    const label = labels[i];
    loss += Math.log(z) + top - logits[label];
    for (let y = 0; y < classes; y++) {
      const g = (Math.exp(logits[y] - top) / z - (y === label ? 1 : 0)) / rows;
      grad[biasAt + y] += g;
      const set = sets[y];
      for (let r = 0; r < set.length; r++) grad[offsets[y] + r] += g * data[f + set[r]];
    }
  }
  loss /= rows;
  for (let p = 0; p < biasAt; p++) {
    loss += (l2 / 2) * x[p] * x[p];
    grad[p] += l2 * x[p];
  }
  return loss;
}

/** Refits the weights on each class's set and the biases, starting from the layer's own (a warm start of a convex problem). */
export function refitSets(features: FeatureMatrix, labels: Labels, layer: LinearLayer, sets: IndexSets, options: RefitOptions = {}): RefitResult {
  validateFeatures(features);
  validateLayer(layer, features.cols);
  validateLabels(labels, features.rows, layer.classes);
  validateIndexSets(sets, layer.classes, features.cols);
  const l2 = options.l2 ?? 1e-4;
  const maxIterations = options.iterations ?? 300;
  const tolerance = options.tolerance ?? 1e-5;
  const { classes } = layer;
  const m = features.cols;
  const ascending = sets.map((s) => Int32Array.from(s).sort());
  const offsets: number[] = [];
  let n = 0;
  for (const s of ascending) {
    offsets.push(n);
    n += s.length;
  }
  offsets.push(n);
  const x = new Float64Array(n + classes);
  ascending.forEach((s, y) => s.forEach((j, r) => (x[offsets[y] + r] = layer.weight[y * m + j])));
  for (let y = 0; y < classes; y++) x[n + y] = layer.bias[y];
  const f = (at: Float64Array, g: Float64Array) => patternObjective(at, g, features, labels, ascending, offsets, classes, l2);
  const { loss, iterations } = lbfgs(x, f, maxIterations, tolerance);
  const weight = new Float32Array(classes * m);
  ascending.forEach((s, y) => s.forEach((j, r) => (weight[y * m + j] = x[offsets[y] + r])));
  return { layer: { weight, bias: Float32Array.from(x.subarray(n)), classes, features: m }, loss, iterations };
}

const dot = (a: Float64Array, b: Float64Array) => a.reduce((s, v, i) => s + v * b[i], 0);

/**
 * Limited-memory BFGS (10 pairs) with a backtracking Armijo line search, minimising f in place from x; f writes
 * its gradient into its second argument and returns the value.
 */
export function lbfgs(x: Float64Array, f: (x: Float64Array, grad: Float64Array) => number, maxIterations: number, tolerance: number, memory = 10): { loss: number; iterations: number } {
  const n = x.length;
  let grad = new Float64Array(n);
  let value = f(x, grad);
  const s: Float64Array[] = [];
  const y: Float64Array[] = [];
  const direction = new Float64Array(n);
  const trial = new Float64Array(n);
  let trialGrad = new Float64Array(n);
  let iteration = 0;
  for (; iteration < maxIterations; iteration++) {
    if (grad.reduce((mx, v) => Math.max(mx, Math.abs(v)), 0) < tolerance) break;
    // Two-loop recursion: direction = -H grad.
    direction.set(grad);
    const alpha: number[] = [];
    for (let i = s.length - 1; i >= 0; i--) {
      const a = dot(s[i], direction) / dot(y[i], s[i]);
      alpha[i] = a;
      for (let p = 0; p < n; p++) direction[p] -= a * y[i][p];
    }
    const gamma = s.length === 0 ? 1 / Math.max(1, Math.sqrt(dot(grad, grad))) : dot(s[s.length - 1], y[y.length - 1]) / dot(y[y.length - 1], y[y.length - 1]);
    for (let p = 0; p < n; p++) direction[p] *= gamma;
    for (let i = 0; i < s.length; i++) {
      const b = dot(y[i], direction) / dot(y[i], s[i]);
      for (let p = 0; p < n; p++) direction[p] += s[i][p] * (alpha[i] - b);
    }
    for (let p = 0; p < n; p++) direction[p] = -direction[p];
    let slope = dot(grad, direction);
    if (slope >= 0) {
      // Not a descent direction (curvature pairs gone stale): restart from the gradient.
      s.length = 0;
      y.length = 0;
      for (let p = 0; p < n; p++) direction[p] = -grad[p];
      slope = dot(grad, direction);
    }
    let step = 1;
    let next = Infinity;
    for (let tries = 0; tries < 40; tries++) {
      for (let p = 0; p < n; p++) trial[p] = x[p] + step * direction[p];
      next = f(trial, trialGrad);
      if (next <= value + 1e-4 * step * slope) break;
      step /= 2;
    }
    if (!(next < value)) break;
    const sk = new Float64Array(n);
    const yk = new Float64Array(n);
    for (let p = 0; p < n; p++) {
      sk[p] = trial[p] - x[p];
      yk[p] = trialGrad[p] - grad[p];
    }
    x.set(trial);
    [grad, trialGrad] = [trialGrad, grad];
    const converged = value - next < 1e-12 * Math.max(1, Math.abs(value));
    value = next;
    if (dot(sk, yk) > 1e-12) {
      s.push(sk);
      y.push(yk);
      if (s.length > memory) {
        s.shift();
        y.shift();
      }
    }
    if (converged) {
      iteration++;
      break;
    }
  }
  return { loss: value, iterations: iteration };
}
