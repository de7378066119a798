/** `decomp export`: the decomposed network (or the network as it is) written out as ONNX, or as a PyTorch state dict. */
import * as fs from "node:fs";
import * as path from "node:path";
import { CIFAR10_CLASSES } from "../../data";
import { EXPORT_FORMATS, type ExportFormat, writeDecomposedModel } from "../../models/export";
import { isOnnxFile } from "../../models/import/onnx-model";
import { isTfjsFile } from "../../models/import/tfjs-model";
import { checkModelName, loadAnyModel, modelName } from "../../models/load";
import type { Command } from "../command";
import { stderrProgress } from "../progress";
import { readIndexMapFile } from "./index-map-file";
import { MODEL_OPTIONS } from "./model-options";

export const exportCommand: Command = {
  name: "export",
  summary:
    "Write the decomposed network: each class's row of the final layer kept on its influential set (--indices, the map decomp select --out wrote) and zero elsewhere; without --indices the network as it is. --format onnx runs in any ONNX runtime (NCHW input, dynamic batch); --format pth is a PyTorch state dict that load_state_dict takes with strict key checking (registry models); --format tfjs writes a TF.js LayersModel (models imported from one).",
  options: {
    model: MODEL_OPTIONS.model,
    weights: MODEL_OPTIONS.weights,
    indices: { type: "string", valueName: "FILE", description: "index map ({\"<class>\": [indices...]}) whose sets the final layer keeps" },
    format: { type: "string", valueName: "FORMAT", description: `${EXPORT_FORMATS.join(" | ")} (default: onnx, or tfjs for a TF.js model)` },
    out: { type: "string", valueName: "FILE", description: "the file to write (written whole or not at all)" },
  },
  async run(values, _positionals, ctx) {
    const name = String(values.model);
    checkModelName(name);
    const format = String(values.format ?? (isTfjsFile(name) ? "tfjs" : "onnx")) as ExportFormat;
    if (!(EXPORT_FORMATS as readonly string[]).includes(format)) throw new Error(`--format must be one of ${EXPORT_FORMATS.join(", ")}, got '${format}'`);
    if (format === "pth" && isOnnxFile(name)) throw new Error(`--format pth needs a registry model: ${name} was imported from ONNX and goes back out as ONNX only (--format onnx)`);
    if (typeof values.out !== "string") throw new Error("--out FILE is required");
    const out = values.out;
    const dir = path.dirname(path.resolve(out));
    if (!fs.existsSync(dir)) throw new Error(`--out ${out}: the folder ${dir} does not exist; create it or choose another path`);
    if (fs.existsSync(out) && fs.statSync(out).isDirectory()) throw new Error(`--out ${out} is a folder; give a file name`);
    const model = await loadAnyModel(name, { weights: typeof values.weights === "string" ? values.weights : undefined, onProgress: stderrProgress() });
    const shape = { classes: model.spec.classes, features: model.spec.featureWidth };
    const sets = typeof values.indices === "string" ? readIndexMapFile(values.indices, shape, shape.classes === CIFAR10_CLASSES.length ? CIFAR10_CLASSES : []) : null;
    const bytes = await writeDecomposedModel(model, sets, format, out);
    const kept = sets === null ? shape.features * shape.classes : sets.reduce((n, s) => n + s.length, 0);
    ctx.log(`${modelName(model)}${sets === null ? "" : `, decomposed by ${values.indices}`} -> ${out} (${format}, ${bytes} bytes; final layer keeps ${kept} of ${shape.classes * shape.features} weights)`);
    return { model: modelName(model), format, out: path.resolve(out), bytes, indices: values.indices ?? null, keptWeights: kept, classes: shape.classes, featureWidth: shape.features };
  },
};
