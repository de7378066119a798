/**
 * extractFiles over image files with an engine that holds each batch until the next is prepared: a broken file in the batch being prepared
 * while the engine runs the previous one fails the pass with its name (the prepared batch's rejection is the
 * pass's error, not an unhandled one that ends the process), and the rows come back in the files' order.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { writeSyntheticJpeg } from "../../src/bench/pipeline-bench";
import { ImagePool } from "../../src/data/image-pool";
import { extractFiles } from "../../src/features/imagenet";
import type { ForwardEngine } from "../../src/models/engine";
import type { ModelSpec } from "../../src/models/spec";

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "decomp-extract-files-"));
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

/**
 * Features = each image's mean pixel value (normalised). A forward returns only once every batch the pass has
 * handed to the image pool so far has settled (decoded or failed), so the batch prepared ahead always fails while
 * the engine still holds the previous one, whatever the machine's speed. The pool's promises are passed on through
 * wrappers, so waiting for them here marks nothing handled that the pass itself must handle.
 */
function waitingEngine(): { engine: ForwardEngine; restore: () => void } {
  const settled: Promise<unknown>[] = [];
  const original = ImagePool.prototype.batch;
  const spy = jest.spyOn(ImagePool.prototype, "batch").mockImplementation(function (this: ImagePool, ...args: Parameters<ImagePool["batch"]>) {
    const inner = original.apply(this, args);
    settled.push(inner.then(() => undefined, () => undefined));
    return new Promise<Uint8Array>((resolve, reject) => void inner.then(resolve, reject));
  });
  const spec = { name: "waiting", featureWidth: 1, classes: 1, inputShape: [16, 16, 3] } as unknown as ModelSpec;
  const engine: ForwardEngine = {
    backend: "test", spec,
    forward: async (images, count) => {
      await Promise.all(settled);
      // One more turn of the event loop: a rejection nobody handles is reported by now.
      await new Promise((r) => setImmediate(r));
      const per = images.length / count;
      const features = Float32Array.from({ length: count }, (_, i) => images.subarray(i * per, (i + 1) * per).reduce((a, b) => a + b, 0) / per);
      return { features, logits: new Float32Array(count) };
    },
    dispose: () => {},
  };
  return { engine, restore: () => spy.mockRestore() };
}

test("a broken file in the batch prepared ahead fails the pass with its name", async () => {
  const files = [0, 1, 2].map((i) => path.join(scratch, `img${i}.jpg`));
  for (const [i, f] of files.entries()) await writeSyntheticJpeg(f, i, 40, 30);
  const broken = path.join(scratch, "broken.jpg");
  fs.writeFileSync(broken, fs.readFileSync(files[0]).subarray(0, 100));
  const recipe = { kind: "squash", size: 16, interpolation: "bilinear" } as const;
  const unhandled: unknown[] = [];
  const record = (reason: unknown) => unhandled.push(reason);
  process.on("unhandledRejection", record);
  const { engine, restore } = waitingEngine();
  try {
    const good = await extractFiles(engine, { files, labels: Uint16Array.of(0, 0, 0) }, { recipe, norm: "checkpoint", batchSize: 2 });
    expect(good.count).toBe(3);
    expect(new Set(good.features).size).toBe(3);
    await expect(extractFiles(engine, { files: [...files.slice(0, 2), broken], labels: Uint16Array.of(0, 0, 0) }, { recipe, norm: "checkpoint", batchSize: 2 })).rejects.toThrow(`${broken}: cannot decode the image`);
  } finally {
    restore();
    process.off("unhandledRejection", record);
  }
  expect(unhandled).toEqual([]);
});
