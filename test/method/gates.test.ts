import { densityHinge, gatedLogits, gateRows, initialGates, renormaliseGates, scatterGateGradient, setOverlap, topGateSets, validateGates } from "../../src/method";

const matrix = (rows: number[][]) => ({ data: Float32Array.from(rows.flat()), classes: rows.length, channels: rows[0].length });

describe("class-specific gates", () => {
  it("start at 0.5 everywhere and pick each image's row by its label", () => {
    const g = initialGates(3, 2);
    expect([...g.data]).toEqual([0.5, 0.5, 0.5, 0.5, 0.5, 0.5]);
    const G = matrix([[0.1, 0.2], [0.3, 0.4], [0.5, 0.6]]);
    expect([...gateRows(G, [2, 0, 2])].map((v) => +v.toFixed(6))).toEqual([0.5, 0.6, 0.1, 0.2, 0.5, 0.6]);
    expect(() => gateRows(G, [3])).toThrow("label 3 of image 0 is not a class of the gate matrix (0..2)");
  });

  it("sum the row gradients of images of one class into that class's row", () => {
    const grad = scatterGateGradient([1, 2, 10, 20, 100, 200], [1, 0, 1], 3, 2);
    expect([...grad]).toEqual([10, 20, 101, 202, 0, 0]);
    expect(() => scatterGateGradient([1, 2, 3], [0, 1], 3, 2)).toThrow("expected 2 x 2 values, got 3");
  });

  it("penalise the L1 norm above the density target only, with gradient lambda there", () => {
    // ||G||_1 = 2.2 over 4 gates; target 0.25 * 4 = 1: excess 1.2.
    const G = matrix([[1, 0.5], [0.7, 0]]);
    const active = densityHinge(G, 0.25, 0.01);
    expect(active.penalty).toBeCloseTo(0.012, 9);
    expect([...active.grad].map((v) => +v.toFixed(9))).toEqual([0.01, 0.01, 0.01, 0]);
    const inactive = densityHinge(G, 0.6, 0.01);
    expect(inactive.penalty).toBe(0);
    expect([...inactive.grad]).toEqual([0, 0, 0, 0]);
  });

  it("refuse a density outside (0, 1] and a negative lambda, naming the option", () => {
    const G = initialGates(2, 2);
    expect(() => densityHinge(G, 0, 1e-3)).toThrow("density must lie in (0, 1]");
    expect(() => densityHinge(G, 1.5, 1e-3)).toThrow("density must lie in (0, 1]");
    expect(() => densityHinge(G, 0.2, -1)).toThrow("lambda must be a finite number >= 0");
  });

  it("renormalise each channel's column by its largest gate, clamp to [0, 1], and zero a column with no positive gate", () => {
    const G = matrix([[0.4, -0.2, 0, 1.5], [0.2, 0.3, 0, 3], [0.1, -0.1, 0, -1]]);
    renormaliseGates(G);
    expect([...G.data].map((v) => +v.toFixed(6))).toEqual([1, 0, 0, 0.5, 0.5, 1, 0, 1, 0.25, 0, 0, 0]);
  });

  it("compute the CSG path's logits with each image's true-label row", () => {
    // Two features, two classes: logit_y = b_y + sum_j W[y, j] f_j G[label, j].
    const layer = { weight: Float32Array.of(1, 2, 3, 4), bias: Float32Array.of(0.5, -0.5), classes: 2, features: 2 };
    const features = { data: Float32Array.of(1, 1, 2, 0), rows: 2, cols: 2 };
    const G = matrix([[1, 0], [0.5, 0.5]]);
    const logits = gatedLogits(features, layer, G, Int32Array.of(0, 1));
    expect([...logits]).toEqual([1.5, 2.5, 1.5, 2.5]);
  });

  it("check a gate matrix's shape against the model", () => {
    expect(() => validateGates(initialGates(10, 32), 10, 64)).toThrow("the gate matrix is 10 x 32 but the model has 10 classes and 64 channels");
    expect(() => validateGates(matrix([[0.5, 1.2]]), 1, 2)).toThrow("gate (0, 1) is 1.2; gates lie in [0, 1]");
  });

  it("give each class's k largest gates and count overlaps with other sets", () => {
    const G = matrix([[0.1, 0.9, 0.5, 0.9], [1, 0, 0.2, 0.3]]);
    expect(topGateSets(G, 2)).toEqual([[1, 3], [0, 3]]);
    expect(setOverlap([[1, 3], [0, 3]], [[3, 2], [1, 2]])).toEqual({ perClass: [1, 0], total: 1 });
    expect(() => topGateSets(G, 5)).toThrow("k must be an integer from 1 to 4");
  });
});
