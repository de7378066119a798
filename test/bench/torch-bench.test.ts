import { maxAbsDiff } from "../../src/method/metrics";
import { syntheticImages } from "../../src/bench/throughput";
import { DEFAULT_PYTHON, runTorchBench, runTorchTrainEpoch, torchAvailable, torchOracle } from "../../src/bench/torch-bench";
import { createOnnxEngine } from "../../src/models/onnx-engine";
import { loadPretrained } from "../../src/models/pretrained";


test("torchAvailable explains a python that cannot import torch", async () => {
  const result = await torchAvailable("/nonexistent/python3");
  expect(result.ok).toBe(false);
  expect(result.ok ? "" : result.reason).toMatch(/^\/nonexistent\/python3 cannot import torch/);
});

describe("PyTorch side (scripts/bench-torch.py)", () => {
  // npm test installs Debian's python3-torch (scripts/setup.sh --test): without it these fail, naming why.
  beforeAll(async () => {
    expect(await torchAvailable(DEFAULT_PYTHON)).toEqual({ ok: true, version: expect.any(String) });
  });

  test("its CIFAR ResNet20 gives our ONNX engine's logits and features on the published checkpoint", async () => {
    const model = await loadPretrained("resnet20");
    const images = syntheticImages(6, 11);
    const theirs = await torchOracle(DEFAULT_PYTHON, 20, model.checkpointPath, images);
    const engine = await createOnnxEngine(model.spec, model.stateDict, { intraOpThreads: 1 });
    try {
      const ours = await engine.forward(images, 6);
      expect(maxAbsDiff(ours.logits, theirs.logits)).toBeLessThan(1e-4);
      expect(maxAbsDiff(ours.features, theirs.features)).toBeLessThan(1e-4);
    } finally {
      engine.dispose();
    }
  });

  test("measures each (mode, batch, allocator, wait policy) and labels the settings", async () => {
    const model = await loadPretrained("resnet20");
    const bench = await runTorchBench({
      python: DEFAULT_PYTHON, depths: [20], batches: [4, 8], images: 8, repeats: 1, threads: 1,
      modes: ["eager"], allocators: ["default", "tuned"], ompWaitPolicies: ["passive"],
      checkpoints: new Map([[20, model.checkpointPath]]),
    });
    expect(bench.threads).toBe(1);
    expect(bench.results.map((r) => [r.batch, r.allocator, r.ompWaitPolicy])).toEqual([
      [4, "default", "passive"], [8, "default", "passive"], [4, "tuned", "passive"], [8, "tuned", "passive"],
    ]);
    for (const r of bench.results) {
      expect(r.checkpoint).toBe(model.checkpointPath);
      expect(r.imagesPerSec).toBeCloseTo(8 / r.seconds, 6);
      expect(r.glibcTunables).toBe(r.allocator === "tuned" ? "glibc.malloc.mmap_threshold=4294967295:glibc.malloc.trim_threshold=4294967295" : "");
    }
  });

  test("times one fine-tuning epoch over the images it is given, in the one setting asked for", async () => {
    const model = await loadPretrained("resnet20");
    const count = 20;
    const timing = await runTorchTrainEpoch({
      python: DEFAULT_PYTHON, depth: 20, checkpoint: model.checkpointPath, batch: 8, threads: 1, allocator: "tuned", ompWaitPolicy: "passive",
      pixels: Uint8Array.from({ length: count * 3072 }, (_, i) => (i * 37) % 256),
      labels: Uint8Array.from({ length: count }, (_, i) => i % 10),
    });
    expect(timing).toMatchObject({ batch: 8, images: count, allocator: "tuned", ompWaitPolicy: "passive" });
    expect(timing.seconds).toBeGreaterThan(0);
    expect(timing.imagesPerSec).toBeCloseTo(count / timing.seconds, 6);
  });
});
