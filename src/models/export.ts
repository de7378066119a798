/**
 * The decomposed network taken back out: every class's row of the final layer kept on its influential set S_y
 * and zero elsewhere, as an ONNX model any runtime runs (registry models from their description, NCHW input and a
 * dynamic batch; imported ONNX models as their own graph with the weight edited), as a TF.js LayersModel for
 * models imported from one, or, for registry models, as a PyTorch state dict that loads with strict key checking
 * into the architecture it came from.
 */
import type { onnx } from "onnx-proto";
import type { IndexSets } from "../method";
import { encodeTorchStateDict } from "../torch/save";
import { headMask } from "../training/params";
import type { StateDict } from "../torch";
import type { ImportedOnnxModel } from "./import/onnx-model";
import { writeDecomposedTfjs } from "./import/tfjs-model";
import { writeFileAtomic } from "../artifacts/atomic-write";
import type { LoadedModel } from "./load";
import { exportOnnxModel } from "./onnx-export";
import { encodeModelProto } from "./onnx-proto";
import type { Pretrained } from "./pretrained";

export const EXPORT_FORMATS = ["onnx", "pth", "tfjs"] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** The registry model's state dict with the head masked to the sets (all of it kept when sets is null). */
function maskedStateDict(model: Pretrained, sets: IndexSets | null): StateDict {
  if (sets === null) return model.stateDict;
  const { classes, featureWidth } = model.spec;
  const mask = headMask(sets, classes, featureWidth);
  const head = `${model.entry.headParam}.weight`;
  const out: StateDict = new Map(model.stateDict);
  const w = model.stateDict.get(head)!;
  out.set(head, { shape: w.shape, data: Float32Array.from(w.data, (v, i) => v * mask[i]) });
  return out;
}

/** The imported graph as it was read, with its weight constant zero outside each class's set. */
function maskedImport(model: ImportedOnnxModel, sets: IndexSets | null): Uint8Array {
  const proto = model.proto;
  if (sets === null) return encodeModelProto(proto);
  const { classes, featureWidth } = model.spec;
  const mask = headMask(sets, classes, featureWidth);
  const { name, classesFirst } = model.weightTensor;
  const initializer = (proto.graph!.initializer ?? []).find((t) => t.name === name);
  if (initializer === undefined || initializer.dataType !== 1) {
    throw new Error(`${model.file}: the final layer's weight ${name} is not a float32 initializer, so decomp cannot edit it; re-export the model with constant folding`);
  }
  const values = new Float32Array(classes * featureWidth);
  const raw = initializer.rawData !== null && initializer.rawData !== undefined && initializer.rawData.length > 0;
  const view = raw ? new DataView(initializer.rawData!.buffer, initializer.rawData!.byteOffset, initializer.rawData!.byteLength) : null;
  for (let i = 0; i < values.length; i++) values[i] = view !== null ? view.getFloat32(4 * i, true) : initializer.floatData![i];
  for (let y = 0; y < classes; y++) {
    for (let j = 0; j < featureWidth; j++) if (mask[y * featureWidth + j] === 0) values[classesFirst ? y * featureWidth + j : j * classes + y] = 0;
  }
  const rawData = new Uint8Array(values.length * 4);
  const out = new DataView(rawData.buffer);
  values.forEach((v, i) => out.setFloat32(4 * i, v, true));
  const edited: onnx.ITensorProto = { ...initializer, rawData, floatData: [] };
  const graph = { ...proto.graph!, initializer: proto.graph!.initializer!.map((t) => (t === initializer ? edited : t)) };
  return encodeModelProto({ ...proto, graph });
}

/** The formats a model goes out in: its own kind (ONNX or TF.js) for an imported one; ONNX or PyTorch for a registry one. */
export function exportFormats(model: LoadedModel): ExportFormat[] {
  if (model.kind === "registry") return ["onnx", "pth"];
  return [model.format];
}

/**
 * Writes the decomposed model (`sets` null: the network as it is) in the format asked for, whole or not at all
 * (a TF.js model is `file` and a weights file beside it); returns the bytes written.
 */
export async function writeDecomposedModel(model: LoadedModel, sets: IndexSets | null, format: ExportFormat, file: string): Promise<number> {
  const allowed = exportFormats(model);
  if (!allowed.includes(format)) {
    throw new Error(`${model.checkpointPath} goes out as ${allowed.join(" or ")} (--format ${allowed.join("|")}): ${model.kind === "imported" ? `it was imported as ${model.format}, and decomp knows no other description of it` : "a registry model"}`);
  }
  if (model.kind === "imported" && model.format === "tfjs") return writeDecomposedTfjs(model, sets, file);
  const bytes = model.kind === "imported" ? maskedImport(model, sets) : format === "onnx" ? exportOnnxModel(model.spec, maskedStateDict(model, sets), { inputLayout: "nchw" }) : encodeTorchStateDict(maskedStateDict(model, sets), model.entry.name);
  await writeFileAtomic(file, [bytes]);
  return bytes.length;
}
