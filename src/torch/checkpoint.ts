/** Reads a PyTorch checkpoint (legacy or zip) into named Float32 tensors, without Python. */
import { readFile } from "node:fs/promises";
import { unsupportedCheckpoint } from "./errors";
import { looksLikeLegacy, readLegacyCheckpoint } from "./legacy";
import { materialise, RawCheckpoint, TensorRef } from "./rebuild";
import { isZip, readZipCheckpoint } from "./zip";

export interface NamedTensor {
  shape: number[];
  data: Float32Array;
}

/** Parameter and buffer names (without DataParallel's `module.` prefix) in the checkpoint's order. */
export type StateDict = Map<string, NamedTensor>;

export interface TorchCheckpoint {
  stateDict: StateDict;
  /** Top-level scalar entries saved beside the state dict, e.g. best_prec1 or epoch. */
  meta: Record<string, unknown>;
  format: "legacy" | "zip";
}

const DATA_PARALLEL_PREFIX = "module.";

function isScalar(value: unknown): boolean {
  return value === null || ["number", "bigint", "string", "boolean"].includes(typeof value);
}

function isStateDict(value: unknown): value is Map<unknown, unknown> {
  return value instanceof Map && value.size > 0 && [...value.values()].every((v) => v instanceof TensorRef);
}

/** Finds the state dict: either the whole object or its 'state_dict' entry, with the scalars beside it. */
function unwrap(root: unknown): { tensors: Map<unknown, unknown>; meta: Record<string, unknown> } {
  if (!(root instanceof Map)) throw unsupportedCheckpoint("top-level object is not a dict");
  if (isStateDict(root)) return { tensors: root, meta: {} };
  const inner = root.get("state_dict");
  if (!(inner instanceof Map)) {
    const keys = [...root.keys()].map(String).join(", ");
    throw unsupportedCheckpoint(`no 'state_dict' entry and not a state dict itself (top-level keys: ${keys})`);
  }
  const meta: Record<string, unknown> = {};
  for (const [key, value] of root) if (key !== "state_dict" && isScalar(value)) meta[String(key)] = value;
  return { tensors: inner, meta };
}

function buildStateDict(tensors: Map<unknown, unknown>, storageData: Map<string, Float32Array>): StateDict {
  const stateDict: StateDict = new Map();
  for (const [rawKey, value] of tensors) {
    const key = String(rawKey);
    if (!(value instanceof TensorRef)) throw unsupportedCheckpoint(`state dict entry ${key} is not a tensor`);
    const name = key.startsWith(DATA_PARALLEL_PREFIX) ? key.slice(DATA_PARALLEL_PREFIX.length) : key;
    if (stateDict.has(name)) throw unsupportedCheckpoint(`state dict names ${name} twice once 'module.' is removed`);
    const storage = storageData.get(value.storage.key);
    if (!storage) throw unsupportedCheckpoint(`storage ${value.storage.key} of ${key} is missing`);
    stateDict.set(name, materialise(value, storage, key));
  }
  return stateDict;
}

/** Reads checkpoint bytes; the format (zip or legacy) is detected from the first bytes. */
export function readTorchCheckpoint(bytes: Uint8Array): TorchCheckpoint {
  let format: TorchCheckpoint["format"];
  let raw: RawCheckpoint;
  if (isZip(bytes)) {
    format = "zip";
    raw = readZipCheckpoint(bytes);
  } else if (looksLikeLegacy(bytes)) {
    format = "legacy";
    raw = readLegacyCheckpoint(bytes);
  } else {
    throw unsupportedCheckpoint("neither a zip archive nor a legacy torch.save pickle");
  }
  const { tensors, meta } = unwrap(raw.root);
  return { stateDict: buildStateDict(tensors, raw.storageData), meta, format };
}

export async function loadTorchCheckpoint(path: string): Promise<TorchCheckpoint> {
  const bytes = await readFile(path);
  try {
    return readTorchCheckpoint(bytes);
  } catch (error) {
    throw new Error(`${path}: ${(error as Error).message}`);
  }
}
