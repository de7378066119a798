import * as ort from "onnxruntime-node";
import { nchwcBlockSize } from "../../src/models/nchwc";
import { cifarResNetSpec } from "../../src/models/families/cifar-resnet";
import { exportTrainingGraph } from "../../src/training";

describe("ONNX Runtime's NCHWc kernels", () => {
  test("the probe reports a block of whole SIMD vectors, or null where the build has none", async () => {
    const block = await nchwcBlockSize();
    if (block !== null) {
      expect(Number.isInteger(block)).toBe(true);
      expect(block % 4).toBe(0);
      expect(block).toBeGreaterThanOrEqual(8);
    }
    // Memoised: one probe session per process.
    expect(await nchwcBlockSize()).toBe(block);
  });

  test("the training graph asks for blocked convolutions only where a block size is given", async () => {
    const spec = cifarResNetSpec(8);
    const text = (bytes: Uint8Array) => Buffer.from(bytes).toString("latin1");
    const blocked = text(exportTrainingGraph(spec, { nchwcBlock: 16 }));
    const plain = text(exportTrainingGraph(spec));
    expect(blocked).toContain("com.microsoft.nchwc");
    expect(blocked).toContain("ReorderInput");
    expect(plain).not.toContain("com.microsoft.nchwc");
    // With 64-channel blocks only the last stage's convolutions fill whole blocks; they are still blocked.
    expect(text(exportTrainingGraph(spec, { nchwcBlock: 64 }))).toContain("com.microsoft.nchwc");
    const block = await nchwcBlockSize();
    if (block !== null) {
      // The session must accept the blocked graph on this machine.
      const session = await ort.InferenceSession.create(exportTrainingGraph(spec, { nchwcBlock: block }));
      await session.release();
    }
  });
});
