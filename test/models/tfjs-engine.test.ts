import * as tf from "@tensorflow/tfjs";
import { selectBackend } from "../../src/backend";
import { spatialMean } from "../../src/method/maps";
import { type ModelSpec, pooledMapsName } from "../../src/models/spec";
import { cifarResNetSpec } from "../../src/models/families/cifar-resnet";
import { createTfjsEngine } from "../../src/models/tfjs-engine";
import { loadTorchCheckpoint, type StateDict } from "../../src/torch";
import { loadParityFixture, maxAbsDiff } from "./parity-fixture";

const fixture = loadParityFixture();
const TOLERANCE = 1e-4;

/** A state dict with every key and shape the spec needs; `fill(key, index)` gives each value. */
function syntheticStateDict(spec: ModelSpec, fill: (key: string, i: number) => number): StateDict {
  const sd: StateDict = new Map();
  const put = (key: string, shape: number[]) => {
    const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
    for (let i = 0; i < data.length; i++) data[i] = fill(key, i);
    sd.set(key, { shape, data });
  };
  for (const l of spec.layers) {
    if (l.op === "conv2d") put(l.weight, [l.outChannels, l.inChannels, l.kernel, l.kernel]);
    if (l.op === "batchnorm") for (const p of ["weight", "bias", "running_mean", "running_var"]) put(`${l.param}.${p}`, [l.channels]);
    if (l.op === "linear") {
      put(`${l.param}.weight`, [l.outFeatures, l.inFeatures]);
      put(`${l.param}.bias`, [l.outFeatures]);
    }
  }
  return sd;
}

describe.each(["cpu", "wasm"])("TF.js ResNet on %s", (backend) => {
  beforeAll(async () => {
    await selectBackend({ force: backend, logger: () => {} });
  });

  describe.each(["resnet20", "resnet56"])("%s parity with PyTorch", (name) => {
    const ref = fixture.models[name];
    let stateDict: StateDict;
    beforeAll(async () => {
      stateDict = (await loadTorchCheckpoint(ref.checkpoint)).stateDict;
    });

    it.each([true, false])("matches logits and features within 1e-4 (foldBatchNorm=%s)", async (foldBatchNorm) => {
      const engine = createTfjsEngine(cifarResNetSpec(Number(name.slice(6))), stateDict, { foldBatchNorm });
      expect(engine.backend).toBe(`tfjs/${backend}`);
      const out = await engine.forward(fixture.inputs, fixture.count);
      engine.dispose();
      expect(out.logits).toHaveLength(fixture.count * 10);
      expect(out.features).toHaveLength(fixture.count * 64);
      expect(maxAbsDiff(out.logits, ref.logits)).toBeLessThanOrEqual(TOLERANCE);
      expect(maxAbsDiff(out.features, ref.features)).toBeLessThanOrEqual(TOLERANCE);
    });
  });

  it("leaks no tensors: forward leaves the count unchanged, dispose frees the weights", async () => {
    const before = tf.memory().numTensors;
    const engine = createTfjsEngine(cifarResNetSpec(20), (await loadTorchCheckpoint(fixture.models.resnet20.checkpoint)).stateDict);
    const loaded = tf.memory().numTensors;
    expect(loaded).toBeGreaterThan(before);
    await engine.forward(fixture.inputs, fixture.count);
    expect(tf.memory().numTensors).toBe(loaded);
    engine.dispose();
    expect(tf.memory().numTensors).toBe(before);
    await expect(engine.forward(fixture.inputs, fixture.count)).rejects.toThrow(/was disposed/);
  });
});

describe("TF.js ResNet named activations (cpu, real resnet20)", () => {
  let stateDict: StateDict;
  beforeAll(async () => {
    await selectBackend({ force: "cpu", logger: () => {} });
    stateDict = (await loadTorchCheckpoint(fixture.models.resnet20.checkpoint)).stateDict;
  });

  it.each([true, false])("the last block's maps average to the pooled features within 1e-5 (foldBatchNorm=%s)", async (foldBatchNorm) => {
    const spec = cifarResNetSpec(20);
    const name = pooledMapsName(spec);
    expect(name).toBe("layer3.2:out");
    const engine = createTfjsEngine(spec, stateDict, { foldBatchNorm });
    const pooled = await engine.forward(fixture.inputs, fixture.count);
    const named = await engine.forwardNamed(fixture.inputs, fixture.count, [name, "logits"]);
    engine.dispose();
    const maps = named.get(name)!;
    expect(maps.shape).toEqual([fixture.count, 8, 8, 64]);
    const mean = spatialMean({ count: fixture.count, height: 8, width: 8, channels: 64, data: maps.data, tensor: name });
    expect(maxAbsDiff(mean, pooled.features)).toBeLessThanOrEqual(1e-5);
    expect(maxAbsDiff(named.get("logits")!.data, pooled.logits)).toBe(0);
    // Real ReLU maps: non-negative, and not constant over space (otherwise pooling would lose nothing).
    expect(Math.min(...maps.data)).toBeGreaterThanOrEqual(0);
    expect(new Set(maps.data.subarray(0, 64 * 64).filter((_, i) => i % 64 === 0)).size).toBeGreaterThan(1);
  });

  it("frees every tensor and names the ones it cannot return", async () => {
    const before = tf.memory().numTensors;
    const engine = createTfjsEngine(cifarResNetSpec(20), stateDict);
    const loaded = tf.memory().numTensors;
    await engine.forwardNamed(fixture.inputs, fixture.count, ["layer2.1:out", "layer3.2:out"]);
    expect(tf.memory().numTensors).toBe(loaded);
    // With folding, the conv's own output never exists: the error says so and lists what does.
    await expect(engine.forwardNamed(fixture.inputs, fixture.count, ["layer3.2.conv2:conv"])).rejects.toThrow(
      /resnet20 has no tensor 'layer3.2.conv2:conv' in this executor \(a conv\/BN output folded away, or a misspelt name\); available: input, bn1:relu, .*layer3.2:out/,
    );
    await expect(engine.forwardNamed(fixture.inputs, fixture.count, [])).rejects.toThrow(/at least one tensor name/);
    expect(tf.memory().numTensors).toBe(loaded);
    engine.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe("TF.js ResNet structure (cpu)", () => {
  beforeAll(async () => {
    await selectBackend({ force: "cpu", logger: () => {} });
  });

  it("runs ResNet110 from a state dict of its shapes; option-A shortcuts carry the stem to channels 24..39", async () => {
    // Zero convolutions make every residual branch equal its BN bias (zero except the stem), so the
    // features are the stem's per-channel bias, moved by two channel paddings of 8 and 16 on each side.
    const spec = cifarResNetSpec(110);
    const stem = (k: number) => 0.25 + k / 16;
    const sd = syntheticStateDict(spec, (key, i) => {
      if (key === "bn1.bias") return stem(i);
      if (key.endsWith("running_var") || (key.endsWith(".weight") && key.includes("bn"))) return 1;
      if (key === "linear.weight") return i % 64 === 30 ? 1 : 0;
      if (key === "linear.bias") return i;
      return 0;
    });
    for (const foldBatchNorm of [true, false]) {
      const engine = createTfjsEngine(spec, sd, { foldBatchNorm });
      const out = await engine.forward(new Float32Array(2 * 32 * 32 * 3).fill(0.7), 2);
      engine.dispose();
      for (let n = 0; n < 2; n++) {
        const f = out.features.subarray(n * 64, (n + 1) * 64);
        for (let c = 0; c < 64; c++) expect(f[c]).toBeCloseTo(c >= 24 && c < 40 ? stem(c - 24) : 0, 6);
        for (let y = 0; y < 10; y++) expect(out.logits[n * 10 + y]).toBeCloseTo(y + stem(6), 5);
      }
    }
  });

  it("names every missing or mis-shaped weight with expected and actual shapes", () => {
    const spec = cifarResNetSpec(20);
    const sd = syntheticStateDict(spec, () => 0.1);
    sd.delete("layer2.0.conv1.weight");
    sd.set("linear.weight", { shape: [10, 32], data: new Float32Array(320) });
    const before = tf.memory().numTensors;
    expect(() => createTfjsEngine(spec, sd)).toThrow(
      "state dict does not fit resnet20: missing 'layer2.0.conv1.weight' (expected shape [32, 16, 3, 3]); 'linear.weight' has shape [10, 32], expected [10, 64]",
    );
    expect(tf.memory().numTensors).toBe(before);
  });

  it("rejects an image buffer of the wrong size", async () => {
    const engine = createTfjsEngine(cifarResNetSpec(20), syntheticStateDict(cifarResNetSpec(20), () => 0.1));
    await expect(engine.forward(new Float32Array(3072 * 2 - 1), 2)).rejects.toThrow("forward expects 2 x 32 x 32 x 3 = 6144 values (NHWC), got 6143");
    engine.dispose();
  });
});
