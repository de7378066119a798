/**
 * Pooled features of every stage of a network on a CIFAR-10 split (CIFAR ResNets: layer1-3; torchvision ResNets:
 * layer1-4; an imported ONNX graph: the feature maps a user names), all from one forward pass per image and cached
 * in one file beside the penultimate features, whose cache the same pass fills (a registry model's last stage is
 * those features themselves).
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import { CorruptFileError, readOrHeal, resolveCacheDir, writeFileAtomic } from "../artifacts";
import { decodeTensorFile, encodeTensorFile } from "../artifacts/tensor-file";
import { batchView, loadCifar10 } from "../data";
import { IMAGE_HEIGHT } from "../data/image-set";
import type { FeatureMatrix } from "../method";
import type { ForwardEngine } from "../models/engine";
import { createEngine, type EngineChoice } from "../models/engines";
import { openImportedEngine, withStageTensors } from "../models/import/onnx-model";
import { type LoadedModel, modelRecipe } from "../models/load";
import { pickStages, withStageOutputs } from "../models/spec";
import type { StateDict } from "../torch";
import { featureCachePath, readFeatureCache, writeFeatureCache } from "./cache";
import type { FeatureSet, FeatureSetKey } from "./feature-set";
import type { PassStage } from "./imagenet";
import { featureKey, type GetFeaturesOptions, loadForCifar, validateFeatureOptions } from "./index";
import { runExtraction } from "./extract";

/** A stage's name, width (its channels) and pooled features, count x width (non-negative: stages end in a ReLU). */
export type StageFeatures = PassStage;

export interface StageFeatureSet extends FeatureSetKey {
  count: number;
  labels: Uint8Array;
  /** In the network's order (a registry model's last is its penultimate features), or as the graph's tensors were named. */
  stages: StageFeatures[];
  backend: string;
}

export interface StageFeatureOptions extends GetFeaturesOptions {
  /** Stage names to return (default: all of the model's stages); every stage is extracted and cached regardless. */
  stages?: string[];
}

type Header = Omit<StageFeatureSet, "labels" | "stages"> & { widths: { name: string; width: number }[] };

/** The stage cache of a feature key: the penultimate cache's name with `-stages`, and the tensors' names' hash when a user named them. */
export function stageCachePath(cacheDir: string, key: FeatureSetKey, names?: readonly string[]): string {
  const named = names === undefined ? "" : `-${stageNamesId(names)}`;
  return featureCachePath(cacheDir, key).replace(/\.bin$/, `-stages${named}.bin`);
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

/** What extraction runs: an engine whose forward also returns each stage, the stages' names, and their widths. */
export interface StagedEngine {
  open: () => Promise<ForwardEngine>;
  names: string[];
  /** Known from the description, or null until a first run measures them (an imported graph). */
  widths: number[] | null;
}

/**
 * The stages' widths on an opened engine: the description's, or an imported graph's measured by a first run on one
 * blank image, which also refuses a tensor without spatial axes before any image is decoded.
 */
export async function stageWidths(staged: StagedEngine, engine: ForwardEngine): Promise<number[]> {
  if (staged.widths !== null) return staged.widths;
  const [h, w, c] = engine.spec.inputShape;
  return (await engine.forward(new Float32Array(h * w * c), 1)).stages!.map((s) => s.length);
}

/** A short hash of the tensor names a user chose, for cache file names. */
export function stageNamesId(names: readonly string[]): string {
  return createHash("sha256").update(JSON.stringify(names)).digest("hex").slice(0, 12);
}

/**
 * The engine for stage features: a registry model's description with its stages as outputs (all of them, or those
 * named with `all: false`), or an imported ONNX graph with the named feature maps as outputs.
 */
export function stagedEngine(model: LoadedModel, opts: { engine?: EngineChoice; stages?: string[] }, all = true): StagedEngine {
  if (model.kind === "registry") {
    const stages = pickStages(model.spec, all ? undefined : opts.stages);
    const names = stages.map((s) => s.name);
    return { open: () => createEngine(withStageOutputs(model.spec, names), model.stateDict, opts.engine), names, widths: stages.map((s) => s.channels) };
  }
  if (model.format !== "onnx") throw new Error(`${model.file}: stage features of an imported model read tensors of its graph, so they need an ONNX file (export the model with tf2onnx or torch.onnx.export)`);
  if (opts.stages === undefined || opts.stages.length === 0) {
    throw new Error(`${model.file} is a graph without named stages: name the feature maps to probe (stages: tensor names; decomp probe --stage NAME)`);
  }
  const staged = withStageTensors(model, opts.stages);
  return { open: () => openImportedEngine(staged), names: [...opts.stages], widths: null };
}

/**
 * Every stage's pooled features of a model on a CIFAR-10 split: read from the cache, else one extraction pass for
 * all stages (which also writes the penultimate features' cache). A registry model's stages are its family's
 * (all extracted, the ones asked for returned); an imported ONNX graph's are the feature maps named in `stages`.
 */
export async function getStageFeatures(opts: StageFeatureOptions): Promise<StageFeatureSet> {
  validateFeatureOptions(opts);
  const cacheDir = resolveCacheDir(opts.cacheDir);
  const recipe = modelRecipe(opts.model, opts.preprocessing ?? "torchvision", IMAGE_HEIGHT);
  const model = opts.pretrained ?? (await loadForCifar({ ...opts, cacheDir }));
  if (model.kind === "registry") pickStages(model.spec, opts.stages);
  const staged = stagedEngine(model, opts);
  const wanted = opts.stages ?? staged.names;
  const key = featureKey(opts, recipe, model.checkpointSha256);
  const file = stageCachePath(cacheDir, key, model.kind === "registry" ? undefined : staged.names);
  let set = opts.refresh ? null : readStageCache(file);
  if (set === null) {
    const engine = await staged.open();
    try {
      const widths = await stageWidths(staged, engine);
      const images = await loadCifar10(opts.split, { onProgress: opts.onProgress, cacheDir });
      const view = key.limit === null || key.limit >= images.count ? images : batchView(images, 0, key.limit);
      const out = await runExtraction(engine, view, {
        norm: key.norm,
        augmentSeed: key.augmentSeed,
        recipe,
        batchSize: opts.batchSize,
        onProgress: opts.onProgress,
        stageWidths: widths,
        stage: `extract ${key.model}/${key.split} stages ${staged.names.join(", ")} (${key.norm}, ${engine.backend})`,
      });
      const labels = new Uint8Array(view.labels);
      set = { ...key, count: view.count, labels, backend: engine.backend, stages: staged.names.map((name, i) => ({ name, width: widths[i], features: out.stages![i] })) };
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
