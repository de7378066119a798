/**
 * The k1 / k2 sweep (paper Fig. 3) and the alternative step-1 rule (coverage of p% of each instance's l1 mass),
 * on cached features. Training features choose the influential sets, test features score them.
 *
 * Speed: one ranking of the training rows serves the whole grid (and can be passed in to serve re-runs and the
 * coverage rule too), the full layer is scored once, and each cell only computes its decomposed logits.
 */
import {
  accuracy,
  classHistograms,
  coverageLengths,
  decomposedLogits,
  type FeatureRanking,
  type IndexSets,
  type Labels,
  type LinearLayer,
  predictFromLogits,
  predictFull,
  rankFeatures,
  selectInfluential,
  validateClassesPresent,
  validateCoverage,
  validateK,
} from "../method";
import type { LabelledFeatures } from "./setup";

/** The grid of Fig. 3. */
export const PAPER_GRID: readonly number[] = [1, 2, 3, 4, 5, 10, 20, 30, 64];

export interface SweepCell {
  k1: number;
  k2: number;
  /** A_d on the test features. */
  decomposedAccuracy: number;
  /** r_A = A_d / A_f. */
  accuracyRatio: number;
  /** Multiply-adds per instance of the decomposed layer (sum of |S_y|). */
  macs: number;
  sets: IndexSets;
}

export interface SweepGrid {
  k1s: number[];
  k2s: number[];
  /** A_f on the test features. */
  fullAccuracy: number;
  /** Row-major over k1 (outer) and k2 (inner). */
  cells: SweepCell[];
}

/** A_d and r_A of one choice of influential sets, given the precomputed A_f. */
function scoreSets(test: LabelledFeatures, layer: LinearLayer, sets: IndexSets, fullAccuracy: number) {
  const predictions = predictFromLogits(decomposedLogits(test.features, layer, sets), test.features.rows, layer.classes);
  const decomposedAccuracy = accuracy(predictions, test.labels);
  return {
    decomposedAccuracy,
    accuracyRatio: fullAccuracy > 0 ? decomposedAccuracy / fullAccuracy : NaN,
    macs: sets.reduce((n, s) => n + s.length, 0),
  };
}

export function fullAccuracyOf(test: LabelledFeatures, layer: LinearLayer): number {
  return accuracy(predictFull(test.features, layer), test.labels);
}

function checkRanking(ranking: FeatureRanking, train: LabelledFeatures): void {
  const { rows, cols } = train.features;
  if (ranking.rows !== rows || ranking.cols !== cols) {
    throw new Error(
      `the ranking covers ${ranking.rows} x ${ranking.cols} features but the training set is ${rows} x ${cols}; ` +
        `rank these training features with rankFeatures(train.features)`,
    );
  }
}

/**
 * A_d for every (k1, k2) pair with the fixed-k1 rule. Pass `ranking` (rankFeatures of the training features,
 * at least max(k1s) deep) to skip the ranking when the grid is re-run on the same features.
 */
export function sweepGrid(
  train: LabelledFeatures,
  test: LabelledFeatures,
  layer: LinearLayer,
  k1s: readonly number[],
  k2s: readonly number[],
  ranking?: FeatureRanking,
): SweepGrid {
  if (k1s.length === 0 || k2s.length === 0) throw new Error("the k1 and k2 grids must each have at least one value");
  const ranks = ranking ?? rankFeatures(train.features, Math.max(...k1s));
  checkRanking(ranks, train);
  return sweepRanks({ ranking: ranks, labels: train.labels }, test, layer, k1s, k2s);
}

/**
 * The same grid from the training images' rankings alone (what an image-folder or ImageNet training pass keeps
 * instead of the features): every k1 must be within the ranking's depth.
 */
export function sweepRanks(train: { ranking: FeatureRanking; labels: Labels }, test: LabelledFeatures, layer: LinearLayer, k1s: readonly number[], k2s: readonly number[]): SweepGrid {
  if (k1s.length === 0 || k2s.length === 0) throw new Error("the k1 and k2 grids must each have at least one value");
  const ranks = train.ranking;
  for (const k2 of k2s) validateK("k2", k2, ranks.cols);
  const deep = k1s.find((k1) => k1 > ranks.depth);
  if (deep !== undefined) throw new Error(`k1 = ${deep} is deeper than the ${ranks.depth} ranks kept per training image; rerun the training pass with a larger rank depth`);
  validateClassesPresent(train.labels, layer.classes);
  const fullAccuracy = fullAccuracyOf(test, layer);
  const cells: SweepCell[] = [];
  for (const k1 of k1s) {
    const histograms = classHistograms(ranks, train.labels, layer.classes, k1);
    for (const k2 of k2s) {
      const { sets } = selectInfluential(histograms, k2);
      cells.push({ k1, k2, ...scoreSets(test, layer, sets, fullAccuracy), sets });
    }
  }
  return { k1s: [...k1s], k2s: [...k2s], fullAccuracy, cells };
}

export interface CoverageCell {
  p: number;
  k2: number;
  decomposedAccuracy: number;
  accuracyRatio: number;
  macs: number;
  sets: IndexSets;
}

export interface CoverageLengthStats {
  p: number;
  /** Mean number of features an instance needs to reach p% of its l1 mass (its effective k1). */
  mean: number;
  median: number;
  min: number;
  max: number;
}

export interface CoverageSweep {
  fullAccuracy: number;
  lengths: CoverageLengthStats[];
  /** Row-major over p (outer) and k2 (inner). */
  cells: CoverageCell[];
}

function lengthStats(p: number, lengths: Uint16Array): CoverageLengthStats {
  const sorted = Uint16Array.from(lengths).sort();
  const n = sorted.length;
  let sum = 0;
  for (const v of sorted) sum += v;
  const median = n % 2 === 1 ? sorted[(n - 1) / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
  return { p, mean: sum / n, median, min: sorted[0], max: sorted[n - 1] };
}

/** A_d for every (p, k2) pair with the coverage rule in step 1; one full ranking (pass it to reuse it) serves every p. */
export function sweepCoverage(
  train: LabelledFeatures,
  test: LabelledFeatures,
  layer: LinearLayer,
  ps: readonly number[],
  k2s: readonly number[],
  ranking: FeatureRanking = rankFeatures(train.features),
): CoverageSweep {
  if (ps.length === 0 || k2s.length === 0) throw new Error("the p and k2 grids must each have at least one value");
  for (const p of ps) validateCoverage(p);
  for (const k2 of k2s) validateK("k2", k2, train.features.cols);
  checkRanking(ranking, train);
  validateClassesPresent(train.labels, layer.classes);
  const fullAccuracy = fullAccuracyOf(test, layer);
  const lengths: CoverageLengthStats[] = [];
  const cells: CoverageCell[] = [];
  for (const p of ps) {
    const perRow = coverageLengths(train.features, ranking, p);
    lengths.push(lengthStats(p, perRow));
    const histograms = classHistograms(ranking, train.labels, layer.classes, perRow);
    for (const k2 of k2s) {
      const { sets } = selectInfluential(histograms, k2);
      cells.push({ p, k2, ...scoreSets(test, layer, sets, fullAccuracy), sets });
    }
  }
  return { fullAccuracy, lengths, cells };
}

export interface BestRow {
  /** The value held fixed (k1 for bestK2PerK1, k2 for bestK1PerK2). */
  fixed: number;
  /** The value of the other parameter with the highest A_d; ties go to the smaller value. */
  best: number;
  bestAccuracy: number;
  /** A_d on the diagonal k1 = k2, or null when the grid lacks that cell. */
  diagonalAccuracy: number | null;
  /** True when the best cell is the diagonal one, or ties with it. */
  diagonalIsBest: boolean | null;
}

function bestRows(grid: SweepGrid, fixedKey: "k1" | "k2"): BestRow[] {
  const free = fixedKey === "k1" ? "k2" : "k1";
  const fixedValues = fixedKey === "k1" ? grid.k1s : grid.k2s;
  return fixedValues.map((fixed) => {
    const row = grid.cells.filter((c) => c[fixedKey] === fixed);
    let bestCell = row[0];
    for (const c of row) {
      if (c.decomposedAccuracy > bestCell.decomposedAccuracy ||
        (c.decomposedAccuracy === bestCell.decomposedAccuracy && c[free] < bestCell[free])) bestCell = c;
    }
    const diagonal = row.find((c) => c[free] === fixed);
    return {
      fixed,
      best: bestCell[free],
      bestAccuracy: bestCell.decomposedAccuracy,
      diagonalAccuracy: diagonal ? diagonal.decomposedAccuracy : null,
      diagonalIsBest: diagonal ? diagonal.decomposedAccuracy === bestCell.decomposedAccuracy : null,
    };
  });
}

/** For each k1, the k2 with the highest A_d. */
export function bestK2PerK1(grid: SweepGrid): BestRow[] {
  return bestRows(grid, "k1");
}

/** For each k2 (a fixed cost of k2 x classes MACs), the k1 with the highest A_d. */
export function bestK1PerK2(grid: SweepGrid): BestRow[] {
  return bestRows(grid, "k2");
}

/**
 * Whether "best at k2 = k1" holds, in words, from the rows of bestK2PerK1 or bestK1PerK2.
 * `fixedName` / `freeName` are the parameter names ("k1", "k2") as the rows use them.
 */
export function describeDiagonalFinding(rows: BestRow[], fixedName: string, freeName: string): string {
  const checked = rows.filter((r) => r.diagonalIsBest !== null);
  const claim = `"best at ${freeName} = ${fixedName}"`;
  if (checked.length === 0) return `${claim} cannot be checked: the grid has no cell with ${freeName} = ${fixedName}`;
  const holds = checked.filter((r) => r.diagonalIsBest);
  const fails = checked.filter((r) => !r.diagonalIsBest);
  const n = checked.length;
  if (fails.length === 0) return `${claim} holds for all ${n} ${fixedName} values`;
  const where = fails.map((r) => `${r.best} at ${fixedName} = ${r.fixed}`).join(", ");
  const verdict =
    holds.length === 0
      ? `holds for none of the ${n} ${fixedName} values`
      : `holds for ${holds.length} of ${n} ${fixedName} values (${fixedName} = ${holds.map((r) => r.fixed).join(", ")})`;
  return `${claim} ${verdict}; elsewhere the best ${freeName} is ${where}`;
}

export function cellAt(grid: SweepGrid, k1: number, k2: number): SweepCell {
  const cell = grid.cells.find((c) => c.k1 === k1 && c.k2 === k2);
  if (!cell) throw new Error(`the grid has no cell k1 = ${k1}, k2 = ${k2}; grid k1 in [${grid.k1s}], k2 in [${grid.k2s}]`);
  return cell;
}
