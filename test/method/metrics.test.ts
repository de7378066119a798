import { accuracy, confusionCounts, meanStd, perClassAccuracy } from "../../src/method/metrics";

describe("metrics", () => {
  const labels = Uint8Array.from([0, 0, 1, 1, 2]);
  const predictions = Int32Array.from([0, 1, 1, 1, 0]);

  it("scores accuracy overall and per class", () => {
    expect(accuracy(predictions, labels)).toBe(3 / 5);
    const perClass = perClassAccuracy(predictions, labels, 4);
    expect(Array.from(perClass.slice(0, 3))).toEqual([0.5, 1, 0]);
    expect(perClass[3]).toBeNaN();
  });

  it("counts confusions with true class as row", () => {
    // (0->0), (0->1), (1->1), (1->1), (2->0)
    expect(Array.from(confusionCounts(predictions, labels, 3))).toEqual([1, 1, 0, 0, 2, 0, 1, 0, 0]);
    expect(() => confusionCounts(Int32Array.from([0, 0, 0, 0, 3]), labels, 3)).toThrow(
      "prediction 3 at row 4 is outside 0..2",
    );
  });

  it("summarises repeated runs with the sample standard deviation", () => {
    // mean 2.5; squared deviations 2.25 + 0.25 + 0.25 + 2.25 = 5; sample variance 5/3.
    const s = meanStd([1, 2, 3, 4]);
    expect(s.mean).toBe(2.5);
    expect(s.std).toBeCloseTo(Math.sqrt(5 / 3), 12);
    expect(meanStd([7])).toEqual({ mean: 7, std: 0, n: 1 });
    expect(() => meanStd([])).toThrow("meanStd needs at least one value");
  });

  it("rejects mismatched lengths", () => {
    expect(() => accuracy(Int32Array.from([0]), labels)).toThrow("got 1 predictions for 5 labels");
  });
});
