/**
 * Probes, selectivity and the class tree against their references: scikit-learn's LogisticRegression (lbfgs,
 * multinomial) and adjusted_rand_score, SciPy's average linkage (scripts/make-probe-fixture.py), and hand-built
 * cases whose answers are known.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import {
  adjustedRandIndex,
  averageLinkage,
  channelScales,
  cutTree,
  decomposedLogits,
  fitProbe,
  jaccardMatrix,
  patternObjective,
  predictFromLogits,
  predictFull,
  predictTwoLevel,
  randomTreeRandIndices,
  refitProbe,
  restrictedCosineMatrix,
  selectivityIndex,
} from "../../src/method";

const FIXTURES = path.join(__dirname, "..", "fixtures", "probe");
const read = <T>(name: string): T => JSON.parse(fs.readFileSync(path.join(FIXTURES, name), "utf8")) as T;

interface ProbeFixture {
  classes: number;
  width: number;
  l2: number;
  train: { features: number[]; labels: number[] };
  test: { features: number[]; labels: number[] };
  scale: number[];
  coef: number[];
  intercept: number[];
  testPredictions: number[];
}

describe("the probe against scikit-learn's LogisticRegression (lbfgs, multinomial, C = 1 / (n l2))", () => {
  const fx = read<ProbeFixture>("probe.json");
  const train = { data: Float32Array.from(fx.train.features), rows: fx.train.labels.length, cols: fx.width };
  const labels = Int32Array.from(fx.train.labels);
  const probe = fitProbe(train, labels, fx.classes, { l2: fx.l2, iterations: 3000, tolerance: 1e-9 });

  it("scales each channel by its population standard deviation, as StandardScaler(with_mean=False)", () => {
    channelScales(train).forEach((s, j) => expect(Math.abs(s - fx.scale[j])).toBeLessThan(1e-12 * fx.scale[j]));
  });

  it("reaches scikit-learn's optimum: the objective no higher, the coefficients within what both gradients allow, the same test predictions", () => {
    const cols = fx.width;
    const scaled = { data: train.data.map((v, p) => v / fx.scale[p % cols]), rows: train.rows, cols };
    const every = Array.from({ length: fx.classes }, () => Array.from({ length: cols }, (_, j) => j));
    const offsets = Array.from({ length: fx.classes + 1 }, (_, y) => y * cols);
    const objective = (x: Float64Array) => {
      const grad = new Float64Array(x.length);
      return { value: patternObjective(x, grad, scaled, labels, every, offsets, fx.classes, fx.l2), gradNorm: Math.hypot(...grad) };
    };
    const ours = Float64Array.from([...Array.from(probe.layer.weight, (w, p) => w * probe.scale[p % cols]), ...probe.layer.bias]);
    const theirs = Float64Array.from([...fx.coef, ...fx.intercept]);
    const a = objective(ours);
    const b = objective(theirs);
    // Both minimise mean cross-entropy + l2 / 2 |W|^2; scikit-learn's L-BFGS stops on a relative decrease, short of
    // the optimum (its gradient is left at about 1e-5 here), so ours may only be lower, and not by more than
    // its first-order gap |g|^2 / (2 l2).
    expect(a.value).toBeLessThanOrEqual(b.value + 1e-12);
    expect(b.value - a.value).toBeLessThanOrEqual((b.gradNorm * b.gradNorm) / (2 * fx.l2) + 1e-12);
    // Strong convexity with modulus l2 in W: each solution lies within |g| / l2 of the optimum.
    const bound = (a.gradNorm + b.gradNorm) / fx.l2;
    const distance = Math.hypot(...fx.coef.map((c, p) => ours[p] - c));
    expect(distance).toBeLessThan(bound);
    expect(distance).toBeLessThan(0.01 * Math.hypot(...fx.coef));
    const test = { data: Float32Array.from(fx.test.features), rows: fx.test.labels.length, cols };
    expect(Array.from(predictFull(test, probe.layer))).toEqual(fx.testPredictions);
  });

  it("refits to itself when every class keeps every channel, and a smaller set changes the weights only inside it", () => {
    const all = Array.from({ length: fx.classes }, () => Array.from({ length: fx.width }, (_, j) => j));
    const same = refitProbe(probe, train, labels, all, { l2: fx.l2, iterations: 3000, tolerance: 1e-9 });
    expect(Math.max(...same.weight.map((w, p) => Math.abs(w - probe.layer.weight[p]) * probe.scale[p % fx.width]))).toBeLessThan(1e-5);
    const sets = [[0, 1], [2, 3], [4, 5], [6, 7]];
    const refit = refitProbe(probe, train, labels, sets, { l2: fx.l2 });
    refit.weight.forEach((w, p) => {
      if (!sets[Math.floor(p / fx.width)].includes(p % fx.width)) expect(w).toBe(0);
    });
    // Refitting may only help the training fit against keeping the probe's weights on the same sets.
    const keep = predictFromLogits(decomposedLogits(train, probe.layer, sets), train.rows, fx.classes);
    const refitted = predictFromLogits(decomposedLogits(train, refit, sets), train.rows, fx.classes);
    const correct = (p: Int32Array) => p.filter((v, i) => v === labels[i]).length;
    expect(correct(refitted)).toBeGreaterThanOrEqual(correct(keep));
  });
});

describe("class selectivity", () => {
  it("is 1 for a channel one class alone drives, 0 for equal activity, (2 - 1) / (2 + 1) for a 2:1 favourite", () => {
    // Channels: only class 0; every class alike; class 2 twice the others; never active.
    const rows = [
      [5, 1, 1, 0], [3, 1, 1, 0],
      [0, 1, 1, 0], [0, 1, 1, 0],
      [0, 1, 2, 0], [0, 1, 2, 0],
    ];
    const si = selectivityIndex({ data: Float32Array.from(rows.flat()), rows: 6, cols: 4 }, Int32Array.from([0, 0, 1, 1, 2, 2]), 3);
    expect(si[0]).toBeCloseTo(1, 6);
    expect(si[1]).toBe(0);
    expect(si[2]).toBeCloseTo(1 / 3, 6);
    expect(si[3]).toBe(0);
  });
});

describe("class similarity and the tree", () => {
  it("Jaccard of the sets and the cosine of the weights on each pair's union", () => {
    const sets = [[0, 1], [1, 2], [3, 4]];
    const j = jaccardMatrix(sets);
    expect(Array.from(j)).toEqual([1, 1 / 3, 0, 1 / 3, 1, 0, 0, 0, 1]);
    const layer = { weight: Float32Array.from([1, 1, 0, 0, 0, 0, 1, 1, 0, 0, 2, 0, 0, 1, 0]), bias: new Float32Array(3), classes: 3, features: 5 };
    const c = restrictedCosineMatrix(layer, sets);
    // Classes 0 and 1 on {0, 1, 2}: (1, 1, 0) . (0, 1, 1) / 2.
    expect(c[1]).toBeCloseTo(0.5, 12);
    // Classes 0 and 2 on {0, 1, 3, 4}: (1, 1, 0, 0) . (2, 0, 0, 1) / (sqrt 2 sqrt 5).
    expect(c[2]).toBeCloseTo(2 / Math.sqrt(10), 6);
    expect(c[4]).toBe(1);
  });

  it("average linkage equals SciPy's on points and on a distance matrix: ids, heights and sizes", () => {
    const fx = read<{ points: number[][]; pointsLinkage: number[][]; distance: number[]; distanceLinkage: number[][] }>("linkage.json");
    const euclid = fx.points.flatMap((a) => fx.points.map((b) => Math.hypot(...a.map((v, i) => v - b[i]))));
    for (const [d, n, ref] of [[euclid, fx.points.length, fx.pointsLinkage], [fx.distance, 10, fx.distanceLinkage]] as const) {
      const merges = averageLinkage(d, n);
      expect(merges.map((m) => [m.left, m.right, m.size])).toEqual(ref.map((r) => [r[0], r[1], r[3]]));
      merges.forEach((m, i) => expect(Math.abs(m.height - ref[i][2])).toBeLessThan(1e-12));
    }
  });

  it("cuts a tree into groups and scores labellings by the adjusted Rand index as scikit-learn does", () => {
    // Two tight pairs far apart, and a fifth item between.
    const pts = [0, 0.1, 10, 10.2, 5];
    const merges = averageLinkage(pts.flatMap((a) => pts.map((b) => Math.abs(a - b))), 5);
    expect(Array.from(cutTree(merges, 5, 2))).toEqual([0, 0, 1, 1, 0]);
    expect(Array.from(cutTree(merges, 5, 3))).toEqual([0, 0, 1, 1, 2]);
    expect(Array.from(cutTree(merges, 5, 5))).toEqual([0, 1, 2, 3, 4]);
    expect(() => cutTree(merges, 5, 6)).toThrow("a tree of 5 leaves cuts into 1 to 5 groups, not 6");
    for (const { a, b, ari } of read<{ a: number[]; b: number[]; ari: number }[]>("ari.json")) expect(Math.abs(adjustedRandIndex(a, b) - ari)).toBeLessThan(1e-12);
    expect(adjustedRandIndex([0, 0, 1, 1], [1, 1, 0, 0])).toBe(1);
  });

  it("random trees score about 0 against a fixed grouping, and are reproducible by seed", () => {
    const truth = [0, 0, 1, 1, 1, 1, 1, 1, 0, 0];
    const aris = randomTreeRandIndices(truth, 200, 3);
    const mean = aris.reduce((s, v) => s + v, 0) / aris.length;
    // Standard error of 200 draws of an index within [-0.5, 1]: below 0.05; the mean sits within 0.1 of zero.
    expect(Math.abs(mean)).toBeLessThan(0.1);
    expect(randomTreeRandIndices(truth, 5, 3)).toEqual(aris.slice(0, 5));
  });

  it("predicts with the two-level layer: the group from its set, then the class from its set within that group", () => {
    // Four features; classes 0, 1 in group 0 (feature 0 marks it), classes 2, 3 in group 1 (feature 1).
    const groupLayer = { weight: Float32Array.from([1, 0, 0, 0, 0, 1, 0, 0]), bias: new Float32Array(2), classes: 2, features: 4 };
    const classLayer = { weight: Float32Array.from([0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 1, 0, 0, 0, 0, 1]), bias: new Float32Array(4), classes: 4, features: 4 };
    const layer = { groupOf: Int32Array.from([0, 0, 1, 1]), groupLayer, groupSets: [[0], [1]], classLayer, classSets: [[2], [3], [2], [3]] };
    // Image 0: group 0, feature 3 wins -> class 1. Image 1: group 1, feature 2 wins -> class 2.
    const features = { data: Float32Array.from([2, 0, 0, 1, 0, 2, 1, 0]), rows: 2, cols: 4 };
    const { predictions, macs } = predictTwoLevel(features, layer);
    expect(Array.from(predictions)).toEqual([1, 2]);
    // Two group features, then two classes of one feature each.
    expect(macs).toBe(4);
  });
});
