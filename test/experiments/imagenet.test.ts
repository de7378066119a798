/**
 * Notebook 03's ImageNet part as a library: where the data comes from (DECOMP_IMAGENET, DECOMP_IMAGENET_WEIGHTS)
 * and what each missing piece is reported as; Tables 2-6 rows on a synthetic ILSVRC-layout tree with a seeded
 * random 3-class ResNet18 (written by Debian's torchvision), checked against the cached validation pass itself.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { imagenetFamilyTable, imagenetSource, rAgainstLayersChart, runImageNetFamilies } from "../../src/experiments";
import { readPass } from "../../src/features/imagenet";
import { accuracy, predictFromLogits } from "../../src/method";
import { makeTree } from "../data/synthetic-imagenet";

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "decomp-imagenet-study-"));
const tree = path.join(scratch, "tree");
const weightsDir = path.join(scratch, "weights");
const savedHome = process.env.TORCH_HOME;
afterAll(() => {
  if (savedHome === undefined) delete process.env.TORCH_HOME;
  else process.env.TORCH_HOME = savedHome;
  fs.rmSync(scratch, { recursive: true, force: true });
});

beforeAll(async () => {
  // No PyTorch download cache: EfficientNet-B0's weights (no checksum, never downloaded) cannot resolve.
  process.env.TORCH_HOME = path.join(scratch, "torch-home");
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
    const row = table.values[0] as unknown[];
    expect(row[table.columns.indexOf("paper (Badola et al.)")]).toBe(74.55);
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
    expect(b0.status === "unavailable" && b0.reason).toMatch(/^Could not obtain artifact "efficientnet_b0" \(efficientnet_b0_rwightman-3dd342df.pth\). Tried: .* No checksum is published for it.* In the notebooks: put it in DECOMP_IMAGENET_WEIGHTS=<folder> as efficientnet_b0.pth.$/);
    if (r18.status !== "measured") throw new Error(r18.reason);
    expect([r18.k, r18.width, r18.trainImages, r18.testImages, r18.recipe]).toEqual([50, 512, 4 + 5 + 6 + 1, 9, "squash224-bilinear"]);
    // A_f is the top-1 of the logits the validation pass cached; r_A their ratio.
    const val = readPass(seen[0])!.result;
    expect(r18.fullAccuracy).toBe(accuracy(predictFromLogits(val.logits!, val.count, val.classes), Int32Array.from(val.labels)));
    expect(r18.accuracyRatio).toBeCloseTo(r18.decomposedAccuracy / r18.fullAccuracy, 12);
    expect(r18.distinctFeatures).toBeGreaterThanOrEqual(50);
    expect(r18.distinctFeatures).toBeLessThanOrEqual(150);
    expect(r18.macs).toEqual({ full: 3 * 512, decomposed: 3 * 50 });
    const chart = rAgainstLayersChart([r18, b0], [], 5, "Fig. 4") as { data: { values: unknown[] } };
    expect(chart.data.values).toEqual([{ family: "ResNet (torchvision), k = 50", model: "resnet18", layers: 21, r_A: r18.accuracyRatio }]);
  }, 180_000);
});
