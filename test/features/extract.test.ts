import { augmentRange, makeImageSet, normalise } from "../../src/data";
import { runExtraction } from "../../src/features/extract";
import type { ForwardEngine } from "../../src/models/engine";
import { cifarResNetSpec } from "../../src/models/families/cifar-resnet";

/** An engine whose "features" are the per-image sums of the first two normalised values, so outputs can be predicted. */
function probeEngine(): ForwardEngine & { batches: number[] } {
  const spec = { ...cifarResNetSpec(20), featureWidth: 2, classes: 1 };
  const batches: number[] = [];
  return {
    backend: "probe",
    spec,
    batches,
    async forward(images, count) {
      batches.push(count);
      const per = images.length / count;
      const features = new Float32Array(count * 2);
      const logits = new Float32Array(count);
      for (let i = 0; i < count; i++) {
        features[2 * i] = images[i * per];
        features[2 * i + 1] = images[i * per + 1];
        logits[i] = i;
      }
      return { features, logits };
    },
    dispose() {},
  };
}

function tinySet(count: number) {
  const pixels = Uint8Array.from({ length: count * 3072 }, (_, i) => (i * 7 + (i >> 10)) % 256);
  return makeImageSet(pixels, Uint8Array.from({ length: count }, (_, i) => i % 10));
}

describe("runExtraction", () => {
  it("batches images and places every batch's outputs at its images' rows", async () => {
    const set = tinySet(7);
    const engine = probeEngine();
    const progress: number[] = [];
    const out = await runExtraction(engine, set, { norm: "cifar", augmentSeed: null, batchSize: 3, onProgress: (e) => progress.push(e.done) });
    expect(engine.batches).toEqual([3, 3, 1]);
    expect(progress).toEqual([0, 3, 6, 7]);
    const expected = normalise(set, "cifar");
    for (let i = 0; i < 7; i++) {
      expect(out.features[2 * i]).toBe(expected[i * 3072]);
      expect(out.features[2 * i + 1]).toBe(expected[i * 3072 + 1]);
    }
    expect(Array.from(out.logits)).toEqual([0, 1, 2, 0, 1, 2, 0]);
  });

  it("feeds augmented images, the same however the images are batched", async () => {
    const set = tinySet(5);
    const seed = 11;
    const whole = await runExtraction(probeEngine(), set, { norm: "checkpoint", augmentSeed: seed, batchSize: 5 });
    const split = await runExtraction(probeEngine(), set, { norm: "checkpoint", augmentSeed: seed, batchSize: 2 });
    expect(split.features).toEqual(whole.features);
    const augmented = normalise({ count: 5, pixels: augmentRange(set, 0, 5, seed) }, "checkpoint");
    for (let i = 0; i < 5; i++) expect(whole.features[2 * i]).toBe(augmented[i * 3072]);
    const plain = await runExtraction(probeEngine(), set, { norm: "checkpoint", augmentSeed: null, batchSize: 5 });
    expect(plain.features).not.toEqual(whole.features);
  });
});
