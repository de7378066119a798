/**
 * A dataset of one's own (--data folder:DIR) with an imported model, against PyTorch on the same tree
 * (scripts/make-folder-fixture.py: 7 classes, JPEG / PNG / WebP, greyscale, palette and CMYK files; a ResNet18
 * exported to ONNX; torchvision's ImageFolder with Pillow): decoding equals Pillow's convert("RGB") on every
 * file, and decomp select gives the oracle's class order, S_y, A_f and A_d. Bad trees are refused, named, before
 * any image is decoded or the extraction starts.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { decodeImage } from "../../src/data/decode";
import { probeImages, scanImageFolder } from "../../src/data/image-folder";
import { runCli } from "../cli/run-cli";

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "decomp-image-folder-"));
const tree = path.join(scratch, "tree");
const model = path.join(scratch, "model.onnx");
const saved = process.env.DECOMP_CACHE;
afterAll(() => {
  if (saved === undefined) delete process.env.DECOMP_CACHE;
  else process.env.DECOMP_CACHE = saved;
  fs.rmSync(scratch, { recursive: true, force: true });
});

interface Oracle { classes: string[]; k1: number; k2: number; sets: number[][]; trainImages: number; valImages: number; fullAccuracy: number; decomposedAccuracy: number }
let oracle: Oracle;

beforeAll(() => {
  execFileSync("/usr/bin/python3", [path.join(__dirname, "..", "..", "scripts", "make-folder-fixture.py"), scratch], { cwd: path.join(__dirname, "..", "..", "scripts"), stdio: ["ignore", "ignore", "pipe"] });
  oracle = JSON.parse(fs.readFileSync(path.join(scratch, "oracle.json"), "utf8"));
  process.env.DECOMP_CACHE = path.join(scratch, "cache");
}, 300_000);

describe("an image folder of one's own", () => {
  it("is read in ImageFolder's class order, and every file decodes to Pillow's convert('RGB')", async () => {
    const scanned = scanImageFolder(tree);
    expect(scanned.classes).toEqual(oracle.classes);
    expect([scanned.splits.train!.files.length, scanned.splits.val!.files.length]).toEqual([oracle.trainImages, oracle.valImages]);
    const files = [...scanned.splits.train!.files, ...scanned.splits.val!.files];
    const pillow = JSON.parse(execFileSync("/usr/bin/python3", ["-c", `import sys, json, hashlib
from PIL import Image
print(json.dumps({f: [Image.open(f).mode, hashlib.sha256(Image.open(f).convert("RGB").tobytes()).hexdigest()] for f in json.load(sys.stdin)}))`], { input: JSON.stringify(files), encoding: "utf8" })) as Record<string, [string, string]>;
    expect(new Set(Object.values(pillow).map(([mode]) => mode))).toEqual(new Set(["RGB", "L", "P", "CMYK"]));
    const { createHash } = await import("node:crypto");
    for (const f of files) {
      const ours = createHash("sha256").update((await decodeImage(f)).pixels).digest("hex");
      expect({ f, mode: pillow[f][0], same: ours === pillow[f][1] }).toEqual({ f, mode: pillow[f][0], same: true });
    }
  });

  it("decomp select --data folder: gives PyTorch's S_y, A_f and A_d", async () => {
    const r = await runCli("select", "--model", model, "--data", `folder:${tree}`, "--k1", String(oracle.k1), "--k2", String(oracle.k2), "--json");
    expect({ code: r.code, stderr: r.code === 0 ? "" : r.stderr }).toEqual({ code: 0, stderr: "" });
    const out = JSON.parse(r.stdout);
    expect([out.data, out.preprocessing, out.trainImages, out.testImages]).toEqual(["folder", "resize73-crop64-bilinear", oracle.trainImages, oracle.valImages]);
    expect(Object.values(out.indices as Record<string, number[]>).map((s) => [...s].sort((a, b) => a - b))).toEqual(oracle.sets);
    expect([out.fullAccuracy, out.decomposedAccuracy]).toEqual([oracle.fullAccuracy, oracle.decomposedAccuracy].map((a) => Math.round(a * 1e6) / 1e4));
  }, 300_000);

  it("keeps a per-class sample's features for every selection rule and refit: the whole sample gives PyTorch's S_y again", async () => {
    const all = await runCli("select", "--model", model, "--data", `folder:${tree}`, "--k1", String(oracle.k1), "--k2", String(oracle.k2), "--per-class", "1000", "--json");
    expect({ code: all.code, stderr: all.code === 0 ? "" : all.stderr }).toEqual({ code: 0, stderr: "" });
    const whole = JSON.parse(all.stdout);
    expect(whole.trainImages).toBe(oracle.trainImages);
    expect(Object.values(whole.indices as Record<string, number[]>).map((s) => [...s].sort((a, b) => a - b))).toEqual(oracle.sets);
    const r = await runCli("select", "--model", model, "--data", `folder:${tree}`, "--k2", "3", "--rule", "weight", "--per-class", "2", "--refit", "--json");
    expect({ code: r.code, stderr: r.code === 0 ? "" : r.stderr }).toEqual({ code: 0, stderr: "" });
    const out = JSON.parse(r.stdout);
    expect([out.rule, out.trainImages, out.testImages]).toEqual(["weight", 2 * oracle.classes.length, oracle.valImages]);
    expect(Object.values(out.indices as Record<string, number[]>).every((s) => new Set(s).size === 3)).toBe(true);
    expect(out.refitAccuracy).toEqual(expect.any(Number));
    expect(r.stderr).toContain("(the first 2 per class) training images");
  }, 300_000);

  it("takes the preprocessing from options or a sidecar beside the model, and refuses a size the graph does not take", async () => {
    const sidecar = `${model}.preprocess.json`;
    fs.writeFileSync(sidecar, JSON.stringify({ squash: 64, interpolation: "bicubic", mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25] }));
    try {
      const r = await runCli("eval", "--model", model, "--data", `folder:${tree}`, "--json");
      expect({ code: r.code, stderr: r.code === 0 ? "" : r.stderr }).toEqual({ code: 0, stderr: "" });
      expect(JSON.parse(r.stdout).preprocessing).toBe("squash64-bicubic");
      // Options replace the sidecar's recipe as a whole (its interpolation too).
      const cropped = await runCli("eval", "--model", model, "--data", `folder:${tree}`, "--resize", "70", "--crop", "64", "--json");
      expect(JSON.parse(cropped.stdout).preprocessing).toBe("resize70-crop64-bilinear");
    } finally {
      fs.rmSync(sidecar);
    }
    const wrong = await runCli("eval", "--model", model, "--data", `folder:${tree}`, "--crop", "100");
    expect(wrong.stderr).toContain(`${model} takes 64 x 64 images but the preprocessing gives 100 x 100; use --crop 64 (or --squash 64)`);
    expect((await runCli("eval", "--model", model, "--data", `folder:${tree}`, "--mean", "0.5,0.5,0.5")).stderr).toContain("--mean and --std go together");
    expect((await runCli("eval", "--model", model, "--data", `folder:${tree}`, "--squash", "64", "--crop", "64")).stderr).toContain("--squash resizes to a square by itself");
  }, 300_000);

  it("maps folders to outputs with classes.json, and refuses bad trees before any work, naming what to fix", async () => {
    const cacheFiles = () => (fs.existsSync(path.join(scratch, "cache", "imagenet")) ? fs.readdirSync(path.join(scratch, "cache", "imagenet")).sort() : []);
    const before = cacheFiles();
    const copy = path.join(scratch, "copy");
    fs.cpSync(tree, copy, { recursive: true });
    const reversed = [...oracle.classes].reverse();
    fs.writeFileSync(path.join(copy, "classes.json"), JSON.stringify(Object.fromEntries(reversed.map((c, i) => [c, i]))));
    expect(scanImageFolder(copy).classes).toEqual(reversed);
    fs.writeFileSync(path.join(copy, "classes.json"), JSON.stringify({ [oracle.classes[0]]: 0 }));
    expect(() => scanImageFolder(copy)).toThrow(`${path.join(copy, "classes.json")} has no index for the class folder '${oracle.classes[1]}'`);
    fs.rmSync(path.join(copy, "classes.json"));

    const broken = path.join(copy, "train", oracle.classes[2], "broken.jpg");
    fs.writeFileSync(broken, "not an image");
    await expect(probeImages(scanImageFolder(copy).splits.train!.files)).rejects.toThrow(`${broken}: cannot read the image`);
    const r = await runCli("select", "--model", model, "--data", `folder:${copy}`);
    expect(r.stderr).toContain(`${broken}: cannot read the image`);
    fs.rmSync(broken);

    const emptied = path.join(copy, "val", oracle.classes[3]);
    for (const f of fs.readdirSync(emptied)) fs.rmSync(path.join(emptied, f));
    expect(() => scanImageFolder(copy)).toThrow(`${emptied} holds no images`);
    fs.rmSync(emptied, { recursive: true });
    fs.mkdirSync(path.join(copy, "val", "zebra"));
    expect(() => scanImageFolder(copy)).toThrow(`${path.join(copy, "val", "zebra")} is a class that ${path.join(copy, "train")} does not have`);
    fs.rmSync(path.join(copy, "val", "zebra"), { recursive: true });
    fs.cpSync(path.join(tree, "val", oracle.classes[3]), emptied, { recursive: true });

    fs.mkdirSync(path.join(copy, "train", "zebra"));
    fs.copyFileSync(scanImageFolder(tree).splits.train!.files[0], path.join(copy, "train", "zebra", "z.jpg"));
    fs.cpSync(path.join(copy, "train", "zebra"), path.join(copy, "val", "zebra"), { recursive: true });
    const eight = await runCli("select", "--model", model, "--data", `folder:${copy}`);
    expect(eight.stderr).toContain(`final layer has 7 classes but ${copy} has 8 class folders; give a model with one output per class folder`);
    // Nothing was extracted for the refused trees.
    expect(cacheFiles()).toEqual(before);
    expect((await runCli("select", "--model", model, "--data", `folder:${path.join(scratch, "absent")}`)).stderr).toContain(`image folder ${path.join(scratch, "absent")} does not exist`);
    expect((await runCli("select", "--data", "cifar10", "--train-dir", "x")).stderr).toContain("--train-dir and --test-dir go with --data folder:DIR");
  }, 300_000);
});
