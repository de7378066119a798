/**
 * Noise ablation (paper Table 8): per test image, overwrite the pooled features at its true class's influential
 * indices (or at every other index) with N(0, 1) samples, and classify with the full final layer. Noise is
 * repeated over seeds and reported as mean and spread; zero fill (Liang et al.'s variant) is deterministic.
 */
import {
  ablateFeatures,
  accuracy,
  type IndexSets,
  type LinearLayer,
  meanInterval,
  type MeanInterval,
  perClassAccuracy,
  predictFull,
} from "../method";
import type { LabelledFeatures } from "./setup";

export type AblationTarget = "influential" | "others";

/** Accuracy of one run: overall and per true class. */
export interface RunAccuracy {
  accuracy: number;
  perClass: Float64Array;
}

/** Several runs of one condition (one per seed) summarised. */
export interface SeededAccuracy {
  /** Mean, per-seed std and the 95 % interval of the mean over the seeds. */
  accuracy: MeanInterval;
  perSeed: number[];
  /** Per-class accuracy averaged over the runs. */
  perClass: Float64Array;
}

export interface NoiseAblationResult {
  seeds: number[];
  original: RunAccuracy;
  noise: Record<AblationTarget, SeededAccuracy>;
  zero: Record<AblationTarget, RunAccuracy>;
}

/** Mean, sample std and 95 % interval of the runs' accuracies, and their per-class accuracies averaged class by class. */
export function aggregateRuns(runs: RunAccuracy[]): SeededAccuracy {
  if (runs.length === 0) throw new Error("aggregateRuns needs at least one run");
  const classes = runs[0].perClass.length;
  if (runs.some((r) => r.perClass.length !== classes)) throw new Error("every run must report the same number of classes");
  const perClass = new Float64Array(classes);
  for (const r of runs) for (let y = 0; y < classes; y++) perClass[y] += r.perClass[y] / runs.length;
  const perSeed = runs.map((r) => r.accuracy);
  return { accuracy: meanInterval(perSeed), perSeed, perClass };
}

function score(test: LabelledFeatures, layer: LinearLayer, features = test.features): RunAccuracy {
  const predictions = predictFull(features, layer);
  return { accuracy: accuracy(predictions, test.labels), perClass: perClassAccuracy(predictions, test.labels, layer.classes) };
}

export function runNoiseAblation(
  test: LabelledFeatures,
  layer: LinearLayer,
  sets: IndexSets,
  seeds: readonly number[],
): NoiseAblationResult {
  if (seeds.length === 0) throw new Error("the noise ablation needs at least one seed; pass e.g. profile.seeds");
  const run = (target: AblationTarget, fill: "normal" | "zero", seed?: number) =>
    score(test, layer, ablateFeatures(test.features, test.labels, sets, { target, fill, seed }));
  const noised = (target: AblationTarget) => aggregateRuns(seeds.map((seed) => run(target, "normal", seed)));
  return {
    seeds: [...seeds],
    original: score(test, layer),
    noise: { influential: noised("influential"), others: noised("others") },
    zero: { influential: run("influential", "zero"), others: run("others", "zero") },
  };
}
