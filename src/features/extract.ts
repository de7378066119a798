/** Batched forward passes over an image set, collecting pooled features and logits. */
import { augmentRange, batchView, type ImageSet, normalise } from "../data";
import { IMAGE_HEIGHT, IMAGE_WIDTH } from "../data/image-set";
import { preprocessBatch, type Recipe, recipeOutputSide } from "../data/preprocess";
import type { ForwardEngine, ModelShape } from "../models/engine";
import { createEngine } from "../models/engines";
import type { ModelSpec } from "../models/spec";
import type { StateDict } from "../torch";
import { type Progress, silentProgress } from "../progress";

export interface ExtractionOptions {
  norm: string;
  /** Seed of the crop+flip augmentation applied before normalisation, or null for plain images. */
  augmentSeed: number | null;
  /** Resize and crop after the augmentation, before normalisation (default: none); must give the engine's input size. */
  recipe?: Recipe;
  batchSize?: number;
  onProgress?: Progress;
  stage?: string;
  /** Widths of the stage outputs the engine's description returns (withStageOutputs), to collect them too. */
  stageWidths?: number[];
}

export interface Extracted {
  features: Float32Array;
  logits: Float32Array;
  /** Each stage's pooled outputs, count x its width, when stageWidths was given. */
  stages?: Float32Array[];
}

export const DEFAULT_BATCH_SIZE = 128;

export async function runExtraction(engine: ForwardEngine, images: ImageSet, opts: ExtractionOptions): Promise<Extracted> {
  const { featureWidth: width, classes } = engine.spec;
  const batchSize = opts.batchSize ?? DEFAULT_BATCH_SIZE;
  const onProgress = opts.onProgress ?? silentProgress;
  const stage = opts.stage ?? `extract ${engine.spec.name}`;
  const recipe = opts.recipe ?? { kind: "native" };
  const side = recipeOutputSide(recipe, IMAGE_HEIGHT, IMAGE_WIDTH);
  if (side !== engine.spec.inputShape[0] || side !== engine.spec.inputShape[1]) {
    throw new Error(`${engine.spec.name} takes ${engine.spec.inputShape[0]} x ${engine.spec.inputShape[1]} images but the preprocessing gives ${side} x ${side}`);
  }
  const features = new Float32Array(images.count * width);
  const logits = new Float32Array(images.count * classes);
  const stageWidths = opts.stageWidths;
  const stages = stageWidths?.map((w) => new Float32Array(images.count * w));
  onProgress({ stage, done: 0, total: images.count, unit: "images" });
  for (let start = 0; start < images.count; start += batchSize) {
    const end = Math.min(start + batchSize, images.count);
    const raw = opts.augmentSeed === null ? batchView(images, start, end).pixels : augmentRange(images, start, end, opts.augmentSeed);
    const pixels = recipe.kind === "native" ? raw : preprocessBatch(raw, end - start, IMAGE_HEIGHT, IMAGE_WIDTH, recipe);
    const out = await engine.forward(normalise({ count: end - start, pixels }, opts.norm), end - start);
    features.set(out.features, start * width);
    logits.set(out.logits, start * classes);
    if (stages !== undefined && stageWidths !== undefined) {
      if (out.stages?.length !== stages.length) throw new Error(`${engine.spec.name}: the engine returned no stage outputs; build it from withStageOutputs(spec)`);
      stages.forEach((s, i) => s.set(out.stages![i], start * stageWidths[i]));
    }
    onProgress({ stage, done: end, total: images.count, unit: "images" });
  }
  return { features, logits, ...(stages === undefined ? {} : { stages }) };
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

/**
 * Features and logits of a float32 batch that is already normalised: NCHW [N, C, H, W] (what a PyTorch model
 * takes; each slice of `batchSize` is reordered to the engines' NHWC) or, for a model whose graph takes it, NHWC.
 */
export async function forwardBatch(engine: ForwardEngine, input: { shape: number[]; data: Float32Array }, layout: "nchw" | "nhwc" = "nchw", batchSize = DEFAULT_BATCH_SIZE, onProgress: Progress = silentProgress): Promise<Extracted> {
  const { spec } = engine;
  const [h, w, c] = spec.inputShape;
  checkBatchShape(spec, input.shape, layout);
  const n = input.shape[0];
  const features = new Float32Array(n * spec.featureWidth);
  const logits = new Float32Array(n * spec.classes);
  const plane = h * w;
  const stage = `forward ${spec.name}`;
  onProgress({ stage, done: 0, total: n, unit: "images" });
  for (let start = 0; start < n; start += batchSize) {
    const count = Math.min(batchSize, n - start);
    let nhwc: Float32Array;
    if (layout === "nhwc") nhwc = input.data.subarray(start * plane * c, (start + count) * plane * c);
    else {
      nhwc = new Float32Array(count * plane * c);
      for (let i = 0; i < count; i++) {
        const from = (start + i) * c * plane;
        for (let ch = 0; ch < c; ch++) for (let p = 0; p < plane; p++) nhwc[(i * plane + p) * c + ch] = input.data[from + ch * plane + p];
      }
    }
    const out = await engine.forward(nhwc, count);
    features.set(out.features, start * spec.featureWidth);
    logits.set(out.logits, start * spec.classes);
    onProgress({ stage, done: start + count, total: n, unit: "images" });
  }
  return { features, logits };
}

/** A batch shape the model takes in the given layout, or an error naming what to change. */
export function checkBatchShape(spec: ModelShape, shape: number[], layout: "nchw" | "nhwc" = "nchw"): void {
  const [h, w, c] = spec.inputShape;
  const want = layout === "nchw" ? [c, h, w] : [h, w, c];
  if (shape.length !== 4 || shape.slice(1).join() !== want.join()) {
    const named = layout === "nchw" ? "NCHW order, normalised as the model expects" : "NHWC order (the layout this model's graph takes), normalised as the model expects";
    throw new Error(`${spec.name} takes a float32 batch of shape (N, ${want.join(", ")}) in ${named}; got (${shape.join(", ")})`);
  }
  if (shape[0] < 1) throw new Error(`the input batch holds no image (shape (${shape.join(", ")}))`);
}
