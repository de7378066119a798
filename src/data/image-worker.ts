/**
 * A worker thread of ImagePool: decodes files and runs them through the recipe, several files at once (libvips
 * decodes on its own threads while this thread resizes the previous file), and hands each image's bytes back
 * without copying them.
 */
import { parentPort, workerData } from "node:worker_threads";
import { decodeImage } from "./decode";
import { preprocessImage, type Recipe } from "./preprocess";

export interface ImageTask {
  id: number;
  file: string;
}

export type ImageReply = { id: number; pixels: Uint8Array } | { id: number; error: string };

const recipe = (workerData as { recipe: Recipe }).recipe;
const port = parentPort!;

port.on("message", async ({ id, file }: ImageTask) => {
  let reply: ImageReply;
  try {
    const img = await decodeImage(file);
    reply = { id, pixels: preprocessImage(img.pixels, img.height, img.width, recipe) };
  } catch (err) {
    reply = { id, error: (err as Error).message };
  }
  port.postMessage(reply, "pixels" in reply ? [reply.pixels.buffer as ArrayBuffer] : []);
});
