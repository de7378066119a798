/** Images/s of a ForwardEngine over a fixed image set, per batch size: the number `decomp bench` compares. */
import type { ForwardEngine } from "../models/engine";
import { normalSampler } from "../method/random";
import type { Progress } from "../progress";

export interface BatchTiming {
  batch: number;
  images: number;
  /** Best (shortest) of the repeated passes over all images. */
  seconds: number;
  imagesPerSec: number;
}

/**
 * `count` images of already-normalised N(0, 1) values, NHWC. Forward speed does not depend on pixel values,
 * so synthetic inputs give the same number as the CIFAR-10 test set without needing it on disk.
 */
export function syntheticImages(count: number, seed = 0, pixels = 32 * 32 * 3): Float32Array {
  const normal = normalSampler(seed);
  const out = new Float32Array(count * pixels);
  for (let i = 0; i < out.length; i++) out[i] = normal();
  return out;
}

/** Wall time of one pass over all images in batches of `batch` (the last one partial), as extraction runs. */
export async function timePass(engine: ForwardEngine, images: Float32Array, count: number, batch: number): Promise<number> {
  const per = images.length / count;
  const start = process.hrtime.bigint();
  for (let i = 0; i < count; i += batch) {
    const n = Math.min(batch, count - i);
    await engine.forward(images.subarray(i * per, (i + n) * per), n);
  }
  return Number(process.hrtime.bigint() - start) / 1e9;
}

export interface SweepOptions {
  batches: number[];
  /** Passes per batch size; the fastest counts, since a shared machine only ever slows a pass down. */
  repeats: number;
  /** Untimed forwards per batch size first, so one-off allocation and kernel selection are not timed. */
  warmup?: number;
  stage: string;
  progress: Progress;
}

export async function sweepBatchSizes(engine: ForwardEngine, images: Float32Array, count: number, opts: SweepOptions): Promise<BatchTiming[]> {
  const per = images.length / count;
  const timings: BatchTiming[] = [];
  const total = opts.batches.length * opts.repeats;
  let done = 0;
  for (const batch of opts.batches) {
    const b = Math.min(batch, count);
    for (let w = 0; w < (opts.warmup ?? 2); w++) await engine.forward(images.subarray(0, b * per), b);
    let best = Infinity;
    for (let r = 0; r < opts.repeats; r++) {
      best = Math.min(best, await timePass(engine, images, count, batch));
      opts.progress({ stage: opts.stage, done: ++done, total, unit: "passes" });
    }
    timings.push({ batch, images: count, seconds: best, imagesPerSec: count / best });
  }
  return timings;
}

export function fastest<T extends { imagesPerSec: number }>(timings: T[]): T {
  if (timings.length === 0) throw new Error("no timings to choose from");
  return timings.reduce((a, b) => (b.imagesPerSec > a.imagesPerSec ? b : a));
}
