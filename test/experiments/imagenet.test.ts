/**
 * Notebook 03's ImageNet part as a library: where the data comes from (DECOMP_IMAGENET, DECOMP_IMAGENET_WEIGHTS)
 * and what each missing piece is reported as; Tables 2-6 rows on a synthetic ILSVRC-layout tree with a seeded
 * random 3-class ResNet18 (written by Debian's torchvision), checked against the cached validation pass itself.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { analyseStages, loadTreeStageData, decomposeImageNet, IMAGENET_RULES, tryCompareRulesImageNet, imagenetFamilyTable, overlayFigure, OVERLAY_COLUMNS, tryVisualizeImageNet, imagenetSource, rAgainstLayersChart, runImageNetFamilies, spreadSubset, tryRetrainImageNet } from "../../src/experiments";
import { decodeImage } from "../../src/data/decode";
import { preprocessImage } from "../../src/data/preprocess";
import { augmentationFor, padCropFlip } from "../../src/data/transforms";
import { fileTraining } from "../../src/training";
import { readPass } from "../../src/features/imagenet";
import { runImageNetPass } from "../../src/features/imagenet-pass";
import { createEngine } from "../../src/models/engines";
import { modelEntry } from "../../src/models/registry";
import { withStageOutputs } from "../../src/models/spec";
import { loadTorchCheckpoint } from "../../src/torch";
import { accuracy, fullLogits, predictFromLogits, softmaxAt } from "../../src/method";
import { makeTree } from "../data/synthetic-imagenet";
import { runCli } from "../cli/run-cli";

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "decomp-imagenet-study-"));
const tree = path.join(scratch, "tree");
const weightsDir = path.join(scratch, "weights");
const saved = { TORCH_HOME: process.env.TORCH_HOME, DECOMP_OFFLINE: process.env.DECOMP_OFFLINE };
afterAll(() => {
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  fs.rmSync(scratch, { recursive: true, force: true });
});

beforeAll(async () => {
  // No PyTorch download cache and no network: EfficientNet-B0's weights cannot resolve.
  process.env.TORCH_HOME = path.join(scratch, "torch-home");
  process.env.DECOMP_OFFLINE = "1";
  await makeTree(tree, { classes: 3, perClass: (c) => 4 + c, valImages: 9 });
  fs.mkdirSync(weightsDir);
  execFileSync("/usr/bin/python3", ["-c", `import torch, torchvision
torch.manual_seed(3)
torch.save(torchvision.models.get_model("resnet18", weights=None, num_classes=3).state_dict(), ${JSON.stringify(path.join(weightsDir, "resnet18.pth"))})`]);
}, 120_000);

describe("imagenetSource", () => {
  it("says what is missing and how to supply it", () => {
    const unset = imagenetSource({});
    expect(unset.available).toBe(false);
    expect(!unset.available && unset.reason).toMatch(/^DECOMP_IMAGENET is not set: point it to the ILSVRC-2012 folder holding train\/<wnid>\/ and val\//);
    const noVal = path.join(scratch, "train-only");
    fs.mkdirSync(path.join(noVal, "train", "n01440764"), { recursive: true });
    fs.copyFileSync(path.join(tree, "val", "ILSVRC2012_val_00000001.JPEG"), path.join(noVal, "train", "n01440764", "a.JPEG"));
    const missing = imagenetSource({ DECOMP_IMAGENET: noVal });
    expect(!missing.available && missing.reason).toBe(`DECOMP_IMAGENET=${noVal} has no val/ folder; both train/ and val/ are needed`);
    const badWeights = imagenetSource({ DECOMP_IMAGENET: tree, DECOMP_IMAGENET_WEIGHTS: path.join(scratch, "nowhere") });
    expect(!badWeights.available && badWeights.reason).toContain("DECOMP_IMAGENET_WEIGHTS=");
    const absent = imagenetSource({ DECOMP_IMAGENET: path.join(scratch, "absent") });
    expect(!absent.available && absent.reason).toMatch(/^DECOMP_IMAGENET=.*absent: /);
  });

  it("lists every model with its reason when the tree is missing", async () => {
    const source = imagenetSource({});
    const entries = await runImageNetFamilies(["resnet50", "densenet121"], source);
    expect(entries.map((e) => [e.model, e.status, e.width, e.layers])).toEqual([["resnet50", "unavailable", 2048, 54], ["densenet121", "unavailable", 1024, 121]]);
    const table = imagenetFamilyTable(entries);
    // Not measured, the rows still carry every cell the paper prints (Tables 2 and 4), and none of ours.
    const cells = (row: number, ...columns: string[]) => columns.map((c) => (table.values[row] as unknown[])[table.columns.indexOf(c)]);
    const paper = ["paper n", "paper k2 / c", "paper k2 / n", "paper A_d (%)", "paper A_f (%)", "paper r_A", "paper source"];
    expect(cells(0, ...paper)).toEqual([2048, "0.05", "0.0244141", "64.792", "74.548", "0.869131", "Table 2"]);
    expect(cells(1, ...paper)).toEqual([2048, "0.05", "0.0488281", "63.720", "71.956", "0.885541", expect.stringMatching(/^Table 4; n printed as 2048 in one merged cell/)]);
    expect(cells(0, "k2", "k2 / c", "A_d (%)", "A_f (%)", "r_A")).toEqual([null, null, null, null, null]);
    expect(table.values.map((r) => (r as unknown[])[table.columns.indexOf("status")])).toEqual([`not measured: ${source.reason}`, "not measured: as above"]);
    await expect(runImageNetFamilies(["resnet20"], source)).rejects.toThrow("resnet20 is not one of torchvision's ImageNet families");
  });
});

describe("runImageNetFamilies on a synthetic tree", () => {
  it("measures a model whose weights resolve and reports one whose weights do not", async () => {
    const source = imagenetSource({ DECOMP_IMAGENET: tree, DECOMP_IMAGENET_WEIGHTS: weightsDir });
    expect(source.available).toBe(true);
    const cacheDir = path.join(scratch, "cache");
    const seen: string[] = [];
    const [r18, b0] = await runImageNetFamilies(["resnet18", "efficientnet_b0"], source, { cacheDir, onDecomposed: (d) => seen.push(d.caches.val) });
    expect(b0.status).toBe("unavailable");
    expect(b0.status === "unavailable" && b0.reason).toMatch(/^Could not obtain artifact "efficientnet_b0" \(efficientnet_b0_rwightman-3dd342df.pth\). Tried: .* network https:\/\/download.pytorch.org\/models\/efficientnet_b0_rwightman-3dd342df.pth: not consulted: offline \(DECOMP_OFFLINE\) .*It must have sha256 7f5810bc96def8f7552d5b7e68d53c4786f81167d28291b21c0d90e1fca14934 and be 21444401 bytes\. In the notebooks: put it in DECOMP_IMAGENET_WEIGHTS=<folder> as efficientnet_b0.pth.$/);
    if (r18.status !== "measured") throw new Error(r18.reason);
    expect([r18.k, r18.width, r18.trainImages, r18.testImages, r18.recipe]).toEqual([50, 512, 4 + 5 + 6 + 1, 9, "squash224-bilinear"]);
    // A_f is the top-1 of the logits the validation pass cached; r_A their ratio.
    const val = readPass(seen[0])!.result;
    expect(r18.fullAccuracy).toBe(accuracy(predictFromLogits(val.logits!, val.count, val.classes), Int32Array.from(val.labels)));
    expect(r18.accuracyRatio).toBeCloseTo(r18.decomposedAccuracy / r18.fullAccuracy, 12);
    expect(r18.distinctFeatures).toBeGreaterThanOrEqual(50);
    expect(r18.distinctFeatures).toBeLessThanOrEqual(150);
    expect(r18.macs).toEqual({ full: 3 * 512, decomposed: 3 * 50 });
    // k2 / c is k2 over the classes (3 here), k2 / n over the feature width.
    const table = imagenetFamilyTable([r18]);
    const cell = (c: string) => (table.values[0] as unknown[])[table.columns.indexOf(c)];
    expect([cell("k2 / c"), cell("k2 / n"), cell("distinct features in all S_y"), cell("paper source")]).toEqual(["16.6667", "0.0977", r18.distinctFeatures, "not in the paper"]);
    type Layered = { layer: { data: { values: Record<string, unknown>[] } }[] };
    const chart = rAgainstLayersChart([r18, b0], [], 5, "Fig. 4") as unknown as Layered;
    expect(chart.layer.map((l) => l.data.values)).toEqual([
      [{ family: "ResNet (torchvision)", line: "ResNet (torchvision), k = 50", model: "resnet18", layers: 21, r_A: r18.accuracyRatio }],
      [{ family: "EfficientNet (torchvision)", source: "Table 6", model: "efficientnet_b0", layers: 82, r_A: 0.852122 }],
    ]);
    expect((rAgainstLayersChart([r18, b0], [], 5, "Fig. 4", false) as unknown as Layered).layer).toHaveLength(1);
  }, 180_000);
});

describe("the selection rules on an ImageNet tree (notebook 08's ImageNet part)", () => {
  it("compares the rules on a per-class sample of training features, Algorithm 1's cell being the decomposition's own", async () => {
    const source = imagenetSource({ DECOMP_IMAGENET: tree, DECOMP_IMAGENET_WEIGHTS: weightsDir });
    const cacheDir = path.join(scratch, "cache");
    const got = await tryCompareRulesImageNet(source, { model: "resnet18", k: 5, perClass: 3, rules: ["algorithm1", "random", "weight", "contribution", "shared"], randomSeeds: [0, 1], refit: true, cacheDir });
    if (got.cells === null) throw new Error(got.reason);
    const d = got.decomposition;
    // Three classes of 4, 5 and 6 training images: the first 3 of each.
    expect([d.trainImages, d.trainingFeatures!.rows, d.trainingFeatures!.cols]).toEqual([9, 9, 512]);
    expect(Array.from(d.training.labels)).toEqual([0, 0, 0, 1, 1, 1, 2, 2, 2]);
    expect(got.cells.map((c) => [c.rule, c.k])).toEqual([["algorithm1", 5], ["random", 5], ["weight", 5], ["contribution", 5], ["shared", 5]]);
    const alg = got.cells[0];
    expect(alg.keep).toBe(d.decomposedAccuracy);
    expect(alg.sets.map((s) => [...s].sort((a, b) => a - b))).toEqual(d.sets.map((s) => [...s].sort((a, b) => a - b)));
    expect(got.cells.every((c) => c.refit !== null && c.sets.every((s) => s.length === 5))).toBe(true);
    expect(IMAGENET_RULES).not.toContain("greedy");
    const missing = await tryCompareRulesImageNet(imagenetSource({}), { perClass: 3, randomSeeds: [0] });
    expect(missing.reason).toMatch(/^DECOMP_IMAGENET is not set/);
  }, 180_000);
});

describe("stage features of a torchvision ResNet on an ImageNet tree (notebook 09's steps on a tree)", () => {
  it("gives torch's pooled layer1-4 outputs, keeps a per-class sample's stages, and its last stage is the penultimate features", async () => {
    // The description's stage outputs against torchvision's modules, through forward hooks, on seeded 64 x 64 inputs.
    const weights = path.join(weightsDir, "resnet18.pth");
    const ref = JSON.parse(execFileSync("/usr/bin/python3", ["-c", `import json, numpy as np, torch, torchvision
m = torchvision.models.get_model("resnet18", weights=None, num_classes=3)
m.load_state_dict(torch.load(${JSON.stringify(weights)}))
m = m.eval().double()
x = np.random.RandomState(7).normal(0, 1, (2, 3, 64, 64))
pooled = {}
for name in ["layer1", "layer2", "layer3", "layer4"]:
    getattr(m, name).register_forward_hook(lambda _m, _i, out, name=name: pooled.__setitem__(name, out.mean(dim=(2, 3)).numpy().ravel().tolist()))
with torch.no_grad():
    m(torch.from_numpy(x))
print(json.dumps({"input": x.astype(np.float32).ravel().tolist(), "stages": pooled}))`], { encoding: "utf8", maxBuffer: 1 << 26 })) as { input: number[]; stages: Record<string, number[]> };
    const { stateDict } = await loadTorchCheckpoint(weights);
    const spec = modelEntry("resnet18").buildSpec(3, 64);
    const engine = await createEngine(withStageOutputs(spec), stateDict, "onnx");
    try {
      const nchw = Float32Array.from(ref.input);
      const nhwc = new Float32Array(nchw.length);
      for (let i = 0; i < 2; i++) for (let c = 0; c < 3; c++) for (let p = 0; p < 64 * 64; p++) nhwc[(i * 64 * 64 + p) * 3 + c] = nchw[(i * 3 + c) * 64 * 64 + p];
      const out = await engine.forward(nhwc, 2);
      ["layer1", "layer2", "layer3", "layer4"].forEach((name, i) => {
        const want = ref.stages[name];
        const scale = Math.max(...want.map(Math.abs));
        // float32 through up to 17 convolutions of at most 4,608 products: well inside 1e-4 of the stage's scale.
        expect(want.reduce((m, v, j) => Math.max(m, Math.abs(out.stages![i][j] - v)), 0)).toBeLessThan(1e-4 * scale);
      });
    } finally {
      engine.dispose();
    }

    const cacheDir = path.join(scratch, "cache");
    const data = await loadTreeStageData({ model: "resnet18", weights, data: { kind: "imagenet", root: tree }, perClass: 2, preprocessing: "paper", cacheDir });
    expect(data.stages.map((s) => [s.name, s.width, s.train.features.rows, s.test.features.rows])).toEqual([
      ["layer1", 64, 6, 9], ["layer2", 128, 6, 9], ["layer3", 256, 6, 9], ["layer4", 512, 6, 9],
    ]);
    // The validation pass without stages, on its own: its features are the last stage's, bit for bit.
    const plain = await runImageNetPass({ model: "resnet18", weights, root: tree, split: "val", preprocessing: "paper", cacheDir });
    const bytes = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
    expect(bytes(data.stages[3].test.features.data).equals(bytes(plain.result.features!))).toBe(true);
    const results = analyseStages(data, { ks: [2], refit: false, noiseK: 2, noiseSeeds: [0] });
    expect(results.map((r) => r.stage)).toEqual(["layer1", "layer2", "layer3", "layer4"]);
    await expect(loadTreeStageData({ model: "resnet18", weights, data: { kind: "imagenet", root: tree }, perClass: 2, stages: ["layer5"], cacheDir })).rejects.toThrow("resnet18 has no stage 'layer5'; its stages are layer1, layer2, layer3, layer4");
  }, 180_000);
});

describe("decomp probe on an image tree", () => {
  it("probes a torchvision ResNet's four stages on a per-class sample, and says what a tree or a CIFAR model needs", async () => {
    const weights = path.join(weightsDir, "resnet18.pth");
    const r = await runCli("probe", "--model", "resnet18", "--weights", weights, "--data", `imagenet:${tree}`, "--per-class", "2", "--preprocess", "paper", "--k", "2", "--noise-seeds", "1", "--json");
    expect({ code: r.code, stderr: r.code === 0 ? "" : r.stderr }).toEqual({ code: 0, stderr: "" });
    const out = JSON.parse(r.stdout);
    expect([out.data, out.trainImages, out.testImages]).toEqual(["imagenet", 6, 9]);
    expect(out.stages.map((s: { stage: string; channels: number }) => `${s.stage}:${s.channels}`)).toEqual(["layer1:64", "layer2:128", "layer3:256", "layer4:512"]);
    expect(r.stderr).toContain("6 training images (the first 2 per class), 9 validation images");
    for (const [args, message] of <[string[], string][]>[
      [["--model", "resnet18", "--data", `imagenet:${tree}`], "give --per-class N"],
      [["--model", "resnet18"], "resnet18 is an ImageNet model: give its data with --data folder:DIR or imagenet:DIR and --per-class N"],
      [["--model", "resnet20", "--data", `imagenet:${tree}`, "--per-class", "2"], "resnet20 is a CIFAR-10 model; probe it without --data"],
      [["--per-class", "2"], "--per-class is for image trees"],
    ]) {
      const bad = await runCli("probe", ...args);
      expect({ code: bad.code, stderr: bad.stderr }).toEqual({ code: 1, stderr: expect.stringContaining(message) });
    }
  }, 180_000);
});

describe("the ResNet retraining on ImageNet files", () => {
  it("streams augmented batches from the files, the same pixels whatever the batch", async () => {
    const list = imagenetSource({ DECOMP_IMAGENET: tree }).available ? (imagenetSource({ DECOMP_IMAGENET: tree }) as { tree: { splits: { train?: { files: string[]; labels: Uint16Array } } } }).tree.splits.train! : null;
    const recipe = { kind: "squash", size: 40, interpolation: "bilinear" } as const;
    const train = fileTraining(list!, recipe, { workers: 2 });
    try {
      const bytes = 40 * 40 * 3;
      const all = await train.batch(Uint32Array.of(5, 0, 3), 9, new Uint8Array(3 * bytes));
      const one = await train.batch(Uint32Array.of(3), 9, new Uint8Array(bytes));
      expect(Buffer.compare(Buffer.from(one), Buffer.from(all.subarray(2 * bytes)))).toBe(0);
      const img = await decodeImage(list!.files[3]);
      const expected = new Uint8Array(bytes);
      padCropFlip(preprocessImage(img.pixels, img.height, img.width, recipe), expected, { height: 40, width: 40, channels: 3 }, 4, augmentationFor(9, 3));
      expect(Buffer.compare(Buffer.from(one), Buffer.from(expected))).toBe(0);
      const otherSeed = await train.batch(Uint32Array.of(3), 10, new Uint8Array(bytes));
      expect(Buffer.compare(Buffer.from(otherSeed), Buffer.from(one))).not.toBe(0);
    } finally {
      await train.close();
    }
    expect(spreadSubset({ files: ["a", "b", "c", "d", "e"], labels: Uint16Array.of(0, 0, 1, 1, 2) }, 3)).toEqual({ files: ["a", "c", "e"], labels: Uint16Array.of(0, 1, 2) });
  });

  it("fine-tunes with the decomposed head from A_d, and resumes for more epochs", async () => {
    const source = imagenetSource({ DECOMP_IMAGENET: tree, DECOMP_IMAGENET_WEIGHTS: weightsDir });
    const cacheDir = path.join(scratch, "cache-retrain");
    const opts = { model: "resnet18", epochs: 1, batchSize: 4, lr: 1e-4, cacheDir };
    const first = await tryRetrainImageNet(source, opts);
    const r = first.retraining!;
    expect(first.reason).toBeNull();
    expect([r.model, r.k, r.trainImages, r.result.resumedEpochs, r.result.history.epochs.length]).toEqual(["resnet18", 50, 16, 0, 1]);
    // Before training, the network with its masked head scores what the decomposed layer scored on the cached features.
    expect(r.result.history.testAccuracy[0]).toBe(r.decomposedAccuracy);
    const d = await decomposeImageNet({ model: "resnet18", root: tree, weights: path.join(weightsDir, "resnet18.pth"), preprocessing: "paper", k1: 50, k2: 50, cacheDir });
    expect(r.decomposedAccuracy).toBe(d.decomposedAccuracy);
    // The saved head is zero (either sign) outside S_y.
    const w = r.result.stateDict.get("fc.weight")!.data;
    const outside = d.sets.flatMap((set, y) => Array.from({ length: 512 }, (_, j) => (set.includes(j) ? 0 : Math.abs(w[y * 512 + j]))));
    expect(Math.max(...outside)).toBe(0);
    const more = (await tryRetrainImageNet(source, { ...opts, epochs: 2 })).retraining!;
    expect([more.result.resumedEpochs, more.result.history.epochs.length, more.result.history.testAccuracy.length]).toEqual([1, 2, 3]);
    expect(more.result.history.testAccuracy.slice(0, 2)).toEqual(r.result.history.testAccuracy);
    const missing = await tryRetrainImageNet(imagenetSource({}));
    expect(missing.retraining).toBeNull();
    expect(missing.reason).toMatch(/^DECOMP_IMAGENET is not set/);
  }, 600_000);
});

describe("Table 7 on ImageNet files", () => {
  it("overlays correctly classified validation images and runs the curves from the cached decomposition", async () => {
    const source = imagenetSource({ DECOMP_IMAGENET: tree, DECOMP_IMAGENET_WEIGHTS: weightsDir });
    const cacheDir = path.join(scratch, "cache-vis");
    const got = await tryVisualizeImageNet(source, { model: "resnet18", overlayImages: 2, faithfulnessImages: 3, steps: 4, cacheDir });
    const v = got.visualization!;
    expect([v.model, v.k, v.size, v.maps.height, v.maps.width, v.maps.channels]).toEqual(["resnet18", 50, [224, 224], 7, 7, 512]);
    const d = await decomposeImageNet({ model: "resnet18", root: tree, weights: path.join(weightsDir, "resnet18.pth"), preprocessing: "paper", k1: 50, k2: 50, cacheDir });
    const logits = fullLogits(d.test.features, d.layer);
    const predictions = predictFromLogits(logits, d.test.features.rows, 3);
    const correct = new Set(Array.from(predictions).flatMap((p, i) => (p === d.test.labels[i] ? [d.test.labels[i]] : [])));
    // Seed 3's random ResNet18 gets some validation images right, so the rows below are checked, not skipped.
    expect(correct.size).toBeGreaterThan(0);
    expect(v.overlayRows.length).toBe(Math.min(2, correct.size));
    for (const r of v.overlayRows) {
      expect(predictions[r.testIndex]).toBe(d.test.labels[r.testIndex]);
      expect(r.maps.map((m) => m.length)).toEqual([224 * 224, 224 * 224, 224 * 224]);
      for (const m of r.maps) expect(Math.min(...m) >= 0 && Math.max(...m) <= 1).toBe(true);
    }
    // The TF.js maps pool to the features the ONNX pass cached.
    expect(v.poolingGap).toBeLessThan(1e-3);
    expect(overlayFigure(v.overlayRows, OVERLAY_COLUMNS, v.size, 0.5, "c")["text/html"]).toContain("decomp-overlays");
    // Each curve starts (deletion) at the probability of the unperturbed image: the cached logits' softmax.
    expect(v.curves.images).toBe(3);
    v.curveImages.forEach((i, n) => {
      const p = softmaxAt(logits, i * 3, 3, d.test.labels[i]);
      for (const map of ["influential", "CAM"] as const) expect(Math.abs(v.curves.curves[map].deletion[n * 5] - p)).toBeLessThan(1e-4);
    });
  }, 300_000);
});
