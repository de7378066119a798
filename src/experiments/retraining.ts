/**
 * Notebook 04 (retraining after decomposition): the pieces around src/training that the notebook needs, namely
 * how many images to fine-tune on, the image subsets, saving and reloading the fine-tuned model with a check
 * that nothing changed, and the cost of the final layer (multiply-adds and measured latency) against the backbone.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { resolveCacheDir } from "../artifacts";
import { batchView, type ImageSet, loadCifar10 } from "../data";
import { SPLIT_SIZES } from "../data/image-set";
import { decomposedLogits, type FeatureMatrix, fullLogits, type IndexSets, type LinearLayer, macCounts, validateFeatures } from "../method";
import type { ModelSpec } from "../models/spec";
import type { Profile } from "../profile";
import type { Progress } from "../progress";
import type { StateDict } from "../torch";
import { decomposedTestAccuracy, type FineTuneResult, loadFineTuned, saveFineTuned } from "../training";

/** Overrides the number of training images fine-tuned on (e.g. a reduced full-profile run on a slow engine). */
export const FINETUNE_IMAGES_ENV = "DECOMP_FINETUNE_IMAGES";

/** The smoke profile fine-tunes on a few batches only: enough to exercise every step in seconds. */
export const SMOKE_FINETUNE_IMAGES = 256;

/** Training images to fine-tune on: the whole split for `full`, a few batches for `smoke`, or $DECOMP_FINETUNE_IMAGES. */
export function fineTuneImageCount(profile: Profile, env: Record<string, string | undefined> = process.env): number {
  const raw = env[FINETUNE_IMAGES_ENV];
  if (raw === undefined || raw === "") return profile.name === "smoke" ? SMOKE_FINETUNE_IMAGES : SPLIT_SIZES.train;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 2 || n > SPLIT_SIZES.train) {
    throw new Error(
      `${FINETUNE_IMAGES_ENV}=${JSON.stringify(raw)} is not a usable image count; set it to an integer from 2 to ${SPLIT_SIZES.train} ` +
        `(the first N training images are fine-tuned on), or unset it for the profile's default.`,
    );
  }
  return n;
}

export interface RetrainingImages {
  /** The first `trainImages` CIFAR-10 training images. */
  train: ImageSet;
  /** The first `testImages` test images: the same ones the cached test features cover. */
  test: ImageSet;
  /** Size of the whole training split, to say when only part of it is fine-tuned on. */
  trainSplitImages: number;
}

export async function loadRetrainingImages(trainImages: number, testImages: number, onProgress?: Progress): Promise<RetrainingImages> {
  const subset = (set: ImageSet, n: number, split: string) => {
    if (!Number.isInteger(n) || n < 1 || n > set.count) throw new Error(`the number of ${split} images must be an integer from 1 to ${set.count}, got ${n}`);
    return n === set.count ? set : batchView(set, 0, n);
  };
  const train = await loadCifar10("train", { onProgress });
  const test = await loadCifar10("test", { onProgress });
  return { train: subset(train, trainImages, "train"), test: subset(test, testImages, "test"), trainSplitImages: train.count };
}

/** Where the notebook keeps a fine-tuned model: in the cache, named by everything that produced it. */
export function fineTunedModelPath(run: { model: string; k1: number; k2: number; seed: number; trainImages: number; epochs: number }, cacheDir?: string): string {
  const name = `${run.model}-k1_${run.k1}-k2_${run.k2}-seed${run.seed}-n${run.trainImages}-e${run.epochs}.dctn`;
  return path.join(resolveCacheDir(cacheDir), "retrain", name);
}

/**
 * The model notebook 04 saved for this run, if it has been run with these settings; null when the file is not
 * there. A file that exists but was saved for another model is an error, not a silent fallback.
 */
export function findFineTuned(run: Parameters<typeof fineTunedModelPath>[0], cacheDir?: string): (ReturnType<typeof loadFineTuned> & { file: string }) | null {
  const file = fineTunedModelPath(run, cacheDir);
  if (!fs.existsSync(file)) return null;
  const saved = loadFineTuned(file);
  if (saved.meta.model !== run.model) throw new Error(`${file} holds a fine-tuned ${saved.meta.model}, not ${run.model}; delete it and re-run notebook 04`);
  return { ...saved, file };
}

export interface ReloadCheck {
  file: string;
  /** A_d of the weights fineTune returned (its last test evaluation). */
  inMemoryAccuracy: number;
  /** A_d of the same weights after a save and a reload from disk. */
  reloadedAccuracy: number;
  stateDict: StateDict;
}

/**
 * Saves the fine-tuned weights, reads them back and evaluates them again on the same test images; a reloaded
 * model that scores differently means the file lost something, so that fails loudly instead of being reported.
 */
export async function saveAndReload(
  file: string,
  spec: ModelSpec,
  result: FineTuneResult,
  sets: IndexSets,
  test: ImageSet,
  norm: string,
  onProgress?: Progress,
): Promise<ReloadCheck> {
  const inMemoryAccuracy = result.history.testAccuracy[result.history.testAccuracy.length - 1];
  await saveFineTuned(file, result.stateDict, { model: spec.name, sets: sets.map((s) => [...s]), history: result.history });
  const { stateDict } = loadFineTuned(file);
  const reloadedAccuracy = await decomposedTestAccuracy(spec, stateDict, test, norm, onProgress);
  if (reloadedAccuracy !== inMemoryAccuracy) {
    throw new Error(
      `the model reloaded from ${file} scores ${reloadedAccuracy} on the test images but the fine-tuned weights in memory scored ${inMemoryAccuracy}; ` +
        `the saved file is not faithful: delete it and save again`,
    );
  }
  return { file, inMemoryAccuracy, reloadedAccuracy, stateDict };
}

/** Whether two state dicts hold the same tensors bit for bit, and if not how far apart they are. */
export interface StateDictComparison {
  identical: boolean;
  /** Largest |a - b| over every tensor; 0 when identical. */
  maxAbsDiff: number;
  /** Names of the tensors that differ, in state-dict order. */
  differing: string[];
}

export function compareStateDicts(a: StateDict, b: StateDict): StateDictComparison {
  const names = [...a.keys()];
  if (names.length !== b.size || names.some((n) => !b.has(n))) {
    throw new Error(`the state dicts hold different tensors (${names.length} vs ${b.size}); compare two runs of the same model`);
  }
  let maxAbsDiff = 0;
  const differing: string[] = [];
  for (const name of names) {
    const x = a.get(name)!.data;
    const y = b.get(name)!.data;
    if (x.length !== y.length) throw new Error(`${name} has ${x.length} values in one state dict and ${y.length} in the other`);
    let same = true;
    for (let i = 0; i < x.length; i++) {
      // -0 and 0 compare equal as numbers but not as the bytes a saved file holds.
      if (x[i] !== y[i] || Object.is(x[i], -0) !== Object.is(y[i], -0)) {
        same = false;
        maxAbsDiff = Math.max(maxAbsDiff, Math.abs(x[i] - y[i]));
      }
    }
    if (!same) differing.push(name);
  }
  return { identical: differing.length === 0, maxAbsDiff, differing };
}

/** Multiply-adds of every convolution for one input image (BatchNorm, ReLU, adds and pooling are not counted). */
export function backboneMacs(spec: ModelSpec): number {
  const [height, width] = spec.inputShape;
  const sizes = new Map<string, [number, number]>([[spec.input, [height, width]]]);
  const sizeOf = (name: string): [number, number] => {
    const s = sizes.get(name);
    if (s === undefined) throw new Error(`${spec.name}: tensor ${name} is read before any layer writes it`);
    return s;
  };
  let macs = 0;
  for (const layer of spec.layers) {
    if (layer.op === "conv2d") {
      const [h, w] = sizeOf(layer.input);
      const out: [number, number] = [h, w].map((d) => Math.floor((d + 2 * layer.pad - layer.kernel) / layer.stride) + 1) as [number, number];
      macs += out[0] * out[1] * layer.outChannels * layer.inChannels * layer.kernel * layer.kernel;
      sizes.set(layer.output, out);
    } else if (layer.op === "shortcutA") {
      const [h, w] = sizeOf(layer.input);
      sizes.set(layer.output, [Math.ceil(h / layer.stride), Math.ceil(w / layer.stride)]);
    } else if (layer.op === "add") {
      sizes.set(layer.output, sizeOf(layer.inputs[0]));
    } else if (layer.op === "globalAvgPool") {
      sizes.set(layer.output, [1, 1]);
    } else if (layer.op === "batchnorm" || layer.op === "relu") {
      sizes.set(layer.output, sizeOf(layer.input));
    }
  }
  return macs;
}

/** `rows` feature rows for a timing batch: the matrix's rows repeated in order (timing does not depend on values). */
export function timingBatch(features: FeatureMatrix, rows: number): FeatureMatrix {
  validateFeatures(features);
  if (features.rows === 0) throw new Error("timing needs at least one feature row");
  if (!Number.isInteger(rows) || rows < 1) throw new Error(`a timing batch needs a positive whole number of rows, got ${rows}`);
  const { cols } = features;
  const data = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const source = r % features.rows;
    data.set(features.data.subarray(source * cols, (source + 1) * cols), r * cols);
  }
  return { data, rows, cols };
}

export interface HeadLatency {
  batchSize: number;
  /** Median milliseconds per batch over `repeats` timed calls (after as many untimed warm-up calls). */
  fullMs: number;
  decomposedMs: number;
  repeats: number;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Wall time of fullLogits and decomposedLogits per batch; the two are interleaved so drifts in machine load hit both. */
export function measureHeadLatency(features: FeatureMatrix, layer: LinearLayer, sets: IndexSets, batchSizes: readonly number[], repeats = 200): HeadLatency[] {
  if (!Number.isInteger(repeats) || repeats < 1) throw new Error(`repeats must be a positive integer, got ${repeats}`);
  macCounts(layer, sets); // validates the sets against the layer before anything is timed
  return batchSizes.map((batchSize) => {
    const batch = timingBatch(features, batchSize);
    // Untimed warm-up: with only a few calls V8 has not optimised the loops yet, and that, not the work, is measured.
    for (let i = 0; i < repeats; i++) {
      fullLogits(batch, layer);
      decomposedLogits(batch, layer, sets);
    }
    const full: number[] = [];
    const decomposed: number[] = [];
    for (let i = 0; i < repeats; i++) {
      let t = performance.now();
      fullLogits(batch, layer);
      full.push(performance.now() - t);
      t = performance.now();
      decomposedLogits(batch, layer, sets);
      decomposed.push(performance.now() - t);
    }
    return { batchSize, fullMs: median(full), decomposedMs: median(decomposed), repeats };
  });
}
