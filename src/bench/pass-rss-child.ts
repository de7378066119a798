/**
 * Child process of the training-pass memory bench: one real ImageNet training pass (scan, key, decode on the
 * workers, ResNet50, ranks, checksummed file), alone in its process so that its peak RSS is the pass's own.
 * Arguments: one JSON object (PassRssChildArgs); prints one JSON object (PassRssChildResult).
 */
import * as fs from "node:fs";
import { runImageNetPass } from "../features/imagenet-pass";
import { childMain, peakRssMiB } from "./child";

export interface PassRssChildArgs {
  root: string;
  weights: string;
  side: number;
  cacheDir: string;
}

export interface PassRssChildResult {
  images: number;
  seconds: number;
  peakRssMiB: number;
  fileBytes: number;
  backend: string | null;
}

childMain(async (args: PassRssChildArgs): Promise<PassRssChildResult> => {
  const started = process.hrtime.bigint();
  const pass = await runImageNetPass({
    model: "resnet50", weights: args.weights, root: args.root, split: "train", cacheDir: args.cacheDir,
    preprocessing: { kind: "squash", size: args.side, interpolation: "bilinear" },
  });
  return {
    images: pass.result.count,
    seconds: Number(process.hrtime.bigint() - started) / 1e9,
    peakRssMiB: peakRssMiB(),
    fileBytes: fs.statSync(pass.file).size,
    backend: pass.backend,
  };
});
