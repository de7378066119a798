/**
 * A worker thread of ImagePool: decodes files and runs them through the recipe (and a training crop and flip),
 * several files at once (libvips decodes on its own threads while this thread resizes the previous file), and
 * hands each image's bytes back without copying them.
 */
import { parentPort, workerData } from "node:worker_threads";
import { decodeImage } from "./decode";
import { preprocessImage, type Recipe, recipeOutputSide } from "./preprocess";
import { AUGMENT_PAD, type CropFlip, padCropFlip } from "./transforms";

export interface ImageTask {
  id: number;
  file: string;
  /** Training: the image's crop (within AUGMENT_PAD zero pixels on every side) and flip, after the recipe. */
  augment?: CropFlip;
}

export type ImageReply = { id: number; pixels: Uint8Array } | { id: number; error: string };

const recipe = (workerData as { recipe: Recipe }).recipe;
const port = parentPort!;

port.on("message", async ({ id, file, augment }: ImageTask) => {
  let reply: ImageReply;
  try {
    const img = await decodeImage(file);
    let pixels = preprocessImage(img.pixels, img.height, img.width, recipe);
    if (augment !== undefined) {
      const side = recipeOutputSide(recipe, img.height, img.width);
      const out = new Uint8Array(pixels.length);
      padCropFlip(pixels, out, { height: side, width: side, channels: 3 }, AUGMENT_PAD, augment);
      pixels = out;
    }
    reply = { id, pixels };
  } catch (err) {
    reply = { id, error: (err as Error).message };
  }
  port.postMessage(reply, "pixels" in reply ? [reply.pixels.buffer as ArrayBuffer] : []);
});
