/**
 * How much a headline number depends on its seed: A_d of Algorithm 1 over several augmentation seeds of the
 * training pass (notebook 02), and the fine-tuned A_d over several fine-tune seeds (notebook 04), each summarised
 * as mean, per-seed std and the 95 % interval of the mean, with the paper's value placed against it.
 */
import { evaluateDecomposed, influentialSets, meanInterval, type MeanInterval } from "../method";
import type { Progress } from "../progress";
import { PAPER, type PaperKey } from "../report/paper";
import { PAPER_COLUMN, type TableSource } from "../report/table";
import { formatInterval, paperVersusInterval } from "./noise-report";
import { type ExperimentSetup, loadExperimentData } from "./setup";
import { plainTable } from "./sweep-report";

/** A seeded quantity: one value per seed and their summary. */
export interface SeedSpread {
  label: string;
  seeds: number[];
  /** Accuracies as fractions, one per seed. */
  values: number[];
  summary: MeanInterval;
  /** The paper's value of the same quantity, when the paper reports one. */
  paper?: PaperKey;
}

export function seedSpread(label: string, seeds: number[], values: number[], paper?: PaperKey): SeedSpread {
  if (seeds.length !== values.length || seeds.length === 0) throw new Error(`${label}: ${seeds.length} seeds for ${values.length} values; give one value per seed`);
  return { label, seeds, values, summary: meanInterval(values), paper };
}

/**
 * A_d at each (k1, k2) in `ks` with Algorithm 1 run on training images augmented with each seed in turn
 * (one cached extraction per seed); the test features are the same plain ones for every seed.
 */
export async function augmentSeedSpread(
  setup: ExperimentSetup,
  seeds: readonly number[],
  ks: readonly { k1: number; k2: number; paper?: PaperKey }[],
  onProgress?: Progress,
): Promise<SeedSpread[]> {
  if (seeds.length === 0) throw new Error("the augmentation-seed spread needs at least one seed; pass e.g. profile.augmentSeeds");
  for (const s of seeds) if (!Number.isInteger(s) || s < 0) throw new Error(`augmentation seeds must be non-negative integers, got ${s}`);
  const perSeed: number[][] = ks.map(() => []);
  for (const seed of seeds) {
    const data = await loadExperimentData({ ...setup, trainAugmentSeed: seed }, onProgress);
    ks.forEach(({ k1, k2 }, i) => {
      const { sets } = influentialSets(data.train.features, data.train.labels, { classes: data.layer.classes, k1, k2 });
      perSeed[i].push(evaluateDecomposed(data.test.features, data.test.labels, data.layer, sets).decomposedAccuracy);
    });
  }
  return ks.map(({ k1, k2, paper }, i) => seedSpread(`A_d, k1 = ${k1}, k2 = ${k2}`, [...seeds], perSeed[i], paper));
}

/** One row per quantity: every seed's value, the summary with its interval, the paper's value and where it falls. */
export function seedSpreadTable(spreads: SeedSpread[], paperApplies: boolean): TableSource {
  const seeds = spreads[0]?.seeds ?? [];
  if (spreads.some((s) => s.seeds.join() !== seeds.join())) throw new Error("every row of a seed-spread table needs the same seeds");
  return plainTable(
    ["quantity", ...seeds.map((s) => `seed ${s} (%)`), "mean ± per-seed std [95 % interval] (%)", "range (%)", PAPER_COLUMN, "paper's value vs our interval"],
    spreads.map((s) => {
      const paper = paperApplies && s.paper ? PAPER[s.paper].value : null;
      const lo = Math.min(...s.values);
      const hi = Math.max(...s.values);
      return [
        s.label,
        ...s.values.map((v) => 100 * v),
        formatInterval(s.summary),
        `${(100 * lo).toFixed(2)} .. ${(100 * hi).toFixed(2)}`,
        paper,
        paper === null ? "" : paperVersusInterval(paper, s.summary),
      ];
    }),
  );
}
