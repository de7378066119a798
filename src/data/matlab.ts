/**
 * A reader for MATLAB's level-5 MAT-files, enough for the ILSVRC-2012 devkit's `meta.mat` (a struct array of
 * numbers and strings): numeric, char, struct and cell arrays, little-endian, compressed or not. Layout after
 * MathWorks' "MAT-File Format" document: a 128-byte header, then data elements of an 8-byte tag (type, byte
 * count; or the "small element" form, count in the upper half of the first word and up to 4 bytes of data in the
 * second) whose data is padded to 8 bytes; a compressed element holds one zlib-deflated element.
 */
import { inflateSync } from "node:zlib";

/** What a MATLAB array becomes: numbers (flattened, column-major), a string, struct records or cells. */
export type MatValue = number[] | string | MatStruct[] | MatValue[];
export type MatStruct = { [field: string]: MatValue };

const MI = { INT8: 1, UINT8: 2, INT16: 3, UINT16: 4, INT32: 5, UINT32: 6, SINGLE: 7, DOUBLE: 9, INT64: 12, UINT64: 13, MATRIX: 14, COMPRESSED: 15, UTF8: 16, UTF16: 17, UTF32: 18 } as const;
const MX = { CELL: 1, STRUCT: 2, CHAR: 4 } as const;

interface Element {
  type: number;
  data: Uint8Array;
  /** Offset of the next element. */
  next: number;
}

function element(buf: Uint8Array, at: number, where: string): Element {
  if (at + 8 > buf.length) throw new Error(`${where}: truncated MAT-file (an element's tag runs past the end)`);
  const view = new DataView(buf.buffer, buf.byteOffset + at, 8);
  const first = view.getUint32(0, true);
  if (first >>> 16 !== 0) {
    const count = first >>> 16;
    return { type: first & 0xffff, data: buf.subarray(at + 4, at + 4 + count), next: at + 8 };
  }
  const count = view.getUint32(4, true);
  if (at + 8 + count > buf.length) throw new Error(`${where}: truncated MAT-file (an element of ${count} bytes runs past the end)`);
  // Compressed elements are not padded; every other element's data is, to a multiple of 8 bytes.
  const padded = first === MI.COMPRESSED ? count : Math.ceil(count / 8) * 8;
  return { type: first, data: buf.subarray(at + 8, at + 8 + count), next: at + 8 + padded };
}

function numbers(e: Element, where: string): number[] {
  const { data } = e;
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const read: Record<number, [number, (i: number) => number]> = {
    [MI.INT8]: [1, (i) => view.getInt8(i)],
    [MI.UINT8]: [1, (i) => view.getUint8(i)],
    [MI.UTF8]: [1, (i) => view.getUint8(i)],
    [MI.INT16]: [2, (i) => view.getInt16(i, true)],
    [MI.UINT16]: [2, (i) => view.getUint16(i, true)],
    [MI.UTF16]: [2, (i) => view.getUint16(i, true)],
    [MI.INT32]: [4, (i) => view.getInt32(i, true)],
    [MI.UINT32]: [4, (i) => view.getUint32(i, true)],
    [MI.UTF32]: [4, (i) => view.getUint32(i, true)],
    [MI.SINGLE]: [4, (i) => view.getFloat32(i, true)],
    [MI.DOUBLE]: [8, (i) => view.getFloat64(i, true)],
    [MI.INT64]: [8, (i) => Number(view.getBigInt64(i, true))],
    [MI.UINT64]: [8, (i) => Number(view.getBigUint64(i, true))],
  };
  const r = read[e.type];
  if (r === undefined) throw new Error(`${where}: MAT data type ${e.type} is not a numeric type`);
  const [size, get] = r;
  return Array.from({ length: data.byteLength / size }, (_, i) => get(i * size));
}

function text(e: Element, dims: number[]): string {
  // UTF-8 bytes decode as such; wider types hold one code unit (or point) each.
  const chars = e.type === MI.UTF8 || e.type === MI.UINT8 ? Array.from(new TextDecoder().decode(e.data)) : numbers(e, "char array").map((c) => String.fromCodePoint(c));
  // Column-major: a 1 x N array is the string; an M x N one is M strings, joined with newlines.
  const [rows] = dims;
  if (rows <= 1) return chars.join("");
  const cols = chars.length / rows;
  return Array.from({ length: rows }, (_, r) => Array.from({ length: cols }, (__, c) => chars[c * rows + r]).join("")).join("\n");
}

/** One miMATRIX element's contents (the data after its tag), with its name. */
function matrix(data: Uint8Array, where: string): { name: string; value: MatValue } {
  if (data.length === 0) return { name: "", value: [] };
  const flags = element(data, 0, where);
  const cls = flags.data[0];
  const dimsEl = element(data, flags.next, where);
  const dims = numbers(dimsEl, where);
  const nameEl = element(data, dimsEl.next, where);
  const name = new TextDecoder().decode(nameEl.data);
  const count = dims.reduce((a, b) => a * b, 1);
  let at = nameEl.next;
  if (cls === MX.STRUCT) {
    const lengthEl = element(data, at, where);
    const fieldLength = numbers(lengthEl, where)[0];
    const namesEl = element(data, lengthEl.next, where);
    const fields = Array.from({ length: namesEl.data.length / fieldLength }, (_, f) => {
      const raw = namesEl.data.subarray(f * fieldLength, (f + 1) * fieldLength);
      const end = raw.indexOf(0);
      return new TextDecoder().decode(end === -1 ? raw : raw.subarray(0, end));
    });
    at = namesEl.next;
    const records: MatStruct[] = [];
    for (let i = 0; i < count; i++) {
      const record: MatStruct = {};
      for (const field of fields) {
        const e = element(data, at, where);
        if (e.type !== MI.MATRIX) throw new Error(`${where}: struct field '${field}' is not a MATLAB array (type ${e.type})`);
        record[field] = matrix(e.data, where).value;
        at = e.next;
      }
      records.push(record);
    }
    return { name, value: records };
  }
  if (cls === MX.CELL) {
    const cells: MatValue[] = [];
    for (let i = 0; i < count; i++) {
      const e = element(data, at, where);
      cells.push(matrix(e.data, where).value);
      at = e.next;
    }
    return { name, value: cells };
  }
  const real = element(data, at, where);
  if (cls === MX.CHAR) return { name, value: text(real, dims) };
  if (cls >= 6 && cls <= 15) return { name, value: numbers(real, where) };
  throw new Error(`${where}: MATLAB array class ${cls} (sparse, object or function) is not supported`);
}

/** Every top-level variable of a MAT-file, by name. */
export function readMat(bytes: Uint8Array, where: string): Map<string, MatValue> {
  if (bytes.length < 128) throw new Error(`${where} is not a MAT-file (shorter than its 128-byte header)`);
  const header = new TextDecoder().decode(bytes.subarray(0, 10));
  if (!header.startsWith("MATLAB 5.0")) throw new Error(`${where} is not a level-5 MAT-file (its header does not start with 'MATLAB 5.0'; v7.3 files are HDF5)`);
  if (String.fromCharCode(bytes[126], bytes[127]) !== "IM") throw new Error(`${where} is a big-endian MAT-file, which is not supported`);
  const out = new Map<string, MatValue>();
  let at = 128;
  while (at < bytes.length) {
    const e = element(bytes, at, where);
    at = e.next;
    let inner = e;
    if (e.type === MI.COMPRESSED) {
      const inflated = new Uint8Array(inflateSync(e.data));
      inner = element(inflated, 0, where);
    }
    if (inner.type !== MI.MATRIX) continue;
    const { name, value } = matrix(inner.data, where);
    out.set(name, value);
  }
  return out;
}
