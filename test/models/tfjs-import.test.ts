/**
 * A TF.js LayersModel built and saved here (convolutions, batch norm with non-trivial statistics, ReLU, global
 * average pooling, a Dense layer with a fused softmax) imports: features and maps equal TF.js's own predict on
 * intermediate models, logits are W f + b (their softmax is the model's output), decomp forward runs it on an NHWC
 * batch, and the decomposed model goes back out as a LayersModel whose kernel is zero outside each class's set.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { selectBackend } from "../../src/backend";
import { mulberry32 } from "../../src/data";
import { decodeNpy, encodeNpy } from "../../src/data/npy";
import { importTfjs, openTfjsImportedEngine } from "../../src/models/import/tfjs-model";
import { runCli } from "../cli/run-cli";

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "decomp-tfjs-import-"));
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

/** What tfjs-node's file:// handler writes: model.json (topology and weights manifest) and weights.bin. */
async function save(model: tf.LayersModel, dir: string): Promise<string> {
  fs.mkdirSync(dir, { recursive: true });
  await model.save(tf.io.withSaveHandler(async (a) => {
    fs.writeFileSync(path.join(dir, "weights.bin"), new Uint8Array(a.weightData as ArrayBuffer));
    fs.writeFileSync(path.join(dir, "model.json"), JSON.stringify({ modelTopology: a.modelTopology, format: "layers-model", generatedBy: "test", convertedBy: null, weightsManifest: [{ paths: ["weights.bin"], weights: a.weightSpecs }] }));
    return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: "JSON" } };
  }));
  return path.join(dir, "model.json");
}

/** conv - BN - ReLU - conv - BN (- ReLU) - GAP - Dense(softmax), seeded; the second ReLU can be left out. */
function build(seed: number, lastRelu = true): tf.LayersModel {
  const rng = mulberry32(seed);
  const input = tf.input({ shape: [16, 16, 3] });
  let x = tf.layers.conv2d({ filters: 6, kernelSize: 3, padding: "same", name: "c1" }).apply(input) as tf.SymbolicTensor;
  x = tf.layers.batchNormalization({ name: "b1" }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.reLU({ name: "r1" }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.conv2d({ filters: 12, kernelSize: 3, strides: 2, padding: "same", name: "c2" }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.batchNormalization({ name: "b2" }).apply(x) as tf.SymbolicTensor;
  if (lastRelu) x = tf.layers.activation({ activation: "relu", name: "r2" }).apply(x) as tf.SymbolicTensor;
  const pooled = tf.layers.globalAveragePooling2d({ name: "gap" }).apply(x) as tf.SymbolicTensor;
  const out = tf.layers.dense({ units: 5, activation: "softmax", name: "head" }).apply(pooled) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: out });
  for (const layer of model.layers) {
    const values = layer.getWeights().map((w) => tf.tensor(Float32Array.from({ length: w.size }, () => (layer.name.startsWith("b") ? 0.5 + rng() : rng() - 0.5)), w.shape));
    if (values.length > 0) layer.setWeights(values);
  }
  return model;
}

const images = (count: number, seed: number) => {
  const rng = mulberry32(seed);
  return Float32Array.from({ length: count * 16 * 16 * 3 }, () => rng() * 2 - 1);
};
const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);

beforeAll(async () => {
  await selectBackend({ force: "cpu", logger: () => {} });
});

describe("importing a TF.js LayersModel", () => {
  it("gives the features and maps TF.js computes, and logits whose softmax is the model's output", async () => {
    const model = build(1);
    const file = await save(model, path.join(scratch, "net"));
    const imported = await importTfjs(file);
    expect([imported.spec.inputShape, imported.spec.featureWidth, imported.spec.classes, imported.layers, imported.warnings]).toEqual([[16, 16, 3], 12, 5, { dense: "head", map: "r2" }, []]);
    const x = images(4, 2);
    const engine = await openTfjsImportedEngine(imported);
    const ours = await engine.forward(x, 4);
    const maps = (await engine.maps(x, 4))!;
    const probe = tf.model({ inputs: model.inputs, outputs: [model.getLayer("gap").output as tf.SymbolicTensor, model.getLayer("r2").output as tf.SymbolicTensor, model.outputs[0]] });
    const [features, map, probabilities] = (probe.predict(tf.tensor4d(x, [4, 16, 16, 3])) as tf.Tensor[]).map((t) => t.dataSync());
    expect(maxDiff(ours.features, features)).toBeLessThan(1e-6);
    expect([maps.shape, maxDiff(maps.data, map)]).toEqual([[4, 8, 8, 12], 0]);
    const softmax = tf.softmax(tf.tensor2d(ours.logits, [4, 5])).dataSync();
    expect(maxDiff(softmax, probabilities)).toBeLessThan(1e-6);
  });

  it("runs in decomp forward on an NHWC batch, and goes back out decomposed as a LayersModel", async () => {
    const file = path.join(scratch, "net", "model.json");
    fs.writeFileSync(path.join(scratch, "x.npy"), encodeNpy({ shape: [3, 16, 16, 3], data: images(3, 5) }));
    const r = await runCli("forward", "--model", file, "--input", path.join(scratch, "x.npy"), "--out", path.join(scratch, "out"), "--json");
    expect({ code: r.code, stderr: r.code === 0 ? "" : r.stderr }).toEqual({ code: 0, stderr: "" });
    const engine = await openTfjsImportedEngine(await importTfjs(file));
    const direct = await engine.forward(images(3, 5), 3);
    expect(Array.from(decodeNpy(new Uint8Array(fs.readFileSync(path.join(scratch, "out", "logits.npy")))).data)).toEqual(Array.from(direct.logits));

    const map = path.join(scratch, "map.json");
    const sets = [[0, 1], [2, 3], [4, 5], [6, 7], [8, 9]];
    fs.writeFileSync(map, JSON.stringify(Object.fromEntries(sets.map((s, y) => [String(y), s]))));
    const out = path.join(scratch, "decomposed", "model.json");
    fs.mkdirSync(path.dirname(out));
    const exported = await runCli("export", "--model", file, "--indices", map, "--out", out, "--json");
    expect({ code: exported.code, stderr: exported.code === 0 ? "" : exported.stderr }).toEqual({ code: 0, stderr: "" });
    expect(JSON.parse(exported.stdout)).toMatchObject({ format: "tfjs", keptWeights: 10 });
    const again = await importTfjs(out);
    const { weight } = again.finalLayer;
    const original = (await importTfjs(file)).finalLayer.weight;
    sets.forEach((set, y) => {
      for (let j = 0; j < 12; j++) expect({ y, j, w: weight[y * 12 + j] }).toEqual({ y, j, w: set.includes(j) ? original[y * 12 + j] : 0 });
    });
    expect((await runCli("export", "--model", file, "--format", "pth", "--out", path.join(scratch, "x.pth"))).stderr).toContain("goes out as tfjs (--format tfjs)");
  });

  it("warns on features that can be negative, and refuses a model without a final Dense layer", async () => {
    const noRelu = await importTfjs(await save(build(3, false), path.join(scratch, "no-relu")));
    expect(noRelu.warnings).toEqual([expect.stringMatching(/the penultimate features come from BatchNormalization b2, which can be negative/)]);
    const input = tf.input({ shape: [8, 8, 3] });
    const conv = tf.layers.conv2d({ filters: 4, kernelSize: 1, name: "classifier" }).apply(input) as tf.SymbolicTensor;
    const pooled = tf.layers.globalAveragePooling2d({}).apply(conv) as tf.SymbolicTensor;
    const file = await save(tf.model({ inputs: input, outputs: pooled }), path.join(scratch, "conv-head"));
    await expect(importTfjs(file)).rejects.toThrow(`${file} has no final Dense layer: its output comes from a GlobalAveragePooling2D layer`);
    const notJson = path.join(scratch, "bad.json");
    fs.writeFileSync(notJson, "{ not json");
    await expect(importTfjs(notJson)).rejects.toThrow(`${notJson} is not a TF.js model.json`);
  });
});
