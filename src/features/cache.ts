/** On-disk cache of feature sets: one tensor file per key, written atomically so a crash never leaves half a file. */
import * as fs from "node:fs";
import * as path from "node:path";
import { normalisationId } from "../data/transforms";
import { decodeTensorFile, encodeTensorFile } from "../artifacts/tensor-file";
import type { StateDict } from "../torch";
import type { FeatureSet, FeatureSetKey } from "./feature-set";
import { CorruptFileError, readOrHeal, writeFileAtomic } from "../artifacts";

/** File name that encodes every part of the key, so a changed parameter can never hit a stale entry. */
export function featureCachePath(cacheDir: string, key: FeatureSetKey): string {
  const aug = key.augmentSeed === null ? "plain" : `aug${key.augmentSeed}`;
  const limit = key.limit === null ? "all" : `n${key.limit}`;
  const recipe = key.recipe === undefined ? "" : `-${key.recipe}`;
  const name = `${key.model}-${key.checkpointSha256.slice(0, 12)}-${key.split}${recipe}-${normalisationId(key.norm)}-${aug}-${limit}.bin`;
  return path.join(cacheDir, "features", name);
}

type Header = Omit<FeatureSet, "features" | "logits" | "labels" | "weight" | "bias">;

export function encodeFeatureSet(set: FeatureSet): Uint8Array[] {
  const { features, logits, labels, weight, bias, ...header } = set;
  const tensors: StateDict = new Map([
    ["features", { shape: [set.count, set.width], data: features }],
    ["logits", { shape: [set.count, set.classes], data: logits }],
    ["labels", { shape: [set.count], data: Float32Array.from(labels) }],
    ["weight", { shape: [set.classes, set.width], data: weight }],
    ["bias", { shape: [set.classes], data: bias }],
  ]);
  return encodeTensorFile<Header>(tensors, header);
}

export function decodeFeatureSet(buf: Uint8Array, where: string): FeatureSet {
  const { tensors, meta } = decodeTensorFile<Header>(buf, where);
  const get = (name: string, shape: number[]): Float32Array => {
    const t = tensors.get(name);
    if (!t || t.shape.join() !== shape.join()) {
      throw new CorruptFileError(`${where} lacks '${name}' of shape [${shape.join(", ")}]: it is not a feature cache of this version`);
    }
    return t.data;
  };
  return {
    ...meta,
    features: get("features", [meta.count, meta.width]),
    logits: get("logits", [meta.count, meta.classes]),
    labels: Uint8Array.from(get("labels", [meta.count])),
    weight: get("weight", [meta.classes, meta.width]),
    bias: get("bias", [meta.classes]),
  };
}

/** The cached set, or null when it is absent or was corrupt (then it has been moved aside, with a warning). */
export function readFeatureCache(file: string): FeatureSet | null {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (err) {
    // Absent, or moved aside by another process between its check and ours.
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw err;
  }
  return readOrHeal(file, () => decodeFeatureSet(bytes, file));
}

export async function writeFeatureCache(file: string, set: FeatureSet): Promise<void> {
  await writeFileAtomic(file, encodeFeatureSet(set));
}
