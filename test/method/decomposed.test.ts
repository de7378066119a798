import {
  decomposedLogits,
  evaluateDecomposed,
  fullLogits,
  macCounts,
  predictDecomposed,
  predictFromLogits,
  predictFull,
} from "../../src/method/decomposed";
import { mulberry32, randomInt } from "../../src/data/prng";
import { normalSampler } from "../../src/method/random";
import { LinearLayer } from "../../src/method/types";

function randomProblem(seed: number, rows: number, cols: number, classes: number) {
  const normal = normalSampler(seed);
  const features = { data: Float32Array.from({ length: rows * cols }, () => Math.max(0, normal())), rows, cols };
  const layer: LinearLayer = {
    weight: Float32Array.from({ length: classes * cols }, () => normal()),
    bias: Float32Array.from({ length: classes }, () => normal()),
    classes,
    features: cols,
  };
  return { features, layer };
}

/** Shuffled copy of 0..n-1, so the decomposed layer cannot rely on receiving sorted sets. */
function shuffledRange(n: number, next: () => number): number[] {
  const a = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = randomInt(next, i + 1);
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

describe("decomposed layer", () => {
  it("equals the full layer when every S_y holds all features", () => {
    const { features, layer } = randomProblem(7, 500, 64, 10);
    const next = mulberry32(8);
    const all = Array.from({ length: 10 }, () => shuffledRange(64, next));
    const full = fullLogits(features, layer);
    expect(decomposedLogits(features, layer, all)).toEqual(full);
    expect(predictDecomposed(features, layer, all)).toEqual(predictFull(features, layer));
    // Full logits against a plain float64 dot product.
    for (let i = 0; i < 500; i += 37) {
      for (let y = 0; y < 10; y++) {
        let want = layer.bias[y];
        for (let j = 0; j < 64; j++) want += layer.weight[y * 64 + j] * features.data[i * 64 + j];
        expect(full[i * 10 + y]).toBeCloseTo(want, 4);
      }
    }
  });

  // Hand-computed: W = [[1, 2, 0], [0, 1, 3]], b = [0.5, -1], S_0 = [1], S_1 = [2].
  //   f = [1, 1, 1]: full (3.5, 3) -> 0;   decomposed (0.5 + 2, -1 + 3) = (2.5, 2) -> 0
  //   f = [0, 0, 2]: full (0.5, 5) -> 1;   decomposed (0.5, 5) -> 1
  //   f = [4, 0, 1]: full (4.5, 2) -> 0;   decomposed (0.5, 2) -> 1
  // labels [0, 1, 0]: A_f = 1, A_d = 2/3, r_A = 2/3; per class decomposed [1/2, 1]; MACs 6 vs 2.
  const layer: LinearLayer = {
    weight: Float32Array.from([1, 2, 0, 0, 1, 3]),
    bias: Float32Array.from([0.5, -1]),
    classes: 2,
    features: 3,
  };
  const features = { data: Float32Array.from([1, 1, 1, 0, 0, 2, 4, 0, 1]), rows: 3, cols: 3 };
  const sets = [[1], [2]];

  it("matches a hand-computed two-class example", () => {
    expect(Array.from(fullLogits(features, layer))).toEqual([3.5, 3, 0.5, 5, 4.5, 2]);
    expect(Array.from(decomposedLogits(features, layer, sets))).toEqual([2.5, 2, 0.5, 5, 0.5, 2]);
    const result = evaluateDecomposed(features, Uint8Array.from([0, 1, 0]), layer, sets);
    expect(Array.from(result.fullPredictions)).toEqual([0, 1, 0]);
    expect(Array.from(result.decomposedPredictions)).toEqual([0, 1, 1]);
    expect(result.fullAccuracy).toBe(1);
    expect(result.decomposedAccuracy).toBeCloseTo(2 / 3, 12);
    expect(result.accuracyRatio).toBeCloseTo(2 / 3, 12);
    expect(Array.from(result.perClassFull)).toEqual([1, 1]);
    expect(Array.from(result.perClassDecomposed)).toEqual([0.5, 1]);
    expect(result.macs).toEqual({ full: 6, decomposed: 2 });
  });

  it("counts multiply-adds as m * C versus sum |S_y|", () => {
    const wide: LinearLayer = { weight: new Float32Array(640), bias: new Float32Array(10), classes: 10, features: 64 };
    const five = Array.from({ length: 10 }, (_, y) => [y, y + 10, y + 20, y + 30, y + 40]);
    expect(macCounts(wide, five)).toEqual({ full: 640, decomposed: 50 });
    const uneven = five.map((s, y) => s.slice(0, 1 + (y % 3)));
    // sizes 1,2,3,1,2,3,1,2,3,1 -> 19
    expect(macCounts(wide, uneven).decomposed).toBe(19);
  });

  it("breaks argmax ties towards the lowest class", () => {
    const logits = Float32Array.from([1, 1, 0, 2, 5, 5, 3, 3, 3]);
    expect(Array.from(predictFromLogits(logits, 3, 3))).toEqual([0, 1, 0]);
  });

  it("reports r_A as NaN when the full layer scores zero", () => {
    const result = evaluateDecomposed(features, Uint8Array.from([1, 0, 1]), layer, sets);
    expect(result.fullAccuracy).toBe(0);
    expect(result.accuracyRatio).toBeNaN();
  });

  it("rejects index sets that do not fit the layer", () => {
    expect(() => decomposedLogits(features, layer, [[1]])).toThrow("index sets cover 1 classes but the layer has 2");
    expect(() => decomposedLogits(features, layer, [[1], [3]])).toThrow(
      "class 1: index 3 is not an integer in 0..2 (feature width 3)",
    );
  });
});
