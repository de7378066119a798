/** The PyTorch CPU reference: runs scripts/bench-torch.py (Debian python with torch) and reads its JSON. */
import { execFile } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { promisify } from "util";
import { withTempDir } from "./temp-dir";

const run = promisify(execFile);
export const TORCH_BENCH_SCRIPT = path.resolve(__dirname, "..", "..", "scripts", "bench-torch.py");
export const DEFAULT_PYTHON = "/usr/bin/python3";

export interface TorchTiming {
  depth: number;
  /** eager: the nn.Module; frozen: TorchScript trace + freeze + optimize_for_inference. */
  mode: string;
  batch: number;
  images: number;
  seconds: number;
  imagesPerSec: number;
  /** "default" glibc malloc, or "tuned" (GLIBC_TUNABLES shown in glibcTunables). */
  allocator: string;
  glibcTunables: string;
  /** "default" (libgomp spins, then sleeps) or "passive" (OMP_WAIT_POLICY=PASSIVE). */
  ompWaitPolicy: string;
  checkpoint: string;
}

export interface TorchBench {
  torch: string;
  threads: number;
  results: TorchTiming[];
}

export interface TorchBenchOptions {
  python: string;
  depths: number[];
  batches: number[];
  images: number;
  repeats: number;
  threads: number;
  modes: string[];
  allocators: string[];
  ompWaitPolicies: string[];
  /** Checkpoint file per depth, the same files our engines read. */
  checkpoints: Map<number, string>;
}

const checkpointArg = (checkpoints: Map<number, string>) => `--checkpoints=${[...checkpoints].map(([d, p]) => `${d}=${p}`).join(",")}`;

/** Whether `python` can import torch; the reason when not, so the report can say why PyTorch is absent. */
export async function torchAvailable(python: string): Promise<{ ok: true; version: string } | { ok: false; reason: string }> {
  try {
    const { stdout } = await run(python, ["-c", "import torch; print(torch.__version__)"]);
    return { ok: true, version: stdout.trim() };
  } catch (err) {
    return { ok: false, reason: `${python} cannot import torch: ${String((err as Error).message).split("\n")[0]}` };
  }
}

export async function runTorchBench(opts: TorchBenchOptions): Promise<TorchBench> {
  const args = [
    TORCH_BENCH_SCRIPT,
    `--depths=${opts.depths.join(",")}`,
    `--batches=${opts.batches.join(",")}`,
    `--images=${opts.images}`,
    `--repeats=${opts.repeats}`,
    `--threads=${opts.threads}`,
    `--modes=${opts.modes.join(",")}`,
    `--allocators=${opts.allocators.join(",")}`,
    `--omp-wait-policies=${opts.ompWaitPolicies.join(",")}`,
    checkpointArg(opts.checkpoints),
  ];
  const { stdout } = await run(opts.python, args, { maxBuffer: 16 << 20 });
  return JSON.parse(stdout) as TorchBench;
}

export interface TorchTrainTiming {
  depth: number;
  batch: number;
  steps: number;
  /** Median of the timed training steps (forward, backward, Adam; BN in train mode, masked head). */
  msPerStep: number;
  imagesPerSec: number;
  allocator: string;
  glibcTunables: string;
  ompWaitPolicy: string;
  checkpoint: string;
}

export type TorchTrainBenchOptions = Omit<TorchBenchOptions, "images" | "repeats" | "modes"> & { steps: number; warmup: number };

/** Training-step timings from the same script (--train-steps), one per batch size and process setting. */
export async function runTorchTrainBench(opts: TorchTrainBenchOptions): Promise<TorchTrainTiming[]> {
  const args = [
    TORCH_BENCH_SCRIPT,
    `--depths=${opts.depths.join(",")}`,
    `--batches=${opts.batches.join(",")}`,
    `--train-steps=${opts.steps}`,
    `--warmup=${opts.warmup}`,
    `--threads=${opts.threads}`,
    `--allocators=${opts.allocators.join(",")}`,
    `--omp-wait-policies=${opts.ompWaitPolicies.join(",")}`,
    checkpointArg(opts.checkpoints),
  ];
  const { stdout } = await run(opts.python, args, { maxBuffer: 16 << 20 });
  return (JSON.parse(stdout) as { results: TorchTrainTiming[] }).results;
}

export interface TorchEpochOptions {
  python: string;
  depth: number;
  checkpoint: string;
  batch: number;
  threads: number;
  /** One process setting (the fastest of the step timings): an epoch per setting would take minutes each. */
  allocator: string;
  ompWaitPolicy: string;
  /** Training images, uint8 NHWC 32x32x3, and their labels. */
  pixels: Uint8Array;
  labels: Uint8Array;
}

export interface TorchEpochTiming {
  batch: number;
  images: number;
  seconds: number;
  imagesPerSec: number;
  allocator: string;
  ompWaitPolicy: string;
}

/** One timed fine-tuning epoch in PyTorch (same recipe: shuffle, pad-crop-flip, cifar normalisation, Adam). */
export async function runTorchTrainEpoch(opts: TorchEpochOptions): Promise<TorchEpochTiming> {
  return withTempDir("decomp-bench-epoch-", async (dir) => {
    const file = path.join(dir, "train.u8");
    fs.writeFileSync(file, opts.pixels);
    fs.writeFileSync(`${file}.labels`, opts.labels);
    const { stdout } = await run(opts.python, [
      TORCH_BENCH_SCRIPT,
      `--depths=${opts.depth}`,
      `--batches=${opts.batch}`,
      `--threads=${opts.threads}`,
      `--allocators=${opts.allocator}`,
      `--omp-wait-policies=${opts.ompWaitPolicy}`,
      checkpointArg(new Map([[opts.depth, opts.checkpoint]])),
      `--train-epoch=${file}`,
    ], { maxBuffer: 16 << 20 });
    const [r] = (JSON.parse(stdout) as { results: TorchEpochTiming[] }).results;
    return { batch: r.batch, images: r.images, seconds: r.seconds, imagesPerSec: r.imagesPerSec, allocator: r.allocator, ompWaitPolicy: r.ompWaitPolicy };
  });
}

/** PyTorch's features and logits for the given NHWC images, computed by the same script's model definition. */
export async function torchOracle(python: string, depth: number, checkpoint: string, images: Float32Array): Promise<{ features: Float32Array; logits: Float32Array }> {
  return withTempDir("decomp-bench-", async (dir) => {
    const input = path.join(dir, "images.f32");
    fs.writeFileSync(input, Buffer.from(images.buffer, images.byteOffset, images.byteLength));
    await run(python, [TORCH_BENCH_SCRIPT, `--depths=${depth}`, checkpointArg(new Map([[depth, checkpoint]])), `--oracle-inputs=${input}`]);
    const read = (file: string) => {
      const b = fs.readFileSync(file);
      return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
    };
    return { logits: read(`${input}.logits.f32`), features: read(`${input}.features.f32`) };
  });
}
