/**
 * Image files to 8-bit RGB pixels with sharp (libvips; its JPEG decoder is mozjpeg). Chosen by measurement on the
 * real photographs of Debian's darknet package (environment.md): its pixels equal Pillow's `convert("RGB")`
 * on every file, and it decodes 2-10x faster than the pure-JavaScript jpeg-js, whose pixels differ from
 * Pillow's by up to 37 grey levels. Decoding runs on libvips' own threads, off the JavaScript thread.
 */
import sharp from "sharp";

export interface DecodedImage {
  /** height x width x 3, row-major. */
  pixels: Uint8Array;
  height: number;
  width: number;
}

/**
 * Any format sharp reads (JPEG, PNG, WebP, TIFF, ...) as RGB, alpha dropped, as PIL's convert("RGB") gives it: grey
 * and palette images through libvips; CMYK ones by Pillow's own formula on the stored ink values (libvips would
 * go through an ICC profile and land up to 125 levels away from what a PyTorch user's loader sees).
 */
export async function decodeImage(file: string | Uint8Array): Promise<DecodedImage> {
  const name = typeof file === "string" ? file : "image bytes";
  let out: { data: Buffer; info: { channels: number; height: number; width: number } };
  let cmyk = false;
  try {
    cmyk = (await sharp(file).metadata()).space === "cmyk";
    const image = sharp(file, { failOn: "error" });
    out = await (cmyk ? image.pipelineColourspace("cmyk").toColourspace("cmyk") : image.removeAlpha().toColourspace("srgb")).raw().toBuffer({ resolveWithObject: true });
  } catch (err) {
    throw new Error(`${name}: cannot decode the image (${(err as Error).message})`);
  }
  const { data, info } = out;
  if (cmyk) return { pixels: cmykToRgb(data, info.channels, name), height: info.height, width: info.width };
  if (info.channels !== 3) throw new Error(`${name}: decoded to ${info.channels} channels, expected RGB`);
  return { pixels: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), height: info.height, width: info.width };
}

/** Pillow's cmyk2rgb (Convert.c): each channel (255 - K) - ink * (255 - K) / 255, rounded as its MULDIV255. */
function cmykToRgb(data: Uint8Array, channels: number, name: string): Uint8Array {
  if (channels !== 4) throw new Error(`${name}: a CMYK image decoded to ${channels} channels, expected 4`);
  const n = data.length / 4;
  const out = new Uint8Array(n * 3);
  for (let i = 0; i < n; i++) {
    const nk = 255 - data[4 * i + 3];
    for (let c = 0; c < 3; c++) {
      const t = data[4 * i + c] * nk + 128;
      out[3 * i + c] = Math.max(0, nk - (((t >> 8) + t) >> 8));
    }
  }
  return out;
}
