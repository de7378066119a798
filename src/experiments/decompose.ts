/**
 * Algorithm 1 and the decomposed layer on any data source: CIFAR-10, an ILSVRC-2012 tree or an image folder of
 * one's own, for any model (registry or imported). CIFAR-10's splits come from the feature cache; the trees'
 * from the cached passes (ranks for training images, features and logits for validation ones). Either way the
 * training side is a ranking of each image's features and the evaluation side features with the final layer, so a
 * command or notebook never asks which dataset it was given.
 */
import { resolveCacheDir } from "../artifacts";
import { CIFAR10_CLASSES } from "../data";
import type { ImageFolderOptions } from "../data/image-folder";
import type { ImageNetTree } from "../data/imagenet";
import type { Recipe } from "../data/preprocess";
import { cifarSpec, featureCachePath, featureMatrix, finalLayer, getFeatures, loadForCifar } from "../features";
import { DEFAULT_RANK_DEPTH, type ImageNetPassOptions, passFinalLayer, preparePass, runImageNetPass } from "../features/imagenet-pass";
import { evaluateDecomposed, type FeatureMatrix, type FeatureRanking, type IndexSets, influentialFromRanks, type InfluentialSets, type LinearLayer, rankFeatures, validateK } from "../method";
import type { EngineChoice } from "../models/engines";
import type { LoadedModel } from "../models/load";
import type { Progress } from "../progress";
import type { LabelledFeatures } from "./setup";

export type DataSource =
  | { kind: "cifar10" }
  | { kind: "imagenet"; root: string; tree?: ImageNetTree }
  | { kind: "tiny-imagenet"; root: string; tree?: ImageNetTree }
  | ({ kind: "folder"; root: string; tree?: ImageNetTree } & ImageFolderOptions);

export interface SourceOptions {
  /** A registry name, or a file to import (ONNX, TF.js model.json). */
  model: string;
  weights?: string;
  data: DataSource;
  /** A preprocessing name or a recipe of one's own (default torchvision: the model's preset). */
  preprocessing?: string | Recipe;
  norm?: string;
  /** Only the first N images of each split. */
  limit?: number | null;
  batchSize?: number;
  engine?: EngineChoice;
  cacheDir?: string;
  onProgress?: Progress;
  /** The model already loaded with the same weights and preprocessing. */
  pretrained?: LoadedModel;
}

/** The evaluation split of a source: features, logits and labels with the final layer, and where they came from. */
export interface EvaluationSplit {
  test: LabelledFeatures;
  logits: Float32Array;
  layer: LinearLayer;
  classes: string[];
  recipe: string;
  backend: string | null;
  cache: string;
  pretrained: LoadedModel;
}

const passOptions = (opts: SourceOptions): Omit<ImageNetPassOptions, "split"> => {
  if (opts.data.kind === "cifar10") throw new Error("CIFAR-10 runs through the feature cache, not an image pass");
  const folder = opts.data.kind === "folder" ? { trainDir: opts.data.trainDir, testDir: opts.data.testDir } : undefined;
  return {
    model: opts.model, weights: opts.weights, root: opts.data.root, layout: opts.data.kind, folder, tree: opts.data.tree, preprocessing: opts.preprocessing, norm: opts.norm,
    limit: opts.limit, batchSize: opts.batchSize, engine: opts.engine, cacheDir: opts.cacheDir, onProgress: opts.onProgress, pretrained: opts.pretrained,
  };
};

/** The model's shape and the classes of a source, read and checked before any image is decoded. */
export async function sourceShape(opts: SourceOptions): Promise<{ classes: string[]; featureWidth: number }> {
  if (opts.data.kind === "cifar10") {
    const spec = await cifarSpec(opts);
    return { classes: [...CIFAR10_CLASSES], featureWidth: spec.featureWidth };
  }
  const prepared = await preparePass({ ...passOptions(opts), split: "val" });
  return { classes: prepared.classes, featureWidth: prepared.pretrained.spec.featureWidth };
}

/** The evaluation split (CIFAR-10's test set, a tree's val/) through the model, cached. */
export async function evaluationSplit(opts: SourceOptions): Promise<EvaluationSplit> {
  if (opts.data.kind === "cifar10") {
    const pretrained = opts.pretrained ?? (await loadForCifar(opts));
    const set = await getFeatures({ ...opts, pretrained, split: "test", augmentSeed: null });
    return {
      test: { features: featureMatrix(set), labels: set.labels }, logits: set.logits, layer: finalLayer(set), classes: [...CIFAR10_CLASSES],
      recipe: set.recipe ?? "native", backend: set.backend, cache: featureCachePath(resolveCacheDir(opts.cacheDir), set), pretrained,
    };
  }
  const val = await runImageNetPass({ ...passOptions(opts), split: "val" });
  const v = val.result;
  return {
    test: { features: { data: v.features!, rows: v.count, cols: v.width }, labels: Int32Array.from(v.labels) }, logits: v.logits!, layer: passFinalLayer(val),
    classes: val.classes, recipe: val.key.recipe, backend: val.backend, cache: val.file, pretrained: val.pretrained,
  };
}

export interface DecomposeOptions extends SourceOptions {
  k1: number;
  k2: number;
  /** Feature indices kept per training image (at least k1; default max(k1, DEFAULT_RANK_DEPTH)). */
  rankDepth?: number;
  /** CIFAR-10: the seed of the crop + flip the training images get (null: plain images, the default). */
  augmentSeed?: number | null;
  /**
   * Trees: keep the features of the first N training images of each class (instead of every image's ranks), so
   * the selection rules other than Algorithm 1 and the refits can read them; Algorithm 1 then runs on the same sample.
   */
  trainPerClass?: number | null;
}

export interface Decomposition {
  model: string;
  data: DataSource["kind"];
  k1: number;
  k2: number;
  rankDepth: number;
  /** The recipe's id (e.g. squash224-bilinear, or native for CIFAR-10 models). */
  recipe: string;
  classes: string[];
  featureWidth: number;
  trainImages: number;
  sets: IndexSets;
  /** Algorithm 1's histograms and sets (the non-influential channels of notebook 05 come from the histograms). */
  influence: InfluentialSets;
  fullAccuracy: number;
  decomposedAccuracy: number;
  accuracyRatio: number;
  macs: { full: number; decomposed: number };
  /** The training images' top feature indices (rank depth deep) and labels: what Algorithm 1 and a k1/k2 grid read. */
  training: { ranking: FeatureRanking; labels: Int32Array };
  /** The training features themselves (what other selection rules and refits read): CIFAR-10's, a tree's with trainPerClass; else null (ranks only). */
  trainingFeatures: FeatureMatrix | null;
  /** Evaluation features and labels with the final layer: what Table 8's ablation reads. */
  test: LabelledFeatures;
  layer: LinearLayer;
  /** The cache files behind both sides. */
  caches: { train: string; val: string };
  backend: { train: string | null; val: string | null };
  /** The model that ran (for retraining from the same weights). */
  pretrained: LoadedModel;
}

/**
 * Algorithm 1 on the training split and the decomposed layer on the evaluation split of any source. The model,
 * k and (for trees) the layout and the presence of every class are checked before the first image is decoded.
 */
export async function decompose(opts: DecomposeOptions): Promise<Decomposition> {
  const { k1, k2 } = opts;
  const rankDepth = opts.rankDepth ?? Math.max(k1, opts.data.kind === "cifar10" ? k1 : DEFAULT_RANK_DEPTH);
  if (rankDepth < k1) throw new Error(`rank depth ${rankDepth} is below k1 = ${k1}: Algorithm 1 reads each image's top k1 indices`);
  let training: Decomposition["training"];
  let trainCache: string;
  let trainBackend: string | null;
  let trainingFeatures: FeatureMatrix | null = null;
  let pretrained: LoadedModel;
  if (opts.data.kind === "cifar10") {
    if (opts.trainPerClass != null) throw new Error("a per-class training sample is for image trees (ImageNet, folders); CIFAR-10's training features are kept whole");
    const width = (await cifarSpec(opts)).featureWidth;
    validateK("k1", k1, width);
    validateK("k2", k2, width);
    pretrained = opts.pretrained ?? (await loadForCifar(opts));
    const set = await getFeatures({ ...opts, pretrained, split: "train", augmentSeed: opts.augmentSeed ?? null });
    trainingFeatures = featureMatrix(set);
    training = { ranking: rankFeatures(trainingFeatures, rankDepth), labels: Int32Array.from(set.labels) };
    trainCache = featureCachePath(resolveCacheDir(opts.cacheDir), set);
    trainBackend = set.backend;
  } else {
    if (opts.augmentSeed != null) throw new Error("augmentation is for CIFAR-10; a tree's training images are used as the preprocessing gives them");
    const keep = opts.trainPerClass != null;
    const trainOptions: ImageNetPassOptions = { ...passOptions(opts), split: "train", rankDepth, ...(keep ? { keepFeatures: true, perClass: opts.trainPerClass } : {}) };
    const prepared = await preparePass(trainOptions);
    validateK("k1", k1, prepared.pretrained.spec.featureWidth);
    validateK("k2", k2, prepared.pretrained.spec.featureWidth);
    const present = new Set(prepared.list.labels);
    const absent = prepared.classes.findIndex((_, c) => !present.has(c));
    if (absent >= 0) {
      const among = opts.limit == null ? "" : ` among the first ${opts.limit} (ImageFolder's order groups images by class)`;
      throw new Error(`no training image of class ${absent} (${prepared.classes[absent]})${among}: Algorithm 1 needs every class`);
    }
    const train = await runImageNetPass(trainOptions, prepared);
    const t = train.result;
    if (keep) {
      trainingFeatures = { data: t.features!, rows: t.count, cols: t.width };
      training = { ranking: rankFeatures(trainingFeatures, rankDepth), labels: Int32Array.from(t.labels) };
    } else training = { ranking: { order: t.ranks!, rows: t.count, cols: t.width, depth: rankDepth }, labels: Int32Array.from(t.labels) };
    trainCache = train.file;
    trainBackend = train.backend;
    pretrained = prepared.pretrained;
    // Same weights, input size and tree: the training pass's model and scan serve the evaluation pass.
    opts = { ...opts, pretrained, data: { ...opts.data, tree: prepared.tree } };
  }
  const val = await evaluationSplit({ ...opts, pretrained });
  const influence = influentialFromRanks(training.ranking, training.labels, { classes: val.layer.classes, k1, k2 });
  const ev = evaluateDecomposed(val.test.features, val.test.labels, val.layer, influence.sets);
  return {
    model: opts.model, data: opts.data.kind, k1, k2, rankDepth, recipe: val.recipe, classes: val.classes, featureWidth: val.layer.features, trainImages: training.ranking.rows,
    sets: influence.sets, influence, training, trainingFeatures, fullAccuracy: ev.fullAccuracy, decomposedAccuracy: ev.decomposedAccuracy, accuracyRatio: ev.accuracyRatio, macs: ev.macs,
    test: val.test, layer: val.layer, caches: { train: trainCache, val: val.cache }, backend: { train: trainBackend, val: val.backend }, pretrained,
  };
}
