import { mulberry32 } from "../../src/data";
import { accuracy, predictDecomposed } from "../../src/method";
import { headMask, retrainHead } from "../../src/training";

/** Class y lights up features S_y = {2y, 2y+1} above a noise floor: separable through the decomposed head. */
function synthetic(rows: number, seed: number) {
  const rng = mulberry32(seed);
  const cols = 12;
  const data = new Float32Array(rows * cols);
  const labels = new Uint8Array(rows);
  for (let i = 0; i < rows; i++) {
    const y = i % 5;
    labels[i] = y;
    for (let j = 0; j < cols; j++) data[i * cols + j] = rng() * 0.5;
    data[i * cols + 2 * y] += 1 + rng();
    data[i * cols + 2 * y + 1] += 1 + rng();
  }
  return { features: { data, rows, cols }, labels };
}

describe("head-only retraining", () => {
  const sets = Array.from({ length: 5 }, (_, y) => [2 * y, 2 * y + 1]);
  // Inside S_y the weights are negative, so a class's own features lower its logit: poor before retraining.
  // Outside S_y they would be right, and must be ignored.
  const weight = new Float32Array(5 * 12);
  for (let y = 0; y < 5; y++) {
    weight[y * 12 + 2 * y] = -0.5;
    weight[y * 12 + ((2 * y + 2) % 10)] = 1;
  }
  const layer = { weight, bias: new Float32Array(5), classes: 5, features: 12 };

  it("improves decomposed accuracy on a separable problem and keeps weights outside S_y at zero", () => {
    const train = synthetic(500, 1);
    const test = synthetic(200, 2);
    const result = retrainHead(train, test, layer, sets, { epochs: 5, batchSize: 16, lr: 0.05, seed: 3 });
    expect(result.testAccuracy).toHaveLength(6);
    expect(result.testAccuracy[0]).toBe(accuracy(predictDecomposed(test.features, layer, sets), test.labels));
    expect(result.testAccuracy[0]).toBeLessThan(0.5);
    expect(result.testAccuracy[5]).toBeGreaterThan(0.95);
    expect(result.trainLoss[4]).toBeLessThan(result.trainLoss[0]);
    const mask = headMask(sets, 5, 12);
    expect(result.layer.weight.every((w, i) => mask[i] === 1 || w === 0)).toBe(true);
    // The input layer is not modified.
    expect(layer.weight[0]).toBe(-0.5);
  });

  it("is deterministic for a seed and rejects a mismatched layer", () => {
    const train = synthetic(100, 4);
    const a = retrainHead(train, train, layer, sets, { epochs: 2, seed: 9, lr: 0.01 });
    const b = retrainHead(train, train, layer, sets, { epochs: 2, seed: 9, lr: 0.01 });
    expect(b.layer.weight).toEqual(a.layer.weight);
    expect(() => retrainHead(train, train, { ...layer, features: 10 }, sets)).toThrow("layer expects 10 features but the feature matrix has 12 columns");
  });
});
