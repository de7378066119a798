/**
 * Decoded splits on disk, so later loads skip decompression and decoding.
 * Layout (little-endian): "DCIFAR10" magic (8 bytes), u32 format version, u32 image count, the sha256 of what
 * follows (32 bytes), then count label bytes, then count * 3072 pixel bytes (NHWC, RGB).
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs/promises";
import * as path from "node:path";
import { writeFileAtomic } from "../artifacts/atomic-write";
import { CorruptFileError, readOrHeal } from "../artifacts/heal";
import { IMAGE_BYTES, type ImageSet, type Split, makeImageSet } from "./image-set";

const MAGIC = "DCIFAR10";
export const SPLIT_CACHE_VERSION = 2;
const HEADER_BYTES = 48;

export function splitCachePath(cacheDir: string, split: Split): string {
  return path.join(cacheDir, "cifar10", `${split}.u8`);
}

function bodyHash(labels: Uint8Array, pixels: Uint8Array): Buffer {
  return createHash("sha256").update(labels).update(pixels).digest();
}

export function encodeHeader(set: ImageSet): Uint8Array {
  const header = new Uint8Array(HEADER_BYTES);
  header.set(new TextEncoder().encode(MAGIC), 0);
  const view = new DataView(header.buffer);
  view.setUint32(8, SPLIT_CACHE_VERSION, true);
  view.setUint32(12, set.count, true);
  header.set(bodyHash(set.labels, set.pixels), 16);
  return header;
}

export async function writeSplitCache(file: string, set: ImageSet): Promise<void> {
  await writeFileAtomic(file, [encodeHeader(set), set.labels, set.pixels]);
}

function decodeSplit(bytes: Buffer, file: string): ImageSet {
  if (bytes.length < HEADER_BYTES || bytes.toString("latin1", 0, 8) !== MAGIC) throw new CorruptFileError(`${file} is not a decoded CIFAR-10 split`);
  const version = bytes.readUInt32LE(8);
  const count = bytes.readUInt32LE(12);
  if (version !== SPLIT_CACHE_VERSION) throw new CorruptFileError(`${file} has split-cache format ${version}, this version reads ${SPLIT_CACHE_VERSION}`);
  const expected = HEADER_BYTES + count * (1 + IMAGE_BYTES);
  if (bytes.length !== expected) throw new CorruptFileError(`${file} is truncated or corrupt (${bytes.length} bytes, expected ${expected})`);
  const base = bytes.byteOffset + HEADER_BYTES;
  const labels = new Uint8Array(bytes.buffer, base, count);
  const pixels = new Uint8Array(bytes.buffer, base + count, count * IMAGE_BYTES);
  if (!bodyHash(labels, pixels).equals(bytes.subarray(16, 48))) throw new CorruptFileError(`${file} fails its checksum (its bytes changed after it was written)`);
  return makeImageSet(pixels, labels);
}

/**
 * Reads a cached split; null (so the caller rebuilds it) when it is missing, or when it fails its header, size
 * or checksum, in which case it has been moved aside with a warning.
 */
export async function readSplitCache(file: string): Promise<ImageSet | null> {
  let bytes: Buffer;
  try {
    bytes = await fs.readFile(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw err;
  }
  return readOrHeal(file, () => decodeSplit(bytes, file));
}
