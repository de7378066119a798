/**
 * Image resizing that equals Pillow's `Image.resize` (what torchvision 0.14's Resize does to a PIL image) on 8-bit
 * RGB images: separable convolution with the triangle (bilinear) or Keys a = -0.5 (bicubic) kernel, widened by
 * the scale factor when shrinking (antialiasing), coefficients rounded to 22-bit fixed point, the horizontal pass
 * first into an 8-bit intermediate restricted to the rows the vertical pass reads, each result rounded and
 * clamped to a byte. Written from Pillow's documented behaviour (libImaging/Resample.c's algorithm), so a
 * model sees the same bytes here as under PyTorch's preprocessing.
 */

export type Interpolation = "bilinear" | "bicubic";

/** Pillow's filters: support radius and kernel. */
const FILTERS: Record<Interpolation, { support: number; kernel: (x: number) => number }> = {
  bilinear: {
    support: 1,
    kernel: (x) => {
      const a = Math.abs(x);
      return a < 1 ? 1 - a : 0;
    },
  },
  bicubic: {
    support: 2,
    kernel: (x) => {
      const a = -0.5;
      const t = Math.abs(x);
      if (t < 1) return ((a + 2) * t - (a + 3)) * t * t + 1;
      if (t < 2) return (((t - 5) * t + 8) * t - 4) * a;
      return 0;
    },
  },
};

const PRECISION_BITS = 32 - 8 - 2;

/** Per output position: first input index, tap count, and fixed-point weights (ksize per position). */
interface Coefficients {
  first: Int32Array;
  count: Int32Array;
  weights: Int32Array;
  ksize: number;
}

function coefficients(inSize: number, outSize: number, interpolation: Interpolation): Coefficients {
  const { support: base, kernel } = FILTERS[interpolation];
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = base * filterScale;
  const ksize = Math.ceil(support) * 2 + 1;
  const first = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const weights = new Int32Array(outSize * ksize);
  const k = new Float64Array(ksize);
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    // C's (int) conversion truncates toward zero, then the bounds are clamped.
    const xmin = Math.max(Math.trunc(center - support + 0.5), 0);
    const xmax = Math.min(Math.trunc(center + support + 0.5), inSize) - xmin;
    let total = 0;
    for (let x = 0; x < xmax; x++) {
      k[x] = kernel((x + xmin - center + 0.5) / filterScale);
      total += k[x];
    }
    for (let x = 0; x < xmax; x++) {
      const w = total !== 0 ? k[x] / total : k[x];
      weights[xx * ksize + x] = Math.trunc(w < 0 ? -0.5 + w * (1 << PRECISION_BITS) : 0.5 + w * (1 << PRECISION_BITS));
    }
    first[xx] = xmin;
    count[xx] = xmax;
  }
  return { first, count, weights, ksize };
}

const ROUNDING = 1 << (PRECISION_BITS - 1);

function clip8(v: number): number {
  if (v >= 1 << (PRECISION_BITS + 8)) return 255;
  if (v <= 0) return 0;
  return v >> PRECISION_BITS;
}

/** A rectangle of the resized image: computing only it gives the same bytes as resizing all, then cropping. */
export interface Window {
  top: number;
  left: number;
  height: number;
  width: number;
}

/**
 * Resizes one interleaved 8-bit image (height x width x channels, row-major) to outHeight x outWidth and returns
 * the `window` of the result (default: all of it) as a new array. Sizes equal to the input's leave that axis
 * untouched, as Pillow does.
 */
export function resizeImage(
  src: Uint8Array,
  height: number,
  width: number,
  channels: number,
  outHeight: number,
  outWidth: number,
  interpolation: Interpolation,
  window: Window = { top: 0, left: 0, height: outHeight, width: outWidth },
): Uint8Array {
  if (src.length !== height * width * channels) throw new Error(`resizeImage: ${src.length} bytes is not ${height} x ${width} x ${channels}`);
  for (const [name, v] of [["height", outHeight], ["width", outWidth]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new Error(`resizeImage: output ${name} must be a positive integer, got ${v}`);
  }
  const { top, left, height: winH, width: winW } = window;
  if (!(top >= 0 && left >= 0 && winH >= 1 && winW >= 1 && top + winH <= outHeight && left + winW <= outWidth)) {
    throw new Error(`resizeImage: the window ${winH} x ${winW} at (${top}, ${left}) is not inside the ${outHeight} x ${outWidth} result`);
  }
  const needVertical = outHeight !== height;
  const vertical = coefficients(height, outHeight, interpolation);
  // The input rows the window's output rows read; only they go through the horizontal pass.
  const rowFirst = needVertical ? vertical.first[top] : top;
  const rowEnd = needVertical ? vertical.first[top + winH - 1] + vertical.count[top + winH - 1] : top + winH;
  const stride = winW * channels;
  // rows: input rows [rowFirst, rowEnd), the window's columns, horizontally resized where the width changes.
  const rows = new Uint8Array((rowEnd - rowFirst) * stride);
  if (outWidth !== width) {
    const h = coefficients(width, outWidth, interpolation);
    for (let y = rowFirst; y < rowEnd; y++) {
      const inRow = y * width * channels;
      let o = (y - rowFirst) * stride;
      for (let xx = left; xx < left + winW; xx++) {
        const n = h.count[xx];
        const wBase = xx * h.ksize;
        const from = inRow + h.first[xx] * channels;
        if (channels === 3) {
          // RGB, every image here: the three sums share one pass over the taps.
          let r = ROUNDING;
          let g = ROUNDING;
          let b = ROUNDING;
          for (let x = 0, at = from; x < n; x++, at += 3) {
            const k = h.weights[wBase + x];
            r += src[at] * k;
            g += src[at + 1] * k;
            b += src[at + 2] * k;
          }
          rows[o++] = clip8(r);
          rows[o++] = clip8(g);
          rows[o++] = clip8(b);
          continue;
        }
        for (let c = 0; c < channels; c++) {
          let sum = ROUNDING;
          for (let x = 0, at = from + c; x < n; x++, at += channels) sum += src[at] * h.weights[wBase + x];
          rows[o++] = clip8(sum);
        }
      }
    }
  } else {
    for (let y = rowFirst; y < rowEnd; y++) rows.set(src.subarray((y * width + left) * channels, (y * width + left + winW) * channels), (y - rowFirst) * stride);
  }
  if (!needVertical) return rows;
  const out = new Uint8Array(winH * stride);
  for (let yy = top; yy < top + winH; yy++) {
    const y0 = vertical.first[yy] - rowFirst;
    const n = vertical.count[yy];
    const wBase = yy * vertical.ksize;
    const outRow = (yy - top) * stride;
    for (let i = 0; i < stride; i++) {
      let sum = ROUNDING;
      let at = y0 * stride + i;
      for (let y = 0; y < n; y++, at += stride) sum += rows[at] * vertical.weights[wBase + y];
      out[outRow + i] = clip8(sum);
    }
  }
  return out;
}

/** torchvision's CenterCrop offsets: Python's round() of half the margin (ties to even). */
export function centerOffset(size: number, crop: number): number {
  const half = (size - crop) / 2;
  const floor = Math.floor(half);
  const diff = half - floor;
  if (diff !== 0.5) return Math.round(half);
  return floor % 2 === 0 ? floor : floor + 1;
}

/**
 * torchvision's Resize(int) size rule: the shorter side becomes `size`, the longer one keeps the aspect ratio
 * (truncated, as torchvision computes it). Returns [height, width].
 */
export function shorterSideSize(height: number, width: number, size: number): [number, number] {
  if (height <= width) return [size, Math.trunc((size * width) / height)];
  return [Math.trunc((size * height) / width), size];
}
