import { aggregateRuns, runNoiseAblation } from "../../src/experiments/noise-ablation";
import { ablateFeatures, accuracy, predictFull } from "../../src/method";
import { syntheticLayer, syntheticSplit } from "./synthetic";

describe("aggregateRuns", () => {
  it("gives mean, sample std and class-wise mean of hand-made runs", () => {
    const agg = aggregateRuns([
      { accuracy: 0.5, perClass: Float64Array.from([0.4, 0.6]) },
      { accuracy: 0.7, perClass: Float64Array.from([0.8, 0.6]) },
      { accuracy: 0.6, perClass: Float64Array.from([0.6, 0.9]) },
    ]);
    expect(agg.perSeed).toEqual([0.5, 0.7, 0.6]);
    expect(agg.accuracy.mean).toBeCloseTo(0.6, 12);
    expect(agg.accuracy.std).toBeCloseTo(0.1, 12);
    expect(agg.accuracy.n).toBe(3);
    expect(Array.from(agg.perClass).map((v) => +v.toFixed(12))).toEqual([0.6, 0.7]);
  });

  it("rejects no runs or runs of different class counts", () => {
    expect(() => aggregateRuns([])).toThrow(/at least one run/);
    expect(() =>
      aggregateRuns([
        { accuracy: 1, perClass: new Float64Array(2) },
        { accuracy: 1, perClass: new Float64Array(3) },
      ]),
    ).toThrow(/same number of classes/);
  });
});

describe("runNoiseAblation", () => {
  // Class 0 reads feature 0, class 1 reads feature 1; S_0 = {0}, S_1 = {1}.
  //   row (y=0) [3, 1, 0], [2, 0, 5]; row (y=1) [1, 4, 0], [0, 2, 1]: all correct originally.
  // Zeroing S_y: logits [0, 1] -> 1 (wrong), [0, 0] -> 0 (tie, right), [1, 0] -> 0 (wrong), [0, 0] -> 0 (wrong).
  // Zeroing the others leaves each row's own evidence: all right.
  const test = {
    features: { data: Float32Array.from([3, 1, 0, 2, 0, 5, 1, 4, 0, 0, 2, 1]), rows: 4, cols: 3 },
    labels: Uint8Array.from([0, 0, 1, 1]),
  };
  const layer = { weight: Float32Array.from([1, 0, 0, 0, 1, 0]), bias: new Float32Array(2), classes: 2, features: 3 };
  const sets = [[0], [1]];

  it("scores the original and the zero-filled features by hand", () => {
    const r = runNoiseAblation(test, layer, sets, [0]);
    expect(r.original.accuracy).toBe(1);
    expect(r.zero.influential.accuracy).toBe(0.25);
    expect(Array.from(r.zero.influential.perClass)).toEqual([0.5, 0]);
    expect(r.zero.others.accuracy).toBe(1);
  });

  it("runs one noise draw per seed with the full layer and aggregates them", () => {
    const split = syntheticSplit(5, 300, 10, 3);
    const head = syntheticLayer(6, 10, 3);
    const s = [[0, 1], [2, 3], [4, 5, 6]];
    const seeds = [0, 1, 2, 3];
    const r = runNoiseAblation(split, head, s, seeds);
    for (const target of ["influential", "others"] as const) {
      const manual = seeds.map((seed) =>
        accuracy(predictFull(ablateFeatures(split.features, split.labels, s, { target, fill: "normal", seed }), head), split.labels),
      );
      expect(r.noise[target].perSeed).toEqual(manual);
      expect(r.noise[target].accuracy.n).toBe(4);
    }
    // Different seeds draw different noise, so the spread is real.
    expect(r.noise.influential.accuracy.std).toBeGreaterThan(0);
    expect(r.seeds).toEqual(seeds);
  });

  it("leaves accuracy unchanged with zero spread when S_y holds every feature and the others are noised", () => {
    const r = runNoiseAblation(test, layer, [[0, 1, 2], [0, 1, 2]], [0, 1, 2]);
    expect(r.noise.others.perSeed).toEqual([1, 1, 1]);
    expect(r.noise.others.accuracy).toEqual({ mean: 1, std: 0, n: 3, standardError: 0, level: 0.95, low: 1, high: 1 });
  });

  it("needs at least one seed", () => {
    expect(() => runNoiseAblation(test, layer, sets, [])).toThrow(/at least one seed/);
  });
});
