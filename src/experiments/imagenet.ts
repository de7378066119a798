/**
 * The paper's ImageNet experiments (Tables 2-6, Fig. 4, the ResNet50 rows of Table 8) on a user's ILSVRC-2012
 * tree: Algorithm 1 from a training pass that keeps each image's top feature indices, A_d and A_f on the
 * validation pass, both cached (and shared with `decomp extract`, so passes a cluster ran are read back here).
 * Where the tree or a model's weights are missing, the entry says so instead of failing the study.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { ArtifactUnavailableError } from "../artifacts";
import { type ImageNetTree, scanImageNet } from "../data/imagenet";
import type { ImageNetPassOptions } from "../features/imagenet-pass";
import type { EngineChoice } from "../models/engines";
import { registryModel } from "../models/load";
import { decompose, type Decomposition } from "./decompose";
import { CIFAR_MODEL_NAMES, inputRecipe, MODEL_NAMES, modelEntry } from "../models/registry";
import { countLayers } from "../models/summary";
import type { Progress } from "../progress";
import { fileEvaluation, fileTraining, fineTune, type FineTuneResult, type LabelledFiles, type TrainEngineChoice } from "../training";

/** The folder holding ILSVRC-2012's train/ and val/. */
export const IMAGENET_ENV = "DECOMP_IMAGENET";
/** A folder of `<model>.pth` files used instead of torchvision's IMAGENET1K_V1 weights (for models it has). */
export const IMAGENET_WEIGHTS_ENV = "DECOMP_IMAGENET_WEIGHTS";
/** The paper's k1 = k2 for every ImageNet model. */
export const IMAGENET_K = 50;
/** torchvision's families, in the registry's order (ResNet, Wide ResNet, DenseNet, EfficientNet). */
export const IMAGENET_MODELS: readonly string[] = MODEL_NAMES.filter((m) => !CIFAR_MODEL_NAMES.includes(m));

/** `reason` is on both variants (null when available) so that a notebook cell can read it without narrowing the union. */
export type ImageNetSource =
  | { available: true; root: string; tree: ImageNetTree; weightsDir: string | null; reason: null }
  | { available: false; reason: string };

/** Where the notebooks' ImageNet parts read from, or exactly what is missing and how to supply it. */
export function imagenetSource(env: Record<string, string | undefined> = process.env): ImageNetSource {
  const root = env[IMAGENET_ENV];
  if (root === undefined || root === "") {
    return {
      available: false,
      reason: `${IMAGENET_ENV} is not set: point it to the ILSVRC-2012 folder holding train/<wnid>/ and val/ (class folders, or flat with LOC_val_solution.csv) and rerun; weights come from torchvision's IMAGENET1K_V1 files (PyTorch's cache, the mirror or their URLs) or ${IMAGENET_WEIGHTS_ENV}=<folder of <model>.pth>`,
    };
  }
  const weightsDir = env[IMAGENET_WEIGHTS_ENV] || null;
  if (weightsDir !== null && !fs.statSync(weightsDir, { throwIfNoEntry: false })?.isDirectory()) {
    return { available: false, reason: `${IMAGENET_WEIGHTS_ENV}=${weightsDir} is not a folder; give the folder holding <model>.pth files, or unset it` };
  }
  let tree: ImageNetTree;
  try {
    tree = scanImageNet(root);
  } catch (err) {
    return { available: false, reason: `${IMAGENET_ENV}=${root}: ${(err as Error).message}` };
  }
  for (const split of ["train", "val"] as const) {
    if (tree.splits[split] === undefined) return { available: false, reason: `${IMAGENET_ENV}=${root} has no ${split}/ folder; both train/ and val/ are needed` };
  }
  return { available: true, root, tree, weightsDir, reason: null };
}

/** The weights file for `model` in the source's weights folder, or undefined for the registry's. */
export function weightsFor(source: Extract<ImageNetSource, { available: true }>, model: string): string | undefined {
  return weightsIn(source.weightsDir, model);
}

/** `<model>.pth` in DECOMP_IMAGENET_WEIGHTS's folder, when there is one (ImageNet weights for a start elsewhere, e.g. Tiny ImageNet). */
export function imagenetWeightsFile(model: string, env: Record<string, string | undefined> = process.env): string | undefined {
  return weightsIn(env[IMAGENET_WEIGHTS_ENV] || null, model);
}

function weightsIn(dir: string | null, model: string): string | undefined {
  if (dir === null) return undefined;
  const file = path.join(dir, `${model}.pth`);
  return fs.existsSync(file) ? file : undefined;
}

export interface DecomposeImageNetOptions {
  /** A registry name, or an ONNX file to import. */
  model: string;
  root: string;
  /** imagenet (default) or folder: see ImageNetPassOptions. */
  layout?: ImageNetPassOptions["layout"];
  folder?: ImageNetPassOptions["folder"];
  weights?: string;
  preprocessing?: ImageNetPassOptions["preprocessing"];
  norm?: string;
  k1: number;
  k2: number;
  /** Feature indices kept per training image (at least k1; default max(k1, DEFAULT_RANK_DEPTH)). */
  rankDepth?: number;
  /** Keep the features of the first N training images of each class (see DecomposeOptions). */
  trainPerClass?: number | null;
  limit?: number | null;
  batchSize?: number;
  tree?: ImageNetTree;
  engine?: EngineChoice;
  cacheDir?: string;
  onProgress?: Progress;
}

/** A decomposition on an ImageNet tree (or a folder): see decompose. */
export type ImageNetDecomposition = Decomposition;

/**
 * Algorithm 1 on the training split's ranks and the decomposed layer on the validation split of a tree. The tree,
 * the weights, k and the presence of every class are checked before the first image is decoded.
 */
export function decomposeImageNet(opts: DecomposeImageNetOptions): Promise<ImageNetDecomposition> {
  const { root, layout, folder, tree, ...rest } = opts;
  return decompose({ ...rest, data: layout === "folder" ? { kind: "folder", root, tree, ...folder } : { kind: layout ?? "imagenet", root, tree } });
}

/**
 * decomposeImageNet on the source's tree with its weights for `model` (default preprocessing: the paper's squash),
 * or why it cannot run: the tree is missing or the weights cannot be obtained. Any other error propagates.
 */
export async function tryDecomposeImageNet(
  source: ImageNetSource,
  model: string,
  opts: Omit<DecomposeImageNetOptions, "model" | "root" | "tree" | "weights">,
): Promise<{ decomposition: ImageNetDecomposition; reason: null } | { decomposition: null; reason: string }> {
  if (!source.available) return { decomposition: null, reason: source.reason };
  try {
    const decomposition = await decomposeImageNet({ ...opts, preprocessing: opts.preprocessing ?? "paper", model, root: source.root, tree: source.tree, weights: weightsFor(source, model) });
    return { decomposition, reason: null };
  } catch (err) {
    if (!(err instanceof ArtifactUnavailableError)) throw err;
    return { decomposition: null, reason: unavailableReason(err, model) };
  }
}

/** The fetch error on one line, with how a notebook supplies the file. */
function unavailableReason(err: ArtifactUnavailableError, model: string): string {
  const oneLine = err.message.split("\n").map((l) => l.trim()).join(" ");
  return `${oneLine} In the notebooks: put it in ${IMAGENET_WEIGHTS_ENV}=<folder> as ${model}.pth.`;
}

/** One model's row of Tables 2-6: measured, or why not. */
export type ImageNetFamilyEntry = {
  model: string;
  family: string;
  /** Convolutions plus linear layers (the paper's count). */
  layers: number;
  /** Penultimate feature width n. */
  width: number;
  /** torchvision's published top-1 for the IMAGENET1K_V1 weights with their own preset (%). */
  torchvisionTop1: number;
} & (
  | { status: "measured"; k: number; classes: number; recipe: string; trainImages: number; testImages: number; fullAccuracy: number; decomposedAccuracy: number; accuracyRatio: number; distinctFeatures: number; macs: { full: number; decomposed: number } }
  | { status: "unavailable"; reason: string }
);

export interface ImageNetFamilyOptions {
  k?: number;
  preprocessing?: ImageNetPassOptions["preprocessing"];
  engine?: EngineChoice;
  cacheDir?: string;
  onProgress?: Progress;
  /** Called with each measured model's whole decomposition (features included) before it is dropped. */
  onDecomposed?: (d: ImageNetDecomposition) => void;
}

/**
 * Tables 2-6 at k1 = k2 = k (default the paper's 50), one model after another, keeping only each model's row
 * (a validation pass is 50,000 x n floats). A model whose weights cannot be obtained becomes an "unavailable"
 * entry, as does every model when the tree is missing; any other error propagates.
 */
export async function runImageNetFamilies(models: readonly string[], source: ImageNetSource, opts: ImageNetFamilyOptions = {}): Promise<ImageNetFamilyEntry[]> {
  const k = opts.k ?? IMAGENET_K;
  const entries: ImageNetFamilyEntry[] = [];
  for (const model of models) {
    const entry = modelEntry(model);
    if (entry.kind !== "torchvision") throw new Error(`${model} is not one of torchvision's ImageNet families (${IMAGENET_MODELS.join(", ")})`);
    const spec = entry.buildSpec();
    const base = { model, family: entry.family, layers: countLayers(spec), width: spec.featureWidth, torchvisionTop1: 100 * entry.publishedAccuracy };
    const got = await tryDecomposeImageNet(source, model, { preprocessing: opts.preprocessing, k1: k, k2: k, engine: opts.engine, cacheDir: opts.cacheDir, onProgress: opts.onProgress });
    const d = got.decomposition;
    if (d === null) {
      entries.push({ ...base, status: "unavailable", reason: got.reason! });
      continue;
    }
    opts.onDecomposed?.(d);
    entries.push({
      ...base, width: d.featureWidth, status: "measured", k, classes: d.sets.length, recipe: d.recipe, trainImages: d.trainImages, testImages: d.test.features.rows,
      fullAccuracy: d.fullAccuracy, decomposedAccuracy: d.decomposedAccuracy, accuracyRatio: d.accuracyRatio,
      distinctFeatures: new Set(d.sets.flatMap((s) => [...s])).size, macs: d.macs,
    });
  }
  return entries;
}

export type MeasuredImageNetEntry = Extract<ImageNetFamilyEntry, { status: "measured" }>;

export function measuredImageNet(entries: readonly ImageNetFamilyEntry[]): MeasuredImageNetEntry[] {
  return entries.filter((e): e is MeasuredImageNetEntry => e.status === "measured");
}

/** The paper's ResNet50 retraining: "about 10" epochs; the authors' README fine-tunes ResNet50 at lr 1e-6, batch 64. */
export const IMAGENET_RETRAIN = { model: "resnet50", epochs: 10, lr: 1e-6, batchSize: 64 } as const;

export interface ImageNetRetrainingOptions {
  model?: string;
  /** k1 = k2 of the decomposition (default the paper's 50). */
  k?: number;
  epochs?: number;
  lr?: number;
  batchSize?: number;
  /** Fine-tune on about this many training images, every (count / N)-th of the split so that every class stays; default all. */
  trainImages?: number | null;
  seed?: number;
  trainEngine?: TrainEngineChoice;
  cacheDir?: string;
  onProgress?: Progress;
  signal?: AbortSignal;
}

export interface ImageNetRetraining {
  model: string;
  k: number;
  /** A_d and A_f of the decomposition on the validation split, before any retraining. */
  decomposedAccuracy: number;
  fullAccuracy: number;
  trainImages: number;
  /** history.testAccuracy[e]: A_d after e epochs (entry 0 before training, from the network with its masked head). */
  result: FineTuneResult;
}

/** Every step-th image of the list, step = ceil(count / wanted): all classes stay when images are grouped by class. */
export function spreadSubset(list: LabelledFiles, wanted: number | null | undefined): LabelledFiles {
  if (wanted == null || wanted >= list.files.length) return list;
  if (!Number.isInteger(wanted) || wanted < 2) throw new Error(`the number of fine-tuning images must be an integer >= 2, got ${wanted}`);
  const step = Math.ceil(list.files.length / wanted);
  const keep = Array.from({ length: Math.ceil(list.files.length / step) }, (_, i) => i * step);
  return { files: keep.map((i) => list.files[i]), labels: Uint16Array.from(keep, (i) => list.labels[i]) };
}

/**
 * Decomposition at k1 = k2 = k (cached passes, the paper's squash), then the whole network fine-tuned with the
 * decomposed head on the training images (squash, then the pad-4 crop and flip; the authors' imgaug photometric
 * and affine augmentations are not reproduced), A_d on the validation split after every epoch; resumes from its
 * checkpoint. Or why it cannot run: the tree or the weights are missing.
 */
export async function tryRetrainImageNet(
  source: ImageNetSource,
  opts: ImageNetRetrainingOptions = {},
): Promise<{ retraining: ImageNetRetraining; reason: null } | { retraining: null; reason: string }> {
  const model = opts.model ?? IMAGENET_RETRAIN.model;
  const k = opts.k ?? IMAGENET_K;
  const got = await tryDecomposeImageNet(source, model, { k1: k, k2: k, cacheDir: opts.cacheDir, onProgress: opts.onProgress });
  const d = got.decomposition;
  if (d === null || !source.available) return { retraining: null, reason: got.reason ?? "no ImageNet tree" };
  const recipe = inputRecipe(modelEntry(model), "paper");
  const train = spreadSubset(source.tree.splits.train!, opts.trainImages);
  const result = await fineTune({
    ...((m) => ({ spec: m.spec, stateDict: m.stateDict }))(registryModel(d.pretrained, "retraining through the backbone")), sets: d.sets, norm: "checkpoint",
    train: fileTraining(train, recipe), test: fileEvaluation(source.tree.splits.val!, recipe),
    epochs: opts.epochs ?? IMAGENET_RETRAIN.epochs, lr: opts.lr ?? IMAGENET_RETRAIN.lr, batchSize: opts.batchSize ?? IMAGENET_RETRAIN.batchSize,
    seed: opts.seed, engine: opts.trainEngine, cacheDir: opts.cacheDir, onProgress: opts.onProgress, signal: opts.signal,
  });
  return { retraining: { model, k, decomposedAccuracy: d.decomposedAccuracy, fullAccuracy: d.fullAccuracy, trainImages: train.files.length, result }, reason: null };
}
