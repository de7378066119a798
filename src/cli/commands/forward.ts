/** `decomp forward`: a model on a user's .npy batch, logits and pooled features back as .npy. */
import * as fs from "node:fs";
import * as path from "node:path";
import { writeFileAtomic } from "../../artifacts/atomic-write";
import { decodeNpy, encodeNpy } from "../../data/npy";
import { checkBatchShape, forwardBatch } from "../../features/extract";
import { importOnnx, isOnnxFile } from "../../models/import/onnx-model";
import { isTfjsFile } from "../../models/import/tfjs-model";
import { checkModelName, isModelFile, loadAnyModel, modelName, openEngine } from "../../models/load";
import { modelEntry } from "../../models/registry";
import { type Command, intOption } from "../command";
import { stderrProgress } from "../progress";
import { MODEL_OPTIONS } from "./model-options";

export const forwardCommand: Command = {
  name: "forward",
  summary:
    "Run a model on a float32 NCHW batch saved with numpy.save (already normalised, as a PyTorch model takes it) and write logits.npy (N x classes) and features.npy (N x feature width, the pooled penultimate features), to compare with your own PyTorch in two lines.",
  options: {
    model: MODEL_OPTIONS.model,
    weights: MODEL_OPTIONS.weights,
    input: { type: "string", valueName: "X.npy", description: "the batch, shape (N, 3, S, S) with S the model's input side (32 for the CIFAR ResNets; 224, 240, 288 or 300 as torchvision's presets, or any side the network takes), float32 (other real dtypes are converted); for an imported ONNX model, in the layout its graph takes (NCHW, or NHWC (N, S, S, 3)); for a TF.js model NHWC" },
    out: { type: "string", valueName: "DIR", description: "folder for logits.npy and features.npy (created if absent)" },
    "batch-size": MODEL_OPTIONS["batch-size"],
  },
  async run(values, _positionals, ctx) {
    const name = String(values.model);
    checkModelName(name);
    if (typeof values.input !== "string") throw new Error("--input X.npy is required: a float32 NCHW batch written with numpy.save");
    if (typeof values.out !== "string") throw new Error("--out DIR is required: the folder for logits.npy and features.npy");
    const outDir = values.out;
    if (fs.existsSync(outDir) && !fs.statSync(outDir).isDirectory()) throw new Error(`--out ${outDir} is a file; give a folder`);
    if (!fs.existsSync(values.input)) throw new Error(`--input ${values.input} does not exist`);
    const input = decodeNpy(new Uint8Array(fs.readFileSync(values.input)), values.input);
    const batchSize = intOption(values, "batch-size", 1, 4096);
    const weights = typeof values.weights === "string" ? values.weights : undefined;
    // The description is built for the batch's own (square) side, so a model runs at 224, 300 or any size it can;
    // an imported graph takes the layout and size it declares.
    // A TF.js model takes NHWC, as Keras; an ONNX graph the layout it declares.
    const layout = isTfjsFile(name) ? "nhwc" : isOnnxFile(name) ? importOnnx(name, { inputSize: squareSide(input.shape, "nchw") ?? squareSide(input.shape, "nhwc") }).input.layout : "nchw";
    const side = squareSide(input.shape, layout);
    if (!isModelFile(name)) checkBatchShape(modelEntry(name).buildSpec(undefined, side), input.shape);
    const model = await loadAnyModel(name, { weights, inputSize: side, onProgress: stderrProgress() });
    for (const warning of model.kind === "imported" ? model.warnings : []) console.error(`decomp: warning: ${warning}`);
    const engine = await openEngine(model);
    let result;
    try {
      result = await forwardBatch(engine, input, layout, batchSize, stderrProgress());
    } finally {
      engine.dispose();
    }
    const { spec } = model;
    const n = input.shape[0];
    fs.mkdirSync(outDir, { recursive: true });
    const logitsFile = path.join(outDir, "logits.npy");
    const featuresFile = path.join(outDir, "features.npy");
    await writeFileAtomic(logitsFile, [encodeNpy({ shape: [n, spec.classes], data: result.logits })]);
    await writeFileAtomic(featuresFile, [encodeNpy({ shape: [n, spec.featureWidth], data: result.features })]);
    ctx.log(`${modelName(model)} (${engine.backend}${weights !== undefined ? `, weights ${weights}` : ""}): ${n} image(s) -> ${logitsFile} (${n} x ${spec.classes}), ${featuresFile} (${n} x ${spec.featureWidth})`);
    return { model: modelName(model), backend: engine.backend, weights: weights ?? null, images: n, logits: logitsFile, features: featuresFile, warnings: model.kind === "imported" ? model.warnings : [] };
  },
};

/** The side of a batch of square images in the given layout; other shapes are left for checkBatchShape to explain. */
function squareSide(shape: number[], layout: "nchw" | "nhwc"): number | undefined {
  if (shape.length !== 4) return undefined;
  const [h, w] = layout === "nchw" ? [shape[2], shape[3]] : [shape[1], shape[2]];
  return h === w && h > 0 ? h : undefined;
}
