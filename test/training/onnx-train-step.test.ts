import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { selectBackend } from "../../src/backend";
import { mulberry32 } from "../../src/data";
import { torchvisionResNetSpec } from "../../src/models/families/torchvision-resnet";
import { cudaProviderLibrary } from "../../src/models/execution-provider";
import { cifarResNetSpec } from "../../src/models/families/cifar-resnet";
import type { StateDict } from "../../src/torch";
import { createTrainEngine, decomposedStateDict, fineTune, headMask, registerTrainingKernels, tfjsTrainStep, trainableNames, trainEngineFromEnv } from "../../src/training";
import { sessionOptions } from "../../src/models/onnx-engine";
import { createOnnxTrainEngine, trainSessionOptions } from "../../src/training/onnx-train-step";
import { float64Derivative, trainingLoss } from "../models/reference-forward";
import { randomImages, randomStateDict } from "./random-model";

const spec = cifarResNetSpec(8);
const m = spec.featureWidth;
const SETS = Array.from({ length: 10 }, (_, y) => [0, 1, 2, 3, 4].map((r) => (y * 7 + r * 13) % m));
const mask = headMask(SETS, 10, m);

function batch(count: number, seed: number): { images: Float32Array; labels: number[] } {
  const rng = mulberry32(seed);
  return { images: Float32Array.from({ length: count * 3072 }, () => rng() * 2 - 1), labels: Array.from({ length: count }, (_, i) => (i * 3 + seed) % 10) };
}

const maxAbs = (a: Float32Array) => a.reduce((mx, v) => Math.max(mx, Math.abs(v)), 0);
const maxAbsDiff = (a: Float32Array, b: Float32Array) => {
  expect(a.length).toBe(b.length);
  return a.reduce((mx, v, i) => Math.max(mx, Math.abs(v - b[i])), 0);
};

describe("the ONNX Runtime training step", () => {
  beforeAll(async () => {
    await selectBackend({ force: "cpu", logger: () => {} });
    // TF.js's own CPU convolution gradients take minutes here; these agree with them (kernels.test.ts).
    registerTrainingKernels("cpu");
  });

  // nchwc: convolutions on ONNX Runtime's blocked kernels where this machine has them, else plain ONNX Conv.
  it.each([true, false])("computes the loss, every gradient and the batch statistics of the TF.js training step (nchwc %s)", async (nchwc) => {
    const sd = decomposedStateDict(spec, randomStateDict(spec, 1), mask);
    const { images, labels } = batch(6, 2);
    const engine = await createOnnxTrainEngine(spec, mask, { nchwc });
    const ours = await engine.step(sd, images, labels, 6);
    engine.dispose();
    const reference = tfjsTrainStep(spec, sd, mask, images, labels, 6);

    expect(ours.loss).toBeCloseTo(reference.loss, 5);
    expect(ours.correct).toBe(reference.correct);
    expect([...ours.grads.keys()]).toEqual(trainableNames(spec));
    for (const [name, g] of reference.grads) {
      const scale = maxAbs(g);
      expect(scale).toBeGreaterThan(0);
      const relativeError = maxAbsDiff(ours.grads.get(name)!, g) / scale;
      expect({ name, ok: relativeError < 1e-4 }).toEqual({ name, ok: true });
    }
    expect([...ours.batchStats.keys()]).toEqual([...reference.batchStats.keys()]);
    for (const [param, s] of reference.batchStats) {
      const o = ours.batchStats.get(param)!;
      expect(o.count).toBe(s.count);
      expect(maxAbsDiff(o.mean, s.mean)).toBeLessThan(1e-5 * Math.max(1, maxAbs(s.mean)));
      expect(maxAbsDiff(o.variance, s.variance)).toBeLessThan(1e-5 * Math.max(1, maxAbs(s.variance)));
    }
    // The stride-2 stages see a quarter of the positions, so their counts differ from the first stage's.
    expect(ours.batchStats.get("bn1")!.count).toBe(6 * 32 * 32);
    expect(ours.batchStats.get("layer3.0.bn1")!.count).toBe(6 * 8 * 8);
  });

  // torchvision's layout: 7x7 stride-2 stem, 3x3 stride-2 max pool, 1x1 downsamples, bottlenecks or basic blocks.
  it.each(["bottleneck", "basic"] as const)("trains a reduced torchvision ResNet (%s blocks) as the TF.js step does", async (block) => {
    const tv = torchvisionResNetSpec({ name: `tiny-${block}`, block, blocks: [1, 1, 1, 1], stem: 8, planes: [4, 8, 8, 16], classes: 10, inputSize: 32 });
    expect(tv.layers.some((l) => l.op === "maxpool")).toBe(true);
    const tvMask = headMask(Array.from({ length: 10 }, (_, y) => [y, (y * 5 + 3) % tv.featureWidth]), 10, tv.featureWidth);
    const sd = decomposedStateDict(tv, randomStateDict(tv, 4), tvMask);
    const { images, labels } = batch(5, 6);
    const engine = await createOnnxTrainEngine(tv, tvMask);
    const ours = await engine.step(sd, images, labels, 5);
    engine.dispose();
    const reference = tfjsTrainStep(tv, sd, tvMask, images, labels, 5);
    expect(ours.loss).toBeCloseTo(reference.loss, 5);
    for (const [name, g] of reference.grads) {
      const scale = maxAbs(g);
      expect({ name, moves: scale > 0 }).toEqual({ name, moves: true });
      expect({ name, ok: maxAbsDiff(ours.grads.get(name)!, g) / scale < 1e-4 }).toEqual({ name, ok: true });
    }
    expect(ours.batchStats.get("bn1")!.count).toBe(5 * 16 * 16);
  });

  it("asks for the provider DECOMP_EP names, as the inference engine does", async () => {
    if (!fs.existsSync(cudaProviderLibrary())) {
      // No CUDA provider library here: cuda fails naming it, auto falls back to the CPU.
      await expect(createOnnxTrainEngine(spec, mask, { provider: "cuda" })).rejects.toThrow(/DECOMP_EP=cuda, but ONNX Runtime's CUDA provider is not installed/);
      const engine = await createOnnxTrainEngine(spec, mask, { provider: "auto" });
      expect(engine.name).toBe("onnxruntime-node/cpu");
      engine.dispose();
      return;
    }
    // The library is installed: cuda runs on it or fails saying it could not (no usable GPU), and auto lands
    // on CUDA exactly when cuda opens, else on the CPU.
    const cuda = await createOnnxTrainEngine(spec, mask, { provider: "cuda" }).then(
      (engine) => {
        const name = engine.name;
        engine.dispose();
        return name;
      },
      (err: Error) => {
        expect(err.message).toMatch(/could not open resnet8's training graph on cuda/);
        return null;
      },
    );
    const engine = await createOnnxTrainEngine(spec, mask, { provider: "auto" });
    expect([cuda, engine.name]).toEqual(cuda === null ? [null, "onnxruntime-node/cpu"] : ["onnxruntime-node/cuda", "onnxruntime-node/cuda"]);
    engine.dispose();
  });

  it("returns gradients that later steps leave alone (they are not views of the runtime's memory)", async () => {
    const sd = decomposedStateDict(spec, randomStateDict(spec, 2), mask);
    const engine = await createOnnxTrainEngine(spec, mask);
    const first = batch(4, 3);
    const a = await engine.step(sd, first.images, first.labels, 4);
    const kept = new Map([...a.grads].map(([n, g]) => [n, Float32Array.from(g)]));
    const second = batch(4, 4);
    const b = await engine.step(sd, second.images, second.labels, 4);
    engine.dispose();
    expect(maxAbsDiff(b.grads.get("conv1.weight")!, kept.get("conv1.weight")!)).toBeGreaterThan(0);
    for (const [name, g] of a.grads) expect({ name, same: maxAbsDiff(g, kept.get(name)!) === 0 }).toEqual({ name, same: true });
  });

  it("repeats a step bit for bit on either session, and opens them without ONNX Runtime's memory pattern", async () => {
    // The pattern would re-lay the intermediates from the second run on (see trainSessionOptions); FasterChoice
    // runs the first three steps on the sleeping, spinning and sleeping session.
    expect(trainSessionOptions(3, true)).toEqual({ ...sessionOptions(3, true), enableMemPattern: false });
    const sd = decomposedStateDict(spec, randomStateDict(spec, 3), mask);
    const engine = await createOnnxTrainEngine(spec, mask);
    const { images, labels } = batch(4, 7);
    const runs = [];
    for (let i = 0; i < 3; i++) runs.push(await engine.step(sd, images, labels, 4));
    engine.dispose();
    for (const later of runs.slice(1)) {
      expect(later.loss).toBe(runs[0].loss);
      for (const [name, g] of runs[0].grads) expect({ name, same: maxAbsDiff(later.grads.get(name)!, g) === 0 }).toEqual({ name, same: true });
    }
  });

  it("reports its threads and their spinning for the steps since the previous report", async () => {
    const sd = decomposedStateDict(spec, randomStateDict(spec, 2), mask);
    const engine = await createOnnxTrainEngine(spec, mask, { intraOpThreads: 3 });
    const { images, labels } = batch(4, 5);
    // FasterChoice takes the sessions in turn while it tries them: sleeping, spinning, sleeping.
    for (let i = 0; i < 2; i++) await engine.step(sd, images, labels, 4);
    expect(engine.settings?.()).toBe("3 intra-op threads, spinning in 1 of 2 steps");
    await engine.step(sd, images, labels, 4);
    expect(engine.settings?.()).toBe("3 intra-op threads, spinning in 0 of 1 steps");
    engine.dispose();
  });

  it("refuses a thread count that is not a positive integer before opening anything", async () => {
    for (const threads of [0, 1.5]) {
      await expect(createTrainEngine(spec, mask, "onnx", { intraOpThreads: threads })).rejects.toThrow(`intraOpThreads must be a positive integer, got ${threads}`);
    }
  });

  it("agrees with float64 central differences of its loss, and never moves a head weight outside S_y", async () => {
    const sd = decomposedStateDict(spec, randomStateDict(spec, 3), mask);
    const { images, labels } = batch(3, 4);
    const engine = await createOnnxTrainEngine(spec, mask);
    try {
      const { grads } = await engine.step(sd, images, labels, 3);
      const inside = mask.findIndex((v) => v === 1);
      const probes: [string, number][] = [
        ["conv1.weight", 5], ["layer1.0.conv2.weight", 321], ["layer3.0.conv1.weight", 1000], ["bn1.weight", 2],
        ["layer2.0.bn2.bias", 7], ["layer3.0.bn2.weight", 40], ["linear.weight", inside], ["linear.bias", 4],
      ];
      for (const [name, i] of probes) {
        // The loss the step differentiates (masked head, BatchNorm on batch statistics) evaluated in float64, so
        // the difference carries no float32 rounding and stands for the exact derivative.
        const exact = float64Derivative(sd.get(name)!.data[i], (value) => {
          const perturbed: StateDict = new Map(sd);
          const data = Float32Array.from(sd.get(name)!.data);
          data[i] = value;
          perturbed.set(name, { shape: sd.get(name)!.shape, data });
          return trainingLoss(spec, perturbed, images, labels, { headMask: mask });
        });
        const analytic = grads.get(name)![i];
        // Float32 backward, about 30 operations deep, each a sum of at most 3 x 32 x 32 = 3,072 products: within
        // ~30 x 12 x 2^-24 = 2.1e-5 of the exact value relative to the gradients flowing back, which the tensor's
        // largest entry bounds up to BatchNorm's cancellations (a few times); a wrong gradient misses by the
        // entry's own size, at least 10 times the tolerance.
        const bound = 1e-4 * maxAbs(grads.get(name)!);
        expect({ name, i, probes: Math.abs(exact) > 10 * bound }).toEqual({ name, i, probes: true });
        expect({ name, i, analytic, exact, ok: Math.abs(exact - analytic) <= bound }).toEqual({ name, i, analytic, exact, ok: true });
      }
      const head = grads.get("linear.weight")!;
      expect(head.filter((_, i) => mask[i] === 0).every((v) => v === 0)).toBe(true);
    } finally {
      engine.dispose();
    }
  });

  it("fine-tunes to the same weights as the TF.js engine and reports which engine ran", async () => {
    const options = {
      spec, stateDict: randomStateDict(spec, 5), sets: SETS, train: randomImages(16, 6), test: randomImages(4, 7), norm: "cifar",
      epochs: 1, batchSize: 8, lr: 1e-3, seed: 3, resume: false,
    };
    const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), "decomp-ort-train-"));
    const onnx = await fineTune({ ...options, engine: "onnx", cacheDir: tmp(), intraOpThreads: 1 });
    const tfjs = await fineTune({ ...options, engine: "tfjs", cacheDir: tmp() });
    expect(onnx.history.epochs.map((e) => e.engine)).toEqual(["onnxruntime-node/cpu"]);
    expect(tfjs.history.epochs.map((e) => e.engine)).toEqual(["tfjs/cpu"]);
    // Two steps: the first on the session whose threads sleep, the second on the spinning one (each way's
    // untimed first run, FasterChoice).
    expect(onnx.history.epochs[0].engineSettings).toBe("1 intra-op thread, spinning in 1 of 2 steps");
    const start = decomposedStateDict(spec, options.stateDict, mask);
    const norm = (a: Float32Array, b: Float32Array) => Math.sqrt(a.reduce((sum, v, i) => sum + (v - b[i]) ** 2, 0));
    for (const [name, t] of tfjs.stateDict) {
      const moved = norm(t.data, start.get(name)!.data);
      const apart = norm(onnx.stateDict.get(name)!.data, t.data);
      // Adam's first steps are nearly lr * sign(g), so an entry whose gradient is at rounding level may move
      // differently; over a whole tensor the engines agree to ~1e-4 of how far training moved it.
      expect({ name, close: apart <= 1e-3 * moved }).toEqual({ name, close: true });
    }
    expect(maxAbsDiff(onnx.stateDict.get("conv1.weight")!.data, start.get("conv1.weight")!.data)).toBeGreaterThan(1e-4);
    expect(onnx.history.epochs[0].loss).toBeCloseTo(tfjs.history.epochs[0].loss, 4);
  });

  it("reads DECOMP_TRAIN_ENGINE and rejects anything but auto, onnx or tfjs", () => {
    expect(trainEngineFromEnv({})).toBe("auto");
    expect(trainEngineFromEnv({ DECOMP_TRAIN_ENGINE: " onnx " })).toBe("onnx");
    expect(trainEngineFromEnv({ DECOMP_TRAIN_ENGINE: "tfjs" })).toBe("tfjs");
    expect(() => trainEngineFromEnv({ DECOMP_TRAIN_ENGINE: "torch" })).toThrow(/DECOMP_TRAIN_ENGINE='torch'.*auto, onnx, tfjs/);
  });
});
