/**
 * The training-pass memory bench runs the real pass in child processes and reports what they measured: the
 * images each pass saw, its file (a checksummed ranks file: 50 float32 indices per image plus its header), and a
 * projection built from the runs' own numbers.
 */
import { formatBenchReport } from "../../src/bench";
import { IMAGENET_TRAIN_IMAGES, passRssReport } from "../../src/bench/pass-rss";
import type { BenchReport } from "../../src/bench/report";

test("peak RSS of ResNet50 training passes at two sizes, projected to ImageNet", async () => {
  const stages: number[] = [];
  const r = await passRssReport({ images: 120, baselineImages: 4, progress: (p) => stages.push(p.done) });
  expect(r.runs.map((x) => [x.images, x.side])).toEqual([[4, 224], [12, 32], [120, 32]]);
  expect(stages).toEqual([0, 1, 2, 3]);
  for (const x of r.runs) {
    expect(x.backend).toMatch(/^onnxruntime-node/);
    // Labels (n floats) and ranks (n x 50 floats) after the header.
    expect(x.fileBytes).toBeGreaterThan(x.images * 51 * 4);
    expect(x.fileBytes).toBeLessThan(x.images * 51 * 4 + 4096);
    expect(x.peakRssMiB).toBeGreaterThan(100);
    expect(x.imagesPerSec).toBeCloseTo(x.images / x.seconds, 10);
  }
  const [base, low, high] = r.runs;
  expect(r.measuredBytesPerImage).toBeCloseTo(((high.peakRssMiB - low.peakRssMiB) * 1048576) / (high.images - low.images), 6);
  expect(r.bytesPerImage).toBeCloseTo(Math.max(r.measuredBytesPerImage, high.fileBytes / high.images), 6);
  expect(r.projected.peakRssMiB).toBeCloseTo(base.peakRssMiB + (r.bytesPerImage * (IMAGENET_TRAIN_IMAGES - 4)) / 1048576, 6);
  const text = formatBenchReport({ machine: { cpus: 2, cpuModel: "x", node: "20", onnxruntime: "1", threads: 2, loadAverage: { before: 0, after: 0 } }, input: "synthetic", images: 0, rounds: 1, extract: {}, imagenet: {}, pipeline: null, passRss: r, finetune: {}, csg: null, torch: { available: false, version: null, reason: "none" }, wasmThreads: { multiThreaded: false, reason: "" }, peakRssMiB: 0 } as unknown as BenchReport);
  expect(text).toContain("training-pass memory resnet50 (top 50 indices per image kept; each pass alone in its process):");
  expect(text).toMatch(/ {6}120 images at 32 x 32: peak RSS \d+ MiB/);
}, 300_000);
