/**
 * Fine-tuning speed for `decomp bench`: median time of one training step (forward, backward, Adam) at a fixed
 * batch size on our training engine and on PyTorch, each projected to one epoch of the CIFAR-10 training set
 * with the same formula, so the ratio of projected epochs is the ratio of step times.
 */
import type { ModelSpec } from "../models/spec";
import type { StateDict } from "../torch";
import { adamStep, createAdamState, createTrainEngine, decomposedStateDict, trainableNames } from "../training";
import { syntheticImages } from "./throughput";

/** Images in one fine-tuning epoch: the CIFAR-10 training set. */
export const EPOCH_IMAGES = 50000;

export interface TrainStepTiming {
  engine: string;
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
 * Head mask keeping five features per class, as Algorithm 1 at k2 = 5 (which five does not change the speed).
 * The PyTorch side (scripts/bench-torch.py --train-steps) also keeps five per class.
 */
function fivePerClass(spec: ModelSpec): Float32Array {
  const mask = new Float32Array(spec.classes * spec.featureWidth);
  for (let y = 0; y < spec.classes; y++) for (let r = 0; r < 5; r++) mask[y * spec.featureWidth + ((y * 7 + r * 13) % spec.featureWidth)] = 1;
  return mask;
}

/** Median wall time of `steps` training steps plus Adam updates on the training engine fine-tuning would use. */
export async function timeTrainSteps(spec: ModelSpec, pretrained: StateDict, batch: number, steps: number, warmup = 2): Promise<TrainStepTiming> {
  const mask = fivePerClass(spec);
  const stateDict = decomposedStateDict(spec, pretrained, mask);
  const params = new Map(trainableNames(spec).map((n) => [n, (stateDict.get(n) as { data: Float32Array }).data]));
  const adam = createAdamState(params);
  const images = syntheticImages(batch, 1);
  const labels = Array.from({ length: batch }, (_, i) => i % spec.classes);
  const engine = await createTrainEngine(spec, mask);
  try {
    const times: number[] = [];
    for (let i = 0; i < warmup + steps; i++) {
      const start = process.hrtime.bigint();
      adamStep(params, (await engine.step(stateDict, images, labels, batch)).grads, adam);
      if (i >= warmup) times.push(Number(process.hrtime.bigint() - start) / 1e6);
    }
    times.sort((a, b) => a - b);
    const msPerStep = times[Math.floor(times.length / 2)];
    return { engine: engine.name, batch, steps, msPerStep, imagesPerSec: (batch * 1000) / msPerStep, projectedEpochSeconds: projectedEpochSeconds(msPerStep, batch) };
  } finally {
    engine.dispose();
  }
}
