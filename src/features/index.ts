/** Penultimate features of a model on a CIFAR-10 split: computed once, then read from the on-disk cache. */
import { resolveCacheDir } from "../artifacts";
import { batchView, getNormalisation, loadCifar10, type Split } from "../data";
import { checkSplitName } from "../data/image-set";
import { accuracy, type FeatureMatrix, type LinearLayer, predictFromLogits } from "../method";
import type { EngineChoice } from "../models/engines";
import type { ModelShape } from "../models/engine";
import { checkModelName, isModelFile, type LoadedModel, loadAnyModel, modelKey, modelName, modelRecipe, openEngine } from "../models/load";
import { modelEntry } from "../models/registry";
import { CIFAR10_CLASSES } from "../data";
import { IMAGE_HEIGHT } from "../data/image-set";
import { type Recipe, recipeId, recipeOutputSide } from "../data/preprocess";
import type { Progress } from "../progress";
import { featureCachePath, readFeatureCache, writeFeatureCache } from "./cache";
import { runExtraction } from "./extract";
import type { FeatureSet, FeatureSetKey } from "./feature-set";

export type { FeatureSet, FeatureSetKey } from "./feature-set";
export { featureCachePath, readFeatureCache } from "./cache";
export { runExtraction, DEFAULT_BATCH_SIZE } from "./extract";

export interface GetFeaturesOptions {
  /** A registry name, or an ONNX file to import. */
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
  /** A user's weights for the model (see loadPretrained); the features are cached under their sha256. */
  weights?: string;
  /** torchvision (each weight's evaluation preset, default), paper (224 x 224 squash), or a recipe of one's own; CIFAR ResNets ignore the names. */
  preprocessing?: string | Recipe;
  /** The model already loaded with the same weights and preprocessing (saves reading the checkpoint twice). */
  pretrained?: LoadedModel;
}

/** Every option of getFeatures checked before a checkpoint, a split or an engine is loaded. */
export function validateFeatureOptions(opts: GetFeaturesOptions): void {
  checkModelName(opts.model);
  modelRecipe(opts.model, opts.preprocessing ?? "torchvision", IMAGE_HEIGHT);
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

/**
 * The shape of the model getFeatures runs on CIFAR-10 images, known before any weights are read (the final layer
 * must have CIFAR-10's classes; the feature width does not depend on them), so options are checked against it first.
 * An imported model's shape is its graph's, read here.
 */
export async function cifarSpec(opts: Pick<GetFeaturesOptions, "model" | "preprocessing">): Promise<ModelShape> {
  const side = recipeOutputSide(modelRecipe(opts.model, opts.preprocessing ?? "torchvision", IMAGE_HEIGHT), IMAGE_HEIGHT, IMAGE_HEIGHT);
  if (isModelFile(opts.model)) return (await loadAnyModel(opts.model, { inputSize: side })).spec;
  return modelEntry(opts.model).buildSpec(CIFAR10_CLASSES.length, side);
}

/**
 * The model as getFeatures runs it on CIFAR-10 images: built for the input side its preprocessing produces, and
 * refused unless its final layer has CIFAR-10's classes (an ImageNet head cannot be scored on CIFAR labels).
 */
export async function loadForCifar(opts: Pick<GetFeaturesOptions, "model" | "weights" | "preprocessing" | "onProgress" | "cacheDir">): Promise<LoadedModel> {
  const recipe = modelRecipe(opts.model, opts.preprocessing ?? "torchvision", IMAGE_HEIGHT);
  const model = await loadAnyModel(opts.model, { weights: opts.weights, inputSize: recipeOutputSide(recipe, IMAGE_HEIGHT, IMAGE_HEIGHT), onProgress: opts.onProgress, cacheDir: opts.cacheDir });
  checkCifarClasses(model);
  return model;
}

function checkCifarClasses(p: LoadedModel): void {
  if (p.spec.classes === CIFAR10_CLASSES.length) return;
  const name = modelName(p);
  throw new Error(
    `${p.checkpointPath}: ${name}'s final layer has ${p.spec.classes} classes, CIFAR-10 has ${CIFAR10_CLASSES.length}; ` +
      (p.kind === "imported" ? "give a model trained on CIFAR-10's 10 classes" : `pass --weights with a ${name} whose final layer was fine-tuned to CIFAR-10's 10 classes`),
  );
}

/** What identifies a set of features in the cache: model, weights, split and every preprocessing choice. */
export function featureKey(opts: GetFeaturesOptions, recipe: Recipe, checkpointSha256: string): FeatureSetKey {
  return {
    model: modelKey(opts.model),
    split: opts.split,
    norm: opts.norm ?? "checkpoint",
    augmentSeed: opts.augmentSeed ?? null,
    limit: opts.limit ?? null,
    checkpointSha256,
    ...(recipe.kind === "native" ? {} : { recipe: recipeId(recipe) }),
  };
}

export async function getFeatures(opts: GetFeaturesOptions): Promise<FeatureSet> {
  validateFeatureOptions(opts);
  const cacheDir = resolveCacheDir(opts.cacheDir);
  const recipe = modelRecipe(opts.model, opts.preprocessing ?? "torchvision", IMAGE_HEIGHT);
  const pretrained = opts.pretrained ?? (await loadForCifar({ ...opts, cacheDir }));
  checkCifarClasses(pretrained);
  const key = featureKey(opts, recipe, pretrained.checkpointSha256);
  const file = featureCachePath(cacheDir, key);
  const cached = opts.refresh ? null : readFeatureCache(file);
  if (cached) return cached;

  const all = await loadCifar10(opts.split, { onProgress: opts.onProgress, cacheDir });
  const images = key.limit === null || key.limit >= all.count ? all : batchView(all, 0, key.limit);
  const engine = await openEngine(pretrained, opts.engine);
  try {
    const aug = key.augmentSeed === null ? "" : `, augmented seed ${key.augmentSeed}`;
    const { features, logits } = await runExtraction(engine, images, {
      norm: key.norm,
      augmentSeed: key.augmentSeed,
      recipe,
      batchSize: opts.batchSize,
      onProgress: opts.onProgress,
      stage: `extract ${key.model}/${key.split} (${key.recipe === undefined ? "" : `${key.recipe}, `}${key.norm}${aug}, ${engine.backend})`,
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
