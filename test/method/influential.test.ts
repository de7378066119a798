import {
  classHistograms,
  coverageLengths,
  influentialByCoverage,
  influentialFromRanks,
  influentialGrid,
  influentialSets,
  rankFeatures,
  selectInfluential,
} from "../../src/method/influential";
import { mulberry32, randomInt } from "../../src/data/prng";

const matrix = (rows: number[][]) => ({
  data: Float32Array.from(rows.flat()),
  rows: rows.length,
  cols: rows[0].length,
});

// Hand-computed example, m = 4, two classes, rows interleaved by class to exercise the label lookup.
//   row a (class 0) [5, 1, 3, 0] -> ranking 0, 2, 1, 3
//   row d (class 1) [1, 9, 9, 2] -> ranking 1, 2, 3, 0   (9 = 9: lower index 1 first)
//   row b (class 0) [2, 2, 1, 4] -> ranking 3, 0, 1, 2   (2 = 2: lower index 0 first)
//   row e (class 1) [0, 7, 0, 8] -> ranking 3, 1, 0, 2   (0 = 0: lower index 0 first)
//   row c (class 0) [0, 0, 0, 0] -> ranking 0, 1, 2, 3
// k1 = 2: class 0 chooses {0,2}, {3,0}, {0,1} -> counts [3, 1, 1, 1]; class 1 chooses {1,2}, {3,1} -> [0, 2, 1, 1].
// k2 = 2: S_0 = [0, 1] (1, 2, 3 tie at count 1: lowest index 1 wins), S_1 = [1, 2] (2, 3 tie: 2 wins).
const example = matrix([
  [5, 1, 3, 0],
  [1, 9, 9, 2],
  [2, 2, 1, 4],
  [0, 7, 0, 8],
  [0, 0, 0, 0],
]);
const exampleLabels = Uint8Array.from([0, 1, 0, 1, 0]);

describe("rankFeatures", () => {
  it("orders each row by value, equal values by lower index", () => {
    const ranking = rankFeatures(example);
    expect(Array.from(ranking.order)).toEqual([0, 2, 1, 3, 1, 2, 3, 0, 3, 0, 1, 2, 3, 1, 0, 2, 0, 1, 2, 3]);
    expect(ranking.depth).toBe(4);
  });

  it("keeps only the leading ranks when a depth is given", () => {
    const ranking = rankFeatures(example, 2);
    expect(Array.from(ranking.order)).toEqual([0, 2, 1, 2, 3, 0, 3, 1, 0, 1]);
  });
});

describe("Algorithm 1, fixed k1", () => {
  it("matches the hand-computed sets, histograms and frequencies", () => {
    const result = influentialSets(example, exampleLabels, { classes: 2, k1: 2, k2: 2 });
    expect(result.sets).toEqual([
      [0, 1],
      [1, 2],
    ]);
    const [c0, c1] = result.perClass;
    expect(Array.from(c0.counts)).toEqual([3, 1, 1, 1]);
    expect(Array.from(c1.counts)).toEqual([0, 2, 1, 1]);
    expect(c0.classSize).toBe(3);
    expect(c1.classSize).toBe(2);
    // count / (k1 * class size): class 0 divides by 6, class 1 by 4.
    expect(Array.from(c0.frequencies)).toEqual([3 / 6, 1 / 6, 1 / 6, 1 / 6]);
    expect(Array.from(c1.frequencies)).toEqual([0, 2 / 4, 1 / 4, 1 / 4]);
    expect(c0.zeroCountFilled).toBe(0);
  });

  it("fills k2 beyond the non-zero indices with never-chosen indices in ascending order", () => {
    // Class 1 chose only {1, 2, 3}; k2 = 4 appends index 0 (count 0).
    const result = influentialSets(example, exampleLabels, { classes: 2, k1: 2, k2: 4 });
    expect(result.sets[1]).toEqual([1, 2, 3, 0]);
    expect(result.perClass[1].zeroCountFilled).toBe(1);
    // One class, m = 6, k1 = 2: both rows choose {4, 5}; k2 = 5 fills with 0, 1, 2.
    const single = influentialSets(
      matrix([
        [0, 0, 0, 0, 5, 4],
        [0, 0, 0, 0, 1, 2],
      ]),
      Uint8Array.from([0, 0]),
      { classes: 1, k1: 2, k2: 5 },
    );
    expect(single.sets[0]).toEqual([4, 5, 0, 1, 2]);
    expect(single.perClass[0].zeroCountFilled).toBe(3);
  });

  it("reuses one ranking across a grid and agrees with separate runs", () => {
    const grid = influentialGrid(example, exampleLabels, 2, [1, 2, 3], [1, 4]);
    expect(grid.map((c) => [c.k1, c.k2])).toEqual([
      [1, 1],
      [1, 4],
      [2, 1],
      [2, 4],
      [3, 1],
      [3, 4],
    ]);
    for (const cell of grid) {
      expect(cell.result).toEqual(influentialSets(example, exampleLabels, { classes: 2, k1: cell.k1, k2: cell.k2 }));
    }
  });

  it("rejects k1 deeper than the ranking", () => {
    expect(() => influentialFromRanks(rankFeatures(example, 2), exampleLabels, { classes: 2, k1: 3, k2: 1 })).toThrow(
      "k1 = 3 exceeds the ranking depth 2; rank with depth >= 3",
    );
  });
});

/** Sort-based reference for Algorithm 1, written independently of the partial-selection code. */
function naiveInfluential(data: number[][], labels: number[], classes: number, k1: number, k2: number) {
  const m = data[0].length;
  const counts = Array.from({ length: classes }, () => new Array<number>(m).fill(0));
  const sizes = new Array<number>(classes).fill(0);
  data.forEach((row, i) => {
    const ranked = row.map((v, j) => ({ v, j })).sort((a, b) => b.v - a.v || a.j - b.j);
    for (const { j } of ranked.slice(0, k1)) counts[labels[i]][j]++;
    sizes[labels[i]]++;
  });
  return counts.map((c, y) => {
    const order = c.map((n, j) => ({ n, j })).sort((a, b) => b.n - a.n || a.j - b.j);
    return { indices: order.slice(0, k2).map((o) => o.j), counts: c, frequencies: c.map((n) => n / (k1 * sizes[y])) };
  });
}

describe("influentialFromRanks against a sort-based reference", () => {
  it("agrees on many random small cases with heavy ties", () => {
    const next = mulberry32(2024);
    const int = (n: number) => randomInt(next, n);
    for (let trial = 0; trial < 400; trial++) {
      const m = 1 + int(12);
      const classes = 1 + int(4);
      const rows = classes + int(25);
      // Every class appears at least once; the rest are random.
      const labels = Array.from({ length: rows }, (_, i) => (i < classes ? i : int(classes)));
      const levels = 1 + int(4); // few distinct values -> many ties, including all-zero rows
      const data = Array.from({ length: rows }, () => Array.from({ length: m }, () => int(levels) * 0.5));
      const k1 = 1 + int(m);
      const k2 = 1 + int(m);
      const depth = k1 + int(m - k1 + 1);
      const ranking = rankFeatures(matrix(data), depth);
      const typedLabels = trial % 2 ? Int32Array.from(labels) : Uint8Array.from(labels);
      const got = influentialFromRanks(ranking, typedLabels, { classes, k1, k2 });
      const want = naiveInfluential(data, labels, classes, k1, k2);
      got.perClass.forEach((c, y) => {
        expect(c.indices).toEqual(want[y].indices);
        expect(Array.from(c.counts)).toEqual(want[y].counts);
        expect(Array.from(c.frequencies)).toEqual(want[y].frequencies);
      });
    }
  });
});

describe("coverage rule", () => {
  // p = 90:  [6, 3, 1, 0] total 10, target 9: 6 < 9, 6 + 3 = 9 >= 9 -> 2 features.
  //          [1, 1, 1, 1] total 4, target 3.6: needs all 4.
  //          [0, 0, 0, 0] no mass -> 0 features.   [0, 0, 0, 10] -> 1 feature.
  const rows = matrix([
    [6, 3, 1, 0],
    [0, 0, 0, 0],
    [1, 1, 1, 1],
    [0, 0, 0, 10],
  ]);
  const labels = Uint8Array.from([0, 1, 0, 1]);

  it("chooses the shortest prefix covering p% of the l1 mass", () => {
    const ranking = rankFeatures(rows);
    expect(Array.from(coverageLengths(rows, ranking))).toEqual([2, 0, 4, 1]);
    // p = 50 on [6, 3, 1, 0]: target 5, 6 >= 5 -> 1.  p = 100: zeros add nothing -> 3.
    expect(coverageLengths(rows, ranking, 50)[0]).toBe(1);
    expect(coverageLengths(rows, ranking, 100)[0]).toBe(3);
  });

  it("reaches p = 100 exactly despite float rounding", () => {
    const frac = matrix([[0.1, 0.2, 0.3, 0.7, 0.0]]);
    expect(coverageLengths(frac, rankFeatures(frac), 100)[0]).toBe(4);
  });

  it("plugs into the histogram step", () => {
    // Class 0 chooses {0, 1} and {0, 1, 2, 3} -> counts [2, 2, 1, 1], 6 selections.
    // Class 1 chooses nothing and {3} -> counts [0, 0, 0, 1], 1 selection; k2 = 2 fills index 0.
    const result = influentialByCoverage(rows, labels, { classes: 2, k2: 2 });
    expect(result.sets).toEqual([
      [0, 1],
      [3, 0],
    ]);
    expect(Array.from(result.perClass[0].counts)).toEqual([2, 2, 1, 1]);
    expect(Array.from(result.perClass[0].frequencies)).toEqual([2 / 6, 2 / 6, 1 / 6, 1 / 6]);
    expect(Array.from(result.perClass[1].frequencies)).toEqual([0, 0, 0, 1]);
    expect(result.perClass[1].zeroCountFilled).toBe(1);
  });

  it("equals the fixed-k1 rule when every row needs the same length", () => {
    const ranking = rankFeatures(rows);
    const viaLengths = selectInfluential(classHistograms(ranking, labels, 2, Uint16Array.from([3, 3, 3, 3])), 2);
    expect(viaLengths).toEqual(influentialFromRanks(ranking, labels, { classes: 2, k1: 3, k2: 2 }));
  });

  it("rejects bad p, negative features and partial rankings", () => {
    const ranking = rankFeatures(rows);
    expect(() => coverageLengths(rows, ranking, 0)).toThrow("coverage p must be a percentage in (0, 100], got 0");
    expect(() => coverageLengths(rows, ranking, 101)).toThrow("got 101");
    const negative = matrix([[1, -2]]);
    expect(() => coverageLengths(negative, rankFeatures(negative))).toThrow(
      "the coverage rule needs non-negative features, but row 0, col 1 is -2",
    );
    expect(() => coverageLengths(rows, rankFeatures(rows, 2))).toThrow("call rankFeatures(features) without a depth");
  });
});
