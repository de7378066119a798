/**
 * Notebook 09, inside the network (the paper's future work): class-specific filters at every stage, each stage
 * read through a linear probe standing in for its final layer (Algorithm 1's sets, kept and refitted, and the
 * noise ablation per stage), class selectivity per channel, and the class tree the last stage's influential sets
 * imply, with a two-level decomposed layer built from it.
 */
import { CIFAR10_CLASSES } from "../data";
import type { Recipe } from "../data/preprocess";
import type { FileExtraction } from "../features/imagenet";
import { passFinalLayer, preparePass, runImageNetPass } from "../features/imagenet-pass";
import { getStageFeatures, type StageFeatureSet } from "../features/stages";
import type { EngineChoice } from "../models/engines";
import { pickStages } from "../models/spec";
import {
  accuracy,
  adjustedRandIndex,
  averageLinkage,
  cutTree,
  evaluateDecomposed,
  fitProbe,
  type IndexSets,
  influentialSets,
  jaccardMatrix,
  type LinearLayer,
  type MeanInterval,
  type Merge,
  predictDecomposed,
  predictFull,
  predictTwoLevel,
  randomTreeRandIndices,
  refitProbe,
  refitSets,
  restrictedCosineMatrix,
  selectivityIndex,
} from "../method";
import type { Progress } from "../progress";
import { silentProgress } from "../progress";
import type { DataSource } from "./decompose";
import { runNoiseAblation } from "./noise-ablation";
import { type ExperimentData, type ExperimentSetup, type LabelledFeatures, limitFor, loadExperimentData } from "./setup";

/** The network's own final layer with the penultimate features of both splits. */
export type NetworkHead = Pick<ExperimentData, "train" | "test" | "layer">;

export interface StageData {
  setup: ExperimentSetup;
  stages: { name: string; width: number; train: LabelledFeatures; test: LabelledFeatures }[];
  /** The network's own head and penultimate features (the last stage's), from the same caches. */
  network: NetworkHead;
  backend: string;
}

/**
 * Every stage's features for both splits (one extraction pass each, then cached), and the network's own head.
 * `stages`: which of a registry model's stages (default all), or the feature maps of an imported ONNX graph.
 */
export async function loadStageData(setup: ExperimentSetup, onProgress?: Progress, stages?: string[]): Promise<StageData> {
  const trainLimit = limitFor("train", setup.trainImages);
  const testLimit = limitFor("test", setup.testImages);
  const train = await getStageFeatures({ model: setup.model, split: "train", norm: setup.norm, augmentSeed: setup.trainAugmentSeed, limit: trainLimit, onProgress, stages });
  const test = await getStageFeatures({ model: setup.model, split: "test", norm: setup.norm, augmentSeed: null, limit: testLimit, onProgress, stages });
  const labelled = (set: StageFeatureSet, i: number): LabelledFeatures => ({ features: { data: set.stages[i].features, rows: set.count, cols: set.stages[i].width }, labels: set.labels });
  return {
    setup,
    stages: train.stages.map((s, i) => ({ name: s.name, width: s.width, train: labelled(train, i), test: labelled(test, i) })),
    // The stage pass wrote the penultimate caches too, so this reads them.
    network: await loadExperimentData(setup, onProgress),
    backend: train.backend,
  };
}

export interface TreeStageOptions {
  /** A registry name (a torchvision ResNet's stages are layer1-layer4) or an ONNX file (then name its feature maps in `stages`). */
  model: string;
  weights?: string;
  data: Exclude<DataSource, { kind: "cifar10" }>;
  /** Training images per class whose stage features the probes read (the first of each class). */
  perClass: number;
  stages?: string[];
  preprocessing?: string | Recipe;
  norm?: string;
  engine?: EngineChoice;
  cacheDir?: string;
  onProgress?: Progress;
}

/**
 * Stage features on an ImageNet tree or an image folder: the training pass keeps a per-class sample's stage and
 * penultimate features, the validation pass every image's, each cached; with the network's own head.
 */
export async function loadTreeStageData(opts: TreeStageOptions): Promise<StageData> {
  const { data } = opts;
  const base = {
    model: opts.model, weights: opts.weights, root: data.root, layout: data.kind, folder: data.kind === "folder" ? { trainDir: data.trainDir, testDir: data.testDir } : undefined,
    tree: data.tree, preprocessing: opts.preprocessing, norm: opts.norm, engine: opts.engine, cacheDir: opts.cacheDir, onProgress: opts.onProgress,
  };
  const prepared = await preparePass({ ...base, split: "val" });
  const model = prepared.pretrained;
  const stages = opts.stages ?? (model.kind === "registry" ? pickStages(model.spec).map((s) => s.name) : undefined);
  if (stages === undefined) throw new Error(`${opts.model} is a graph without named stages: name the feature maps to probe`);
  const shared = { ...base, pretrained: model, tree: prepared.tree, stages };
  const train = await runImageNetPass({ ...shared, split: "train", perClass: opts.perClass });
  const val = await runImageNetPass({ ...shared, split: "val" });
  const t = train.result;
  const v = val.result;
  const labelled = (r: FileExtraction, i: number): LabelledFeatures => ({ features: { data: r.stages![i].features, rows: r.count, cols: r.stages![i].width }, labels: Int32Array.from(r.labels) });
  return {
    setup: { model: opts.model, norm: opts.norm ?? "checkpoint", trainAugmentSeed: null, trainImages: t.count, testImages: v.count },
    stages: t.stages!.map((s, i) => ({ name: s.name, width: s.width, train: labelled(t, i), test: labelled(v, i) })),
    network: {
      train: { features: { data: t.features!, rows: t.count, cols: t.width }, labels: Int32Array.from(t.labels) },
      test: { features: { data: v.features!, rows: v.count, cols: v.width }, labels: Int32Array.from(v.labels) },
      layer: passFinalLayer(val),
    },
    backend: train.backend ?? val.backend ?? "cached",
  };
}

export interface StageCell {
  k: number;
  /** A_d with the probe's weights kept on Algorithm 1's sets, and refitted on them. */
  keep: number;
  refit: number | null;
}

export interface StageResult {
  stage: string;
  width: number;
  /** Test accuracy of the stage's probe (its A_f) and its training accuracy. */
  probeAccuracy: number;
  probeTrainAccuracy: number;
  cells: StageCell[];
  /** Class selectivity of each channel, and whether it is in some class's set at the noise k. */
  selectivity: Float64Array;
  inSomeSet: boolean[];
  /** Table 8's ablation through the probe at the noise k: accuracy with each image's class set noised, and the rest. */
  noise: { influential: MeanInterval; others: MeanInterval; original: number };
  probe: LinearLayer;
}

export interface StageAnalysisOptions {
  ks: readonly number[];
  /** Score each set refitted too (one probe refit per stage and k). */
  refit: boolean;
  noiseK: number;
  noiseSeeds: readonly number[];
  /** Penalty of the probes (default 1e-3 on the scaled features). */
  l2?: number;
  onProgress?: Progress;
}

/** Per stage: the probe, Algorithm 1's sets (k1 = k2 = k) scored kept and refitted, selectivity and the noise ablation. */
export function analyseStages(data: StageData, opts: StageAnalysisOptions): StageResult[] {
  const onProgress = opts.onProgress ?? silentProgress;
  const classes = data.network.layer.classes;
  for (const s of data.stages) {
    for (const k of [...opts.ks, opts.noiseK]) {
      if (!Number.isInteger(k) || k < 1 || k > s.width) throw new Error(`k = ${k} does not fit stage ${s.name}, which has ${s.width} channels; use k from 1 to ${s.width} or leave the stage out`);
    }
  }
  const total = data.stages.length * (1 + opts.ks.length);
  let done = 0;
  const step = (what: string) => onProgress({ stage: `stages of ${data.setup.model}: ${what}`, done: ++done, total, unit: "fits" });
  return data.stages.map((s) => {
    const fitted = fitProbe(s.train.features, s.train.labels, classes, { l2: opts.l2 });
    step(`${s.name} probe`);
    const probe = fitted.layer;
    const setsAt = (k: number) => influentialSets(s.train.features, s.train.labels, { classes, k1: k, k2: k }).sets;
    const cells = opts.ks.map((k) => {
      const sets = setsAt(k);
      const keep = evaluateDecomposed(s.test.features, s.test.labels, probe, sets).decomposedAccuracy;
      const refit = opts.refit ? accuracy(predictDecomposed(s.test.features, refitProbe(fitted, s.train.features, s.train.labels, sets, { l2: opts.l2 }), sets), s.test.labels) : null;
      step(`${s.name} k = ${k}`);
      return { k, keep, refit };
    });
    const noiseSets = setsAt(opts.noiseK);
    const members = new Set(noiseSets.flat());
    const noise = runNoiseAblation(s.test, probe, noiseSets, opts.noiseSeeds);
    return {
      stage: s.name,
      width: s.width,
      probeAccuracy: accuracy(predictFull(s.test.features, probe), s.test.labels),
      probeTrainAccuracy: accuracy(predictFull(s.train.features, probe), s.train.labels),
      cells,
      selectivity: selectivityIndex(s.train.features, s.train.labels, classes),
      inSomeSet: Array.from({ length: s.width }, (_, j) => members.has(j)),
      noise: { influential: noise.noise.influential.accuracy, others: noise.noise.others.accuracy, original: noise.original.accuracy },
      probe,
    };
  });
}

/** The network's own final layer read by Algorithm 1 (k1 = k2 = k, the paper's setting), beside the last stage's probe. */
export interface HeadCells {
  fullAccuracy: number;
  cells: { k: number; keep: number; sets: IndexSets }[];
}

export function headCells(network: NetworkHead, ks: readonly number[]): HeadCells {
  const { train, test, layer } = network;
  const cells = ks.map((k) => {
    const sets = influentialSets(train.features, train.labels, { classes: layer.classes, k1: k, k2: k }).sets;
    return { k, keep: evaluateDecomposed(test.features, test.labels, layer, sets).decomposedAccuracy, sets };
  });
  return { fullAccuracy: accuracy(predictFull(test.features, layer), test.labels), cells };
}

/** CIFAR-10's known grouping: vehicles (airplane, automobile, ship, truck) 0, the six animals 1. */
export const CIFAR10_VEHICLES: readonly number[] = CIFAR10_CLASSES.map((c) => (["airplane", "automobile", "ship", "truck"].includes(c) ? 0 : 1));

export interface ClassTree {
  similarity: "jaccard" | "cosine";
  /** classes x classes. */
  matrix: Float64Array;
  merges: Merge[];
  /** The tree cut into as many groups as the known grouping has, and its ARI against it. */
  groups: Int32Array;
  ari: number;
  /** ARI of random trees: their values, and the share at or above this tree's. */
  randomAri: number[];
  pValue: number;
}

/** The class tree from the sets at the last stage (the network's own head), by Jaccard of S_y and by restricted cosine. */
export function classTrees(sets: IndexSets, layer: LinearLayer, truth: readonly number[], randomTrees = 1000): ClassTree[] {
  const n = layer.classes;
  const groups = new Set(truth).size;
  const randomAri = randomTreeRandIndices(truth, randomTrees);
  return (["jaccard", "cosine"] as const).map((similarity) => {
    const matrix = similarity === "jaccard" ? jaccardMatrix(sets) : restrictedCosineMatrix(layer, sets);
    const merges = averageLinkage(matrix.map((v) => 1 - v), n);
    const cut = cutTree(merges, n, groups);
    const ari = adjustedRandIndex(cut, truth);
    return { similarity, matrix, merges, groups: cut, ari, randomAri, pValue: randomAri.filter((r) => r >= ari - 1e-12).length / randomAri.length };
  });
}

export interface TwoLevelCell {
  /** Features per group (the group head) and per class (within the group). */
  groupK: number;
  k: number;
  accuracy: number;
  /** Mean multiply-adds per image. */
  macs: number;
}

/**
 * The two-level decomposed layer over `groupOf`: the group from a head refitted on each group's Algorithm 1 set
 * (no pretrained group head exists), then the class from the network's weights on S_y within the group.
 */
export function twoLevelLayers(train: LabelledFeatures, test: LabelledFeatures, layer: LinearLayer, groupOf: Int32Array, groupKs: readonly number[], ks: readonly number[]): TwoLevelCell[] {
  const groups = Math.max(...groupOf) + 1;
  const groupLabels = Int32Array.from(train.labels, (y) => groupOf[y]);
  const m = layer.features;
  const cells: TwoLevelCell[] = [];
  for (const groupK of groupKs) {
    const groupSets = influentialSets(train.features, groupLabels, { classes: groups, k1: groupK, k2: groupK }).sets;
    const zero: LinearLayer = { weight: new Float32Array(groups * m), bias: new Float32Array(groups), classes: groups, features: m };
    const groupLayer = refitSets(train.features, groupLabels, zero, groupSets, { iterations: 150 }).layer;
    for (const k of ks) {
      const classSets = influentialSets(train.features, train.labels, { classes: layer.classes, k1: k, k2: k }).sets;
      const { predictions, macs } = predictTwoLevel(test.features, { groupOf, groupLayer, groupSets, classLayer: layer, classSets });
      cells.push({ groupK, k, accuracy: accuracy(predictions, test.labels), macs });
    }
  }
  return cells;
}
