/**
 * Notebook 07, "your model": the paper's analysis for a network the user brings (an ONNX file, or a registry
 * name) on CIFAR-10 or an image folder of their own. Everything comes back as the other notebooks' types: the
 * training images' rankings (what Algorithm 1 reads, enough for Fig. 2 and the k1/k2 grid), the test features and
 * labels, the final layer, and the loaded model for the export.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { batchView, type ImageBatch, loadCifar10, normalise } from "../data";
import { scanTree } from "../data/trees";
import { ImagePool } from "../data/image-pool";
import { IMAGE_BYTES, IMAGE_HEIGHT, IMAGE_WIDTH } from "../data/image-set";
import { preprocessBatch } from "../data/preprocess";
import { shuffledOrder } from "../training/loop";
import { openImportedEngine } from "../models/import/onnx-model";
import { openTfjsImportedEngine } from "../models/import/tfjs-model";
import { modelRecipe, openEngine } from "../models/load";
import { type ActivationMaps, type InfluentialSets, predictFull } from "../method";
import { faithfulnessCurves, type FaithfulnessCurves, imageMaps, type SaliencyOptions } from "./faithfulness";
import { lastBlockMaps, contrastChannels } from "./visualization";
import type { OverlayRow } from "./visualization-report";
import type { Recipe } from "../data/preprocess";
import { type FeatureRanking, type Labels, type LinearLayer } from "../method";
import { writeDecomposedModel } from "../models/export";
import type { LoadedModel } from "../models/load";
import { exportOnnxModel } from "../models/onnx-export";
import { loadPretrained } from "../models/pretrained";
import type { Progress } from "../progress";
import { writeFileAtomic } from "../artifacts/atomic-write";
import type { IndexSets } from "../method";
import { type DataSource, decompose } from "./decompose";
import type { LabelledFeatures } from "./setup";

export interface ImportedStudyOptions {
  /** An ONNX file, a TF.js model.json (or a registry name). */
  model: string;
  data: DataSource;
  /** Only the first N images of each split (null or absent: all). */
  limit?: number | null;
  /** CIFAR-10: the crop + flip seed of the training images Algorithm 1 sees (null: plain). */
  augmentSeed?: number | null;
  /** A preprocessing name or recipe (default: the model's; see modelRecipe). */
  preprocessing?: string | Recipe;
  norm?: string;
  /** Ranks kept per training image: the largest k1 the grid can use. */
  rankDepth: number;
  onProgress?: Progress;
}

export interface ImportedStudy {
  model: LoadedModel;
  data: DataSource;
  /** The resize and crop the images went through, and the normalisation. */
  preprocessing: Recipe;
  norm: string;
  train: { ranking: FeatureRanking; labels: Labels };
  test: LabelledFeatures;
  layer: LinearLayer;
  classNames: string[];
  /** The engine that computed the evaluation features (null: read from the cache), and the recipe's id. */
  backend: string | null;
  recipe: string;
}

/** The training ranks and evaluation features of any source (decompose's two sides, without choosing k). */
export async function importedStudy(opts: ImportedStudyOptions): Promise<ImportedStudy> {
  const norm = opts.norm ?? "checkpoint";
  const d = await decompose({ ...opts, norm, k1: 1, k2: 1 });
  return {
    model: d.pretrained, data: opts.data, preprocessing: modelRecipe(opts.model, opts.preprocessing ?? "torchvision", opts.data.kind === "cifar10" ? IMAGE_HEIGHT : null), norm,
    train: d.training, test: d.test, layer: d.layer, classNames: d.classes, backend: d.backend.val, recipe: d.recipe,
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

/** The study's test images at `indices`, as the model takes them (resized and cropped, before normalisation). */
async function studyImages(study: ImportedStudy, indices: number[]): Promise<ImageBatch> {
  const [height, width] = study.model.spec.inputShape;
  if (study.data.kind === "cifar10") {
    const test = await loadCifar10("test");
    const raw = new Uint8Array(indices.length * IMAGE_BYTES);
    indices.forEach((i, n) => raw.set(batchView(test, i, i + 1).pixels, n * IMAGE_BYTES));
    return { count: indices.length, pixels: preprocessBatch(raw, indices.length, IMAGE_HEIGHT, IMAGE_WIDTH, study.preprocessing) };
  }
  const tree = study.data.tree ?? scanTree(study.data.root, study.data.kind, study.data.kind === "folder" ? study.data : undefined);
  const files = tree.splits.val!.files;
  const pool = new ImagePool(study.preprocessing);
  try {
    return { count: indices.length, pixels: await pool.batch(indices.map((i) => files[i]), height * width * 3) };
  } finally {
    await pool.close();
  }
}

/**
 * The last feature map of a batch: from the imported graph's own pooled-map output (a registry model's from its
 * TF.js description), or why there is none (features that are no global average of a map: a fully connected head).
 */
async function studyMaps(study: ImportedStudy, batch: ImageBatch): Promise<ActivationMaps | string> {
  if (study.model.kind === "registry") return lastBlockMaps(batch, { model: study.model.entry.name, pretrained: study.model, norm: study.norm });
  const engine = await (study.model.format === "onnx" ? openImportedEngine(study.model) : openTfjsImportedEngine(study.model));
  try {
    const out = await engine.maps(normalise(batch, study.norm), batch.count);
    if (out === null) return `${study.model.spec.name}'s features are not a global average of a spatial map (a fully connected head), so it has no channel maps`;
    const [, h, w, c] = out.shape;
    return { count: batch.count, height: h, width: w, channels: c, data: out.data, tensor: "pooled map" };
  } finally {
    engine.dispose();
  }
}

const saliencyFor = (study: ImportedStudy, influence: InfluentialSets, channels: number, seed: number): SaliencyOptions => ({
  influential: influence.sets, nonInfluential: contrastChannels(influence, channels).map((c) => c.nonInfluential), layer: study.layer,
  inputSize: [study.model.spec.inputShape[0], study.model.spec.inputShape[1]], seed,
});

/**
 * Table 7's overlays for the study's model: the first correctly classified test image of as many classes as asked
 * (in a seeded order), with the CAM, the non-influential and the influential channel maps of its class; or why
 * the model has none.
 */
export async function studyOverlays(
  study: ImportedStudy,
  influence: InfluentialSets,
  opts: { images: number; channels: number; seed?: number },
): Promise<{ rows: OverlayRow[]; size: [number, number]; reason: null } | { rows: null; size: null; reason: string }> {
  const seed = opts.seed ?? 0;
  const predictions = predictFull(study.test.features, study.layer);
  const labels = study.test.labels;
  const firstCorrect = new Map<number, number>();
  for (const i of shuffledOrder(labels.length, seed)) if (predictions[i] === labels[i] && !firstCorrect.has(labels[i])) firstCorrect.set(labels[i], i);
  const picked = [...firstCorrect.values()].slice(0, opts.images).sort((a, b) => a - b);
  if (picked.length === 0) return { rows: null, size: null, reason: "no test image is classified correctly" };
  const batch = await studyImages(study, picked);
  const maps = await studyMaps(study, batch);
  if (typeof maps === "string") return { rows: null, size: null, reason: maps };
  const [height, width] = study.model.spec.inputShape;
  const bytes = height * width * 3;
  const saliency = saliencyFor(study, influence, opts.channels, seed);
  const rows = picked.map((i, n) => {
    const m = imageMaps(maps, n, labels[i], saliency);
    return { className: study.classNames[labels[i]], testIndex: i, pixels: batch.pixels.subarray(n * bytes, (n + 1) * bytes), maps: [m.CAM, m["non-influential"], m.influential] };
  });
  return { rows, size: [height, width], reason: null };
}

/**
 * Notebook 05's deletion and insertion curves for the study's model, on a seeded sample of its test images (right
 * or wrong), each tracking its true class's probability as the pixels each map ranks highest are blurred away
 * (or brought back), run on the model's own engine; or why the model has no maps.
 */
export async function studyCurves(
  study: ImportedStudy,
  influence: InfluentialSets,
  opts: { images: number; channels: number; steps?: number; blurSigma?: number; seed?: number; onProgress?: Progress },
): Promise<{ curves: FaithfulnessCurves; reason: null } | { curves: null; reason: string }> {
  const seed = opts.seed ?? 0;
  const sample = Array.from(shuffledOrder(study.test.labels.length, seed + 2)).slice(0, opts.images).sort((a, b) => a - b);
  const batch = await studyImages(study, sample);
  const maps = await studyMaps(study, batch);
  if (typeof maps === "string") return { curves: null, reason: maps };
  const saliency = saliencyFor(study, influence, opts.channels, seed);
  const targets = sample.map((i) => study.test.labels[i]);
  const engine = await openEngine(study.model);
  try {
    const curves = await faithfulnessCurves({
      engine, norm: study.norm, images: batch, targets, maps: targets.map((y, n) => imageMaps(maps, n, y, saliency)), steps: opts.steps, blurSigma: opts.blurSigma, onProgress: opts.onProgress,
    });
    return { curves, reason: null };
  } finally {
    engine.dispose();
  }
}
