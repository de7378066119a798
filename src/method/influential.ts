/**
 * Algorithm 1 (influential features per class).
 *
 * Step 1, per instance: choose a prefix of its features ranked by value (largest first). Either a fixed
 * length k1, or the shortest prefix covering p% of the instance's l1 mass (the paper's alternative rule).
 * Step 2, per class: histogram the chosen indices over the class's instances.
 * Step 3: the k2 most frequent indices form S_y.
 *
 * Tie rules (deterministic):
 * - within an instance, equal values rank the lower feature index first;
 * - in a histogram, equal counts rank the lower feature index first;
 * - when k2 exceeds the number of indices with a non-zero count, S_y is filled with never-selected
 *   indices in ascending index order (the same rule: all have count 0). `zeroCountFilled` says how many.
 *
 * Ranking a row is the only per-row sort; `rankFeatures` does it once so a whole (k1, k2) grid reuses it.
 */
import { FeatureMatrix, IndexSets, Labels } from "./types";
import {
  validateClassesPresent,
  validateCoverage,
  validateFeatures,
  validateK,
  validateLabels,
  validateNonNegative,
} from "./validate";

/** Per row, feature indices in rank order: order[i * depth + r] is row i's feature of rank r (0 = largest). */
export interface FeatureRanking {
  order: Uint8Array | Uint16Array;
  rows: number;
  cols: number;
  /** How many leading ranks are stored per row (cols for a full ranking). */
  depth: number;
}

/** Per-class histograms of the indices chosen in step 1. */
export interface ClassHistograms {
  /** classes x cols; counts[y * cols + j] = instances of class y that chose feature j. */
  counts: Int32Array;
  classSizes: Int32Array;
  /** Total chosen (instance, index) pairs per class: k1 * class size under the fixed-k1 rule. */
  selections: Float64Array;
  classes: number;
  cols: number;
}

export interface ClassInfluence {
  /** S_y in rank order (most frequent first). */
  indices: number[];
  /** Full histogram over all cols features. */
  counts: Int32Array;
  /** counts / selections in the class, i.e. count / (k1 * class size) for the fixed-k1 rule. */
  frequencies: Float64Array;
  classSize: number;
  /** How many entries at the end of `indices` were never chosen by any instance (count 0). */
  zeroCountFilled: number;
}

export interface InfluentialSets {
  k2: number;
  perClass: ClassInfluence[];
  /** The S_y lists alone, ready for the decomposed layer or an index map. */
  sets: IndexSets;
}

/**
 * Rank each row's features by value, keeping the top `depth` (partial selection: a row costs one
 * comparison per feature plus the insertions that actually enter the top-depth buffer).
 */
export function rankFeatures(features: FeatureMatrix, depth: number = features.cols): FeatureRanking {
  validateFeatures(features);
  const { data, rows, cols } = features;
  validateK("ranking depth", depth, cols);
  const order = cols <= 256 ? new Uint8Array(rows * depth) : new Uint16Array(rows * depth);
  const top = new Float32Array(depth);
  for (let i = 0; i < rows; i++) {
    const base = i * cols;
    const out = i * depth;
    let filled = 0;
    for (let j = 0; j < cols; j++) {
      const v = data[base + j];
      let pos: number;
      if (filled < depth) {
        pos = filled++;
      } else {
        // Strict comparison: an equal later value never displaces an earlier (lower) index.
        if (!(v > top[depth - 1])) continue;
        pos = depth - 1;
      }
      while (pos > 0 && top[pos - 1] < v) {
        top[pos] = top[pos - 1];
        order[out + pos] = order[out + pos - 1];
        pos--;
      }
      top[pos] = v;
      order[out + pos] = j;
    }
  }
  return { order, rows, cols, depth };
}

/**
 * Per row, the shortest rank-order prefix whose sum reaches p% of the row's l1 mass
 * (sum >= total * p / 100, in float64). An all-zero row chooses nothing.
 */
export function coverageLengths(features: FeatureMatrix, ranking: FeatureRanking, p = 90): Uint16Array {
  validateFeatures(features);
  validateCoverage(p);
  validateNonNegative(features, "the coverage rule");
  const { data, rows, cols } = features;
  if (ranking.rows !== rows || ranking.cols !== cols || ranking.depth !== cols) {
    throw new Error(
      `the coverage rule needs a full ranking of these features (rows ${rows}, depth ${cols}); ` +
        `got rows ${ranking.rows}, depth ${ranking.depth}: call rankFeatures(features) without a depth`,
    );
  }
  const { order } = ranking;
  const lengths = new Uint16Array(rows);
  for (let i = 0; i < rows; i++) {
    const base = i * cols;
    // Summing in rank order makes the p = 100 cumulative sum hit the total exactly.
    let total = 0;
    for (let r = 0; r < cols; r++) total += data[base + order[base + r]];
    if (total === 0) continue;
    const target = (total * p) / 100;
    let sum = 0;
    let r = 0;
    while (sum < target && r < cols) sum += data[base + order[base + r++]];
    lengths[i] = r;
  }
  return lengths;
}

/**
 * Histogram step: row i of class y contributes its first `lengths` ranked indices (a number for the
 * fixed-k1 rule, or one length per row, e.g. from `coverageLengths`).
 */
export function classHistograms(
  ranking: FeatureRanking,
  labels: Labels,
  classes: number,
  lengths: number | Uint16Array,
): ClassHistograms {
  const { order, rows, cols, depth } = ranking;
  validateLabels(labels, rows, classes);
  if (typeof lengths === "number") {
    validateK("k1", lengths, cols);
    if (lengths > depth) {
      throw new Error(`k1 = ${lengths} exceeds the ranking depth ${depth}; rank with depth >= ${lengths}`);
    }
  } else if (lengths.length !== rows) {
    throw new Error(`got ${lengths.length} per-row lengths for ${rows} rows; give one per row`);
  }
  const counts = new Int32Array(classes * cols);
  const classSizes = new Int32Array(classes);
  const selections = new Float64Array(classes);
  for (let i = 0; i < rows; i++) {
    const y = labels[i];
    const k = typeof lengths === "number" ? lengths : lengths[i];
    if (k > depth) throw new Error(`row ${i} asks for ${k} features but the ranking depth is ${depth}`);
    const start = i * depth;
    const hist = y * cols;
    for (let r = 0; r < k; r++) counts[hist + order[start + r]]++;
    classSizes[y]++;
    selections[y] += k;
  }
  return { counts, classSizes, selections, classes, cols };
}

/** Every index of one class's histogram, most frequent first (equal counts: lower index first). */
export function rankByCount(classCounts: ArrayLike<number>): number[] {
  const ranked = Array.from({ length: classCounts.length }, (_, j) => j);
  return ranked.sort((a, b) => classCounts[b] - classCounts[a] || a - b);
}

/** Step 3: the k2 most frequent indices per class (ties and zero-count fill as in the module doc). */
export function selectInfluential(histograms: ClassHistograms, k2: number): InfluentialSets {
  const { counts, classSizes, selections, classes, cols } = histograms;
  validateK("k2", k2, cols);
  const perClass: ClassInfluence[] = [];
  for (let y = 0; y < classes; y++) {
    const classCounts = counts.slice(y * cols, (y + 1) * cols);
    const indices = rankByCount(classCounts).slice(0, k2);
    let zeroCountFilled = 0;
    for (const j of indices) if (classCounts[j] === 0) zeroCountFilled++;
    const frequencies = new Float64Array(cols);
    if (selections[y] > 0) for (let j = 0; j < cols; j++) frequencies[j] = classCounts[j] / selections[y];
    perClass.push({ indices, counts: classCounts, frequencies, classSize: classSizes[y], zeroCountFilled });
  }
  return { k2, perClass, sets: perClass.map((c) => c.indices) };
}

export interface InfluentialParams {
  classes: number;
  k1: number;
  k2: number;
}

/** Algorithm 1 from a precomputed ranking (reuse one ranking across a k1 grid). */
export function influentialFromRanks(ranking: FeatureRanking, labels: Labels, params: InfluentialParams): InfluentialSets {
  const { classes, k1, k2 } = params;
  validateK("k2", k2, ranking.cols);
  const histograms = classHistograms(ranking, labels, classes, k1);
  validateClassesPresent(labels, classes);
  return selectInfluential(histograms, k2);
}

/** Algorithm 1 on raw features with the fixed-k1 rule; ranks only k1 deep. */
export function influentialSets(features: FeatureMatrix, labels: Labels, params: InfluentialParams): InfluentialSets {
  validateK("k1", params.k1, features.cols);
  validateK("k2", params.k2, features.cols);
  return influentialFromRanks(rankFeatures(features, params.k1), labels, params);
}

export interface CoverageParams {
  classes: number;
  k2: number;
  /** Percentage of each instance's l1 mass to cover, in (0, 100]; default 90. */
  p?: number;
}

/** Algorithm 1 with the coverage rule for step 1; pass `ranking` to reuse a full ranking. */
export function influentialByCoverage(
  features: FeatureMatrix,
  labels: Labels,
  params: CoverageParams,
  ranking: FeatureRanking = rankFeatures(features),
): InfluentialSets {
  const { classes, k2, p = 90 } = params;
  validateK("k2", k2, features.cols);
  const histograms = classHistograms(ranking, labels, classes, coverageLengths(features, ranking, p));
  validateClassesPresent(labels, classes);
  return selectInfluential(histograms, k2);
}

export interface GridCell {
  k1: number;
  k2: number;
  result: InfluentialSets;
}

/** Every (k1, k2) pair: one ranking (depth max k1), one histogram per k1, one selection per pair. */
export function influentialGrid(
  features: FeatureMatrix,
  labels: Labels,
  classes: number,
  k1s: readonly number[],
  k2s: readonly number[],
): GridCell[] {
  if (k1s.length === 0 || k2s.length === 0) throw new Error("the k1 and k2 grids must each have at least one value");
  for (const k1 of k1s) validateK("k1", k1, features.cols);
  for (const k2 of k2s) validateK("k2", k2, features.cols);
  const ranking = rankFeatures(features, Math.max(...k1s));
  validateLabels(labels, features.rows, classes);
  validateClassesPresent(labels, classes);
  const cells: GridCell[] = [];
  for (const k1 of k1s) {
    const histograms = classHistograms(ranking, labels, classes, k1);
    for (const k2 of k2s) cells.push({ k1, k2, result: selectInfluential(histograms, k2) });
  }
  return cells;
}
