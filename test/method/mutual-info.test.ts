import * as fs from "fs";
import * as path from "path";
import { channelClassMutualInfo, digammaInt, l1Density, mutualInfoContinuousDiscrete, mutualInformationScore } from "../../src/method/mutual-info";

const fixture = JSON.parse(fs.readFileSync(path.join(__dirname, "../fixtures/mi/cases.json"), "utf8")) as {
  cases: { name: string; neighbours: number; c: number[]; d: number[]; mi: number }[];
};

describe("k-nearest-neighbour mutual information (Ross 2014)", () => {
  it.each(fixture.cases.map((c) => [c.name, c] as const))("equals scikit-learn's estimator within 1e-6: %s", (_, c) => {
    expect(Math.abs(mutualInfoContinuousDiscrete(c.c, c.d, c.neighbours) - c.mi)).toBeLessThan(1e-6);
  });

  it("uses digamma of integers (published values) and refuses mismatched input", () => {
    expect(digammaInt(1)).toBeCloseTo(-0.5772156649015329, 15);
    expect(digammaInt(2)).toBeCloseTo(0.42278433509846713, 15);
    expect(digammaInt(10)).toBeCloseTo(2.251752589066721, 14);
    expect(() => mutualInfoContinuousDiscrete([1, 2], [0])).toThrow("2 values but 1 labels");
    expect(() => mutualInfoContinuousDiscrete([1, 2], [0, 1], 0)).toThrow("positive integer, got 0");
  });

  it("finds a perfectly separating variable informative and is zero when every label is seen once", () => {
    const c = Array.from({ length: 40 }, (_, i) => (i < 20 ? i : 100 + i));
    const d = c.map((_, i) => (i < 20 ? 0 : 1));
    expect(mutualInfoContinuousDiscrete(c, d)).toBeGreaterThan(0.5);
    expect(mutualInfoContinuousDiscrete([1, 2, 3], [0, 1, 2])).toBe(0);
  });
});

describe("CSG metrics", () => {
  it("scores MIS as the mean over channels of the best class's MI", () => {
    // classes x channels = 2 x 3.
    expect(mutualInformationScore(Float64Array.from([0.1, 0.5, 0.0, 0.3, 0.2, 0.4]), 2, 3)).toBeCloseTo((0.3 + 0.5 + 0.4) / 3, 12);
    expect(() => mutualInformationScore(new Float64Array(5), 2, 3)).toThrow("has 6 values, got 5");
  });

  it("computes per channel and class the MI with the class indicator", () => {
    // Channel 0 separates class 0 from the rest; channel 1 is noise-free but equal for all.
    const rows = 60;
    const labels = Uint8Array.from({ length: rows }, (_, i) => i % 3);
    const data = new Float32Array(rows * 2);
    for (let i = 0; i < rows; i++) {
      data[i * 2] = labels[i] === 0 ? 10 + i : i / 100;
      data[i * 2 + 1] = 1;
    }
    const mi = channelClassMutualInfo({ data, rows, cols: 2 }, labels, 3, { jitterSeed: null });
    expect(mi[0]).toBeGreaterThan(0.3); // class 0, channel 0
    expect(mi[1]).toBe(0); // a constant channel carries nothing
    expect(mi[0]).toBeCloseTo(mutualInfoContinuousDiscrete(Array.from({ length: rows }, (_, i) => data[i * 2]), Array.from(labels, (l) => (l === 0 ? 1 : 0))), 12);
  });

  it("breaks ties with a seeded jitter far below the data's resolution, as mutual_info_classif does", () => {
    // Half the values are exact zeros (ties); the jitter orders them without moving any value visibly.
    const rows = 200;
    const labels = Uint8Array.from({ length: rows }, (_, i) => i % 2);
    // Class 0 is zero on 3 of every 5 images, class 1 on 1 of every 5; the rest spread over distinct values.
    const data = Float32Array.from({ length: rows }, (_, i) => (Math.floor(i / 2) % 5 < (labels[i] === 0 ? 3 : 1) ? 0 : 0.5 + labels[i] + ((i * 37) % 101) / 101));
    const features = { data, rows, cols: 1 };
    const a = channelClassMutualInfo(features, labels, 2, { jitterSeed: 0 });
    expect(Array.from(channelClassMutualInfo(features, labels, 2))).toEqual(Array.from(a)); // seed 0 is the default
    const bare = channelClassMutualInfo(features, labels, 2, { jitterSeed: null });
    // Without the jitter the zero ties swamp the neighbour counts and the estimate clips to 0; with it the
    // feature's evident information shows, and another seed lands close by.
    expect(bare[0]).toBe(0);
    expect(a[0]).toBeGreaterThan(0.3);
    expect(Math.abs(channelClassMutualInfo(features, labels, 2, { jitterSeed: 5 })[0] - a[0])).toBeLessThan(0.1);
  });

  it("measures a gate matrix's L1 density", () => {
    expect(l1Density([0, 0.5, 1, 0.5])).toBe(0.5);
    expect(() => l1Density([])).toThrow("empty gate matrix");
  });
});
