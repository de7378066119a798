/** PNG images in notebook outputs, e.g. grids of feature maps. */
import { PNG } from "pngjs";
import { MimeBundle, publish } from "./display";

/** 8-bit RGBA pixels, row-major. */
export interface RgbaImage {
  width: number;
  height: number;
  data: Uint8Array;
}

export function encodePng(image: RgbaImage): Buffer {
  const { width, height, data } = image;
  if (data.length !== width * height * 4) {
    throw new Error(`RGBA image of ${width}x${height} needs ${width * height * 4} bytes, got ${data.length}`);
  }
  const png = new PNG({ width, height });
  png.data = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return PNG.sync.write(png);
}

export interface GridOptions {
  /** Maps per row (default: a near-square grid). */
  columns?: number;
  /** Each map pixel becomes a scale x scale block (default 4, so 8x8 maps stay visible). */
  scale?: number;
  /** Pixels of background between maps (default 2). */
  gap?: number;
  /** One colour scale for every map (lo -> black, hi -> white, clamped), so maps compare by brightness. */
  range?: { lo: number; hi: number };
}

/**
 * Tiles single-channel maps (each mapHeight x mapWidth, row-major) into one grayscale image.
 * Each map is stretched to its own min..max so weak and strong maps are both readable, unless `range` gives
 * one shared scale.
 */
export function mapGrid(maps: ArrayLike<number>[], mapWidth: number, mapHeight: number, options: GridOptions = {}): RgbaImage {
  if (maps.length === 0) throw new Error("mapGrid needs at least one map");
  for (const [i, m] of maps.entries()) {
    if (m.length !== mapWidth * mapHeight) {
      throw new Error(`map ${i} has ${m.length} values, expected ${mapWidth}x${mapHeight} = ${mapWidth * mapHeight}`);
    }
  }
  const columns = options.columns ?? Math.ceil(Math.sqrt(maps.length));
  const scale = options.scale ?? 4;
  const gap = options.gap ?? 2;
  const rows = Math.ceil(maps.length / columns);
  const tileW = mapWidth * scale;
  const tileH = mapHeight * scale;
  const width = columns * tileW + (columns + 1) * gap;
  const height = rows * tileH + (rows + 1) * gap;
  const data = new Uint8Array(width * height * 4).fill(255);
  if (options.range && !(options.range.hi >= options.range.lo)) {
    throw new Error(`mapGrid range needs hi >= lo, got ${options.range.lo}..${options.range.hi}`);
  }
  maps.forEach((map, k) => {
    let lo = options.range?.lo ?? Infinity;
    let hi = options.range?.hi ?? -Infinity;
    if (!options.range) {
      for (let i = 0; i < map.length; i++) {
        lo = Math.min(lo, map[i]);
        hi = Math.max(hi, map[i]);
      }
    }
    const span = hi > lo ? hi - lo : 1;
    const x0 = gap + (k % columns) * (tileW + gap);
    const y0 = gap + Math.floor(k / columns) * (tileH + gap);
    for (let y = 0; y < tileH; y++) {
      for (let x = 0; x < tileW; x++) {
        const t = (map[Math.floor(y / scale) * mapWidth + Math.floor(x / scale)] - lo) / span;
        const v = Math.round(255 * Math.min(1, Math.max(0, t)));
        const p = ((y0 + y) * width + x0 + x) * 4;
        data[p] = data[p + 1] = data[p + 2] = v;
      }
    }
  });
  return { width, height, data };
}

/** An RGBA image with each pixel blown up to a scale x scale block (nearest neighbour: pixels stay visible). */
export function upscale(image: RgbaImage, scale: number): RgbaImage {
  if (!Number.isInteger(scale) || scale < 1) throw new Error(`scale must be a positive integer, got ${scale}`);
  const { width, height } = image;
  const W = width * scale;
  const data = new Uint8Array(W * height * scale * 4);
  for (let y = 0; y < height * scale; y++) {
    for (let x = 0; x < W; x++) {
      const src = (Math.floor(y / scale) * width + Math.floor(x / scale)) * 4;
      data.set(image.data.subarray(src, src + 4), (y * W + x) * 4);
    }
  }
  return { width: W, height: height * scale, data };
}

/** An RGB image (height x width x 3 bytes, row-major) as an opaque RGBA image, blown up by `scale`. */
export function upscaleRgb(pixels: Uint8Array, width: number, height: number, scale = 4): RgbaImage {
  if (pixels.length !== width * height * 3) {
    throw new Error(`RGB image of ${width}x${height} needs ${width * height * 3} bytes, got ${pixels.length}`);
  }
  const data = new Uint8Array(width * height * 4);
  for (let p = 0; p < width * height; p++) {
    data[p * 4] = pixels[p * 3];
    data[p * 4 + 1] = pixels[p * 3 + 1];
    data[p * 4 + 2] = pixels[p * 3 + 2];
    data[p * 4 + 3] = 255;
  }
  return upscale({ width, height, data }, scale);
}

/** A width x height image of one colour, e.g. a bar that marks a group of tiles. */
export function solidImage(width: number, height: number, rgb: [number, number, number]): RgbaImage {
  const data = new Uint8Array(width * height * 4);
  for (let p = 0; p < width * height; p++) data.set([rgb[0], rgb[1], rgb[2], 255], p * 4);
  return { width, height, data };
}

/**
 * Lays tiles out left to right in rows, top to bottom, `gap` white pixels around and between them; each row is
 * as tall as its tallest tile, and tiles sit at its top.
 */
export function composeRows(rows: RgbaImage[][], gap = 2): RgbaImage {
  if (rows.length === 0 || rows.some((r) => r.length === 0)) throw new Error("composeRows needs at least one tile in every row");
  const rowWidth = (r: RgbaImage[]) => r.reduce((w, t) => w + t.width + gap, gap);
  const width = Math.max(...rows.map(rowWidth));
  const heights = rows.map((r) => Math.max(...r.map((t) => t.height)));
  const height = heights.reduce((h, r) => h + r + gap, gap);
  const data = new Uint8Array(width * height * 4).fill(255);
  let y0 = gap;
  rows.forEach((row, i) => {
    let x0 = gap;
    for (const tile of row) {
      for (let y = 0; y < tile.height; y++) {
        data.set(tile.data.subarray(y * tile.width * 4, (y + 1) * tile.width * 4), ((y0 + y) * width + x0) * 4);
      }
      x0 += tile.width + gap;
    }
    y0 += heights[i] + gap;
  });
  return { width, height, data };
}

export function pngBundle(image: RgbaImage, description = "image"): MimeBundle {
  return {
    "image/png": encodePng(image).toString("base64"),
    "text/plain": `PNG ${image.width}x${image.height}: ${description}`,
  };
}

export function showPng(image: RgbaImage, description?: string): void {
  publish(pngBundle(image, description));
}
