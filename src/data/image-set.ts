/** The in-memory CIFAR-10 image set shared by every data source, and the checks every decoded split must pass. */

export type Split = "train" | "test";

export const CIFAR10_CLASSES: string[] = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"];

export const IMAGE_HEIGHT = 32;
export const IMAGE_WIDTH = 32;
export const IMAGE_CHANNELS = 3;
/** Bytes per image: 32 * 32 * 3. */
export const IMAGE_BYTES = IMAGE_HEIGHT * IMAGE_WIDTH * IMAGE_CHANNELS;

export interface ImageSet {
  count: number;
  height: 32;
  width: 32;
  channels: 3;
  /** NHWC, RGB, count * 32 * 32 * 3 bytes. */
  pixels: Uint8Array;
  labels: Uint8Array;
  classNames: string[];
}

export const SPLIT_SIZES: Record<Split, number> = { train: 50000, test: 10000 };

/** Throws unless `split` names a CIFAR-10 split. */
export function checkSplitName(split: string): asserts split is Split {
  if (!Object.prototype.hasOwnProperty.call(SPLIT_SIZES, split)) throw new Error(`Unknown CIFAR-10 split "${split}". Known splits: ${Object.keys(SPLIT_SIZES).join(", ")}.`);
}

export function makeImageSet(pixels: Uint8Array, labels: Uint8Array): ImageSet {
  if (pixels.length !== labels.length * IMAGE_BYTES) {
    throw new Error(`pixels hold ${pixels.length} bytes but ${labels.length} labels need ${labels.length * IMAGE_BYTES}`);
  }
  return { count: labels.length, height: 32, width: 32, channels: 3, pixels, labels, classNames: CIFAR10_CLASSES };
}

/** Throws unless the set has the split's size, labels 0..9 and exactly count/10 images per class. */
export function validateSplit(set: ImageSet, split: Split, origin: string): void {
  const expected = SPLIT_SIZES[split];
  const problem = (what: string) => new Error(`CIFAR-10 ${split} split from ${origin} is not valid: ${what}`);
  if (set.count !== expected) throw problem(`${set.count} images, expected ${expected}`);
  if (set.pixels.length !== expected * IMAGE_BYTES) throw problem(`${set.pixels.length} pixel bytes, expected ${expected * IMAGE_BYTES}`);
  const perClass = new Array<number>(CIFAR10_CLASSES.length).fill(0);
  for (let i = 0; i < set.count; i++) {
    const label = set.labels[i];
    if (label >= CIFAR10_CLASSES.length) throw problem(`label ${label} at image ${i} is outside 0..9`);
    perClass[label]++;
  }
  const want = expected / CIFAR10_CLASSES.length;
  const off = perClass.findIndex((n) => n !== want);
  if (off !== -1) throw problem(`class ${off} (${CIFAR10_CLASSES[off]}) has ${perClass[off]} images, expected ${want}`);
}
