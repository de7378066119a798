/**
 * Notebook 05's overlays and their faithfulness: per image and class, the influential map (S_y), the
 * non-influential map (the class's lowest-ranked channels), the class activation map and a seeded random map,
 * upsampled to the input; then deletion and insertion curves of the class probability for each map, every
 * perturbed image evaluated in batches on the inference engine.
 */
import { getNormalisation, type ImageBatch, normalise } from "../data";
import { deriveSeed } from "../data/prng";
import {
  type ActivationMaps,
  centredChannelMean,
  classActivationMap,
  curveArea,
  type CurveKind,
  gaussianBlur,
  type IndexSets,
  type LinearLayer,
  meanInterval,
  normaliseMap,
  perturbedImage,
  pixelsAtStep,
  randomMap,
  rankPixels,
  softmaxAt,
  upsampleBilinear,
} from "../method";
import type { ForwardEngine } from "../models/engine";
import { type Progress, silentProgress } from "../progress";

/** The maps compared, in the order tables and charts show them. */
export const MAP_NAMES = ["influential", "non-influential", "CAM", "random"] as const;
export type MapName = (typeof MAP_NAMES)[number];

/** One image's maps at the input resolution, each normalised to [0, 1]. */
export type ImageMaps = Record<MapName, Float32Array>;

export interface SaliencyOptions {
  /** S_y per class. */
  influential: IndexSets;
  /** Per class, the channels combined into the non-influential map (as many as S_y, lowest-ranked first). */
  nonInfluential: IndexSets;
  layer: LinearLayer;
  /** Input height and width the maps are upsampled to. */
  inputSize: [number, number];
  /** Seed of the random maps; image n of the batch gets stream n. */
  seed: number;
}

/** Every map of image `n` of `maps` for class `target`; the random map is drawn at the maps' own resolution. */
export function imageMaps(maps: ActivationMaps, n: number, target: number, opts: SaliencyOptions): ImageMaps {
  const { height, width } = maps;
  const [outH, outW] = opts.inputSize;
  if (opts.layer.features !== maps.channels) throw new Error(`the final layer reads ${opts.layer.features} features but the maps have ${maps.channels} channels`);
  if (!Number.isInteger(target) || target < 0 || target >= opts.layer.classes) throw new Error(`class ${target} is outside 0..${opts.layer.classes - 1}`);
  const up = (m: Float32Array) => normaliseMap(upsampleBilinear(m, height, width, outH, outW));
  const weights = opts.layer.weight.subarray(target * maps.channels, (target + 1) * maps.channels);
  return {
    influential: up(centredChannelMean(maps, n, opts.influential[target])),
    "non-influential": up(centredChannelMean(maps, n, opts.nonInfluential[target])),
    CAM: up(classActivationMap(maps, n, weights)),
    random: up(randomMap(deriveSeed(opts.seed, n), height, width)),
  };
}

export interface FaithfulnessOptions {
  engine: ForwardEngine;
  /** Input normalisation the engine's model expects. */
  norm: string;
  images: ImageBatch;
  /** Class whose probability is tracked, per image. */
  targets: ArrayLike<number>;
  /** Per image, the maps to rank pixels by. */
  maps: ImageMaps[];
  /** Points per curve minus one: 20 gives steps of 5 % of the pixels. */
  steps?: number;
  /** Sigma of the Gaussian blur that removed pixels are taken from, in pixels (default: input width / 16). */
  blurSigma?: number;
  batchSize?: number;
  onProgress?: Progress;
}

export interface FaithfulnessCurves {
  /** Fractions of pixels changed at each point, 0 .. 1. */
  fractions: number[];
  images: number;
  /** Per map and curve kind: images x (steps + 1) probabilities, row-major. */
  curves: Record<MapName, Record<CurveKind, Float32Array>>;
  /** Per map and curve kind: the area under each image's curve. */
  areas: Record<MapName, Record<CurveKind, Float64Array>>;
}

const KINDS: readonly CurveKind[] = ["deletion", "insertion"];

/**
 * Runs every curve. The unperturbed image and the fully blurred one are the shared end points of every map's
 * curves, so each image costs 2 + maps x 2 x (steps - 1) forward passes.
 */
export async function faithfulnessCurves(opts: FaithfulnessOptions): Promise<FaithfulnessCurves> {
  const { engine, images, targets, maps } = opts;
  const [height, width] = engine.spec.inputShape;
  const steps = opts.steps ?? 20;
  const sigma = opts.blurSigma ?? width / 16;
  const batchSize = opts.batchSize ?? 256;
  const onProgress = opts.onProgress ?? silentProgress;
  const count = images.count;
  const pixels = height * width;
  if (targets.length !== count || maps.length !== count) throw new Error(`${count} images need as many targets and map sets; got ${targets.length} and ${maps.length}`);
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`batch size must be a positive integer, got ${batchSize}`);
  pixelsAtStep(0, steps, pixels);
  getNormalisation(opts.norm);
  // Every input is checked before the first of the many forward passes.
  maps.forEach((m, n) => {
    for (const name of MAP_NAMES) {
      if (m[name]?.length !== pixels) throw new Error(`image ${n}'s ${name} map has ${m[name]?.length ?? 0} values; the input has ${height} x ${width} pixels`);
    }
    const t = targets[n];
    if (!Number.isInteger(t) || t < 0 || t >= engine.spec.classes) throw new Error(`image ${n}'s class ${t} is outside 0..${engine.spec.classes - 1}`);
  });

  const points = steps + 1;
  const curves = Object.fromEntries(MAP_NAMES.map((m) => [m, { deletion: new Float32Array(count * points), insertion: new Float32Array(count * points) }])) as FaithfulnessCurves["curves"];
  const classes = engine.spec.classes;
  const bytes = pixels * 3;
  const buffer = new Uint8Array(batchSize * bytes);
  const inputs = new Float32Array(batchSize * bytes);
  // Where each probability of the pending batch goes: one or more (curve, position) slots.
  let pending: { target: number; slots: [Float32Array, number][] }[] = [];
  const forwardsPerImage = 2 + MAP_NAMES.length * KINDS.length * (steps - 1);
  const total = count * forwardsPerImage;
  let done = 0;
  const stage = `deletion/insertion curves (${engine.backend})`;
  onProgress({ stage, done, total, unit: "images" });

  const flush = async () => {
    const n = pending.length;
    if (n === 0) return;
    const batch = { count: n, pixels: buffer.subarray(0, n * bytes) };
    const { logits } = await engine.forward(normalise(batch, opts.norm, inputs.subarray(0, n * bytes)), n);
    pending.forEach((job, i) => {
      const p = softmaxAt(logits, i * classes, classes, job.target);
      for (const [curve, at] of job.slots) curve[at] = p;
    });
    done += n;
    pending = [];
    onProgress({ stage, done, total, unit: "images" });
  };
  const add = async (target: number, slots: [Float32Array, number][], fill: (out: Uint8Array) => void) => {
    fill(buffer.subarray(pending.length * bytes, (pending.length + 1) * bytes));
    pending.push({ target, slots });
    if (pending.length === batchSize) await flush();
  };

  for (let n = 0; n < count; n++) {
    const image = images.pixels.subarray(n * bytes, (n + 1) * bytes);
    const blurred = gaussianBlur(image, width, height, sigma);
    const target = targets[n];
    const row = n * points;
    await add(target, MAP_NAMES.flatMap((m) => [[curves[m].deletion, row], [curves[m].insertion, row + steps]] as [Float32Array, number][]), (out) => out.set(image));
    await add(target, MAP_NAMES.flatMap((m) => [[curves[m].deletion, row + steps], [curves[m].insertion, row]] as [Float32Array, number][]), (out) => out.set(blurred));
    for (const m of MAP_NAMES) {
      const order = rankPixels(maps[n][m]);
      for (const kind of KINDS) {
        for (let s = 1; s < steps; s++) {
          await add(target, [[curves[m][kind], row + s]], (out) => perturbedImage(kind, image, blurred, order, pixelsAtStep(s, steps, pixels), out));
        }
      }
    }
  }
  await flush();

  const areas = Object.fromEntries(
    MAP_NAMES.map((m) => [m, Object.fromEntries(KINDS.map((k) => [k, Float64Array.from({ length: count }, (_, n) => curveArea(curves[m][k].subarray(n * points, (n + 1) * points)))]))]),
  ) as FaithfulnessCurves["areas"];
  return { fractions: Array.from({ length: points }, (_, s) => s / steps), images: count, curves, areas };
}

export interface AreaSummary {
  map: MapName;
  kind: CurveKind;
  mean: number;
  /** Standard error of the mean over images. */
  standardError: number;
}

export function summariseAreas(result: FaithfulnessCurves): AreaSummary[] {
  return MAP_NAMES.flatMap((map) =>
    KINDS.map((kind) => {
      const { mean, standardError } = meanInterval(result.areas[map][kind]);
      return { map, kind, mean, standardError };
    }),
  );
}

/** The mean curve of each map and kind, for the chart. */
export function meanCurves(result: FaithfulnessCurves): { map: MapName; kind: CurveKind; fraction: number; probability: number }[] {
  const points = result.fractions.length;
  return MAP_NAMES.flatMap((map) =>
    KINDS.flatMap((kind) =>
      result.fractions.map((fraction, s) => {
        let sum = 0;
        for (let n = 0; n < result.images; n++) sum += result.curves[map][kind][n * points + s];
        return { map, kind, fraction, probability: sum / result.images };
      }),
    ),
  );
}

/** A paired comparison of two maps on the same images: mean difference of their areas and its standard error. */
export interface PairedDifference {
  kind: CurveKind;
  best: MapName;
  runnerUp: MapName;
  /** |mean area of best - mean area of runner-up|. */
  margin: number;
  standardError: number;
  /** The margin exceeds twice its standard error. */
  beyondNoise: boolean;
}

/**
 * For each kind, the most faithful map (lowest deletion area, highest insertion area) against the next best,
 * with the standard error of the per-image differences (the same images enter both, so pairing removes the
 * images' own spread).
 */
export function mostFaithful(result: FaithfulnessCurves): PairedDifference[] {
  return KINDS.map((kind) => {
    const better = kind === "deletion" ? -1 : 1;
    const ranked = summariseAreas(result)
      .filter((s) => s.kind === kind)
      .sort((a, b) => better * (b.mean - a.mean));
    const [best, runnerUp] = [ranked[0].map, ranked[1].map];
    const diffs = Float64Array.from(result.areas[best][kind], (v, n) => v - result.areas[runnerUp][kind][n]);
    const { mean, standardError } = meanInterval(diffs);
    return { kind, best, runnerUp, margin: Math.abs(mean), standardError, beyondNoise: Math.abs(mean) > 2 * standardError };
  });
}

/** One sentence per kind, from the numbers: which map is most faithful, by how much, and whether that is noise. */
export function faithfulnessConclusion(result: FaithfulnessCurves): string {
  return mostFaithful(result)
    .map((d) => {
      const verdict = d.beyondNoise ? "beyond twice its standard error" : "within twice its standard error, so not a clear lead";
      const dir = d.kind === "deletion" ? "lowest" : "highest";
      return `${d.kind}: the ${d.best} map has the ${dir} mean AUC, ${d.margin.toFixed(4)} ahead of the ${d.runnerUp} map (paired s.e. ${d.standardError.toFixed(4)}, ${verdict})`;
    })
    .join("; ");
}
