/**
 * Feature extraction of torchvision's ImageNet models (ResNet50, EfficientNet-B0 by default) at their input size:
 * our ONNX Runtime engine on the model description with seeded random weights against torchvision's own model in
 * PyTorch CPU (scripts/bench-torchvision.py, random weights too: speed does not depend on their values), each at
 * its best batch size and mode, with each side's peak resident memory; and, where PyTorch is there, the same model
 * exported by torch.onnx.export and imported as any user's file (src/models/import), on the same engine.
 */
import { execFile } from "node:child_process";
import * as path from "node:path";
import { promisify } from "node:util";
import { importOnnx, openImportedEngine } from "../models/import/onnx-model";
import { createOnnxEngine, ONNX_BACKEND } from "../models/onnx-engine";
import { modelEntry } from "../models/registry";
import type { Progress } from "../progress";
import { initialStateDict } from "../training/init";
import { withTempDir } from "./temp-dir";
import { type BatchTiming, fastest, sweepBatchSizes, syntheticImages } from "./throughput";

const run = promisify(execFile);
export const TORCHVISION_BENCH_SCRIPT = path.resolve(__dirname, "..", "..", "scripts", "bench-torchvision.py");

export interface TorchvisionTiming extends BatchTiming {
  model: string;
  /** eager: the nn.Module; frozen: TorchScript trace + freeze + optimize_for_inference. */
  mode: string;
}

export interface ImagenetExtractReport {
  model: string;
  /** Square input side (the weight's evaluation crop). */
  inputSize: number;
  images: number;
  ours: { backend: string; best: BatchTiming; sweep: BatchTiming[]; peakRssMiB: number; rssBeforeMiB: number };
  torch: { best: TorchvisionTiming; sweep: TorchvisionTiming[]; peakRssMiB: number } | null;
  /** Our best images/s over PyTorch's best (goal: at least 1). */
  ratio: number | null;
  /** torch's ONNX export of the model, imported (null without PyTorch). */
  imported: { best: BatchTiming; sweep: BatchTiming[] } | null;
  /** Imported over the registry description's best images/s (goal: at least 0.9), and over PyTorch's (goal: at least 1). */
  importedRatio: number | null;
  importedVsTorch: number | null;
}

export interface ImagenetBenchOptions {
  models: string[];
  batches: number[];
  images: number;
  threads: number;
  spinning: boolean;
  /** Python with torch and torchvision; null: our side only. */
  python: string | null;
  torchModes: string[];
  progress: Progress;
}

const mib = (bytes: number) => bytes / (1 << 20);

/** Runs `work` while sampling this process's RSS; returns its result and the highest RSS seen. */
async function withPeakRss<T>(work: () => Promise<T>): Promise<{ result: T; peakMiB: number }> {
  let peak = process.memoryUsage.rss();
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 20);
  try {
    const result = await work();
    return { result, peakMiB: mib(Math.max(peak, process.memoryUsage.rss())) };
  } finally {
    clearInterval(timer);
  }
}

export async function imagenetExtractReports(opts: ImagenetBenchOptions): Promise<Record<string, ImagenetExtractReport>> {
  const out: Record<string, ImagenetExtractReport> = {};
  const torchRuns = opts.python === null ? null : await torchvisionBench(opts);
  const imports = opts.python === null ? null : await importedRuns(opts);
  for (const name of opts.models) {
    const entry = modelEntry(name);
    const spec = entry.buildSpec();
    const side = spec.inputShape[0];
    const rssBefore = mib(process.memoryUsage.rss());
    const { result: sweep, peakMiB } = await withPeakRss(async () => {
      const engine = await createOnnxEngine(spec, initialStateDict(spec, 0), { intraOpThreads: opts.threads, spinning: opts.spinning });
      try {
        const data = syntheticImages(opts.images, 0, side * side * 3);
        return await sweepBatchSizes(engine, data, opts.images, { batches: opts.batches, repeats: 1, warmup: 1, stage: `bench ${name} ${side}x${side} ${ONNX_BACKEND}`, progress: opts.progress });
      } finally {
        engine.dispose();
      }
    });
    const theirs = torchRuns?.find((m) => m.model === name) ?? null;
    const ours = { backend: ONNX_BACKEND, best: fastest(sweep), sweep, peakRssMiB: peakMiB, rssBeforeMiB: rssBefore };
    const torch = theirs === null ? null : { best: fastest(theirs.results), sweep: theirs.results, peakRssMiB: theirs.peakRssMiB };
    const imported = imports?.get(name) ?? null;
    out[name] = {
      model: name, inputSize: side, images: opts.images, ours, torch, ratio: torch === null ? null : ours.best.imagesPerSec / torch.best.imagesPerSec,
      imported, importedRatio: imported === null ? null : imported.best.imagesPerSec / ours.best.imagesPerSec,
      importedVsTorch: imported === null || torch === null ? null : imported.best.imagesPerSec / torch.best.imagesPerSec,
    };
  }
  return out;
}

/** Each model as torch.onnx.export writes it, imported and timed at the same batches on the same engine settings. */
async function importedRuns(opts: ImagenetBenchOptions): Promise<Map<string, { best: BatchTiming; sweep: BatchTiming[] }>> {
  const runs = new Map<string, { best: BatchTiming; sweep: BatchTiming[] }>();
  await withTempDir("decomp-bench-onnx-", async (dir) => {
    for (const name of opts.models) {
      const side = modelEntry(name).buildSpec().inputShape[0];
      await run(opts.python!, [TORCHVISION_BENCH_SCRIPT, `--models=${name}`, `--size=${side}`, `--export-onnx=${dir}`], { maxBuffer: 16 << 20 });
      const engine = await openImportedEngine(importOnnx(path.join(dir, `${name}.onnx`)), { intraOpThreads: opts.threads, spinning: opts.spinning });
      try {
        const data = syntheticImages(opts.images, 0, side * side * 3);
        const sweep = await sweepBatchSizes(engine, data, opts.images, { batches: opts.batches, repeats: 1, warmup: 1, stage: `bench ${name} imported from torch.onnx.export`, progress: opts.progress });
        runs.set(name, { best: fastest(sweep), sweep });
      } finally {
        engine.dispose();
      }
    }
  });
  return runs;
}

async function torchvisionBench(opts: ImagenetBenchOptions): Promise<{ model: string; results: TorchvisionTiming[]; peakRssMiB: number }[]> {
  const models = [];
  for (const name of opts.models) {
    const stage = `bench ${name} pytorch (torchvision)`;
    opts.progress({ stage, done: 0, total: 1 });
    const side = modelEntry(name).buildSpec().inputShape[0];
    const { stdout } = await run(opts.python!, [
      TORCHVISION_BENCH_SCRIPT,
      `--models=${name}`,
      `--batches=${opts.batches.join(",")}`,
      `--modes=${opts.torchModes.join(",")}`,
      `--images=${opts.images}`,
      `--size=${side}`,
      `--threads=${opts.threads}`,
    ], { maxBuffer: 16 << 20 });
    models.push(...(JSON.parse(stdout) as { models: { model: string; results: TorchvisionTiming[]; peakRssMiB: number }[] }).models);
    opts.progress({ stage, done: 1, total: 1 });
  }
  return models;
}
