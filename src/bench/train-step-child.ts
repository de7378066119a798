/**
 * Child process of the ImageNet-size training-step bench: timeTrainSteps on a torchvision model with seeded
 * random weights, alone in its process so that its peak RSS is the step's own (graph, session arena,
 * activations, gradients, Adam's moments). Arguments: one JSON object (TrainStepChildArgs); prints one JSON
 * object (TrainStepChildResult).
 */
import { modelEntry } from "../models/registry";
import { initialStateDict } from "../training/init";
import { timeTrainSteps, type TrainStepTiming } from "./train-bench";

export interface TrainStepChildArgs {
  model: string;
  side: number;
  batch: number;
  steps: number;
  warmup: number;
}

/** The step's timing (without the CIFAR epoch projection) and the process's peak RSS. */
export interface TrainStepChildResult extends Omit<TrainStepTiming, "projectedEpochSeconds"> {
  peakRssMiB: number;
}

async function main(): Promise<void> {
  const args = JSON.parse(process.argv[2]) as TrainStepChildArgs;
  const spec = modelEntry(args.model).buildSpec(1000, args.side);
  const { projectedEpochSeconds: _cifarEpoch, ...timing } = await timeTrainSteps(spec, initialStateDict(spec, 0), args.batch, args.steps, args.warmup);
  // maxRSS is in KiB.
  const result: TrainStepChildResult = { ...timing, peakRssMiB: process.resourceUsage().maxRSS / 1024 };
  process.stdout.write(JSON.stringify(result) + "\n");
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
