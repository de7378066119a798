/** The `decomp bench` report: what was measured, how, and the ratios against PyTorch; plus its text form. */
import type { ImagenetExtractReport } from "./imagenet-bench";
import type { ImagenetTrainStepReport } from "./imagenet-train-bench";
import type { PassRssReport } from "./pass-rss";
import type { PipelineReport } from "./pipeline-bench";
import type { BatchTiming } from "./throughput";
import type { TorchEpochTiming, TorchTiming, TorchTrainTiming } from "./torch-bench";
import type { EpochTiming, TrainStepTiming } from "./train-bench";

export interface EngineThroughput {
  backend: string;
  /** Fastest batch size over all rounds. */
  best: BatchTiming;
  sweep: BatchTiming[];
}

export interface ExtractReport {
  model: string;
  ours: EngineThroughput;
  /** TF.js on its WASM backend, for reference (often on fewer images; see sweep[].images). */
  tfjs: EngineThroughput | null;
  /** PyTorch's best over batch sizes, eager/frozen and allocator settings; null where PyTorch is absent. */
  torch: { best: TorchTiming; sweep: TorchTiming[] } | null;
  /** ours / PyTorch images/s, each at its best batch size and setting. */
  ratio: number | null;
  /** TF.js WASM / PyTorch images/s. */
  tfjsRatio: number | null;
  /** Largest |ours - PyTorch| over the logits (and features) of the same images, same checkpoint. */
  maxAbsLogitDiff: number | null;
  maxAbsFeatureDiff: number | null;
  parityImages: number;
}

export interface FinetuneReport {
  /**
   * Our epoch time / PyTorch's: of the timed epochs where they were run (`epoch`), else projected from the
   * median step times at the same batch; null where PyTorch is absent. `note` says which.
   */
  ratio: number | null;
  note: string;
  /** Our training step on the engine fine-tuning uses; null where not measured. */
  ours: TrainStepTiming | null;
  /** PyTorch's fastest process setting at the same batch size. */
  torch: (TorchTrainTiming & { projectedEpochSeconds: number }) | null;
  /** One real epoch per side over the CIFAR-10 training set (bench option finetuneEpoch), else null. */
  epoch: { ours: EpochTiming; torch: TorchEpochTiming | null; ratio: number | null } | null;
}

/** One CSG epoch (CSG path: gated step, hinge, G update, renormalisation) against one decomposed fine-tuning epoch. */
export interface CsgEpochReport {
  model: string;
  fineTune: EpochTiming;
  csg: EpochTiming;
  /** CSG epoch seconds / fine-tune epoch seconds (goal: at most 1.15). */
  ratio: number;
}

export interface BenchReport {
  createdAt: string;
  machine: {
    cpus: number;
    cpuModel: string;
    node: string;
    onnxruntime: string;
    /** 1-minute load average before and after: above the core count, the machine was shared and numbers are low. */
    loadAverage: { before: number; after: number };
    /** Our process's glibc malloc setting (the GLIBC_TUNABLES it was started with), or "default". */
    ourAllocator: string;
    /** Whether ONNX Runtime's idle intra-op threads spin (see OnnxEngineOptions.spinning). */
    ourSpinning: boolean;
    /** Channels per block of ONNX Runtime's NCHWc kernels (our training step's convolutions), null where absent. */
    nchwcBlock: number | null;
    threads: number;
  };
  input: string;
  images: number;
  rounds: number;
  extract: Record<string, ExtractReport>;
  /** torchvision models at their input size, ours against torchvision in PyTorch. */
  imagenet: Record<string, ImagenetExtractReport>;
  /** Decode + preprocess + forward over a folder of JPEGs, or null when skipped. */
  pipeline: PipelineReport | null;
  /** Peak RSS of ResNet50 training passes against the number of images, or null when skipped. */
  passRss: PassRssReport | null;
  /** Training step of a torchvision model at its input size (ResNet50 at 224 by default), or null when skipped. */
  imagenetTrain: ImagenetTrainStepReport | null;
  finetune: Record<string, FinetuneReport>;
  /** Timed with the bench option csgEpochImages, else null. */
  csg: CsgEpochReport | null;
  torch: { available: boolean; version: string | null; reason: string | null };
  wasmThreads: { multiThreaded: boolean; reason: string };
  /** Peak resident set size of our process (ru_maxrss) after all measurements. */
  peakRssMiB: number;
}

const f0 = (x: number) => x.toFixed(0);
const ratioText = (r: number | null) => (r === null ? "n/a" : `${r.toFixed(2)}x`);

export function formatBenchReport(r: BenchReport): string {
  const m = r.machine;
  const lines = [
    `decomp bench: ${m.cpus} x ${m.cpuModel}, node ${m.node}, onnxruntime ${m.onnxruntime}, ${m.threads} threads`,
    `input: ${r.input}; ${r.images} images per pass, best of ${r.rounds} round(s)`,
    `load average ${m.loadAverage.before.toFixed(2)} -> ${m.loadAverage.after.toFixed(2)}` +
      (Math.max(m.loadAverage.before, m.loadAverage.after) > m.cpus ? "  (machine was shared: absolute numbers are low)" : ""),
    `PyTorch: ${r.torch.available ? `torch ${r.torch.version}` : `absent (${r.torch.reason})`}`,
    "",
  ];
  for (const [name, e] of Object.entries(r.extract)) {
    lines.push(`extract ${name}:`);
    lines.push(`  ours  ${e.ours.backend.padEnd(22)} ${f0(e.ours.best.imagesPerSec).padStart(6)} images/s  (batch ${e.ours.best.batch}, allocator ${m.ourAllocator}, spinning ${m.ourSpinning ? "on" : "off"})`);
    lines.push(`        sweep: ${e.ours.sweep.map((t) => `${t.batch}:${f0(t.imagesPerSec)}`).join("  ")}`);
    if (e.torch) {
      const t = e.torch.best;
      lines.push(`  torch ${`pytorch/cpu ${t.mode}`.padEnd(22)} ${f0(t.imagesPerSec).padStart(6)} images/s  (batch ${t.batch}, allocator ${t.allocator}, OpenMP wait ${t.ompWaitPolicy})`);
    }
    if (e.tfjs) {
      lines.push(`  tfjs  ${e.tfjs.backend.padEnd(22)} ${f0(e.tfjs.best.imagesPerSec).padStart(6)} images/s  (batch ${e.tfjs.best.batch}, ${e.tfjs.best.images} images)`);
    }
    lines.push(`  ratio ours/torch ${ratioText(e.ratio)}, tfjs/torch ${ratioText(e.tfjsRatio)}`);
    if (e.maxAbsLogitDiff !== null) {
      lines.push(`  max |logit diff| vs PyTorch ${e.maxAbsLogitDiff.toExponential(2)}, features ${e.maxAbsFeatureDiff?.toExponential(2)} (${e.parityImages} images)`);
    }
  }
  for (const [name, e] of Object.entries(r.imagenet)) {
    lines.push(`extract ${name} (${e.inputSize} x ${e.inputSize}, random weights, ${e.images} images per pass):`);
    lines.push(`  ours  ${e.ours.backend.padEnd(22)} ${e.ours.best.imagesPerSec.toFixed(1).padStart(6)} images/s  (batch ${e.ours.best.batch}; peak RSS ${f0(e.ours.peakRssMiB)} MiB, ${f0(e.ours.rssBeforeMiB)} before the model)`);
    lines.push(`        sweep: ${e.ours.sweep.map((t) => `${t.batch}:${t.imagesPerSec.toFixed(1)}`).join("  ")}`);
    if (e.torch) {
      const t = e.torch.best;
      lines.push(`  torch ${`pytorch/cpu ${t.mode}`.padEnd(22)} ${t.imagesPerSec.toFixed(1).padStart(6)} images/s  (batch ${t.batch}; peak RSS ${f0(e.torch.peakRssMiB)} MiB, own process)`);
      lines.push(`        sweep: ${e.torch.sweep.map((s) => `${s.mode} ${s.batch}:${s.imagesPerSec.toFixed(1)}`).join("  ")}`);
    }
    lines.push(`  ratio ours/torch ${ratioText(e.ratio)} (goal >= 1.0x)`);
    if (e.imported) {
      const t = e.imported.best;
      lines.push(`  imported ${"torch.onnx.export".padEnd(19)} ${t.imagesPerSec.toFixed(1).padStart(6)} images/s  (batch ${t.batch}; sweep ${e.imported.sweep.map((s) => `${s.batch}:${s.imagesPerSec.toFixed(1)}`).join("  ")})`);
      lines.push(`  ratio imported/ours ${ratioText(e.importedRatio)} (goal >= 0.9x), imported/torch ${ratioText(e.importedVsTorch)} (goal >= 1.0x)`);
    }
  }
  if (r.pipeline) {
    const p = r.pipeline;
    const s = p.ours.stages;
    lines.push(`input pipeline ${p.model} (${p.images} JPEGs of ${p.imageSize[0]} x ${p.imageSize[1]}, ${p.recipe}, batch ${p.batch}):`);
    lines.push(`  ours  ${p.ours.backend.padEnd(22)} ${p.ours.imagesPerSec.toFixed(1).padStart(6)} images/s  (alone: decode ${(s.decodeSeconds * 1000 / p.images).toFixed(1)} ms/image, preprocess ${(s.preprocessSeconds * 1000 / p.images).toFixed(1)} ms/image, forward ${(s.forwardSeconds * 1000 / p.images).toFixed(1)} ms/image)`);
    if (p.torch) {
      const t = p.torch;
      lines.push(`  torch ${"DataLoader + pytorch/cpu".padEnd(22)} ${t.imagesPerSec.toFixed(1).padStart(6)} images/s  (${t.workers} workers; alone: decode + transforms ${(t.stages.decodeTransformSeconds * 1000 / p.images).toFixed(1)} ms/image, forward ${(t.stages.forwardSeconds * 1000 / p.images).toFixed(1)} ms/image; sweep ${t.sweep.map((w) => `${w.workers}:${w.imagesPerSec.toFixed(1)}`).join("  ")})`);
    }
    lines.push(`  ratio ours/torch ${ratioText(p.ratio)} (goal >= 1.0x)`);
  }
  if (r.passRss) {
    const p = r.passRss;
    lines.push(`training-pass memory ${p.model} (top 50 indices per image kept; each pass alone in its process):`);
    for (const run of p.runs) {
      lines.push(`  ${String(run.images).padStart(8)} images at ${run.side} x ${run.side}: peak RSS ${f0(run.peakRssMiB)} MiB, ${run.imagesPerSec.toFixed(1)} images/s, pass file ${(run.fileBytes / 1048576).toFixed(1)} MiB`);
    }
    lines.push(`  growth measured ${f0(p.measuredBytesPerImage)} bytes/image, charged ${f0(p.bytesPerImage)} (at least the pass file's); projected over ${p.projected.images} images at 224 x 224: ${f0(p.projected.peakRssMiB)} MiB (goal < 3072)`);
  }
  if (r.imagenetTrain) {
    const t = r.imagenetTrain;
    lines.push(`training step ${t.model} (${t.side} x ${t.side}, batch ${t.batch}, decomposed head, Adam; each side alone in its process):`);
    lines.push(`  ours  ${t.ours.engine.padEnd(22)} ${t.ours.msPerStep.toFixed(0).padStart(6)} ms/step  (${t.ours.imagesPerSec.toFixed(2)} images/s, median of ${t.ours.steps}, peak RSS ${f0(t.ours.peakRssMiB)} MiB)`);
    if (t.torch) lines.push(`  torch ${"pytorch/cpu train".padEnd(22)} ${t.torch.msPerStep.toFixed(0).padStart(6)} ms/step  (${t.torch.imagesPerSec.toFixed(2)} images/s, median of ${t.torch.steps}, peak RSS ${f0(t.torch.peakRssMiB)} MiB)`);
    lines.push(`  ratio ours/torch step time ${ratioText(t.ratio)} (goal <= 1.0x)`);
  }
  for (const [name, f] of Object.entries(r.finetune)) {
    lines.push(`finetune ${name}: ratio ours/torch epoch time ${ratioText(f.ratio)} (${f.note})`);
    if (f.ours) {
      const onnx = f.ours.engine.startsWith("onnxruntime");
      const convolutions = !onnx ? "" : m.nchwcBlock === null ? ", plain convolutions" : `, NCHWc convolutions (block ${m.nchwcBlock})`;
      lines.push(`  ours  ${f.ours.engine.padEnd(22)} ${f0(f.ours.imagesPerSec).padStart(6)} images/s  (batch ${f.ours.batch}, ${f.ours.msPerStep.toFixed(0)} ms/step, epoch ~${f0(f.ours.projectedEpochSeconds)} s${convolutions}${f.ours.settings ? `, ${f.ours.settings}` : ""})`);
    }
    if (f.torch) lines.push(`  torch ${"pytorch/cpu train".padEnd(22)} ${f0(f.torch.imagesPerSec).padStart(6)} images/s  (batch ${f.torch.batch}, ${f.torch.msPerStep.toFixed(0)} ms/step, epoch ~${f0(f.torch.projectedEpochSeconds)} s, allocator ${f.torch.allocator}, OpenMP wait ${f.torch.ompWaitPolicy})`);
    if (f.epoch) {
      const e = f.epoch;
      lines.push(`  timed epoch: ours ${f0(e.ours.seconds)} s (${f0(e.ours.imagesPerSec)} images/s, ${e.ours.images} images${e.ours.settings ? `, ${e.ours.settings}` : ""})` +
        (e.torch ? `, torch ${f0(e.torch.seconds)} s (${f0(e.torch.imagesPerSec)} images/s, allocator ${e.torch.allocator}, OpenMP wait ${e.torch.ompWaitPolicy}), ratio ${ratioText(e.ratio)}` : ""));
    }
  }
  if (r.csg) {
    const { fineTune: ft, csg } = r.csg;
    lines.push(`csg epoch ${r.csg.model}: ${f0(csg.seconds)} s (${f0(csg.imagesPerSec)} images/s) vs decomposed fine-tune epoch ${f0(ft.seconds)} s (${f0(ft.imagesPerSec)} images/s), ` +
      `${csg.images} images, batch ${csg.batch}, ${csg.engine}: ratio ${ratioText(r.csg.ratio)} (goal <= 1.15x)`);
  }
  lines.push(`tfjs wasm multi-threaded under node: ${r.wasmThreads.multiThreaded ? "yes" : "no"} (${r.wasmThreads.reason})`);
  lines.push(`peak RSS ${f0(r.peakRssMiB)} MiB`);
  return lines.join("\n");
}
