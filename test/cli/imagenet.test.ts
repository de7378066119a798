/**
 * The ImageNet path end to end on a synthetic ILSVRC-layout tree (JPEGs this test writes; val/ flat with a
 * solution CSV) and a full-size torchvision ResNet50 with seeded random weights and one output per class folder
 * (written by Debian's torchvision): `decomp select` runs; the same passes as 4 shards + merge give identical
 * ranks, features, S_y and A_d; a shard killed mid-way is rerun alone, the others untouched.
 */
import { execFileSync, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { decodePass } from "../../src/features/imagenet";
import { parseShard } from "../../src/features/imagenet-pass";
import { makeTree } from "../data/synthetic-imagenet";
import { runCli } from "./run-cli";

const CLASSES = 5;
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "decomp-imagenet-cli-"));
const tree = path.join(scratch, "tree");
const weights = path.join(scratch, "resnet50-5.pth");
const saved = process.env.DECOMP_CACHE;
afterAll(() => {
  if (saved === undefined) delete process.env.DECOMP_CACHE;
  else process.env.DECOMP_CACHE = saved;
  fs.rmSync(scratch, { recursive: true, force: true });
});

const common = ["--model", "resnet50", "--weights", weights, "--data", `imagenet:${tree}`, "--batch-size", "8"];
const cacheFiles = (dir: string) => (fs.existsSync(path.join(dir, "imagenet")) ? fs.readdirSync(path.join(dir, "imagenet")).sort() : []);

async function cli(cache: string, ...argv: string[]) {
  process.env.DECOMP_CACHE = cache;
  const r = await runCli(...argv, "--json");
  expect({ argv, code: r.code, stderr: r.code === 0 ? "" : r.stderr }).toEqual({ argv, code: 0, stderr: "" });
  return JSON.parse(r.stdout);
}

beforeAll(async () => {
  await makeTree(tree, { classes: CLASSES, perClass: (c) => 14 + c, valImages: 20 });
  execFileSync("/usr/bin/python3", ["-c", `import torch, torchvision
torch.manual_seed(0)
torch.save(torchvision.models.get_model("resnet50", weights=None, num_classes=${CLASSES}).state_dict(), ${JSON.stringify(weights)})`]);
}, 120_000);

describe("decomp on an ImageNet-layout tree", () => {
  const whole = path.join(scratch, "cache-whole");
  const sharded = path.join(scratch, "cache-sharded");

  it("selects with k1 = k2 = 50 in one go, and identically from 4 shards per split merged", async () => {
    const one = await cli(whole, "select", ...common, "--k1", "50", "--k2", "50");
    expect([one.trainImages, one.testImages, one.rankDepth, one.preprocessing]).toEqual([14 + 15 + 16 + 17 + 18 + 1, 20, 50, "resize256-crop224-bilinear"]);
    expect(Object.keys(one.indices)).toHaveLength(CLASSES);
    for (const set of Object.values(one.indices) as number[][]) expect(set).toHaveLength(50);

    for (const split of ["train", "val"]) {
      for (let i = 0; i < 4; i++) {
        const shard = await cli(sharded, "extract", ...common, "--split", split, "--shard", `${i}/4`);
        expect(shard.reused).toBe(false);
        // The process's high-water mark (here jest's, which runs the CLI in-process), for sizing cluster jobs.
        expect(shard.peakRssMiB).toBeGreaterThan(100);
      }
      const merged = await cli(sharded, "merge", ...common, "--split", split, "--shards", "4");
      expect(merged.images).toBe(split === "train" ? 81 : 20);
    }
    // The merged files hold exactly what the unsharded passes computed.
    const wholeFiles = cacheFiles(whole);
    expect(wholeFiles).toHaveLength(2);
    for (const name of wholeFiles) {
      const a = decodePass(fs.readFileSync(path.join(whole, "imagenet", name)), name).result;
      const b = decodePass(fs.readFileSync(path.join(sharded, "imagenet", name)), name).result;
      expect(b.labels).toEqual(a.labels);
      if (a.ranks !== undefined) expect(Buffer.from(b.ranks!.buffer).equals(Buffer.from(a.ranks.buffer))).toBe(true);
      else expect(Buffer.from(b.features!.buffer).equals(Buffer.from(a.features!.buffer))).toBe(true);
    }
    const map = path.join(scratch, "map.json");
    const again = await cli(sharded, "select", ...common, "--k1", "50", "--k2", "50", "--out", map);
    expect([again.indices, again.decomposedAccuracy, again.fullAccuracy]).toEqual([one.indices, one.decomposedAccuracy, one.fullAccuracy]);

    // The written map, keyed by class numbers or by wnids (as published maps are), evaluates to the same A_d.
    const byNumber = await cli(sharded, "eval", ...common, "--indices", map);
    expect([byNumber.decomposedAccuracy, byNumber.fullLayerAccuracy, byNumber.accuracy]).toEqual([one.decomposedAccuracy, one.fullAccuracy, one.fullAccuracy]);
    const wnids = fs.readdirSync(path.join(tree, "train")).sort();
    const numbered = JSON.parse(fs.readFileSync(map, "utf8")) as Record<string, number[]>;
    const byWnidFile = path.join(scratch, "map-wnid.json");
    fs.writeFileSync(byWnidFile, JSON.stringify(Object.fromEntries(Object.entries(numbered).map(([c, set]) => [wnids[Number(c)], set]))));
    expect((await cli(sharded, "eval", ...common, "--indices", byWnidFile)).decomposedAccuracy).toBe(one.decomposedAccuracy);
  }, 600_000);

  it("reruns a shard killed mid-way without redoing the others", async () => {
    const cache = path.join(scratch, "cache-kill");
    for (const i of [0, 1, 3]) await cli(cache, "extract", ...common, "--split", "train", "--shard", `${i}/4`);
    const before = new Map(cacheFiles(cache).map((f) => [f, fs.statSync(path.join(cache, "imagenet", f)).mtimeMs]));
    expect(before.size).toBe(3);

    // A real process, held right after it has extracted the first batch of its shard (a preloaded hook), and
    // killed there: the same point on any machine, however fast.
    const bin = path.join(__dirname, "..", "..", "bin", "decomp.js");
    const hook = path.join(__dirname, "hold-at-first-batch.js");
    const child = spawn(process.execPath, ["-r", hook, bin, "extract", ...common, "--split", "train", "--shard", "2/4"], {
      env: { ...process.env, DECOMP_CACHE: cache, DECOMP_TEST_HOLD_STAGE: "train shard 3/4" },
    });
    let seen = "";
    const ended = await new Promise<{ signal: NodeJS.Signals | null; code: number | null }>((resolve) => {
      child.stderr.on("data", (d) => {
        seen += String(d);
        if (seen.includes("decomp-test: held at")) child.kill("SIGKILL");
      });
      child.on("exit", (code, signal) => resolve({ code, signal }));
    });
    // Shard 2 of 4 holds batches 5..7 of the 11 (images 40..63): held after its first batch of 8.
    expect({ ...ended, held: seen.includes("decomp-test: held at 8/24\n") }).toEqual({ code: null, signal: "SIGKILL", held: true });
    expect(cacheFiles(cache)).toEqual([...before.keys()].sort());

    const rerun = await cli(cache, "extract", ...common, "--split", "train", "--shard", "2/4");
    expect(rerun.reused).toBe(false);
    for (const [f, mtime] of before) expect(fs.statSync(path.join(cache, "imagenet", f)).mtimeMs).toBe(mtime);
    const merged = await cli(cache, "merge", ...common, "--split", "train", "--shards", "4");
    const reference = decodePass(fs.readFileSync(path.join(scratch, "cache-whole", "imagenet", path.basename(merged.file))), merged.file).result;
    expect(Buffer.from(decodePass(fs.readFileSync(merged.file), merged.file).result.ranks!.buffer).equals(Buffer.from(reference.ranks!.buffer))).toBe(true);
  }, 600_000);

  it("refuses what it cannot run before decoding an image", async () => {
    process.env.DECOMP_CACHE = path.join(scratch, "cache-refuse");
    const merge = await runCli("merge", ...common, "--split", "train", "--shards", "3");
    expect(merge.stderr).toMatch(/shard 0 of 3 is missing .*; run: decomp extract \.\.\. --shard 0\/3/);
    const imagenetHead = path.join(scratch, "resnet50-1000.pth");
    execFileSync("/usr/bin/python3", ["-c", `import torch, torchvision; torch.save(torchvision.models.get_model("resnet50", weights=None).state_dict(), ${JSON.stringify(imagenetHead)})`]);
    const wrong = await runCli("eval", "--model", "resnet50", "--weights", imagenetHead, "--data", `imagenet:${tree}`);
    expect(wrong.stderr).toContain(`resnet50's final layer has 1000 classes but ${tree} has ${CLASSES} class folders`);
    const cifarModel = await runCli("eval", "--model", "resnet20", "--data", `imagenet:${tree}`);
    expect(cifarModel.stderr).toContain("resnet20 is a CIFAR model; ImageNet passes need one of torchvision's families");
    expect((await runCli("select", "--data", "imagenet")).stderr).toContain("--data must be cifar10, imagenet:DIR (DIR holds train/ and val/), tiny-imagenet:DIR (Tiny ImageNet 200's folder) or folder:DIR");
    const limited = await runCli("select", ...common, "--limit", "3");
    expect(limited.stderr).toContain("no training image of class 1 (n01443537) among the first 3 (ImageFolder's order groups images by class): Algorithm 1 needs every class");
    expect(cacheFiles(path.join(scratch, "cache-refuse"))).toEqual([]);
  }, 120_000);
});

describe("--shard auto", () => {
  it("reads Slurm's job array and Kubernetes' Indexed Job variables", () => {
    expect(parseShard("auto", undefined, { SLURM_ARRAY_TASK_ID: "3", SLURM_ARRAY_TASK_COUNT: "8" })).toEqual({ index: 3, count: 8 });
    expect(parseShard("auto", 4, { JOB_COMPLETION_INDEX: "2" })).toEqual({ index: 2, count: 4 });
    expect(parseShard("1/2", undefined, {})).toEqual({ index: 1, count: 2 });
    expect(() => parseShard("auto", undefined, { JOB_COMPLETION_INDEX: "2" })).toThrow("set the number of shards with --shards N");
    expect(() => parseShard("auto", 4, {})).toThrow("--shard auto needs SLURM_ARRAY_TASK_ID");
    expect(() => parseShard("4/4", undefined, {})).toThrow("shard index must be 0..3, got 4");
    expect(() => parseShard("two", undefined, {})).toThrow("--shard must be i/n");
  });
});
