/**
 * Decoded splits on disk, so later loads skip decompression and decoding.
 * Layout (little-endian): "DCIFAR10" magic (8 bytes), u32 format version, u32 image count, then count label
 * bytes, then count * 3072 pixel bytes (NHWC, RGB).
 */
import * as fs from "node:fs/promises";
import * as path from "node:path";
import { writeFileAtomic } from "../artifacts/atomic-write";
import { IMAGE_BYTES, type ImageSet, type Split, makeImageSet } from "./image-set";

const MAGIC = "DCIFAR10";
export const SPLIT_CACHE_VERSION = 1;
const HEADER_BYTES = 16;

export function splitCachePath(cacheDir: string, split: Split): string {
  return path.join(cacheDir, "cifar10", `${split}.u8`);
}

export function encodeHeader(count: number): Uint8Array {
  const header = new Uint8Array(HEADER_BYTES);
  header.set(new TextEncoder().encode(MAGIC), 0);
  const view = new DataView(header.buffer);
  view.setUint32(8, SPLIT_CACHE_VERSION, true);
  view.setUint32(12, count, true);
  return header;
}

export async function writeSplitCache(file: string, set: ImageSet): Promise<void> {
  await writeFileAtomic(file, [encodeHeader(set.count), set.labels, set.pixels]);
}

/** Reads a cached split; returns null (so the caller rebuilds it) when it is missing, from another format version, or truncated. */
export async function readSplitCache(file: string): Promise<ImageSet | null> {
  let bytes: Buffer;
  try {
    bytes = await fs.readFile(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw err;
  }
  if (bytes.length < HEADER_BYTES || bytes.toString("latin1", 0, 8) !== MAGIC) return null;
  const version = bytes.readUInt32LE(8);
  const count = bytes.readUInt32LE(12);
  if (version !== SPLIT_CACHE_VERSION || bytes.length !== HEADER_BYTES + count * (1 + IMAGE_BYTES)) return null;
  const base = bytes.byteOffset + HEADER_BYTES;
  const labels = new Uint8Array(bytes.buffer, base, count);
  const pixels = new Uint8Array(bytes.buffer, base + count, count * IMAGE_BYTES);
  return makeImageSet(pixels, labels);
}
