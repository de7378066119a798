/**
 * Tiny ImageNet 200's layout on a synthetic tree (scripts/make-tiny-imagenet.py, with torchvision's ImageFolder as
 * the oracle of the class order and the training labels, the annotation file of the validation labels); the whole
 * pipeline reads it through --data tiny-imagenet:DIR; broken trees are refused, named, before any image is decoded.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { createHash } from "node:crypto";
import { scanTinyImageNet, TINY_IMAGENET_MD5 } from "../../src/data/tiny-imagenet";
import { runCsgOnTree } from "../../src/experiments/csg";
import { runCli } from "../cli/run-cli";

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "decomp-tiny-imagenet-"));
const tree = path.join(scratch, "tiny-imagenet-200");
const saved = process.env.DECOMP_CACHE;
interface Oracle { classes: string[]; train: [string, number][]; val: Record<string, number> }
let oracle: Oracle;

beforeAll(() => {
  execFileSync("/usr/bin/python3", [path.join(__dirname, "..", "..", "scripts", "make-tiny-imagenet.py"), tree, "5", "4", "3"], { stdio: ["ignore", "ignore", "pipe"] });
  oracle = JSON.parse(fs.readFileSync(path.join(tree, "oracle.json"), "utf8"));
  process.env.DECOMP_CACHE = path.join(scratch, "cache");
}, 120_000);
afterAll(() => {
  if (saved === undefined) delete process.env.DECOMP_CACHE;
  else process.env.DECOMP_CACHE = saved;
  fs.rmSync(scratch, { recursive: true, force: true });
});

/** A copy of the tree with one change, for the refusals. */
function broken(name: string, change: (dir: string) => void): string {
  const dir = path.join(scratch, name);
  fs.cpSync(tree, dir, { recursive: true });
  change(dir);
  return dir;
}

describe("Tiny ImageNet 200's layout", () => {
  it("gives ImageFolder's classes and training labels, and the annotation file's validation labels", () => {
    const scanned = scanTinyImageNet(tree);
    expect(scanned.classes).toEqual(oracle.classes);
    const train = scanned.splits.train!;
    expect(train.files.map((f, i) => [path.relative(tree, f), train.labels[i]])).toEqual(oracle.train);
    const val = scanned.splits.val!;
    expect(val.files.length).toBe(Object.keys(oracle.val).length);
    val.files.forEach((f, i) => expect([path.basename(f), val.labels[i]]).toEqual([path.basename(f), oracle.val[path.basename(f)]]));
    // The published wnids.txt is not sorted; the classes are.
    expect(fs.readFileSync(path.join(tree, "wnids.txt"), "utf8").trim().split("\n")).not.toEqual(oracle.classes);
  });

  it.each([
    ["no val_annotations.txt", (d: string) => fs.rmSync(path.join(d, "val", "val_annotations.txt")), /val has no val_annotations\.txt, which labels its images/],
    ["an annotated wnid that wnids.txt lacks", (d: string) => fs.appendFileSync(path.join(d, "val", "val_annotations.txt"), "val_0.JPEG\tn00000001\t0\t0\t1\t1\n"), /labels val_0\.JPEG as n00000001, which wnids\.txt does not list/],
    ["a training folder that wnids.txt lacks", (d: string) => fs.mkdirSync(path.join(d, "train", "n00000002", "images"), { recursive: true }), /has a folder n00000002 that .*wnids\.txt does not list/],
    ["no wnids.txt", (d: string) => fs.rmSync(path.join(d, "wnids.txt")), /has no wnids\.txt: it is not Tiny ImageNet's layout/],
    ["an image without an annotation", (d: string) => fs.copyFileSync(path.join(d, "val", "images", "val_0.JPEG"), path.join(d, "val", "images", "val_99.JPEG")), /val_99\.JPEG has no line in .*val_annotations\.txt/],
  ])("refuses a tree with %s", (name, change, message) => {
    expect(() => scanTinyImageNet(broken(name.replace(/\W+/g, "-"), change))).toThrow(message);
  });

  it("reads the published zip: md5 checked, unpacked once into the cache without test/, the same tree as the folder", () => {
    const zip = path.join(scratch, "tiny-imagenet-200.zip");
    execFileSync("/usr/bin/python3", ["-c", `import os, sys, zipfile
root, out = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
    z.writestr("tiny-imagenet-200/test/images/test_0.JPEG", b"unlabelled")
    for d, _, files in sorted(os.walk(root)):
        for f in sorted(files):
            full = os.path.join(d, f)
            z.write(full, os.path.join("tiny-imagenet-200", os.path.relpath(full, root)))`, tree, zip]);
    const md5 = createHash("md5").update(fs.readFileSync(zip)).digest("hex");
    const cacheDir = path.join(scratch, "zip-cache");
    expect(() => scanTinyImageNet(zip, { cacheDir })).toThrow(new RegExp(`has md5 ${md5}, expected ${TINY_IMAGENET_MD5} \\(\\d+ bytes\\): not the published tiny-imagenet-200\\.zip`));
    expect(fs.existsSync(path.join(cacheDir, "tiny-imagenet"))).toBe(false);
    const fromZip = scanTinyImageNet(zip, { cacheDir, md5 });
    const unpacked = path.join(cacheDir, "tiny-imagenet", md5.slice(0, 12), "tiny-imagenet-200");
    expect(fromZip.root).toBe(unpacked);
    const fromFolder = scanTinyImageNet(tree);
    expect(fromZip.classes).toEqual(fromFolder.classes);
    for (const split of ["train", "val"] as const) {
      expect(fromZip.splits[split]!.files.map((f) => path.relative(unpacked, f))).toEqual(fromFolder.splits[split]!.files.map((f) => path.relative(tree, f)));
      expect(Array.from(fromZip.splits[split]!.labels)).toEqual(Array.from(fromFolder.splits[split]!.labels));
    }
    expect(fs.existsSync(path.join(unpacked, "test"))).toBe(false);
    expect(fs.readdirSync(path.dirname(unpacked))).toEqual(["tiny-imagenet-200"]);
    // A second scan reuses the unpacked folder (a removed marker file would otherwise come back).
    fs.rmSync(path.join(unpacked, "words.txt"));
    scanTinyImageNet(zip, { cacheDir, md5 });
    expect(fs.existsSync(path.join(unpacked, "words.txt"))).toBe(false);
  });

  it("runs through the pipeline with --data tiny-imagenet:DIR, and refuses a broken tree before decoding", async () => {
    const weights = path.join(scratch, "resnet18-5.pth");
    execFileSync("/usr/bin/python3", ["-c", `import torch, torchvision
torch.manual_seed(5)
torch.save(torchvision.models.get_model("resnet18", weights=None, num_classes=5).state_dict(), ${JSON.stringify(weights)})`]);
    const r = await runCli("select", "--model", "resnet18", "--weights", weights, "--data", `tiny-imagenet:${tree}`, "--squash", "64", "--k1", "5", "--k2", "5", "--json");
    expect({ code: r.code, stderr: r.code === 0 ? "" : r.stderr }).toEqual({ code: 0, stderr: "" });
    const out = JSON.parse(r.stdout);
    expect([out.data, out.trainImages, out.testImages, out.preprocessing]).toEqual(["tiny-imagenet", 20, 15, "squash64-bilinear"]);
    const bad = broken("for-cli", (d) => fs.rmSync(path.join(d, "val", "val_annotations.txt")));
    const refused = await runCli("select", "--model", "resnet18", "--weights", weights, "--data", `tiny-imagenet:${bad}`, "--squash", "64");
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/has no val_annotations\.txt/);
    expect(refused.stderr).not.toMatch(/extract/);
  }, 120_000);
});

describe("CSG on Tiny ImageNet (Table 1's rows) on the synthetic tree", () => {
  it("trains ResNet18 from scratch through both paths (decomp csg --data tiny-imagenet:DIR)", async () => {
    const run = await runCli("csg", "--model", "resnet18", "--data", `tiny-imagenet:${tree}`, "--from", "scratch", "--epochs", "2", "--warmup", "0", "--period", "2", "--phase", "1", "--out", path.join(scratch, "csg-scratch"), "--json");
    expect({ code: run.code, stderr: run.code === 0 ? "" : run.stderr }).toEqual({ code: 0, stderr: "" });
    const s = JSON.parse(run.stdout);
    expect([s.data, s.trainImages, s.testImages, s.newHead, s.norm]).toEqual(["tiny-imagenet", 20, 15, false, "checkpoint"]);
    expect(s.epochs.map((e: { path: string }) => e.path)).toEqual(["std", "csg"]);
    // The CSG epoch moved the gates off their start (every gate at the initial value) and the MIS was measured twice.
    expect(s.density.after).not.toBe(s.density.before);
    expect([typeof s.mis.before, typeof s.mis.after]).toEqual(["number", "number"]);
    expect(fs.existsSync(path.join(scratch, "csg-scratch", "model.dctn"))).toBe(true);
  }, 300_000);

  it("starts from an ImageNet checkpoint with a new head, resumes after a stop between epochs, and refuses bad input first", async () => {
    // A seeded random torchvision checkpoint with ImageNet's 1,000 classes stands in for the published one.
    const imagenet = path.join(scratch, "resnet18-imagenet-standin.pth");
    execFileSync("/usr/bin/python3", ["-c", `import torch, torchvision
torch.manual_seed(18)
torch.save(torchvision.models.get_model("resnet18", weights=None).state_dict(), ${JSON.stringify(imagenet)})`]);
    const cacheDir = path.join(scratch, "csg-resume");
    const controller = new AbortController();
    const options = { model: "resnet18", data: { kind: "tiny-imagenet" as const, root: tree }, weights: imagenet, hyperparameters: { epochs: 3, warmupEpochs: 1, period: 3, csgPhase: 1, batchSize: 8 }, cacheDir };
    await expect(runCsgOnTree({ ...options, signal: controller.signal, onProgress: (e) => {
      if (e.stage.includes("epoch 2/3") && e.done > 0) controller.abort();
    } })).rejects.toThrow(/CSG training aborted in epoch 2; the checkpoint after epoch 1 is kept/);
    const resumed = await runCsgOnTree(options);
    expect([resumed.newHead, resumed.result.resumedEpochs]).toEqual([true, 1]);
    expect(resumed.result.history.epochs.map((e) => e.path)).toEqual(["std", "csg", "csg"]);
    expect(resumed.spec.inputShape).toEqual([64, 64, 3]);
    await expect(runCsgOnTree({ ...options, model: "resnet20" })).rejects.toThrow("resnet20 is a CIFAR ResNet: it trains on CIFAR-10");
    const bad = broken("for-csg", (d) => fs.rmSync(path.join(d, "val", "val_annotations.txt")));
    await expect(runCsgOnTree({ ...options, data: { kind: "tiny-imagenet", root: bad } })).rejects.toThrow(/has no val_annotations\.txt/);
  }, 300_000);
});
