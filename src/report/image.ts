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
}

/**
 * Tiles single-channel maps (each mapHeight x mapWidth, row-major) into one grayscale image.
 * Each map is stretched to its own min..max so weak and strong maps are both readable.
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
  maps.forEach((map, k) => {
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = 0; i < map.length; i++) {
      lo = Math.min(lo, map[i]);
      hi = Math.max(hi, map[i]);
    }
    const span = hi > lo ? hi - lo : 1;
    const x0 = gap + (k % columns) * (tileW + gap);
    const y0 = gap + Math.floor(k / columns) * (tileH + gap);
    for (let y = 0; y < tileH; y++) {
      for (let x = 0; x < tileW; x++) {
        const v = Math.round((255 * (map[Math.floor(y / scale) * mapWidth + Math.floor(x / scale)] - lo)) / span);
        const p = ((y0 + y) * width + x0 + x) * 4;
        data[p] = data[p + 1] = data[p + 2] = v;
      }
    }
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
