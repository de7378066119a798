/** Batched forward passes over an image set, collecting pooled features and logits. */
import { augmentRange, batchView, type ImageSet, normalise } from "../data";
import type { ForwardEngine } from "../models/engine";
import { createEngine } from "../models/engines";
import type { ModelSpec } from "../models/spec";
import type { StateDict } from "../torch";
import { type Progress, silentProgress } from "../progress";

export interface ExtractionOptions {
  norm: string;
  /** Seed of the crop+flip augmentation applied before normalisation, or null for plain images. */
  augmentSeed: number | null;
  batchSize?: number;
  onProgress?: Progress;
  stage?: string;
}

export interface Extracted {
  features: Float32Array;
  logits: Float32Array;
}

export const DEFAULT_BATCH_SIZE = 128;

export async function runExtraction(engine: ForwardEngine, images: ImageSet, opts: ExtractionOptions): Promise<Extracted> {
  const { featureWidth: width, classes } = engine.spec;
  const batchSize = opts.batchSize ?? DEFAULT_BATCH_SIZE;
  const onProgress = opts.onProgress ?? silentProgress;
  const stage = opts.stage ?? `extract ${engine.spec.name}`;
  const features = new Float32Array(images.count * width);
  const logits = new Float32Array(images.count * classes);
  onProgress({ stage, done: 0, total: images.count, unit: "images" });
  for (let start = 0; start < images.count; start += batchSize) {
    const end = Math.min(start + batchSize, images.count);
    const pixels = opts.augmentSeed === null ? batchView(images, start, end).pixels : augmentRange(images, start, end, opts.augmentSeed);
    const out = await engine.forward(normalise({ count: end - start, pixels }, opts.norm), end - start);
    features.set(out.features, start * width);
    logits.set(out.logits, start * classes);
    onProgress({ stage, done: end, total: images.count, unit: "images" });
  }
  return { features, logits };
}

/**
 * Features and logits of a model given as weights rather than a cached checkpoint (a run being trained), on
 * the inference engine createEngine picks (DECOMP_ENGINE); the engine is released afterwards.
 */
export async function extractWithWeights(spec: ModelSpec, stateDict: StateDict, images: ImageSet, opts: ExtractionOptions): Promise<Extracted> {
  const engine = await createEngine(spec, stateDict);
  try {
    return await runExtraction(engine, images, opts);
  } finally {
    engine.dispose();
  }
}
