/** Per-channel normalisation and the standard CIFAR training augmentation (pad 4, random 32x32 crop, horizontal flip). */
import { createHash } from "node:crypto";
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
  /** 1 (default): pixels scaled to [0, 1] first; 255: mean and std in pixel units (Caffe-style models). */
  scale?: 1 | 255;
  /** Channel order the model takes (default rgb); mean and std are in that order. */
  channels?: "rgb" | "bgr";
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

/**
 * A named normalisation, or one written out as its own name: `mean=a,b,c;std=a,b,c[;scale=255][;channels=bgr]`
 * (what customNormalisation makes), so a model's own statistics travel through options and cache keys as text.
 */
export function getNormalisation(name: string): Normalisation {
  if (name.startsWith("mean=")) return parseNormalisation(name);
  if (!Object.prototype.hasOwnProperty.call(NORMALISATIONS, name)) {
    throw new Error(`Unknown normalisation "${name}". Known normalisations: ${Object.keys(NORMALISATIONS).join(", ")}, or mean=a,b,c;std=a,b,c (--mean and --std).`);
  }
  return NORMALISATIONS[name as NormalisationName];
}

function triple(text: string | undefined, what: string, whole: string): [number, number, number] {
  const values = (text ?? "").split(",").map(Number);
  if (values.length !== 3 || values.some((v) => !Number.isFinite(v))) throw new Error(`normalisation '${whole}': ${what} needs three numbers (a,b,c), got '${text ?? ""}'`);
  return values as [number, number, number];
}

function parseNormalisation(name: string): Normalisation {
  const fields = Object.fromEntries(name.split(";").map((part) => part.split("=") as [string, string]));
  const unknown = Object.keys(fields).find((k) => !["mean", "std", "scale", "channels"].includes(k));
  if (unknown !== undefined) throw new Error(`normalisation '${name}': unknown field '${unknown}' (mean, std, scale, channels)`);
  const std = triple(fields.std, "std", name);
  if (std.some((v) => v <= 0)) throw new Error(`normalisation '${name}': std must be positive`);
  const scale = fields.scale === undefined ? 1 : Number(fields.scale);
  if (scale !== 1 && scale !== 255) throw new Error(`normalisation '${name}': scale must be 1 (pixels in [0, 1]) or 255 (pixel units), got '${fields.scale}'`);
  const channels = fields.channels ?? "rgb";
  if (channels !== "rgb" && channels !== "bgr") throw new Error(`normalisation '${name}': channels must be rgb or bgr, got '${channels}'`);
  return { mean: triple(fields.mean, "mean", name), std, scale, channels };
}

/** A normalisation's name as it can stand in a file name: a named one as it is, one written out by a short hash of it. */
export function normalisationId(name: string): string {
  return name.startsWith("mean=") ? `norm${createHash("sha256").update(name).digest("hex").slice(0, 10)}` : name;
}

/** The name of a normalisation with these statistics (see getNormalisation), checked. */
export function customNormalisation(n: Normalisation): string {
  const name = `mean=${n.mean.join(",")};std=${n.std.join(",")}${(n.scale ?? 1) === 1 ? "" : `;scale=${n.scale}`}${(n.channels ?? "rgb") === "rgb" ? "" : `;channels=${n.channels}`}`;
  parseNormalisation(name);
  return name;
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
  const { mean, std, scale = 1, channels = "rgb" } = getNormalisation(name);
  // One lookup table per output channel: 256 * 3 divisions instead of one per pixel. Output channel c reads
  // input channel c, or 2 - c for a BGR model.
  const table = new Float32Array(256 * IMAGE_CHANNELS);
  for (let c = 0; c < IMAGE_CHANNELS; c++) {
    for (let v = 0; v < 256; v++) table[c * 256 + v] = ((scale === 1 ? v / 255 : v) - mean[c]) / std[c];
  }
  const px = batch.pixels;
  if (into !== undefined && into.length !== px.length) {
    throw new Error(`normalise: the output holds ${into.length} values, ${batch.count} images need ${px.length}`);
  }
  const out = into ?? new Float32Array(px.length);
  const [r, b] = channels === "rgb" ? [0, 2] : [2, 0];
  for (let i = 0; i < out.length; i += 3) {
    out[i] = table[px[i + r]];
    out[i + 1] = table[256 + px[i + 1]];
    out[i + 2] = table[512 + px[i + b]];
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
