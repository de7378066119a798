/**
 * One model's pass over an ImageNet split, cached: the whole split in one file, or shard i of n in its own file
 * (a cluster job's unit of work), merged later into the same whole-split file. Everything is checked — the tree's
 * layout, the weights against the architecture, the classes against the tree's — before the first image is decoded.
 */
import * as path from "node:path";
import { resolveCacheDir } from "../artifacts";
import { type ImageFolderOptions, probeImages } from "../data/image-folder";
import type { ImageList, ImageNetSplit, ImageNetTree } from "../data/imagenet";
import { scanTree, type TreeLayout } from "../data/trees";
import { type Recipe, recipeId, recipeOutputSide } from "../data/preprocess";
import { normalisationId } from "../data/transforms";
import type { LinearLayer } from "../method";
import type { EngineChoice } from "../models/engines";
import { type LoadedModel, loadAnyModel, modelKey, modelRecipe, openEngine } from "../models/load";
import type { Progress } from "../progress";
import { stagedEngine, stageNamesId, stageWidths } from "./stages";
import { checkShard, type FileExtraction, extractFiles, IMAGENET_BATCH_SIZE, listFingerprint, mergePasses, type PassKey, readPass, shardRange, writePass } from "./imagenet";

/** The paper's k1 for ImageNet: a training pass keeps this many ranks unless asked for more. */
export const DEFAULT_RANK_DEPTH = 50;

export interface ImageNetPassOptions {
  /** A registry name, or an ONNX file to import. */
  model: string;
  weights?: string;
  /** The folder holding train/ and val/. */
  root: string;
  /** imagenet (ILSVRC-2012's layouts, default), tiny-imagenet (Tiny ImageNet 200's) or folder (an ImageFolder tree of one's own; its images are checked first). */
  layout?: TreeLayout;
  /** Split folders of an ImageFolder tree. */
  folder?: ImageFolderOptions;
  split: ImageNetSplit;
  /** "torchvision" (the weights' preset, default), "paper" (224 x 224 squash), or a recipe of one's own. */
  preprocessing?: string | Recipe;
  norm?: string;
  /** Training passes: ranks kept per image (default DEFAULT_RANK_DEPTH). Validation passes keep features. */
  rankDepth?: number;
  /**
   * A training pass that keeps every image's features and logits, as validation passes do, for the selection
   * rules and refits that read them; with perClass, of a class-balanced sample small enough to hold.
   */
  keepFeatures?: boolean;
  /** Only the first N images of each class (in the split's order), applied before limit. */
  perClass?: number | null;
  /**
   * Keep these stages' pooled features too (a registry model's stage names, e.g. layer1-layer4; an imported ONNX
   * graph's feature maps), from the same forward passes; the pass keeps features rather than ranks then.
   */
  stages?: string[];
  /** Only the first N images of the split (a quick look; its own cache entry). */
  limit?: number | null;
  batchSize?: number;
  /** Run only shard `index` of `count` (whole batches); its file merges with the others' later. */
  shard?: { index: number; count: number };
  engine?: EngineChoice;
  cacheDir?: string;
  onProgress?: Progress;
  /** The model, already loaded with the same weights and preprocessing. */
  pretrained?: LoadedModel;
  /** The tree, already scanned (scanning reads every file name; a second split of the same tree reuses it). */
  tree?: ImageNetTree;
}

export interface ImageNetPass {
  key: PassKey;
  file: string;
  /** Whether the result came from the cache. */
  reused: boolean;
  result: FileExtraction;
  classes: string[];
  backend: string | null;
  /** Images [start, end) of the split this file holds. */
  range: { start: number; end: number };
  /** The model the pass ran (pass it to the next pass of the same model to skip reading the weights again). */
  pretrained: LoadedModel;
}

export interface PreparedPass {
  key: PassKey;
  list: ImageList;
  classes: string[];
  tree: ImageNetTree;
  recipe: Recipe;
  pretrained: LoadedModel;
  cacheDir: string;
}

/** The final layer of the model a pass ran, in the method's terms. */
export function passFinalLayer(pass: ImageNetPass): LinearLayer {
  return { ...pass.pretrained.finalLayer, classes: pass.result.classes, features: pass.result.width };
}

/** The tree's layout, the weights and the pass's key: all a pass needs, read and checked without decoding an image. */
export async function preparePass(opts: ImageNetPassOptions): Promise<PreparedPass> {
  const recipe = typeof opts.preprocessing === "object" ? opts.preprocessing : modelRecipe(opts.model, opts.preprocessing ?? "torchvision", null);
  if (recipe.kind === "native") throw new Error(`${opts.model} is a CIFAR model; ImageNet passes need one of torchvision's families (decomp models lists them)`);
  const folder = opts.layout === "folder";
  const tree = opts.tree ?? scanTree(opts.root, opts.layout ?? "imagenet", opts.folder);
  const all = tree.splits[opts.split];
  if (all === undefined) throw new Error(`${tree.root} has no ${opts.split}/ folder`);
  const sample = opts.perClass == null ? all : firstPerClass(all, opts.perClass);
  const n = opts.limit == null ? sample.files.length : Math.min(opts.limit, sample.files.length);
  const list: ImageList = { files: sample.files.slice(0, n), labels: sample.labels.subarray(0, n), labelSource: all.labelSource };
  const cacheDir = resolveCacheDir(opts.cacheDir);
  const pretrained = opts.pretrained ?? (await loadAnyModel(opts.model, { weights: opts.weights, inputSize: recipeOutputSide(recipe, 224, 224), onProgress: opts.onProgress, cacheDir }));
  if (pretrained.spec.classes !== tree.classes.length) {
    throw new Error(
      `${pretrained.checkpointPath}: ${opts.model}'s final layer has ${pretrained.spec.classes} classes but ${tree.root} has ${tree.classes.length} class folders; ` +
        (folder ? "give a model with one output per class folder (a classes.json in the folder maps folder names to outputs)" : "pass --weights with a model trained on these classes, or the full ImageNet tree"),
    );
  }
  // A tree of one's own may hold anything: every file's header is read before the first image is decoded.
  if (folder) await probeImages(list.files, opts.onProgress, `check ${opts.split} images`);
  const rankDepth = opts.split === "train" && opts.keepFeatures !== true && opts.stages === undefined ? (opts.rankDepth ?? DEFAULT_RANK_DEPTH) : null;
  // Checked (names, families) now; an imported graph's names are checked when its engine opens, before any image.
  const stages = opts.stages === undefined ? undefined : stagedEngine(pretrained, { stages: opts.stages }, false).names;
  if (rankDepth !== null && (!Number.isInteger(rankDepth) || rankDepth < 1 || rankDepth > pretrained.spec.featureWidth)) {
    throw new Error(`rank depth must be 1..${pretrained.spec.featureWidth} (the feature width), got ${rankDepth}`);
  }
  const key: PassKey = {
    model: modelKey(opts.model), checkpointSha256: pretrained.checkpointSha256, split: opts.split, recipe: recipeId(recipe), norm: opts.norm ?? "checkpoint",
    rankDepth, batchSize: opts.batchSize ?? IMAGENET_BATCH_SIZE, images: listFingerprint(list), count: list.files.length, ...(stages === undefined ? {} : { stages }),
  };
  return { key, list, classes: tree.classes, tree, recipe, pretrained, cacheDir };
}

/** The first `perClass` images of each class, in the list's order. */
export function firstPerClass(list: ImageList, perClass: number): ImageList {
  if (!Number.isInteger(perClass) || perClass < 1) throw new Error(`images per class must be a positive integer, got ${perClass}`);
  const seen = new Map<number, number>();
  const keep: number[] = [];
  list.labels.forEach((y, i) => {
    const count = seen.get(y) ?? 0;
    if (count < perClass) keep.push(i);
    seen.set(y, count + 1);
  });
  return { files: keep.map((i) => list.files[i]), labels: Uint16Array.from(keep, (i) => list.labels[i]), labelSource: list.labelSource };
}

/** Where a pass (or one shard of it) is cached; every part of the key is in the name. */
export function passPath(cacheDir: string, key: PassKey, shard?: { index: number; count: number }): string {
  const what = key.rankDepth !== null ? `ranks${key.rankDepth}` : key.stages === undefined ? "features" : `stages-${stageNamesId(key.stages)}`;
  const part = shard === undefined ? "" : `-shard${shard.index}of${shard.count}`;
  const name = `${key.model}-${key.checkpointSha256.slice(0, 12)}-${key.split}-${key.images.slice(0, 12)}-${key.recipe}-${normalisationId(key.norm)}-${what}-b${key.batchSize}${part}.bin`;
  return path.join(cacheDir, "imagenet", name);
}

/** Runs (or reads back) the pass or one shard of it; `prepared` is preparePass(opts) when the caller has it already. */
export async function runImageNetPass(opts: ImageNetPassOptions, prepared?: PreparedPass): Promise<ImageNetPass> {
  const { key, list, classes, recipe, pretrained, cacheDir } = prepared ?? (await preparePass(opts));
  const range = opts.shard === undefined ? { start: 0, end: key.count } : shardRange(key.count, opts.shard.index, opts.shard.count, key.batchSize);
  const file = passPath(cacheDir, key, opts.shard);
  const cached = readPass(file);
  if (cached !== null && JSON.stringify(cached.meta.key) === JSON.stringify(key)) return { key, file, reused: true, result: cached.result, classes, backend: null, range, pretrained };
  const staged = key.stages === undefined ? null : stagedEngine(pretrained, { engine: opts.engine, stages: key.stages }, false);
  const engine = staged === null ? await openEngine(pretrained, opts.engine) : await staged.open();
  try {
    const shardText = opts.shard === undefined ? "" : ` shard ${opts.shard.index + 1}/${opts.shard.count}`;
    const widths = staged === null ? null : await stageWidths(staged, engine);
    const result = await extractFiles(engine, { files: list.files.slice(range.start, range.end), labels: list.labels.subarray(range.start, range.end) }, {
      recipe,
      norm: key.norm,
      batchSize: key.batchSize,
      rankDepth: key.rankDepth ?? undefined,
      ...(staged === null ? {} : { stages: staged.names.map((name, i) => ({ name, width: widths![i] })) }),
      onProgress: opts.onProgress,
      stage: `extract ${opts.model}/${opts.split}${shardText} (${key.recipe}, ${engine.backend})`,
    });
    await writePass(file, key, range.start, result);
    return { key, file, reused: false, result, classes, backend: engine.backend, range, pretrained };
  } finally {
    engine.dispose();
  }
}

/** Merges shards 0..count-1 of a pass into the whole-split file; fails naming the first missing or foreign shard. */
export async function mergeImageNetPass(opts: Omit<ImageNetPassOptions, "shard">, count: number): Promise<ImageNetPass> {
  const { key, classes, cacheDir, pretrained } = await preparePass(opts);
  const shards = Array.from({ length: count }, (_, index) => {
    const file = passPath(cacheDir, key, { index, count });
    const read = readPass(file);
    if (read === null) throw new Error(`shard ${index} of ${count} is missing (${file}); run: decomp extract ... --shard ${index}/${count}`);
    return { file, ...read };
  });
  const result = mergePasses(key, shards);
  const file = passPath(cacheDir, key);
  await writePass(file, key, 0, result);
  return { key, file, reused: false, result, classes, backend: null, range: { start: 0, end: key.count }, pretrained };
}

/**
 * Which shard this process runs: "i/n"; or "auto", from a Slurm job array (SLURM_ARRAY_TASK_ID with
 * SLURM_ARRAY_TASK_COUNT, or the given count) or a Kubernetes Indexed Job (JOB_COMPLETION_INDEX with the given count).
 */
export function parseShard(text: string, shards: number | undefined, env: Record<string, string | undefined> = process.env): { index: number; count: number } {
  if (text === "auto") {
    const id = env.SLURM_ARRAY_TASK_ID ?? env.JOB_COMPLETION_INDEX;
    const count = env.SLURM_ARRAY_TASK_ID !== undefined && env.SLURM_ARRAY_TASK_COUNT !== undefined ? Number(env.SLURM_ARRAY_TASK_COUNT) : shards;
    if (id === undefined) throw new Error("--shard auto needs SLURM_ARRAY_TASK_ID (a Slurm job array) or JOB_COMPLETION_INDEX (a Kubernetes Indexed Job); or give --shard i/n");
    if (count === undefined) throw new Error("--shard auto: set the number of shards with --shards N (SLURM_ARRAY_TASK_COUNT is not set)");
    return checkShard(Number(id), count);
  }
  const m = /^(\d+)\/(\d+)$/.exec(text);
  if (m === null) throw new Error(`--shard must be i/n (e.g. 0/4) or auto, got '${text}'`);
  return checkShard(Number(m[1]), Number(m[2]));
}
