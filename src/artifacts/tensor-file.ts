/**
 * Our binary container for named float32 tensors plus a JSON header: the feature cache, the saved fine-tuned
 * model (a state dict in PyTorch key naming, loadable by every executor) and the resumable training checkpoint.
 * Layout: magic "DCTN", version, header length (u32 LE each), JSON header padded to 4 bytes, then each tensor's
 * float32 values in header order. The header carries the sha256 of the tensor bytes; files written before it
 * existed have none and are checked by size alone.
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import { writeFileAtomic } from "./atomic-write";
import { CorruptFileError } from "./heal";
import type { StateDict } from "../torch";

const MAGIC = 0x4e544344; // "DCTN" little-endian
const VERSION = 1;

interface Header<M> {
  tensors: { name: string; shape: number[] }[];
  meta: M;
  /** Hex sha256 of every tensor's bytes in order. */
  sha256?: string;
}

export interface TensorFile<M> {
  tensors: StateDict;
  meta: M;
}

export function encodeTensorFile<M>(tensors: StateDict, meta: M): Uint8Array[] {
  const bodies = [...tensors.values()].map((t) => new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
  const hash = createHash("sha256");
  for (const b of bodies) hash.update(b);
  const header: Header<M> = { tensors: [...tensors].map(([name, t]) => ({ name, shape: t.shape })), meta, sha256: hash.digest("hex") };
  const json = Buffer.from(JSON.stringify(header), "utf8");
  const padded = Math.ceil(json.length / 4) * 4;
  const prefix = Buffer.alloc(12 + padded, 0x20);
  prefix.writeUInt32LE(MAGIC, 0);
  prefix.writeUInt32LE(VERSION, 4);
  prefix.writeUInt32LE(padded, 8);
  json.copy(prefix, 12);
  return [prefix, ...bodies];
}

export function decodeTensorFile<M>(buf: Uint8Array, where: string): TensorFile<M> {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  if (buf.length < 12 || view.getUint32(0, true) !== MAGIC || view.getUint32(4, true) !== VERSION) {
    throw new CorruptFileError(`${where} is not a decomp tensor file (version ${VERSION})`);
  }
  const headerLength = view.getUint32(8, true);
  let header: Header<M>;
  try {
    header = JSON.parse(Buffer.from(buf.subarray(12, 12 + headerLength)).toString("utf8")) as Header<M>;
  } catch {
    throw new CorruptFileError(`${where} has an unreadable header (truncated or corrupt)`);
  }
  const sizes = header.tensors.map((t) => t.shape.reduce((a, b) => a * b, 1));
  const expected = 12 + headerLength + 4 * sizes.reduce((a, b) => a + b, 0);
  if (buf.length !== expected) throw new CorruptFileError(`${where} is truncated or corrupt (${buf.length} bytes, expected ${expected})`);
  // One aligned copy: the file's bytes may start at any offset.
  const body = new Uint8Array(buf.subarray(12 + headerLength));
  if (header.sha256 !== undefined && createHash("sha256").update(body).digest("hex") !== header.sha256) {
    throw new CorruptFileError(`${where} fails its checksum (its bytes changed after it was written)`);
  }
  const tensors: StateDict = new Map();
  let offset = 0;
  header.tensors.forEach((t, i) => {
    tensors.set(t.name, { shape: t.shape, data: new Float32Array(body.buffer, offset, sizes[i]) });
    offset += 4 * sizes[i];
  });
  return { tensors, meta: header.meta };
}

/** Whether the bytes start with the tensor file's magic (how a weights file is told from a PyTorch checkpoint). */
export function isTensorFileBytes(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0, true) === MAGIC;
}

export async function writeTensorFile<M>(file: string, tensors: StateDict, meta: M): Promise<void> {
  await writeFileAtomic(file, encodeTensorFile(tensors, meta));
}

export function readTensorFile<M>(file: string): TensorFile<M> {
  if (!fs.existsSync(file)) throw new Error(`${file} does not exist; train and save a model first (saveStateDict / fineTune).`);
  return decodeTensorFile<M>(fs.readFileSync(file), file);
}
