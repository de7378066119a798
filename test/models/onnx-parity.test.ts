import * as fs from "fs";
import * as path from "path";
import { cifarResNetSpec } from "../../src/models/families/cifar-resnet";
import { createOnnxEngine } from "../../src/models/onnx-engine";
import { loadTorchCheckpoint } from "../../src/torch";
import { maxAbsDiff } from "../../src/method/metrics";

const FIXTURE = path.join(__dirname, "..", "fixtures", "parity");
const MIRROR = path.join(__dirname, "..", "..", "..", "shared", "mirror", "pytorch_resnet_cifar10");

interface ParityIndex {
  arrays: Record<string, { offset: number; shape: number[] }>;
  models: Record<string, { checkpoint: string }>;
}

const index: ParityIndex = JSON.parse(fs.readFileSync(path.join(FIXTURE, "parity.json"), "utf8"));
const blob = fs.readFileSync(path.join(FIXTURE, "parity.bin"));

function array(name: string): { data: Float32Array; shape: number[] } {
  const { offset, shape } = index.arrays[name];
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = blob.readFloatLE(offset + 4 * i);
  return { data, shape };
}

describe("ONNX Runtime engine on the published checkpoints vs PyTorch float64 (test/fixtures/parity)", () => {
  const inputs = array("inputs");
  test.each([20, 56])("resnet%i features and logits within 1e-4", async (depth) => {
    const name = `resnet${depth}`;
    const { stateDict } = await loadTorchCheckpoint(path.join(MIRROR, index.models[name].checkpoint));
    const engine = await createOnnxEngine(cifarResNetSpec(depth), stateDict, { intraOpThreads: 1 });
    try {
      const out = await engine.forward(inputs.data, inputs.shape[0]);
      expect(maxAbsDiff(out.features, array(`${name}/features`).data)).toBeLessThan(1e-4);
      expect(maxAbsDiff(out.logits, array(`${name}/logits`).data)).toBeLessThan(1e-4);
    } finally {
      engine.dispose();
    }
  });
});
