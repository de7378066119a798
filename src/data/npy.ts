/**
 * NumPy's .npy format (format versions 1.0, 2.0 and 3.0), so users hand the toolkit a batch written with
 * np.save and read its outputs with np.load. Reading accepts C-order arrays of little-endian floats, signed and
 * unsigned integers and booleans and returns float32 values; writing produces version 1.0 float32 files with
 * the header padded to 64 bytes, as NumPy writes them.
 */

export interface NpyArray {
  shape: number[];
  data: Float32Array;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

type Reader = (view: DataView, offset: number) => number;

/** Little-endian (or byte-sized) dtypes NumPy names in descr, with their size and how to read one value. */
const DTYPES: Record<string, { bytes: number; read: Reader }> = {
  "<f4": { bytes: 4, read: (v, o) => v.getFloat32(o, true) },
  "<f8": { bytes: 8, read: (v, o) => v.getFloat64(o, true) },
  "<f2": { bytes: 2, read: (v, o) => halfToFloat(v.getUint16(o, true)) },
  "<i8": { bytes: 8, read: (v, o) => Number(v.getBigInt64(o, true)) },
  "<i4": { bytes: 4, read: (v, o) => v.getInt32(o, true) },
  "<i2": { bytes: 2, read: (v, o) => v.getInt16(o, true) },
  "|i1": { bytes: 1, read: (v, o) => v.getInt8(o) },
  "<u8": { bytes: 8, read: (v, o) => Number(v.getBigUint64(o, true)) },
  "<u4": { bytes: 4, read: (v, o) => v.getUint32(o, true) },
  "<u2": { bytes: 2, read: (v, o) => v.getUint16(o, true) },
  "|u1": { bytes: 1, read: (v, o) => v.getUint8(o) },
  "|b1": { bytes: 1, read: (v, o) => v.getUint8(o) },
};

/** An IEEE 754 half-precision value (16 bits) as a number. */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const fraction = h & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 0x1f) return fraction ? NaN : sign * Infinity;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}

/** The header dictionary's three keys, parsed from NumPy's Python-literal text. */
function parseHeader(text: string, where: string): { descr: string; fortran: boolean; shape: number[] } {
  const descr = /'descr'\s*:\s*'([^']+)'/.exec(text)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(text)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(text)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) throw new Error(`${where}: the .npy header ${JSON.stringify(text.trim())} lacks descr, fortran_order or shape`);
  const shape = shapeText.split(",").map((s) => s.trim()).filter((s) => s !== "").map(Number);
  if (shape.some((d) => !Number.isInteger(d) || d < 0)) throw new Error(`${where}: the .npy shape (${shapeText}) is not a tuple of sizes`);
  return { descr, fortran: fortran === "True", shape };
}

/** Parses a whole .npy file; `where` names it in errors. */
export function decodeNpy(bytes: Uint8Array, where = "(.npy bytes)"): NpyArray {
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) throw new Error(`${where} is not a NumPy .npy file (no \\x93NUMPY magic); write it with numpy.save`);
  const major = bytes[6];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (major < 1 || major > 3) throw new Error(`${where}: .npy format version ${major}.${bytes[7]} is not one this reader knows (1.0 to 3.0)`);
  const lengthBytes = major === 1 ? 2 : 4;
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = 8 + lengthBytes + headerLength;
  if (start > bytes.length) throw new Error(`${where} is truncated inside its .npy header`);
  const header = new TextDecoder(major === 3 ? "utf-8" : "latin1").decode(bytes.subarray(8 + lengthBytes, start));
  const { descr, fortran, shape } = parseHeader(header, where);
  if (fortran) throw new Error(`${where} is stored in Fortran order; save numpy.ascontiguousarray(x) instead`);
  const dtype = DTYPES[descr];
  if (dtype === undefined) {
    throw new Error(`${where} holds dtype '${descr}', which this reader does not take; save x.astype(numpy.float32) (little-endian numbers and booleans are read)`);
  }
  const count = shape.reduce((a, b) => a * b, 1);
  const need = start + count * dtype.bytes;
  if (bytes.length < need) throw new Error(`${where} is truncated: shape (${shape.join(", ")}) of '${descr}' needs ${need} bytes, the file has ${bytes.length}`);
  const data = new Float32Array(count);
  if (descr === "<f4" && (bytes.byteOffset + start) % 4 === 0) {
    data.set(new Float32Array(bytes.buffer, bytes.byteOffset + start, count));
  } else {
    for (let i = 0; i < count; i++) data[i] = dtype.read(view, start + i * dtype.bytes);
  }
  return { shape, data };
}

/** A version 1.0 .npy file of float32 values in C order. */
export function encodeNpy(array: NpyArray): Uint8Array {
  const { shape, data } = array;
  const count = shape.reduce((a, b) => a * b, 1);
  if (shape.some((d) => !Number.isInteger(d) || d < 0)) throw new Error(`.npy shape [${shape.join(", ")}] is not a list of sizes`);
  if (count !== data.length) throw new Error(`.npy shape [${shape.join(", ")}] holds ${count} values but the data has ${data.length}`);
  const tuple = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(", ")})`;
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': ${tuple}, }`;
  // NumPy pads with spaces so that magic, version, length and header end on a multiple of 64, then a newline.
  const unpadded = 10 + header.length + 1;
  header += " ".repeat((64 - (unpadded % 64)) % 64) + "\n";
  const out = new Uint8Array(10 + header.length + data.byteLength);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  new DataView(out.buffer).setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), 10 + header.length);
  return out;
}
