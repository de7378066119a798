/**
 * How concentrated a class's step-1 histogram is (paper Fig. 2): if a few indices carry most of the mass,
 * a small k2 captures what the instances of that class have in common.
 */
import type { InfluentialSets } from "../method";

export interface Concentration {
  /** Share of the histogram mass on the k2 most frequent indices (the influential set). */
  topShare: number;
  /** Shannon entropy of the normalised histogram, in bits (0 = one index takes everything; log2(m) = uniform). */
  entropyBits: number;
  /** 2^entropy: the number of equally used indices with the same entropy. */
  effectiveIndices: number;
  /** Fewest indices (most frequent first) covering at least half of the mass. */
  cover50: number;
  /** Fewest indices covering at least 90% of the mass. */
  cover90: number;
  /** Indices chosen by at least one instance. */
  nonZero: number;
}

function coverCount(sortedDesc: number[], total: number, share: number): number {
  let sum = 0;
  for (let i = 0; i < sortedDesc.length; i++) {
    sum += sortedDesc[i];
    // A relative tolerance keeps exact shares (e.g. 9 of 10 at 90%) from failing on rounding.
    if (sum >= share * total * (1 - 1e-12)) return i + 1;
  }
  return sortedDesc.length;
}

/** Concentration of one histogram of counts (or frequencies) over feature indices. */
export function histogramConcentration(counts: ArrayLike<number>, k2: number): Concentration {
  const values = Array.from(counts);
  if (values.some((v) => !(v >= 0) || !Number.isFinite(v))) throw new Error("histogram counts must be finite and non-negative");
  if (!Number.isInteger(k2) || k2 < 1 || k2 > values.length) {
    throw new Error(`k2 must be an integer in 1..${values.length}, got ${k2}`);
  }
  const total = values.reduce((a, b) => a + b, 0);
  if (total === 0) throw new Error("the histogram is empty (all counts are 0); no instance of this class chose a feature");
  const sorted = [...values].sort((a, b) => b - a);
  let top = 0;
  for (let i = 0; i < k2; i++) top += sorted[i];
  let entropy = 0;
  for (const v of values) if (v > 0) entropy -= (v / total) * Math.log2(v / total);
  return {
    topShare: top / total,
    entropyBits: entropy,
    effectiveIndices: 2 ** entropy,
    cover50: coverCount(sorted, total, 0.5),
    cover90: coverCount(sorted, total, 0.9),
    nonZero: values.filter((v) => v > 0).length,
  };
}

/** One Concentration per class, from Algorithm 1's output (k2 = the sets' size). */
export function classConcentrations(result: InfluentialSets): Concentration[] {
  return result.perClass.map((c) => histogramConcentration(c.counts, result.k2));
}

export interface HistogramBar {
  classIndex: number;
  className: string;
  feature: number;
  /** 1 = most frequent in this class. */
  rank: number;
  /** count / (number of step-1 selections in the class). */
  frequency: number;
  influential: boolean;
}

/** Fig. 2's bars: every feature of every class, ranked within its class, influential ones flagged. */
export function histogramBars(result: InfluentialSets, classNames: readonly string[]): HistogramBar[] {
  if (classNames.length !== result.perClass.length) {
    throw new Error(`got ${classNames.length} class names for ${result.perClass.length} classes`);
  }
  return result.perClass.flatMap((c, y) => {
    const inSet = new Set(c.indices);
    const order = Array.from(c.frequencies, (_, j) => j).sort((a, b) => c.frequencies[b] - c.frequencies[a] || a - b);
    return order.map((feature, r) => ({
      classIndex: y,
      className: classNames[y],
      feature,
      rank: r + 1,
      frequency: c.frequencies[feature],
      influential: inSet.has(feature),
    }));
  });
}
