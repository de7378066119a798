/**
 * Where fine-tuning reads its images: the in-memory CIFAR sets (pad-crop-flip augmentation, as before) or image
 * files (an ImageNet split) decoded, preprocessed, cropped and flipped on worker threads. Either way an image's
 * augmentation depends only on (seed, its index), so a resumed or re-batched run sees the same pixels.
 */
import type { Hash } from "node:crypto";
import { augmentationFor, type ImageSet, normalise } from "../data";
import { ImagePool } from "../data/image-pool";
import { type Recipe, recipeId, recipeOutputSide } from "../data/preprocess";
import { extractFiles, listFingerprint } from "../features/imagenet";
import { accuracy, predictFromLogits } from "../method";
import { createEngine, type EngineChoice } from "../models/engines";
import type { ModelSpec } from "../models/spec";
import type { Progress } from "../progress";
import type { StateDict } from "../torch";
import { extractWithWeights } from "../features/extract";
import { augmentedBatch, hashImageSet } from "./loop";

export interface TrainingImages {
  readonly count: number;
  readonly labels: ArrayLike<number>;
  /** Height, width, channels of every (augmented) image. */
  readonly shape: [number, number, number];
  /** Feeds what identifies the images, their labels and their preprocessing into a run's checkpoint key. */
  hashInto(hash: Hash): void;
  /** The augmented images at `indices`, written into `out` (indices.length images). */
  batch(indices: Uint32Array, seed: number, out: Uint8Array): Promise<Uint8Array>;
  /** Releases worker threads; a later batch starts them again. */
  close(): Promise<void>;
}

export interface EvaluationImages {
  readonly count: number;
  readonly labels: ArrayLike<number>;
  hashInto(hash: Hash): void;
  /**
   * Pooled features and logits of the weights (BatchNorm in eval mode; the head as it is in the state dict), on
   * the inference engine createEngine picks (DECOMP_ENGINE): evaluation runs before training and after every
   * epoch, so on TF.js WASM it would cost more than a minute per epoch.
   */
  forward(spec: ModelSpec, stateDict: StateDict, norm: string, onProgress?: Progress, stage?: string): Promise<{ features: Float32Array; logits: Float32Array }>;
  /** Top-1 accuracy of the weights. */
  accuracy(spec: ModelSpec, stateDict: StateDict, norm: string, onProgress?: Progress): Promise<number>;
}

const hashSet = (set: ImageSet) => (hash: Hash) => hashImageSet(hash, set);

/** An evaluation set from its forward pass: the accuracy reads the forward's logits. */
function evaluationImages(count: number, labels: ArrayLike<number>, hashInto: (hash: Hash) => void, forward: EvaluationImages["forward"]): EvaluationImages {
  return {
    count, labels, hashInto, forward,
    accuracy: async (spec, stateDict, norm, onProgress) => {
      const { logits } = await forward(spec, stateDict, norm, onProgress, `evaluate ${spec.name} (decomposed head)`);
      return accuracy(predictFromLogits(logits, count, spec.classes), Int32Array.from(labels));
    },
  };
}

export function inMemoryTraining(set: ImageSet): TrainingImages {
  return {
    count: set.count, labels: set.labels, shape: [set.height, set.width, set.channels], hashInto: hashSet(set),
    batch: async (indices, seed, out) => augmentedBatch(set, indices, seed, out),
    close: async () => {},
  };
}

export function inMemoryEvaluation(set: ImageSet): EvaluationImages {
  return evaluationImages(set.count, set.labels, hashSet(set), (spec, sd, norm, onProgress, stage) => extractWithWeights(spec, sd, set, { norm, augmentSeed: null, onProgress, stage }));
}

/** Eval-mode test accuracy of a state dict (its head already masked, for a decomposed model) on in-memory images. */
export function decomposedTestAccuracy(spec: ModelSpec, stateDict: StateDict, test: ImageSet, norm: string, onProgress?: Progress): Promise<number> {
  return inMemoryEvaluation(test).accuracy(spec, stateDict, norm, onProgress);
}

/** A list of image files with their labels (an ImageList of src/data/imagenet, or part of one). */
export interface LabelledFiles {
  files: readonly string[];
  labels: ArrayLike<number>;
}

function hashFiles(list: LabelledFiles, recipe: Recipe) {
  return (hash: Hash) => {
    hash.update(recipeId(recipe));
    hash.update(listFingerprint(list));
  };
}

function squareSide(recipe: Recipe): number {
  if (recipe.kind === "native") throw new Error("image files need a resize-and-crop or squash recipe, which gives every image one size");
  return recipeOutputSide(recipe, 1, 1);
}

/** Image files through the recipe, then the CIFAR-style crop (4 zero pixels on every side) and flip, on worker threads. */
export function fileTraining(list: LabelledFiles, recipe: Recipe, opts: { workers?: number } = {}): TrainingImages {
  const side = squareSide(recipe);
  let pool: ImagePool | null = null;
  return {
    count: list.files.length, labels: list.labels, shape: [side, side, 3], hashInto: hashFiles(list, recipe),
    batch: (indices, seed, out) => {
      pool ??= new ImagePool(recipe, opts.workers);
      const files = Array.from(indices, (i) => list.files[i]);
      return pool.batch(files, side * side * 3, Array.from(indices, (i) => augmentationFor(seed, i)), out);
    },
    close: async () => {
      await pool?.close();
      pool = null;
    },
  };
}

/** Image files through the recipe (no augmentation), scored on a forward engine built from the weights. */
export function fileEvaluation(list: LabelledFiles, recipe: Recipe, opts: { engine?: EngineChoice; batchSize?: number } = {}): EvaluationImages {
  squareSide(recipe);
  return evaluationImages(list.files.length, list.labels, hashFiles(list, recipe), async (spec, stateDict, norm, onProgress, stage) => {
    const engine = await createEngine(spec, stateDict, opts.engine);
    try {
      const r = await extractFiles(engine, { files: [...list.files], labels: Uint16Array.from(list.labels) }, { recipe, norm, batchSize: opts.batchSize, onProgress, stage });
      return { features: r.features!, logits: r.logits! };
    } finally {
      engine.dispose();
    }
  });
}

/** One training batch ready to feed: normalised inputs (NHWC float32), labels, and where it starts in the order. */
export interface FedBatch {
  start: number;
  count: number;
  images: Float32Array;
  labels: number[];
}

/**
 * An epoch's batches in `order`, each augmented and normalised into one of two alternating buffers, so a loop can
 * prepare batch i + 1 while the engine runs step i (ONNX Runtime's run leaves the JavaScript thread free):
 * start the step, call prepare for the next batch, then await the step. Two buffers of each kind are reused all
 * epoch (fresh arrays each step kept the garbage collector busy). A last batch of one image has no batch
 * variance (PyTorch's BatchNorm refuses it too): prepare resolves to null there, as past the end.
 */
export function epochBatches(train: TrainingImages, order: Uint32Array, augmentSeed: number, batchSize: number, norm: string) {
  const imageBytes = train.shape[0] * train.shape[1] * train.shape[2];
  const pixels = [new Uint8Array(batchSize * imageBytes), new Uint8Array(batchSize * imageBytes)];
  const inputs = [new Float32Array(batchSize * imageBytes), new Float32Array(batchSize * imageBytes)];
  let prepared = 0;
  return {
    prepare(start: number): Promise<FedBatch | null> {
      if (start + 1 >= train.count) return Promise.resolve(null);
      const k = prepared++ % 2;
      const indices = order.subarray(start, Math.min(start + batchSize, train.count));
      const count = indices.length;
      const ready = train.batch(indices, augmentSeed, pixels[k].subarray(0, count * imageBytes)).then((batch) => ({
        start,
        count,
        images: normalise({ count, pixels: batch }, norm, inputs[k].subarray(0, count * imageBytes)),
        labels: Array.from(indices, (i) => train.labels[i]),
      }));
      // A batch still being prepared when a step fails is abandoned: its rejection must not go unhandled.
      ready.catch(() => undefined);
      return ready;
    },
  };
}
