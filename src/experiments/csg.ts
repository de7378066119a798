/**
 * Notebook 01 and `decomp csg` (paper Table 1): CSG training of a pretrained CIFAR ResNet, its STD and CSG path
 * accuracy, G's density and the mutual information score of the network's pooled test features before and
 * after; then CSG's per-class channels (the k largest gates of G[y]) against Algorithm 1's S_y on the same
 * network: overlap, decomposed accuracy, noise ablation and the channels' MI with the class.
 */
import { getNormalisation, type ImageSet, mulberry32 } from "../data";
import type { Recipe } from "../data/preprocess";
import { TINY_IMAGENET_URL } from "../data/tiny-imagenet";
import { scanTree } from "../data/trees";
import { extractWithWeights } from "../features/extract";
import {
  channelClassMutualInfo,
  evaluateDecomposed,
  type FeatureMatrix,
  type GateMatrix,
  type IndexSets,
  influentialSets,
  type Labels,
  type LinearLayer,
  l1Density,
  mutualInformationScore,
  setOverlap,
  topGateSets,
} from "../method";
import { loadPretrained, type Pretrained } from "../models/pretrained";
import type { ModelSpec } from "../models/spec";
import type { Progress } from "../progress";
import type { StateDict } from "../torch";
import { type CsgHyperparameters, type CsgResult, type CsgStart, fileEvaluation, fileTraining, initialStateDict, resolveCsgHyperparameters, resolveCsgOptions, trainCsg } from "../training";
import { cifarModelEntry, modelEntry } from "../models/registry";

import type { DataSource } from "./decompose";
import { spreadSubset } from "./imagenet";
import { runNoiseAblation } from "./noise-ablation";
import { loadRetrainingImages } from "./retraining";
import { DEFAULT_SETUP } from "./setup";

export interface CsgExperimentOptions {
  model: string;
  /** Input normalisation (default: DEFAULT_SETUP's, the CIFAR statistics). */
  norm?: string;
  /** The first N training images are trained on; the first N test images evaluate. */
  trainImages: number;
  testImages: number;
  from?: CsgStart;
  hyperparameters?: Partial<CsgHyperparameters>;
  cacheDir?: string;
  onProgress?: Progress;
}

/** One network's pooled test features and what the MI estimator says of them. */
export interface FeatureReport {
  features: FeatureMatrix;
  /** classes x channels: MI of each channel with each class's indicator (scikit-learn's estimator, 3 neighbours). */
  mi: Float64Array;
  /** Mean over channels of the largest MI over classes. */
  mis: number;
}

export interface CsgExperiment {
  model: string;
  norm: string;
  spec: ModelSpec;
  /** The published checkpoint (null when training from scratch a model that has none). */
  pretrained: Pretrained | null;
  /** The weights training started from: the checkpoint's, or the seeded initial ones from scratch. */
  startWeights: StateDict;
  result: CsgResult;
  images: { train: ImageSet; test: ImageSet; trainSplit: number };
  testLabels: Labels;
  before: FeatureReport;
  after: FeatureReport;
  density: number;
}

/** Pooled features of `images` under the given weights (eval-mode BatchNorm). */
export async function featuresOf(spec: ModelSpec, stateDict: StateDict, images: ImageSet, norm: string, augmentSeed: number | null, onProgress?: Progress): Promise<FeatureMatrix> {
  const stage = `extract ${spec.name} features (${images.count} images${augmentSeed === null ? "" : `, augmented seed ${augmentSeed}`})`;
  const { features } = await extractWithWeights(spec, stateDict, images, { norm, augmentSeed, onProgress, stage });
  return { data: features, rows: images.count, cols: spec.featureWidth };
}

export function featureReport(features: FeatureMatrix, labels: Labels, classes: number): FeatureReport {
  const mi = channelClassMutualInfo(features, labels, classes);
  return { features, mi, mis: mutualInformationScore(mi, classes, features.cols) };
}

export async function runCsgExperiment(o: CsgExperimentOptions): Promise<CsgExperiment> {
  const norm = o.norm ?? DEFAULT_SETUP.norm;
  const entry = cifarModelEntry(o.model, "CSG training on CIFAR-10");
  const from = o.from ?? "pretrained";
  // The hyperparameters are checked against the architecture before the checkpoint or any image is read.
  const h = resolveCsgHyperparameters(entry.buildSpec(), { ...o.hyperparameters, from });
  getNormalisation(norm);
  // From scratch, a model without published weights needs none; one with them keeps its checkpoint for reference.
  const pretrained = from === "scratch" && entry.checkpointArtifact === null ? null : await loadPretrained(o.model, { onProgress: o.onProgress });
  const spec = pretrained?.spec ?? entry.buildSpec();
  const startWeights = from === "pretrained" ? pretrained!.stateDict : initialStateDict(spec, h.seed);
  const images = await loadRetrainingImages(o.trainImages, o.testImages, o.onProgress);
  const options = {
    spec, stateDict: pretrained?.stateDict, from, train: images.train, test: images.test, norm, cacheDir: o.cacheDir, onProgress: o.onProgress,
    ...o.hyperparameters,
  };
  // The images are checked here, before the first extraction.
  resolveCsgOptions(options);
  const before = featureReport(await featuresOf(spec, startWeights, images.test, norm, null, o.onProgress), images.test.labels, spec.classes);
  const result = await trainCsg(options);
  // The trainer's last evaluation already extracted the trained network's test features, unless it had nothing to train.
  const trained = result.testFeatures === undefined
    ? await featuresOf(spec, result.stateDict, images.test, norm, null, o.onProgress)
    : { data: result.testFeatures, rows: images.test.count, cols: spec.featureWidth };
  const after = featureReport(trained, images.test.labels, spec.classes);
  return {
    model: o.model, norm, spec, pretrained, startWeights, result, images: { train: images.train, test: images.test, trainSplit: images.trainSplitImages },
    testLabels: images.test.labels, before, after, density: l1Density(result.gates.data),
  };
}

/** One network, seen through both families of per-class channel sets at one k. */
export interface SetComparison {
  network: string;
  k: number;
  /** Channels the sets are drawn from (the feature width). */
  channels: number;
  /** Per class |CSG top-k ∩ S_y| and the total over the classes (out of k x classes). */
  overlap: { perClass: number[]; total: number };
  /** A_f and A_d of the decomposed layer with each family of sets, on the test features. */
  fullAccuracy: number;
  decomposed: { algorithm1: number; csg: number };
  /** Full-layer accuracy with each family's channels (of the true class) replaced by N(0, 1) noise, mean over seeds. */
  noised: { algorithm1: number; csg: number };
  /** Per class: mean MI of the set's channels with the class indicator (classes entries), and their mean. */
  mi: { algorithm1: number[]; csg: number[]; meanAlgorithm1: number; meanCsg: number };
  sets: { algorithm1: number[][]; csg: number[][] };
}

export interface NetworkFeatures {
  network: string;
  train: { features: FeatureMatrix; labels: Labels };
  test: FeatureReport & { labels: Labels };
  layer: LinearLayer;
}

function setMi(mi: Float64Array, sets: IndexSets, channels: number): number[] {
  return sets.map((s, y) => s.reduce((sum, j) => sum + mi[y * channels + j], 0) / s.length);
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/**
 * CSG's channels (the k largest gates of each class) against Algorithm 1's S_y (k1 = k2 = k, on the network's
 * training features) for every k, on one network.
 */
export function compareWithAlgorithm1(net: NetworkFeatures, gates: GateMatrix, ks: number[], noiseSeeds: readonly number[]): SetComparison[] {
  const { classes } = net.layer;
  return ks.map((k) => {
    const algorithm1 = influentialSets(net.train.features, net.train.labels, { classes, k1: k, k2: k }).sets.map((s) => [...s]);
    const csg = topGateSets(gates, k);
    const test = { features: net.test.features, labels: net.test.labels };
    const evalA = evaluateDecomposed(test.features, test.labels, net.layer, algorithm1);
    const evalC = evaluateDecomposed(test.features, test.labels, net.layer, csg);
    const noisedA = runNoiseAblation(test, net.layer, algorithm1, noiseSeeds).noise.influential.accuracy.mean;
    const noisedC = runNoiseAblation(test, net.layer, csg, noiseSeeds).noise.influential.accuracy.mean;
    const miA = setMi(net.test.mi, algorithm1, net.layer.features);
    const miC = setMi(net.test.mi, csg, net.layer.features);
    return {
      network: net.network, k, channels: net.layer.features, overlap: setOverlap(csg, algorithm1), fullAccuracy: evalA.fullAccuracy,
      decomposed: { algorithm1: evalA.decomposedAccuracy, csg: evalC.decomposedAccuracy },
      noised: { algorithm1: noisedA, csg: noisedC },
      mi: { algorithm1: miA, csg: miC, meanAlgorithm1: mean(miA), meanCsg: mean(miC) },
      sets: { algorithm1, csg },
    };
  });
}

export interface TreeCsgOptions {
  /** A torchvision family model of the registry (Table 1's rows: resnet18, resnet34). */
  model: string;
  data: Exclude<DataSource, { kind: "cifar10" }>;
  /**
   * from pretrained: the starting weights (default: the registry's ImageNet checkpoint). A head whose classes
   * differ from the tree's is replaced by a new one, drawn as PyTorch initialises nn.Linear (seeded).
   */
  weights?: string;
  from?: CsgStart;
  hyperparameters?: Partial<CsgHyperparameters>;
  /** Input normalisation (default: checkpoint, ImageNet's statistics). */
  norm?: string;
  /** Square input side (default: 64 for Tiny ImageNet, as its images come; the model's crop for other trees). */
  side?: number;
  /** Every step-th image so that about this many train / evaluate (all classes kept). */
  trainImages?: number;
  testImages?: number;
  cacheDir?: string;
  onProgress?: Progress;
  /** Stops between batches, keeping the last epoch's checkpoint; a new call resumes from it. */
  signal?: AbortSignal;
}

export interface TreeCsgExperiment {
  model: string;
  norm: string;
  spec: ModelSpec;
  classes: string[];
  /** Whether the starting head was replaced (ImageNet's 1,000 classes against the tree's). */
  newHead: boolean;
  result: CsgResult;
  images: { train: number; test: number };
  before: FeatureReport;
  after: FeatureReport;
  density: number;
}

/**
 * A head of `classes` rows for `features` inputs as torch.nn.Linear draws it: weight and bias uniform in
 * +-1/sqrt(features) (kaiming_uniform with a = sqrt(5) gives that bound), from a seeded stream.
 */
export function freshHead(classes: number, features: number, seed: number): { weight: Float32Array; bias: Float32Array } {
  const rng = mulberry32(seed);
  const bound = 1 / Math.sqrt(features);
  const draw = (n: number) => Float32Array.from({ length: n }, () => (2 * rng() - 1) * bound);
  return { weight: draw(classes * features), bias: draw(classes) };
}

/**
 * Table 1's Tiny ImageNet rows (or CSG on any image tree): CSG training of a torchvision ResNet on the tree's
 * training images (decoded and augmented on worker threads), its STD and CSG path accuracy on the validation
 * images, G's density and the MIS of the pooled validation features before and after. Everything is checked
 * (model, tree layout, hyperparameters, weights against the architecture) before the first image is decoded.
 */
export async function runCsgOnTree(o: TreeCsgOptions): Promise<TreeCsgExperiment> {
  const entry = modelEntry(o.model);
  if (entry.kind !== "torchvision") throw new Error(`${o.model} is a CIFAR ResNet: it trains on CIFAR-10 (leave the data out); image trees take torchvision's models (resnet18, resnet34, ...)`);
  const norm = o.norm ?? "checkpoint";
  getNormalisation(norm);
  const tree = o.data.tree ?? scanTree(o.data.root, o.data.kind, o.data.kind === "folder" ? o.data : undefined);
  for (const split of ["train", "val"] as const) if (tree.splits[split] === undefined) throw new Error(`${tree.root} has no ${split} split; CSG trains on train/ and evaluates on val/`);
  const side = o.side ?? (o.data.kind === "tiny-imagenet" ? 64 : entry.preset.crop);
  const spec = entry.buildSpec(tree.classes.length, side);
  const from = o.from ?? "pretrained";
  let stateDict: StateDict | undefined;
  let newHead = false;
  if (from === "pretrained") {
    const start = await loadPretrained(o.model, { weights: o.weights, cacheDir: o.cacheDir, onProgress: o.onProgress });
    stateDict = new Map(start.stateDict);
    if (start.spec.classes !== spec.classes) {
      newHead = true;
      const head = freshHead(spec.classes, spec.featureWidth, o.hyperparameters?.seed ?? 0);
      stateDict.set(`${entry.headParam}.weight`, { shape: [spec.classes, spec.featureWidth], data: head.weight });
      stateDict.set(`${entry.headParam}.bias`, { shape: [spec.classes], data: head.bias });
    }
  }
  // A new head starts untrained: the original code's 10 warm-up epochs of the STD path come first, then CSG.
  const hyperparameters = newHead ? { warmupEpochs: 10, epochs: 20, ...o.hyperparameters } : o.hyperparameters;
  const recipe: Recipe = { kind: "squash", size: side, interpolation: "bilinear" };
  const train = fileTraining(spreadSubset(tree.splits.train!, o.trainImages), recipe);
  const test = fileEvaluation(spreadSubset(tree.splits.val!, o.testImages), recipe);
  const options = { spec, stateDict, from, train, test, norm, cacheDir: o.cacheDir, onProgress: o.onProgress, signal: o.signal, ...hyperparameters };
  const h = resolveCsgOptions(options);
  const labels = Int32Array.from(test.labels);
  const first = stateDict ?? initialStateDict(spec, h.seed);
  const before = featureReport({ data: (await test.forward(spec, first, norm, o.onProgress, `extract ${spec.name} features before CSG`)).features, rows: test.count, cols: spec.featureWidth }, labels, spec.classes);
  const result = await trainCsg(options);
  const trained = result.testFeatures ?? (await test.forward(spec, result.stateDict, norm, o.onProgress)).features;
  const after = featureReport({ data: trained, rows: test.count, cols: spec.featureWidth }, labels, spec.classes);
  return { model: o.model, norm, spec, classes: tree.classes, newHead, result, images: { train: train.count, test: test.count }, before, after, density: l1Density(result.gates.data) };
}

/** Where notebook 01's Tiny ImageNet rows read from: the folder or zip named by this variable. */
export const TINY_IMAGENET_ENV = "DECOMP_TINY_IMAGENET";

export type TinyImageNetSource =
  | { available: true; data: Extract<DataSource, { kind: "tiny-imagenet" }>; reason: null }
  | { available: false; reason: string };

/** Tiny ImageNet for the notebooks (read and checked), or exactly what is missing and how to supply it. */
export function tinyImageNetSource(env: Record<string, string | undefined> = process.env): TinyImageNetSource {
  const root = env[TINY_IMAGENET_ENV];
  if (root === undefined || root === "") {
    return { available: false, reason: `${TINY_IMAGENET_ENV} is not set: point it at the tiny-imagenet-200 folder or at tiny-imagenet-200.zip (${TINY_IMAGENET_URL}) and rerun` };
  }
  try {
    return { available: true, data: { kind: "tiny-imagenet", root, tree: scanTree(root, "tiny-imagenet") }, reason: null };
  } catch (err) {
    return { available: false, reason: `${TINY_IMAGENET_ENV}=${root}: ${(err as Error).message}` };
  }
}
