import * as fs from "node:fs";
import * as path from "node:path";
import { gunzipSync } from "node:zlib";
import { preprocessImage, type Recipe, recipeId } from "../../src/data/preprocess";
import { centerOffset, resizeImage, shorterSideSize } from "../../src/data/resize";

const DIR = path.join(__dirname, "..", "fixtures", "resize");
type Placed = { offset: number; shape: [number, number, number] };
const header = JSON.parse(fs.readFileSync(path.join(DIR, "fixtures.json"), "utf8")) as {
  sources: Record<string, Placed>;
  cases: ({ name: string; source: string; recipe: Recipe } & Placed)[];
};
const blob = gunzipSync(fs.readFileSync(path.join(DIR, "arrays.bin.gz")));
const bytes = (p: Placed) => new Uint8Array(blob.buffer, blob.byteOffset + p.offset, p.shape[0] * p.shape[1] * p.shape[2]);

describe("resizing equal to PIL under torchvision's transforms", () => {
  it.each(header.cases.map((c) => [c.name, c] as const))("%s: every pixel identical to PIL's (the tolerance is 1 grey level)", (_name, c) => {
    const src = header.sources[c.source];
    const out = preprocessImage(bytes(src), src.shape[0], src.shape[1], c.recipe);
    const expected = bytes(c);
    expect(out.length).toBe(expected.length);
    let worst = 0;
    let differing = 0;
    for (let i = 0; i < out.length; i++) {
      const d = Math.abs(out[i] - expected[i]);
      worst = Math.max(worst, d);
      if (d !== 0) differing++;
    }
    expect(worst).toBeLessThanOrEqual(1);
    expect({ recipe: recipeId(c.recipe), differing }).toEqual({ recipe: recipeId(c.recipe), differing: 0 });
  });

  it("leaves an axis of unchanged size alone and returns a copy for an identity resize", () => {
    const src = Uint8Array.from({ length: 2 * 3 * 3 }, (_, i) => i * 7);
    const same = resizeImage(src, 2, 3, 3, 2, 3, "bicubic");
    expect(Array.from(same)).toEqual(Array.from(src));
    expect(same).not.toBe(src);
  });

  it("keeps a constant image constant when shrinking (edge windows are renormalised)", () => {
    const src = new Uint8Array(8 * 1 * 3).fill(200);
    expect(Array.from(resizeImage(src, 1, 8, 3, 1, 4, "bilinear"))).toEqual(new Array(12).fill(200));
  });

  it("follows torchvision's size rules: the shorter side, truncation, ties of the crop offset to even", () => {
    expect(shorterSideSize(96, 64, 37)).toEqual([55, 37]);
    expect(shorterSideSize(375, 500, 256)).toEqual([256, 341]);
    // A 5-wide image cropped to 2: margin 1.5 rounds to 2 (Python's round); 2.5 rounds to 2 as well.
    expect([centerOffset(5, 2), centerOffset(7, 2), centerOffset(256, 224), centerOffset(341, 224)]).toEqual([2, 2, 16, 58]);
    const row = Uint8Array.from([0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4]);
    const window = { top: 0, left: centerOffset(5, 2), height: 2, width: 2 };
    expect(Array.from(resizeImage(new Uint8Array([...row, ...row]), 2, 5, 3, 2, 5, "bilinear", window))).toEqual([2, 2, 2, 3, 3, 3, 2, 2, 2, 3, 3, 3]);
  });

  it.each(["bilinear", "bicubic"] as const)("computes a window of the result (%s) with the bytes of resizing all, then cropping", (interpolation) => {
    const src = header.sources.mosaic;
    const [h, w] = [src.shape[0], src.shape[1]];
    for (const [outH, outW] of [[55, 37], [150, 101], [96, 40]]) {
      const full = resizeImage(bytes(src), h, w, 3, outH, outW, interpolation);
      const window = { top: 7, left: 5, height: outH - 12, width: outW - 9 };
      const part = resizeImage(bytes(src), h, w, 3, outH, outW, interpolation, window);
      const cropped = new Uint8Array(window.height * window.width * 3);
      for (let y = 0; y < window.height; y++) cropped.set(full.subarray(((window.top + y) * outW + window.left) * 3, ((window.top + y) * outW + window.left + window.width) * 3), y * window.width * 3);
      expect(Buffer.from(part).equals(Buffer.from(cropped))).toBe(true);
    }
  });

  it("refuses sizes it cannot honour", () => {
    expect(() => resizeImage(new Uint8Array(10), 2, 2, 3, 4, 4, "bilinear")).toThrow("10 bytes is not 2 x 2 x 3");
    expect(() => resizeImage(new Uint8Array(12), 2, 2, 3, 0, 4, "bilinear")).toThrow("output height must be a positive integer");
    expect(() => preprocessImage(new Uint8Array(12), 2, 2, { kind: "resize-crop", resize: 3, crop: 4, interpolation: "bilinear" })).toThrow("a 4 x 4 crop does not fit");
    expect(() => resizeImage(new Uint8Array(12), 2, 2, 3, 4, 4, "bilinear", { top: 2, left: 0, height: 3, width: 4 })).toThrow("the window 3 x 4 at (2, 0) is not inside the 4 x 4 result");
  });
});
