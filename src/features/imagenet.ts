/**
 * Feature extraction over image files (an ImageNet split): batches decoded (sharp) and preprocessed on worker
 * threads one batch ahead of the engine, so decoding overlaps the forward passes. A training pass keeps per
 * image only its top `rankDepth` feature indices (what Algorithm 1 reads: two bytes per index instead of the
 * whole feature vector, so 1.28M images x 2,048 features never sit in memory); a validation pass keeps the
 * features and logits. Work splits into deterministic shards of whole batches, each written as a checksummed
 * file on its own, so a cluster runs shards as an array job, a failed shard is rerun alone, and merging the
 * shards gives exactly the unsharded result (every batch is the same batch either way).
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { readOrHeal, writeFileAtomic } from "../artifacts";
import { decodeTensorFile, encodeTensorFile } from "../artifacts/tensor-file";
import { normalise } from "../data";
import { ImagePool } from "../data/image-pool";
import type { ImageList } from "../data/imagenet";
import { type Recipe, recipeOutputSide } from "../data/preprocess";
import { rankFeatures } from "../method";
import type { ForwardEngine } from "../models/engine";
import { type Progress, silentProgress } from "../progress";
import type { StateDict } from "../torch";

export interface FileExtractionOptions {
  recipe: Recipe;
  norm: string;
  batchSize?: number;
  /** Keep only each image's top `rankDepth` feature indices (rank order) instead of features and logits. */
  rankDepth?: number;
  /** Names and widths of the stage outputs the engine's forward returns (features are kept too). */
  stages?: { name: string; width: number }[];
  onProgress?: Progress;
  stage?: string;
  /** Decoding and preprocessing worker threads (default defaultWorkerCount(): DECOMP_DECODE_WORKERS, else by cores). */
  workers?: number;
}

/** What one pass over files produced: ranks (training pass) or features and logits (evaluation pass). */
export interface FileExtraction {
  count: number;
  labels: Uint16Array;
  width: number;
  classes: number;
  /** count x rankDepth feature indices, largest feature first (ties: lower index first, as rankFeatures). */
  ranks?: Uint16Array;
  rankDepth?: number;
  features?: Float32Array;
  logits?: Float32Array;
  /** Each named stage's pooled features, count x width (a pass with stages). */
  stages?: PassStage[];
}

export interface PassStage {
  name: string;
  width: number;
  features: Float32Array;
}

export const IMAGENET_BATCH_SIZE = 32;

export async function extractFiles(engine: ForwardEngine, list: Pick<ImageList, "files" | "labels">, opts: FileExtractionOptions): Promise<FileExtraction> {
  const { featureWidth: width, classes, inputShape } = engine.spec;
  const side = inputShape[0];
  if (opts.recipe.kind === "native" || recipeOutputSide(opts.recipe, side, side) !== side) {
    throw new Error(`${engine.spec.name} takes ${side} x ${side} images; give a resize-and-crop or squash recipe that produces them`);
  }
  const count = list.files.length;
  const batchSize = opts.batchSize ?? IMAGENET_BATCH_SIZE;
  const onProgress = opts.onProgress ?? silentProgress;
  const stage = opts.stage ?? `extract ${engine.spec.name}`;
  const depth = opts.rankDepth;
  const ranks = depth === undefined ? undefined : new Uint16Array(count * depth);
  const features = depth === undefined ? new Float32Array(count * width) : undefined;
  const logits = depth === undefined ? new Float32Array(count * classes) : undefined;
  if (opts.stages !== undefined && depth !== undefined) throw new Error("a pass keeps stage features with the penultimate features, not with ranks");
  const stages = opts.stages?.map(({ name, width: w }) => ({ name, width: w, features: new Float32Array(count * w) }));
  onProgress({ stage, done: 0, total: count, unit: "images" });
  const pool = new ImagePool(opts.recipe, opts.workers);
  const prepare = (start: number) => {
    const batch = pool.batch(list.files.slice(start, Math.min(start + batchSize, count)), side * side * 3);
    // Prepared while the engine runs the previous batch: a failure is this pass's error when the loop awaits it
    // (or nobody's, if the loop has already failed), never an unhandled rejection in between.
    batch.catch(() => undefined);
    return batch;
  };
  let next = count > 0 ? prepare(0) : null;
  try {
    for (let start = 0; start < count; start += batchSize) {
      const end = Math.min(start + batchSize, count);
      const pixels = await next!;
      // The workers prepare the next batch while the engine runs this one.
      next = end < count ? prepare(end) : null;
      const out = await engine.forward(normalise({ count: end - start, pixels }, opts.norm), end - start);
      if (ranks !== undefined) ranks.set(rankFeatures({ data: out.features, rows: end - start, cols: width }, depth).order, start * depth!);
      else {
        features!.set(out.features, start * width);
        logits!.set(out.logits, start * classes);
        stages?.forEach((st, i) => st.features.set(out.stages![i], start * st.width));
      }
      onProgress({ stage, done: end, total: count, unit: "images" });
    }
  } finally {
    await pool.close();
  }
  return { count, labels: Uint16Array.from(list.labels), width, classes, ranks, rankDepth: depth, features, logits, ...(stages === undefined ? {} : { stages }) };
}

export function checkShard(index: number, shards: number): { index: number; count: number } {
  if (!Number.isInteger(shards) || shards < 1) throw new Error(`the number of shards must be a positive integer, got ${shards}`);
  if (!Number.isInteger(index) || index < 0 || index >= shards) throw new Error(`shard index must be 0..${shards - 1}, got ${index}`);
  return { index, count: shards };
}

/** Shard `index` of `shards` over `count` images: whole batches, as evenly as batches allow. */
export function shardRange(count: number, index: number, shards: number, batchSize = IMAGENET_BATCH_SIZE): { start: number; end: number } {
  checkShard(index, shards);
  const batches = Math.ceil(count / batchSize);
  const first = Math.floor((batches * index) / shards);
  const last = Math.floor((batches * (index + 1)) / shards);
  return { start: Math.min(first * batchSize, count), end: Math.min(last * batchSize, count) };
}

/** Identifies the images of a pass: their paths and labels (a changed or relabelled tree never reuses a result). */
export function listFingerprint(list: { files: readonly string[]; labels: ArrayLike<number> }): string {
  const hash = createHash("sha256");
  list.files.forEach((f, i) => hash.update(`${f}\t${list.labels[i]}\n`));
  return hash.digest("hex");
}

/** Everything a pass's result depends on; two shards merge only when every field but the range agrees. */
export interface PassKey {
  model: string;
  checkpointSha256: string;
  split: string;
  recipe: string;
  norm: string;
  /** rank depth of a training pass, or null for features and logits. */
  rankDepth: number | null;
  /** The stages whose pooled features the pass keeps too (absent: none). */
  stages?: string[];
  batchSize: number;
  /** listFingerprint of the whole pass (all shards). */
  images: string;
  count: number;
}

export interface PassFileMeta {
  key: PassKey;
  start: number;
  end: number;
  width: number;
  classes: number;
  stageWidths?: number[];
}

export function encodePass(key: PassKey, start: number, result: FileExtraction): Uint8Array[] {
  const n = result.count;
  const tensors: StateDict = new Map([["labels", { shape: [n], data: Float32Array.from(result.labels) }]]);
  if (result.ranks !== undefined) tensors.set("ranks", { shape: [n, result.rankDepth!], data: Float32Array.from(result.ranks) });
  else {
    tensors.set("features", { shape: [n, result.width], data: result.features! });
    tensors.set("logits", { shape: [n, result.classes], data: result.logits! });
    for (const st of result.stages ?? []) tensors.set(`stage:${st.name}`, { shape: [n, st.width], data: st.features });
  }
  const meta: PassFileMeta = { key, start, end: start + n, width: result.width, classes: result.classes, ...(result.stages === undefined ? {} : { stageWidths: result.stages.map((st) => st.width) }) };
  return encodeTensorFile(tensors, meta);
}

export function decodePass(bytes: Uint8Array, where: string): { meta: PassFileMeta; result: FileExtraction } {
  const { tensors, meta } = decodeTensorFile<PassFileMeta>(bytes, where);
  const n = meta.end - meta.start;
  const ranks = tensors.get("ranks");
  return {
    meta,
    result: {
      count: n,
      labels: Uint16Array.from(tensors.get("labels")!.data),
      width: meta.width,
      classes: meta.classes,
      ranks: ranks === undefined ? undefined : Uint16Array.from(ranks.data),
      rankDepth: meta.key.rankDepth ?? undefined,
      features: tensors.get("features")?.data,
      logits: tensors.get("logits")?.data,
      ...(meta.key.stages === undefined ? {} : { stages: meta.key.stages.map((name, i) => ({ name, width: meta.stageWidths![i], features: tensors.get(`stage:${name}`)!.data })) }),
    },
  };
}

/** A pass file read back, or null when absent (a corrupt one is moved aside, with a warning). */
export function readPass(file: string): { meta: PassFileMeta; result: FileExtraction } | null {
  if (!fs.existsSync(file)) return null;
  return readOrHeal(file, () => decodePass(fs.readFileSync(file), file));
}

export async function writePass(file: string, key: PassKey, start: number, result: FileExtraction): Promise<void> {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  await writeFileAtomic(file, encodePass(key, start, result));
}

const sameKey = (a: PassKey, b: PassKey) => JSON.stringify(a) === JSON.stringify(b);

/** Concatenates shard results in order; fails naming a shard that is missing, foreign or out of place. */
export function mergePasses(key: PassKey, shards: { file: string; meta: PassFileMeta; result: FileExtraction }[]): FileExtraction {
  const ordered = [...shards].sort((a, b) => a.meta.start - b.meta.start);
  let at = 0;
  for (const s of ordered) {
    if (!sameKey(s.meta.key, key)) throw new Error(`${s.file} belongs to another pass (model, weights, images, recipe or rank depth differ); remove it or rerun its shard`);
    if (s.meta.start !== at) throw new Error(`${s.file} starts at image ${s.meta.start}, expected ${at}: a shard is missing`);
    at = s.meta.end;
  }
  if (at !== key.count) throw new Error(`the shards cover images 0..${at} of ${key.count}: a shard is missing`);
  const first = ordered[0].result;
  const cat = (pick: (r: FileExtraction) => Float32Array | Uint16Array | undefined, make: (n: number) => Float32Array | Uint16Array) => {
    if (pick(first) === undefined) return undefined;
    const total = ordered.reduce((n, s) => n + pick(s.result)!.length, 0);
    const out = make(total);
    let offset = 0;
    for (const s of ordered) {
      out.set(pick(s.result)!, offset);
      offset += pick(s.result)!.length;
    }
    return out;
  };
  return {
    count: key.count,
    labels: cat((r) => r.labels, (n) => new Uint16Array(n)) as Uint16Array,
    width: first.width,
    classes: first.classes,
    ranks: cat((r) => r.ranks, (n) => new Uint16Array(n)) as Uint16Array | undefined,
    rankDepth: first.rankDepth,
    features: cat((r) => r.features, (n) => new Float32Array(n)) as Float32Array | undefined,
    logits: cat((r) => r.logits, (n) => new Float32Array(n)) as Float32Array | undefined,
    ...(first.stages === undefined
      ? {}
      : { stages: first.stages.map((st, i) => ({ name: st.name, width: st.width, features: cat((r) => r.stages![i].features, (n) => new Float32Array(n)) as Float32Array })) }),
  };
}
