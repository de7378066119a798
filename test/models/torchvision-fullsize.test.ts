/**
 * Every torchvision model in the registry at full size, exact against torchvision 0.14 itself: for each one a
 * script (Debian python3-torch + python3-torchvision, which `npm test` installs through scripts/setup.sh) writes
 * a checkpoint with seeded random weights (zip or legacy serialisation in turn; DenseNets under the published
 * files' legacy key names) and torchvision's logits and pooled features for real CIFAR-10 images passed
 * through the weight's own evaluation preset. Our side reads the checkpoint through the registry (loadPretrained
 * --weights), preprocesses the same raw images with its PIL-exact resize and centre crop, and runs the ONNX
 * and TF.js executors. Generated at test time: the files are hundreds of megabytes each.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { initBackend } from "../../src/backend";
import { loadCifar10, normalise } from "../../src/data";
import { preprocessBatch } from "../../src/data/preprocess";
import { loadPretrained } from "../../src/models/pretrained";
import { createOnnxEngine } from "../../src/models/onnx-engine";
import { inputRecipe, MODEL_NAMES, modelEntry } from "../../src/models/registry";
import { createTfjsEngine } from "../../src/models/tfjs-engine";
import { maxAbsDiff } from "./parity-fixture";

const PYTHON = "/usr/bin/python3";
const SCRIPT = path.join(__dirname, "..", "..", "scripts", "make-torchvision-fullsize.py");
const MODELS = MODEL_NAMES.filter((n) => modelEntry(n).kind === "torchvision");
const COUNT = 2;

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "decomp-tv-full-"));
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

const readF32 = (file: string) => {
  const b = fs.readFileSync(file);
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
};
const largest = (a: Float32Array) => a.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
const argmax = (a: Float32Array, width: number) => Array.from({ length: a.length / width }, (_, i) => {
  let best = 0;
  for (let j = 1; j < width; j++) if (a[i * width + j] > a[i * width + best]) best = j;
  return best;
});

describe("torchvision's full-size models against torchvision 0.14", () => {
  let rawImages: Uint8Array;
  beforeAll(async () => {
    try {
      execFileSync(PYTHON, ["-c", "import torch, torchvision"], { stdio: "pipe" });
    } catch {
      throw new Error(`${PYTHON} cannot import torch and torchvision: run 'bash scripts/setup.sh --test' (it installs Debian's python3-torch and python3-torchvision)`);
    }
    // The fastest TF.js backend that loads (WASM here): the plain CPU one takes minutes on these models.
    await initBackend();
    const test = await loadCifar10("test");
    rawImages = test.pixels.slice(0, COUNT * 3072);
    fs.writeFileSync(path.join(scratch, "images.u8"), rawImages);
  });

  it.each(MODELS.map((name, i) => [name, i % 2 === 1] as const))("%s (legacy serialisation: %s)", async (name, legacy) => {
    const dir = path.join(scratch, name);
    execFileSync(PYTHON, [SCRIPT, name, path.join(scratch, "images.u8"), String(COUNT), dir, ...(legacy ? ["--legacy"] : [])], { stdio: "pipe" });
    try {
      const meta = JSON.parse(fs.readFileSync(path.join(dir, "meta.json"), "utf8"));
      const entry = modelEntry(name);
      const recipe = inputRecipe(entry, "torchvision");
      const pretrained = await loadPretrained(name, { weights: path.join(dir, `${name}.pth`) });
      const { spec, stateDict } = pretrained;
      expect([spec.classes, spec.featureWidth, spec.inputShape[0]]).toEqual([meta.classes, meta.featureWidth, meta.inputShape[2]]);

      // Our preprocessing of the raw images against torchvision's transforms (already normalised, NCHW).
      const side = spec.inputShape[0];
      const ours = normalise({ count: COUNT, pixels: preprocessBatch(rawImages, COUNT, 32, 32, recipe) }, "checkpoint");
      const theirs = readF32(path.join(dir, "inputs.f32"));
      const nchw = new Float32Array(ours.length);
      for (let i = 0; i < COUNT; i++) for (let p = 0; p < side * side; p++) for (let c = 0; c < 3; c++) nchw[(i * 3 + c) * side * side + p] = ours[(i * side * side + p) * 3 + c];
      expect(maxAbsDiff(nchw, theirs)).toBeLessThanOrEqual(1e-5);

      const logits = readF32(path.join(dir, "logits.f32"));
      const features = readF32(path.join(dir, "features.f32"));
      for (const engine of [await createOnnxEngine(spec, stateDict), createTfjsEngine(spec, stateDict)]) {
        try {
          const out = await engine.forward(ours, COUNT);
          const result = {
            name, engine: engine.backend,
            logits: maxAbsDiff(out.logits, logits) / largest(logits), features: maxAbsDiff(out.features, features) / largest(features),
          };
          expect(result.logits).toBeLessThanOrEqual(1e-4);
          expect(result.features).toBeLessThanOrEqual(1e-4);
          expect(argmax(out.logits, spec.classes)).toEqual(argmax(logits, spec.classes));
        } finally {
          engine.dispose();
        }
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 600_000);
});
