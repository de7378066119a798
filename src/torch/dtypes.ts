/** Torch storage types and the conversion of their little-endian bytes to Float32. */
import { unsupportedCheckpoint } from "./errors";

export interface StorageDtype {
  /** Torch's storage class name, e.g. "FloatStorage". */
  readonly storageType: string;
  readonly bytesPerElement: number;
  /** Converts the first `count` little-endian elements of `bytes` into a new Float32Array. */
  decode(bytes: Uint8Array, count: number): Float32Array;
}

type Elements = ArrayLike<number | bigint>;
type ElementsOf = new (buffer: ArrayBuffer, byteOffset: number, length: number) => Elements;

const HOST_IS_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Typed arrays read in host byte order and need aligned offsets, so the bytes are copied into a fresh
 * buffer and read as the storage's element type; this is an order of magnitude faster than DataView.
 */
function decoder(Elements: ElementsOf, bytesPerElement: number, convert: (x: number | bigint) => number) {
  return (bytes: Uint8Array, count: number): Float32Array => {
    if (!HOST_IS_LITTLE_ENDIAN) throw new Error("reading PyTorch checkpoints needs a little-endian machine");
    // Not bytes.slice(): on a Node Buffer that is a view sharing memory, not a copy.
    const aligned = new Uint8Array(count * bytesPerElement);
    aligned.set(bytes.subarray(0, aligned.length));
    const source = new Elements(aligned.buffer, 0, count);
    if (source instanceof Float32Array) return source;
    const out = new Float32Array(count);
    for (let i = 0; i < count; i++) out[i] = convert(source[i]);
    return out;
  };
}

/** IEEE 754 binary16 to a JavaScript number, including subnormals, infinities and NaN. */
export function halfToNumber(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 0x1f) return fraction ? NaN : sign * Infinity;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** bfloat16 is the top half of a float32. */
function bfloat16ToNumber(bits: number): number {
  u32[0] = bits << 16;
  return f32[0];
}

const asNumber = (x: number | bigint): number => Number(x);

const DTYPES: StorageDtype[] = [
  { storageType: "FloatStorage", bytesPerElement: 4, decode: decoder(Float32Array, 4, asNumber) },
  { storageType: "DoubleStorage", bytesPerElement: 8, decode: decoder(Float64Array, 8, asNumber) },
  { storageType: "HalfStorage", bytesPerElement: 2, decode: decoder(Uint16Array, 2, (x) => halfToNumber(x as number)) },
  {
    storageType: "BFloat16Storage",
    bytesPerElement: 2,
    decode: decoder(Uint16Array, 2, (x) => bfloat16ToNumber(x as number)),
  },
  { storageType: "LongStorage", bytesPerElement: 8, decode: decoder(BigInt64Array, 8, asNumber) },
  { storageType: "IntStorage", bytesPerElement: 4, decode: decoder(Int32Array, 4, asNumber) },
  { storageType: "ShortStorage", bytesPerElement: 2, decode: decoder(Int16Array, 2, asNumber) },
  { storageType: "CharStorage", bytesPerElement: 1, decode: decoder(Int8Array, 1, asNumber) },
  { storageType: "ByteStorage", bytesPerElement: 1, decode: decoder(Uint8Array, 1, asNumber) },
  { storageType: "BoolStorage", bytesPerElement: 1, decode: decoder(Uint8Array, 1, (x) => (x ? 1 : 0)) },
];

const BY_NAME = new Map(DTYPES.map((d) => [d.storageType, d]));

/** The dtype for a storage class found in a pickle, or undefined when we cannot convert it. */
export function storageDtype(storageType: string): StorageDtype | undefined {
  return BY_NAME.get(storageType);
}

export function requireStorageDtype(storageType: string): StorageDtype {
  const dtype = storageDtype(storageType);
  if (!dtype) throw unsupportedCheckpoint(`unsupported dtype torch.${storageType}`);
  return dtype;
}
