/**
 * Spatial maps from the last block's activations: one channel's map, the paper's combined map of a channel set
 * (section 5.2.5), the class activation map, bilinear upsampling as PyTorch does it, and per-image normalisation.
 * Pure functions over typed arrays; a map is height x width values, row-major.
 */
import { mulberry32 } from "../data/prng";

/** Activation maps of a batch, NHWC: data[((n * height + y) * width + x) * channels + c]. */
export interface ActivationMaps {
  count: number;
  height: number;
  width: number;
  channels: number;
  data: Float32Array;
  /** Which tensor of the model these are, e.g. `layer3.2:out`. */
  tensor: string;
}

function checkImage(maps: ActivationMaps, image: number): void {
  if (!Number.isInteger(image) || image < 0 || image >= maps.count) {
    throw new Error(`no maps for image ${image}: the maps hold ${maps.count} images`);
  }
}

/** One channel of one image as a height x width map, row-major. */
export function channelMap(maps: ActivationMaps, image: number, channel: number): Float32Array {
  const { count, height, width, channels, data } = maps;
  if (image < 0 || image >= count || channel < 0 || channel >= channels) {
    throw new Error(`no map for image ${image} channel ${channel}: the maps hold ${count} images x ${channels} channels`);
  }
  const out = new Float32Array(height * width);
  for (let p = 0; p < height * width; p++) out[p] = data[(image * height * width + p) * channels + channel];
  return out;
}

/** Global average pooling of the maps: count x channels, what the pooled penultimate features are. */
export function spatialMean(maps: ActivationMaps): Float32Array {
  const { count, height, width, channels, data } = maps;
  const out = new Float32Array(count * channels);
  const sums = new Float64Array(channels);
  for (let n = 0; n < count; n++) {
    sums.fill(0);
    for (let p = 0; p < height * width; p++) {
      const base = (n * height * width + p) * channels;
      for (let c = 0; c < channels; c++) sums[c] += data[base + c];
    }
    for (let c = 0; c < channels; c++) out[n * channels + c] = sums[c] / (height * width);
  }
  return out;
}

/**
 * Our reading of the paper's section 5.2.5 ("subtract the mean of the influential filters at the final
 * convolutional layer after average pooling at each dimension"): every chosen channel's map minus its own
 * average-pooled value (the feature the final layer sees), averaged over the chosen channels at each position.
 * This equals the channel-mean map minus its spatial mean, so both readings of the sentence give one map.
 */
export function centredChannelMean(maps: ActivationMaps, image: number, channels: readonly number[]): Float32Array {
  checkImage(maps, image);
  if (channels.length === 0) throw new Error("a combined map needs at least one channel");
  const plane = maps.height * maps.width;
  const out = new Float32Array(plane);
  const sum = new Float64Array(plane);
  for (const c of channels) {
    if (!Number.isInteger(c) || c < 0 || c >= maps.channels) throw new Error(`channel ${c} is outside 0..${maps.channels - 1}`);
    let mean = 0;
    for (let p = 0; p < plane; p++) mean += maps.data[(image * plane + p) * maps.channels + c];
    mean /= plane;
    for (let p = 0; p < plane; p++) sum[p] += maps.data[(image * plane + p) * maps.channels + c] - mean;
  }
  for (let p = 0; p < plane; p++) out[p] = sum[p] / channels.length;
  return out;
}

/**
 * The class activation map (Zhou et al. 2016) of a network whose head reads pooled maps: sum over channels of
 * W[y, j] times channel j's map. Its spatial mean plus b_y is the logit of class y.
 */
export function classActivationMap(maps: ActivationMaps, image: number, weightRow: ArrayLike<number>): Float32Array {
  checkImage(maps, image);
  if (weightRow.length !== maps.channels) {
    throw new Error(`a class activation map needs one weight per channel: ${maps.channels} channels, ${weightRow.length} weights`);
  }
  const plane = maps.height * maps.width;
  const out = new Float32Array(plane);
  for (let p = 0; p < plane; p++) {
    const base = (image * plane + p) * maps.channels;
    let s = 0;
    for (let c = 0; c < maps.channels; c++) s += weightRow[c] * maps.data[base + c];
    out[p] = s;
  }
  return out;
}

/**
 * Bilinear resize with half-pixel centres, as torch.nn.functional.interpolate(mode="bilinear",
 * align_corners=False) given an output size: source coordinate (i + 0.5) * in / out - 0.5, clamped at 0.
 */
export function upsampleBilinear(map: ArrayLike<number>, height: number, width: number, outHeight: number, outWidth: number): Float32Array {
  if (map.length !== height * width) throw new Error(`a ${height} x ${width} map has ${height * width} values, got ${map.length}`);
  for (const d of [height, width, outHeight, outWidth]) if (!Number.isInteger(d) || d < 1) throw new Error(`map sizes must be positive integers, got ${d}`);
  const axis = (inSize: number, outSize: number) => {
    const lo = new Int32Array(outSize);
    const hi = new Int32Array(outSize);
    const t = new Float32Array(outSize);
    for (let i = 0; i < outSize; i++) {
      const src = Math.max(0, ((i + 0.5) * inSize) / outSize - 0.5);
      lo[i] = Math.min(Math.floor(src), inSize - 1);
      hi[i] = Math.min(lo[i] + 1, inSize - 1);
      t[i] = src - lo[i];
    }
    return { lo, hi, t };
  };
  const ys = axis(height, outHeight);
  const xs = axis(width, outWidth);
  const out = new Float32Array(outHeight * outWidth);
  for (let i = 0; i < outHeight; i++) {
    const r0 = ys.lo[i] * width;
    const r1 = ys.hi[i] * width;
    const ty = ys.t[i];
    for (let j = 0; j < outWidth; j++) {
      const tx = xs.t[j];
      const top = (1 - tx) * map[r0 + xs.lo[j]] + tx * map[r0 + xs.hi[j]];
      const bottom = (1 - tx) * map[r1 + xs.lo[j]] + tx * map[r1 + xs.hi[j]];
      out[i * outWidth + j] = (1 - ty) * top + ty * bottom;
    }
  }
  return out;
}

/** Stretches a map to [0, 1] (its minimum to 0, its maximum to 1); a constant map becomes all zeros. */
export function normaliseMap(map: ArrayLike<number>): Float32Array {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < map.length; i++) {
    lo = Math.min(lo, map[i]);
    hi = Math.max(hi, map[i]);
  }
  const out = new Float32Array(map.length);
  if (!(hi > lo)) return out;
  for (let i = 0; i < map.length; i++) out[i] = (map[i] - lo) / (hi - lo);
  return out;
}

/** A seeded map of uniform values, the baseline a faithful map must beat. */
export function randomMap(seed: number, height: number, width: number): Float32Array {
  const rng = mulberry32(seed);
  return Float32Array.from({ length: height * width }, () => rng());
}
