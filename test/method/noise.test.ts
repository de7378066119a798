import { ablateFeatures } from "../../src/method/noise";
import { normalSampler } from "../../src/method/random";

const rows = 50;
const cols = 16;
// Includes -0 and a subnormal so "bit-identical" is stronger than "equal".
const features = {
  data: Float32Array.from({ length: rows * cols }, (_, i) => (i % 11 === 0 ? -0 : i % 13 === 0 ? 1e-41 : (i * 0.37) % 5)),
  rows,
  cols,
};
const labels = Uint8Array.from({ length: rows }, (_, i) => i % 3);
const sets = [[3, 0, 9], [15], [1, 2, 4, 8, 12]];

function changedCells(after: Float32Array): boolean[] {
  const a = new Uint32Array(features.data.buffer);
  const b = new Uint32Array(after.buffer);
  return Array.from(a, (x, i) => x !== b[i]);
}

describe("noise ablation", () => {
  it.each(["influential", "others"] as const)("overwrites exactly the %s features and copies the rest bit for bit", (target) => {
    const out = ablateFeatures(features, labels, sets, { target, fill: "normal", seed: 5 });
    expect(out.data).not.toBe(features.data);
    const changed = changedCells(out.data);
    for (let i = 0; i < rows; i++) {
      for (let j = 0; j < cols; j++) {
        const inSet = sets[labels[i]].includes(j);
        expect(changed[i * cols + j]).toBe(target === "influential" ? inSet : !inSet);
      }
    }
  });

  it("draws samples row by row in ascending feature order", () => {
    const out = ablateFeatures(features, labels, sets, { target: "influential", fill: "normal", seed: 9 });
    const next = normalSampler(9);
    for (let i = 0; i < rows; i++) {
      for (const j of [...sets[labels[i]]].sort((a, b) => a - b)) {
        expect(out.data[i * cols + j]).toBe(Math.fround(next()));
      }
    }
  });

  it("is deterministic per seed", () => {
    const options = { target: "others", fill: "normal", seed: 3 } as const;
    expect(ablateFeatures(features, labels, sets, options).data).toEqual(ablateFeatures(features, labels, sets, options).data);
    expect(ablateFeatures(features, labels, sets, { ...options, seed: 4 }).data).not.toEqual(
      ablateFeatures(features, labels, sets, options).data,
    );
  });

  it("zeroes the chosen features", () => {
    const out = ablateFeatures(features, labels, sets, { target: "influential", fill: "zero" });
    for (let i = 0; i < rows; i++) {
      for (let j = 0; j < cols; j++) {
        const want = sets[labels[i]].includes(j) ? 0 : features.data[i * cols + j];
        expect(Object.is(out.data[i * cols + j], want)).toBe(true);
      }
    }
  });

  it("requires a seed for normal noise and a known target", () => {
    expect(() => ablateFeatures(features, labels, sets, { target: "influential", fill: "normal" })).toThrow(
      'ablation with fill "normal" needs an integer seed',
    );
    expect(() => ablateFeatures(features, labels, sets, { target: "all" as never, fill: "zero" })).toThrow(
      'ablation target must be "influential" or "others", got "all"',
    );
    expect(() => ablateFeatures(features, Uint8Array.from({ length: rows }, () => 3), sets, { target: "others", fill: "zero" })).toThrow(
      "label 3 at row 0 is outside 0..2",
    );
  });
});
