import { decomposedLogits } from "../../src/method/decomposed";
import { influentialSets, rankFeatures } from "../../src/method/influential";
import { LinearLayer } from "../../src/method/types";
import { validateClassesPresent } from "../../src/method/validate";

const features = { data: Float32Array.from({ length: 4 * 64 }, (_, i) => i % 7), rows: 4, cols: 64 };
const labels = Uint8Array.from([0, 1, 2, 0]);

describe("input validation", () => {
  it.each([
    [{ k1: 0, k2: 5 }, "k1 must be an integer in 1..64 (the feature width is 64), got 0"],
    [{ k1: 65, k2: 5 }, "k1 must be an integer in 1..64 (the feature width is 64), got 65"],
    [{ k1: 2.5, k2: 5 }, "k1 must be an integer in 1..64"],
    [{ k1: 5, k2: 0 }, "k2 must be an integer in 1..64 (the feature width is 64), got 0"],
    [{ k1: 5, k2: 100 }, "k2 must be an integer in 1..64 (the feature width is 64), got 100"],
  ])("checks k1 and k2 ranges %j", (k, message) => {
    expect(() => influentialSets(features, labels, { classes: 3, ...k })).toThrow(message);
  });

  it("names a class with no instances", () => {
    expect(() => influentialSets(features, labels, { classes: 4, k1: 5, k2: 5 })).toThrow(
      "class 3 has no instances in the labels; every class 0..3 needs at least one",
    );
    expect(() => validateClassesPresent(Uint8Array.from([0, 2]), 3, ["cat", "dog", "ship"])).toThrow(
      'class 1 ("dog") has no instances',
    );
  });

  it("locates the first non-finite feature", () => {
    const bad = { ...features, data: features.data.slice() };
    bad.data[2 * 64 + 17] = NaN;
    bad.data[3 * 64 + 1] = Infinity;
    expect(() => rankFeatures(bad)).toThrow("features has a non-finite value (NaN) at row 2, col 17");
  });

  it("checks shapes and labels", () => {
    expect(() => rankFeatures({ data: new Float32Array(10), rows: 3, cols: 4 })).toThrow(
      "features.data has 10 values but rows x cols = 3 x 4 = 12",
    );
    expect(() => influentialSets(features, Uint8Array.from([0, 1, 2]), { classes: 3, k1: 1, k2: 1 })).toThrow(
      "labels has 3 entries but features has 4 rows; they must match",
    );
    expect(() => influentialSets(features, Int32Array.from([0, 1, -1, 2]), { classes: 3, k1: 1, k2: 1 })).toThrow(
      "label -1 at row 2 is outside 0..2 (classes = 3)",
    );
  });

  it("checks the layer against the features", () => {
    const layer: LinearLayer = { weight: new Float32Array(3 * 64), bias: new Float32Array(3), classes: 3, features: 64 };
    const sets = [[0], [1], [2]];
    expect(() => decomposedLogits(features, { ...layer, features: 32 }, sets)).toThrow(
      "layer expects 32 features but the feature matrix has 64 columns",
    );
    expect(() => decomposedLogits(features, { ...layer, bias: new Float32Array(2) }, sets)).toThrow(
      "layer.bias has 2 values but the layer has 3 classes",
    );
    expect(() => decomposedLogits(features, { ...layer, weight: new Float32Array(10) }, sets)).toThrow(
      "layer.weight has 10 values but classes x features = 3 x 64 = 192",
    );
  });
});
