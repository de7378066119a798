/** On-disk cache of feature sets: one binary file per key, written atomically so a crash never leaves half a file. */
import * as fs from "node:fs";
import * as path from "node:path";
import { writeFileAtomic } from "../artifacts";
import type { FeatureSet, FeatureSetKey } from "./feature-set";

const MAGIC = 0x54464344; // "DCFT" little-endian
const VERSION = 1;

/** File name that encodes every part of the key, so a changed parameter can never hit a stale entry. */
export function featureCachePath(cacheDir: string, key: FeatureSetKey): string {
  const aug = key.augmentSeed === null ? "plain" : `aug${key.augmentSeed}`;
  const limit = key.limit === null ? "all" : `n${key.limit}`;
  const name = `${key.model}-${key.checkpointSha256.slice(0, 12)}-${key.split}-${key.norm}-${aug}-${limit}.bin`;
  return path.join(cacheDir, "features", name);
}

type Header = Omit<FeatureSet, "features" | "logits" | "labels" | "weight" | "bias">;

function headerOf(set: FeatureSet): Header {
  const { features: _f, logits: _l, labels: _y, weight: _w, bias: _b, ...header } = set;
  return header;
}

/** Layout: magic, version, header length (u32 each), JSON header padded to 4 bytes, then the arrays. */
export function encodeFeatureSet(set: FeatureSet): Uint8Array[] {
  const json = Buffer.from(JSON.stringify(headerOf(set)), "utf8");
  const padded = Math.ceil(json.length / 4) * 4;
  const prefix = Buffer.alloc(12 + padded, 0x20);
  prefix.writeUInt32LE(MAGIC, 0);
  prefix.writeUInt32LE(VERSION, 4);
  prefix.writeUInt32LE(padded, 8);
  json.copy(prefix, 12);
  const bytes = (a: Float32Array | Uint8Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  // Labels go last: they are the only array whose byte length need not be a multiple of 4.
  return [prefix, bytes(set.features), bytes(set.logits), bytes(set.weight), bytes(set.bias), bytes(set.labels)];
}

export function decodeFeatureSet(buf: Uint8Array, where: string): FeatureSet {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  if (buf.length < 12 || view.getUint32(0, true) !== MAGIC || view.getUint32(4, true) !== VERSION) {
    throw new Error(`${where} is not a decomp feature cache (version ${VERSION}); delete it to recompute.`);
  }
  const headerLength = view.getUint32(8, true);
  const header = JSON.parse(Buffer.from(buf.subarray(12, 12 + headerLength)).toString("utf8")) as Header;
  const sizes = {
    features: header.count * header.width,
    logits: header.count * header.classes,
    weight: header.classes * header.width,
    bias: header.classes,
  };
  const expected = 12 + headerLength + 4 * (sizes.features + sizes.logits + sizes.weight + sizes.bias) + header.count;
  if (buf.length !== expected) {
    throw new Error(`${where} is truncated or corrupt (${buf.length} bytes, expected ${expected}); delete it to recompute.`);
  }
  // Copy into one aligned buffer: the file's bytes may start at any offset.
  const body = new Uint8Array(buf.subarray(12 + headerLength));
  let offset = 0;
  const take = (n: number) => {
    const a = new Float32Array(body.buffer, offset, n);
    offset += 4 * n;
    return a;
  };
  const features = take(sizes.features);
  const logits = take(sizes.logits);
  const weight = take(sizes.weight);
  const bias = take(sizes.bias);
  const labels = new Uint8Array(body.buffer, offset, header.count);
  return { ...header, features, logits, weight, bias, labels };
}

export function readFeatureCache(file: string): FeatureSet | null {
  if (!fs.existsSync(file)) return null;
  return decodeFeatureSet(fs.readFileSync(file), file);
}

export async function writeFeatureCache(file: string, set: FeatureSet): Promise<void> {
  await writeFileAtomic(file, encodeFeatureSet(set));
}
