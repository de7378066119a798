/**
 * A torchvision family on CIFAR-10 end to end: a full-size ResNet18 whose final layer has 10 classes (seeded random
 * weights standing in for a fine-tuned model) is evaluated and decomposed through the CLI, its images resized as
 * the weight's preset says; the features equal an independent path (PIL-exact resize, normalisation, the TF.js
 * executor); a 1000-class head is refused on CIFAR-10 labels and a 37-class one runs through `decomp forward`.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { readTensorFile, writeTensorFile } from "../../src/artifacts/tensor-file";
import { initBackend } from "../../src/backend";
import { loadCifar10, normalise } from "../../src/data";
import { decodeNpy, encodeNpy } from "../../src/data/npy";
import { preprocessBatch } from "../../src/data/preprocess";
import { getFeatures } from "../../src/features";
import { loadPretrained } from "../../src/models/pretrained";
import { modelEntry } from "../../src/models/registry";
import { createTfjsEngine } from "../../src/models/tfjs-engine";
import { initialStateDict } from "../../src/training/init";
import { expectedShapes } from "../../src/models/weights";
import { runCli } from "../cli/run-cli";
import { maxAbsDiff } from "../models/parity-fixture";

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "decomp-tv-cifar-"));
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

async function randomWeights(name: string, classes: number, seed: number): Promise<string> {
  const file = path.join(scratch, `${name}-${classes}.dctn`);
  await writeTensorFile(file, initialStateDict(modelEntry(name).buildSpec(classes), seed), { note: "seeded random weights for a test" });
  return file;
}

/**
 * Zero weights of the right shapes, where only the shapes matter: filling millions of random values is 40x slower
 * under jest than in Node (the typed arrays come from another realm, see test/environment.js).
 */
async function shapedWeights(name: string, classes: number): Promise<string> {
  const file = path.join(scratch, `${name}-${classes}-zeros.dctn`);
  const shapes = expectedShapes(modelEntry(name).buildSpec(classes));
  const tensors = new Map([...shapes].map(([key, shape]) => [key, { shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)) }]));
  await writeTensorFile(file, tensors, { note: "zero weights for a test" });
  return file;
}

describe("a torchvision model on CIFAR-10", () => {
  let tenClasses: string;
  beforeAll(async () => {
    tenClasses = await randomWeights("resnet18", 10, 7);
    await initBackend();
  });

  it("extracts features of images resized 32 -> 256 and centre-cropped to 224, equal to an independent path", async () => {
    const count = 4;
    const set = await getFeatures({ model: "resnet18", weights: tenClasses, split: "test", limit: count, refresh: true });
    expect([set.count, set.width, set.classes, set.recipe]).toEqual([count, 512, 10, "resize256-crop224-bilinear"]);

    const test = await loadCifar10("test");
    const pixels = preprocessBatch(test.pixels.subarray(0, count * 3072), count, 32, 32, { kind: "resize-crop", resize: 256, crop: 224, interpolation: "bilinear" });
    const entry = modelEntry("resnet18");
    const spec = entry.buildSpec(10);
    const engine = createTfjsEngine(spec, readTensorFile(tenClasses).tensors);
    try {
      const out = await engine.forward(normalise({ count, pixels }, "checkpoint"), count);
      const scale = out.features.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
      expect(maxAbsDiff(set.features, out.features) / scale).toBeLessThanOrEqual(1e-4);
      expect(maxAbsDiff(set.logits, out.logits) / out.logits.reduce((m, v) => Math.max(m, Math.abs(v)), 0)).toBeLessThanOrEqual(1e-4);
    } finally {
      engine.dispose();
    }
    // The paper's squash is another cache entry, with another input size.
    const squashed = await getFeatures({ model: "resnet18", weights: tenClasses, split: "test", limit: count, preprocessing: "paper" });
    expect(squashed.recipe).toBe("squash224-bilinear");
    expect(maxAbsDiff(squashed.features, set.features)).toBeGreaterThan(0);
  });

  it("runs decomp eval and decomp select with --weights, the classes taken from the checkpoint's final layer", async () => {
    const ev = await runCli("eval", "--model", "resnet18", "--weights", tenClasses, "--limit", "30", "--json");
    expect({ code: ev.code, stderr: ev.code === 0 ? "" : ev.stderr }).toEqual({ code: 0, stderr: "" });
    const e = JSON.parse(ev.stdout);
    expect([e.classes, e.featureWidth, e.images, e.preprocessing, e.publishedAccuracy]).toEqual([10, 512, 30, "resize256-crop224-bilinear", null]);

    const sel = await runCli("select", "--model", "resnet18", "--weights", tenClasses, "--limit", "30", "--k1", "8", "--k2", "6", "--json");
    expect({ code: sel.code, stderr: sel.code === 0 ? "" : sel.stderr }).toEqual({ code: 0, stderr: "" });
    const s = JSON.parse(sel.stdout);
    expect(Object.keys(s.indices)).toHaveLength(10);
    for (const set of Object.values(s.indices) as number[][]) {
      expect(set.length).toBeLessThanOrEqual(6);
      for (const j of set) expect(j >= 0 && j < 512).toBe(true);
    }
    expect(s.macs.full).toBe(10 * 512);
    // The same 30 test images through the same weights: select's A_f is eval's accuracy.
    expect(s.fullAccuracy).toBe(e.accuracy);
  });

  it("refuses an ImageNet head on CIFAR-10 labels, and k beyond the feature width, before extracting", async () => {
    const imagenet = await shapedWeights("resnet18", 1000);
    const ev = await runCli("eval", "--model", "resnet18", "--weights", imagenet, "--limit", "4");
    expect(ev.code).toBe(1);
    expect(ev.stderr).toContain(`${imagenet}: resnet18's final layer has 1000 classes, CIFAR-10 has 10; pass --weights with a resnet18 whose final layer was fine-tuned to CIFAR-10's 10 classes`);
    const sel = await runCli("select", "--model", "resnet50", "--k1", "2049");
    expect(sel.code).toBe(1);
    expect(sel.stderr).toMatch(/k1 .*2048/);
  });

  it("runs a 37-class checkpoint on any square input through decomp forward", async () => {
    const weights = await shapedWeights("resnet18", 37);
    const input = path.join(scratch, "x.npy");
    const data = Float32Array.from({ length: 2 * 3 * 64 * 64 }, (_, i) => Math.sin(i * 0.37));
    fs.writeFileSync(input, encodeNpy({ shape: [2, 3, 64, 64], data }));
    const out = path.join(scratch, "out");
    const run = await runCli("forward", "--model", "resnet18", "--weights", weights, "--input", input, "--out", out, "--json");
    expect({ code: run.code, stderr: run.code === 0 ? "" : run.stderr }).toEqual({ code: 0, stderr: "" });
    expect(decodeNpy(new Uint8Array(fs.readFileSync(path.join(out, "logits.npy")))).shape).toEqual([2, 37]);
    expect(decodeNpy(new Uint8Array(fs.readFileSync(path.join(out, "features.npy")))).shape).toEqual([2, 512]);
  });
});

describe("weights that do not fit a torchvision model", () => {
  const reduced = path.join(__dirname, "..", "fixtures", "torchvision", "tv-basic.pth");

  it("names the file and the first missing, unexpected or mis-shaped key, or says it is truncated", async () => {
    await expect(loadPretrained("resnet18", { weights: reduced })).rejects.toThrow(`${reduced}: 'conv1.weight' has shape [8, 3, 7, 7] but resnet18 needs [64, 3, 7, 7]; is it a resnet18 checkpoint?`);

    const resnet34 = await shapedWeights("resnet34", 10);
    await expect(loadPretrained("resnet18", { weights: resnet34 })).rejects.toThrow(`${resnet34} has 'layer1.2.conv1.weight', which resnet18 does not have; is it a resnet18 checkpoint?`);

    const densenet = path.join(__dirname, "..", "fixtures", "torchvision", "tv-densenet.pth");
    await expect(loadPretrained("resnet50", { weights: densenet })).rejects.toThrow(`${densenet} has no final layer 'fc.weight' (a classes x features matrix), which resnet50 needs; is it a resnet50 checkpoint?`);

    const truncated = path.join(scratch, "truncated.pth");
    const bytes = fs.readFileSync(reduced);
    fs.writeFileSync(truncated, bytes.subarray(0, Math.floor(bytes.length / 2)));
    await expect(loadPretrained("resnet18", { weights: truncated })).rejects.toThrow(new RegExp(`^${truncated.replace(/[.]/g, "\\.")} is not a readable checkpoint \\(.*\\); is the file complete\\?`));

    await expect(loadPretrained("resnet18", { weights: path.join(scratch, "absent.pth") })).rejects.toThrow(`weights file ${path.join(scratch, "absent.pth")} does not exist`);
  });

  it("explains how to supply registry weights that are not here, with the URL and the checksum expected", async () => {
    const saved = { TORCH_HOME: process.env.TORCH_HOME, DECOMP_OFFLINE: process.env.DECOMP_OFFLINE };
    // No PyTorch cache here, and no network: this machine has none, and the test never asks it.
    Object.assign(process.env, { TORCH_HOME: path.join(scratch, "no-torch-home"), DECOMP_OFFLINE: "1" });
    try {
      const err = await loadPretrained("efficientnet_b0", { cacheDir: path.join(scratch, "cache") }).catch((e: Error) => e);
      expect(String(err)).toContain("https://download.pytorch.org/models/efficientnet_b0_rwightman-3dd342df.pth");
      expect(String(err)).toContain("--weights FILE");
      expect(String(err)).toContain("<DECOMP_MIRROR>/torchvision/efficientnet_b0_rwightman-3dd342df.pth");
      expect(String(err)).toContain(`torch hub cache ${path.join(scratch, "no-torch-home", "hub", "checkpoints", "efficientnet_b0_rwightman-3dd342df.pth")}: not present`);
      expect(String(err)).toContain("It must have sha256 7f5810bc96def8f7552d5b7e68d53c4786f81167d28291b21c0d90e1fca14934 and be 21444401 bytes.");
    } finally {
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  });
});
