import { classConcentrations, histogramBars, histogramConcentration } from "../../src/experiments/concentration";
import { selectInfluential } from "../../src/method";

describe("histogramConcentration", () => {
  it("matches hand-computed values for a skewed histogram", () => {
    // Mass shares 1/2, 1/4, 1/8, 1/8, 0: entropy = 0.5*1 + 0.25*2 + 2*(0.125*3) = 1.75 bits.
    // Cumulative 4, 6, 7, 8 of 8: half the mass needs 1 index, 90% (7.2) needs 4.
    const c = histogramConcentration([1, 4, 0, 2, 1], 2);
    expect(c.topShare).toBe(0.75);
    expect(c.entropyBits).toBeCloseTo(1.75, 12);
    expect(c.effectiveIndices).toBeCloseTo(2 ** 1.75, 12);
    expect({ cover50: c.cover50, cover90: c.cover90, nonZero: c.nonZero }).toEqual({ cover50: 1, cover90: 4, nonZero: 4 });
  });

  it("gives log2(m) bits and m effective indices for a uniform histogram", () => {
    const c = histogramConcentration([3, 3, 3, 3], 1);
    expect(c).toEqual({ topShare: 0.25, entropyBits: 2, effectiveIndices: 4, cover50: 2, cover90: 4, nonZero: 4 });
  });

  it("counts an exact share as covered (9 of 10 is 90%) and one index as zero entropy", () => {
    expect(histogramConcentration([9, 1], 1).cover90).toBe(1);
    expect(histogramConcentration([0, 5, 0], 1)).toEqual({
      topShare: 1,
      entropyBits: 0,
      effectiveIndices: 1,
      cover50: 1,
      cover90: 1,
      nonZero: 1,
    });
  });

  it("rejects empty or negative histograms and a bad k2", () => {
    expect(() => histogramConcentration([0, 0], 1)).toThrow(/histogram is empty/);
    expect(() => histogramConcentration([1, -1], 1)).toThrow(/non-negative/);
    expect(() => histogramConcentration([1, 1], 3)).toThrow(/k2 must be an integer in 1..2/);
  });
});

describe("per-class concentration and Fig. 2 bars", () => {
  // Two classes over 4 features; class 0 counts [3, 1, 1, 1] (6 selections), class 1 [0, 2, 1, 1] (4 selections).
  const histograms = {
    counts: Int32Array.from([3, 1, 1, 1, 0, 2, 1, 1]),
    classSizes: Int32Array.from([3, 2]),
    selections: Float64Array.from([6, 4]),
    classes: 2,
    cols: 4,
  };
  const result = selectInfluential(histograms, 2);

  it("computes one concentration per class from its counts", () => {
    const [c0, c1] = classConcentrations(result);
    expect(c0.topShare).toBeCloseTo(4 / 6, 12);
    expect(c1.topShare).toBeCloseTo(3 / 4, 12);
    expect(c1.nonZero).toBe(3);
  });

  it("ranks each class's features by frequency and flags S_y", () => {
    const bars = histogramBars(result, ["cat", "dog"]);
    expect(bars.filter((b) => b.classIndex === 1).map((b) => [b.rank, b.feature, b.frequency, b.influential])).toEqual([
      [1, 1, 0.5, true],
      [2, 2, 0.25, true],
      [3, 3, 0.25, false],
      [4, 0, 0, false],
    ]);
    expect(bars.filter((b) => b.influential && b.className === "cat").map((b) => b.feature)).toEqual([0, 1]);
    expect(() => histogramBars(result, ["cat"])).toThrow(/got 1 class names for 2 classes/);
  });
});
