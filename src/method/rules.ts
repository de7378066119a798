/**
 * Ways to choose k features per class, at the same budget as Algorithm 1, to put its sets S_y in context: a floor
 * (random), what the features alone say (mean activation), what the final layer alone says (weight, |weight|),
 * both together (contribution: W[c, j] E[f_j | c], which for a linear head and a zero baseline is also gradient x
 * activation, first-order Taylor, integrated gradients and the Shapley value of the logit), against the other
 * classes (centred contribution, margin), through the loss (Taylor of the cross-entropy, Molchanov et al. 2017),
 * by search (greedy forward selection on held-out images), without class specificity (one shared set), from
 * CSG's gates, and from an elastic-net path that chooses features and weights together (sparse-refit, the upper
 * reference: src/method/sparse.ts). Pure functions over typed arrays; every rule returns k distinct indices per class.
 *
 * Score-based rules rank features per class by their score, largest first, equal scores to the lower index.
 */
import { deriveSeed, mulberry32 } from "../data/prng";
import { influentialSets } from "./influential";
import { sparsePathSets } from "./sparse";
import type { FeatureMatrix, IndexSets, Labels, LinearLayer } from "./types";
import { validateClassesPresent, validateFeatures, validateK, validateLabels, validateLayer } from "./validate";

export const SELECTION_RULES = [
  "algorithm1", "random", "mean-activation", "weight", "abs-weight", "contribution", "contribution-centred", "margin", "taylor-loss", "greedy", "shared", "csg", "sparse-refit",
] as const;
export type SelectionRule = (typeof SELECTION_RULES)[number];

export interface RuleData {
  /** Training features (non-negative for Algorithm 1's reading, any sign for the others). */
  features: FeatureMatrix;
  labels: Labels;
  layer: LinearLayer;
}

export interface RuleOptions {
  k: number;
  /** algorithm1: features each image nominates (default k). */
  k1?: number;
  /** random: the draw; greedy: the held-out split. */
  seed?: number;
  /** csg: the trained gate matrix G, classes x features. */
  gates?: Float32Array;
  /** greedy: share of each class's training images held out to score candidates (default 0.2). */
  holdout?: number;
}

/** The rule's name, checked; an unknown one fails listing the known ones. */
export function checkRule(rule: string): SelectionRule {
  if (!(SELECTION_RULES as readonly string[]).includes(rule)) throw new Error(`unknown selection rule '${rule}'; known rules: ${SELECTION_RULES.join(", ")}`);
  return rule as SelectionRule;
}

function validate(data: RuleData, opts: RuleOptions): void {
  validateFeatures(data.features);
  validateLayer(data.layer, data.features.cols);
  validateLabels(data.labels, data.features.rows, data.layer.classes);
  validateK("k", opts.k, data.features.cols);
  validateClassesPresent(data.labels, data.layer.classes);
}

/** E[f_j | y = c] for every class (classes x features) and E[f_j] over all images. */
export function classMeans(features: FeatureMatrix, labels: Labels, classes: number): { perClass: Float64Array; overall: Float64Array } {
  const { data, rows, cols } = features;
  const perClass = new Float64Array(classes * cols);
  const overall = new Float64Array(cols);
  const counts = new Float64Array(classes);
  for (let i = 0; i < rows; i++) {
    const y = labels[i];
    counts[y]++;
    for (let j = 0; j < cols; j++) {
      perClass[y * cols + j] += data[i * cols + j];
      overall[j] += data[i * cols + j];
    }
  }
  for (let y = 0; y < classes; y++) for (let j = 0; j < cols; j++) perClass[y * cols + j] /= counts[y];
  for (let j = 0; j < cols; j++) overall[j] /= rows;
  return { perClass, overall };
}

/** Each class's k highest-scoring features (classes x features scores), largest first, ties to the lower index. */
export function topKPerClass(scores: ArrayLike<number>, classes: number, features: number, k: number): IndexSets {
  return Array.from({ length: classes }, (_, y) => {
    const order = Array.from({ length: features }, (_, j) => j);
    order.sort((a, b) => scores[y * features + b] - scores[y * features + a] || a - b);
    return order.slice(0, k);
  });
}

/** Full-layer logits of every image (float64), for the rules that look at the network's decisions. */
function logitsOf(data: RuleData): Float64Array {
  const { features, layer } = data;
  const { rows, cols } = features;
  const out = new Float64Array(rows * layer.classes);
  for (let i = 0; i < rows; i++) {
    for (let y = 0; y < layer.classes; y++) {
      let s = layer.bias[y];
      for (let j = 0; j < cols; j++) s += layer.weight[y * cols + j] * features.data[i * cols + j];
      out[i * layer.classes + y] = s;
    }
  }
  return out;
}

/** The per-class score of a score-based rule, classes x features. */
export function ruleScores(rule: Exclude<SelectionRule, "algorithm1" | "random" | "greedy" | "sparse-refit">, data: RuleData, opts: Pick<RuleOptions, "gates"> = {}): Float64Array {
  const { features, labels, layer } = data;
  const { classes } = layer;
  const m = features.cols;
  const W = layer.weight;
  const scores = new Float64Array(classes * m);
  const { perClass, overall } = classMeans(features, labels, classes);
  switch (rule) {
    case "mean-activation":
      scores.set(perClass);
      break;
    case "weight":
      scores.set(W);
      break;
    case "abs-weight":
      for (let i = 0; i < scores.length; i++) scores[i] = Math.abs(W[i]);
      break;
    case "contribution":
      for (let i = 0; i < scores.length; i++) scores[i] = W[i] * perClass[i];
      break;
    case "contribution-centred":
      for (let y = 0; y < classes; y++) for (let j = 0; j < m; j++) scores[y * m + j] = W[y * m + j] * (perClass[y * m + j] - overall[j]);
      break;
    case "margin":
    case "taylor-loss": {
      const logits = logitsOf(data);
      const counts = new Float64Array(classes);
      const p = new Float64Array(classes);
      for (let i = 0; i < features.rows; i++) {
        const c = labels[i];
        counts[c]++;
        const row = logits.subarray(i * classes, (i + 1) * classes);
        const f = features.data.subarray(i * m, (i + 1) * m);
        if (rule === "margin") {
          // r(x): the strongest class other than the true one.
          let r = c === 0 ? 1 : 0;
          for (let y = 0; y < classes; y++) if (y !== c && row[y] > row[r]) r = y;
          for (let j = 0; j < m; j++) scores[c * m + j] += (W[c * m + j] - W[r * m + j]) * f[j];
        } else {
          // dL/df_j = sum_y (p_y - [y = c]) W[y, j] for the cross-entropy of softmax(logits).
          let top = -Infinity;
          for (let y = 0; y < classes; y++) top = Math.max(top, row[y]);
          let z = 0;
          for (let y = 0; y < classes; y++) z += (p[y] = Math.exp(row[y] - top));
          for (let y = 0; y < classes; y++) p[y] = p[y] / z - (y === c ? 1 : 0);
          for (let j = 0; j < m; j++) {
            let g = 0;
            for (let y = 0; y < classes; y++) g += p[y] * W[y * m + j];
            scores[c * m + j] += f[j] * g;
          }
        }
      }
      for (let y = 0; y < classes; y++) for (let j = 0; j < m; j++) scores[y * m + j] /= counts[y];
      if (rule === "taylor-loss") for (let i = 0; i < scores.length; i++) scores[i] = Math.abs(scores[i]);
      break;
    }
    case "shared": {
      // One score per feature, the same for every class: sum_c |W[c, j]| E[f_j].
      for (let j = 0; j < m; j++) {
        let s = 0;
        for (let y = 0; y < classes; y++) s += Math.abs(W[y * m + j]);
        for (let y = 0; y < classes; y++) scores[y * m + j] = s * overall[j];
      }
      break;
    }
    case "csg": {
      if (opts.gates === undefined) throw new Error("the csg rule needs a trained gate matrix: run decomp csg (or notebook 01) and pass its gates");
      if (opts.gates.length !== classes * m) throw new Error(`the gate matrix has ${opts.gates.length} values, the layer needs ${classes} x ${m}`);
      scores.set(opts.gates);
      break;
    }
  }
  return scores;
}

/** k distinct features per class drawn uniformly, class c from its own stream of the seed. */
export function randomSets(classes: number, features: number, k: number, seed: number): IndexSets {
  return Array.from({ length: classes }, (_, y) => {
    const rng = mulberry32(deriveSeed(seed, y));
    const order = Array.from({ length: features }, (_, j) => j);
    for (let i = features - 1; i > 0; i--) {
      const r = Math.floor(rng() * (i + 1));
      [order[i], order[r]] = [order[r], order[i]];
    }
    return order.slice(0, k);
  });
}

/**
 * Forward selection: k rounds, and in each round the classes in order 0, 1, ... each add the one feature that most
 * raises the decomposed layer's accuracy on held-out training images (every class's current set in place; equal
 * accuracies go to the higher mean log-likelihood, then the lower index). The held-out images are a seeded
 * `holdout` share of each class.
 */
export function greedySets(data: RuleData, k: number, seed = 0, holdout = 0.2): IndexSets {
  const { features, labels, layer } = data;
  const { classes } = layer;
  const m = features.cols;
  if (!(holdout > 0 && holdout < 1)) throw new Error(`the held-out share must lie in (0, 1), got ${holdout}`);
  // The held-out rows: a seeded share of each class.
  const byClass: number[][] = Array.from({ length: classes }, () => []);
  for (let i = 0; i < features.rows; i++) byClass[labels[i]].push(i);
  const rows: number[] = [];
  byClass.forEach((members, y) => {
    const rng = mulberry32(deriveSeed(seed, y));
    const shuffled = [...members];
    for (let i = shuffled.length - 1; i > 0; i--) {
      const r = Math.floor(rng() * (i + 1));
      [shuffled[i], shuffled[r]] = [shuffled[r], shuffled[i]];
    }
    rows.push(...shuffled.slice(0, Math.max(1, Math.round(holdout * shuffled.length))));
  });
  const n = rows.length;
  const f = (i: number, j: number) => features.data[rows[i] * m + j];
  const logits = new Float64Array(n * classes);
  for (let i = 0; i < n; i++) for (let y = 0; y < classes; y++) logits[i * classes + y] = layer.bias[y];
  const sets: number[][] = Array.from({ length: classes }, () => []);
  const candidate = new Float64Array(n);
  for (let round = 0; round < k; round++) {
    for (let c = 0; c < classes; c++) {
      let best = -1;
      let bestCorrect = -1;
      let bestLikelihood = -Infinity;
      for (let j = 0; j < m; j++) {
        if (sets[c].includes(j)) continue;
        let correct = 0;
        for (let i = 0; i < n; i++) {
          candidate[i] = logits[i * classes + c] + layer.weight[c * m + j] * f(i, j);
          let arg = 0;
          let top = -Infinity;
          for (let y = 0; y < classes; y++) {
            const v = y === c ? candidate[i] : logits[i * classes + y];
            if (v > top) {
              top = v;
              arg = y;
            }
          }
          if (arg === labels[rows[i]]) correct++;
        }
        if (correct < bestCorrect) continue;
        // The log-likelihood decides between equal accuracies, so every candidate that may be the best needs it.
        let likelihood = 0;
        for (let i = 0; i < n; i++) {
          let top = -Infinity;
          for (let y = 0; y < classes; y++) top = Math.max(top, y === c ? candidate[i] : logits[i * classes + y]);
          let z = 0;
          for (let y = 0; y < classes; y++) z += Math.exp((y === c ? candidate[i] : logits[i * classes + y]) - top);
          const label = labels[rows[i]];
          likelihood += (label === c ? candidate[i] : logits[i * classes + label]) - top - Math.log(z);
        }
        if (correct === bestCorrect && likelihood <= bestLikelihood) continue;
        best = j;
        bestCorrect = correct;
        bestLikelihood = likelihood;
      }
      sets[c].push(best);
      for (let i = 0; i < n; i++) logits[i * classes + c] += layer.weight[c * m + best] * f(i, best);
    }
  }
  return sets;
}

/** The sets of a rule at budget k per class. */
export function selectByRule(rule: SelectionRule, data: RuleData, opts: RuleOptions): IndexSets {
  validate(data, opts);
  const { classes } = data.layer;
  const m = data.features.cols;
  if (rule === "algorithm1") {
    const k1 = opts.k1 ?? opts.k;
    validateK("k1", k1, m);
    return influentialSets(data.features, data.labels, { classes, k1, k2: opts.k }).sets;
  }
  if (rule === "random") return randomSets(classes, m, opts.k, opts.seed ?? 0);
  if (rule === "greedy") return greedySets(data, opts.k, opts.seed ?? 0, opts.holdout ?? 0.2);
  if (rule === "sparse-refit") return sparsePathSets(data.features, data.labels, classes, opts.k);
  return topKPerClass(ruleScores(rule, data, opts), classes, m, opts.k);
}
