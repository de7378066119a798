import { curveArea, gaussianBlur, perturbedImage, pixelsAtStep, rankPixels, softmaxAt } from "../../src/method/faithfulness";

describe("pixel ranking and steps", () => {
  it("ranks from the highest value, ties by position", () => {
    expect(Array.from(rankPixels([0.2, 0.9, 0.2, 0.5]))).toEqual([1, 3, 0, 2]);
  });

  it("changes a rounded fraction of the pixels per step", () => {
    expect([0, 1, 10, 20].map((s) => pixelsAtStep(s, 20, 1024))).toEqual([0, 51, 512, 1024]);
    expect(() => pixelsAtStep(21, 20, 1024)).toThrow("step 21 is outside 0..20");
    expect(() => pixelsAtStep(0, 0, 1024)).toThrow("positive whole number of steps");
  });
});

describe("blur", () => {
  it("leaves a flat image as it is and spreads an impulse symmetrically, keeping its mass", () => {
    const flat = new Uint8Array(5 * 5 * 3).fill(77);
    expect(Array.from(gaussianBlur(flat, 5, 5, 1))).toEqual(Array.from(flat));
    const impulse = new Uint8Array(9 * 9 * 3);
    impulse[(4 * 9 + 4) * 3] = 255;
    const out = gaussianBlur(impulse, 9, 9, 1);
    const red = (x: number, y: number) => out[(y * 9 + x) * 3];
    expect(red(4, 4)).toBeLessThan(255);
    expect(red(3, 4)).toBe(red(5, 4));
    expect(red(4, 3)).toBe(red(4, 5));
    expect(red(3, 3)).toBe(red(5, 5));
    expect(red(4, 4)).toBeGreaterThan(red(3, 4));
    let mass = 0;
    for (let p = 0; p < 81; p++) mass += out[p * 3];
    expect(Math.abs(mass - 255)).toBeLessThan(12); // rounding of 81 bytes
    expect(out[(4 * 9 + 4) * 3 + 1]).toBe(0); // channels stay apart
    expect(() => gaussianBlur(flat, 5, 5, 0)).toThrow("sigma must be a positive number");
  });
});

describe("perturbed images", () => {
  // 2 pixels: image red/green, blurred grey.
  const image = Uint8Array.from([255, 0, 0, 0, 255, 0]);
  const blurred = Uint8Array.from([128, 128, 128, 128, 128, 128]);
  const order = Int32Array.from([1, 0]);
  const out = new Uint8Array(6);

  it("deletion blurs the top-ranked pixels of the image; insertion restores them into the blurred copy", () => {
    perturbedImage("deletion", image, blurred, order, 1, out);
    expect(Array.from(out)).toEqual([255, 0, 0, 128, 128, 128]);
    perturbedImage("insertion", image, blurred, order, 1, out);
    expect(Array.from(out)).toEqual([128, 128, 128, 0, 255, 0]);
    perturbedImage("deletion", image, blurred, order, 0, out);
    expect(Array.from(out)).toEqual(Array.from(image));
    perturbedImage("insertion", image, blurred, order, 2, out);
    expect(Array.from(out)).toEqual(Array.from(image));
    expect(() => perturbedImage("deletion", image, blurred, Int32Array.from([0]), 1, out)).toThrow("disagree");
  });
});

describe("areas and probabilities", () => {
  it("integrates by trapezoids over [0, 1]", () => {
    expect(curveArea([1, 1, 1])).toBe(1);
    expect(curveArea([1, 0])).toBe(0.5);
    expect(curveArea([0, 1, 0, 1])).toBeCloseTo(0.5, 12);
    expect(() => curveArea([1])).toThrow("at least two points");
  });

  it("computes a stable softmax entry", () => {
    expect(softmaxAt([0, 0, 9, 1000, 1000], 3, 2, 1)).toBeCloseTo(0.5, 12);
    expect(softmaxAt([Math.log(1), Math.log(3)], 0, 2, 1)).toBeCloseTo(0.75, 12);
  });
});
