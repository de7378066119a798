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

/**
 * Resizes one interleaved 8-bit image (height x width x channels, row-major) to outHeight x outWidth; the
 * result is a new array. Sizes equal to the input's leave that axis untouched, as Pillow does.
 */
export function resizeImage(
  src: Uint8Array,
  height: number,
  width: number,
  channels: number,
  outHeight: number,
  outWidth: number,
  interpolation: Interpolation,
): Uint8Array {
  if (src.length !== height * width * channels) throw new Error(`resizeImage: ${src.length} bytes is not ${height} x ${width} x ${channels}`);
  for (const [name, v] of [["height", outHeight], ["width", outWidth]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new Error(`resizeImage: output ${name} must be a positive integer, got ${v}`);
  }
  const vertical = coefficients(height, outHeight, interpolation);
  // Only the rows some output row reads go through the horizontal pass.
  const rowFirst = vertical.first[0];
  const rowEnd = vertical.first[outHeight - 1] + vertical.count[outHeight - 1];
  let rows = src;
  let rowOffset = 0;
  if (outWidth !== width) {
    const h = coefficients(width, outWidth, interpolation);
    rows = new Uint8Array((rowEnd - rowFirst) * outWidth * channels);
    for (let y = rowFirst; y < rowEnd; y++) {
      const inRow = y * width * channels;
      const outRow = (y - rowFirst) * outWidth * channels;
      for (let xx = 0; xx < outWidth; xx++) {
        const x0 = h.first[xx];
        const n = h.count[xx];
        const wBase = xx * h.ksize;
        for (let c = 0; c < channels; c++) {
          let sum = ROUNDING;
          for (let x = 0; x < n; x++) sum += src[inRow + (x0 + x) * channels + c] * h.weights[wBase + x];
          rows[outRow + xx * channels + c] = clip8(sum);
        }
      }
    }
    rowOffset = rowFirst;
  }
  if (outHeight === height) return rows === src ? src.slice() : rows;
  const out = new Uint8Array(outHeight * outWidth * channels);
  const stride = outWidth * channels;
  for (let yy = 0; yy < outHeight; yy++) {
    const y0 = vertical.first[yy] - rowOffset;
    const n = vertical.count[yy];
    const wBase = yy * vertical.ksize;
    const outRow = yy * stride;
    for (let i = 0; i < stride; i++) {
      let sum = ROUNDING;
      for (let y = 0; y < n; y++) sum += rows[(y0 + y) * stride + i] * vertical.weights[wBase + y];
      out[outRow + i] = clip8(sum);
    }
  }
  return out;
}

/** torchvision's CenterCrop offsets: Python's round() of half the margin (ties to even). */
function centerOffset(size: number, crop: number): number {
  const half = (size - crop) / 2;
  const floor = Math.floor(half);
  const diff = half - floor;
  if (diff !== 0.5) return Math.round(half);
  return floor % 2 === 0 ? floor : floor + 1;
}

/** The centred crop x crop window of an interleaved image (crop no larger than either side). */
export function centerCrop(src: Uint8Array, height: number, width: number, channels: number, crop: number): Uint8Array {
  if (crop > height || crop > width) throw new Error(`centerCrop: a ${crop} x ${crop} crop does not fit a ${height} x ${width} image`);
  const top = centerOffset(height, crop);
  const left = centerOffset(width, crop);
  const out = new Uint8Array(crop * crop * channels);
  for (let y = 0; y < crop; y++) {
    const from = ((top + y) * width + left) * channels;
    out.set(src.subarray(from, from + crop * channels), y * crop * channels);
  }
  return out;
}

/**
 * torchvision's Resize(int) size rule: the shorter side becomes `size`, the longer one keeps the aspect ratio
 * (truncated, as torchvision computes it). Returns [height, width].
 */
export function shorterSideSize(height: number, width: number, size: number): [number, number] {
  if (height <= width) return [size, Math.trunc((size * width) / height)];
  return [Math.trunc((size * height) / width), size];
}
