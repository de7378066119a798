import {
  bestK1PerK2,
  bestK2PerK1,
  cellAt,
  describeDiagonalFinding,
  sweepCoverage,
  sweepGrid,
  type SweepGrid,
} from "../../src/experiments/sweep";
import {
  coverageLengths,
  evaluateDecomposed,
  influentialByCoverage,
  influentialSets,
  rankFeatures,
} from "../../src/method";
import { syntheticLayer, syntheticSplit } from "./synthetic";

const cols = 12;
const classes = 4;
const train = syntheticSplit(1, 200, cols, classes);
const test = syntheticSplit(2, 120, cols, classes);
const layer = syntheticLayer(3, cols, classes);
const k1s = [1, 2, 3, 5, 12];
const k2s = [1, 2, 4, 12];

describe("sweepGrid", () => {
  const grid = sweepGrid(train, test, layer, k1s, k2s);

  it("equals one Algorithm 1 run and one evaluateDecomposed call per cell", () => {
    expect(grid.cells.map((c) => [c.k1, c.k2])).toEqual(k1s.flatMap((k1) => k2s.map((k2) => [k1, k2])));
    for (const cell of grid.cells) {
      const { sets } = influentialSets(train.features, train.labels, { classes, k1: cell.k1, k2: cell.k2 });
      const evaluation = evaluateDecomposed(test.features, test.labels, layer, sets);
      expect(cell.sets).toEqual(sets);
      expect(cell.decomposedAccuracy).toBe(evaluation.decomposedAccuracy);
      expect(cell.accuracyRatio).toBe(evaluation.accuracyRatio);
      expect(cell.macs).toBe(evaluation.macs.decomposed);
      expect(grid.fullAccuracy).toBe(evaluation.fullAccuracy);
    }
  });

  it("is not trivial on this data: accuracy changes across the grid and k2 = m recovers A_f", () => {
    expect(new Set(grid.cells.map((c) => c.decomposedAccuracy)).size).toBeGreaterThan(3);
    for (const k1 of k1s) expect(cellAt(grid, k1, cols).decomposedAccuracy).toBe(grid.fullAccuracy);
  });

  it("gives the same grid with a reused full ranking, and rejects a ranking of other features", () => {
    const again = sweepGrid(train, test, layer, k1s, k2s, rankFeatures(train.features));
    expect(again.cells.map((c) => c.decomposedAccuracy)).toEqual(grid.cells.map((c) => c.decomposedAccuracy));
    expect(() => sweepGrid(train, test, layer, k1s, k2s, rankFeatures(test.features))).toThrow(
      /ranking covers 120 x 12 features but the training set is 200 x 12/,
    );
  });

  it("rejects an empty grid or an out-of-range k", () => {
    expect(() => sweepGrid(train, test, layer, [], k2s)).toThrow(/at least one value/);
    expect(() => sweepGrid(train, test, layer, k1s, [13])).toThrow(/k2 must be an integer in 1..12/);
    expect(() => cellAt(grid, 4, 1)).toThrow(/no cell k1 = 4, k2 = 1/);
  });
});

describe("sweepCoverage (the p% rule for step 1)", () => {
  it("matches influentialByCoverage + evaluateDecomposed for each p and k2", () => {
    const sweep = sweepCoverage(train, test, layer, [50, 90], k2s);
    expect(sweep.cells.map((c) => [c.p, c.k2])).toEqual([50, 90].flatMap((p) => k2s.map((k2) => [p, k2])));
    for (const cell of sweep.cells) {
      const { sets } = influentialByCoverage(train.features, train.labels, { classes, k2: cell.k2, p: cell.p });
      expect(cell.sets).toEqual(sets);
      expect(cell.decomposedAccuracy).toBe(evaluateDecomposed(test.features, test.labels, layer, sets).decomposedAccuracy);
    }
    // p changes what is chosen: the sets of p = 50 and p = 90 differ somewhere.
    const at = (p: number) => sweep.cells.filter((c) => c.p === p).map((c) => c.sets);
    expect(at(50)).not.toEqual(at(90));
  });

  it("summarises the per-instance coverage lengths", () => {
    const sweep = sweepCoverage(train, test, layer, [90], [2]);
    const lengths = Array.from(coverageLengths(train.features, rankFeatures(train.features), 90)).sort((a, b) => a - b);
    const mean = lengths.reduce((a, b) => a + b, 0) / lengths.length;
    expect(sweep.lengths).toEqual([
      { p: 90, mean, median: (lengths[99] + lengths[100]) / 2, min: lengths[0], max: lengths[199] },
    ]);
  });

  it("rejects p outside (0, 100]", () => {
    expect(() => sweepCoverage(train, test, layer, [0], k2s)).toThrow(/coverage p must be a percentage in \(0, 100\]/);
  });
});

/** A grid with chosen accuracies (sets unused by the best-k logic). */
function handGrid(k1s: number[], k2s: number[], acc: number[][]): SweepGrid {
  const cells = k1s.flatMap((k1, a) =>
    k2s.map((k2, b) => ({ k1, k2, decomposedAccuracy: acc[a][b], accuracyRatio: acc[a][b] / 0.9, macs: k2, sets: [] })),
  );
  return { k1s, k2s, fullAccuracy: 0.9, cells };
}

describe("best k2 per k1 and best k1 per k2", () => {
  //            k2 = 1    2     3
  // k1 = 1:    0.50  0.60  0.60   best k2 = 2 (tie with 3 goes to the smaller), diagonal k2 = 1 is not best
  // k1 = 2:    0.40  0.70  0.65   best k2 = 2 = diagonal
  // k1 = 4:    0.30  0.55  0.80   best k2 = 3; no diagonal cell (k2 = 4 is not in the grid)
  const grid = handGrid([1, 2, 4], [1, 2, 3], [
    [0.5, 0.6, 0.6],
    [0.4, 0.7, 0.65],
    [0.3, 0.55, 0.8],
  ]);

  it("picks the highest A_d, ties to the smaller value, and compares with the diagonal", () => {
    expect(bestK2PerK1(grid)).toEqual([
      { fixed: 1, best: 2, bestAccuracy: 0.6, diagonalAccuracy: 0.5, diagonalIsBest: false },
      { fixed: 2, best: 2, bestAccuracy: 0.7, diagonalAccuracy: 0.7, diagonalIsBest: true },
      { fixed: 4, best: 3, bestAccuracy: 0.8, diagonalAccuracy: null, diagonalIsBest: null },
    ]);
    expect(bestK1PerK2(grid)).toEqual([
      { fixed: 1, best: 1, bestAccuracy: 0.5, diagonalAccuracy: 0.5, diagonalIsBest: true },
      { fixed: 2, best: 2, bestAccuracy: 0.7, diagonalAccuracy: 0.7, diagonalIsBest: true },
      { fixed: 3, best: 4, bestAccuracy: 0.8, diagonalAccuracy: null, diagonalIsBest: null },
    ]);
  });

  it("counts a tie with the diagonal as the diagonal being best", () => {
    const tied = handGrid([2], [1, 2], [[0.7, 0.7]]);
    expect(bestK2PerK1(tied)[0]).toMatchObject({ best: 1, diagonalIsBest: true });
  });

  it("states the finding from the rows", () => {
    expect(describeDiagonalFinding(bestK2PerK1(grid), "k1", "k2")).toBe(
      '"best at k2 = k1" holds for 1 of 2 k1 values (k1 = 2); elsewhere the best k2 is 2 at k1 = 1',
    );
    expect(describeDiagonalFinding(bestK1PerK2(grid), "k2", "k1")).toBe('"best at k1 = k2" holds for all 2 k2 values');
    const none = handGrid([1, 2], [1, 2], [
      [0.1, 0.2],
      [0.3, 0.2],
    ]);
    expect(describeDiagonalFinding(bestK2PerK1(none), "k1", "k2")).toBe(
      '"best at k2 = k1" holds for none of the 2 k1 values; elsewhere the best k2 is 2 at k1 = 1, 1 at k1 = 2',
    );
    expect(describeDiagonalFinding(bestK2PerK1(handGrid([3], [1], [[0.5]])), "k1", "k2")).toMatch(/cannot be checked/);
  });
});
