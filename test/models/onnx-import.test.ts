/**
 * Importing CNNs the registry does not know, from ONNX files Debian's torch writes at test time
 * (scripts/make-onnx-imports.py: seeded random weights and BatchNorm statistics, opsets 11 and 17, dynamic batch,
 * one model taking NHWC): `decomp forward --model X.onnx` gives torch's logits and the input of its last
 * nn.Linear within 1e-4 of their largest magnitude, the same argmax; a convolutional classifier is refused with its
 * reason; features that can be negative warn. And the rules that find the head, on small hand-built graphs.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { decodeNpy } from "../../src/data/npy";
import { importOnnx, openImportedEngine } from "../../src/models/import/onnx-model";
import { encodeOnnxModel, OnnxDataType, type OnnxNode, type OnnxTensor } from "../../src/models/onnx-proto";
import { runCli } from "../cli/run-cli";

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "decomp-onnx-import-"));
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));
const fixtures = path.join(scratch, "models");

const MODELS = [
  "mobilenet_v2-opset17", "mobilenet_v2-opset11", "mobilenet_v3_large-opset11", "resnext50_32x4d-opset17", "regnet_y_400mf-opset17",
  "shufflenet_v2_x1_0-opset11", "mnasnet1_0-opset17", "googlenet-opset11", "vgg11_bn-opset17", "convnext_tiny-opset17", "resnet18-opset17-nhwc",
];

beforeAll(() => {
  const specs = MODELS.map((m) => m.replace(/-opset(\d+)/, ":$1").replace(/-nhwc$/, ":nhwc").replace(/^(vgg11_bn:17)$/, "$1@224"));
  execFileSync("/usr/bin/python3", [path.join(__dirname, "..", "..", "scripts", "make-onnx-imports.py"), fixtures, "96", ...specs, "squeezenet1_0:17"], { stdio: ["ignore", "ignore", "pipe"] });
}, 600_000);

const npy = (file: string) => decodeNpy(new Uint8Array(fs.readFileSync(file)), file);
const maxAbs = (a: Float32Array) => a.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
const argmax = (a: Float32Array, rows: number) => Array.from({ length: rows }, (_, i) => {
  const row = Array.from(a.subarray((i * a.length) / rows, ((i + 1) * a.length) / rows));
  return row.indexOf(Math.max(...row));
});

describe("decomp forward on imported ONNX models", () => {
  it.each(MODELS)("%s: torch's logits and features within 1e-4 of their largest magnitude", async (tag) => {
    const out = path.join(scratch, "out", tag);
    const r = await runCli("forward", "--model", path.join(fixtures, `${tag}.onnx`), "--input", path.join(fixtures, `${tag}-input.npy`), "--out", out, "--json");
    expect({ code: r.code, stderr: r.code === 0 ? "" : r.stderr }).toEqual({ code: 0, stderr: "" });
    const warned = JSON.parse(r.stdout).warnings as string[];
    // ConvNeXt's head is a LayerNorm, MobileNetV3's a Hardswish after a first Linear: their features can be negative.
    expect({ tag, warned: warned.length > 0 }).toEqual({ tag, warned: /convnext|mobilenet_v3/.test(tag) });
    for (const what of ["logits", "features"]) {
      const ours = npy(path.join(out, `${what}.npy`));
      const theirs = npy(path.join(fixtures, `${tag}-${what}.npy`));
      expect(ours.shape).toEqual(theirs.shape);
      const gap = ours.data.reduce((m, v, i) => Math.max(m, Math.abs(v - theirs.data[i])), 0);
      expect({ tag, what, close: gap <= 1e-4 * maxAbs(theirs.data) }).toEqual({ tag, what, close: true });
    }
    const [ours, theirs] = [npy(path.join(out, "logits.npy")), npy(path.join(fixtures, `${tag}-logits.npy`))];
    expect(argmax(ours.data, 2)).toEqual(argmax(theirs.data, 2));
  }, 120_000);

  it("reads the layout, batch and pooled map from the graph", () => {
    const nhwc = importOnnx(path.join(fixtures, "resnet18-opset17-nhwc.onnx"));
    expect([nhwc.input.layout, nhwc.input.batch, nhwc.spec.inputShape, nhwc.spec.featureWidth, nhwc.spec.classes, nhwc.map?.layout]).toEqual(["nhwc", null, [96, 96, 3], 512, 7, "nchw"]);
    const vgg = importOnnx(path.join(fixtures, "vgg11_bn-opset17.onnx"));
    // VGG's features are its second fully connected layer's ReLU: no spatial map behind them.
    expect([vgg.input.layout, vgg.spec.inputShape, vgg.spec.featureWidth, vgg.map, vgg.warnings]).toEqual(["nchw", [224, 224, 3], 4096, null, []]);
    const shuffle = importOnnx(path.join(fixtures, "shufflenet_v2_x1_0-opset11.onnx"));
    expect(shuffle.map?.layout).toBe("nchw");
  });

  it("refuses SqueezeNet's convolutional classifier, saying why, before any work", async () => {
    const r = await runCli("forward", "--model", path.join(fixtures, "squeezenet1_0-opset17.onnx"), "--input", path.join(fixtures, "squeezenet1_0-opset17-input.npy"), "--out", path.join(scratch, "sq"));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/squeezenet1_0-opset17\.onnx has no final linear layer: .* GlobalAveragePool <- Relu <- Conv .*a convolutional classifier, as SqueezeNet's/);
    expect(fs.existsSync(path.join(scratch, "sq"))).toBe(false);
  });

  it("refuses a file that is not ONNX, a truncated one and a batch of the wrong size, naming the file", async () => {
    const notOnnx = path.join(scratch, "notes.onnx");
    fs.writeFileSync(notOnnx, "these are not the weights you are looking for");
    const truncated = path.join(scratch, "truncated.onnx");
    fs.writeFileSync(truncated, fs.readFileSync(path.join(fixtures, "mobilenet_v2-opset17.onnx")).subarray(0, 100_000));
    const input = path.join(fixtures, "mobilenet_v2-opset17-input.npy");
    for (const [file, message] of [[notOnnx, "is not an ONNX model"], [truncated, "is not an ONNX model"]]) {
      const r = await runCli("forward", "--model", file, "--input", input, "--out", path.join(scratch, "x"));
      expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 1, stderr: expect.stringContaining(`${file} ${message}`) });
    }
    const wrongSize = await runCli("forward", "--model", path.join(fixtures, "vgg11_bn-opset17.onnx"), "--input", input, "--out", path.join(scratch, "x"));
    expect(wrongSize.stderr).toMatch(/vgg11_bn-opset17\.onnx takes 224 x 224 images but the preprocessing gives 96 x 96/);
  });
});

// Small graphs written here: a 2 x 2 input, a flatten, a head of 3 classes over 4 features, and what follows it.
function headGraph(head: OnnxNode[], initializers: OnnxTensor[], output = "scores", batch: number | string = "n"): Uint8Array {
  return encodeOnnxModel({
    producerName: "test", producerVersion: "0", opsetVersion: 13,
    graph: {
      name: "g",
      nodes: [{ opType: "Relu", inputs: ["images"], outputs: ["act"] }, { opType: "GlobalAveragePool", inputs: ["act"], outputs: ["pooled"] }, { opType: "Flatten", inputs: ["pooled"], outputs: ["features"] }, ...head],
      initializers,
      inputs: [{ name: "images", elemType: OnnxDataType.FLOAT, shape: [batch, 3, 2, 2] }],
      outputs: [{ name: output, elemType: OnnxDataType.FLOAT, shape: [batch, 3] }],
    },
  });
}

describe("finding the final linear layer", () => {
  // features are 3 channels here; the head maps them to 3 classes.
  const w = Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9]);
  const write = (name: string, bytes: Uint8Array) => {
    const file = path.join(scratch, name);
    fs.writeFileSync(file, bytes);
    return file;
  };

  it("reads W and b from Gemm (either transB), MatMul + Add, behind Softmax", () => {
    const transB = importOnnx(write("gemm-t.onnx", headGraph([{ opType: "Gemm", inputs: ["features", "W", "b"], outputs: ["scores"], attributes: { transB: 1, alpha: { float: 2 } } }], [{ name: "W", dims: [3, 3], data: w }, { name: "b", dims: [3], data: Float32Array.of(1, 0, -1) }])));
    expect([Array.from(transB.finalLayer.weight), Array.from(transB.finalLayer.bias)]).toEqual([Array.from(w, (v) => 2 * v), [1, 0, -1]]);
    expect(transB.outputs).toEqual({ features: "features", logits: "scores", map: "act" });
    const plain = importOnnx(write("gemm.onnx", headGraph([{ opType: "Gemm", inputs: ["features", "W"], outputs: ["scores"] }], [{ name: "W", dims: [3, 3], data: w }])));
    // Without transB the weight is stored [features, classes]: W[y, j] = B[j, y].
    expect(Array.from(plain.finalLayer.weight)).toEqual([1, 4, 7, 2, 5, 8, 3, 6, 9]);
    const matmul = importOnnx(write("matmul.onnx", headGraph([
      { opType: "MatMul", inputs: ["features", "W"], outputs: ["mm"] }, { opType: "Add", inputs: ["b", "mm"], outputs: ["logits"] }, { opType: "Softmax", inputs: ["logits"], outputs: ["scores"] },
    ], [{ name: "W", dims: [3, 3], data: w }, { name: "b", dims: [3], data: Float32Array.of(5, 6, 7) }])));
    expect([Array.from(matmul.finalLayer.weight), Array.from(matmul.finalLayer.bias), matmul.outputs.logits]).toEqual([[1, 4, 7, 2, 5, 8, 3, 6, 9], [5, 6, 7], "logits"]);
    expect(matmul.warnings).toEqual([]);
  });

  it("runs a graph exported with a fixed batch in slices of that size, the last one padded", async () => {
    const fixed = importOnnx(write("fixed.onnx", headGraph([{ opType: "Gemm", inputs: ["features", "W", "b"], outputs: ["scores"], attributes: { transB: 1 } }], [{ name: "W", dims: [3, 3], data: w }, { name: "b", dims: [3], data: Float32Array.of(1, 2, 3) }], "scores", 2)));
    expect(fixed.input.batch).toBe(2);
    const engine = await openImportedEngine(fixed);
    // Five NHWC images of 2 x 2 pixels: image i has every value i - 1, so its pooled features are relu(i - 1).
    const images = Float32Array.from({ length: 5 * 12 }, (_, k) => Math.floor(k / 12) - 1);
    const out = await engine.forward(images, 5);
    engine.dispose();
    const f = [0, 0, 1, 2, 3];
    expect(Array.from(out.features)).toEqual(f.flatMap((v) => [v, v, v]));
    expect(Array.from(out.logits)).toEqual(f.flatMap((v) => [6 * v + 1, 15 * v + 2, 24 * v + 3]));
  });

  it("refuses a head that is not linear and warns on features that can be negative", () => {
    const conv = write("conv.onnx", headGraph([{ opType: "Conv", inputs: ["features", "W"], outputs: ["scores"] }], [{ name: "W", dims: [3, 3, 1, 1], data: w }]));
    expect(() => importOnnx(conv)).toThrow(`${conv} has no final linear layer: its output scores comes from Conv <- Flatten <- GlobalAveragePool <- Relu (a convolutional classifier`);
    const tanh = write("tanh.onnx", headGraph([{ opType: "Tanh", inputs: ["features"], outputs: ["t"] }, { opType: "Gemm", inputs: ["t", "W"], outputs: ["scores"], attributes: { transB: 1 } }], [{ name: "W", dims: [3, 3], data: w }]));
    expect(importOnnx(tanh, { inputSize: 2 }).warnings).toEqual([expect.stringMatching(/the penultimate features come from Tanh, which can be negative; Algorithm 1 .* assumes they are non-negative/)]);
  });
});
