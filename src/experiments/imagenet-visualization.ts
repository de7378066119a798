/**
 * Notebook 05's ResNet50 rows: the paper's Table 7 overlays (standard CAM, non-influential and influential maps)
 * on correctly classified ImageNet validation images, and the faithfulness curves on a seeded sample of them,
 * from the decomposition of notebook 03 (k1 = k2 = 50, the paper's squash; its cached passes are reused).
 */
import { registryModel } from "../models/load";
import { ImagePool } from "../data/image-pool";
import { type ImageBatch } from "../data";
import { maxAbsDiff, predictFull, spatialMean } from "../method";
import { createEngine } from "../models/engines";
import { inputRecipe, modelEntry } from "../models/registry";
import type { Progress } from "../progress";
import { shuffledOrder } from "../training/loop";
import { faithfulnessCurves, type FaithfulnessCurves, imageMaps, type SaliencyOptions } from "./faithfulness";
import { IMAGENET_K, type ImageNetSource, tryDecomposeImageNet } from "./imagenet";
import { contrastChannels, lastBlockMaps } from "./visualization";
import type { OverlayRow } from "./visualization-report";

export interface ImageNetVisualizationOptions {
  model?: string;
  k?: number;
  /** Correctly classified validation images overlaid, each of another class (fewer when fewer are correct). */
  overlayImages?: number;
  /** Validation images, correct or not, entering the deletion and insertion curves. */
  faithfulnessImages?: number;
  seed?: number;
  steps?: number;
  blurSigma?: number;
  cacheDir?: string;
  onProgress?: Progress;
}

export interface ImageNetVisualization {
  model: string;
  k: number;
  /** Rows for overlayFigure: columns OVERLAY_COLUMNS, maps at the input size. */
  overlayRows: OverlayRow[];
  size: [number, number];
  maps: { height: number; width: number; channels: number; tensor: string };
  /** Largest |spatial mean of a map - the cached pooled feature| over the overlaid images. */
  poolingGap: number;
  curves: FaithfulnessCurves;
  /** Validation-split positions of the curves' images, in the curves' order. */
  curveImages: number[];
  backend: string;
}

export const OVERLAY_COLUMNS = ["standard (CAM)", "non-influential", "influential"];

/** `n` of `from` in a seeded order. */
const seededPick = (from: number[], n: number, seed: number): number[] => Array.from(shuffledOrder(from.length, seed), (i) => from[i]).slice(0, n);

export async function tryVisualizeImageNet(
  source: ImageNetSource,
  opts: ImageNetVisualizationOptions = {},
): Promise<{ visualization: ImageNetVisualization; reason: null } | { visualization: null; reason: string }> {
  const model = opts.model ?? "resnet50";
  const k = opts.k ?? IMAGENET_K;
  const seed = opts.seed ?? 0;
  const faithfulnessImages = opts.faithfulnessImages ?? 32;
  if (!Number.isInteger(faithfulnessImages) || faithfulnessImages < 1) throw new Error(`faithfulnessImages must be a positive integer, got ${faithfulnessImages}`);
  const got = await tryDecomposeImageNet(source, model, { k1: k, k2: k, cacheDir: opts.cacheDir, onProgress: opts.onProgress });
  const d = got.decomposition;
  if (d === null || !source.available) return { visualization: null, reason: got.reason ?? "no ImageNet tree" };
  const val = source.tree.splits.val!;
  const labels = d.test.labels;
  const predictions = predictFull(d.test.features, d.layer);
  // One correctly classified image per class, then a seeded choice of classes.
  const firstCorrect = new Map<number, number>();
  for (const i of seededPick(Array.from({ length: labels.length }, (_, i) => i), labels.length, seed)) {
    if (predictions[i] === labels[i] && !firstCorrect.has(labels[i])) firstCorrect.set(labels[i], i);
  }
  const overlaid = seededPick([...firstCorrect.values()], opts.overlayImages ?? 8, seed + 1).sort((a, b) => a - b);
  const sampled = seededPick(Array.from({ length: labels.length }, (_, i) => i), faithfulnessImages, seed + 2).sort((a, b) => a - b);

  const pretrained = registryModel(d.pretrained, "the TF.js channel maps of Table 7");
  const { spec } = pretrained;
  const [height, width] = spec.inputShape;
  const bytes = height * width * 3;
  const pool = new ImagePool(inputRecipe(modelEntry(model), "paper"));
  let overlayBatch: ImageBatch;
  let sampleBatch: ImageBatch;
  try {
    overlayBatch = { count: overlaid.length, pixels: await pool.batch(overlaid.map((i) => val.files[i]), bytes) };
    sampleBatch = { count: sampled.length, pixels: await pool.batch(sampled.map((i) => val.files[i]), bytes) };
  } finally {
    await pool.close();
  }
  const mapsOf = (batch: ImageBatch) => lastBlockMaps(batch, { model, pretrained, norm: "checkpoint", onProgress: opts.onProgress });
  const saliency: SaliencyOptions = {
    influential: d.sets, nonInfluential: contrastChannels(d.influence, k).map((c) => c.nonInfluential), layer: d.layer, inputSize: [height, width], seed,
  };
  const sampleMaps = await mapsOf(sampleBatch);
  // No correctly classified image (a model that is wrong everywhere) leaves no overlay to draw.
  const overlayMaps = overlaid.length === 0 ? null : await mapsOf(overlayBatch);
  const cachedRows = Float32Array.from(overlaid.flatMap((i) => Array.from(d.test.features.data.subarray(i * d.featureWidth, (i + 1) * d.featureWidth))));
  const overlayRows: OverlayRow[] = overlayMaps === null ? [] : overlaid.map((i, n) => {
    const m = imageMaps(overlayMaps, n, labels[i], saliency);
    return { className: d.classes[labels[i]], testIndex: i, pixels: overlayBatch.pixels.subarray(n * bytes, (n + 1) * bytes), maps: [m.CAM, m["non-influential"], m.influential] };
  });
  const engine = await createEngine(spec, pretrained.stateDict);
  try {
    const curves = await faithfulnessCurves({
      engine, norm: "checkpoint", images: sampleBatch, targets: sampled.map((i) => labels[i]),
      maps: sampled.map((i, n) => imageMaps(sampleMaps, n, labels[i], saliency)), steps: opts.steps, blurSigma: opts.blurSigma, onProgress: opts.onProgress,
    });
    return {
      visualization: {
        model, k, overlayRows, size: [height, width], maps: { height: sampleMaps.height, width: sampleMaps.width, channels: sampleMaps.channels, tensor: sampleMaps.tensor },
        poolingGap: overlayMaps === null ? 0 : maxAbsDiff(spatialMean(overlayMaps), cachedRows), curves, curveImages: sampled, backend: engine.backend,
      },
      reason: null,
    };
  } finally {
    engine.dispose();
  }
}
