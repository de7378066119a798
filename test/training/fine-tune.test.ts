import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { selectBackend } from "../../src/backend";
import { mulberry32 } from "../../src/data";
import { decomposedLogits, predictFromLogits } from "../../src/method";
import { cifarResNetSpec } from "../../src/models/families/cifar-resnet";
import { createTfjsEngine } from "../../src/models/tfjs-engine";
import { decomposedStateDict, fineTune, headMask, loadFineTuned, maskedHeadLogits, saveFineTuned } from "../../src/training";
import { randomImages, randomStateDict as randomWeights } from "./random-model";

const spec = cifarResNetSpec(8);
const m = spec.featureWidth;
const randomStateDict = (seed: number) => randomWeights(spec, seed);

/** S_y: five distinct features per class, different per class. */
const SETS = Array.from({ length: 10 }, (_, y) => [0, 1, 2, 3, 4].map((r) => (y * 7 + r * 13) % m));

const quiet = { logger: () => {} };
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), "decomp-retrain-"));

describe("fine-tuning with the decomposed head", () => {
  beforeAll(() => selectBackend({ ...quiet, force: "wasm" }));

  it("before training, the masked head gives exactly the decomposed-layer predictions of src/method", () => {
    const sd = randomStateDict(1);
    const mask = headMask(SETS, 10, m);
    const masked = decomposedStateDict(spec, sd, mask);
    const rng = mulberry32(2);
    const rows = 200;
    const features = Float32Array.from({ length: rows * m }, () => Math.max(0, rng() * 2 - 0.5));
    const layer = { weight: sd.get("linear.weight")!.data, bias: sd.get("linear.bias")!.data, classes: 10, features: m };
    const reference = decomposedLogits({ data: features, rows, cols: m }, layer, SETS);
    const ours = maskedHeadLogits(spec, masked, mask, features, rows);
    ours.forEach((v, i) => expect(v).toBeCloseTo(reference[i], 5));
    expect(predictFromLogits(ours, rows, 10)).toEqual(predictFromLogits(reference, rows, 10));
    // Weights outside S_y are zero, so a plain full-layer executor computes the decomposed layer too.
    const zeros = masked.get("linear.weight")!.data.filter((_, i) => mask[i] === 0);
    expect(zeros.every((v) => v === 0)).toBe(true);
  });

  it("refuses a thread count that is not a positive integer before evaluating or writing anything", async () => {
    const cacheDir = tmp();
    let evaluated = false;
    const run = fineTune({
      spec, stateDict: randomStateDict(3), sets: SETS, train: randomImages(8, 4), test: randomImages(4, 5), norm: "cifar",
      cacheDir, intraOpThreads: 1.5, onProgress: () => { evaluated = true; },
    });
    await expect(run).rejects.toThrow("intraOpThreads must be a positive integer, got 1.5");
    expect(evaluated).toBe(false);
    expect(fs.readdirSync(cacheDir)).toEqual([]);
  });

  it("resumes an interrupted run from its epoch checkpoint and ends with the same weights as an uninterrupted one", async () => {
    const options = {
      spec, stateDict: randomStateDict(3), sets: SETS, train: randomImages(24, 4), test: randomImages(8, 5), norm: "cifar",
      epochs: 2, batchSize: 8, lr: 1e-3, seed: 11, logEvery: 2,
    };
    const straight = await fineTune({ ...options, cacheDir: tmp() });
    expect(straight.resumedEpochs).toBe(0);
    expect(straight.history.testAccuracy).toHaveLength(3);
    expect(straight.history.epochs.map((e) => e.epoch)).toEqual([1, 2]);
    expect(straight.history.batches.map((b) => [b.epoch, b.batch])).toEqual([[1, 2], [1, 3], [2, 2], [2, 3]]);

    const cacheDir = tmp();
    const controller = new AbortController();
    const interrupted = fineTune({
      ...options, cacheDir, signal: controller.signal,
      onProgress: (e) => { if (e.stage.includes("epoch 2/2") && e.done >= 8) controller.abort(); },
    });
    await expect(interrupted).rejects.toThrow(/aborted in epoch 2.*resumes/);
    const resumed = await fineTune({ ...options, cacheDir });
    expect(resumed.resumedEpochs).toBe(1);
    expect(resumed.checkpointPath.startsWith(cacheDir)).toBe(true);
    for (const [name, t] of straight.stateDict) expect(resumed.stateDict.get(name)!.data).toEqual(t.data);
    expect(resumed.history.testAccuracy).toEqual(straight.history.testAccuracy);
    expect(resumed.history.batches).toEqual(straight.history.batches);

    // Training moved the weights and running statistics, but never a weight outside S_y.
    const before = decomposedStateDict(spec, options.stateDict, headMask(SETS, 10, m));
    expect(straight.stateDict.get("conv1.weight")!.data).not.toEqual(before.get("conv1.weight")!.data);
    expect(straight.stateDict.get("bn1.running_mean")!.data).not.toEqual(before.get("bn1.running_mean")!.data);
    const mask = headMask(SETS, 10, m);
    expect(straight.stateDict.get("linear.weight")!.data.filter((_, i) => mask[i] === 0).every((v) => v === 0)).toBe(true);

    // A finished configuration is not retrained: the call returns the checkpoint as it is.
    const again = await fineTune({ ...options, cacheDir });
    expect(again.resumedEpochs).toBe(2);
    expect(again.stateDict.get("linear.bias")!.data).toEqual(straight.stateDict.get("linear.bias")!.data);
  });

  it("moves a corrupt checkpoint aside with a warning and trains again to bit-identical weights", async () => {
    const options = {
      spec, stateDict: randomStateDict(4), sets: SETS, train: randomImages(16, 8), test: randomImages(8, 9), norm: "cifar",
      epochs: 1, batchSize: 8, lr: 1e-3, seed: 3, logEvery: 1, cacheDir: tmp(),
    };
    const first = await fineTune(options);
    const bytes = fs.readFileSync(first.checkpointPath);
    const warn = jest.spyOn(process, "emitWarning").mockImplementation(() => {});
    try {
      for (const corrupt of [bytes.subarray(0, bytes.length - 8), Buffer.from(bytes).fill(0x7f, bytes.length - 40, bytes.length - 36)]) {
        fs.writeFileSync(first.checkpointPath, corrupt);
        const again = await fineTune(options);
        expect(again.resumedEpochs).toBe(0);
        for (const [name, t] of first.stateDict) expect([name, again.stateDict.get(name)!.data]).toEqual([name, t.data]);
        expect(again.history.testAccuracy).toEqual(first.history.testAccuracy);
      }
      expect(warn.mock.calls.map((c) => c[0] as string)).toEqual([
        expect.stringMatching(/\.ckpt is truncated or corrupt .*; moved it to .*\.ckpt\.corrupt-.* and recomputing it$/),
        expect.stringMatching(/\.ckpt fails its checksum .*; moved it to /),
      ]);
    } finally {
      warn.mockRestore();
    }
    // The rerun wrote a sound checkpoint again: a third call resumes from it.
    expect((await fineTune(options)).resumedEpochs).toBe(1);
  });

  it("saves the fine-tuned state dict and reloads it into an executor with identical outputs", async () => {
    const sd = decomposedStateDict(spec, randomStateDict(6), headMask(SETS, 10, m));
    const file = path.join(tmp(), "model.bin");
    await saveFineTuned(file, sd, { model: spec.name, sets: SETS });
    const { stateDict, meta } = loadFineTuned(file);
    expect(meta).toEqual({ model: spec.name, sets: SETS });
    expect([...stateDict.keys()]).toEqual([...sd.keys()]);
    for (const [name, t] of sd) {
      expect(stateDict.get(name)!.shape).toEqual(t.shape);
      expect(stateDict.get(name)!.data).toEqual(t.data);
    }
    const images = Float32Array.from(randomImages(2, 7).pixels, (v) => v / 255 - 0.5);
    const [a, b] = [createTfjsEngine(spec, sd), createTfjsEngine(spec, stateDict)];
    expect((await b.forward(images, 2)).logits).toEqual((await a.forward(images, 2)).logits);
    a.dispose();
    b.dispose();
    expect(() => loadFineTuned(path.join(tmp(), "missing.bin"))).toThrow(/does not exist/);
    fs.writeFileSync(file, Buffer.from("not a model"));
    expect(() => loadFineTuned(file)).toThrow(/not a decomp tensor file/);
  });
});
