/**
 * The depth study: how much of each CIFAR ResNet's accuracy the decomposed layer keeps on the diagonal k1 = k2,
 * across depths. Each network is scored on its own; influential sets of different networks index different
 * features, so they are never compared across depths.
 */
import { ArtifactUnavailableError } from "../artifacts";
import { type LinearLayer, rankFeatures } from "../method";
import { modelDepth } from "../models/summary";
import type { Progress } from "../progress";
import { DEFAULT_SETUP, type ExperimentData, type ExperimentSetup, type LabelledFeatures, loadExperimentData } from "./setup";
import { sweepGrid } from "./sweep";

/** The CIFAR ResNet family in order of depth (resnet110's checkpoint is not in the offline mirror). */
export const DEPTH_MODELS: readonly string[] = ["resnet20", "resnet32", "resnet44", "resnet56", "resnet110"];
/** The k1 = k2 values reported per depth. */
export const DEPTH_KS: readonly number[] = [1, 2, 3, 5, 10];
/** r_A levels for which the smallest sufficient k is reported. */
export const RATIO_THRESHOLDS: readonly number[] = [0.95, 0.99];

export interface DiagonalPoint {
  /** k1 = k2 = k. */
  k: number;
  decomposedAccuracy: number;
  accuracyRatio: number;
  macs: number;
}

export interface DiagonalCurve {
  fullAccuracy: number;
  /** One point per k, in the order asked for. */
  points: DiagonalPoint[];
}

/** A_d and r_A at k1 = k2 = k for each k; one ranking of the training rows serves every k. */
export function diagonalCurve(
  train: LabelledFeatures,
  test: LabelledFeatures,
  layer: LinearLayer,
  ks: readonly number[],
): DiagonalCurve {
  if (ks.length === 0) throw new Error("the diagonal needs at least one k");
  const ranking = rankFeatures(train.features, Math.max(...ks));
  let fullAccuracy = NaN;
  const points = ks.map((k) => {
    const grid = sweepGrid(train, test, layer, [k], [k], ranking);
    fullAccuracy = grid.fullAccuracy;
    const { decomposedAccuracy, accuracyRatio, macs } = grid.cells[0];
    return { k, decomposedAccuracy, accuracyRatio, macs };
  });
  return { fullAccuracy, points };
}

/**
 * The smallest k whose r_A reaches `threshold`, or null when no point does. r_A need not grow with k, so
 * this is the first k that gets there, not the start of a region that stays above it.
 */
export function smallestKReaching(points: readonly DiagonalPoint[], threshold: number): number | null {
  if (!(threshold > 0 && threshold <= 1)) throw new Error(`an r_A threshold must be in (0, 1], got ${threshold}`);
  const reached = points.filter((p) => p.accuracyRatio >= threshold).map((p) => p.k);
  return reached.length === 0 ? null : Math.min(...reached);
}

export interface DepthResult {
  fullAccuracy: number;
  /** Classes c of the final layer (the paper's k2 / c is filters per class over classes). */
  classes: number;
  /** Feature width n (= m). */
  width: number;
  /** Test images behind the accuracies (sets the sampling noise). */
  testRows: number;
  /** The points at the reported ks. */
  rows: DiagonalPoint[];
  /** r_A at every k = 1..m, which the smallest-k search scans. */
  curve: DiagonalPoint[];
  smallestK: { threshold: number; k: number | null }[];
}

/** The depth study's numbers for one network's features. */
export function depthResult(
  data: Pick<ExperimentData, "train" | "test" | "layer">,
  ks: readonly number[] = DEPTH_KS,
  thresholds: readonly number[] = RATIO_THRESHOLDS,
): DepthResult {
  const m = data.train.features.cols;
  const all = Array.from({ length: m }, (_, i) => i + 1);
  const bad = ks.filter((k) => !all.includes(k));
  if (bad.length > 0) throw new Error(`k must be an integer in 1..${m} (the feature width), got ${bad.join(", ")}`);
  const { fullAccuracy, points } = diagonalCurve(data.train, data.test, data.layer, all);
  return {
    fullAccuracy,
    classes: data.layer.classes,
    width: m,
    testRows: data.test.features.rows,
    rows: ks.map((k) => points[k - 1]),
    curve: points,
    smallestK: thresholds.map((threshold) => ({ threshold, k: smallestKReaching(points, threshold) })),
  };
}

export type DepthEntry =
  | { model: string; depth: number; status: "measured"; setup: ExperimentSetup; result: DepthResult }
  | { model: string; depth: number; status: "unavailable"; reason: string };

export interface DepthStudyOptions {
  ks?: readonly number[];
  thresholds?: readonly number[];
  onProgress?: Progress;
  /** Where each model's features come from (default: the feature cache, extracting on a miss). */
  load?: (setup: ExperimentSetup, onProgress?: Progress) => Promise<ExperimentData>;
}

/**
 * Every model in the paper's setup (DEFAULT_SETUP with the given image counts). A model whose checkpoint cannot
 * be obtained offline becomes an "unavailable" entry instead of failing the study; any other error propagates.
 */
export async function runDepthStudy(
  models: readonly string[],
  images: Pick<ExperimentSetup, "trainImages" | "testImages">,
  options: DepthStudyOptions = {},
): Promise<DepthEntry[]> {
  const load = options.load ?? loadExperimentData;
  const entries: DepthEntry[] = [];
  for (const model of models) {
    const depth = modelDepth(model);
    const setup: ExperimentSetup = { ...DEFAULT_SETUP, model, ...images };
    let data: ExperimentData;
    try {
      data = await load(setup, options.onProgress);
    } catch (err) {
      if (!(err instanceof ArtifactUnavailableError)) throw err;
      entries.push({ model, depth, status: "unavailable", reason: err.message });
      continue;
    }
    entries.push({ model, depth, status: "measured", setup, result: depthResult(data, options.ks, options.thresholds) });
  }
  return entries;
}

type Measured = Extract<DepthEntry, { status: "measured" }>;

export function measuredEntries(entries: readonly DepthEntry[]): Measured[] {
  return entries.filter((e): e is Measured => e.status === "measured").sort((a, b) => a.depth - b.depth);
}

export type DepthTrend = "falls" | "rises" | "flat" | "mixed";

/** Direction of a series ordered by depth: monotone falls / rises (ties allowed, not all equal), flat, or mixed. */
export function trendOf(values: readonly number[]): DepthTrend {
  const steps = values.slice(1).map((v, i) => v - values[i]);
  if (steps.every((s) => s === 0)) return "flat";
  if (steps.every((s) => s <= 0)) return "falls";
  if (steps.every((s) => s >= 0)) return "rises";
  return "mixed";
}

/** Binomial standard error of r_A = A_d / A_f over n test images, treating A_f as fixed. */
function ratioStandardError(point: DiagonalPoint, fullAccuracy: number, n: number): number {
  const a = point.decomposedAccuracy;
  return Math.sqrt((a * (1 - a)) / n) / fullAccuracy;
}

/** Whether r_A at each fixed k falls or rises with depth, in words computed from the measured entries. */
export function describeDepthTrend(entries: readonly DepthEntry[], ks: readonly number[] = DEPTH_KS): string {
  const measured = measuredEntries(entries);
  if (measured.length < 2) return "fewer than two depths were measured, so no trend with depth can be stated";
  const shallow = measured[0];
  const deep = measured[measured.length - 1];
  const pointAt = (e: Measured, k: number) => {
    const row = e.result.rows.find((r) => r.k === k);
    if (!row) throw new Error(`k = ${k} was not measured for ${e.model}; run the study with it in ks`);
    return row;
  };
  const perK = ks.map((k) => {
    const ratios = measured.map((e) => pointAt(e, k).accuracyRatio);
    const net = ratios[ratios.length - 1] - ratios[0];
    const se = Math.max(...measured.map((e) => ratioStandardError(pointAt(e, k), e.result.fullAccuracy, e.result.testRows)));
    return { k, trend: trendOf(ratios), ratios, net, se };
  });
  const lines = perK.map(({ k, trend, ratios, net, se }) => {
    const series = ratios.map((r) => r.toFixed(4)).join(" → ");
    const word = trend === "mixed" ? "is not monotone in depth" : trend === "flat" ? "stays the same" : `${trend} with depth`;
    const sign = net >= 0 ? "+" : "";
    return `- k1 = k2 = ${k}: r_A ${word} (${series}); ${deep.model} − ${shallow.model}: ${sign}${net.toFixed(4)}, binomial s.e. of one r_A ≤ ${se.toFixed(4)}`;
  });
  const count = (t: DepthTrend) => perK.filter((p) => p.trend === t).length;
  const n = perK.length;
  const higher = perK.filter((p) => p.net > 0).length;
  const lower = perK.filter((p) => p.net < 0).length;
  const verdict =
    count("falls") === n
      ? "r_A falls with depth at every k"
      : count("rises") === n
        ? "r_A rises with depth at every k"
        : `r_A is monotone in depth at ${count("falls") + count("rises")} of ${n} k values ` +
          `(falls at ${count("falls")}, rises at ${count("rises")}); from ${shallow.model} to ${deep.model} ` +
          `it is higher at ${higher} and lower at ${lower} of ${n}`;
  return `**${verdict}** (depths ${measured.map((e) => e.model).join(" → ")}):\n\n${lines.join("\n")}`;
}
