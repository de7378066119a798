/**
 * What every whole-network training loop here shares: the seeded epoch order and augmentation, the BatchNorm
 * running-statistics update after each step, the configuration hash that names a run's checkpoint, and the
 * checkpoint's layout (parameters, optimiser moments, extra tensors under their own prefixes).
 */
import { createHash } from "node:crypto";
import { type ImageSet, mulberry32, augmentationFor, padCropFlip, AUGMENT_PAD } from "../data";
import type { BatchNormLayer } from "../models/spec";
import type { StateDict } from "../torch";
import type { AdamState } from "./adam";
import { updateRunningStats } from "./params";
import type { TrainStepResult } from "./tfjs-train-step";

export function hashBytes(hash: ReturnType<typeof createHash>, a: Float32Array | Uint8Array): void {
  hash.update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
}

/** An in-memory set's pixels and labels, as a run key identifies the set. */
export function hashImageSet(hash: ReturnType<typeof createHash>, set: ImageSet): void {
  hashBytes(hash, set.pixels);
  hashBytes(hash, set.labels);
}

/** What a run key hashes of a set of images: an in-memory set's pixels and labels, or whatever a source says identifies it. */
export type KeyedImages = ImageSet | { hashInto(hash: ReturnType<typeof createHash>): void };

/** sha256 of a JSON description, every tensor of a state dict, and the images (see KeyedImages). */
export function runKey(description: unknown, stateDict: StateDict, sets: KeyedImages[]): string {
  const hash = createHash("sha256");
  hash.update(JSON.stringify(description));
  for (const [name, t] of stateDict) {
    hash.update(name);
    hashBytes(hash, t.data);
  }
  for (const set of sets) {
    if ("hashInto" in set) set.hashInto(hash);
    else hashImageSet(hash, set);
  }
  return hash.digest("hex");
}

/** A seeded permutation of 0..n-1 (Fisher-Yates). */
export function shuffledOrder(n: number, seed: number): Uint32Array {
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  const rng = mulberry32(seed);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    const t = order[i];
    order[i] = order[j];
    order[j] = t;
  }
  return order;
}

/**
 * Augmented pixels of the images at `indices`, written into `out` (indices.length images long); each image's
 * crop and flip depend only on (seed, its index).
 */
export function augmentedBatch(set: ImageSet, indices: Uint32Array, seed: number, out: Uint8Array): Uint8Array {
  const bytes = set.height * set.width * set.channels;
  const shape = { height: set.height, width: set.width, channels: set.channels };
  indices.forEach((index, k) => {
    padCropFlip(set.pixels.subarray(index * bytes, (index + 1) * bytes), out.subarray(k * bytes, (k + 1) * bytes), shape, AUGMENT_PAD, augmentationFor(seed, index));
  });
  return out;
}

/** Folds one step's batch statistics into the running mean and variance of every BatchNorm layer, as PyTorch does. */
export function applyBatchStats(bnLayers: BatchNormLayer[], stateDict: StateDict, step: TrainStepResult): void {
  for (const bn of bnLayers) {
    const s = step.batchStats.get(bn.param);
    const mean = stateDict.get(`${bn.param}.running_mean`);
    const variance = stateDict.get(`${bn.param}.running_var`);
    if (s === undefined || mean === undefined || variance === undefined) throw new Error(`no running statistics for ${bn.param}`);
    updateRunningStats(mean.data, variance.data, s.mean, s.variance, s.count);
    const tracked = stateDict.get(`${bn.param}.num_batches_tracked`);
    if (tracked !== undefined) tracked.data[0] += 1;
  }
}

const PARAM = "param:";
const moment = (label: string, which: "m" | "v") => `${label}.${which}:`;

/**
 * The tensors of a checkpoint: the state dict under "param:", each optimiser's first and second moments under
 * "<label>.m:" and "<label>.v:" (an optimiser without second moments stores none), and `extra` as named.
 */
export function checkpointTensors(stateDict: StateDict, optimisers: Record<string, AdamState>, extra: StateDict = new Map()): StateDict {
  const out: StateDict = new Map();
  for (const [name, t] of stateDict) out.set(PARAM + name, t);
  for (const [label, state] of Object.entries(optimisers)) {
    for (const which of ["m", "v"] as const) {
      for (const [name, data] of state[which]) out.set(moment(label, which) + name, { shape: [data.length], data });
    }
  }
  for (const [name, t] of extra) out.set(name, t);
  return out;
}

export interface UnpackedCheckpoint {
  stateDict: StateDict;
  /** Per optimiser label: its moments (the step count lives in the checkpoint's metadata). */
  moments: Map<string, { m: Map<string, Float32Array>; v: Map<string, Float32Array> }>;
  /** Everything not under "param:" or a moment prefix. */
  extra: StateDict;
}

/** Inverse of checkpointTensors, with private copies (training mutates them, the decoded ones share a buffer). */
export function unpackCheckpoint(tensors: StateDict, labels: string[]): UnpackedCheckpoint {
  const stateDict: StateDict = new Map();
  const moments = new Map(labels.map((l) => [l, { m: new Map<string, Float32Array>(), v: new Map<string, Float32Array>() }]));
  const extra: StateDict = new Map();
  next: for (const [name, t] of tensors) {
    const data = new Float32Array(t.data);
    if (name.startsWith(PARAM)) {
      stateDict.set(name.slice(PARAM.length), { shape: t.shape, data });
      continue;
    }
    for (const label of labels) {
      for (const which of ["m", "v"] as const) {
        const prefix = moment(label, which);
        if (name.startsWith(prefix)) {
          moments.get(label)![which].set(name.slice(prefix.length), data);
          continue next;
        }
      }
    }
    extra.set(name, { shape: t.shape, data });
  }
  return { stateDict, moments, extra };
}
