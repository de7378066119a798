/**
 * The paper's visualisation: the last block's activation maps (before global average pooling) of a class's
 * influential channels S_y beside its least-chosen channels, on correctly classified test images; plus how
 * strongly each group responds on average over the class's test images (the pooled feature is a map's mean).
 */
import { initBackend } from "../backend";
import { type ImageBatch, type ImageSet, normalise } from "../data";
import { IMAGE_BYTES } from "../data/image-set";
import { deriveSeed, mulberry32, randomInt } from "../data/prng";
import { type ActivationMaps, type FeatureMatrix, type IndexSets, type InfluentialSets, type Labels, rankByCount } from "../method";
import { loadPretrained, type Pretrained } from "../models/pretrained";
import { pooledMapsName } from "../models/spec";
import { createTfjsEngine } from "../models/tfjs-engine";
import { type Progress, silentProgress } from "../progress";
import type { StateDict } from "../torch";

/** Per class, the channels drawn: S_y's first channels in rank order, and the lowest-ranked of the histogram. */
export interface ChannelContrast {
  influential: number[];
  /** Lowest-ranked first (rank m, m - 1, ...): the channels the class's instances chose least. */
  nonInfluential: number[];
  /** 1-based rank of each non-influential channel in the class histogram. */
  nonInfluentialRanks: number[];
}

export function contrastChannels(influence: InfluentialSets, count: number): ChannelContrast[] {
  if (!Number.isInteger(count) || count < 1 || count > influence.k2) {
    throw new Error(`channels per group must be an integer in 1..k2 = ${influence.k2}, got ${count}`);
  }
  return influence.perClass.map((c) => {
    const ranked = rankByCount(c.counts);
    if (2 * count > ranked.length) {
      throw new Error(`${count} influential and ${count} non-influential channels need ${2 * count} channels; the features have ${ranked.length}`);
    }
    const nonInfluentialRanks = Array.from({ length: count }, (_, i) => ranked.length - i);
    return { influential: c.indices.slice(0, count), nonInfluential: nonInfluentialRanks.map((r) => ranked[r - 1]), nonInfluentialRanks };
  });
}

/**
 * `counts[y]` positions from each class's pool, drawn without replacement with a stream seeded by (seed, class)
 * so one class's choice does not depend on the others.
 */
function drawPerClass(pools: number[][], counts: number[], seed: number): number[][] {
  return pools.map((pool, y) => {
    const rng = mulberry32(deriveSeed(seed, y));
    const chosen = pool.slice();
    // Partial Fisher-Yates: the first counts[y] slots are a uniform draw without replacement.
    for (let i = 0; i < counts[y]; i++) {
      const j = i + randomInt(rng, chosen.length - i);
      [chosen[i], chosen[j]] = [chosen[j], chosen[i]];
    }
    return chosen.slice(0, counts[y]);
  });
}

function checkPerClass(perClass: number): void {
  if (!Number.isInteger(perClass) || perClass < 1) throw new Error(`images per class must be a positive integer, got ${perClass}`);
}

/** Per class, `perClass` seeded positions of images the model classifies correctly. */
export function pickCorrectImages(labels: Labels, predictions: Int32Array, classes: number, perClass: number, seed: number): number[][] {
  if (labels.length !== predictions.length) {
    throw new Error(`${labels.length} labels but ${predictions.length} predictions; give one prediction per image`);
  }
  checkPerClass(perClass);
  const correct: number[][] = Array.from({ length: classes }, () => []);
  for (let i = 0; i < labels.length; i++) if (predictions[i] === labels[i]) correct[labels[i]].push(i);
  correct.forEach((pool, y) => {
    if (pool.length < perClass) {
      throw new Error(`class ${y} has ${pool.length} correctly classified images, fewer than the ${perClass} asked for; use more test images or fewer per class`);
    }
  });
  return drawPerClass(correct, correct.map(() => perClass), seed);
}

/**
 * Per class, a seeded sample of `perClass` of its images, classified correctly or not (every image of a class
 * that has fewer), in ascending position order.
 */
export function sampleImagesPerClass(labels: Labels, classes: number, perClass: number, seed: number): number[][] {
  checkPerClass(perClass);
  const pools: number[][] = Array.from({ length: classes }, () => []);
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] >= classes) throw new Error(`label ${labels[i]} at position ${i} is outside 0..${classes - 1}`);
    pools[labels[i]].push(i);
  }
  return drawPerClass(pools, pools.map((p) => Math.min(perClass, p.length)), seed).map((s) => s.sort((a, b) => a - b));
}

/** The images at `indices` of a set, copied into one batch in that order. */
export function gatherImages(set: ImageSet, indices: number[]): ImageBatch {
  const pixels = new Uint8Array(indices.length * IMAGE_BYTES);
  indices.forEach((index, k) => {
    if (!Number.isInteger(index) || index < 0 || index >= set.count) throw new Error(`image index ${index} is outside 0..${set.count - 1}`);
    pixels.set(set.pixels.subarray(index * IMAGE_BYTES, (index + 1) * IMAGE_BYTES), k * IMAGE_BYTES);
  });
  return { count: indices.length, pixels };
}

export interface LastBlockMapsOptions {
  model: string;
  /** Other weights for the same architecture (e.g. a fine-tuned state dict); default the pretrained ones. */
  stateDict?: StateDict;
  /** The model already loaded (e.g. with a user's weights); default the registry's pretrained one. */
  pretrained?: Pretrained;
  /** Input normalisation, the same as the features' (e.g. DEFAULT_SETUP.norm). */
  norm: string;
  batchSize?: number;
  onProgress?: Progress;
}

/**
 * The last block's maps (the global average pool's input) of a batch of images at the model's input size
 * (CIFAR's 32 x 32, or a torchvision model's crop), from the pretrained model on the TF.js executor.
 */
export async function lastBlockMaps(images: ImageBatch, opts: LastBlockMapsOptions): Promise<ActivationMaps> {
  const onProgress = opts.onProgress ?? silentProgress;
  const batchSize = opts.batchSize ?? 64;
  const pretrained = opts.pretrained ?? (await loadPretrained(opts.model, { onProgress }));
  const [h, w, c] = pretrained.spec.inputShape;
  const bytes = h * w * c;
  if (images.pixels.length !== images.count * bytes) throw new Error(`${opts.model} takes ${h} x ${w} x ${c} images; the batch holds ${images.pixels.length} bytes for ${images.count} images`);
  await initBackend();
  const engine = createTfjsEngine(pretrained.spec, opts.stateDict ?? pretrained.stateDict);
  const tensor = pooledMapsName(pretrained.spec);
  const stage = `maps ${tensor} (${opts.model}, ${engine.backend})`;
  try {
    const parts: Float32Array[] = [];
    let shape: number[] = [];
    onProgress({ stage, done: 0, total: images.count, unit: "images" });
    for (let start = 0; start < images.count; start += batchSize) {
      const end = Math.min(start + batchSize, images.count);
      const batch = { count: end - start, pixels: images.pixels.subarray(start * bytes, end * bytes) };
      const out = (await engine.forwardNamed(normalise(batch, opts.norm), batch.count, [tensor])).get(tensor)!;
      parts.push(out.data);
      shape = out.shape;
      onProgress({ stage, done: end, total: images.count, unit: "images" });
    }
    const [, height, width, channels] = shape;
    const data = new Float32Array(images.count * height * width * channels);
    let offset = 0;
    for (const part of parts) {
      data.set(part, offset);
      offset += part.length;
    }
    return { count: images.count, height, width, channels, data, tensor };
  } finally {
    engine.dispose();
  }
}

/** How strongly each channel group responds on a class's images (pooled value = mean of a channel's map). */
export interface ClassEnergy {
  images: number;
  /** Mean over the class's images of the mean pooled value over S_y. */
  influentialMean: number;
  /** The same over every channel outside S_y. */
  othersMean: number;
  /** The same over the lowest-ranked channels drawn beside S_y. */
  lowestMean: number;
  /** S_y's mean pooled value on images of the other classes: how class-specific the response is. */
  influentialOnOtherClasses: number;
  /** Share of the class's images whose mean over S_y exceeds their mean over the other channels. */
  influentialAboveOthers: number;
}

function groupMean(row: Float32Array, base: number, group: readonly number[]): number {
  let s = 0;
  for (const j of group) s += row[base + j];
  return s / group.length;
}

/** Per class, from pooled features and their labels; `lowest` are the non-influential channels per class. */
export function activationEnergy(features: FeatureMatrix, labels: Labels, sets: IndexSets, lowest: number[][]): ClassEnergy[] {
  const { data, rows, cols } = features;
  if (labels.length !== rows) throw new Error(`${rows} feature rows but ${labels.length} labels`);
  if (lowest.length !== sets.length) throw new Error(`${sets.length} influential sets but ${lowest.length} non-influential lists; give one per class`);
  return sets.map((set, y) => {
    const inSet = new Set(set);
    const others = Array.from({ length: cols }, (_, j) => j).filter((j) => !inSet.has(j));
    if (set.length === 0 || others.length === 0 || lowest[y].length === 0) {
      throw new Error(`class ${y}: S_y has ${set.length} of ${cols} channels and ${lowest[y].length} are drawn as non-influential; every group needs at least one channel`);
    }
    let images = 0;
    let influential = 0;
    let rest = 0;
    let low = 0;
    let above = 0;
    let otherImages = 0;
    let elsewhere = 0;
    for (let i = 0; i < rows; i++) {
      const base = i * cols;
      const mine = groupMean(data, base, set);
      if (labels[i] !== y) {
        otherImages++;
        elsewhere += mine;
        continue;
      }
      const theirs = groupMean(data, base, others);
      images++;
      influential += mine;
      rest += theirs;
      low += groupMean(data, base, lowest[y]);
      if (mine > theirs) above++;
    }
    if (images === 0) throw new Error(`class ${y} has no images among the ${rows} given`);
    return {
      images,
      influentialMean: influential / images,
      othersMean: rest / images,
      lowestMean: low / images,
      influentialOnOtherClasses: otherImages > 0 ? elsewhere / otherImages : NaN,
      influentialAboveOthers: above / images,
    };
  });
}
