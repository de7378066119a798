/**
 * Decoding and preprocessing on worker threads: the same bytes as doing both on this thread, in the order asked,
 * a broken file failing alone with its name, and the worker count read from DECOMP_DECODE_WORKERS.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { writeSyntheticJpeg } from "../../src/bench/pipeline-bench";
import { decodeImage } from "../../src/data/decode";
import { defaultWorkerCount, ImagePool } from "../../src/data/image-pool";
import { preprocessImage, type Recipe } from "../../src/data/preprocess";

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "decomp-image-pool-"));
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

const RECIPES: Recipe[] = [
  { kind: "resize-crop", resize: 256, crop: 224, interpolation: "bilinear" },
  { kind: "squash", size: 224, interpolation: "bilinear" },
  { kind: "resize-crop", resize: 320, crop: 300, interpolation: "bicubic" },
];

describe("ImagePool", () => {
  it("gives the bytes of in-thread decoding and preprocessing, in order", async () => {
    const files: string[] = [];
    for (let i = 0; i < 7; i++) {
      files.push(path.join(scratch, `img${i}.jpg`));
      await writeSyntheticJpeg(files[i], 11 + i, 150 + 37 * i, 260 - 19 * i);
    }
    for (const recipe of RECIPES) {
      const side = recipe.kind === "squash" ? recipe.size : recipe.kind === "resize-crop" ? recipe.crop : 0;
      const expected = new Uint8Array(files.length * side * side * 3);
      for (const [i, f] of files.entries()) {
        const img = await decodeImage(f);
        expected.set(preprocessImage(img.pixels, img.height, img.width, recipe), i * side * side * 3);
      }
      const pool = new ImagePool(recipe, 2);
      try {
        const got = await pool.batch(files, side * side * 3);
        expect(Buffer.compare(Buffer.from(got), Buffer.from(expected))).toBe(0);
      } finally {
        await pool.close();
      }
    }
  }, 60_000);

  it("fails a broken file alone, naming it, and goes on with the others", async () => {
    const good = path.join(scratch, "good.jpg");
    await writeSyntheticJpeg(good, 5, 60, 80);
    const broken = path.join(scratch, "broken.jpg");
    fs.writeFileSync(broken, fs.readFileSync(good).subarray(0, 200));
    const pool = new ImagePool({ kind: "squash", size: 16, interpolation: "bilinear" }, 1);
    try {
      await expect(pool.image(broken)).rejects.toThrow(`${broken}: cannot decode the image`);
      expect((await pool.image(good)).length).toBe(16 * 16 * 3);
    } finally {
      await pool.close();
    }
    await expect(pool.image(good)).rejects.toThrow("the image pool was closed");
  });

  it("takes its size from DECOMP_DECODE_WORKERS, else from the cores", () => {
    expect(defaultWorkerCount({ DECOMP_DECODE_WORKERS: "3" })).toBe(3);
    expect(() => defaultWorkerCount({ DECOMP_DECODE_WORKERS: "0" })).toThrow("DECOMP_DECODE_WORKERS must be a positive integer, got '0'");
    expect(defaultWorkerCount({})).toBe(Math.min(4, Math.max(1, os.availableParallelism() - 1)));
  });
});
