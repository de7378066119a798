/**
 * The decomposed network taken back out: every class's row of the final layer kept on its influential set S_y
 * and zero elsewhere, as an ONNX model any runtime runs (registry models from their description, NCHW input and a
 * dynamic batch; imported models as their own graph with the weight edited), or, for registry models, as a
 * PyTorch state dict that loads with strict key checking into the architecture it came from.
 */
import type { onnx } from "onnx-proto";
import type { IndexSets } from "../method";
import { encodeTorchStateDict } from "../torch/save";
import { headMask } from "../training/params";
import type { StateDict } from "../torch";
import type { ImportedOnnxModel } from "./import/onnx-model";
import type { LoadedModel } from "./load";
import { exportOnnxModel } from "./onnx-export";
import { encodeModelProto } from "./onnx-proto";
import type { Pretrained } from "./pretrained";

export const EXPORT_FORMATS = ["onnx", "pth"] as const;
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

/** The decomposed model's bytes in the format asked for; `sets` null exports the network as it is. */
export function exportDecomposed(model: LoadedModel, sets: IndexSets | null, format: ExportFormat): Uint8Array {
  if (model.kind === "imported") {
    if (format !== "onnx") throw new Error(`${model.file} was imported from ONNX, so it goes back out as ONNX only (--format onnx); decomp knows no PyTorch architecture for it`);
    return maskedImport(model, sets);
  }
  const stateDict = maskedStateDict(model, sets);
  return format === "onnx" ? exportOnnxModel(model.spec, stateDict, { inputLayout: "nchw" }) : encodeTorchStateDict(stateDict, model.entry.name);
}
