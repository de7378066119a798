/**
 * The training step of a torchvision model at its input size (ResNet50 at 224 x 224, batch 16: the decomposed
 * fine-tune of notebook 04's ImageNet half), ours against torchvision's model in PyTorch CPU, each side alone
 * in its own process so that its peak RSS is the step's own. Seeded random weights on both sides and synthetic
 * N(0, 1) inputs: neither the speed nor the memory of a step depends on their values.
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import type { Progress } from "../progress";
import { runBenchChild } from "./child";
import { TORCHVISION_BENCH_SCRIPT } from "./imagenet-bench";
import type { TrainStepChildArgs, TrainStepChildResult } from "./train-step-child";

const run = promisify(execFile);

export interface TorchvisionTrainTiming {
  batch: number;
  steps: number;
  /** Median of the timed steps (forward, backward, Adam; BN in train mode, masked head). */
  msPerStep: number;
  imagesPerSec: number;
  peakRssMiB: number;
}

export interface ImagenetTrainStepReport {
  model: string;
  side: number;
  batch: number;
  ours: TrainStepChildResult;
  torch: TorchvisionTrainTiming | null;
  /** Our step time over PyTorch's (goal: at most 1); null without PyTorch. */
  ratio: number | null;
}

export interface ImagenetTrainStepOptions {
  model: string;
  side: number;
  batch: number;
  /** Timed steps per side (their median is reported), after `warmup` untimed ones. */
  steps: number;
  warmup: number;
  threads: number;
  /** Python with torch and torchvision; null: our side only. */
  python: string | null;
  progress: Progress;
}

export async function imagenetTrainStepReport(opts: ImagenetTrainStepOptions): Promise<ImagenetTrainStepReport> {
  const stage = `bench ${opts.model} training step (${opts.side} x ${opts.side}, batch ${opts.batch})`;
  const total = opts.python === null ? 1 : 2;
  opts.progress({ stage, done: 0, total });
  const ours = await runBenchChild<TrainStepChildArgs, TrainStepChildResult>(__filename, "train-step-child", {
    model: opts.model, side: opts.side, batch: opts.batch, steps: opts.steps, warmup: opts.warmup, threads: opts.threads,
  });
  opts.progress({ stage, done: 1, total });
  let torch: TorchvisionTrainTiming | null = null;
  if (opts.python !== null) {
    const { stdout } = await run(opts.python, [
      TORCHVISION_BENCH_SCRIPT, `--models=${opts.model}`, `--size=${opts.side}`, `--batches=${opts.batch}`,
      `--train-steps=${opts.steps}`, `--warmup=${opts.warmup}`, `--threads=${opts.threads}`,
    ], { maxBuffer: 1 << 20 });
    torch = (JSON.parse(stdout) as { models: { train: TorchvisionTrainTiming }[] }).models[0].train;
    opts.progress({ stage, done: 2, total });
  }
  return { model: opts.model, side: opts.side, batch: opts.batch, ours, torch, ratio: torch === null ? null : ours.msPerStep / torch.msPerStep };
}
