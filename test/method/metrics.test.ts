import { accuracy, confusionCounts, meanInterval, meanStd, perClassAccuracy, studentTCdf, studentTQuantile } from "../../src/method/metrics";

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

describe("confidence intervals of a mean", () => {
  it("uses Student's t quantiles (published table values)", () => {
    // t(0.975) for 1, 2, 4, 29 and 1000 degrees of freedom; t(0.95, 10); t(0.5) = 0 by symmetry.
    expect(studentTQuantile(0.975, 1)).toBeCloseTo(12.7062047, 6);
    expect(studentTQuantile(0.975, 2)).toBeCloseTo(4.30265273, 7);
    expect(studentTQuantile(0.975, 4)).toBeCloseTo(2.77644511, 7);
    expect(studentTQuantile(0.975, 29)).toBeCloseTo(2.04522964, 7);
    expect(studentTQuantile(0.975, 1000)).toBeCloseTo(1.96233908, 7);
    expect(studentTQuantile(0.95, 10)).toBeCloseTo(1.81246112, 7);
    expect(studentTQuantile(0.025, 29)).toBeCloseTo(-2.04522964, 7);
    expect(Math.abs(studentTQuantile(0.5, 7))).toBeLessThan(1e-9);
    expect(studentTCdf(0, 3)).toBeCloseTo(0.5, 12);
    expect(() => studentTQuantile(1, 3)).toThrow("0 < p < 1");
  });

  it("gives mean ± t * std / sqrt(n), and no interval for one run", () => {
    const r = meanInterval([1, 2, 3, 4]);
    expect(r.mean).toBe(2.5);
    expect(r.std).toBeCloseTo(Math.sqrt(5 / 3), 12);
    expect(r.standardError).toBeCloseTo(Math.sqrt(5 / 3) / 2, 12);
    expect(r.high - r.mean).toBeCloseTo(3.18244631 * r.standardError, 6);
    expect(r.mean - r.low).toBeCloseTo(r.high - r.mean, 12);
    const one = meanInterval([7]);
    expect([one.mean, one.std, Number.isNaN(one.low), Number.isNaN(one.high)]).toEqual([7, 0, true, true]);
    expect(() => meanInterval([1, 2], 95)).toThrow("strictly between 0 and 1, got 95");
  });
});
