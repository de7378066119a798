/** `decomp forward`: a model on a user's .npy batch, logits and pooled features back as .npy. */
import * as fs from "node:fs";
import * as path from "node:path";
import { writeFileAtomic } from "../../artifacts/atomic-write";
import { decodeNpy, encodeNpy } from "../../data/npy";
import { checkNchwShape, forwardNchw } from "../../features/extract";
import { createEngine } from "../../models/engines";
import { loadPretrained } from "../../models/pretrained";
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
    input: { type: "string", valueName: "X.npy", description: "the batch, shape (N, 3, S, S) with S the model's input side (32 for the CIFAR ResNets; 224, 240, 288 or 300 as torchvision's presets, or any side the network takes), float32 (other real dtypes are converted)" },
    out: { type: "string", valueName: "DIR", description: "folder for logits.npy and features.npy (created if absent)" },
    "batch-size": MODEL_OPTIONS["batch-size"],
  },
  async run(values, _positionals, ctx) {
    const entry = modelEntry(String(values.model));
    if (typeof values.input !== "string") throw new Error("--input X.npy is required: a float32 NCHW batch written with numpy.save");
    if (typeof values.out !== "string") throw new Error("--out DIR is required: the folder for logits.npy and features.npy");
    const outDir = values.out;
    if (fs.existsSync(outDir) && !fs.statSync(outDir).isDirectory()) throw new Error(`--out ${outDir} is a file; give a folder`);
    if (!fs.existsSync(values.input)) throw new Error(`--input ${values.input} does not exist`);
    const input = decodeNpy(new Uint8Array(fs.readFileSync(values.input)), values.input);
    // The description is built for the batch's own (square) side, so a model runs at 224, 300 or any size it can.
    checkNchwShape(entry.buildSpec(undefined, squareSide(input.shape)), input.shape);
    const batchSize = intOption(values, "batch-size", 1, 4096);
    const { spec, stateDict } = await loadPretrained(entry.name, {
      weights: typeof values.weights === "string" ? values.weights : undefined,
      inputSize: input.shape[2],
      onProgress: stderrProgress(),
    });
    const engine = await createEngine(spec, stateDict);
    let result;
    try {
      result = await forwardNchw(engine, input, batchSize, stderrProgress());
    } finally {
      engine.dispose();
    }
    const n = input.shape[0];
    fs.mkdirSync(outDir, { recursive: true });
    const logitsFile = path.join(outDir, "logits.npy");
    const featuresFile = path.join(outDir, "features.npy");
    await writeFileAtomic(logitsFile, [encodeNpy({ shape: [n, spec.classes], data: result.logits })]);
    await writeFileAtomic(featuresFile, [encodeNpy({ shape: [n, spec.featureWidth], data: result.features })]);
    ctx.log(`${entry.name} (${engine.backend}${typeof values.weights === "string" ? `, weights ${values.weights}` : ""}): ${n} image(s) -> ${logitsFile} (${n} x ${spec.classes}), ${featuresFile} (${n} x ${spec.featureWidth})`);
    return { model: entry.name, backend: engine.backend, weights: values.weights ?? null, images: n, logits: logitsFile, features: featuresFile };
  },
};

/** The side of an NCHW batch of square images; other shapes are left for checkNchwShape to explain. */
function squareSide(shape: number[]): number | undefined {
  return shape.length === 4 && shape[2] === shape[3] && shape[2] > 0 ? shape[2] : undefined;
}
