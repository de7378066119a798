import { EPOCH_IMAGES, projectedEpochSeconds, timeFineTuneEpoch } from "../../src/bench/train-bench";
import { loadPretrained } from "../../src/models/pretrained";
import { randomImages } from "../training/random-model";

test("an epoch is projected as ceil(50000 / batch) steps", () => {
  expect(EPOCH_IMAGES).toBe(50000);
  expect(projectedEpochSeconds(100, 64)).toBeCloseTo((782 * 100) / 1000, 10);
});

test("a timed fine-tuning epoch runs fineTune over every image and reports the engine and its own wall time", async () => {
  const model = await loadPretrained("resnet20");
  const train = randomImages(20, 3);
  const timing = await timeFineTuneEpoch(model.spec, model.stateDict, train, { batch: 8, intraOpThreads: 2 });
  // Three steps, the thread settings in turn (FasterChoice): sleeping, spinning, sleeping.
  expect(timing).toMatchObject({ engine: "onnxruntime-node/cpu", settings: "2 intra-op threads, spinning in 1 of 3 steps", batch: 8, images: 20 });
  expect(timing.seconds).toBeGreaterThan(0);
  // Batches of 8, 8 and 4: nothing dropped, so the rate covers all 20 images.
  expect(timing.imagesPerSec).toBeCloseTo(20 / timing.seconds, 6);
});
