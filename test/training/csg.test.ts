import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { selectBackend } from "../../src/backend";
import { initialGates } from "../../src/method";
import { cifarResNetSpec } from "../../src/models/families/cifar-resnet";
import {
  csgDefaults,
  initialStateDict,
  isCsgEpoch,
  learnableNames,
  loadCsg,
  parameterModules,
  pathLr,
  saveCsg,
  sgdStep,
  trainableNames,
  trainCsg,
} from "../../src/training";
import { randomImages, randomStateDict } from "./random-model";

const spec = cifarResNetSpec(8);
const m = spec.featureWidth;
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), "decomp-csg-"));

describe("the CSG schedule and parameter groups", () => {
  it("follow the original's epoch rule: CSG when e >= warm-up and e % period >= phase", () => {
    const original = { warmupEpochs: 10, period: 3, csgPhase: 2 };
    const csgEpochs = Array.from({ length: 18 }, (_, e) => e).filter((e) => isCsgEpoch(e, original));
    expect(csgEpochs).toEqual([11, 14, 17]);
    expect(Array.from({ length: 6 }, (_, e) => isCsgEpoch(e, csgDefaults("pretrained")))).toEqual([false, false, true, false, false, true]);
  });

  it("map the original's learnable layers onto the CIFAR ResNet's modules", () => {
    expect(parameterModules(spec)).toEqual(["conv1", "bn1", "layer1", "layer2", "layer3", "linear"]);
    const std = learnableNames(spec, csgDefaults("pretrained").stdModules);
    const csg = learnableNames(spec, csgDefaults("pretrained").csgModules);
    expect(new Set(std.map((n) => n.split(".")[0]))).toEqual(new Set(["layer2", "layer3", "linear"]));
    expect(new Set(csg.map((n) => n.split(".")[0]))).toEqual(new Set(["layer3", "linear"]));
    expect(learnableNames(spec, "all")).toEqual(trainableNames(spec));
    expect(learnableNames(spec, 6)).toEqual(trainableNames(spec));
  });

  it("decay each path's lr at the milestones counted in that path's own epochs", () => {
    const h = { epochs: 10, lrMilestones: [0.4, 0.6], lrGamma: 0.1 };
    expect([0, 3, 4, 5, 6, 9].map((done) => +pathLr(1, done, h).toPrecision(3))).toEqual([1, 1, 0.1, 0.1, 0.01, 0.01]);
  });

  it("take SGD steps with PyTorch's Nesterov momentum and weight decay", () => {
    const p = Float32Array.of(1, -2);
    const params = new Map([["w", p]]);
    const state = { step: 0, m: new Map<string, Float32Array>(), v: new Map<string, Float32Array>() };
    const opts = { lr: 0.1, momentum: 0.9, weightDecay: 0.01, nesterov: true };
    sgdStep(params, new Map([["w", Float32Array.of(0.5, 1)]]), state, opts);
    // d = g + wd p = (0.51, 0.98); b = d; p -= lr (d + mu b) = lr 1.9 d.
    expect(p[0]).toBeCloseTo(1 - 0.1 * 1.9 * 0.51, 6);
    expect(p[1]).toBeCloseTo(-2 - 0.1 * 1.9 * 0.98, 6);
    const d0 = 0.5 + 0.01 * p[0];
    const b = 0.9 * 0.51 + d0;
    const before = p[0];
    sgdStep(params, new Map([["w", Float32Array.of(0.5, 1)]]), state, opts);
    expect(p[0]).toBeCloseTo(before - 0.1 * (d0 + 0.9 * b), 6);
  });

  it("draw scratch weights as the CIFAR recipe does: He-normal convolutions, BatchNorm at 1 and 0", () => {
    const sd = initialStateDict(spec, 0);
    const w = sd.get("layer1.0.conv1.weight")!.data;
    const variance = w.reduce((s, v) => s + v * v, 0) / w.length;
    expect(variance).toBeGreaterThan(0.8 * (2 / (16 * 9)));
    expect(variance).toBeLessThan(1.2 * (2 / (16 * 9)));
    expect([...sd.get("bn1.weight")!.data].every((v) => v === 1)).toBe(true);
    expect([...sd.get("bn1.running_var")!.data].every((v) => v === 1)).toBe(true);
    expect(initialStateDict(spec, 0).get("linear.bias")!.data).toEqual(sd.get("linear.bias")!.data);
  });
});

describe("CSG training", () => {
  beforeAll(() => selectBackend({ logger: () => {}, force: "wasm" }));

  const options = () => ({
    spec, stateDict: randomStateDict(spec, 3), train: randomImages(24, 4), test: randomImages(10, 5), norm: "cifar",
    epochs: 3, warmupEpochs: 0, period: 2, csgPhase: 1, batchSize: 8, seed: 7, engine: "onnx" as const,
  });

  it("alternates STD and CSG epochs, keeps G in [0, 1] with a 1 in every used column, and resumes an interrupted run exactly", async () => {
    const straight = await trainCsg({ ...options(), cacheDir: tmp() });
    const { history, gates } = straight;
    expect(history.epochs.map((e) => [e.epoch, e.path])).toEqual([[1, "std"], [2, "csg"], [3, "std"]]);
    expect(history.stdAccuracy).toHaveLength(4);
    expect(history.csgAccuracy).toHaveLength(4);
    expect(history.density[0]).toBe(0.5);
    expect(history.density[2]).not.toBe(0.5);
    expect(history.density[3]).toBe(history.density[2]); // an STD epoch leaves G alone
    expect(history.epochs[0].penalty).toBe(0);
    expect(history.epochs[1].penalty).toBeGreaterThan(0);
    expect(history.epochs.map((e) => e.lr)).toEqual([1e-5, 1e-3, 1e-5]);
    expect(gates.data.every((v) => v >= 0 && v <= 1)).toBe(true);
    for (let j = 0; j < m; j++) {
      const column = Array.from({ length: 10 }, (_, y) => gates.data[y * m + j]);
      expect(Math.max(...column) === 1 || Math.max(...column) === 0).toBe(true);
    }
    // The CSG optimiser trains layer3, the head and G only: the first stage stays as it was.
    const start = options().stateDict;
    expect(straight.stateDict.get("layer1.0.conv1.weight")!.data).toEqual(start.get("layer1.0.conv1.weight")!.data);
    expect(straight.stateDict.get("layer3.0.conv1.weight")!.data).not.toEqual(start.get("layer3.0.conv1.weight")!.data);

    const cacheDir = tmp();
    const controller = new AbortController();
    const interrupted = trainCsg({
      ...options(), cacheDir, signal: controller.signal,
      onProgress: (e) => { if (e.stage.includes("epoch 3/3") && e.done >= 8) controller.abort(); },
    });
    await expect(interrupted).rejects.toThrow(/aborted in epoch 3.*resumes/);
    const resumed = await trainCsg({ ...options(), cacheDir });
    expect(resumed.resumedEpochs).toBe(2);
    expect(resumed.gates.data).toEqual(gates.data);
    for (const [name, t] of straight.stateDict) expect({ name, same: resumed.stateDict.get(name)!.data.every((v, i) => v === t.data[i]) }).toEqual({ name, same: true });
    expect(resumed.history.stdAccuracy).toEqual(history.stdAccuracy);
    expect(resumed.history.csgAccuracy).toEqual(history.csgAccuracy);

    const file = path.join(cacheDir, "model.dctn");
    await saveCsg(file, spec, straight);
    const loaded = loadCsg(file);
    expect(loaded.gates.data).toEqual(gates.data);
    expect(loaded.meta.hyperparameters.csgLr).toBe(1e-3);
    expect(loaded.stateDict.get("linear.weight")!.data).toEqual(straight.stateDict.get("linear.weight")!.data);
  });

  it("trains on the TF.js fallback to the gates and weights ONNX Runtime reaches", async () => {
    const short = { ...options(), train: randomImages(16, 8), epochs: 1, period: 1, csgPhase: 0 };
    const onnx = await trainCsg({ ...short, cacheDir: tmp() });
    const tfjs = await trainCsg({ ...short, engine: "tfjs", cacheDir: tmp() });
    expect(tfjs.history.epochs[0].engine).toBe("tfjs/wasm");
    expect(onnx.history.epochs[0].engine).toBe("onnxruntime-node/cpu");
    // Adam's first steps are nearly lr * sign(g): an entry whose gradient sits at rounding level may step either
    // way on either engine, so entries are not compared one by one. Over a whole tensor the engines agree to a
    // small fraction of how far training moved it (the gates from the renormalised start, all ones).
    const distance = (a: ArrayLike<number>, b: ArrayLike<number>) => Math.sqrt(Array.from(a).reduce((sum, v, i) => sum + (v - b[i]) ** 2, 0));
    const start = short.stateDict;
    const compared: [string, ArrayLike<number>, ArrayLike<number>, ArrayLike<number>][] = [
      ["gates", tfjs.gates.data, onnx.gates.data, new Float32Array(onnx.gates.data.length).fill(1)],
      ...["linear.weight", "layer3.0.conv1.weight"].map((n) => [n, tfjs.stateDict.get(n)!.data, onnx.stateDict.get(n)!.data, start.get(n)!.data] as [string, Float32Array, Float32Array, Float32Array]),
    ];
    for (const [name, a, b, from] of compared) {
      const moved = distance(b, from);
      expect({ name, moved: moved > 0 }).toEqual({ name, moved: true });
      expect({ name, close: distance(a, b) <= 1e-3 * moved }).toEqual({ name, close: true });
    }
    expect(tfjs.history.epochs[0].loss).toBeCloseTo(onnx.history.epochs[0].loss, 4);
  });

  it("trains from scratch with SGD on every parameter", async () => {
    const run = await trainCsg({ ...options(), stateDict: undefined, from: "scratch", epochs: 2, warmupEpochs: 0, cacheDir: tmp() });
    expect(run.hyperparameters.optimiser).toBe("sgd");
    expect(run.history.epochs.map((e) => e.lr)).toEqual([0.1, 0.1]);
    const start = initialStateDict(spec, 7);
    expect(run.stateDict.get("conv1.weight")!.data).not.toEqual(start.get("conv1.weight")!.data);
  });

  it("refuses bad input before any training, naming the option and its range", async () => {
    const cacheDir = tmp();
    const refuse = (extra: object, message: string) => expect(trainCsg({ ...options(), cacheDir, ...extra })).rejects.toThrow(message);
    await refuse({ density: 0 }, "density must lie in (0, 1]");
    await refuse({ density: 1.2 }, "density must lie in (0, 1]");
    await refuse({ lambda: -1e-3 }, "lambda must be a finite number >= 0");
    await refuse({ gates: initialGates(10, 32) }, "the gate matrix is 10 x 32 but the model has 10 classes and 64 channels");
    await refuse({ csgPhase: 2 }, "csgPhase must be an integer from 0 to 1");
    await refuse({ csgModules: 9 }, "csgModules must be \"all\" or an integer from 1 to 6");
    await refuse({ stdLr: 0 }, "stdLr must be a positive number");
    await refuse({ intraOpThreads: 0 }, "intraOpThreads must be a positive integer, got 0");
    const badLabels = randomImages(24, 4);
    badLabels.labels[5] = 12;
    await refuse({ train: badLabels }, "train image 5 has label 12, outside the model's classes 0..9");
    await refuse({ from: "pretrained", stateDict: undefined }, "needs the starting weights");
    // Nothing was trained or written.
    expect(fs.existsSync(path.join(cacheDir, "csg"))).toBe(false);
  });
});
