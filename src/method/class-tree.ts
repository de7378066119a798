/**
 * The class tree the influential sets imply: class-by-class similarity (Jaccard of S_y; cosine of the final
 * layer's rows on the union of two classes' sets), average-linkage clustering (UPGMA, SciPy's
 * `linkage(method="average")` numbering), cutting the tree into groups, the adjusted Rand index against a known
 * grouping, and a two-level decomposed layer: first the group from the group's own influential features, then the
 * class within that group from the class's S_y.
 */
import { mulberry32 } from "../data/prng";
import type { FeatureMatrix, IndexSets, LinearLayer } from "./types";

/** Jaccard index |S_a ∩ S_b| / |S_a ∪ S_b| of every pair of classes (classes x classes, 1 on the diagonal). */
export function jaccardMatrix(sets: IndexSets): Float64Array {
  const n = sets.length;
  const out = new Float64Array(n * n);
  const asSets = sets.map((s) => new Set(s));
  for (let a = 0; a < n; a++) {
    for (let b = 0; b < n; b++) {
      const shared = [...asSets[a]].filter((j) => asSets[b].has(j)).length;
      const union = asSets[a].size + asSets[b].size - shared;
      out[a * n + b] = union === 0 ? 1 : shared / union;
    }
  }
  return out;
}

/** Cosine of W[a] and W[b] restricted to S_a ∪ S_b, for every pair of classes (1 on the diagonal). */
export function restrictedCosineMatrix(layer: LinearLayer, sets: IndexSets): Float64Array {
  const n = layer.classes;
  const m = layer.features;
  const out = new Float64Array(n * n);
  for (let a = 0; a < n; a++) {
    for (let b = 0; b < n; b++) {
      let dot = 0;
      let na = 0;
      let nb = 0;
      for (const j of new Set([...sets[a], ...sets[b]])) {
        const wa = layer.weight[a * m + j];
        const wb = layer.weight[b * m + j];
        dot += wa * wb;
        na += wa * wa;
        nb += wb * wb;
      }
      out[a * n + b] = na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb);
    }
  }
  return out;
}

/** One merge of a dendrogram: clusters `left` < `right` (0..n-1 the leaves, n + i the i-th merge), at `height`. */
export interface Merge {
  left: number;
  right: number;
  height: number;
  size: number;
}

/**
 * Average-linkage agglomerative clustering of n items from their symmetric distances (n x n): the closest pair
 * of clusters merges, the distance to the union is the size-weighted mean. Average linkage never decreases the
 * merge height, so merges come out in SciPy's order; of equally close pairs the first in row order merges.
 */
export function averageLinkage(distance: ArrayLike<number>, n: number): Merge[] {
  if (distance.length !== n * n) throw new Error(`averageLinkage needs an ${n} x ${n} distance matrix, got ${distance.length} values`);
  const d = new Float64Array(distance);
  const ids = Array.from({ length: n }, (_, i) => i);
  const sizes = new Array<number>(n).fill(1);
  const active = new Array<boolean>(n).fill(true);
  const merges: Merge[] = [];
  for (let step = 0; step < n - 1; step++) {
    let best = Infinity;
    let pa = -1;
    let pb = -1;
    for (let a = 0; a < n; a++) {
      if (!active[a]) continue;
      for (let b = a + 1; b < n; b++) {
        if (!active[b]) continue;
        if (d[a * n + b] < best) {
          best = d[a * n + b];
          pa = a;
          pb = b;
        }
      }
    }
    const size = sizes[pa] + sizes[pb];
    merges.push({ left: Math.min(ids[pa], ids[pb]), right: Math.max(ids[pa], ids[pb]), height: best, size });
    // Row pa becomes the union; row pb retires.
    for (let c = 0; c < n; c++) {
      if (!active[c] || c === pa || c === pb) continue;
      const v = (sizes[pa] * d[pa * n + c] + sizes[pb] * d[pb * n + c]) / size;
      d[pa * n + c] = v;
      d[c * n + pa] = v;
    }
    active[pb] = false;
    sizes[pa] = size;
    ids[pa] = n + step;
  }
  return merges;
}

/** The tree cut into `groups` clusters (the last groups - 1 merges undone): a group per leaf, numbered in order of first leaf. */
export function cutTree(merges: readonly Merge[], n: number, groups: number): Int32Array {
  if (!Number.isInteger(groups) || groups < 1 || groups > n) throw new Error(`a tree of ${n} leaves cuts into 1 to ${n} groups, not ${groups}`);
  const parent = Array.from({ length: 2 * n - 1 }, (_, i) => i);
  const root = (x: number): number => (parent[x] === x ? x : (parent[x] = root(parent[x])));
  merges.slice(0, n - groups).forEach((m, i) => {
    parent[root(m.left)] = n + i;
    parent[root(m.right)] = n + i;
  });
  const number = new Map<number, number>();
  return Int32Array.from({ length: n }, (_, leaf) => {
    const r = root(leaf);
    if (!number.has(r)) number.set(r, number.size);
    return number.get(r)!;
  });
}

/** Adjusted Rand index (Hubert and Arabie 1985) of two labellings of the same items: 1 when they agree, about 0 by chance. */
export function adjustedRandIndex(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`the labellings cover ${a.length} and ${b.length} items`);
  const n = a.length;
  const pairs = (x: number) => (x * (x - 1)) / 2;
  const table = new Map<string, number>();
  const rows = new Map<number, number>();
  const cols = new Map<number, number>();
  for (let i = 0; i < n; i++) {
    const key = `${a[i]},${b[i]}`;
    table.set(key, (table.get(key) ?? 0) + 1);
    rows.set(a[i], (rows.get(a[i]) ?? 0) + 1);
    cols.set(b[i], (cols.get(b[i]) ?? 0) + 1);
  }
  const index = [...table.values()].reduce((s, v) => s + pairs(v), 0);
  const sumRows = [...rows.values()].reduce((s, v) => s + pairs(v), 0);
  const sumCols = [...cols.values()].reduce((s, v) => s + pairs(v), 0);
  const expected = (sumRows * sumCols) / pairs(n);
  const max = (sumRows + sumCols) / 2;
  // Both labellings a single group (or all singletons): agreement is perfect and the chance correction undefined.
  return max === expected ? 1 : (index - expected) / (max - expected);
}

/**
 * What random trees score: the ARI against `truth` of average-linkage trees over uniform random distances, cut into
 * as many groups as `truth` has, one per seed. The floor a tree from the influential sets must clear.
 */
export function randomTreeRandIndices(truth: ArrayLike<number>, seeds: number, seed = 0): number[] {
  const n = truth.length;
  const groups = new Set(Array.from(truth)).size;
  return Array.from({ length: seeds }, (_, s) => {
    const random = mulberry32(seed + s);
    const d = new Float64Array(n * n);
    for (let a = 0; a < n; a++) for (let b = a + 1; b < n; b++) d[a * n + b] = d[b * n + a] = random();
    return adjustedRandIndex(cutTree(averageLinkage(d, n), n, groups), truth);
  });
}

/** A two-level decomposed layer: a group head on the groups' sets, then each class's own set within its group. */
export interface TwoLevelLayer {
  /** Group of each class. */
  groupOf: Int32Array;
  /** groups x features, zero outside each group's set. */
  groupLayer: LinearLayer;
  groupSets: IndexSets;
  /** The network's final layer and each class's S_y, read within the chosen group. */
  classLayer: LinearLayer;
  classSets: IndexSets;
}

/**
 * Predictions of the two-level layer, and its mean multiply-adds per image: every group's set for the group
 * logits, then the sets of the classes in the winning group only.
 */
export function predictTwoLevel(features: FeatureMatrix, layer: TwoLevelLayer): { predictions: Int32Array; macs: number } {
  const { data, rows, cols } = features;
  const { groupLayer, groupSets, classLayer, classSets, groupOf } = layer;
  const groupMacs = groupSets.reduce((s, g) => s + g.length, 0);
  const members = Array.from({ length: groupLayer.classes }, (_, g) => Array.from(groupOf.keys()).filter((c) => groupOf[c] === g));
  const predictions = new Int32Array(rows);
  let macs = 0;
  for (let i = 0; i < rows; i++) {
    const f = i * cols;
    let bestGroup = 0;
    let top = -Infinity;
    groupSets.forEach((set, g) => {
      let s = groupLayer.bias[g];
      for (const j of set) s += groupLayer.weight[g * cols + j] * data[f + j];
      if (s > top) [top, bestGroup] = [s, g];
    });
    let best = -1;
    let bestLogit = -Infinity;
    for (const c of members[bestGroup]) {
      let s = classLayer.bias[c];
      for (const j of classSets[c]) s += classLayer.weight[c * cols + j] * data[f + j];
      macs += classSets[c].length;
      if (s > bestLogit) [bestLogit, best] = [s, c];
    }
    predictions[i] = best;
  }
  return { predictions, macs: groupMacs + macs / rows };
}
