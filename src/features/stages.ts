/**
 * Pooled features of every stage of a network on a CIFAR-10 split (CIFAR ResNets: layer1-3; torchvision ResNets:
 * layer1-4), all from one forward pass per image and cached in one file beside the penultimate features. The
 * last stage is the penultimate features themselves, so a run also fills (or reuses) their cache.
 */
import * as fs from "node:fs";
import { resolveCacheDir } from "../artifacts";
import { CorruptFileError, readOrHeal, writeFileAtomic } from "../artifacts";
import { decodeTensorFile, encodeTensorFile } from "../artifacts/tensor-file";
import { batchView, loadCifar10 } from "../data";
import { IMAGE_HEIGHT } from "../data/image-set";
import { recipeId } from "../data/preprocess";
import type { FeatureMatrix } from "../method";
import { createEngine } from "../models/engines";
import { modelKey, modelRecipe, registryModel } from "../models/load";
import { pickStages, withStageOutputs } from "../models/spec";
import type { StateDict } from "../torch";
import { featureCachePath, readFeatureCache, writeFeatureCache } from "./cache";
import type { FeatureSet, FeatureSetKey } from "./feature-set";
import { type GetFeaturesOptions, loadForCifar, validateFeatureOptions } from "./index";
import { runExtraction } from "./extract";

export interface StageFeatures {
  name: string;
  /** Channels of the stage: the width of its pooled features. */
  width: number;
  /** count x width, row-major, non-negative (the stage ends in a ReLU). */
  features: Float32Array;
}

export interface StageFeatureSet extends FeatureSetKey {
  count: number;
  labels: Uint8Array;
  /** In the network's order; the last is the penultimate features. */
  stages: StageFeatures[];
  backend: string;
}

export interface StageFeatureOptions extends GetFeaturesOptions {
  /** Stage names to return (default: all of the model's stages); every stage is extracted and cached regardless. */
  stages?: string[];
}

type Header = Omit<StageFeatureSet, "labels" | "stages"> & { widths: { name: string; width: number }[] };

/** The stage cache of a feature key: the penultimate cache's name with `-stages`. */
export function stageCachePath(cacheDir: string, key: FeatureSetKey): string {
  return featureCachePath(cacheDir, key).replace(/\.bin$/, "-stages.bin");
}

function readStageCache(file: string): StageFeatureSet | null {
  if (!fs.existsSync(file)) return null;
  return readOrHeal(file, () => {
    const { tensors, meta } = decodeTensorFile<Header>(fs.readFileSync(file), file);
    const { widths, ...key } = meta;
    const get = (name: string, shape: number[]) => {
      const t = tensors.get(name);
      if (!t || t.shape.join() !== shape.join()) throw new CorruptFileError(`${file} lacks '${name}' of shape [${shape.join(", ")}]: it is not a stage cache of this version`);
      return t.data;
    };
    return {
      ...key,
      labels: Uint8Array.from(get("labels", [meta.count])),
      stages: widths.map(({ name, width }) => ({ name, width, features: get(`stage:${name}`, [meta.count, width]) })),
    };
  });
}

async function writeStageCache(file: string, set: StageFeatureSet): Promise<void> {
  const { labels, stages, ...key } = set;
  const tensors: StateDict = new Map([["labels", { shape: [set.count], data: Float32Array.from(labels) }]]);
  for (const s of stages) tensors.set(`stage:${s.name}`, { shape: [set.count, s.width], data: s.features });
  await writeFileAtomic(file, encodeTensorFile<Header>(tensors, { ...key, widths: stages.map(({ name, width }) => ({ name, width })) }));
}

/**
 * Every stage's pooled features of a registry model on a CIFAR-10 split: read from the cache, else one extraction
 * pass for all stages (which also writes the penultimate features' cache). Returns the stages asked for.
 */
export async function getStageFeatures(opts: StageFeatureOptions): Promise<StageFeatureSet> {
  validateFeatureOptions(opts);
  const cacheDir = resolveCacheDir(opts.cacheDir);
  const recipe = modelRecipe(opts.model, opts.preprocessing ?? "torchvision", IMAGE_HEIGHT);
  const model = registryModel(opts.pretrained ?? (await loadForCifar({ ...opts, cacheDir })), "stage features");
  const wanted = pickStages(model.spec, opts.stages).map((s) => s.name);
  const key: FeatureSetKey = {
    model: modelKey(opts.model),
    split: opts.split,
    norm: opts.norm ?? "checkpoint",
    augmentSeed: opts.augmentSeed ?? null,
    limit: opts.limit ?? null,
    checkpointSha256: model.checkpointSha256,
    ...(recipe.kind === "native" ? {} : { recipe: recipeId(recipe) }),
  };
  const file = stageCachePath(cacheDir, key);
  let set = opts.refresh ? null : readStageCache(file);
  if (set === null) {
    const all = pickStages(model.spec);
    const images = await loadCifar10(opts.split, { onProgress: opts.onProgress, cacheDir });
    const view = key.limit === null || key.limit >= images.count ? images : batchView(images, 0, key.limit);
    const engine = await createEngine(withStageOutputs(model.spec), model.stateDict, opts.engine);
    try {
      const out = await runExtraction(engine, view, {
        norm: key.norm,
        augmentSeed: key.augmentSeed,
        recipe,
        batchSize: opts.batchSize,
        onProgress: opts.onProgress,
        stageWidths: all.map((s) => s.channels),
        stage: `extract ${key.model}/${key.split} stages ${all.map((s) => s.name).join(", ")} (${key.norm}, ${engine.backend})`,
      });
      const labels = new Uint8Array(view.labels);
      set = { ...key, count: view.count, labels, backend: engine.backend, stages: all.map((s, i) => ({ name: s.name, width: s.channels, features: out.stages![i] })) };
      await writeStageCache(file, set);
      const penultimate = featureCachePath(cacheDir, key);
      if (readFeatureCache(penultimate) === null) {
        const features: FeatureSet = { ...key, count: view.count, width: model.spec.featureWidth, classes: model.spec.classes, features: out.features, logits: out.logits, labels, weight: model.finalLayer.weight, bias: model.finalLayer.bias, backend: engine.backend };
        await writeFeatureCache(penultimate, features);
      }
    } finally {
      engine.dispose();
    }
  }
  const byName = new Map(set.stages.map((s) => [s.name, s]));
  const missing = wanted.filter((n) => !byName.has(n));
  if (missing.length > 0) throw new CorruptFileError(`${file} lacks stage ${missing.join(", ")}: delete it to extract again`);
  return { ...set, stages: wanted.map((n) => byName.get(n)!) };
}

/** A stage's features as the method's matrix type (no copy). */
export function stageMatrix(set: StageFeatureSet, name: string): FeatureMatrix {
  const stage = set.stages.find((s) => s.name === name);
  if (stage === undefined) throw new Error(`no stage '${name}' in this set; it has ${set.stages.map((s) => s.name).join(", ")}`);
  return { data: stage.features, rows: set.count, cols: stage.width };
}
