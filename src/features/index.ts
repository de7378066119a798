/** Penultimate features of a pretrained model on a CIFAR-10 split: computed once, then read from the on-disk cache. */
import { resolveCacheDir } from "../artifacts";
import { batchView, getNormalisation, loadCifar10, type Split } from "../data";
import { checkSplitName } from "../data/image-set";
import { modelEntry } from "../models/registry";
import { accuracy, type FeatureMatrix, type LinearLayer, predictFromLogits } from "../method";
import { createEngine, type EngineChoice } from "../models/engines";
import { loadPretrained } from "../models/pretrained";
import type { Progress } from "../progress";
import { featureCachePath, readFeatureCache, writeFeatureCache } from "./cache";
import { runExtraction } from "./extract";
import type { FeatureSet, FeatureSetKey } from "./feature-set";

export type { FeatureSet, FeatureSetKey } from "./feature-set";
export { featureCachePath, readFeatureCache } from "./cache";
export { runExtraction, DEFAULT_BATCH_SIZE } from "./extract";

export interface GetFeaturesOptions {
  model: string;
  split: Split;
  norm?: string;
  augmentSeed?: number | null;
  limit?: number | null;
  batchSize?: number;
  engine?: EngineChoice;
  onProgress?: Progress;
  cacheDir?: string;
  /** Recompute even when a cached copy exists (the new result replaces it). */
  refresh?: boolean;
}

/** Every option of getFeatures checked before a checkpoint, a split or an engine is loaded. */
export function validateFeatureOptions(opts: GetFeaturesOptions): void {
  modelEntry(opts.model);
  checkSplitName(opts.split);
  getNormalisation(opts.norm ?? "checkpoint");
  const positive = (name: string, v: number | null | undefined) => {
    if (v !== undefined && v !== null && (!Number.isInteger(v) || v < 1)) throw new Error(`${name} must be a positive integer, got ${v}`);
  };
  positive("limit", opts.limit);
  positive("batchSize", opts.batchSize);
  const seed = opts.augmentSeed;
  if (seed !== undefined && seed !== null && (!Number.isInteger(seed) || seed < 0)) throw new Error(`augmentSeed must be a non-negative integer or null (plain images), got ${seed}`);
}

export async function getFeatures(opts: GetFeaturesOptions): Promise<FeatureSet> {
  validateFeatureOptions(opts);
  const cacheDir = resolveCacheDir(opts.cacheDir);
  const pretrained = await loadPretrained(opts.model, { onProgress: opts.onProgress, cacheDir });
  const key: FeatureSetKey = {
    model: opts.model,
    split: opts.split,
    norm: opts.norm ?? "checkpoint",
    augmentSeed: opts.augmentSeed ?? null,
    limit: opts.limit ?? null,
    checkpointSha256: pretrained.checkpointSha256,
  };
  const file = featureCachePath(cacheDir, key);
  const cached = opts.refresh ? null : readFeatureCache(file);
  if (cached) return cached;

  const all = await loadCifar10(opts.split, { onProgress: opts.onProgress, cacheDir });
  const images = key.limit === null || key.limit >= all.count ? all : batchView(all, 0, key.limit);
  const engine = await createEngine(pretrained.spec, pretrained.stateDict, opts.engine);
  try {
    const aug = key.augmentSeed === null ? "" : `, augmented seed ${key.augmentSeed}`;
    const { features, logits } = await runExtraction(engine, images, {
      norm: key.norm,
      augmentSeed: key.augmentSeed,
      batchSize: opts.batchSize,
      onProgress: opts.onProgress,
      stage: `extract ${key.model}/${key.split} (${key.norm}${aug}, ${engine.backend})`,
    });
    const head = pretrained.finalLayer;
    const set: FeatureSet = {
      ...key,
      count: images.count,
      width: pretrained.spec.featureWidth,
      classes: pretrained.spec.classes,
      features,
      logits,
      labels: new Uint8Array(images.labels),
      weight: head.weight,
      bias: head.bias,
      backend: engine.backend,
    };
    await writeFeatureCache(file, set);
    return set;
  } finally {
    engine.dispose();
  }
}

/** The features as the method's matrix type (no copy). */
export function featureMatrix(set: FeatureSet): FeatureMatrix {
  return { data: set.features, rows: set.count, cols: set.width };
}

/** The model's final layer as the method's layer type (no copy). */
export function finalLayer(set: FeatureSet): LinearLayer {
  return { weight: set.weight, bias: set.bias, classes: set.classes, features: set.width };
}

/** Top-1 accuracy of the model's own logits. */
export function logitAccuracy(set: FeatureSet): number {
  return accuracy(predictFromLogits(set.logits, set.count, set.classes), set.labels);
}
