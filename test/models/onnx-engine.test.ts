import { cifarResNetSpec } from "../../src/models/families/cifar-resnet";
import { createOnnxEngine, ONNX_BACKEND } from "../../src/models/onnx-engine";
import { exportOnnxModel } from "../../src/models/onnx-export";
import { createTfjsEngine } from "../../src/models/tfjs-engine";
import * as tf from "@tensorflow/tfjs";
import { mulberry32 } from "../../src/data/prng";
import { maxAbsDiff } from "../../src/method/metrics";
import { randomStateDict, referenceForward } from "./reference-forward";

const spec = cifarResNetSpec(8);
const stateDict = randomStateDict(spec, 1);
const count = 3;
const rand = mulberry32(2);
const images = Float32Array.from({ length: count * 32 * 32 * 3 }, () => rand() * 4 - 2);
const reference = referenceForward(spec, stateDict, images, count);

describe("ONNX Runtime engine vs float64 reference forward (ResNet8, random weights)", () => {
  test.each(["nhwc", "nchw"] as const)("%s graph input gives the reference features and logits within 1e-4", async (inputLayout) => {
    const engine = await createOnnxEngine(spec, stateDict, { inputLayout, intraOpThreads: 1 });
    try {
      expect(engine.backend).toBe(ONNX_BACKEND);
      const out = await engine.forward(images, count);
      expect(out.features).toHaveLength(count * spec.featureWidth);
      expect(out.logits).toHaveLength(count * spec.classes);
      expect(maxAbsDiff(out.features, reference.features)).toBeLessThan(1e-4);
      expect(maxAbsDiff(out.logits, reference.logits)).toBeLessThan(1e-4);
    } finally {
      engine.dispose();
    }
  });

  test("forwards only the first `count` images of a longer buffer, each independently of the batch", async () => {
    const engine = await createOnnxEngine(spec, stateDict, { intraOpThreads: 1 });
    try {
      const one = await engine.forward(images.subarray(32 * 32 * 3), 1);
      expect(maxAbsDiff(one.logits, reference.logits.subarray(spec.classes, 2 * spec.classes))).toBeLessThan(1e-4);
    } finally {
      engine.dispose();
    }
  });

  test("rejects a buffer too short for the image count, and use after dispose", async () => {
    const engine = await createOnnxEngine(spec, stateDict, { intraOpThreads: 1 });
    await expect(engine.forward(images, count + 1)).rejects.toThrow(/expected 4 x 32 x 32 x 3 = 12288/);
    engine.dispose();
    await expect(engine.forward(images, 1)).rejects.toThrow(/disposed/);
  });
});

test("agrees with the TF.js executor on the same spec and weights", async () => {
  await tf.setBackend("cpu");
  const tfjs = createTfjsEngine(spec, stateDict);
  const onnx = await createOnnxEngine(spec, stateDict, { intraOpThreads: 1 });
  try {
    const [a, b] = await Promise.all([tfjs.forward(images, count), onnx.forward(images, count)]);
    expect(maxAbsDiff(a.logits, b.logits)).toBeLessThan(1e-4);
    expect(maxAbsDiff(a.features, b.features)).toBeLessThan(1e-4);
  } finally {
    tfjs.dispose();
    onnx.dispose();
  }
});

describe("ONNX export input checks", () => {
  test("names the missing parameter", () => {
    const partial = new Map(stateDict);
    partial.delete("layer2.0.bn1.running_var");
    expect(() => exportOnnxModel(spec, partial)).toThrow(/no "layer2\.0\.bn1\.running_var"/);
  });

  test("reports a parameter whose shape disagrees with the spec", () => {
    const wrong = new Map(stateDict);
    wrong.set("linear.weight", { shape: [10, 32], data: new Float32Array(320) });
    expect(() => exportOnnxModel(spec, wrong)).toThrow(/"linear\.weight" has shape \[10, 32\], the spec expects \[10, 64\]/);
  });
});
