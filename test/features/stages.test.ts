/**
 * Stage features: each stage's pooled output from one forward pass, against PyTorch float64 forward hooks on the
 * published ResNet20 (scripts/make-stage-fixture.py), on both executors; the cached extraction on real CIFAR-10
 * images, whose last stage must be the penultimate features bit for bit; and the refusals.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { resolveCacheDir } from "../../src/artifacts/paths";
import { loadCifar10 } from "../../src/data/cifar10";
import { splitCachePath } from "../../src/data/split-cache";
import { getFeatures } from "../../src/features";
import { getStageFeatures, stageCachePath, stageMatrix } from "../../src/features/stages";
import { cifarResNetSpec } from "../../src/models/families/cifar-resnet";
import { createOnnxEngine } from "../../src/models/onnx-engine";
import { exportOnnxModel } from "../../src/models/onnx-export";
import { modelEntry } from "../../src/models/registry";
import { pickStages, withStageOutputs } from "../../src/models/spec";
import { createTfjsEngine } from "../../src/models/tfjs-engine";
import { loadTorchCheckpoint } from "../../src/torch";
import { loadParityFixture } from "../models/parity-fixture";

interface StageFixture {
  stages: Record<string, { width: number; features: number[] }>;
}
const bytes = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
const fixture = JSON.parse(fs.readFileSync(path.join(__dirname, "..", "fixtures", "parity", "stages.json"), "utf8")) as StageFixture;

describe("stage outputs of ResNet20 vs PyTorch float64 forward hooks", () => {
  const parity = loadParityFixture();
  it.each(["onnx", "tfjs"])("on the %s executor: layer1-3 within 1e-5 of each stage's largest value, layer3 = the penultimate features", async (kind) => {
    const { stateDict } = await loadTorchCheckpoint(parity.models.resnet20.checkpoint);
    const spec = withStageOutputs(cifarResNetSpec(20));
    const engine = kind === "onnx" ? await createOnnxEngine(spec, stateDict, { intraOpThreads: 1 }) : await createTfjsEngine(spec, stateDict);
    try {
      const out = await engine.forward(parity.inputs, parity.count);
      expect(out.stages?.map((s) => s.length)).toEqual([16, 32, 64].map((w) => w * parity.count));
      ["layer1", "layer2", "layer3"].forEach((name, i) => {
        const ref = fixture.stages[name].features;
        const scale = Math.max(...ref.map(Math.abs));
        // float32 through up to 19 convolutions of at most 576 products each: errors of a few 1e-7 relative to
        // the activations' scale (torch's own float32 run is 1.1e-6 off on the features); 1e-5 leaves a margin
        // yet catches a wrong stage tensor (a block off moves values by 10 % and more).
        const worst = ref.reduce((m, r, j) => Math.max(m, Math.abs(out.stages![i][j] - r)), 0);
        expect(worst).toBeLessThan(1e-5 * scale);
      });
      expect(bytes(out.stages![2]).equals(bytes(out.features))).toBe(true);
    } finally {
      engine.dispose();
    }
  });
});

describe("stage names", () => {
  it("lists a model's stages in depth order with their widths", () => {
    expect(pickStages(cifarResNetSpec(56)).map((s) => [s.name, s.tensor, s.channels])).toEqual([
      ["layer1", "layer1.8:out", 16],
      ["layer2", "layer2.8:out", 32],
      ["layer3", "layer3.8:out", 64],
    ]);
    expect(pickStages(modelEntry("resnet50").buildSpec()).map((s) => `${s.name}:${s.channels}`)).toEqual(["layer1:256", "layer2:512", "layer3:1024", "layer4:2048"]);
  });
  it("refuses an unknown stage, listing the model's stages, and a family that names none", () => {
    expect(() => pickStages(cifarResNetSpec(20), ["layer4"])).toThrow("resnet20 has no stage 'layer4'; its stages are layer1, layer2, layer3");
    expect(() => withStageOutputs(modelEntry("densenet121").buildSpec())).toThrow(/densenet121 names no stages/);
  });
});

describe("cached stage extraction on CIFAR-10 (real ResNet20)", () => {
  const LIMIT = 200;
  let cacheDir: string;
  beforeAll(async () => {
    await loadCifar10("test");
    cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), "decomp-stages-"));
    fs.mkdirSync(path.join(cacheDir, "cifar10"));
    fs.copyFileSync(splitCachePath(resolveCacheDir(), "test"), splitCachePath(cacheDir, "test"));
  });
  afterAll(() => fs.rmSync(cacheDir, { recursive: true, force: true }));

  it("extracts every stage in one pass, caches them, and its last stage is the penultimate features bit for bit", async () => {
    const opts = { model: "resnet20", split: "test" as const, norm: "cifar", limit: LIMIT, cacheDir };
    const stages: string[] = [];
    const set = await getStageFeatures({ ...opts, onProgress: (p) => stages.push(p.stage) });
    expect(new Set(stages.filter((s) => s.startsWith("extract")))).toEqual(new Set([expect.stringMatching(/^extract resnet20\/test stages layer1, layer2, layer3 /)]));
    expect(set.stages.map((s) => [s.name, s.width])).toEqual([["layer1", 16], ["layer2", 32], ["layer3", 64]]);
    expect(set.stages.every((s) => s.features.every((v) => v >= 0))).toBe(true);
    // The penultimate features from a fresh extraction of their own, in another cache folder.
    const other = fs.mkdtempSync(path.join(os.tmpdir(), "decomp-stages-plain-"));
    try {
      fs.mkdirSync(path.join(other, "cifar10"));
      fs.copyFileSync(splitCachePath(cacheDir, "test"), splitCachePath(other, "test"));
      const plain = await getFeatures({ ...opts, cacheDir: other });
      expect(bytes(stageMatrix(set, "layer3").data).equals(bytes(plain.features))).toBe(true);
      expect(Array.from(set.labels)).toEqual(Array.from(plain.labels));
    } finally {
      fs.rmSync(other, { recursive: true, force: true });
    }
    const again: string[] = [];
    const cached = await getStageFeatures({ ...opts, stages: ["layer2"], onProgress: (p) => again.push(p.stage) });
    expect(again.filter((s) => s.startsWith("extract"))).toEqual([]);
    expect(cached.stages.map((s) => s.name)).toEqual(["layer2"]);
    expect(bytes(cached.stages[0].features).equals(bytes(set.stages[1].features))).toBe(true);
    expect(fs.existsSync(stageCachePath(cacheDir, set))).toBe(true);
  });

  it("reads the feature maps a user names in an imported ONNX graph: the same values as the registry's stages", async () => {
    // ResNet20 written out as an ONNX file of its own (NCHW input, as torch.onnx.export writes one).
    const { stateDict } = await loadTorchCheckpoint(loadParityFixture().models.resnet20.checkpoint);
    const file = path.join(cacheDir, "resnet20-export.onnx");
    fs.writeFileSync(file, exportOnnxModel(cifarResNetSpec(20), stateDict, { inputLayout: "nchw" }));
    const opts = { split: "test" as const, norm: "cifar", limit: LIMIT, cacheDir };
    const imported = await getStageFeatures({ ...opts, model: file, stages: ["layer1.2:out", "layer2.2:out"] });
    const registry = await getStageFeatures({ ...opts, model: "resnet20", stages: ["layer1", "layer2"] });
    expect(imported.stages.map((s) => [s.name, s.width])).toEqual([["layer1.2:out", 16], ["layer2.2:out", 32]]);
    imported.stages.forEach((s, i) => {
      const ref = registry.stages[i].features;
      const scale = ref.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
      // The same float32 graph; only the order of the pooling sums differs (ours in JavaScript, ONNX Runtime's).
      expect(ref.reduce((m, r, j) => Math.max(m, Math.abs(s.features[j] - r)), 0)).toBeLessThan(1e-5 * scale);
    });
    await expect(getStageFeatures({ ...opts, model: file, stages: ["layer9:out"] })).rejects.toThrow(/resnet20-export\.onnx has no tensor 'layer9:out'; its activations \(\d+\) are .*layer1\.0:out/);
    await expect(getStageFeatures({ ...opts, model: file, stages: ["features"] })).rejects.toThrow("tensor 'features' has shape [1, 64]: it has no spatial axes to pool; name a feature map (batch x channels x height x width)");
    await expect(getStageFeatures({ ...opts, model: file })).rejects.toThrow(/is a graph without named stages: name the feature maps to probe/);
  });

  it("refuses an unknown stage before extracting", async () => {
    await expect(getStageFeatures({ model: "resnet20", split: "test", limit: LIMIT, cacheDir, stages: ["layer9"] })).rejects.toThrow("resnet20 has no stage 'layer9'; its stages are layer1, layer2, layer3");
  });
});
