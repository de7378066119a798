/**
 * Mutual information between a continuous and a discrete variable by the k-nearest-neighbour estimator of
 * Ross (2014), as scikit-learn's mutual_info_classif computes it for one feature (its _compute_mi_cd), and the
 * CSG paper's metrics built on it: MIS (mean over channels of the best class's MI) and the L1 density of a
 * gate matrix. Pure functions; one-dimensional neighbour search by sorting.
 */
import { normalSampler } from "./random";
import type { FeatureMatrix, Labels } from "./types";

const EULER_GAMMA = 0.5772156649015329;
const harmonic: number[] = [0];

/** digamma(n) for a positive integer n: -gamma + 1 + 1/2 + ... + 1/(n - 1). */
export function digammaInt(n: number): number {
  if (!Number.isInteger(n) || n < 1) throw new Error(`digammaInt needs a positive integer, got ${n}`);
  for (let j = harmonic.length; j < n; j++) harmonic.push(harmonic[j - 1] + 1 / j);
  return harmonic[n - 1] - EULER_GAMMA;
}

/** The largest double below a positive x (x itself at 0): the radius that leaves the k-th neighbour out. */
function below(x: number): number {
  if (x <= 0) return 0;
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  view.setBigUint64(0, view.getBigUint64(0) - 1n);
  return view.getFloat64(0);
}

/** Index of the first element of sorted `a` that is >= x. */
function lowerBound(a: Float64Array, x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Distance from v to its k-th nearest other value in `sorted`, which holds v itself once or more. */
function sortedKth(sorted: Float64Array, v: number, k: number): number {
  // Walk outwards from one copy of v, skipping that copy.
  const at = lowerBound(sorted, v);
  let left = at - 1;
  let right = at + 1;
  let kth = 0;
  for (let step = 0; step < k; step++) {
    const dl = left >= 0 ? v - sorted[left] : Infinity;
    const dr = right < sorted.length ? sorted[right] - v : Infinity;
    if (dl <= dr) {
      kth = dl;
      left--;
    } else {
      kth = dr;
      right++;
    }
  }
  return kth;
}

/** The same by brute force with scikit-learn's |x|^2 - 2 x y + |y|^2 distances (query first). */
function bruteKth(c: ArrayLike<number>, members: number[], i: number, k: number): number {
  const v = c[i];
  const dist = members.filter((j) => j !== i).map((j) => Math.sqrt(Math.max(0, v * v - 2 * v * c[j] + c[j] * c[j])));
  return dist.sort((x, y) => x - y)[k - 1];
}

/**
 * MI (nats) between samples `c` of a continuous variable and labels `d`, with `neighbours` neighbours (3 in
 * scikit-learn). Per point: the distance to its k-th nearest point of the same label (k = min(neighbours,
 * label count - 1)), then m = how many points of any label lie strictly closer than that; labels seen once are
 * left out. MI = psi(N) + <psi(k)> - <psi(N_label)> - <psi(m)>, clipped at 0 like scikit-learn.
 */
export function mutualInfoContinuousDiscrete(c: ArrayLike<number>, d: ArrayLike<number>, neighbours = 3): number {
  if (c.length !== d.length) throw new Error(`${c.length} values but ${d.length} labels; give one label per value`);
  if (!Number.isInteger(neighbours) || neighbours < 1) throw new Error(`the number of neighbours must be a positive integer, got ${neighbours}`);
  const groups = new Map<number, number[]>();
  for (let i = 0; i < d.length; i++) {
    const g = groups.get(d[i]);
    if (g) g.push(i);
    else groups.set(d[i], [i]);
  }
  const kept: number[] = [];
  const radius = new Map<number, number>();
  let sumK = 0;
  let sumLabel = 0;
  for (const members of groups.values()) {
    const count = members.length;
    if (count < 2) continue;
    const k = Math.min(neighbours, count - 1);
    // scikit-learn searches a group this small by brute force, whose distances come from |x|^2 - 2 x y + |y|^2
    // and differ from |x - y| in the last bit; matching them keeps the radius, and so the counts, identical.
    const brute = k >= Math.floor(count / 2);
    const sorted = brute ? null : Float64Array.from(members, (i) => c[i]).sort();
    for (const i of members) {
      radius.set(i, below(sorted === null ? bruteKth(c, members, i, k) : sortedKth(sorted, c[i], k)));
      kept.push(i);
      sumK += digammaInt(k);
      sumLabel += digammaInt(count);
    }
  }
  const n = kept.length;
  if (n === 0) return 0;
  const all = Float64Array.from(kept, (i) => c[i]).sort();
  let sumM = 0;
  for (const i of kept) {
    const v = c[i];
    const r = radius.get(i)!;
    // Bounds found by value, then moved so that exactly the points with |x - v| <= r are counted.
    let lo = lowerBound(all, v - r);
    while (lo > 0 && Math.abs(all[lo - 1] - v) <= r) lo--;
    while (lo < n && Math.abs(all[lo] - v) > r) lo++;
    let hi = lowerBound(all, v + r);
    while (hi < n && Math.abs(all[hi] - v) <= r) hi++;
    while (hi > lo && Math.abs(all[hi - 1] - v) > r) hi--;
    sumM += digammaInt(hi - lo);
  }
  const mi = digammaInt(n) + sumK / n - sumLabel / n - sumM / n;
  return Math.max(0, mi);
}

export interface ChannelMutualInfoOptions {
  /** Neighbours of the estimator (scikit-learn's default 3). */
  neighbours?: number;
  /**
   * Seed of the tie-breaking jitter, or null for none. mutual_info_classif scales each feature to unit
   * standard deviation and adds N(0, 1) noise of 1e-10 times its mean magnitude, so the many exact zeros of
   * ReLU features stop being ties; the estimate then depends on the draw only in the sixth decimal of MIS.
   * Default 0: MIS as scikit-learn (and so the CSG code) reports it.
   */
  jitterSeed?: number | null;
}

/** One feature column as mutual_info_classif prepares it: unit standard deviation, then the tiny jitter. */
function jittered(column: Float64Array, noise: () => number): void {
  const n = column.length;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += column[i];
  mean /= n;
  let variance = 0;
  for (let i = 0; i < n; i++) variance += (column[i] - mean) ** 2;
  const std = Math.sqrt(variance / n);
  if (std > 0) for (let i = 0; i < n; i++) column[i] /= std;
  let magnitude = 0;
  for (let i = 0; i < n; i++) magnitude += Math.abs(column[i]);
  const scale = 1e-10 * Math.max(1, magnitude / n);
  for (let i = 0; i < n; i++) column[i] += scale * noise();
}

/** Per channel and class: MI between the channel's values and the indicator "label = class"; classes x channels. */
export function channelClassMutualInfo(features: FeatureMatrix, labels: Labels, classes: number, options: ChannelMutualInfoOptions = {}): Float64Array {
  const { data, rows, cols } = features;
  const neighbours = options.neighbours ?? 3;
  const seed = options.jitterSeed === undefined ? 0 : options.jitterSeed;
  if (labels.length !== rows) throw new Error(`${rows} feature rows but ${labels.length} labels`);
  const noise = seed === null ? null : normalSampler(seed);
  const out = new Float64Array(classes * cols);
  const column = new Float64Array(rows);
  const indicator = new Uint8Array(rows);
  for (let j = 0; j < cols; j++) {
    for (let i = 0; i < rows; i++) column[i] = data[i * cols + j];
    if (noise !== null) jittered(column, noise);
    for (let y = 0; y < classes; y++) {
      for (let i = 0; i < rows; i++) indicator[i] = labels[i] === y ? 1 : 0;
      out[y * cols + j] = mutualInfoContinuousDiscrete(column, indicator, neighbours);
    }
  }
  return out;
}

/** The mutual information score of Liang et al.: mean over channels of the largest MI over classes. */
export function mutualInformationScore(mi: Float64Array, classes: number, channels: number): number {
  if (mi.length !== classes * channels) throw new Error(`an MI matrix of ${classes} x ${channels} has ${classes * channels} values, got ${mi.length}`);
  let sum = 0;
  for (let j = 0; j < channels; j++) {
    let best = 0;
    for (let y = 0; y < classes; y++) best = Math.max(best, mi[y * channels + j]);
    sum += best;
  }
  return sum / channels;
}

/** L1 density of a gate matrix with entries in [0, 1]: ||G||_1 / (classes x channels). */
export function l1Density(gates: ArrayLike<number>): number {
  if (gates.length === 0) throw new Error("an empty gate matrix has no density");
  let s = 0;
  for (let i = 0; i < gates.length; i++) s += Math.abs(gates[i]);
  return s / gates.length;
}
