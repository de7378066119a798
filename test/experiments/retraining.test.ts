import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { selectBackend } from "../../src/backend";
import { backboneMacs, compareStateDicts, findFineTuned, fineTuneImageCount, fineTunedModelPath, measureHeadLatency, saveAndReload, timingBatch } from "../../src/experiments/retraining";
import { complexityTable, fineTuneImagesNote, PAPER_HEAD_MACS, retrainingTable, trainingCurveChart } from "../../src/experiments/retraining-report";
import { CIFAR10_CLASSES, type ImageSet, mulberry32 } from "../../src/data";
import { fullLogits, influentialSets, macCounts } from "../../src/method";
import { cifarResNetSpec } from "../../src/models/families/cifar-resnet";
import { PROFILES } from "../../src/profile";
import { chartSvg } from "../../src/report/chart";
import { PAPER_COLUMN } from "../../src/report/table";
import type { StateDict } from "../../src/torch";
import { decomposedTestAccuracy, type FineTuneHistory, type FineTuneResult, decomposedStateDict, headMask, loadFineTuned, saveFineTuned } from "../../src/training";
import { syntheticLayer, syntheticSplit } from "./synthetic";

const rowsOf = (t: { values: unknown }) => t.values as unknown as (number | string | null)[][];

describe("how many images the fine-tune uses", () => {
  it("is the whole training split for full, a few batches for smoke, and the env override when set", () => {
    expect(fineTuneImageCount(PROFILES.full, {})).toBe(50000);
    expect(fineTuneImageCount(PROFILES.smoke, {})).toBeLessThan(1000);
    expect(fineTuneImageCount(PROFILES.full, { DECOMP_FINETUNE_IMAGES: "2048" })).toBe(2048);
    expect(fineTuneImageCount(PROFILES.smoke, { DECOMP_FINETUNE_IMAGES: "" })).toBe(fineTuneImageCount(PROFILES.smoke, {}));
  });

  it("refuses an override that is not a usable count, saying what to set", () => {
    for (const bad of ["abc", "1", "2.5", "60000"]) {
      expect(() => fineTuneImageCount(PROFILES.full, { DECOMP_FINETUNE_IMAGES: bad })).toThrow(/DECOMP_FINETUNE_IMAGES=.*integer from 2 to 50000/);
    }
  });

  it("says loudly when only part of the split was used", () => {
    expect(fineTuneImagesNote(2048, 50000)).toMatch(/Reduced run.*2048 of the 50000/);
    expect(fineTuneImagesNote(50000, 50000)).not.toMatch(/Reduced/);
  });
});

describe("the cost of the final layer", () => {
  it("counts the convolutions of ResNet8 and ResNet20 (checked by hand: 12 238 848 and 40 550 400)", () => {
    // ResNet8: conv1 32*32*16*3*9 + 2 * 32*32*16*16*9 + (16*16*32*16*9 + 16*16*32*32*9) + (8*8*64*32*9 + 8*8*64*64*9)
    expect(backboneMacs(cifarResNetSpec(8))).toBe(442368 + 2 * 2359296 + (1179648 + 2359296) + (1179648 + 2359296));
    expect(backboneMacs(cifarResNetSpec(20))).toBe(40550400);
  });

  const test = syntheticSplit(21, 50, 16, 4);
  const train = syntheticSplit(22, 200, 16, 4);
  const layer = syntheticLayer(23, 16, 4);
  const { sets } = influentialSets(train.features, train.labels, { classes: 4, k1: 3, k2: 3 });

  it("builds timing batches of any size from the feature rows, in order and wrapping around", () => {
    const batch = timingBatch(test.features, 120);
    expect(batch.rows).toBe(120);
    const reference = fullLogits(test.features, layer);
    const tiled = fullLogits(batch, layer);
    for (const r of [0, 49, 50, 119]) expect(Array.from(tiled.subarray(r * 4, r * 4 + 4))).toEqual(Array.from(reference.subarray((r % 50) * 4, (r % 50) * 4 + 4)));
    expect(() => timingBatch(test.features, 0)).toThrow(/positive whole number/);
  });

  it("times each batch size and puts macCounts and the measured medians into the table rows", () => {
    const latency = measureHeadLatency(test.features, layer, sets, [8, 256], 5);
    expect(latency.map((l) => l.batchSize)).toEqual([8, 256]);
    for (const l of latency) {
      expect(l.repeats).toBe(5);
      expect(l.fullMs).toBeGreaterThanOrEqual(0);
      expect(l.decomposedMs).toBeGreaterThanOrEqual(0);
    }
    const macs = macCounts(layer, sets);
    expect(macs).toEqual({ full: 64, decomposed: 12 });
    const table = complexityTable({ macs, backboneMacs: 1000, latency, paperApplies: true });
    expect(table.columns).toEqual([
      "part of the network",
      "multiply-adds per image",
      `${PAPER_COLUMN}, multiply-adds`,
      "share of the network's multiply-adds (%)",
      "ms per batch of 8 (median of 5)",
      "ms per batch of 256 (median of 5)",
    ]);
    const [full, decomposed, backbone] = rowsOf(table);
    const withoutShare = (r: unknown[]) => [...r.slice(0, 3), ...r.slice(4)];
    expect(withoutShare(full)).toEqual(["final layer, full", 64, PAPER_HEAD_MACS.full, latency[0].fullMs, latency[1].fullMs]);
    expect(withoutShare(decomposed)).toEqual(["final layer, decomposed", 12, PAPER_HEAD_MACS.decomposed, latency[0].decomposedMs, latency[1].decomposedMs]);
    expect(withoutShare(backbone)).toEqual(["convolutions (backbone)", 1000, null, null, null]);
    // Share of the whole network (backbone + that head).
    expect(full[3]).toBeCloseTo((100 * 64) / 1064, 10);
    expect(decomposed[3]).toBeCloseTo((100 * 12) / 1012, 10);
    expect(backbone[3]).toBeCloseTo((100 * 1000) / 1064, 10);
    const other = rowsOf(complexityTable({ macs, backboneMacs: 1000, latency, paperApplies: false }));
    expect(other.map((r) => r[2])).toEqual([null, null, null]);
  });

  it("refuses sets that do not fit the layer before timing anything", () => {
    expect(() => measureHeadLatency(test.features, layer, sets.slice(0, 3), [8])).toThrow("index sets cover 3 classes but the layer has 4; give one list per class");
  });
});

const history: FineTuneHistory = {
  testAccuracy: [0.8859, 0.9, 0.91],
  batches: [
    { epoch: 1, batch: 10, loss: 0.6, accuracy: 0.8 },
    { epoch: 1, batch: 15, loss: 0.5, accuracy: 0.82 },
    { epoch: 2, batch: 10, loss: 0.4, accuracy: 0.85 },
    { epoch: 2, batch: 15, loss: 0.35, accuracy: 0.86 },
  ],
  epochs: [],
};

describe("the before / after table", () => {
  const outcome = {
    fullAccuracy: 0.92,
    fineTune: { testAccuracy: history.testAccuracy, trainImages: 960, splitImages: 50000 },
    head: { testAccuracy: [0.8859, 0.89, 0.895, 0.897] },
    paperApplies: true,
  };

  it("puts each measurement beside the paper's value for the same quantity, 91.51 only after the first epoch", () => {
    const table = retrainingTable(outcome);
    expect(table.columns).toEqual(["quantity", "ours", PAPER_COLUMN, "paper source"]);
    const rows = rowsOf(table);
    expect(rows.map((r) => r[0])).toEqual([
      "A_f, full layer, pretrained (%)",
      "A_d before retraining (%)",
      "A_d after full fine-tune, epoch 1 on 960 of 50000 training images (%)",
      "A_d after full fine-tune, epoch 2 on 960 of 50000 training images (%)",
      "A_d after head-only retraining, 1 epoch (%)",
      "A_d after head-only retraining, 3 epochs (%)",
    ]);
    const ours = rows.map((r) => r[1] as number);
    [92, 88.59, 90, 91, 89, 89.7].forEach((v, i) => expect(ours[i]).toBeCloseTo(v, 10));
    expect(rows.map((r) => r[2])).toEqual([91.17, 88.59, 91.51, null, null, null]);
  });

  it("leaves the paper column empty when the paper's setting does not apply", () => {
    const rows = rowsOf(retrainingTable({ ...outcome, paperApplies: false, fineTune: { ...outcome.fineTune, trainImages: 50000 } }));
    expect(rows.map((r) => r[2])).toEqual([null, null, null, null, null, null]);
    expect(rows[2][0]).toBe("A_d after full fine-tune, epoch 1 on all 50000 training images (%)");
  });

  it("plots batches on one index over epochs, test A_d at each epoch's end, and the paper's rules only when they apply", async () => {
    const spec = trainingCurveChart(history, "curve", true) as unknown as { vconcat: [{ data: { values: { batch: number }[] } }, { layer: { data: { values: { batch: number; accuracy: number; series?: string }[] } }[] }] };
    expect(spec.vconcat[0].data.values.map((v) => v.batch)).toEqual([10, 15, 25, 30]);
    const test = spec.vconcat[1].layer[0].data.values.filter((v) => v.series?.startsWith("test"));
    expect(test.map((v) => v.batch)).toEqual([0, 15, 30]);
    expect(test.map((v) => v.accuracy)).toEqual(history.testAccuracy.map((a) => 100 * a));
    expect(spec.vconcat[1].layer[1].data.values.map((v) => v.accuracy)).toEqual([88.59, 91.51]);
    const svg = await chartSvg(trainingCurveChart(history, "curve", true));
    expect(svg).toContain("paper: 91.51 after 1 epoch");
    expect(await chartSvg(trainingCurveChart(history, "curve", false))).not.toContain("paper:");
  });
});

describe("saving and reloading the fine-tuned model", () => {
  beforeAll(() => selectBackend({ logger: () => {}, force: "wasm" }));
  const spec = cifarResNetSpec(8);

  function randomStateDict(seed: number): StateDict {
    const rng = mulberry32(seed);
    const sd: StateDict = new Map();
    for (const layer of spec.layers) {
      if (layer.op === "conv2d") {
        const n = layer.outChannels * layer.inChannels * layer.kernel * layer.kernel;
        const scale = Math.sqrt(6 / (layer.inChannels * layer.kernel * layer.kernel));
        sd.set(layer.weight, { shape: [layer.outChannels, layer.inChannels, layer.kernel, layer.kernel], data: Float32Array.from({ length: n }, () => (rng() * 2 - 1) * scale) });
      } else if (layer.op === "batchnorm") {
        const c = layer.channels;
        sd.set(`${layer.param}.weight`, { shape: [c], data: Float32Array.from({ length: c }, () => 0.8 + 0.4 * rng()) });
        sd.set(`${layer.param}.bias`, { shape: [c], data: Float32Array.from({ length: c }, () => 0.1 * (rng() - 0.5)) });
        sd.set(`${layer.param}.running_mean`, { shape: [c], data: new Float32Array(c) });
        sd.set(`${layer.param}.running_var`, { shape: [c], data: new Float32Array(c).fill(1) });
      } else if (layer.op === "linear") {
        sd.set("linear.weight", { shape: [layer.outFeatures, layer.inFeatures], data: Float32Array.from({ length: layer.outFeatures * layer.inFeatures }, () => rng() - 0.5) });
        sd.set("linear.bias", { shape: [layer.outFeatures], data: Float32Array.from({ length: layer.outFeatures }, () => 0.1 * (rng() - 0.5)) });
      }
    }
    return sd;
  }

  const rng = mulberry32(7);
  const test: ImageSet = {
    count: 12, height: 32, width: 32, channels: 3, classNames: CIFAR10_CLASSES,
    pixels: Uint8Array.from({ length: 12 * 3072 }, () => Math.floor(rng() * 256)),
    labels: Uint8Array.from({ length: 12 }, (_, i) => i % 10),
  };
  const sets = Array.from({ length: 10 }, (_, y) => [y % 64, (y + 9) % 64, (y * 5 + 3) % 64]);

  it("writes the weights, reads them back bit for bit and gets the same test accuracy", async () => {
    const stateDict = decomposedStateDict(spec, randomStateDict(5), headMask(sets, 10, spec.featureWidth));
    const accuracy = await decomposedTestAccuracy(spec, stateDict, test, "cifar");
    const result: FineTuneResult = { stateDict, history: { testAccuracy: [accuracy], batches: [], epochs: [] }, checkpointPath: "", resumedEpochs: 0 };
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "decomp-reload-")), "model.dctn");
    const check = await saveAndReload(file, spec, result, sets, test, "cifar");
    expect(check.reloadedAccuracy).toBe(accuracy);
    expect(check.inMemoryAccuracy).toBe(accuracy);
    for (const [name, t] of stateDict) expect(Array.from(check.stateDict.get(name)!.data)).toEqual(Array.from(t.data));
    expect(loadFineTuned(file).meta.sets).toEqual(sets);
  });

  it("fails, naming the file, when the recorded in-memory accuracy does not match the reloaded model", async () => {
    const stateDict = decomposedStateDict(spec, randomStateDict(6), headMask(sets, 10, spec.featureWidth));
    const accuracy = await decomposedTestAccuracy(spec, stateDict, test, "cifar");
    const result: FineTuneResult = { stateDict, history: { testAccuracy: [accuracy + 0.5], batches: [], epochs: [] }, checkpointPath: "", resumedEpochs: 0 };
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "decomp-reload-")), "model.dctn");
    await expect(saveAndReload(file, spec, result, sets, test, "cifar")).rejects.toThrow(/model\.dctn.*not faithful/);
  });
});

describe("finding notebook 04's saved model", () => {
  const run = { model: "resnet20", k1: 5, k2: 5, seed: 0, trainImages: 256, epochs: 1 };
  const weights: StateDict = new Map([["linear.bias", { shape: [2], data: Float32Array.from([1, 2]) }]]);

  it("is null before notebook 04 ran, and the saved weights and sets afterwards", async () => {
    const cache = fs.mkdtempSync(path.join(os.tmpdir(), "decomp-find-"));
    expect(findFineTuned(run, cache)).toBeNull();
    const file = fineTunedModelPath(run, cache);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    await saveFineTuned(file, weights, { model: "resnet20", sets: [[1, 2], [3, 4]] });
    const found = findFineTuned(run, cache)!;
    expect(found.file).toBe(file);
    expect(found.meta.sets).toEqual([[1, 2], [3, 4]]);
    expect(Array.from(found.stateDict.get("linear.bias")!.data)).toEqual([1, 2]);
  });

  it("refuses a file saved for another model instead of drawing its maps", async () => {
    const cache = fs.mkdtempSync(path.join(os.tmpdir(), "decomp-find-"));
    const file = fineTunedModelPath(run, cache);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    await saveFineTuned(file, weights, { model: "resnet56", sets: [[1]] });
    expect(() => findFineTuned(run, cache)).toThrow(`${file} holds a fine-tuned resnet56, not resnet20; delete it and re-run notebook 04`);
  });
});

describe("comparing two runs' weights", () => {
  const sd = (values: number[]): StateDict => new Map([["a", { shape: [2], data: Float32Array.from(values.slice(0, 2)) }], ["b", { shape: [1], data: Float32Array.from(values.slice(2)) }]]);

  it("reports bit-identical runs and, otherwise, which tensors differ and by how much", () => {
    expect(compareStateDicts(sd([1, 2, 3]), sd([1, 2, 3]))).toEqual({ identical: true, maxAbsDiff: 0, differing: [] });
    expect(compareStateDicts(sd([1, 2, 3]), sd([1, 2.5, 3]))).toEqual({ identical: false, maxAbsDiff: 0.5, differing: ["a"] });
    expect(compareStateDicts(sd([0, 2, 3]), sd([-0, 2, 3])).differing).toEqual(["a"]);
    expect(() => compareStateDicts(sd([1, 2, 3]), new Map([["a", { shape: [2], data: new Float32Array(2) }]]))).toThrow("hold different tensors (2 vs 1)");
  });
});
