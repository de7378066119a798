/**
 * The round trip on the real ResNet20 and CIFAR-10: exported to ONNX and imported back it gives the native path's
 * numbers (A_f 91.73 % with the checkpoint's normalisation, equal to the native eval's; A_f 91.71 % and A_d 88.59 %
 * at k1 = k2 = 5 on the augmented pass with CIFAR's); the decomposed network exported as a PyTorch state dict loads into the CIFAR
 * ResNet with strict=True in Debian's torch and scores our A_d; exported as ONNX it passes onnx.checker and scores
 * it again in ONNX Runtime.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { batchView, loadCifar10, normalise } from "../../src/data";
import { encodeNpy } from "../../src/data/npy";
import { runCli } from "./run-cli";

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "decomp-export-"));
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));
const at = (name: string) => path.join(scratch, name);
const oracle = (...args: string[]) =>
  JSON.parse(execFileSync("/usr/bin/python3", [path.join(__dirname, "..", "..", "scripts", "export-oracle.py"), ...args], { cwd: path.join(__dirname, "..", "..", "scripts"), encoding: "utf8" }));

async function cli(...argv: string[]) {
  const r = await runCli(...argv, "--json");
  expect({ argv, code: r.code, stderr: r.code === 0 ? "" : r.stderr }).toEqual({ argv, code: 0, stderr: "" });
  return JSON.parse(r.stdout);
}

describe("ResNet20 out to ONNX and back in", () => {
  const onnx = at("resnet20.onnx");
  const map = at("map.json");

  it("gives the native path's A_f and, at k1 = k2 = 5, its A_d", async () => {
    await cli("export", "--model", "resnet20", "--format", "onnx", "--out", onnx);
    const [native, imported] = [await cli("eval", "--model", "resnet20"), await cli("eval", "--model", onnx)];
    expect([imported.accuracy, imported.images, imported.backend]).toEqual([native.accuracy, 10000, "onnxruntime-node/cpu"]);
    expect(imported.accuracy.toFixed(2)).toBe("91.73");
    // The native path's known answers on the full sets (README, notebook 02): A_f 91.71 with CIFAR's normalisation,
    // A_d 88.59 at k1 = k2 = 5 on the augmented pass; rerunning the native select here would extract 50,000 images again.
    const ours = await cli("select", "--model", onnx, "--norm", "cifar", "--augment", "0", "--k1", "5", "--k2", "5", "--out", map);
    expect([ours.trainImages, ours.testImages, ours.fullAccuracy.toFixed(2), ours.decomposedAccuracy.toFixed(2)]).toEqual([50000, 10000, "91.71", "88.59"]);
  }, 300_000);

  it("exports the decomposed network: a state dict PyTorch loads strictly, and an ONNX model, both scoring our A_d", async () => {
    const count = 2000;
    const ours = await cli("eval", "--model", "resnet20", "--norm", "cifar", "--limit", String(count), "--indices", map);
    const test = batchView(await loadCifar10("test"), 0, count);
    const hwc = normalise(test, "cifar");
    const nchw = new Float32Array(hwc.length);
    for (let i = 0; i < count; i++) for (let p = 0; p < 1024; p++) for (let c = 0; c < 3; c++) nchw[i * 3072 + c * 1024 + p] = hwc[i * 3072 + p * 3 + c];
    fs.writeFileSync(at("images.npy"), encodeNpy({ shape: [count, 3, 32, 32], data: nchw }));

    const pth = await cli("export", "--model", "resnet20", "--indices", map, "--format", "pth", "--out", at("decomposed.pth"));
    expect([pth.keptWeights, pth.classes, pth.featureWidth]).toEqual([50, 10, 64]);
    const { predictions } = oracle("pth", "20", at("decomposed.pth"), at("images.npy")) as { predictions: number[] };
    const torchAccuracy = (100 * predictions.filter((p, i) => p === test.labels[i]).length) / count;
    expect(torchAccuracy).toBe(ours.decomposedAccuracy);

    await cli("export", "--model", "resnet20", "--indices", map, "--format", "onnx", "--out", at("decomposed.onnx"));
    expect(oracle("onnx", at("decomposed.onnx"))).toEqual({ checked: true, opset: 13 });
    const runtime = await cli("eval", "--model", at("decomposed.onnx"), "--norm", "cifar", "--limit", String(count));
    expect(runtime.accuracy).toBe(ours.decomposedAccuracy);
    // The imported decomposed model decomposes again to itself: its final layer is zero outside the sets.
    const again = await cli("eval", "--model", at("decomposed.onnx"), "--norm", "cifar", "--limit", String(count), "--indices", map);
    expect(again.decomposedAccuracy).toBe(ours.decomposedAccuracy);
  }, 300_000);

  it("edits an imported graph's own weight, and refuses what it cannot write, before any work", async () => {
    const out = await cli("export", "--model", onnx, "--indices", map, "--out", at("imported-decomposed.onnx"));
    expect(out.keptWeights).toBe(50);
    expect(oracle("onnx", at("imported-decomposed.onnx")).checked).toBe(true);
    const viaImport = await cli("eval", "--model", at("imported-decomposed.onnx"), "--norm", "cifar", "--limit", "2000");
    const viaDescription = await cli("eval", "--model", at("decomposed.onnx"), "--norm", "cifar", "--limit", "2000");
    expect(viaImport.accuracy).toBe(viaDescription.accuracy);

    const refusals: [string[], RegExp][] = [
      [["--model", onnx, "--format", "pth", "--out", at("x.pth")], /--format pth needs a registry model: .*resnet20\.onnx was imported from ONNX/],
      [["--model", "resnet20", "--format", "tflite", "--out", at("x")], /--format must be one of onnx, pth, tfjs, got 'tflite'/],
      [["--model", "resnet20", "--out", at("no/such/dir/x.onnx")], /the folder .*no\/such\/dir does not exist/],
      [["--model", "resnet20", "--indices", at("absent.json"), "--out", at("x.onnx")], /--indices .*absent\.json: cannot read it/],
    ];
    for (const [argv, message] of refusals) {
      const r = await runCli("export", ...argv);
      expect({ argv, code: r.code, stderr: r.stderr }).toEqual({ argv, code: 1, stderr: expect.stringMatching(message) });
    }
    expect(fs.existsSync(at("x.pth")) || fs.existsSync(at("x.onnx")) || fs.existsSync(at("x"))).toBe(false);
  }, 300_000);
});
