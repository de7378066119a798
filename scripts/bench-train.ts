/**
 * Retraining benchmark and measurement on the real ResNet20 checkpoint and CIFAR-10:
 *   node -r ./scripts/register-ts.js scripts/bench-train.ts step [ignored] [batch sizes, default 64,128]
 *   node -r ./scripts/register-ts.js scripts/bench-train.ts measure [images for the partial fine-tune epoch]
 *   node -r ./scripts/register-ts.js scripts/bench-train.ts epoch
 * step: images/s of one training step (forward + backward + Adam) on the training engine (DECOMP_TRAIN_ENGINE=
 *   onnx|tfjs, default auto; for tfjs the backend from DECOMP_BACKEND=wasm|cpu, and DECOMP_KERNELS=builtin keeps
 *   the backend's own convolution gradients). epoch: S_y (k1 = k2 = 5) from ONNX Runtime train features, then
 *   one full fine-tuning epoch over the 50,000 training images on the chosen engine; A_d before and after. measure: S_y from Algorithm 1 (k1 = k2 = 5) on train features, A_f / A_d on test,
 *   head-only retraining per epoch, and a fine-tune over the first N training images (one partial epoch).
 * Prints JSON lines to stdout; progress to stderr.
 */
import * as path from "node:path";
import { initBackend } from "../src/backend";
import { resolveMirrorDir } from "../src/artifacts";
import { batchView, loadCifar10, normalise } from "../src/data";
import { runExtraction } from "../src/features/extract";
import { evaluateDecomposed, influentialSets } from "../src/method";
import { cifarResNetSpec } from "../src/models/families/cifar-resnet";
import { createOnnxEngine } from "../src/models/onnx-engine";
import { createTfjsEngine } from "../src/models/tfjs-engine";
import { loadTorchCheckpoint } from "../src/torch";
import { fineTune, registerTrainingKernels, retrainHead, adamStep, createAdamState, createTrainEngine, trainableNames, decomposedStateDict } from "../src/training";

const NORM = "cifar";

async function checkpoint() {
  const mirror = resolveMirrorDir();
  if (mirror === null) throw new Error("no mirror: set DECOMP_MIRROR to the folder holding pytorch_resnet_cifar10/");
  return (await loadTorchCheckpoint(path.join(mirror, "pytorch_resnet_cifar10", "resnet20-12fca82f.th"))).stateDict;
}

async function stepBench(batchSizes: number[]): Promise<void> {
  const backend = await initBackend({ logger: () => {} });
  // DECOMP_KERNELS=builtin measures the backend's own gradient kernels instead of ours.
  if (process.env.DECOMP_KERNELS !== "builtin" && (backend.tfBackend === "wasm" || backend.tfBackend === "cpu")) registerTrainingKernels(backend.tfBackend);
  const spec = cifarResNetSpec(20);
  // Timing does not depend on the mask; all ones trains the ordinary full head.
  const fullHead = new Float32Array(spec.classes * spec.featureWidth).fill(1);
  const stateDict = decomposedStateDict(spec, await checkpoint(), fullHead);
  const names = trainableNames(spec);
  const params = new Map(names.map((n) => [n, stateDict.get(n)!.data]));
  const adam = createAdamState(params);
  const train = await loadCifar10("train");
  const engine = await createTrainEngine(spec, fullHead);
  for (const batch of batchSizes) {
    const view = batchView(train, 0, batch);
    const images = normalise(view, NORM);
    const times: number[] = [];
    for (let rep = 0; rep < (batch <= 16 ? 2 : 6); rep++) {
      const t0 = performance.now();
      const step = await engine.step(stateDict, images, Array.from(view.labels), batch);
      adamStep(params, step.grads, adam);
      times.push(performance.now() - t0);
    }
    const warm = times.slice(1).sort((a, b) => a - b);
    const median = warm[Math.floor(warm.length / 2)];
    console.log(JSON.stringify({ bench: "train-step", engine: engine.name, backend: backend.name, batch, msPerStep: Math.round(median), imagesPerSecond: +(batch / (median / 1000)).toFixed(1), firstStepMs: Math.round(times[0]) }));
  }
  engine.dispose();
}

const log = (line: object) => console.log(JSON.stringify(line));
const progress = (e: { stage: string; done: number; total: number }) => process.stderr.write(`\r${e.stage} ${e.done}/${e.total}   `);

/** What the epoch and measure modes both start from: the backend, ResNet20's checkpoint and both CIFAR-10 splits. */
async function resnet20Run() {
  const backend = await initBackend({ logger: () => {} });
  const spec = cifarResNetSpec(20);
  const stateDict = await checkpoint();
  const [train, test] = [await loadCifar10("train"), await loadCifar10("test")];
  return { backend, spec, stateDict, train, test };
}

/** One real fine-tuning epoch of ResNet20 on all 50,000 CIFAR-10 training images, S_y from Algorithm 1 (k1 = k2 = 5). */
async function epoch(): Promise<void> {
  const { backend, spec, stateDict, train, test } = await resnet20Run();
  const engine = await createOnnxEngine(spec, stateDict);
  const { features } = await runExtraction(engine, train, { norm: NORM, augmentSeed: null, onProgress: progress, stage: "train features" });
  engine.dispose();
  const sets = influentialSets({ data: features, rows: train.count, cols: spec.featureWidth }, train.labels, { classes: spec.classes, k1: 5, k2: 5 }).sets;
  const t0 = performance.now();
  // A timing run: never pick up the checkpoint of an earlier run of the same configuration.
  const result = await fineTune({ spec, stateDict, sets, train, test, norm: NORM, epochs: 1, onProgress: progress, logEvery: 50, resume: false });
  log({ step: "fine-tune epoch", backend: backend.name, sets, epochs: result.history.epochs, testAccuracy: result.history.testAccuracy, seconds: (performance.now() - t0) / 1000, checkpoint: result.checkpointPath });
}

async function measure(partialImages: number): Promise<void> {
  const { backend, spec, stateDict, train, test } = await resnet20Run();
  const engine = createTfjsEngine(spec, stateDict);
  let t0 = performance.now();
  const trainOut = await runExtraction(engine, train, { norm: NORM, augmentSeed: null, onProgress: progress, stage: "train features" });
  log({ step: "train features", seconds: (performance.now() - t0) / 1000, backend: backend.name });
  const testOut = await runExtraction(engine, test, { norm: NORM, augmentSeed: null, onProgress: progress, stage: "test features" });
  engine.dispose();
  const m = spec.featureWidth;
  const trainF = { data: trainOut.features, rows: train.count, cols: m };
  const testF = { data: testOut.features, rows: test.count, cols: m };
  const layer = { weight: stateDict.get("linear.weight")!.data, bias: stateDict.get("linear.bias")!.data, classes: spec.classes, features: m };
  const sets = influentialSets(trainF, train.labels, { classes: spec.classes, k1: 5, k2: 5 }).sets;
  const evaluation = evaluateDecomposed(testF, test.labels, layer, sets);
  log({ step: "decomposition", k1: 5, k2: 5, fullAccuracy: evaluation.fullAccuracy, decomposedAccuracy: evaluation.decomposedAccuracy, sets });

  for (const lr of [1e-4, 1e-3]) {
    t0 = performance.now();
    const head = retrainHead({ features: trainF, labels: train.labels }, { features: testF, labels: test.labels }, layer, sets, { epochs: 10, lr });
    log({ step: "head-only retraining", lr, batchSize: 64, testAccuracy: head.testAccuracy, trainLoss: head.trainLoss, seconds: (performance.now() - t0) / 1000 });
  }

  if (partialImages > 0) {
    t0 = performance.now();
    const result = await fineTune({ spec, stateDict, sets, train: batchView(train, 0, partialImages), test, norm: NORM, epochs: 1, onProgress: progress, logEvery: 4 });
    log({ step: "fine-tune (partial epoch)", images: partialImages, history: result.history, seconds: (performance.now() - t0) / 1000, checkpoint: result.checkpointPath });
  }
}

const [mode = "step", n = "0", batches = "64,128"] = process.argv.slice(2);
(mode === "measure" ? measure(Number(n)) : mode === "epoch" ? epoch() : stepBench(batches.split(",").map(Number))).catch((err) => {
  console.error(err);
  process.exit(1);
});
