/**
 * Notebook 07, "your model": the paper's analysis for a network the user brings (an ONNX file, or a registry
 * name) on CIFAR-10 or an image folder of their own. Everything comes back as the other notebooks' types: the
 * training images' rankings (what Algorithm 1 reads, enough for Fig. 2 and the k1/k2 grid), the test features and
 * labels, the final layer, and the loaded model for the export.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { CIFAR10_CLASSES } from "../data";
import type { Recipe } from "../data/preprocess";
import { SPLIT_SIZES } from "../data/image-set";
import { featureMatrix, finalLayer, getFeatures, loadForCifar } from "../features";
import { type FeatureRanking, type Labels, type LinearLayer, rankFeatures } from "../method";
import { writeDecomposedModel } from "../models/export";
import type { LoadedModel } from "../models/load";
import { exportOnnxModel } from "../models/onnx-export";
import { loadPretrained } from "../models/pretrained";
import type { Progress } from "../progress";
import { writeFileAtomic } from "../artifacts/atomic-write";
import type { IndexSets } from "../method";
import { decomposeImageNet } from "./imagenet";
import type { LabelledFeatures } from "./setup";

export type StudyData =
  | { kind: "cifar10"; trainImages: number; testImages: number; augmentSeed: number | null }
  | { kind: "folder"; root: string };

export interface ImportedStudyOptions {
  /** An ONNX file (or a registry name). */
  model: string;
  data: StudyData;
  /** A preprocessing name or recipe (default: the model's; see modelRecipe). */
  preprocessing?: string | Recipe;
  norm?: string;
  /** Ranks kept per training image: the largest k1 the grid can use. */
  rankDepth: number;
  onProgress?: Progress;
}

export interface ImportedStudy {
  model: LoadedModel;
  train: { ranking: FeatureRanking; labels: Labels };
  test: LabelledFeatures;
  layer: LinearLayer;
  classNames: string[];
  /** The engine that computed the features, and the resize and crop they went through. */
  backend: string;
  recipe: string;
}

export async function importedStudy(opts: ImportedStudyOptions): Promise<ImportedStudy> {
  const norm = opts.norm ?? "checkpoint";
  if (opts.data.kind === "folder") {
    // One training pass keeps the ranks, one validation pass the features: the paths decomp extract runs.
    const d = await decomposeImageNet({
      model: opts.model, root: opts.data.root, layout: "folder", preprocessing: opts.preprocessing, norm, k1: 1, k2: 1,
      rankDepth: opts.rankDepth, onProgress: opts.onProgress,
    });
    return { model: d.pretrained, train: d.training, test: d.test, layer: d.layer, classNames: d.classes, backend: d.backend.val ?? "cached", recipe: d.recipe };
  }
  const limit = (n: number, split: "train" | "test") => (n >= SPLIT_SIZES[split] ? null : n);
  const common = { model: opts.model, norm, preprocessing: opts.preprocessing, onProgress: opts.onProgress };
  const train = await getFeatures({ ...common, split: "train", augmentSeed: opts.data.augmentSeed, limit: limit(opts.data.trainImages, "train") });
  const test = await getFeatures({ ...common, split: "test", augmentSeed: null, limit: limit(opts.data.testImages, "test") });
  return {
    model: await loadForCifar(common),
    train: { ranking: rankFeatures(featureMatrix(train), opts.rankDepth), labels: train.labels },
    test: { features: featureMatrix(test), labels: test.labels },
    layer: finalLayer(test),
    classNames: [...CIFAR10_CLASSES],
    backend: test.backend,
    recipe: test.recipe ?? "native",
  };
}

/** A registry model written out as an ONNX file (NCHW input, dynamic batch): the notebook's stand-in for a user's file. */
export async function writeRegistryOnnx(model: string, file: string): Promise<string> {
  const p = await loadPretrained(model);
  await writeFileAtomic(file, [exportOnnxModel(p.spec, p.stateDict, { inputLayout: "nchw" })]);
  return file;
}

/** The decomposed model written out in its own kind (ONNX, or TF.js for a TF.js model; see src/models/export.ts); returns the bytes written. */
export async function writeDecomposed(model: LoadedModel, sets: IndexSets, file: string): Promise<number> {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  return writeDecomposedModel(model, sets, model.kind === "imported" ? model.format : "onnx", file);
}
