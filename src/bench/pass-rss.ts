/**
 * Peak memory of a ResNet50 training pass against the number of images: the real pass (decomp extract's) in a
 * child process per measurement, on a synthetic ILSVRC-layout tree of hard links to a few small JPEGs. What
 * grows with the dataset (file names, labels, each image's top 50 indices, the pass file) does not depend on
 * the input size, so the big run feeds ResNet50 small images to finish in minutes; a run at 224 x 224 on a few
 * images gives the engine's own memory, and the two together project the pass over ImageNet's 1,281,167 images.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { writeTensorFile } from "../artifacts/tensor-file";
import { modelEntry } from "../models/registry";
import { expectedShapes } from "../models/weights";
import type { Progress } from "../progress";
import type { StateDict } from "../torch";
import { runBenchChild } from "./child";
import type { PassRssChildArgs, PassRssChildResult } from "./pass-rss-child";
import { writeSyntheticJpeg } from "./pipeline-bench";
import { withTempDir } from "./temp-dir";

/** ILSVRC-2012's training set. */
export const IMAGENET_TRAIN_IMAGES = 1_281_167;
const CLASSES = 10;
const DISTINCT_JPEGS = 32;

export interface PassRssRun extends PassRssChildResult {
  side: number;
  imagesPerSec: number;
}

export interface PassRssReport {
  model: "resnet50";
  /** The engine's baseline (224 x 224, few images), a small and a large run at the small side. */
  runs: PassRssRun[];
  /** Peak RSS growth per image between the small-side runs (can be negative: the garbage collector's timing moves peaks). */
  measuredBytesPerImage: number;
  /**
   * What the projection charges per image: the measured growth, but at least the pass file's bytes per image
   * (its float32 ranks and labels are all in memory when it is written).
   */
  bytesPerImage: number;
  /** The 224 x 224 run's peak plus bytesPerImage over the rest of ImageNet's training set. */
  projected: { images: number; peakRssMiB: number };
}

async function writeTree(root: string, images: number, seedDir: string): Promise<void> {
  const wnids = Array.from({ length: CLASSES }, (_, c) => `n${String(1440764 + c).padStart(8, "0")}`);
  for (const w of wnids) fs.mkdirSync(path.join(root, "train", w), { recursive: true });
  for (let i = 0; i < images; i++) {
    fs.linkSync(path.join(seedDir, `${i % DISTINCT_JPEGS}.JPEG`), path.join(root, "train", wnids[i % CLASSES], `img_${String(i).padStart(7, "0")}.JPEG`));
  }
}

export async function passRssReport(opts: { images: number; side?: number; baselineImages?: number; progress: Progress }): Promise<PassRssReport> {
  const side = opts.side ?? 32;
  const baselineImages = opts.baselineImages ?? 256;
  const small = Math.min(2000, Math.max(1, Math.floor(opts.images / 10)));
  return withTempDir("decomp-bench-pass-rss-", async (dir) => {
    const stage = "bench resnet50 training-pass memory";
    const seedDir = path.join(dir, "seed");
    fs.mkdirSync(seedDir);
    for (let i = 0; i < DISTINCT_JPEGS; i++) await writeSyntheticJpeg(path.join(seedDir, `${i}.JPEG`), 100 + i, 64, 48);
    // Zero weights: neither the memory nor the speed of a pass depends on their values.
    const weights = path.join(dir, "resnet50-10.decomp");
    const zeros: StateDict = new Map([...expectedShapes(modelEntry("resnet50").buildSpec(CLASSES))].map(([name, shape]) => [name, { shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)) }]));
    await writeTensorFile(weights, zeros, { note: "zero weights for decomp bench" });
    const plan: [number, number][] = [[baselineImages, 224], [small, side], [opts.images, side]];
    const runs: PassRssRun[] = [];
    for (const [i, [images, s]] of plan.entries()) {
      opts.progress({ stage, done: i, total: plan.length });
      const root = path.join(dir, `tree-${i}`);
      await writeTree(root, images, seedDir);
      const r = await runBenchChild<PassRssChildArgs, PassRssChildResult>(__filename, "pass-rss-child", { root, weights, side: s, cacheDir: path.join(dir, `cache-${i}`) });
      runs.push({ ...r, side: s, imagesPerSec: r.images / r.seconds });
      fs.rmSync(root, { recursive: true, force: true });
    }
    opts.progress({ stage, done: plan.length, total: plan.length });
    const [base, low, high] = runs;
    const measuredBytesPerImage = high.images > low.images ? ((high.peakRssMiB - low.peakRssMiB) * 1048576) / (high.images - low.images) : 0;
    const bytesPerImage = Math.max(measuredBytesPerImage, high.fileBytes / high.images);
    return {
      model: "resnet50", runs, measuredBytesPerImage, bytesPerImage,
      projected: { images: IMAGENET_TRAIN_IMAGES, peakRssMiB: base.peakRssMiB + (bytesPerImage * (IMAGENET_TRAIN_IMAGES - base.images)) / 1048576 },
    };
  });
}
