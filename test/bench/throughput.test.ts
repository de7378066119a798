import { fastest, sweepBatchSizes, syntheticImages } from "../../src/bench/throughput";
import { createOnnxEngine } from "../../src/models/onnx-engine";
import { cifarResNetSpec } from "../../src/models/families/cifar-resnet";
import type { ProgressEvent } from "../../src/progress";
import { randomStateDict } from "../models/reference-forward";

test("synthetic images are seeded standard-normal values", () => {
  const a = syntheticImages(20, 3);
  expect(a).toHaveLength(20 * 3072);
  expect(syntheticImages(20, 3)).toEqual(a);
  expect(syntheticImages(20, 4)).not.toEqual(a);
  const mean = a.reduce((s, v) => s + v, 0) / a.length;
  const variance = a.reduce((s, v) => s + (v - mean) ** 2, 0) / a.length;
  expect(Math.abs(mean)).toBeLessThan(0.03);
  expect(Math.abs(variance - 1)).toBeLessThan(0.05);
});

test("a batch-size sweep times every batch size over all images and reports progress per pass", async () => {
  const spec = cifarResNetSpec(8);
  const engine = await createOnnxEngine(spec, randomStateDict(spec, 5), { intraOpThreads: 1 });
  const events: ProgressEvent[] = [];
  try {
    const count = 10;
    const timings = await sweepBatchSizes(engine, syntheticImages(count), count, { batches: [4, 16], repeats: 2, stage: "t", progress: (e) => events.push(e) });
    expect(timings.map((t) => t.batch)).toEqual([4, 16]);
    for (const t of timings) {
      expect(t.images).toBe(count);
      expect(t.seconds).toBeGreaterThan(0);
      expect(t.imagesPerSec).toBeCloseTo(count / t.seconds, 6);
    }
    expect(events.map((e) => e.done)).toEqual([1, 2, 3, 4]);
    expect(events.every((e) => e.total === 4)).toBe(true);
  } finally {
    engine.dispose();
  }
});

test("fastest picks the highest images/s and refuses an empty list", () => {
  expect(fastest([{ imagesPerSec: 3 }, { imagesPerSec: 9 }, { imagesPerSec: 5 }])).toEqual({ imagesPerSec: 9 });
  expect(() => fastest([])).toThrow(/no timings/);
});
