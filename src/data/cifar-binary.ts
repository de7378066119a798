/** Decodes the official CIFAR-10 binary archive: records of 1 label byte + 3072 pixel bytes stored channel-major (CHW). */
import { IMAGE_BYTES, type ImageSet, type Split, makeImageSet } from "./image-set";
import { type TarEntry, entryByBasename } from "./tar";

const RECORD_BYTES = 1 + IMAGE_BYTES;
const PLANE = 32 * 32;

export const BINARY_BATCHES: Record<Split, string[]> = {
  train: [1, 2, 3, 4, 5].map((i) => `data_batch_${i}.bin`),
  test: ["test_batch.bin"],
};

/** Parses concatenated batch files into NHWC pixels; the record layout is fixed, so a length off by one byte is an error. */
export function parseBinaryBatches(batches: Uint8Array[]): { pixels: Uint8Array; labels: Uint8Array } {
  for (const b of batches) {
    if (b.length % RECORD_BYTES !== 0) throw new Error(`CIFAR-10 batch of ${b.length} bytes is not a whole number of ${RECORD_BYTES}-byte records`);
  }
  const count = batches.reduce((n, b) => n + b.length / RECORD_BYTES, 0);
  const labels = new Uint8Array(count);
  const pixels = new Uint8Array(count * IMAGE_BYTES);
  let image = 0;
  for (const batch of batches) {
    for (let rec = 0; rec < batch.length; rec += RECORD_BYTES, image++) {
      labels[image] = batch[rec];
      const out = image * IMAGE_BYTES;
      for (let p = 0; p < PLANE; p++) {
        pixels[out + p * 3] = batch[rec + 1 + p];
        pixels[out + p * 3 + 1] = batch[rec + 1 + PLANE + p];
        pixels[out + p * 3 + 2] = batch[rec + 1 + 2 * PLANE + p];
      }
    }
  }
  return { pixels, labels };
}

export function decodeBinaryArchive(entries: TarEntry[], split: Split): ImageSet {
  const batches = BINARY_BATCHES[split].map((name) => entryByBasename(entries, name, "cifar-10-binary.tar.gz").data);
  const { pixels, labels } = parseBinaryBatches(batches);
  return makeImageSet(pixels, labels);
}
