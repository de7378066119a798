/**
 * Deletion and insertion curves (Petsiuk et al. 2018, RISE): pixels ranked by a saliency map are removed from
 * an image (replaced by a blurred copy) or restored into the blurred copy in equal steps, and the class
 * probability is tracked. Pure functions over typed arrays; images are height x width x 3 bytes, row-major.
 */

/** Pixel positions from the highest map value to the lowest; ties keep the lower position first. */
export function rankPixels(map: ArrayLike<number>): Int32Array {
  const order = Array.from({ length: map.length }, (_, i) => i);
  order.sort((a, b) => map[b] - map[a] || a - b);
  return Int32Array.from(order);
}

function gaussianKernel(sigma: number): Float64Array {
  const radius = Math.max(1, Math.ceil(3 * sigma));
  const k = new Float64Array(2 * radius + 1);
  let sum = 0;
  for (let i = -radius; i <= radius; i++) sum += k[i + radius] = Math.exp(-(i * i) / (2 * sigma * sigma));
  for (let i = 0; i < k.length; i++) k[i] /= sum;
  return k;
}

/**
 * Separable Gaussian blur of an RGB image with edge pixels repeated outwards, rounded back to bytes: the
 * "removed" content the deletion curve substitutes, so removing a pixel takes away detail, not colour.
 */
export function gaussianBlur(pixels: Uint8Array, width: number, height: number, sigma: number): Uint8Array {
  if (pixels.length !== width * height * 3) throw new Error(`an RGB image of ${width} x ${height} has ${width * height * 3} bytes, got ${pixels.length}`);
  if (!(sigma > 0) || !Number.isFinite(sigma)) throw new Error(`the blur's sigma must be a positive number of pixels, got ${sigma}`);
  const k = gaussianKernel(sigma);
  const r = (k.length - 1) / 2;
  const clamp = (v: number, n: number) => (v < 0 ? 0 : v >= n ? n - 1 : v);
  const rows = new Float64Array(pixels.length);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < 3; c++) {
        let s = 0;
        for (let i = -r; i <= r; i++) s += k[i + r] * pixels[(y * width + clamp(x + i, width)) * 3 + c];
        rows[(y * width + x) * 3 + c] = s;
      }
    }
  }
  const out = new Uint8Array(pixels.length);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < 3; c++) {
        let s = 0;
        for (let i = -r; i <= r; i++) s += k[i + r] * rows[(clamp(y + i, height) * width + x) * 3 + c];
        out[(y * width + x) * 3 + c] = Math.min(255, Math.max(0, Math.round(s)));
      }
    }
  }
  return out;
}

export type CurveKind = "deletion" | "insertion";

/** How many pixels step `step` of `steps` changes: a fraction step / steps of them, rounded. */
export function pixelsAtStep(step: number, steps: number, pixels: number): number {
  if (!Number.isInteger(steps) || steps < 1) throw new Error(`a curve needs a positive whole number of steps, got ${steps}`);
  if (!Number.isInteger(step) || step < 0 || step > steps) throw new Error(`step ${step} is outside 0..${steps}`);
  return Math.round((step * pixels) / steps);
}

/**
 * One point of a curve, written into `out`: deletion starts from the image and puts the blurred copy at the
 * `changed` highest-ranked pixels; insertion starts from the blurred copy and restores those pixels.
 */
export function perturbedImage(kind: CurveKind, image: Uint8Array, blurred: Uint8Array, order: Int32Array, changed: number, out: Uint8Array): void {
  if (image.length !== blurred.length || out.length !== image.length || image.length !== order.length * 3) {
    throw new Error(`image (${image.length} bytes), blurred copy (${blurred.length}), output (${out.length}) and ranking (${order.length} pixels x 3) disagree`);
  }
  const [base, source] = kind === "deletion" ? [image, blurred] : [blurred, image];
  out.set(base);
  for (let k = 0; k < changed; k++) {
    const p = order[k] * 3;
    out[p] = source[p];
    out[p + 1] = source[p + 1];
    out[p + 2] = source[p + 2];
  }
}

/** Area under a curve sampled at equally spaced fractions 0, 1/n, ..., 1 (trapezoids). */
export function curveArea(values: ArrayLike<number>): number {
  const n = values.length - 1;
  if (n < 1) throw new Error("a curve needs at least two points");
  let s = 0;
  for (let i = 0; i < n; i++) s += (values[i] + values[i + 1]) / 2;
  return s / n;
}

/** Softmax probability of `target` from one row of logits, computed stably. */
export function softmaxAt(logits: ArrayLike<number>, offset: number, classes: number, target: number): number {
  let max = -Infinity;
  for (let c = 0; c < classes; c++) max = Math.max(max, logits[offset + c]);
  let sum = 0;
  for (let c = 0; c < classes; c++) sum += Math.exp(logits[offset + c] - max);
  return Math.exp(logits[offset + target] - max) / sum;
}
