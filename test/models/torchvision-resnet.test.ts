/**
 * torchvision's ResNet family on the model description, against torchvision 0.14 itself: reduced configurations
 * (scripts/make-torchvision-fixtures.py: fewer blocks and narrower stages, built from torchvision's own blocks,
 * seeded random weights and BatchNorm statistics, odd input sides) in both serialisations, on the ONNX Runtime
 * and TF.js executors.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { selectBackend } from "../../src/backend";
import { TORCHVISION_RESNETS, torchvisionResNetSpec, type TorchvisionResNetConfig } from "../../src/models/families/torchvision-resnet";
import { createOnnxEngine } from "../../src/models/onnx-engine";
import { countLayers } from "../../src/models/summary";
import { createTfjsEngine } from "../../src/models/tfjs-resnet";
import { checkStateDict } from "../../src/models/weights";
import { loadTorchCheckpoint } from "../../src/torch";
import { createTrainEngine } from "../../src/training";
import { maxAbsDiff } from "./parity-fixture";

const DIR = path.join(__dirname, "..", "fixtures", "torchvision");
const header = JSON.parse(fs.readFileSync(path.join(DIR, "fixtures.json"), "utf8")) as {
  models: Record<string, Omit<TorchvisionResNetConfig, "name"> & { arrays: Record<string, { offset: number; shape: number[] }> }>;
};
const bin = fs.readFileSync(path.join(DIR, "arrays.bin"));
const array = (model: string, key: string) => {
  const { offset, shape } = header.models[model].arrays[key];
  const n = shape.reduce((a, b) => a * b, 1);
  return new Float32Array(bin.buffer.slice(bin.byteOffset + offset, bin.byteOffset + offset + 4 * n));
};
const relative = (ours: Float32Array, reference: Float32Array) => maxAbsDiff(ours, reference) / reference.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
const argmax = (logits: Float32Array, classes: number) =>
  Array.from({ length: logits.length / classes }, (_, i) => {
    const row = Array.from(logits.subarray(i * classes, (i + 1) * classes));
    return row.indexOf(Math.max(...row));
  });

describe("torchvision ResNets on the model description", () => {
  beforeAll(() => selectBackend({ force: "cpu", logger: () => {} }));

  const cases = Object.keys(header.models).flatMap((name) => ["", "-legacy"].map((suffix) => [name, suffix] as const));
  it.each(cases)("%s%s.pth: logits and features equal torchvision's on ONNX Runtime and TF.js", async (name, suffix) => {
    const { arrays: _arrays, ...config } = header.models[name];
    const spec = torchvisionResNetSpec({ name, ...config });
    const { stateDict } = await loadTorchCheckpoint(path.join(DIR, `${name}${suffix}.pth`));
    checkStateDict(spec, stateDict, name);
    const inputs = array(name, "inputs");
    const count = header.models[name].arrays.inputs.shape[0];
    const logits = array(name, "logits");
    const features = array(name, "features");
    for (const engine of [await createOnnxEngine(spec, stateDict), createTfjsEngine(spec, stateDict), createTfjsEngine(spec, stateDict, { foldBatchNorm: false })]) {
      try {
        const out = await engine.forward(inputs, count);
        const result = { name, engine: engine.backend, logits: relative(out.logits, logits) <= 1e-4, features: relative(out.features, features) <= 1e-4 };
        expect(result).toEqual({ ...result, logits: true, features: true });
        expect(argmax(out.logits, spec.classes)).toEqual(argmax(logits, spec.classes));
      } finally {
        engine.dispose();
      }
    }
  });

  it("builds the full-size family with torchvision's shapes and keys", () => {
    const r50 = torchvisionResNetSpec(TORCHVISION_RESNETS.resnet50);
    expect(r50.featureWidth).toBe(2048);
    expect(r50.inputShape).toEqual([224, 224, 3]);
    expect(r50.layers.find((l) => l.op === "conv2d" && l.weight === "layer2.0.conv2.weight")).toMatchObject({ stride: 2, inChannels: 128, outChannels: 128 });
    expect(r50.layers.find((l) => l.op === "conv2d" && l.weight === "layer2.0.conv1.weight")).toMatchObject({ stride: 1 });
    expect(r50.layers.find((l) => l.op === "conv2d" && l.weight === "layer1.0.downsample.0.weight")).toMatchObject({ inChannels: 64, outChannels: 256, kernel: 1 });
    const wide = torchvisionResNetSpec(TORCHVISION_RESNETS.wide_resnet50_2);
    expect(wide.layers.find((l) => l.op === "conv2d" && l.weight === "layer1.0.conv2.weight")).toMatchObject({ inChannels: 128, outChannels: 128 });
    expect(torchvisionResNetSpec(TORCHVISION_RESNETS.resnet18).featureWidth).toBe(512);
    // Convolutions plus the linear layer; the downsample 1x1 convolutions count too.
    expect(countLayers(torchvisionResNetSpec(TORCHVISION_RESNETS.resnet18))).toBe(21);
    expect(countLayers(r50)).toBe(54);
  });

  it("refuses to train a model with a layer the training steps cannot differentiate", async () => {
    const spec = torchvisionResNetSpec({ name: "tv", block: "basic", blocks: [1, 1, 1, 1], stem: 8, planes: [8, 8, 8, 8], classes: 3, inputSize: 32 });
    await expect(createTrainEngine(spec, new Float32Array(3 * 8).fill(1), "onnx")).rejects.toThrow("tv has a 'maxpool' layer (output 'maxpool'), which training does not support yet");
  });
});
