/**
 * Noise ablation: overwrite, in each row, either its true class's influential features or all the
 * others, with N(0, 1) samples or zeros. If S_y carries the class evidence, the first hurts accuracy and
 * the second barely does. Returns a new matrix; every entry not overwritten is copied bit for bit.
 */
import { normalSampler } from "./random";
import { FeatureMatrix, IndexSets, Labels } from "./types";
import { validateFeatures, validateIndexSets, validateLabels } from "./validate";

export interface AblationOptions {
  /** "influential": overwrite S_y of the row's true class y; "others": overwrite every feature outside S_y. */
  target: "influential" | "others";
  /** "normal": N(0, 1) samples; "zero": 0. */
  fill: "normal" | "zero";
  /** Required for fill "normal": samples are drawn row by row, ascending feature index within a row. */
  seed?: number;
}

export function ablateFeatures(
  features: FeatureMatrix,
  labels: Labels,
  sets: IndexSets,
  options: AblationOptions,
): FeatureMatrix {
  const { target, fill, seed } = options;
  if (target !== "influential" && target !== "others") {
    throw new Error(`ablation target must be "influential" or "others", got ${JSON.stringify(target)}`);
  }
  if (fill !== "normal" && fill !== "zero") {
    throw new Error(`ablation fill must be "normal" or "zero", got ${JSON.stringify(fill)}`);
  }
  if (fill === "normal" && seed === undefined) {
    throw new Error('ablation with fill "normal" needs an integer seed so runs are reproducible');
  }
  validateFeatures(features);
  const { rows, cols } = features;
  validateIndexSets(sets, sets.length, cols);
  validateLabels(labels, rows, sets.length);

  const overwritten = sets.map((set) => {
    const inSet = new Uint8Array(cols);
    for (const j of set) inSet[j] = 1;
    const chosen: number[] = [];
    for (let j = 0; j < cols; j++) if ((inSet[j] === 1) === (target === "influential")) chosen.push(j);
    return Int32Array.from(chosen);
  });
  const sample = fill === "normal" ? normalSampler(seed as number) : () => 0;
  const data = features.data.slice();
  for (let i = 0; i < rows; i++) {
    const base = i * cols;
    const chosen = overwritten[labels[i]];
    for (let r = 0; r < chosen.length; r++) data[base + chosen[r]] = sample();
  }
  return { data, rows, cols };
}
