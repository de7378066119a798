/**
 * The torch globals a checkpoint pickle may name, and the step that turns the tensor references they build
 * into Float32 data once the storages are read (the legacy format stores them after the pickle).
 */
import { requireStorageDtype, StorageDtype } from "./dtypes";
import { unsupportedCheckpoint } from "./errors";
import { PickleHooks, PyGlobal } from "./pickle";

/** One storage as a persistent id names it; its bytes live elsewhere in the file. */
export interface StorageRef {
  readonly key: string;
  readonly dtype: StorageDtype;
  readonly numel: number;
}

/** A tensor as the pickle describes it: a strided view into a storage. */
export class TensorRef {
  constructor(
    readonly storage: StorageRef,
    readonly offset: number,
    readonly shape: number[],
    readonly stride: number[],
  ) {}
}

export interface MaterialisedTensor {
  shape: number[];
  data: Float32Array;
}

function intList(value: unknown, what: string): number[] {
  if (!Array.isArray(value) || !value.every((v) => typeof v === "number" && Number.isInteger(v))) {
    throw unsupportedCheckpoint(`tensor ${what} is not a tuple of ints`);
  }
  return value as number[];
}

function rebuildTensor(args: unknown[]): TensorRef {
  const [storage, offset, size, stride] = args;
  if (typeof storage !== "object" || storage === null || !("dtype" in storage)) {
    throw unsupportedCheckpoint("tensor rebuilt from something that is not a storage");
  }
  if (typeof offset !== "number") throw unsupportedCheckpoint("tensor storage offset is not an int");
  return new TensorRef(storage as StorageRef, offset, intList(size, "size"), intList(stride, "stride"));
}

/** A Parameter pickles as its data plus autograd flags, which inference does not need. */
function rebuildParameter(args: unknown[]): unknown {
  if (!(args[0] instanceof TensorRef)) throw unsupportedCheckpoint("parameter wraps something that is not a tensor");
  return args[0];
}

function orderedDict(args: unknown[]): Map<unknown, unknown> {
  const dict = new Map<unknown, unknown>();
  const items = args[0];
  if (Array.isArray(items)) for (const pair of items) if (Array.isArray(pair)) dict.set(pair[0], pair[1]);
  return dict;
}

const FUNCTIONS: Record<string, (args: unknown[]) => unknown> = {
  "torch._utils._rebuild_tensor": rebuildTensor,
  "torch._utils._rebuild_tensor_v2": rebuildTensor,
  "torch._utils._rebuild_parameter": rebuildParameter,
  "torch._utils._rebuild_parameter_with_state": rebuildParameter,
  "collections.OrderedDict": orderedDict,
};

/**
 * Pickle hooks for torch checkpoints. Every storage the pickle names is recorded in `storages` (key -> ref),
 * so the format reader knows which bytes to decode and as what dtype.
 */
export function torchPickleHooks(storages: Map<string, StorageRef>): PickleHooks {
  return {
    findClass(module, name) {
      const fn = FUNCTIONS[`${module}.${name}`];
      if (fn) return new PyGlobal(module, name, fn);
      // Storage classes only label a persistent id; the dtype check happens when one is used.
      if (module === "torch" && name.endsWith("Storage")) return new PyGlobal(module, name);
      return undefined;
    },
    persistentLoad(pid) {
      if (!Array.isArray(pid) || pid[0] !== "storage") {
        const kind = Array.isArray(pid) ? String(pid[0]) : typeof pid;
        throw unsupportedCheckpoint(`persistent id of kind '${kind}' (only tensor storages are supported)`);
      }
      const [, storageType, key, , numel, viewMetadata] = pid;
      if (!(storageType instanceof PyGlobal) || typeof key !== "string" || typeof numel !== "number") {
        throw unsupportedCheckpoint("malformed storage persistent id");
      }
      if (viewMetadata !== undefined && viewMetadata !== null) {
        throw unsupportedCheckpoint("storage view (written by torch < 0.4)");
      }
      const dtype = requireStorageDtype(storageType.name);
      const known = storages.get(key);
      if (known && known.dtype !== dtype) {
        throw unsupportedCheckpoint(`storage ${key} used as both ${known.dtype.storageType} and ${dtype.storageType}`);
      }
      const ref = known ?? { key, dtype, numel };
      storages.set(key, ref);
      return ref;
    },
  };
}

/** Copies a strided view out of its storage in row-major order, so each tensor owns its data. */
export function materialise(tensor: TensorRef, storageData: Float32Array, name: string): MaterialisedTensor {
  const { shape, stride, offset } = tensor;
  if (shape.length !== stride.length) throw unsupportedCheckpoint(`tensor ${name} has ${shape.length} sizes but ${stride.length} strides`);
  const count = shape.reduce((a, b) => a * b, 1);
  if (count === 0) return { shape: [...shape], data: new Float32Array(0) };
  let last = offset;
  for (let d = 0; d < shape.length; d++) last += (shape[d] - 1) * stride[d];
  if (offset < 0 || last >= storageData.length || shape.some((s, d) => s > 1 && stride[d] < 0)) {
    throw unsupportedCheckpoint(`tensor ${name} reaches outside its storage of ${storageData.length} elements`);
  }
  let contiguous = true;
  for (let d = shape.length - 1, expected = 1; d >= 0; expected *= shape[d], d--) {
    if (shape[d] !== 1 && stride[d] !== expected) contiguous = false;
  }
  if (contiguous) return { shape: [...shape], data: storageData.slice(offset, offset + count) };

  const data = new Float32Array(count);
  const index = new Array<number>(shape.length).fill(0);
  let source = offset;
  for (let i = 0; i < count; i++) {
    data[i] = storageData[source];
    // Odometer over the multi-index: bump the last axis, carry into earlier ones.
    for (let d = shape.length - 1; d >= 0; d--) {
      index[d]++;
      source += stride[d];
      if (index[d] < shape[d]) break;
      source -= shape[d] * stride[d];
      index[d] = 0;
    }
  }
  return { shape: [...shape], data };
}

/** What a format reader hands over: the unpickled object (holding TensorRefs) and each storage as Float32. */
export interface RawCheckpoint {
  root: unknown;
  storageData: Map<string, Float32Array>;
}
