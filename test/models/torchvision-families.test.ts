/**
 * torchvision's ResNet, DenseNet and EfficientNet families on the model description, against torchvision 0.14 itself: reduced
 * configurations (scripts/make-torchvision-fixtures.py: fewer blocks and narrower stages built from torchvision's
 * own classes, seeded random weights and BatchNorm statistics, odd input sides) in both serialisations (the
 * DenseNet legacy copies also with the published files' `norm.1` key names), on ONNX Runtime and TF.js.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { selectBackend } from "../../src/backend";
import { renameLegacyDenseNetKeys, TORCHVISION_DENSENETS, torchvisionDenseNetSpec } from "../../src/models/families/torchvision-densenet";
import { TORCHVISION_EFFICIENTNETS, torchvisionEfficientNetSpec } from "../../src/models/families/torchvision-efficientnet";
import { TORCHVISION_RESNETS, torchvisionResNetSpec } from "../../src/models/families/torchvision-resnet";
import type { ModelSpec } from "../../src/models/spec";
import { createOnnxEngine } from "../../src/models/onnx-engine";
import { countLayers } from "../../src/models/summary";
import { createTfjsEngine } from "../../src/models/tfjs-engine";
import { checkStateDict } from "../../src/models/weights";
import { loadTorchCheckpoint } from "../../src/torch";
import { createTrainEngine } from "../../src/training";
import { maxAbsDiff } from "./parity-fixture";

const DIR = path.join(__dirname, "..", "fixtures", "torchvision");
type Entry = { family: "resnet" | "densenet" | "efficientnet"; arrays: Record<string, { offset: number; shape: number[] }> } & Record<string, unknown>;
const header = JSON.parse(fs.readFileSync(path.join(DIR, "fixtures.json"), "utf8")) as { models: Record<string, Entry> };

function specOf(name: string): ModelSpec {
  const { family, arrays: _arrays, ...config } = header.models[name];
  if (family === "resnet") return torchvisionResNetSpec({ name, ...(config as Omit<Parameters<typeof torchvisionResNetSpec>[0], "name">) });
  if (family === "densenet") return torchvisionDenseNetSpec({ name, ...(config as Omit<Parameters<typeof torchvisionDenseNetSpec>[0], "name">) });
  return torchvisionEfficientNetSpec({ name, ...(config as Omit<Parameters<typeof torchvisionEfficientNetSpec>[0], "name">) });
}
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

describe("torchvision ResNets, DenseNets and EfficientNets on the model description", () => {
  beforeAll(() => selectBackend({ force: "cpu", logger: () => {} }));

  const cases = Object.keys(header.models).flatMap((name) => ["", "-legacy"].map((suffix) => [name, suffix] as const));
  it.each(cases)("%s%s.pth: logits and features equal torchvision's on ONNX Runtime and TF.js", async (name, suffix) => {
    const spec = specOf(name);
    const loaded = (await loadTorchCheckpoint(path.join(DIR, `${name}${suffix}.pth`))).stateDict;
    const stateDict = header.models[name].family === "densenet" ? renameLegacyDenseNetKeys(loaded) : loaded;
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

  it("reads the published DenseNet files' legacy key names only through the family's renaming", async () => {
    const spec = specOf("tv-densenet");
    const { stateDict } = await loadTorchCheckpoint(path.join(DIR, "tv-densenet-legacy.pth"));
    expect(() => checkStateDict(spec, stateDict, "tv-densenet-legacy.pth")).toThrow("tv-densenet-legacy.pth has no 'features.denseblock1.denselayer1.norm1.weight' (shape [8])");
    const renamed = renameLegacyDenseNetKeys(stateDict);
    expect(renamed.has("features.denseblock1.denselayer1.conv2.weight")).toBe(true);
    expect(renamed.has("features.transition1.norm.weight")).toBe(true);
    expect(() => checkStateDict(spec, renamed, "renamed")).not.toThrow();
  });

  it("builds the full-size DenseNets with torchvision's widths", () => {
    expect(torchvisionDenseNetSpec(TORCHVISION_DENSENETS.densenet121).featureWidth).toBe(1024);
    expect(torchvisionDenseNetSpec(TORCHVISION_DENSENETS.densenet161).featureWidth).toBe(2208);
    expect(torchvisionDenseNetSpec(TORCHVISION_DENSENETS.densenet169).featureWidth).toBe(1664);
    expect(torchvisionDenseNetSpec(TORCHVISION_DENSENETS.densenet201).featureWidth).toBe(1920);
  });

  it("builds EfficientNet B0-B3 with torchvision's widths and the paper's Table 6 layer counts", () => {
    const built = ["efficientnet_b0", "efficientnet_b1", "efficientnet_b2", "efficientnet_b3"].map((n) => torchvisionEfficientNetSpec(TORCHVISION_EFFICIENTNETS[n]));
    expect(built.map((s) => s.featureWidth)).toEqual([1280, 1280, 1408, 1536]);
    expect(built.map(countLayers)).toEqual([82, 116, 116, 131]);
    expect(built.map((s) => s.inputShape[0])).toEqual([224, 240, 288, 300]);
    // The squeeze width comes from the block's input channels: B0's features.2.0 takes 16 and expands to 96.
    expect(built[0].layers.find((l) => l.op === "conv2d" && l.weight === "features.2.0.block.2.fc1.weight")).toMatchObject({ inChannels: 96, outChannels: 4 });
    expect(built[0].layers.find((l) => l.op === "conv2d" && l.weight === "features.2.0.block.1.0.weight")).toMatchObject({ groups: 96, stride: 2, kernel: 3 });
  });

  // ResNets train (max pooling has its gradient); a DenseNet's concatenation does not yet.
  it("refuses to train a model with a layer the training steps cannot differentiate", async () => {
    const spec = torchvisionDenseNetSpec({ name: "dn", growthRate: 4, blocks: [1, 1], initFeatures: 8, classes: 3, inputSize: 32 });
    await expect(createTrainEngine(spec, new Float32Array(3 * spec.featureWidth).fill(1), "onnx")).rejects.toThrow(/^dn has a 'concat' layer \(output '[^']+'\), which training does not support yet/);
  });
});
