/**
 * The CIFAR ResNet18/34 variant against an independent PyTorch definition (scripts/make-cifar-basic-resnet.py:
 * seeded weights and BatchNorm statistics, both torch.save serialisations, float64 outputs): every executor gives
 * torch's features and logits, and the stages are the four BasicBlock stages.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { selectBackend } from "../../src/backend";
import { cifarBasicResNetSpec } from "../../src/models/families/cifar-basic-resnet";
import { createOnnxEngine } from "../../src/models/onnx-engine";
import { pickStages } from "../../src/models/spec";
import { createTfjsEngine } from "../../src/models/tfjs-engine";
import { loadTorchCheckpoint } from "../../src/torch";
import { runCli } from "../cli/run-cli";

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "decomp-cifar-basic-"));
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

describe("cifar_resnet34 against PyTorch", () => {
  let ref: { input: number[]; features: number[]; logits: number[]; loadsStrictly: boolean };
  beforeAll(() => {
    execFileSync("/usr/bin/python3", [path.join(__dirname, "..", "..", "scripts", "make-cifar-basic-resnet.py"), scratch, "cifar_resnet34"], { stdio: ["ignore", "ignore", "pipe"] });
    ref = JSON.parse(fs.readFileSync(path.join(scratch, "cifar_resnet34.json"), "utf8"));
  }, 120_000);

  it.each([["cifar_resnet34.pth", "onnx"], ["cifar_resnet34-legacy.pth", "onnx"], ["cifar_resnet34.pth", "tfjs"]])("%s on %s: features and logits within 1e-4 of their scale", async (file, kind) => {
    expect(ref.loadsStrictly).toBe(true);
    const { stateDict } = await loadTorchCheckpoint(path.join(scratch, file));
    const spec = cifarBasicResNetSpec("cifar_resnet34");
    if (kind === "tfjs") await selectBackend({ force: "cpu", logger: () => {} });
    const engine = kind === "onnx" ? await createOnnxEngine(spec, stateDict, { intraOpThreads: 1 }) : createTfjsEngine(spec, stateDict);
    try {
      const nchw = Float32Array.from(ref.input);
      const nhwc = new Float32Array(nchw.length);
      for (let i = 0; i < 2; i++) for (let c = 0; c < 3; c++) for (let p = 0; p < 1024; p++) nhwc[(i * 1024 + p) * 3 + c] = nchw[(i * 3 + c) * 1024 + p];
      const out = await engine.forward(nhwc, 2);
      for (const [ours, theirs] of [[out.features, ref.features], [out.logits, ref.logits]] as const) {
        const scale = Math.max(...theirs.map(Math.abs));
        // float32 through 36 layers of at most 4,608 products each: a few 1e-6 of the scale; 1e-4 still fails
        // for a wrong stride, shortcut or BatchNorm binding.
        expect(theirs.reduce((m, v, j) => Math.max(m, Math.abs(ours[j] - v)), 0)).toBeLessThan(1e-4 * scale);
      }
    } finally {
      engine.dispose();
    }
  });

  it("has four BasicBlock stages of 64-512 channels and refuses an unknown depth", () => {
    expect(pickStages(cifarBasicResNetSpec("cifar_resnet34")).map((s) => `${s.name}:${s.tensor}:${s.channels}`)).toEqual([
      "layer1:layer1.2:out:64", "layer2:layer2.3:out:128", "layer3:layer3.5:out:256", "layer4:layer4.2:out:512",
    ]);
    expect(() => cifarBasicResNetSpec("cifar_resnet50")).toThrow("unknown CIFAR BasicBlock ResNet 'cifar_resnet50'; known: cifar_resnet18, cifar_resnet34");
  });
});

describe("cifar_resnet34 in the registry (no published weights)", () => {
  it("trains with CSG from scratch (decomp csg --from scratch), and asks for weights where it has none", async () => {
    const r = await runCli("csg", "--model", "cifar_resnet34", "--from", "scratch", "--limit", "32", "--epochs", "1", "--warmup", "0", "--period", "1", "--phase", "0", "--batch-size", "16", "--out", path.join(scratch, "csg34"), "--json");
    expect({ code: r.code, stderr: r.code === 0 ? "" : r.stderr }).toEqual({ code: 0, stderr: "" });
    const out = JSON.parse(r.stdout);
    expect([out.model, out.from, out.trainImages, out.epochs.map((e: { path: string }) => e.path)]).toEqual(["cifar_resnet34", "scratch", 32, ["csg"]]);
    // The saved state dict holds the architecture's keys, for PyTorch (scripts/make-cifar-basic-resnet.py's Net).
    const saved = (await import("../../src/training")).loadCsg(path.join(scratch, "csg34", "model.dctn")).stateDict;
    expect(saved.get("layer4.2.conv2.weight")?.shape).toEqual([512, 512, 3, 3]);
    expect(saved.get("layer2.0.shortcut.0.weight")?.shape).toEqual([128, 64, 1, 1]);
    const noWeights = await runCli("eval", "--model", "cifar_resnet34");
    expect(noWeights.stderr).toContain("cifar_resnet34 has no published weights: pass --weights FILE (a PyTorch state dict of this architecture), or train it (decomp csg --model cifar_resnet34 --from scratch)");
  }, 300_000);
});
