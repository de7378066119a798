/**
 * Notebook 08: every selection rule at the same budget of k features per class, head to head, in both scorings:
 * keep (the paper's decomposed layer, the pretrained weights on each set) and refit (the same sparsity pattern
 * with its weights and biases re-fitted on the training features). Random sets are the floor, reported as a mean
 * with its 95 % interval over seeds; each rule's overlap with Algorithm 1's sets and its time are kept too.
 */
import { accuracy, evaluateDecomposed, type IndexSets, type LinearLayer, type MeanInterval, meanInterval, predictDecomposed, refitSets, type SelectionRule, SELECTION_RULES, selectByRule, setsFromPath, sparsePath } from "../method";
import type { Progress } from "../progress";
import { runNoiseAblation } from "./noise-ablation";
import { IMAGENET_K, type ImageNetDecomposition, type ImageNetSource, tryDecomposeImageNet } from "./imagenet";
import type { LabelledFeatures } from "./setup";

export interface RuleCell {
  rule: SelectionRule;
  k: number;
  /** A_d with the pretrained weights on the sets (random: the mean over seeds, with its interval). */
  keep: number;
  keepInterval: MeanInterval | null;
  /** A_d with the pattern refitted (null when not asked for). */
  refit: number | null;
  refitInterval: MeanInterval | null;
  /** Mean over classes of |S_c ∩ Algorithm 1's S_c| / k. */
  overlap: number;
  /** Milliseconds to choose the sets (all seeds, for random). */
  selectMs: number;
  sets: IndexSets;
  /** Why the rule has no sets at this k (sparse-refit's path gives some class fewer than k features); its scores are NaN. */
  note: string | null;
}

export interface RuleComparisonOptions {
  rules?: readonly SelectionRule[];
  ks: readonly number[];
  /** Draws of the random rule (at least 2 for an interval). */
  randomSeeds: readonly number[];
  /** Also score each pattern refitted (slower: one L-BFGS fit per cell and seed). */
  refit?: boolean;
  /** CSG's gate matrix, for the csg rule (left out of the default rules when absent). */
  gates?: Float32Array;
  /** Algorithm 1's k1 (default: k). */
  k1?: number;
  onProgress?: Progress;
}

const overlapWith = (sets: IndexSets, reference: IndexSets) => sets.reduce((s, set, c) => s + set.filter((j) => reference[c].includes(j)).length / set.length, 0) / sets.length;

/** Every rule (the csg one only with gates) at every k; Algorithm 1 first, the reference of the overlaps. */
export function compareRules(train: LabelledFeatures, test: LabelledFeatures, layer: LinearLayer, opts: RuleComparisonOptions): RuleCell[] {
  const rules = (opts.rules ?? SELECTION_RULES).filter((r) => r !== "csg" || opts.gates !== undefined);
  if (opts.randomSeeds.length === 0 && rules.includes("random")) throw new Error("the random rule needs at least one seed");
  const data = { features: train.features, labels: train.labels, layer };
  const score = (sets: IndexSets) => ({
    keep: evaluateDecomposed(test.features, test.labels, layer, sets).decomposedAccuracy,
    // 150 L-BFGS iterations: the test accuracy no longer moves in its second decimal (the optimum itself is
    // checked against scikit-learn in test/method/rules.test.ts).
    refit: opts.refit ? accuracy(predictDecomposed(test.features, refitSets(train.features, train.labels, layer, sets, { iterations: 150 }).layer, sets), test.labels) : null,
  });
  // One elastic-net path serves every k: it runs until each class has max(ks) features; its time is every
  // sparse-refit cell's selection time.
  const pathStarted = performance.now();
  const path = rules.includes("sparse-refit") ? sparsePath(train.features, train.labels, layer.classes, Math.max(...opts.ks)) : null;
  const pathMs = performance.now() - pathStarted;
  const cells: RuleCell[] = [];
  const total = rules.length * opts.ks.length;
  let done = 0;
  for (const k of opts.ks) {
    const reference = selectByRule("algorithm1", data, { k, k1: opts.k1 });
    for (const rule of rules) {
      const started = performance.now();
      if (rule === "random") {
        const draws = opts.randomSeeds.map((seed) => selectByRule("random", data, { k, seed }));
        const selectMs = performance.now() - started;
        const scores = draws.map(score);
        const keep = meanInterval(scores.map((s) => s.keep));
        const refit = opts.refit ? meanInterval(scores.map((s) => s.refit!)) : null;
        cells.push({ rule, k, keep: keep.mean, keepInterval: keep, refit: refit?.mean ?? null, refitInterval: refit, overlap: draws.reduce((s, d) => s + overlapWith(d, reference), 0) / draws.length, selectMs, sets: draws[0], note: null });
      } else if (rule === "sparse-refit") {
        // The path ends at 1e-3 of lambda_max: where it gives some class fewer than k features, the cell says so.
        let sets: IndexSets | null = null;
        let note: string | null = null;
        try {
          sets = setsFromPath(path!, train.features.cols, k);
        } catch (err) {
          note = (err as Error).message;
        }
        if (sets === null) cells.push({ rule, k, keep: NaN, keepInterval: null, refit: opts.refit ? NaN : null, refitInterval: null, overlap: NaN, selectMs: pathMs, sets: [], note });
        else {
          const s = score(sets);
          cells.push({ rule, k, keep: s.keep, keepInterval: null, refit: s.refit, refitInterval: null, overlap: overlapWith(sets, reference), selectMs: pathMs, sets, note: null });
        }
      } else {
        const sets = rule === "algorithm1" ? reference : selectByRule(rule, data, { k, k1: opts.k1, gates: opts.gates, seed: 0 });
        const selectMs = performance.now() - started;
        const s = score(sets);
        cells.push({ rule, k, keep: s.keep, keepInterval: null, refit: s.refit, refitInterval: null, overlap: overlapWith(sets, reference), selectMs, sets, note: null });
      }
      opts.onProgress?.({ stage: "selection rules", done: ++done, total, unit: "cells" });
    }
  }
  return cells;
}

export interface RuleNoise {
  rule: SelectionRule;
  /** Accuracy with the true class's set noised, and with everything else noised (means over the seeds). */
  influential: MeanInterval;
  others: MeanInterval;
}

/** Table 8's ablation with each rule's sets at one k: how much each set carries, and how much the rest does. */
export function noiseByRule(cells: readonly RuleCell[], k: number, test: LabelledFeatures, layer: LinearLayer, seeds: readonly number[]): RuleNoise[] {
  return cells.filter((c) => c.k === k && c.note === null).map((c) => {
    const result = runNoiseAblation(test, layer, c.sets, seeds);
    return { rule: c.rule, influential: result.noise.influential.accuracy, others: result.noise.others.accuracy };
  });
}

/**
 * The rules on ImageNet's features are a 1000-class, 2,048-wide problem: greedy forward selection (a decomposed
 * accuracy per candidate feature, class and step) and the elastic-net path would take hours each on a CPU, and
 * CSG gates exist for the CIFAR ResNets only, so the ImageNet comparison runs every other rule.
 */
export const IMAGENET_RULES: readonly SelectionRule[] = SELECTION_RULES.filter((r) => r !== "greedy" && r !== "sparse-refit" && r !== "csg");

export interface ImageNetRuleOptions {
  model?: string;
  /** k1 = k2 = k (the paper's ImageNet setting: 50). */
  k?: number;
  /** Training images per class whose features the rules read (the first ones of each class). */
  perClass: number;
  rules?: readonly SelectionRule[];
  randomSeeds: readonly number[];
  refit?: boolean;
  cacheDir?: string;
  onProgress?: Progress;
}

/**
 * Notebook 03's ImageNet setting (the paper's squash, k = 50) with every affordable rule at the same budget, on a
 * class-balanced sample of training features; or why it cannot run (no tree, no weights).
 */
export async function tryCompareRulesImageNet(
  source: ImageNetSource,
  opts: ImageNetRuleOptions,
): Promise<{ cells: RuleCell[]; decomposition: ImageNetDecomposition; reason: null } | { cells: null; decomposition: null; reason: string }> {
  const k = opts.k ?? IMAGENET_K;
  const got = await tryDecomposeImageNet(source, opts.model ?? "resnet50", { k1: k, k2: k, trainPerClass: opts.perClass, cacheDir: opts.cacheDir, onProgress: opts.onProgress });
  const d = got.decomposition;
  if (d === null) return { cells: null, decomposition: null, reason: got.reason ?? "no ImageNet tree" };
  const cells = compareRules({ features: d.trainingFeatures!, labels: d.training.labels }, d.test, d.layer, { rules: opts.rules ?? IMAGENET_RULES, ks: [k], randomSeeds: opts.randomSeeds, refit: opts.refit, onProgress: opts.onProgress });
  return { cells, decomposition: d, reason: null };
}
