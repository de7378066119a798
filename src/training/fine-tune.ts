/**
 * Retraining after decomposition (the paper's retraining section): fine-tune every parameter of the network
 * with the decomposed head (a masked final layer), BatchNorm in training mode, Adam and cross-entropy on
 * augmented, shuffled batches (in-memory CIFAR images or image files, see images.ts). A checkpoint is written
 * atomically after each epoch and picked up again by a later call with the same configuration, so an interrupted
 * run resumes where its last epoch ended.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { CorruptFileError, readOrHeal, resolveCacheDir } from "../artifacts";
import { type ImageSet, deriveSeed } from "../data";
import type { IndexSets } from "../method";
import type { ModelSpec } from "../models/spec";
import { type Progress, silentProgress } from "../progress";
import type { StateDict } from "../torch";
import { ADAM_DEFAULTS, type AdamState, adamStep, createAdamState } from "./adam";
import { batchNormLayers, decomposedStateDict, headMask, trainableNames } from "./params";
import { applyBatchStats, checkpointTensors, runKey, shuffledOrder, unpackCheckpoint } from "./loop";
import { epochBatches, type EvaluationImages, inMemoryEvaluation, inMemoryTraining, type TrainingImages } from "./images";
import { readTensorFile, writeTensorFile } from "../artifacts/tensor-file";
import { checkThreads, createTrainEngine, type TrainEngineChoice, trainEngineFromEnv } from "./train-engine";

export interface FineTuneOptions {
  spec: ModelSpec;
  /** Pretrained weights (PyTorch naming); not modified. */
  stateDict: StateDict;
  /** S_y per class: the decomposed head keeps W[y, j] for j in S_y only. */
  sets: IndexSets;
  /** In-memory CIFAR images (pad-crop-flip augmentation) or TrainingImages (e.g. fileTraining over an ImageNet split). */
  train: ImageSet | TrainingImages;
  /** Evaluated (eval-mode BN, decomposed head) before training and after every epoch. */
  test: ImageSet | EvaluationImages;
  /** Input normalisation name (src/data NORMALISATIONS). */
  norm: string;
  /** Total epochs; a resumed run trains only the ones its checkpoint lacks. Default 1. */
  epochs?: number;
  batchSize?: number;
  lr?: number;
  seed?: number;
  /** Record mean loss and batch accuracy every this many batches (default 10). */
  logEvery?: number;
  cacheDir?: string;
  /** Continue from a checkpoint of the same configuration when there is one (default true). */
  resume?: boolean;
  onProgress?: Progress;
  /** Checked after every batch; an aborted run keeps its last epoch checkpoint. */
  signal?: AbortSignal;
  /** What computes the training steps (see createTrainEngine); default DECOMP_TRAIN_ENGINE, else auto. */
  engine?: TrainEngineChoice;
  /** ONNX Runtime's threads inside one operator (TrainEngineOptions.intraOpThreads); default every core. */
  intraOpThreads?: number;
}

export interface BatchLog {
  epoch: number;
  /** Batches done in this epoch when the entry was taken. */
  batch: number;
  /** Mean cross-entropy and accuracy over the batches since the previous entry (training mode, augmented). */
  loss: number;
  accuracy: number;
}

export interface EpochLog {
  epoch: number;
  loss: number;
  trainAccuracy: number;
  seconds: number;
  imagesPerSecond: number;
  /** The training engine that ran the epoch (TrainEngine.name). */
  engine: string;
  /** What the engine chose for this epoch's steps (TrainEngine.settings). */
  engineSettings?: string;
}

export interface FineTuneHistory {
  /** Decomposed-head test accuracy A_d: entry e is after e epochs (entry 0 before any training). */
  testAccuracy: number[];
  batches: BatchLog[];
  epochs: EpochLog[];
}

export interface FineTuneResult {
  /** Fine-tuned weights with the masked head baked in (zeros outside S_y): a plain state dict any executor loads. */
  stateDict: StateDict;
  history: FineTuneHistory;
  checkpointPath: string;
  /** Epochs that were already in the checkpoint when this call started. */
  resumedEpochs: number;
}

interface CheckpointMeta {
  key: string;
  epochsDone: number;
  adamStep: number;
  seed: number;
  history: FineTuneHistory;
}

/** Everything that changes the trajectory, hashed; the epoch count is not in it, so more epochs extend a run. */
function configurationKey(o: FineTuneOptions, train: TrainingImages, test: EvaluationImages, batchSize: number, lr: number, seed: number): string {
  const description = { v: 1, model: o.spec.name, norm: o.norm, batchSize, lr, seed, adam: ADAM_DEFAULTS, sets: o.sets, train: train.count, test: test.count };
  return runKey(description, o.stateDict, [train, test]);
}

export function fineTuneCheckpointPath(cacheDir: string, model: string, key: string): string {
  return path.join(cacheDir, "retrain", `${model}-${key.slice(0, 16)}.ckpt`);
}

function checkOptions(train: TrainingImages, epochs: number, batchSize: number, lr: number): void {
  if (!Number.isInteger(epochs) || epochs < 0) throw new Error(`epochs must be a non-negative integer, got ${epochs}`);
  if (!Number.isInteger(batchSize) || batchSize < 2) throw new Error(`batchSize must be an integer >= 2 (BatchNorm needs a batch), got ${batchSize}`);
  if (!(lr > 0)) throw new Error(`lr must be positive, got ${lr}`);
  if (train.count < 2) throw new Error(`the training set has ${train.count} images; need at least 2`);
}

export async function fineTune(options: FineTuneOptions): Promise<FineTuneResult> {
  const { spec, norm } = options;
  const train = "pixels" in options.train ? inMemoryTraining(options.train) : options.train;
  const test = "pixels" in options.test ? inMemoryEvaluation(options.test) : options.test;
  const epochs = options.epochs ?? 1;
  const batchSize = options.batchSize ?? 64;
  const lr = options.lr ?? ADAM_DEFAULTS.lr;
  const seed = options.seed ?? 0;
  const logEvery = options.logEvery ?? 10;
  const onProgress = options.onProgress ?? silentProgress;
  checkOptions(train, epochs, batchSize, lr);
  checkThreads(options.intraOpThreads);

  const mask = headMask(options.sets, spec.classes, spec.featureWidth);
  const key = configurationKey(options, train, test, batchSize, lr, seed);
  const checkpointPath = fineTuneCheckpointPath(resolveCacheDir(options.cacheDir), spec.name, key);
  const names = trainableNames(spec);

  let stateDict: StateDict;
  let adam: AdamState;
  let history: FineTuneHistory;
  let epochsDone = 0;
  // A corrupt checkpoint is moved aside (with a warning) and the run starts again from the pretrained weights.
  const resumed = (options.resume ?? true) && fs.existsSync(checkpointPath) ? readOrHeal(checkpointPath, () => loadCheckpoint(checkpointPath, key, names)) : null;
  if (resumed !== null) {
    ({ stateDict, adam, history, epochsDone } = resumed);
  } else {
    stateDict = decomposedStateDict(spec, options.stateDict, mask);
    adam = createAdamState(new Map(names.map((n) => [n, (stateDict.get(n) as { data: Float32Array }).data])));
    history = { testAccuracy: [await test.accuracy(spec, stateDict, norm, onProgress)], batches: [], epochs: [] };
  }
  const resumedEpochs = epochsDone;
  const params = new Map(names.map((n) => [n, (stateDict.get(n) as { data: Float32Array }).data]));
  const bnLayers = batchNormLayers(spec);
  const engine = await createTrainEngine(spec, mask, options.engine ?? trainEngineFromEnv(), { intraOpThreads: options.intraOpThreads });
  try {
    for (let epoch = epochsDone; epoch < epochs; epoch++) {
      const stage = `fine-tune ${spec.name} epoch ${epoch + 1}/${epochs}`;
      const order = shuffledOrder(train.count, deriveSeed(seed, 2 * epoch + 1));
      const augmentSeed = deriveSeed(seed, 2 * epoch);
      const started = Date.now();
      let lossSum = 0;
      let correctSum = 0;
      let window = { loss: 0, correct: 0, images: 0, batches: 0 };
      let batch = 0;
      onProgress({ stage, done: 0, total: train.count, unit: "images" });
      const batches = epochBatches(train, order, augmentSeed, batchSize, norm);
      for (let ready = batches.prepare(0), fed = await ready; fed !== null; fed = await ready) {
        const { count, start } = fed;
        const running = engine.step(stateDict, fed.images, fed.labels, count);
        // The next batch is augmented and normalised while the step runs.
        ready = batches.prepare(start + batchSize);
        const step = await running;
        adamStep(params, step.grads, adam, { ...ADAM_DEFAULTS, lr });
        applyBatchStats(bnLayers, stateDict, step);
        batch++;
        lossSum += step.loss * count;
        correctSum += step.correct;
        window = { loss: window.loss + step.loss * count, correct: window.correct + step.correct, images: window.images + count, batches: window.batches + 1 };
        if (window.batches === logEvery) {
          history.batches.push({ epoch: epoch + 1, batch, loss: window.loss / window.images, accuracy: window.correct / window.images });
          window = { loss: 0, correct: 0, images: 0, batches: 0 };
        }
        onProgress({ stage, done: start + count, total: train.count, unit: "images" });
        if (options.signal?.aborted) {
          throw new Error(`fine-tune aborted in epoch ${epoch + 1}; the checkpoint after epoch ${epoch} is kept at ${checkpointPath} and a new call resumes from it`);
        }
      }
      if (window.batches > 0) history.batches.push({ epoch: epoch + 1, batch, loss: window.loss / window.images, accuracy: window.correct / window.images });
      const seen = train.count - (train.count % batchSize === 1 ? 1 : 0);
      const seconds = (Date.now() - started) / 1000;
      history.epochs.push({ epoch: epoch + 1, loss: lossSum / seen, trainAccuracy: correctSum / seen, seconds, imagesPerSecond: seen / seconds, engine: engine.name, engineSettings: engine.settings?.() });
      history.testAccuracy.push(await test.accuracy(spec, stateDict, norm, onProgress));
      await writeTensorFile(checkpointPath, checkpointTensors(stateDict, { [OPTIMISER]: adam }), { key, epochsDone: epoch + 1, adamStep: adam.step, seed, history } satisfies CheckpointMeta);
    }
  } finally {
    engine.dispose();
    await train.close();
  }
  return { stateDict, history, checkpointPath, resumedEpochs };
}

/** The checkpoint's label for the optimiser's moments ("adam.m:<name>", "adam.v:<name>"). */
const OPTIMISER = "adam";

function loadCheckpoint(file: string, key: string, names: string[]): { stateDict: StateDict; adam: AdamState; history: FineTuneHistory; epochsDone: number } {
  const { tensors, meta } = readTensorFile<CheckpointMeta>(file);
  if (meta.key !== key) throw new Error(`${file} belongs to another configuration; delete it or pass resume: false`);
  const { stateDict, moments } = unpackCheckpoint(tensors, [OPTIMISER]);
  const { m, v } = moments.get(OPTIMISER)!;
  const missing = names.filter((n) => !stateDict.has(n) || !m.has(n) || !v.has(n));
  if (missing.length > 0) throw new CorruptFileError(`${file} lacks ${missing.slice(0, 4).join(", ")}`);
  return { stateDict, adam: { step: meta.adamStep, m, v }, history: meta.history, epochsDone: meta.epochsDone };
}

export interface SavedModelMeta {
  model: string;
  /** S_y the head was trained with; the saved head is zero outside them. */
  sets: number[][];
  history?: FineTuneHistory;
}

/** Saves a state dict (PyTorch key naming) with what produced it; reload with loadFineTuned. */
export async function saveFineTuned(file: string, stateDict: StateDict, meta: SavedModelMeta): Promise<void> {
  await writeTensorFile(file, stateDict, meta);
}

export function loadFineTuned(file: string): { stateDict: StateDict; meta: SavedModelMeta } {
  const { tensors, meta } = readTensorFile<SavedModelMeta>(file);
  return { stateDict: tensors, meta };
}
