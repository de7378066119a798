import { formatBenchReport, runBenchmark } from "../../src/bench";
import { nchwcBlockSize } from "../../src/models/nchwc";
import { DEFAULT_PYTHON, torchAvailable } from "../../src/bench/torch-bench";

const tiny = { models: ["resnet20"], imagenetModels: [], pipelineImages: 0, passRssImages: 0, imagenetTrainSteps: 0, images: 12, batches: [4, 8], rounds: 1, threads: 1, tfjsImages: 4, tfjsBatches: [4], parityImages: 4, trainSteps: 2, trainBatch: 8 };

test("without PyTorch the report has our numbers and null ratios", async () => {
  const report = await runBenchmark({ ...tiny, python: null, tfjsImages: 0 });
  const e = report.extract.resnet20;
  expect(e.ours.backend).toBe("onnxruntime-node/cpu");
  expect(e.ours.sweep.map((t) => t.batch)).toEqual([4, 8]);
  expect(e.ours.best.imagesPerSec).toBe(Math.max(...e.ours.sweep.map((t) => t.imagesPerSec)));
  expect([e.torch, e.ratio, e.tfjs, e.maxAbsLogitDiff]).toEqual([null, null, null, null]);
  const f = report.finetune.resnet20;
  expect([f.ratio, f.torch]).toEqual([null, null]);
  expect(f.ours).toMatchObject({ engine: "onnxruntime-node/cpu", batch: 8, steps: 2 });
  expect(f.ours!.projectedEpochSeconds).toBeCloseTo((Math.ceil(50000 / 8) * f.ours!.msPerStep) / 1000, 6);
  expect(report.torch).toEqual({ available: false, version: null, reason: "skipped (python: null)" });
  expect(report.wasmThreads.multiThreaded).toBe(false);
  expect(report.peakRssMiB).toBeGreaterThan(10);
  const text = formatBenchReport(report);
  expect(text).toMatch(/PyTorch: absent \(skipped \(python: null\)\)/);
  expect(text).toMatch(/ratio ours\/torch n\/a/);
  // Which convolution kernels our training step ran on is part of the report.
  const block = await nchwcBlockSize();
  expect(report.machine.nchwcBlock).toBe(block);
  expect(text).toContain(block === null ? ", plain convolutions, " : `, NCHWc convolutions (block ${block}), `);
  // So are the bench's thread count and how often they spun: 8 warm-up steps (FasterChoice's trials) and 2 timed ones.
  expect(f.ours!.settings).toMatch(/^1 intra-op thread, spinning in \d+ of 10 steps$/);
  expect(text).toContain(`${f.ours!.settings})`);
});

test("with PyTorch: ratios are ours / PyTorch's best, and logits agree on the same images", async () => {
  // npm test installs Debian's python3-torch (scripts/setup.sh --test): a machine without it fails here, naming why.
  expect(await torchAvailable(DEFAULT_PYTHON)).toEqual({ ok: true, version: expect.any(String) });
  const report = await runBenchmark({ ...tiny, torchModes: ["eager"], torchAllocators: ["tuned"], torchWaitPolicies: ["passive"] });
  const e = report.extract.resnet20;
  expect(e.torch).not.toBeNull();
  expect(e.torch!.best.imagesPerSec).toBe(Math.max(...e.torch!.sweep.map((t) => t.imagesPerSec)));
  expect(e.ratio).toBeCloseTo(e.ours.best.imagesPerSec / e.torch!.best.imagesPerSec, 10);
  expect(e.tfjs?.backend).toBe("tfjs/wasm");
  expect(e.tfjsRatio).toBeCloseTo(e.tfjs!.best.imagesPerSec / e.torch!.best.imagesPerSec, 10);
  expect(e.maxAbsLogitDiff).toBeLessThan(1e-4);
  expect(e.parityImages).toBe(4);
  const f = report.finetune.resnet20;
  expect(f.torch).toMatchObject({ depth: 20, batch: 8, steps: 2, allocator: "tuned", ompWaitPolicy: "passive" });
  expect(f.ratio).toBeCloseTo(f.ours!.msPerStep / f.torch!.msPerStep, 10);
  expect(f.ratio).toBeCloseTo(f.ours!.projectedEpochSeconds / f.torch!.projectedEpochSeconds, 10);
  expect(formatBenchReport(report)).toContain(`finetune resnet20: ratio ours/torch epoch time ${f.ratio!.toFixed(2)}x (projected`);
  expect(JSON.parse(JSON.stringify(report)).extract.resnet20.ratio).toBe(e.ratio);
  expect(formatBenchReport(report)).toContain(`ratio ours/torch ${e.ratio!.toFixed(2)}x`);
});

test("torchvision models at their input size: ours against torchvision in PyTorch, with each side's peak RSS", async () => {
  expect(await torchAvailable(DEFAULT_PYTHON)).toEqual({ ok: true, version: expect.any(String) });
  const report = await runBenchmark({
    ...tiny, models: ["resnet20"], trainSteps: 0, tfjsImages: 0, parityImages: 0,
    imagenetModels: ["efficientnet_b0"], imagenetImages: 2, imagenetBatches: [1, 2], torchModes: ["eager"], torchAllocators: ["tuned"], torchWaitPolicies: ["default"],
    python: DEFAULT_PYTHON,
  });
  const e = report.imagenet.efficientnet_b0;
  expect([e.model, e.inputSize, e.images, e.ours.backend]).toEqual(["efficientnet_b0", 224, 2, "onnxruntime-node/cpu"]);
  expect(e.ours.sweep.map((t) => t.batch)).toEqual([1, 2]);
  expect(e.ours.peakRssMiB).toBeGreaterThanOrEqual(e.ours.rssBeforeMiB);
  const text = formatBenchReport(report);
  expect(text).toContain("extract efficientnet_b0 (224 x 224, random weights, 2 images per pass):");
  expect(e.torch!.sweep.map((t) => [t.mode, t.batch])).toEqual([["eager", 1], ["eager", 2]]);
  // torch's ONNX export of the same model, imported as a user's file and timed at the same batches.
  expect(e.imported!.sweep.map((t) => t.batch)).toEqual([1, 2]);
  expect(e.importedRatio).toBeCloseTo(e.imported!.best.imagesPerSec / e.ours.best.imagesPerSec, 10);
  expect(e.importedVsTorch).toBeCloseTo(e.imported!.best.imagesPerSec / e.torch!.best.imagesPerSec, 10);
  expect(e.torch!.peakRssMiB).toBeGreaterThan(100);
  expect(e.ratio).toBeCloseTo(e.ours.best.imagesPerSec / e.torch!.best.imagesPerSec, 10);
  expect(text).toContain(`ratio ours/torch ${e.ratio!.toFixed(2)}x (goal >= 1.0x)`);
  expect(text).toContain(`ratio imported/ours ${e.importedRatio!.toFixed(2)}x (goal >= 0.9x), imported/torch ${e.importedVsTorch!.toFixed(2)}x (goal >= 1.0x)`);
}, 300_000);

test("--quick lowers the defaults it is not given and keeps explicit options", async () => {
  await expect(runBenchmark({ quick: true, imagenetModels: ["resnet20"] })).rejects.toThrow("--imagenet-models takes torchvision models (decomp models lists them), not resnet20");
  await expect(runBenchmark({ quick: true, models: ["resnet50"] })).rejects.toThrow("decomp bench --models supports the option-A CIFAR ResNets PyTorch's side builds (resnet20, resnet32, resnet44, resnet56, resnet110), not resnet50");
  await expect(runBenchmark({ quick: true, imagenetTrainModel: "resnet20" })).rejects.toThrow("--imagenet-train-model takes a torchvision model (decomp models lists them), not resnet20");
  await expect(runBenchmark({ quick: true, imagenetTrainModel: "efficientnet_b0" })).rejects.toThrow(/^efficientnet_b0 has a 'silu' layer .*, which training does not support yet/);
  await expect(runBenchmark({ quick: true, imagenetTrainBatch: 0 })).rejects.toThrow("imagenetTrainBatch must be a positive integer, got 0");
  await expect(runBenchmark({ quick: true, imagenetTrainSide: 1.5 })).rejects.toThrow("imagenetTrainSide must be a positive integer, got 1.5");
  await expect(runBenchmark({ quick: true, imagenetTrainSteps: -1 })).rejects.toThrow("imagenetTrainSteps must be 0 (skip) or a positive integer, got -1");
  await expect(runBenchmark({ quick: true, passRssImages: 2.5 })).rejects.toThrow("passRssImages must be 0 (skip) or a positive integer, got 2.5");
  const report = await runBenchmark({ quick: true, models: ["resnet20"], imagenetModels: [], pipelineImages: 0, imagenetTrainSteps: 0, python: null, tfjsImages: 0, trainSteps: 0, batches: [16] });
  expect([report.images, report.rounds]).toEqual([2000, 1]);
  expect(report.extract.resnet20.ours.sweep.map((t) => t.batch)).toEqual([16]);
  expect(report.imagenet).toEqual({});
  expect(report.imagenetTrain).toBeNull();
}, 300_000);

test("a torchvision ResNet's training step, ours against PyTorch's, each alone in its process with its peak RSS", async () => {
  expect(await torchAvailable(DEFAULT_PYTHON)).toEqual({ ok: true, version: expect.any(String) });
  // ResNet18 at 64 x 64 keeps it to seconds; the bench's default is ResNet50 at its 224 x 224 crop, batch 16.
  const report = await runBenchmark({ ...tiny, trainSteps: 0, tfjsImages: 0, parityImages: 0, imagenetTrainSteps: 2, imagenetTrainModel: "resnet18", imagenetTrainSide: 64, imagenetTrainBatch: 2, python: DEFAULT_PYTHON });
  const t = report.imagenetTrain!;
  expect([t.model, t.side, t.batch]).toEqual(["resnet18", 64, 2]);
  expect(t.ours).toMatchObject({ engine: "onnxruntime-node/cpu", batch: 2, steps: 2 });
  // The bench's threads reach the child process, as they reach PyTorch's.
  expect(t.ours.settings).toMatch(/^1 intra-op thread, spinning in \d+ of 4 steps$/);
  expect(t.ours.imagesPerSec).toBeCloseTo((2 * 1000) / t.ours.msPerStep, 10);
  expect(t.torch).toMatchObject({ batch: 2, steps: 2 });
  expect(t.ratio).toBeCloseTo(t.ours.msPerStep / t.torch!.msPerStep, 10);
  // Each side's own process: more than the weights (ResNet18: 45 MiB, with gradients and Adam's moments 4x that).
  for (const side of [t.ours, t.torch!]) expect(side.peakRssMiB).toBeGreaterThan(180);
  const text = formatBenchReport(report);
  expect(text).toContain("training step resnet18 (64 x 64, batch 2, decomposed head, Adam; each side alone in its process):");
  expect(text).toContain(`peak RSS ${t.ours.peakRssMiB.toFixed(0)} MiB)`);
  expect(text).toContain(`ratio ours/torch step time ${t.ratio!.toFixed(2)}x (goal <= 1.0x)`);
}, 300_000);

test("the ImageNet input pipeline: JPEG decode + preprocessing + forward, ours against torchvision's DataLoader", async () => {
  expect(await torchAvailable(DEFAULT_PYTHON)).toEqual({ ok: true, version: expect.any(String) });
  // EfficientNet-B0 rather than the default ResNet50: a fifth of the weights to fill, which jest makes slow.
  const report = await runBenchmark({ ...tiny, trainSteps: 0, tfjsImages: 0, parityImages: 0, pipelineImages: 4, pipelineModel: "efficientnet_b0", python: DEFAULT_PYTHON });
  const p = report.pipeline!;
  expect([p.model, p.images, p.imageSize, p.recipe]).toEqual(["efficientnet_b0", 4, [500, 375], "resize256-crop224-bicubic"]);
  expect(p.ours.imagesPerSec).toBeCloseTo(4 / p.ours.seconds, 10);
  for (const v of Object.values(p.ours.stages)) expect(v).toBeGreaterThan(0);
  expect(formatBenchReport(report)).toContain("input pipeline efficientnet_b0 (4 JPEGs of 500 x 375, resize256-crop224-bicubic, batch 16):");
  expect(p.torch!.sweep.map((s) => s.workers)).toEqual([0, 1, 2]);
  expect(p.ratio).toBeCloseTo(p.ours.imagesPerSec / p.torch!.imagesPerSec, 10);
}, 300_000);
