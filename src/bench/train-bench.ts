/**
 * Fine-tuning speed for `decomp bench`: the median time of one training step (forward, backward, Adam) at a
 * fixed batch size, projected to one epoch of the CIFAR-10 training set with the same formula on both sides,
 * and, where asked for, one real epoch timed through fineTune itself.
 */
import type { ModelSpec } from "../models/spec";
import type { Progress } from "../progress";
import type { StateDict } from "../torch";
import { batchView, type ImageSet } from "../data";
import { adamStep, createAdamState, createTrainEngine, decomposedStateDict, fineTune, headMask, trainableNames, trainCsg } from "../training";
import { withTempDir } from "./temp-dir";
import { syntheticImages } from "./throughput";

/** Images in one fine-tuning epoch: the CIFAR-10 training set. */
export const EPOCH_IMAGES = 50000;

export interface TrainStepTiming {
  engine: string;
  /** What the engine chose while running (TrainEngine.settings), e.g. how often its threads spun. */
  settings?: string;
  batch: number;
  /** Timed steps (after warm-up); msPerStep is their median. */
  steps: number;
  msPerStep: number;
  imagesPerSec: number;
  /** ceil(EPOCH_IMAGES / batch) steps of msPerStep. */
  projectedEpochSeconds: number;
}

export const projectedEpochSeconds = (msPerStep: number, batch: number): number => (Math.ceil(EPOCH_IMAGES / batch) * msPerStep) / 1000;

/**
 * Five features per class, as Algorithm 1 at k2 = 5 (which five does not change the speed). The PyTorch side
 * (scripts/bench-torch.py) also keeps five per class.
 */
function fivePerClass(spec: ModelSpec): number[][] {
  return Array.from({ length: spec.classes }, (_, y) => [0, 1, 2, 3, 4].map((r) => (y * 7 + r * 13) % spec.featureWidth));
}

export interface TrainTimingOptions {
  batch: number;
  /** Threads inside one operator of the training engine (default: every core). */
  intraOpThreads?: number;
}

export interface TrainStepTimingOptions extends TrainTimingOptions {
  /** Timed steps; their median is reported. */
  steps: number;
  /**
   * Untimed steps first (default 8), which also cover the ONNX engine's trials of its two thread settings
   * (FasterChoice: one untimed and three timed runs each), so the timed steps run on the setting it chose.
   */
  warmup?: number;
}

export interface EpochTimingOptions extends TrainTimingOptions {
  onProgress?: Progress;
}

/** Median wall time of training steps plus Adam updates on the training engine fine-tuning would use. */
export async function timeTrainSteps(spec: ModelSpec, pretrained: StateDict, { batch, steps, warmup = 8, intraOpThreads }: TrainStepTimingOptions): Promise<TrainStepTiming> {
  const mask = headMask(fivePerClass(spec), spec.classes, spec.featureWidth);
  const stateDict = decomposedStateDict(spec, pretrained, mask);
  const params = new Map(trainableNames(spec).map((n) => [n, (stateDict.get(n) as { data: Float32Array }).data]));
  const adam = createAdamState(params);
  const [h, w, c] = spec.inputShape;
  const images = syntheticImages(batch, 1, h * w * c);
  const labels = Array.from({ length: batch }, (_, i) => i % spec.classes);
  const engine = await createTrainEngine(spec, mask, undefined, { intraOpThreads });
  try {
    const times: number[] = [];
    for (let i = 0; i < warmup + steps; i++) {
      const start = process.hrtime.bigint();
      adamStep(params, (await engine.step(stateDict, images, labels, batch)).grads, adam);
      if (i >= warmup) times.push(Number(process.hrtime.bigint() - start) / 1e6);
    }
    times.sort((a, b) => a - b);
    const msPerStep = times[Math.floor(times.length / 2)];
    return { engine: engine.name, settings: engine.settings?.(), batch, steps, msPerStep, imagesPerSec: (batch * 1000) / msPerStep, projectedEpochSeconds: projectedEpochSeconds(msPerStep, batch) };
  } finally {
    engine.dispose();
  }
}

export interface EpochTiming {
  engine: string;
  /** EpochLog.engineSettings of the epoch. */
  settings?: string;
  batch: number;
  images: number;
  /** The epoch's own wall time (fineTune's history): batches, augmentation, steps and Adam, no test evaluation. */
  seconds: number;
  imagesPerSec: number;
}

/** One real fine-tuning epoch over `train` with fineTune itself (fresh, never resumed; checkpoint in a temp dir). */
export async function timeFineTuneEpoch(spec: ModelSpec, pretrained: StateDict, train: ImageSet, { batch, onProgress, intraOpThreads }: EpochTimingOptions): Promise<EpochTiming> {
  return withTempDir("decomp-bench-finetune-", async (cacheDir) => {
    // fineTune scores a test set before and after the epoch; two images keep that out of the way.
    const { history } = await fineTune({
      spec, stateDict: pretrained, sets: fivePerClass(spec), train, test: batchView(train, 0, 2), norm: "cifar",
      epochs: 1, batchSize: batch, resume: false, cacheDir, onProgress, intraOpThreads,
    });
    const [epoch] = history.epochs;
    return { engine: epoch.engine, settings: epoch.engineSettings, batch, images: train.count, seconds: epoch.seconds, imagesPerSec: epoch.imagesPerSecond };
  });
}

/**
 * One CSG epoch over `train` with trainCsg itself (every epoch a CSG epoch: no warm-up, period 1), fresh and
 * with its checkpoint in a temp dir, for the comparison with timeFineTuneEpoch on the same images.
 */
export async function timeCsgEpoch(spec: ModelSpec, pretrained: StateDict, train: ImageSet, { batch, onProgress, intraOpThreads }: EpochTimingOptions): Promise<EpochTiming> {
  return withTempDir("decomp-bench-csg-", async (cacheDir) => {
    const { history } = await trainCsg({
      spec, stateDict: pretrained, train, test: batchView(train, 0, 2), norm: "cifar",
      epochs: 1, warmupEpochs: 0, period: 1, csgPhase: 0, batchSize: batch, resume: false, cacheDir, onProgress, intraOpThreads,
    });
    const [epoch] = history.epochs;
    if (epoch.path !== "csg") throw new Error("the timed CSG epoch ran the STD path");
    return { engine: epoch.engine, settings: epoch.engineSettings, batch, images: train.count, seconds: epoch.seconds, imagesPerSec: epoch.imagesPerSecond };
  });
}
