import { formatBenchReport, runBenchmark } from "../../src/bench";
import { nchwcBlockSize } from "../../src/models/nchwc";
import { DEFAULT_PYTHON, torchAvailable } from "../../src/bench/torch-bench";

const tiny = { models: ["resnet20"], images: 12, batches: [4, 8], rounds: 1, threads: 1, tfjsImages: 4, tfjsBatches: [4], parityImages: 4, trainSteps: 2, trainBatch: 8 };

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
  // So is how often its threads spun: 8 warm-up steps (FasterChoice's trials) and 2 timed ones.
  expect(f.ours!.settings).toMatch(/^intra-op spinning in \d+ of 10 steps$/);
  expect(text).toContain(`${f.ours!.settings})`);
});

test("with PyTorch: ratios are ours / PyTorch's best, and logits agree on the same images", async () => {
  if (!(await torchAvailable(DEFAULT_PYTHON)).ok) return console.warn("skipped: no torch");
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
