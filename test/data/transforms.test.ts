import { makeImageSet } from "../../src/data/image-set";
import { deriveSeed, mulberry32 } from "../../src/data/prng";
import { augmentRange, augmentationFor, batchView, customNormalisation, getNormalisation, normalisationId, normalise, padCropFlip } from "../../src/data/transforms";

/** n images whose pixel bytes are all `value(n, y, x, c)`. */
function setOf(n: number, value: (i: number, y: number, x: number, c: number) => number) {
  const pixels = new Uint8Array(n * 3072);
  for (let i = 0; i < n; i++) for (let y = 0; y < 32; y++) for (let x = 0; x < 32; x++) for (let c = 0; c < 3; c++) pixels[i * 3072 + (y * 32 + x) * 3 + c] = value(i, y, x, c);
  return makeImageSet(pixels, new Uint8Array(n).map((_, i) => i % 10));
}

describe("normalise", () => {
  // Hand-computed (v / 255 - mean[c]) / std[c] for v = 0, 128, 255.
  const expected = {
    checkpoint: { 0: [-2.117904, -2.035714, -1.804444], 128: [0.074065, 0.205182, 0.426492], 255: [2.248908, 2.428571, 2.64] },
    cifar: { 0: [-1.987854, -1.983539, -1.712644], 128: [0.044376, 0.082143, 0.210578], 255: [2.060729, 2.131687, 2.118774] },
  };
  const set = setOf(3, (i) => [0, 128, 255][i]);

  it.each(["checkpoint", "cifar"] as const)("gives the known values for %s, per channel, NHWC", (name) => {
    const out = normalise(set, name);
    expect(out).toBeInstanceOf(Float32Array);
    expect(out.length).toBe(3 * 3072);
    [0, 128, 255].forEach((v, i) => {
      for (const p of [0, 517, 1023]) for (let c = 0; c < 3; c++) expect(out[i * 3072 + p * 3 + c]).toBeCloseTo(expected[name][v as 0][c], 5);
    });
  });

  it("works on a view of part of a set", () => {
    const out = normalise(batchView(set, 2, 3), "checkpoint");
    expect(out.length).toBe(3072);
    expect(out[1]).toBeCloseTo(2.428571, 5);
  });

  it("writes into a given buffer when asked, and refuses one of the wrong size", () => {
    const into = new Float32Array(3 * 3072).fill(Number.NaN);
    expect(normalise(set, "cifar", into)).toBe(into);
    expect(Array.from(into)).toEqual(Array.from(normalise(set, "cifar")));
    expect(() => normalise(set, "cifar", new Float32Array(3072))).toThrow("normalise: the output holds 3072 values, 3 images need 9216");
  });

  it("fails on an unknown name, listing the known ones", () => {
    expect(() => normalise(set, "imagenet")).toThrow('Unknown normalisation "imagenet". Known normalisations: checkpoint, cifar, or mean=a,b,c;std=a,b,c');
  });

  it("takes a model's own statistics written out: pixel units and BGR order (a Caffe-style model)", () => {
    // One pixel (R, G, B) = (10, 20, 30): in BGR order, minus a per-channel mean in pixel units, over std 2, 4, 8.
    const pixel = makeImageSet(Uint8Array.from({ length: 3072 }, (_, i) => [10, 20, 30][i % 3]), Uint8Array.of(0));
    const name = customNormalisation({ mean: [1, 2, 3], std: [2, 4, 8], scale: 255, channels: "bgr" });
    expect(name).toBe("mean=1,2,3;std=2,4,8;scale=255;channels=bgr");
    expect(Array.from(normalise(pixel, name).subarray(0, 3))).toEqual([(30 - 1) / 2, (20 - 2) / 4, (10 - 3) / 8]);
    const plain = customNormalisation({ mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] });
    expect(normalise(pixel, plain)[0]).toBeCloseTo((10 / 255 - 0.5) / 0.5, 6);
    expect(normalisationId(name)).toMatch(/^norm[0-9a-f]{10}$/);
    expect(normalisationId("cifar")).toBe("cifar");
    expect(() => getNormalisation("mean=1,2;std=1,1,1")).toThrow("normalisation 'mean=1,2;std=1,1,1': mean needs three numbers");
    expect(() => getNormalisation("mean=1,2,3;std=1,0,1")).toThrow("std must be positive");
    expect(() => getNormalisation("mean=1,2,3;std=1,1,1;scale=100")).toThrow("scale must be 1 (pixels in [0, 1]) or 255");
  });
});

describe("batchView", () => {
  it("shares memory with the set and rejects ranges outside it", () => {
    const set = setOf(4, (i) => i);
    const view = batchView(set, 1, 3);
    expect(view.count).toBe(2);
    expect(view.pixels[0]).toBe(1);
    expect(view.pixels.buffer).toBe(set.pixels.buffer);
    expect(Array.from(view.labels)).toEqual([1, 2]);
    expect(() => batchView(set, 2, 5)).toThrow("Image range [2, 5) is not inside 0..4");
  });
});

describe("padCropFlip on a hand-made 3x3 image, pad 1", () => {
  const img = Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9]);
  const shape = { height: 3, width: 3, channels: 1 };
  const run = (dy: number, dx: number, flip: boolean) => {
    const out = new Uint8Array(9).fill(77);
    padCropFlip(img, out, shape, 1, { dy, dx, flip });
    return Array.from(out);
  };

  it("crops the zero-padded image at (dy, dx)", () => {
    expect(run(1, 1, false)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(run(0, 0, false)).toEqual([0, 0, 0, 0, 1, 2, 0, 4, 5]);
    expect(run(0, 2, false)).toEqual([0, 0, 0, 2, 3, 0, 5, 6, 0]);
  });

  it("mirrors left-right after cropping", () => {
    expect(run(1, 1, true)).toEqual([3, 2, 1, 6, 5, 4, 9, 8, 7]);
    expect(run(2, 0, true)).toEqual([5, 4, 0, 8, 7, 0, 0, 0, 0]);
  });

  it("moves a pixel's channels together", () => {
    const out = new Uint8Array(8);
    padCropFlip(Uint8Array.from([1, 10, 2, 20, 3, 30, 4, 40]), out, { height: 2, width: 2, channels: 2 }, 0, { dy: 0, dx: 0, flip: true });
    expect(Array.from(out)).toEqual([2, 20, 1, 10, 4, 40, 3, 30]);
  });
});

describe("seeded augmentation", () => {
  it("mulberry32 is deterministic per seed, in [0, 1) and roughly uniform", () => {
    const a = mulberry32(42);
    const b = mulberry32(42);
    const c = mulberry32(43);
    const xs = Array.from({ length: 20000 }, () => a());
    expect(Array.from({ length: 20000 }, () => b())).toEqual(xs);
    expect(c()).not.toBe(xs[0]);
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...xs)).toBeLessThan(1);
    expect(xs.reduce((s, x) => s + x, 0) / xs.length).toBeCloseTo(0.5, 1);
    expect(deriveSeed(1, 2)).not.toBe(deriveSeed(2, 1));
  });

  it("draws offsets 0..8 and flips about half the time", () => {
    const draws = Array.from({ length: 9000 }, (_, i) => augmentationFor(7, i));
    const dx = new Array(9).fill(0);
    draws.forEach((d) => dx[d.dx]++);
    expect(dx.every((n) => n > 800 && n < 1200)).toBe(true);
    expect(draws.every((d) => d.dy >= 0 && d.dy <= 8)).toBe(true);
    const flips = draws.filter((d) => d.flip).length;
    expect(flips).toBeGreaterThan(4200);
    expect(flips).toBeLessThan(4800);
  });

  // Pixels encode their own coordinates (R = y, G = x, B = 200 + image), so any output pixel says where it came from.
  const set = setOf(40, (i, y, x, c) => [y + 1, x + 1, 200 + i][c]);

  it("is the same for a seed whatever the batching, and differs between seeds", () => {
    const whole = augmentRange(set, 0, 40, 123);
    const parts = [augmentRange(set, 0, 13, 123), augmentRange(set, 13, 40, 123)];
    expect(Buffer.from(whole).equals(Buffer.concat(parts))).toBe(true);
    expect(Buffer.from(augmentRange(set, 0, 40, 124)).equals(Buffer.from(whole))).toBe(false);
  });

  it("produces crops of the zero-padded image, flipped or not", () => {
    const out = augmentRange(set, 5, 25, 99);
    const expected = new Uint8Array(out.length);
    let flipped = 0;
    let padded = 0;
    for (let k = 0; k < 20; k++) {
      const { dy, dx, flip } = augmentationFor(99, 5 + k);
      flipped += flip ? 1 : 0;
      for (let y = 0; y < 32; y++) {
        for (let x = 0; x < 32; x++) {
          const o = k * 3072 + (y * 32 + x) * 3;
          const sy = y + dy - 4;
          const sx = (flip ? 31 - x : x) + dx - 4;
          const inside = sy >= 0 && sy < 32 && sx >= 0 && sx < 32;
          padded += inside ? 0 : 1;
          if (inside) expected.set([sy + 1, sx + 1, 205 + k], o);
        }
      }
    }
    expect(Buffer.from(out).equals(Buffer.from(expected))).toBe(true);
    expect(flipped).toBeGreaterThan(0);
    expect(flipped).toBeLessThan(20);
    expect(padded).toBeGreaterThan(0);
  });
});
