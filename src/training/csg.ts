/**
 * Class-specific gate training (CSG; Liang et al., ECCV 2020), the baseline of the paper's Table 1, as the
 * original code (hyliang96/CSGCNN) defines it: one network, two paths. STD epochs train the plain network on
 * cross-entropy. CSG epochs multiply the pooled features of an image of class y by G[y] and train on the
 * cross-entropy of that path plus lambda * max(0, ||G||_1 - density * classes * channels), with their own
 * optimiser over G and the top of the network; after every CSG step each channel's gate column is divided by
 * its largest value and clamped to [0, 1]. Epoch e is a CSG epoch when e >= warmupEpochs and
 * e % period >= csgPhase (the original: 10, 3, 2, so one epoch in three after the warm-up).
 *
 * A checkpoint (weights, both optimisers, G, history) is written atomically after each epoch and picked up by a
 * later call with the same configuration, as fineTune does. The epoch count is part of that configuration (the
 * lr milestones are fractions of it), so a run with more epochs starts afresh.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { CorruptFileError, readOrHeal, resolveCacheDir } from "../artifacts";
import { readTensorFile, writeTensorFile } from "../artifacts/tensor-file";
import { type ImageSet, deriveSeed } from "../data";
import {
  accuracy,
  checkDensity,
  checkLambda,
  densityHinge,
  gatedLogits,
  type GateMatrix,
  gateRows,
  initialGates,
  INITIAL_GATE,
  l1Density,
  predictFromLogits,
  renormaliseGates,
  scatterGateGradient,
  validateGates,
} from "../method";
import type { ModelSpec } from "../models/spec";
import { type Progress, silentProgress } from "../progress";
import type { StateDict } from "../torch";
import { ADAM_DEFAULTS, type AdamState, adamStep, createAdamState } from "./adam";
import { initialStateDict } from "./init";
import { epochBatches, type EvaluationImages, inMemoryEvaluation, inMemoryTraining, type TrainingImages } from "./images";
import { applyBatchStats, checkpointTensors, runKey, shuffledOrder, unpackCheckpoint } from "./loop";
import { batchNormLayers, copyStateDict, headLayer, trainableNames } from "./params";
import { SGD_DEFAULTS, sgdStep } from "./sgd";
import type { TrainStepResult } from "./tfjs-train-step";
import { checkThreads, createTrainEngine, type TrainEngine, type TrainEngineChoice, trainEngineFromEnv } from "./train-engine";

export type CsgStart = "pretrained" | "scratch";
export type CsgOptimiser = "adam" | "sgd";
/** Which parameters a path's optimiser updates: the last N top-level modules that hold parameters, or all. */
export type LearnableModules = number | "all";

export interface CsgHyperparameters {
  /** Training epochs in all, STD and CSG together. */
  epochs: number;
  /** Leading epochs that are all STD. */
  warmupEpochs: number;
  /** Length of the STD/CSG alternation, in epochs. */
  period: number;
  /** Epochs e with e % period >= csgPhase (after the warm-up) are CSG epochs. */
  csgPhase: number;
  /** The hinge's density target d in (0, 1]. */
  density: number;
  /** Weight of the density hinge (>= 0). */
  lambda: number;
  optimiser: CsgOptimiser;
  /** Learning rate of the STD epochs' optimiser and of the CSG epochs' one. */
  stdLr: number;
  csgLr: number;
  /** Fractions of `epochs` at which each path's lr is multiplied by lrGamma, counted in that path's own epochs. */
  lrMilestones: number[];
  lrGamma: number;
  stdModules: LearnableModules;
  csgModules: LearnableModules;
  /** Every gate's value before training. */
  initialGate: number;
  batchSize: number;
  seed: number;
}

/**
 * The original code's values (run.py: Adam, lr 1e-5 / 1e-3, lambda 1e-3, density 0.2, warm-up 10, period 3,
 * CSG when epoch % 3 >= 2; five / four of ResNet152's last children learnable, i.e. the last two residual
 * stages and the head on STD epochs, the last stage, the head and G on CSG epochs). From a checkpoint already
 * trained on the same data the warm-up has nothing left to do, so it is 0 there; from scratch it is the
 * CIFAR recipe's SGD 0.1 with every parameter learnable.
 */
export function csgDefaults(start: CsgStart): CsgHyperparameters {
  const shared = { period: 3, csgPhase: 2, density: 0.2, lambda: 1e-3, lrMilestones: [0.4, 0.6, 0.8], lrGamma: 0.1, initialGate: INITIAL_GATE, batchSize: 64, seed: 0 };
  return start === "pretrained"
    ? { ...shared, epochs: 6, warmupEpochs: 0, optimiser: "adam", stdLr: 1e-5, csgLr: 1e-3, stdModules: 3, csgModules: 2 }
    : { ...shared, epochs: 200, warmupEpochs: 10, optimiser: "sgd", stdLr: SGD_DEFAULTS.lr, csgLr: SGD_DEFAULTS.lr, stdModules: "all", csgModules: "all" };
}

export interface CsgOptions extends Partial<CsgHyperparameters> {
  spec: ModelSpec;
  /** Starting weights for `from: "pretrained"` (not modified); ignored from scratch, where `seed` draws them. */
  stateDict?: StateDict;
  from?: CsgStart;
  /** Starting gates instead of initialGate everywhere (classes x channels, entries in [0, 1]). */
  gates?: GateMatrix;
  /** In-memory CIFAR images (pad-crop-flip augmentation) or TrainingImages (e.g. fileTraining over a Tiny ImageNet split). */
  train: ImageSet | TrainingImages;
  /** Evaluated (eval-mode BN) before training and after every epoch, on both paths. */
  test: ImageSet | EvaluationImages;
  norm: string;
  cacheDir?: string;
  resume?: boolean;
  onProgress?: Progress;
  signal?: AbortSignal;
  engine?: TrainEngineChoice;
  /** ONNX Runtime's threads inside one operator (TrainEngineOptions.intraOpThreads); default every core. */
  intraOpThreads?: number;
}

export type CsgPath = "std" | "csg";

export interface CsgEpochLog {
  epoch: number;
  path: CsgPath;
  /** Mean cross-entropy of the path trained and, on CSG epochs, the mean hinge penalty. */
  loss: number;
  penalty: number;
  trainAccuracy: number;
  lr: number;
  seconds: number;
  imagesPerSecond: number;
  engine: string;
  engineSettings?: string;
}

export interface CsgHistory {
  /** Entry e is after e epochs (entry 0 before any training): STD path test accuracy (the network's). */
  stdAccuracy: number[];
  /** CSG path test accuracy, each image gated by its true label's row. */
  csgAccuracy: number[];
  /** L1 density of G. */
  density: number[];
  epochs: CsgEpochLog[];
}

export interface CsgResult {
  stateDict: StateDict;
  gates: GateMatrix;
  history: CsgHistory;
  hyperparameters: CsgHyperparameters;
  checkpointPath: string;
  resumedEpochs: number;
  /**
   * Pooled test features of the returned weights (eval-mode BatchNorm), from the call's last evaluation; absent
   * when the checkpoint already held every epoch and nothing was evaluated.
   */
  testFeatures?: Float32Array;
}

export function isCsgEpoch(epoch: number, h: Pick<CsgHyperparameters, "warmupEpochs" | "period" | "csgPhase">): boolean {
  return epoch >= h.warmupEpochs && epoch % h.period >= h.csgPhase;
}

/** Top-level modules (state-dict prefix before the first dot) that hold trainable parameters, in order. */
export function parameterModules(spec: ModelSpec): string[] {
  return [...new Set(trainableNames(spec).map((n) => n.split(".")[0]))];
}

export function learnableNames(spec: ModelSpec, modules: LearnableModules): string[] {
  const names = trainableNames(spec);
  if (modules === "all") return names;
  const kept = new Set(parameterModules(spec).slice(-modules));
  return names.filter((n) => kept.has(n.split(".")[0]));
}

/** The path's learning rate in its `done`-th own epoch: decayed by gamma at every milestone passed. */
export function pathLr(base: number, done: number, h: Pick<CsgHyperparameters, "epochs" | "lrMilestones" | "lrGamma">): number {
  const passed = h.lrMilestones.filter((m) => done >= m * h.epochs).length;
  return base * h.lrGamma ** passed;
}

const GATES = "csg.gates";

/** The hyperparameters of a run (defaults filled in for its start), each checked against its range and the model. */
export function resolveCsgHyperparameters(spec: ModelSpec, o: Partial<CsgHyperparameters> & { from?: CsgStart; gates?: GateMatrix }): CsgHyperparameters {
  const from = o.from ?? "pretrained";
  if (from !== "pretrained" && from !== "scratch") throw new Error(`from must be "pretrained" or "scratch", got ${JSON.stringify(from)}`);
  const defaults = csgDefaults(from);
  const h: CsgHyperparameters = { ...defaults, ...Object.fromEntries(Object.entries(o).filter(([k, v]) => k in defaults && v !== undefined)) };
  const int = (name: keyof CsgHyperparameters, min: number, max = Number.MAX_SAFE_INTEGER) => {
    const v = h[name] as number;
    if (!Number.isInteger(v) || v < min || v > max) throw new Error(`${name} must be an integer from ${min}${max < Number.MAX_SAFE_INTEGER ? ` to ${max}` : " up"}, got ${v}`);
  };
  int("epochs", 0);
  int("warmupEpochs", 0);
  int("period", 1);
  int("csgPhase", 0, h.period - 1);
  int("batchSize", 2);
  int("seed", 0);
  checkDensity(h.density);
  checkLambda(h.lambda);
  if (h.optimiser !== "adam" && h.optimiser !== "sgd") throw new Error(`optimiser must be "adam" or "sgd", got ${JSON.stringify(h.optimiser)}`);
  for (const name of ["stdLr", "csgLr"] as const) if (!(h[name] > 0) || !Number.isFinite(h[name])) throw new Error(`${name} must be a positive number, got ${h[name]}`);
  if (!(h.lrGamma > 0 && h.lrGamma <= 1)) throw new Error(`lrGamma must lie in (0, 1], got ${h.lrGamma}`);
  if (h.lrMilestones.some((m) => !(m > 0 && m <= 1))) throw new Error(`lrMilestones are fractions of the epochs in (0, 1], got ${JSON.stringify(h.lrMilestones)}`);
  const modules = parameterModules(spec);
  for (const name of ["stdModules", "csgModules"] as const) {
    const v = h[name];
    if (v !== "all" && (!Number.isInteger(v) || v < 1 || v > modules.length)) {
      throw new Error(`${name} must be "all" or an integer from 1 to ${modules.length} (${spec.name}'s modules: ${modules.join(", ")}), got ${v}`);
    }
  }
  if (!(h.initialGate >= 0 && h.initialGate <= 1)) throw new Error(`initialGate must lie in [0, 1], got ${h.initialGate}`);
  if (o.gates !== undefined) validateGates(o.gates, spec.classes, spec.featureWidth);
  return h;
}

const trainingOf = (set: ImageSet | TrainingImages): TrainingImages => ("pixels" in set ? inMemoryTraining(set) : set);
const evaluationOf = (set: ImageSet | EvaluationImages): EvaluationImages => ("pixels" in set ? inMemoryEvaluation(set) : set);

/** Every option checked before any image is read or any weight is touched. */
export function resolveCsgOptions(o: CsgOptions): CsgHyperparameters {
  const h = resolveCsgHyperparameters(o.spec, o);
  if ((o.from ?? "pretrained") === "pretrained" && o.stateDict === undefined) throw new Error(`from "pretrained" needs the starting weights (stateDict); pass them, or from: "scratch"`);
  checkThreads(o.intraOpThreads);
  const train = trainingOf(o.train);
  const [height, width, channels] = o.spec.inputShape;
  if (train.shape.join() !== [height, width, channels].join()) {
    throw new Error(`the train images are ${train.shape.join(" x ")} but ${o.spec.name} takes ${height} x ${width} x ${channels}`);
  }
  for (const [part, set] of [["train", train], ["test", evaluationOf(o.test)]] as const) {
    if (set.count < (part === "train" ? 2 : 1)) throw new Error(`the ${part} set has ${set.count} images; CSG training needs at least ${part === "train" ? 2 : 1}`);
    for (let i = 0; i < set.count; i++) {
      if (set.labels[i] >= o.spec.classes) throw new Error(`${part} image ${i} has label ${set.labels[i]}, outside the model's classes 0..${o.spec.classes - 1}`);
    }
  }
  return h;
}

export function csgCheckpointPath(cacheDir: string, model: string, key: string): string {
  return path.join(cacheDir, "csg", `${model}-${key.slice(0, 16)}.ckpt`);
}

interface CsgCheckpointMeta {
  key: string;
  epochsDone: number;
  steps: Record<CsgPath, number>;
  history: CsgHistory;
}

interface Evaluation {
  std: number;
  csg: number;
  /** The pooled test features the two accuracies were computed from. */
  features: Float32Array;
}

/** STD and CSG path test accuracy of the current weights and gates (eval-mode BatchNorm). */
async function evaluate(spec: ModelSpec, stateDict: StateDict, gates: GateMatrix, test: EvaluationImages, norm: string, onProgress: Progress): Promise<Evaluation> {
  const { features, logits } = await test.forward(spec, stateDict, norm, onProgress, `evaluate ${spec.name} (STD and CSG paths)`);
  const labels = Int32Array.from(test.labels);
  const csgLogits = gatedLogits({ data: features, rows: test.count, cols: spec.featureWidth }, headLayer(spec, stateDict), gates, labels);
  return {
    std: accuracy(predictFromLogits(logits, test.count, spec.classes), labels),
    csg: accuracy(predictFromLogits(csgLogits, test.count, spec.classes), labels),
    features,
  };
}

export interface CsgStepResult extends TrainStepResult {
  /** The hinge's lambda * max(0, ||G||_1 - density * classes * channels); `loss` stays the cross-entropy. */
  penalty: number;
  /** d (cross-entropy + penalty) / d G, classes x channels. */
  gatesGrad: Float32Array;
}

/**
 * One step of the CSG path on a gated engine: each image gated by its label's row of G, the row gradients
 * summed back into G, and the density hinge's value and gradient added.
 */
export async function csgStep(
  engine: TrainEngine,
  stateDict: StateDict,
  gates: GateMatrix,
  images: Float32Array,
  labels: number[],
  h: Pick<CsgHyperparameters, "density" | "lambda">,
  rowBuffer = new Float32Array(labels.length * gates.channels),
): Promise<CsgStepResult> {
  const { classes, channels } = gates;
  const rows = gateRows(gates, labels, rowBuffer.subarray(0, labels.length * channels));
  const step = await engine.step(stateDict, images, labels, labels.length, rows);
  if (step.gateGrad === undefined) throw new Error(`the training engine ${engine.name} returned no gate gradient; create it with { gated: true }`);
  const hinge = densityHinge(gates, h.density, h.lambda);
  const gatesGrad = scatterGateGradient(step.gateGrad, labels, classes, channels);
  for (let i = 0; i < gatesGrad.length; i++) gatesGrad[i] += hinge.grad[i];
  return { ...step, penalty: hinge.penalty, gatesGrad };
}

export async function trainCsg(options: CsgOptions): Promise<CsgResult> {
  const h = resolveCsgOptions(options);
  const { spec, norm } = options;
  const train = trainingOf(options.train);
  const test = evaluationOf(options.test);
  const from = options.from ?? "pretrained";
  const onProgress = options.onProgress ?? silentProgress;
  const start = from === "pretrained" ? (options.stateDict as StateDict) : initialStateDict(spec, h.seed);
  const startGates = options.gates ?? initialGates(spec.classes, spec.featureWidth, h.initialGate);
  const key = runKey({ v: 1, kind: "csg", model: spec.name, norm, from, h, adam: ADAM_DEFAULTS, sgd: SGD_DEFAULTS, gates: Array.from(startGates.data), train: train.count, test: test.count }, start, [train, test]);
  const checkpointPath = csgCheckpointPath(resolveCacheDir(options.cacheDir), spec.name, key);
  const names = trainableNames(spec);
  const learnable: Record<CsgPath, string[]> = { std: learnableNames(spec, h.stdModules), csg: [...learnableNames(spec, h.csgModules), GATES] };

  let stateDict: StateDict;
  let gates: GateMatrix;
  let optimisers: Record<CsgPath, AdamState>;
  let history: CsgHistory;
  let epochsDone = 0;
  let testFeatures: Float32Array | undefined;
  const resumed = (options.resume ?? true) && fs.existsSync(checkpointPath) ? readOrHeal(checkpointPath, () => loadCsgCheckpoint(checkpointPath, key, names, spec)) : null;
  if (resumed !== null) {
    ({ stateDict, gates, optimisers, history, epochsDone } = resumed);
  } else {
    stateDict = copyStateDict(start);
    gates = { ...startGates, data: new Float32Array(startGates.data) };
    const paramsOf = (list: string[]) => new Map(list.map((n) => [n, n === GATES ? gates.data : stateDict.get(n)!.data]));
    // SGD keeps its momentum in `m` and creates it on first use; Adam needs both moments from the start.
    optimisers = h.optimiser === "adam"
      ? { std: createAdamState(paramsOf(learnable.std)), csg: createAdamState(paramsOf(learnable.csg)) }
      : { std: { step: 0, m: new Map(), v: new Map() }, csg: { step: 0, m: new Map(), v: new Map() } };
    const before = await evaluate(spec, stateDict, gates, test, norm, onProgress);
    testFeatures = before.features;
    history = { stdAccuracy: [before.std], csgAccuracy: [before.csg], density: [l1Density(gates.data)], epochs: [] };
  }
  const resumedEpochs = epochsDone;
  const params = new Map<string, Float32Array>([...names.map((n) => [n, stateDict.get(n)!.data] as const), [GATES, gates.data]]);
  const bnLayers = batchNormLayers(spec);
  const { classes, featureWidth: channels } = spec;
  const engine = await createTrainEngine(spec, new Float32Array(classes * channels).fill(1), options.engine ?? trainEngineFromEnv(), { gated: true, intraOpThreads: options.intraOpThreads });
  try {
    for (let epoch = epochsDone; epoch < h.epochs; epoch++) {
      const csg = isCsgEpoch(epoch, h);
      const pathName: CsgPath = csg ? "csg" : "std";
      const pathEpochsDone = history.epochs.filter((e) => e.path === pathName).length;
      const lr = pathLr(csg ? h.csgLr : h.stdLr, pathEpochsDone, h);
      const stage = `CSG-train ${spec.name} epoch ${epoch + 1}/${h.epochs} (${pathName.toUpperCase()} path)`;
      const order = shuffledOrder(train.count, deriveSeed(h.seed, 2 * epoch + 1));
      const augmentSeed = deriveSeed(h.seed, 2 * epoch);
      const started = Date.now();
      let lossSum = 0;
      let penaltySum = 0;
      let correctSum = 0;
      onProgress({ stage, done: 0, total: train.count, unit: "images" });
      const batches = epochBatches(train, order, augmentSeed, h.batchSize, norm);
      const rowBuffer = new Float32Array(h.batchSize * channels);
      const ones = new Float32Array(h.batchSize * channels).fill(1);
      const optimiser = optimisers[pathName];
      for (let ready = batches.prepare(0), fed = await ready; fed !== null; fed = await ready) {
        const { count, start: first, images, labels } = fed;
        const running = csg
          ? csgStep(engine, stateDict, gates, images, labels, h, rowBuffer)
          : engine.step(stateDict, images, labels, count, ones.subarray(0, count * channels)).then((s) => ({ ...s, penalty: 0, gatesGrad: undefined }));
        // The next batch is augmented and normalised while the step runs.
        ready = batches.prepare(first + h.batchSize);
        const step = await running;
        const grads = new Map(learnable[pathName].filter((n) => n !== GATES).map((n) => [n, step.grads.get(n)!]));
        if (step.gatesGrad !== undefined) grads.set(GATES, step.gatesGrad);
        penaltySum += step.penalty * count;
        if (h.optimiser === "adam") adamStep(params, grads, optimiser, { ...ADAM_DEFAULTS, lr });
        else sgdStep(params, grads, optimiser, { ...SGD_DEFAULTS, lr });
        if (csg) renormaliseGates(gates);
        applyBatchStats(bnLayers, stateDict, step);
        lossSum += step.loss * count;
        correctSum += step.correct;
        onProgress({ stage, done: first + count, total: train.count, unit: "images" });
        if (options.signal?.aborted) {
          throw new Error(`CSG training aborted in epoch ${epoch + 1}; the checkpoint after epoch ${epoch} is kept at ${checkpointPath} and a new call resumes from it`);
        }
      }
      const seen = train.count - (train.count % h.batchSize === 1 ? 1 : 0);
      const seconds = (Date.now() - started) / 1000;
      history.epochs.push({
        epoch: epoch + 1, path: pathName, loss: lossSum / seen, penalty: penaltySum / seen, trainAccuracy: correctSum / seen, lr, seconds,
        imagesPerSecond: seen / seconds, engine: engine.name, engineSettings: engine.settings?.(),
      });
      const after = await evaluate(spec, stateDict, gates, test, norm, onProgress);
      history.stdAccuracy.push(after.std);
      history.csgAccuracy.push(after.csg);
      history.density.push(l1Density(gates.data));
      testFeatures = after.features;
      const extra: StateDict = new Map([[GATES, { shape: [classes, channels], data: gates.data }]]);
      await writeTensorFile(checkpointPath, checkpointTensors(stateDict, optimisers, extra), {
        key, epochsDone: epoch + 1, steps: { std: optimisers.std.step, csg: optimisers.csg.step }, history,
      } satisfies CsgCheckpointMeta);
    }
  } finally {
    engine.dispose();
    await train.close();
  }
  return { stateDict, gates, history, hyperparameters: h, checkpointPath, resumedEpochs, testFeatures };
}

function loadCsgCheckpoint(file: string, key: string, names: string[], spec: ModelSpec) {
  const { tensors, meta } = readTensorFile<CsgCheckpointMeta>(file);
  if (meta.key !== key) throw new Error(`${file} belongs to another configuration; delete it or pass resume: false`);
  const { stateDict, moments, extra } = unpackCheckpoint(tensors, ["std", "csg"]);
  const missing = names.filter((n) => !stateDict.has(n));
  const g = extra.get(GATES);
  if (missing.length > 0 || g === undefined) throw new CorruptFileError(`${file} lacks ${g === undefined ? GATES : missing.slice(0, 4).join(", ")}`);
  const gates: GateMatrix = { data: g.data, classes: spec.classes, channels: spec.featureWidth };
  const state = (p: CsgPath): AdamState => ({ step: meta.steps[p], ...moments.get(p)! });
  return { stateDict, gates, optimisers: { std: state("std"), csg: state("csg") }, history: meta.history, epochsDone: meta.epochsDone };
}

export interface SavedCsgMeta {
  model: string;
  gates: { classes: number; channels: number; data: number[] };
  hyperparameters: CsgHyperparameters;
  history: CsgHistory;
}

/** Saves the CSG-trained weights (PyTorch key naming) with G and what produced them; reload with loadCsg. */
export async function saveCsg(file: string, spec: ModelSpec, result: CsgResult): Promise<void> {
  const { gates } = result;
  await writeTensorFile(file, result.stateDict, {
    model: spec.name, gates: { classes: gates.classes, channels: gates.channels, data: Array.from(gates.data) }, hyperparameters: result.hyperparameters, history: result.history,
  } satisfies SavedCsgMeta);
}

export function loadCsg(file: string): { stateDict: StateDict; gates: GateMatrix; meta: SavedCsgMeta } {
  const { tensors, meta } = readTensorFile<SavedCsgMeta>(file);
  if (meta.gates === undefined) throw new Error(`${file} holds no gate matrix; is it a model saved by saveCsg or \`decomp csg\`?`);
  return { stateDict: tensors, gates: { classes: meta.gates.classes, channels: meta.gates.channels, data: Float32Array.from(meta.gates.data) }, meta };
}
