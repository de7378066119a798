/**
 * Child process of the ImageNet-size training-step bench: timeTrainSteps on a torchvision model with seeded
 * random weights, alone in its process so that its peak RSS is the step's own (graph, session arena,
 * activations, gradients, Adam's moments). Arguments: one JSON object (TrainStepChildArgs); prints one JSON
 * object (TrainStepChildResult).
 */
import { modelEntry } from "../models/registry";
import { initialStateDict } from "../training/init";
import { childMain, peakRssMiB } from "./child";
import { timeTrainSteps, type TrainStepTiming } from "./train-bench";

export interface TrainStepChildArgs {
  model: string;
  side: number;
  batch: number;
  steps: number;
  warmup: number;
  threads: number;
}

/** The step's timing (without the CIFAR epoch projection) and the process's peak RSS. */
export interface TrainStepChildResult extends Omit<TrainStepTiming, "projectedEpochSeconds"> {
  peakRssMiB: number;
}

childMain(async (args: TrainStepChildArgs): Promise<TrainStepChildResult> => {
  const spec = modelEntry(args.model).buildSpec(1000, args.side);
  const { projectedEpochSeconds: _cifarEpoch, ...timing } = await timeTrainSteps(spec, initialStateDict(spec, 0), { batch: args.batch, steps: args.steps, warmup: args.warmup, intraOpThreads: args.threads });
  return { ...timing, peakRssMiB: peakRssMiB() };
});
