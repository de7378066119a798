/**
 * Notebook 07's library on the real ResNet20 written out as ONNX and imported: the study gives the native path's
 * features, ranks and k1/k2 grid; the imported graph's own map output equals the registry description's maps on
 * TF.js; the overlays come out; and what needs the description (fine-tuning through the backbone) refuses the
 * imported model saying what works instead.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { batchView, loadCifar10, normalise } from "../../src/data";
import { DEFAULT_SETUP, importedStudy, lastBlockMaps, loadExperimentData, studyCurves, studyOverlays, sweepGrid, sweepRanks, writeRegistryOnnx } from "../../src/experiments";
import { fullLogits, influentialFromRanks, softmaxAt } from "../../src/method";
import { shuffledOrder } from "../../src/training/loop";
import { openImportedEngine } from "../../src/models/import/onnx-model";
import { registryModel } from "../../src/models/load";

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "decomp-imported-study-"));
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

describe("notebook 07's study on ResNet20 out to ONNX and back", () => {
  const file = path.join(scratch, "resnet20.onnx");
  const counts = { trainImages: 400, testImages: 400 };

  it("gives the native path's features and grid, and the native maps from the graph's own output", async () => {
    await writeRegistryOnnx("resnet20", file);
    const study = await importedStudy({ model: file, data: { kind: "cifar10" }, limit: 400, augmentSeed: 0, norm: "cifar", rankDepth: 10 });
    const native = await loadExperimentData({ ...DEFAULT_SETUP, ...counts });
    expect([study.model.kind, study.recipe, study.backend]).toEqual(["imported", "native", "onnxruntime-node/cpu"]);
    const gap = study.test.features.data.reduce((m, v, i) => Math.max(m, Math.abs(v - native.test.features.data[i])), 0);
    expect(gap).toBeLessThan(1e-5);
    const ours = sweepRanks(study.train, study.test, study.layer, [3, 5], [3, 5]);
    const theirs = sweepGrid(native.train, native.test, native.layer, [3, 5], [3, 5]);
    expect(ours.cells.map((c) => [c.k1, c.k2, c.decomposedAccuracy])).toEqual(theirs.cells.map((c) => [c.k1, c.k2, c.decomposedAccuracy]));

    const test = await loadCifar10("test");
    const batch = batchView(test, 0, 6);
    if (study.model.kind !== "imported" || study.model.format !== "onnx") throw new Error("the study should hold the imported ONNX model");
    const engine = await openImportedEngine(study.model);
    const mapsOurs = (await engine.maps(normalise(batch, "cifar"), 6))!;
    engine.dispose();
    const mapsTfjs = await lastBlockMaps(batch, { model: "resnet20", norm: "cifar" });
    expect(mapsOurs.shape).toEqual([6, mapsTfjs.height, mapsTfjs.width, mapsTfjs.channels]);
    const scale = mapsTfjs.data.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    expect(mapsOurs.data.reduce((m, v, i) => Math.max(m, Math.abs(v - mapsTfjs.data[i])), 0)).toBeLessThan(1e-4 * scale);

    const influence = influentialFromRanks(study.train.ranking, study.train.labels, { classes: 10, k1: 5, k2: 5 });
    const overlays = await studyOverlays(study, influence, { images: 3, channels: 3 });
    expect(overlays.reason).toBeNull();
    expect(overlays.rows!.map((r) => [r.maps.length, r.maps[0].length, r.pixels.length])).toEqual(Array(3).fill([3, 32 * 32, 32 * 32 * 3]));
    // Deletion and insertion curves on the imported engine: each deletion curve starts at the unperturbed image's
    // probability of its class, the softmax of the cached logits.
    const { curves } = await studyCurves(study, influence, { images: 4, channels: 3, steps: 4 });
    expect(curves!.images).toBe(4);
    const logits = fullLogits(study.test.features, study.layer);
    const first = curves!.curves.influential.deletion;
    const sampled = Array.from(shuffledOrder(study.test.labels.length, 2)).slice(0, 4).sort((a, b) => a - b);
    sampled.forEach((i, n) => expect(Math.abs(first[n * 5] - softmaxAt(logits, i * 10, 10, study.test.labels[i]))).toBeLessThan(1e-5));
    expect(() => registryModel(study.model, "retraining through the backbone")).toThrow(/retraining through the backbone needs a model whose architecture decomp describes .*resnet20\.onnx was imported from ONNX, so it runs as a graph: .*head-only retraining on cached features work/);
  }, 300_000);
});
