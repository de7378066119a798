/** Per-channel normalisation and the standard CIFAR training augmentation (pad 4, random 32x32 crop, horizontal flip). */
import { IMAGE_BYTES, IMAGE_CHANNELS, IMAGE_HEIGHT, IMAGE_WIDTH, type ImageSet } from "./image-set";
import { deriveSeed, mulberry32, randomInt } from "./prng";

/** Any run of whole NHWC RGB images: an ImageSet (32x32), a view of part of one, or a resized batch. */
export interface ImageBatch {
  count: number;
  pixels: Uint8Array;
}

export interface Normalisation {
  mean: readonly [number, number, number];
  std: readonly [number, number, number];
}

/**
 * checkpoint: the ImageNet statistics the pretrained pytorch_resnet_cifar10 checkpoints were trained with.
 * cifar: CIFAR-10's own training-set statistics (rounded to 3 decimals).
 */
export const NORMALISATIONS = {
  checkpoint: { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] },
  cifar: { mean: [0.491, 0.482, 0.447], std: [0.247, 0.243, 0.261] },
} as const satisfies Record<string, Normalisation>;

export type NormalisationName = keyof typeof NORMALISATIONS;

export function getNormalisation(name: string): Normalisation {
  if (!Object.prototype.hasOwnProperty.call(NORMALISATIONS, name)) {
    throw new Error(`Unknown normalisation "${name}". Known normalisations: ${Object.keys(NORMALISATIONS).join(", ")}.`);
  }
  return NORMALISATIONS[name as NormalisationName];
}

/** Images [start, end) of a set without copying pixels. */
export function batchView(set: ImageSet, start: number, end: number): ImageSet {
  checkRange(set, start, end);
  return {
    ...set,
    count: end - start,
    pixels: set.pixels.subarray(start * IMAGE_BYTES, end * IMAGE_BYTES),
    labels: set.labels.subarray(start, end),
  };
}

function checkRange(batch: ImageBatch, start: number, end: number): void {
  if (!(Number.isInteger(start) && Number.isInteger(end) && 0 <= start && start <= end && end <= batch.count)) {
    throw new Error(`Image range [${start}, ${end}) is not inside 0..${batch.count}`);
  }
}

/**
 * Scales bytes to [0, 1], then (x - mean[c]) / std[c]; NHWC in, NHWC out, images of any size (a resized batch
 * too). Written into `into` when given (a training loop reuses one buffer instead of allocating a batch's
 * worth every step), else into a new array.
 */
export function normalise(batch: ImageBatch, name: string, into?: Float32Array): Float32Array {
  const { mean, std } = getNormalisation(name);
  // One lookup table per channel: 256 * 3 divisions instead of one per pixel.
  const table = new Float32Array(256 * IMAGE_CHANNELS);
  for (let c = 0; c < IMAGE_CHANNELS; c++) {
    for (let v = 0; v < 256; v++) table[c * 256 + v] = (v / 255 - mean[c]) / std[c];
  }
  const px = batch.pixels;
  if (into !== undefined && into.length !== px.length) {
    throw new Error(`normalise: the output holds ${into.length} values, ${batch.count} images need ${px.length}`);
  }
  const out = into ?? new Float32Array(px.length);
  for (let i = 0; i < out.length; i += 3) {
    out[i] = table[px[i]];
    out[i + 1] = table[256 + px[i + 1]];
    out[i + 2] = table[512 + px[i + 2]];
  }
  return out;
}

export interface CropFlip {
  /** Top-left corner of the crop inside the padded image, 0..2*pad. */
  dy: number;
  dx: number;
  flip: boolean;
}

export const AUGMENT_PAD = 4;

/** The crop and flip drawn for image `index` under `seed`: independent of how the caller batches images. */
export function augmentationFor(seed: number, index: number, pad = AUGMENT_PAD): CropFlip {
  const rng = mulberry32(deriveSeed(seed, index));
  const dy = randomInt(rng, 2 * pad + 1);
  const dx = randomInt(rng, 2 * pad + 1);
  return { dy, dx, flip: rng() < 0.5 };
}

/**
 * Writes one image, zero-padded by `pad` on every side, cropped back to height x width at (dy, dx) and
 * then optionally mirrored left-right. Sizes are parameters so the geometry can be checked on tiny images.
 */
export function padCropFlip(
  src: Uint8Array,
  out: Uint8Array,
  shape: { height: number; width: number; channels: number },
  pad: number,
  { dy, dx, flip }: CropFlip,
): void {
  const { height: h, width: w, channels: c } = shape;
  // Output column x reads source column sx = x + dx - pad (flipped: w - 1 - x + dx - pad); [x0, x1) is where
  // that lies inside the image. Whole rows are copied or zeroed at once: this runs for every training batch.
  const shift = dx - pad;
  const x0 = Math.max(0, flip ? shift : -shift);
  const x1 = Math.min(w, flip ? w + shift : w - shift);
  for (let y = 0; y < h; y++) {
    const sy = y + dy - pad;
    const row = y * w * c;
    if (sy < 0 || sy >= h || x0 >= x1) {
      out.fill(0, row, row + w * c);
      continue;
    }
    out.fill(0, row, row + x0 * c);
    out.fill(0, row + x1 * c, row + w * c);
    const srcRow = sy * w * c;
    if (!flip) {
      const from = srcRow + (x0 + shift) * c;
      const to = row + x0 * c;
      for (let i = 0, n = (x1 - x0) * c; i < n; i++) out[to + i] = src[from + i];
      continue;
    }
    for (let x = x0; x < x1; x++) {
      const o = row + x * c;
      const s = srcRow + (w - 1 - x + shift) * c;
      for (let k = 0; k < c; k++) out[o + k] = src[s + k];
    }
  }
}

/**
 * Augmented raw pixels for images [start, end) of `batch`. Padding is zero in byte space, i.e. black
 * before normalisation, matching torchvision's RandomCrop(32, padding=4) on PIL images. Use a different
 * seed per epoch (e.g. deriveSeed(baseSeed, epoch)) for fresh crops.
 */
export function augmentRange(batch: ImageBatch, start: number, end: number, seed: number): Uint8Array {
  checkRange(batch, start, end);
  const out = new Uint8Array((end - start) * IMAGE_BYTES);
  const shape = { height: IMAGE_HEIGHT, width: IMAGE_WIDTH, channels: IMAGE_CHANNELS };
  for (let i = start; i < end; i++) {
    const src = batch.pixels.subarray(i * IMAGE_BYTES, (i + 1) * IMAGE_BYTES);
    const dst = out.subarray((i - start) * IMAGE_BYTES, (i - start + 1) * IMAGE_BYTES);
    padCropFlip(src, dst, shape, AUGMENT_PAD, augmentationFor(seed, i));
  }
  return out;
}
