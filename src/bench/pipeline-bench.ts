/**
 * The ImageNet input pipeline end to end: JPEG decoding, the weight's preprocessing and the forward pass over a
 * synthetic ILSVRC-layout folder (photograph-sized JPEGs this bench writes), ours (extractFiles: sharp, the
 * Pillow-exact resize, ONNX Runtime) against torchvision's ImageFolder + DataLoader + the same transforms + the
 * same model in PyTorch, each with its stage breakdown: decoding and preprocessing alone, the forward alone.
 */
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { promisify } from "node:util";
import sharp from "sharp";
import { normalise } from "../data";
import { decodeImage } from "../data/decode";
import { scanImageNet } from "../data/imagenet";
import { preprocessImage, recipeId } from "../data/preprocess";
import { extractFiles } from "../features/imagenet";
import { createOnnxEngine } from "../models/onnx-engine";
import { inputRecipe, modelEntry } from "../models/registry";
import type { Progress } from "../progress";
import { initialStateDict } from "../training/init";
import { withTempDir } from "./temp-dir";

const run = promisify(execFile);
export const IMAGEFOLDER_BENCH_SCRIPT = path.resolve(__dirname, "..", "..", "scripts", "bench-imagefolder.py");

export interface PipelineReport {
  model: string;
  images: number;
  /** Width x height of the synthetic JPEGs (ImageNet's typical 500 x 375). */
  imageSize: [number, number];
  batch: number;
  recipe: string;
  ours: { backend: string; seconds: number; imagesPerSec: number; stages: { decodeSeconds: number; preprocessSeconds: number; forwardSeconds: number } };
  torch: { seconds: number; imagesPerSec: number; workers: number; sweep: { workers: number; imagesPerSec: number }[]; stages: { decodeTransformSeconds: number; forwardSeconds: number }; peakRssMiB: number } | null;
  /** Our images/s over PyTorch's best (goal: at least 1). */
  ratio: number | null;
}

/** A JPEG of `width` x `height` with photograph-like structure (gradients, edges, noise), different per seed. */
export async function writeSyntheticJpeg(file: string, seed: number, width: number, height: number): Promise<void> {
  const pixels = Buffer.alloc(width * height * 3);
  let s = (seed * 2654435761) >>> 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      s = (Math.imul(s, 1103515245) + 12345) >>> 0;
      const o = (y * width + x) * 3;
      const band = ((x + seed * 17) >> 5) & 1;
      pixels[o] = (x * 255) / width;
      pixels[o + 1] = band ? (y * 255) / height : 255 - (y * 255) / height;
      pixels[o + 2] = (s >>> 26) + (band ? 160 : 40);
    }
  }
  fs.mkdirSync(path.dirname(file), { recursive: true });
  await sharp(pixels, { raw: { width, height, channels: 3 } }).jpeg({ quality: 90 }).toFile(file);
}

/** `count` synthetic JPEGs of `width` x `height` in 4 wnid folders under train/. */
async function writeSyntheticTree(root: string, count: number, width: number, height: number): Promise<void> {
  const wnids = ["n01440764", "n01443537", "n01484850", "n01491361"];
  for (let i = 0; i < count; i++) await writeSyntheticJpeg(path.join(root, "train", wnids[i % wnids.length], `img_${String(i).padStart(5, "0")}.JPEG`), i, width, height);
}

const seconds = (since: bigint) => Number(process.hrtime.bigint() - since) / 1e9;

export async function pipelineReport(opts: { model: string; images: number; batch: number; threads: number; python: string | null; progress: Progress }): Promise<PipelineReport> {
  const size: [number, number] = [500, 375];
  return withTempDir("decomp-bench-pipeline-", async (dir) => {
    const stage = `bench ${opts.model} input pipeline`;
    opts.progress({ stage, done: 0, total: 3 });
    await writeSyntheticTree(dir, opts.images, size[0], size[1]);
    const list = scanImageNet(dir).splits.train!;
    const entry = modelEntry(opts.model);
    const recipe = inputRecipe(entry, "torchvision");
    const spec = entry.buildSpec();
    const side = spec.inputShape[0];
    const engine = await createOnnxEngine(spec, initialStateDict(spec, 0), { intraOpThreads: opts.threads });
    try {
      // Stages alone: decode, preprocess, forward (on the same images).
      let t = process.hrtime.bigint();
      const decoded = await Promise.all(list.files.map((f) => decodeImage(f)));
      const decodeSeconds = seconds(t);
      t = process.hrtime.bigint();
      const prepared = decoded.map((d) => preprocessImage(d.pixels, d.height, d.width, recipe));
      const preprocessSeconds = seconds(t);
      const bytes = side * side * 3;
      await engine.forward(normalise({ count: 1, pixels: prepared[0] }, "checkpoint"), 1);
      t = process.hrtime.bigint();
      for (let i = 0; i < prepared.length; i += opts.batch) {
        const batch = prepared.slice(i, i + opts.batch);
        const pixels = new Uint8Array(batch.length * bytes);
        batch.forEach((p, j) => pixels.set(p, j * bytes));
        await engine.forward(normalise({ count: batch.length, pixels }, "checkpoint"), batch.length);
      }
      const forwardSeconds = seconds(t);
      opts.progress({ stage, done: 1, total: 3 });
      t = process.hrtime.bigint();
      await extractFiles(engine, list, { recipe, norm: "checkpoint", batchSize: opts.batch });
      const total = seconds(t);
      opts.progress({ stage, done: 2, total: 3 });
      const ours = { backend: engine.backend, seconds: total, imagesPerSec: opts.images / total, stages: { decodeSeconds, preprocessSeconds, forwardSeconds } };
      let torch: PipelineReport["torch"] = null;
      if (opts.python !== null) {
        const { stdout } = await run(opts.python, [IMAGEFOLDER_BENCH_SCRIPT, `--folder=${path.join(dir, "train")}`, `--model=${opts.model}`, `--batch=${opts.batch}`, `--threads=${opts.threads}`], { maxBuffer: 16 << 20 });
        const r = JSON.parse(stdout) as { decodeTransformSeconds: number; forwardSeconds: number; pipelines: { workers: number; seconds: number; imagesPerSec: number }[]; peakRssMiB: number };
        const best = r.pipelines.reduce((a, b) => (b.imagesPerSec > a.imagesPerSec ? b : a));
        torch = {
          seconds: best.seconds, imagesPerSec: best.imagesPerSec, workers: best.workers, sweep: r.pipelines.map((p) => ({ workers: p.workers, imagesPerSec: p.imagesPerSec })),
          stages: { decodeTransformSeconds: r.decodeTransformSeconds, forwardSeconds: r.forwardSeconds }, peakRssMiB: r.peakRssMiB,
        };
      }
      opts.progress({ stage, done: 3, total: 3 });
      return { model: opts.model, images: opts.images, imageSize: size, batch: opts.batch, recipe: recipeId(recipe), ours, torch, ratio: torch === null ? null : ours.imagesPerSec / torch.imagesPerSec };
    } finally {
      engine.dispose();
    }
  });
}
