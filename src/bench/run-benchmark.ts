/**
 * `decomp bench`: feature-extraction speed of our engines against PyTorch CPU on the same machine, same
 * checkpoints and same (synthetic) inputs, each side at its best batch size and setting.
 */
import * as fs from "fs";
import * as os from "os";
import * as ort from "onnxruntime-node";
import * as tf from "@tensorflow/tfjs";
// Registers the WASM backend and its WASM_HAS_MULTITHREAD_SUPPORT flag, which the report reads.
import "@tensorflow/tfjs-backend-wasm";
import { selectBackend } from "../backend";
import { nchwcBlockSize } from "../models/nchwc";
import { createOnnxEngine, ONNX_BACKEND } from "../models/onnx-engine";
import { loadPretrained, type Pretrained } from "../models/pretrained";
import { CIFAR_MODEL_NAMES, cifarModelEntry, modelEntry } from "../models/registry";
import { checkTrainable } from "../training/params";
import { peakRssMiB } from "./child";
import { imagenetExtractReports } from "./imagenet-bench";
import { imagenetTrainStepReport } from "./imagenet-train-bench";
import { passRssReport } from "./pass-rss";
import { pipelineReport } from "./pipeline-bench";
import { createTfjsEngine } from "../models/tfjs-engine";
import { maxAbsDiff } from "../method/metrics";
import { type Progress, silentProgress } from "../progress";
import type { BenchReport, CsgEpochReport, EngineThroughput, ExtractReport, FinetuneReport } from "./report";
import { type BatchTiming, fastest, sweepBatchSizes, syntheticImages } from "./throughput";
import { DEFAULT_PYTHON, runTorchBench, runTorchTrainBench, runTorchTrainEpoch, type TorchTiming, torchAvailable, torchOracle } from "./torch-bench";
import { projectedEpochSeconds, timeCsgEpoch, timeFineTuneEpoch, timeTrainSteps } from "./train-bench";
import { batchView, loadCifar10 } from "../data";

export interface BenchOptions {
  /**
   * Smaller defaults for every option left unset, so a whole bench takes minutes (under 10 here) instead of over
   * half an hour: one round, fewer images, the fastest PyTorch settings only (frozen, tuned allocator).
   */
  quick?: boolean;
  /** CIFAR ResNets to measure (registry names); default resnet20 and resnet56. */
  models?: string[];
  /** torchvision models measured at their input size against torchvision in PyTorch; default resnet50, efficientnet_b0; [] skips. */
  imagenetModels?: string[];
  imagenetImages?: number;
  imagenetBatches?: number[];
  /** Photograph-sized JPEGs through decode + preprocessing + a model, ours against torchvision's DataLoader; 0 skips. */
  pipelineImages?: number;
  /** The torchvision model of the input-pipeline bench (default resnet50). */
  pipelineModel?: string;
  /** Peak RSS of ResNet50 training passes over this many synthetic images (small inputs; see pass-rss.ts); 0 skips. */
  passRssImages?: number;
  /**
   * Training step of a torchvision model (default resnet50) at its input size, ours against PyTorch's with
   * each side's peak RSS: timed steps per side (median; 0 skips it), batch size (default 16) and input side
   * (default the weights' evaluation crop, 224).
   */
  imagenetTrainSteps?: number;
  imagenetTrainModel?: string;
  imagenetTrainBatch?: number;
  imagenetTrainSide?: number;
  /** Images per timed pass; default 10000, the CIFAR-10 test set size. */
  images?: number;
  /** Batch sizes tried for ONNX Runtime and PyTorch. */
  batches?: number[];
  /** Alternating rounds of (ours, PyTorch); each configuration keeps its fastest pass. */
  rounds?: number;
  /** Threads inside one operator for every measurement, ours and PyTorch's (default every core). */
  threads?: number;
  /** ONNX Runtime thread spinning (OnnxEngineOptions.spinning). */
  spinning?: boolean;
  /** TF.js WASM reference: images per pass (0 skips it) and batch sizes. */
  tfjsImages?: number;
  tfjsBatches?: number[];
  /** Python with torch; null skips PyTorch (ratios become null). */
  python?: string | null;
  torchModes?: string[];
  torchAllocators?: string[];
  torchWaitPolicies?: string[];
  /** Images compared with PyTorch's logits and features. */
  parityImages?: number;
  /** Fine-tuning: timed training steps per side (0 skips it) at this batch size, for resnet20. */
  trainSteps?: number;
  trainBatch?: number;
  /**
   * Also time one real fine-tuning epoch per side over the first N CIFAR-10 training images (50000 = the
   * whole set: about 2 + 1 minutes here), PyTorch in its fastest step setting; the fine-tune ratio then
   * compares these epochs. 0 or absent: steps only. Needs CIFAR-10 (fetched like every other artifact).
   */
  finetuneEpochImages?: number;
  /**
   * Time one CSG epoch and one decomposed fine-tuning epoch of ResNet20 on our training engine, over the first
   * N CIFAR-10 training images (50000 = the whole set); 0 or absent: not measured.
   */
  csgEpochImages?: number;
  onProgress?: Progress;
}

const WASM_THREADS_REASON =
  "tfjs-backend-wasm 4.22 reports no thread support whenever it runs in Node (tfjs issue #3830); forcing " +
  "WASM_HAS_MULTITHREAD_SUPPORT loads the threaded-simd build, but Emscripten's pthread pool then starts its " +
  "workers from blob: URLs, which Node's worker_threads rejects (ERR_WORKER_PATH), so the backend fails to initialise";

/** The depth of an option-A CIFAR ResNet, the architecture the PyTorch script builds. */
function optionADepth(name: string): number {
  const entry = modelEntry(name);
  if (entry.kind !== "cifar-resnet" || entry.depth === null) {
    const optionA = CIFAR_MODEL_NAMES.filter((m) => cifarModelEntry(m, "decomp bench").depth !== null);
    throw new Error(`decomp bench --models supports the option-A CIFAR ResNets PyTorch's side builds (${optionA.join(", ")}), not ${name}`);
  }
  return entry.depth;
}

const depthOf = (p: Pretrained) => optionADepth(p.entry.name);

function throughput(backend: string, sweep: BatchTiming[]): EngineThroughput {
  return { backend, best: fastest(sweep), sweep };
}

/** Keep, per batch size, the fastest of the rounds. */
function bestPerBatch(rounds: BatchTiming[][]): BatchTiming[] {
  return rounds[0].map((t, i) => rounds.reduce((best, r) => (r[i].imagesPerSec > best.imagesPerSec ? r[i] : best), t));
}

/** Defaults of the full run and of --quick; explicit options override either. */
const DEFAULTS = {
  full: {
    images: 10000, rounds: 2, batches: [32, 64, 128, 256], tfjsImages: 1000, parityImages: 256,
    torchModes: ["eager", "frozen"], torchAllocators: ["default", "tuned"], torchWaitPolicies: ["default", "passive"],
    imagenetImages: 96, imagenetBatches: [8, 16, 32], pipelineImages: 64, passRssImages: 100_000, imagenetTrainSteps: 5,
  },
  quick: {
    images: 2000, rounds: 1, batches: [64, 128], tfjsImages: 200, parityImages: 64,
    torchModes: ["frozen"], torchAllocators: ["tuned"], torchWaitPolicies: ["default"],
    imagenetImages: 32, imagenetBatches: [16], pipelineImages: 32, passRssImages: 0, imagenetTrainSteps: 3,
  },
};

const CHOICES = { torchModes: ["eager", "frozen"], torchAllocators: ["default", "tuned"], torchWaitPolicies: ["default", "passive"] } as const;

/** Every option checked before the first model loads: a typo must not cost the minutes of a benchmark. */
export function validateBenchOptions(opts: BenchOptions): void {
  for (const name of opts.models ?? []) optionADepth(name);
  for (const name of opts.imagenetModels ?? []) {
    if (modelEntry(name).kind !== "torchvision") throw new Error(`--imagenet-models takes torchvision models (decomp models lists them), not ${name}`);
  }
  if (opts.imagenetTrainModel !== undefined) {
    const entry = modelEntry(opts.imagenetTrainModel);
    if (entry.kind !== "torchvision") throw new Error(`--imagenet-train-model takes a torchvision model (decomp models lists them), not ${entry.name}`);
    checkTrainable(entry.buildSpec());
  }
  if (opts.models !== undefined && opts.models.length === 0) throw new Error("--models names no model; give e.g. resnet20,resnet56");
  for (const [option, allowed] of Object.entries(CHOICES) as [keyof typeof CHOICES, readonly string[]][]) {
    const given = opts[option];
    if (given === undefined) continue;
    if (given.length === 0) throw new Error(`${option} is empty; choose from ${allowed.join(", ")}`);
    for (const v of given) if (!allowed.includes(v)) throw new Error(`${option}: '${v}' is not one of ${allowed.join(", ")}`);
  }
  for (const option of ["pipelineImages", "passRssImages", "imagenetTrainSteps"] as const) {
    const value = opts[option];
    if (value !== undefined && !(Number.isInteger(value) && value >= 0)) throw new Error(`${option} must be 0 (skip) or a positive integer, got ${value}`);
  }
  for (const option of ["images", "rounds", "threads", "imagenetImages", "imagenetTrainBatch", "imagenetTrainSide"] as const) {
    const value = opts[option];
    if (value !== undefined && (!Number.isInteger(value) || value < 1)) throw new Error(`${option} must be a positive integer, got ${value}`);
  }
  // The default python may be absent on a user's machine: then the bench runs our side only, as before.
  if (typeof opts.python === "string" && opts.python !== DEFAULT_PYTHON && !fs.existsSync(opts.python)) {
    throw new Error(`--python ${opts.python} does not exist; install Debian's python3-torch and pass /usr/bin/python3, or 'none' to skip PyTorch`);
  }
}

export async function runBenchmark(opts: BenchOptions = {}): Promise<BenchReport> {
  validateBenchOptions(opts);
  const preset = opts.quick ? DEFAULTS.quick : DEFAULTS.full;
  const models = opts.models ?? ["resnet20", "resnet56"];
  const images = opts.images ?? preset.images;
  const batches = opts.batches ?? preset.batches;
  const rounds = opts.rounds ?? preset.rounds;
  const threads = opts.threads ?? os.availableParallelism();
  const tfjsImages = Math.min(opts.tfjsImages ?? preset.tfjsImages, images);
  const parityImages = Math.min(opts.parityImages ?? preset.parityImages, images);
  const torchModes = opts.torchModes ?? preset.torchModes;
  const torchAllocators = opts.torchAllocators ?? preset.torchAllocators;
  const torchWaitPolicies = opts.torchWaitPolicies ?? preset.torchWaitPolicies;
  const progress = opts.onProgress ?? silentProgress;
  const python = opts.python === undefined ? DEFAULT_PYTHON : opts.python;
  const spinning = opts.spinning ?? false;
  const loadBefore = os.loadavg()[0];

  const torch = python === null ? { ok: false as const, reason: "skipped (python: null)" } : await torchAvailable(python);
  // First, while this process holds nothing else, so its peak RSS is the model's own.
  const imagenet = await imagenetExtractReports({
    models: opts.imagenetModels ?? ["resnet50", "efficientnet_b0"],
    batches: opts.imagenetBatches ?? preset.imagenetBatches,
    images: opts.imagenetImages ?? preset.imagenetImages,
    threads,
    spinning,
    python: torch.ok ? python : null,
    torchModes,
    progress,
  });
  const pipelineImages = opts.pipelineImages ?? preset.pipelineImages;
  const pipeline = pipelineImages === 0 ? null : await pipelineReport({ model: opts.pipelineModel ?? "resnet50", images: pipelineImages, batch: 16, threads, python: torch.ok ? python : null, progress });
  const passRssImages = opts.passRssImages ?? preset.passRssImages;
  const passRss = passRssImages === 0 ? null : await passRssReport({ images: passRssImages, progress });
  const imagenetTrainSteps = opts.imagenetTrainSteps ?? preset.imagenetTrainSteps;
  const imagenetTrainModel = opts.imagenetTrainModel ?? "resnet50";
  const imagenetTrain = imagenetTrainSteps === 0 ? null : await imagenetTrainStepReport({
    model: imagenetTrainModel,
    side: opts.imagenetTrainSide ?? modelEntry(imagenetTrainModel).buildSpec().inputShape[0],
    batch: opts.imagenetTrainBatch ?? 16,
    steps: imagenetTrainSteps,
    // Two untimed steps per side: in one run our second ResNet50 step (batch 16) took 9.0 s against about 3.1 s
    // for the later ones.
    warmup: 2,
    threads,
    python: torch.ok ? python : null,
    progress,
  });
  const pretrained = new Map<string, Pretrained>();
  for (const name of models) pretrained.set(name, await loadPretrained(name, { onProgress: progress }));
  const data = syntheticImages(images, 0);

  const ourRounds = new Map<string, BatchTiming[][]>(models.map((m) => [m, []]));
  const torchRounds: TorchTiming[][] = [];
  for (let round = 0; round < rounds; round++) {
    for (const name of models) {
      const p = pretrained.get(name)!;
      const engine = await createOnnxEngine(p.spec, p.stateDict, { intraOpThreads: threads, spinning });
      try {
        const stage = `bench ${name} ${ONNX_BACKEND} round ${round + 1}/${rounds}`;
        ourRounds.get(name)!.push(await sweepBatchSizes(engine, data, images, { batches, repeats: 1, stage, progress }));
      } finally {
        engine.dispose();
      }
    }
    if (torch.ok) {
      progress({ stage: `bench pytorch round ${round + 1}/${rounds}`, done: 0, total: 1 });
      const result = await runTorchBench({
        python: python!,
        depths: models.map((m) => depthOf(pretrained.get(m)!)),
        batches,
        images,
        repeats: 1,
        threads,
        modes: torchModes,
        allocators: torchAllocators,
        ompWaitPolicies: torchWaitPolicies,
        checkpoints: new Map(models.map((m) => [depthOf(pretrained.get(m)!), pretrained.get(m)!.checkpointPath])),
      });
      torchRounds.push(result.results);
      progress({ stage: `bench pytorch round ${round + 1}/${rounds}`, done: 1, total: 1 });
    }
  }

  let tfjsBackend: string | null = null;
  if (tfjsImages > 0) {
    const info = await selectBackend({ force: "wasm", logger: () => {} });
    tfjsBackend = `tfjs/${info.tfBackend}`;
  }

  const finetune = { resnet20: await finetuneReport(pretrained.get("resnet20"), opts, torch.ok ? python : null, threads, progress) };
  const csg = await csgEpochReport(pretrained.get("resnet20"), opts.csgEpochImages ?? 0, opts.trainBatch ?? 64, threads, progress);

  const extract: Record<string, ExtractReport> = {};
  for (const name of models) {
    const p = pretrained.get(name)!;
    const ours = throughput(ONNX_BACKEND, bestPerBatch(ourRounds.get(name)!));

    let tfjs: EngineThroughput | null = null;
    if (tfjsBackend) {
      const engine = createTfjsEngine(p.spec, p.stateDict);
      try {
        const sweep = await sweepBatchSizes(engine, data.subarray(0, tfjsImages * 3072), tfjsImages, {
          batches: opts.tfjsBatches ?? [64],
          repeats: 1,
          stage: `bench ${name} ${tfjsBackend}`,
          progress,
        });
        tfjs = throughput(tfjsBackend, sweep);
      } finally {
        engine.dispose();
      }
    }

    const torchSweep = torchRounds.flat().filter((t) => t.depth === depthOf(p));
    const torchBest = torchSweep.length > 0 ? fastest(torchSweep) : null;
    let maxAbsLogitDiff: number | null = null;
    let maxAbsFeatureDiff: number | null = null;
    if (torch.ok && parityImages > 0) {
      const sample = data.subarray(0, parityImages * 3072);
      const engine = await createOnnxEngine(p.spec, p.stateDict, { intraOpThreads: threads });
      try {
        const [mine, theirs] = await Promise.all([engine.forward(sample, parityImages), torchOracle(python!, depthOf(p), p.checkpointPath, sample)]);
        maxAbsLogitDiff = maxAbsDiff(mine.logits, theirs.logits);
        maxAbsFeatureDiff = maxAbsDiff(mine.features, theirs.features);
      } finally {
        engine.dispose();
      }
    }
    extract[name] = {
      model: name,
      ours,
      tfjs,
      torch: torchBest ? { best: torchBest, sweep: torchSweep } : null,
      ratio: torchBest ? ours.best.imagesPerSec / torchBest.imagesPerSec : null,
      tfjsRatio: torchBest && tfjs ? tfjs.best.imagesPerSec / torchBest.imagesPerSec : null,
      maxAbsLogitDiff,
      maxAbsFeatureDiff,
      parityImages: maxAbsLogitDiff === null ? 0 : parityImages,
    };
  }

  return {
    createdAt: new Date().toISOString(),
    machine: {
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model ?? "unknown",
      node: process.version,
      onnxruntime: ort.env.versions.node ?? "unknown",
      loadAverage: { before: loadBefore, after: os.loadavg()[0] },
      ourAllocator: process.env.GLIBC_TUNABLES ? `GLIBC_TUNABLES=${process.env.GLIBC_TUNABLES}` : "default",
      ourSpinning: spinning,
      nchwcBlock: await nchwcBlockSize(),
      threads,
    },
    input: "synthetic N(0,1) already-normalised 32x32x3 images (seed 0); speed does not depend on pixel values",
    images,
    rounds,
    extract,
    imagenet,
    pipeline,
    passRss,
    imagenetTrain,
    finetune,
    csg,
    torch: { available: torch.ok, version: torch.ok ? torch.version : null, reason: torch.ok ? null : torch.reason },
    wasmThreads: { multiThreaded: (await tf.env().getAsync("WASM_HAS_MULTITHREAD_SUPPORT")) === true, reason: WASM_THREADS_REASON },
    peakRssMiB: peakRssMiB(),
  };
}

/** One CSG epoch against one decomposed fine-tuning epoch, back to back on the same images and engine. */
async function csgEpochReport(p: Pretrained | undefined, images: number, batch: number, threads: number, progress: Progress): Promise<CsgEpochReport | null> {
  if (p === undefined || images === 0) return null;
  const all = await loadCifar10("train", { onProgress: progress });
  const train = batchView(all, 0, Math.min(images, all.count));
  const epochOptions = { batch, onProgress: progress, intraOpThreads: threads };
  const fineTune = await timeFineTuneEpoch(p.spec, p.stateDict, train, epochOptions);
  const csg = await timeCsgEpoch(p.spec, p.stateDict, train, epochOptions);
  return { model: p.entry.name, fineTune, csg, ratio: csg.seconds / fineTune.seconds };
}

const FINETUNE_METHOD =
  "median of timed training steps (forward, backward, Adam; BN in train mode; head masked to 5 features per class) " +
  "on synthetic batches, each side projected to one 50,000-image epoch as ceil(50000 / batch) x step time";

/** Fine-tuning speed of ResNet20: our training engine's step against PyTorch's at the same batch size. */
async function finetuneReport(p: Pretrained | undefined, opts: BenchOptions, python: string | null, threads: number, progress: Progress): Promise<FinetuneReport> {
  const steps = opts.trainSteps ?? 10;
  const batch = opts.trainBatch ?? 64;
  if (p === undefined || steps === 0) return { ratio: null, note: "not measured (resnet20 not benchmarked, or trainSteps 0)", ours: null, torch: null, epoch: null };
  progress({ stage: "bench fine-tune step resnet20", done: 0, total: 2 });
  const ours = await timeTrainSteps(p.spec, p.stateDict, { batch, steps, intraOpThreads: threads });
  progress({ stage: "bench fine-tune step resnet20", done: 1, total: 2 });
  const epochImages = opts.finetuneEpochImages ?? 0;
  const fullTrain = epochImages > 0 ? await loadCifar10("train", { onProgress: progress }) : null;
  const train = fullTrain ? batchView(fullTrain, 0, Math.min(epochImages, fullTrain.count)) : null;
  const ourEpoch = train ? await timeFineTuneEpoch(p.spec, p.stateDict, train, { batch, onProgress: progress, intraOpThreads: threads }) : null;
  if (python === null) {
    return { ratio: null, note: `PyTorch absent; ${FINETUNE_METHOD}`, ours, torch: null, epoch: ourEpoch ? { ours: ourEpoch, torch: null, ratio: null } : null };
  }
  const timings = await runTorchTrainBench({
    python,
    depths: [depthOf(p)],
    batches: [batch],
    steps,
    warmup: 2,
    threads,
    allocators: opts.torchAllocators ?? ["tuned"],
    ompWaitPolicies: opts.torchWaitPolicies ?? ["default", "passive"],
    checkpoints: new Map([[depthOf(p), p.checkpointPath]]),
  });
  progress({ stage: "bench fine-tune step resnet20", done: 2, total: 2 });
  const best = timings.reduce((a, b) => (b.msPerStep < a.msPerStep ? b : a));
  const torch = { ...best, projectedEpochSeconds: projectedEpochSeconds(best.msPerStep, batch) };
  if (train && ourEpoch) {
    progress({ stage: "bench fine-tune epoch resnet20 (pytorch)", done: 0, total: 1 });
    const theirs = await runTorchTrainEpoch({
      python, depth: depthOf(p), checkpoint: p.checkpointPath, batch, threads,
      allocator: best.allocator, ompWaitPolicy: best.ompWaitPolicy, pixels: train.pixels, labels: train.labels,
    });
    progress({ stage: "bench fine-tune epoch resnet20 (pytorch)", done: 1, total: 1 });
    const ratio = ourEpoch.seconds / theirs.seconds;
    return { ratio, note: `timed epochs (${train.count} CIFAR-10 training images, batch ${batch}, augmentation and Adam included, test evaluation not); steps: ${FINETUNE_METHOD}`, ours, torch, epoch: { ours: ourEpoch, torch: theirs, ratio } };
  }
  return { ratio: ours.msPerStep / best.msPerStep, note: `projected, not a timed epoch: ${FINETUNE_METHOD}`, ours, torch, epoch: null };
}
