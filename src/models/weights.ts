/**
 * Weights for a model: a PyTorch checkpoint (zip or legacy serialisation) or a decomp tensor file (a fine-tuned
 * or CSG-trained model), checked against the model description before any executor is built, so a wrong file
 * fails naming the file and the first missing, unexpected or mis-shaped key.
 */
import * as fs from "node:fs";
import { createHash } from "node:crypto";
import { decodeTensorFile, isTensorFileBytes } from "../artifacts/tensor-file";
import { readTorchCheckpoint, type StateDict } from "../torch";
import { convWeightShape, type ModelSpec } from "./spec";

/** Every state-dict entry the spec reads, with its PyTorch shape. */
export function expectedShapes(spec: ModelSpec): Map<string, number[]> {
  const shapes = new Map<string, number[]>();
  for (const l of spec.layers) {
    if (l.op === "conv2d") {
      shapes.set(l.weight, convWeightShape(l));
      if (l.bias !== undefined) shapes.set(l.bias, [l.outChannels]);
    } else if (l.op === "batchnorm") for (const p of ["weight", "bias", "running_mean", "running_var"]) shapes.set(`${l.param}.${p}`, [l.channels]);
    else if (l.op === "linear") {
      shapes.set(`${l.param}.weight`, [l.outFeatures, l.inFeatures]);
      shapes.set(`${l.param}.bias`, [l.outFeatures]);
    }
  }
  return shapes;
}

/** BatchNorm's step counter: saved by PyTorch, read by no executor. */
const IGNORED = /\.num_batches_tracked$/;

export function checkStateDict(spec: ModelSpec, stateDict: StateDict, file: string): void {
  const expected = expectedShapes(spec);
  for (const [name, shape] of expected) {
    const t = stateDict.get(name);
    if (t === undefined) throw new Error(`${file} has no '${name}' (shape [${shape.join(", ")}]), which ${spec.name} needs; is it a ${spec.name} checkpoint?`);
    const size = shape.reduce((a, b) => a * b, 1);
    const sameShape = t.shape.length === shape.length && t.shape.every((d, i) => d === shape[i]);
    if (!sameShape || t.data.length !== size) {
      throw new Error(`${file}: '${name}' has shape [${t.shape.join(", ")}] but ${spec.name} needs [${shape.join(", ")}]; is it a ${spec.name} checkpoint?`);
    }
  }
  for (const name of stateDict.keys()) {
    if (!expected.has(name) && !IGNORED.test(name)) throw new Error(`${file} has '${name}', which ${spec.name} does not have; is it a ${spec.name} checkpoint?`);
  }
}

/**
 * Reads `file` as a decomp tensor file or a PyTorch checkpoint, and the sha256 of its bytes (read once for both);
 * a missing, truncated or foreign file fails naming it. The keys are checked later, against the description the
 * final layer's shape decides.
 */
export async function readWeights(file: string): Promise<{ stateDict: StateDict; sha256: string }> {
  if (!fs.existsSync(file)) throw new Error(`weights file ${file} does not exist`);
  const bytes = new Uint8Array(await fs.promises.readFile(file));
  const sha256 = createHash("sha256").update(bytes).digest("hex");
  try {
    const stateDict = isTensorFileBytes(bytes) ? decodeTensorFile(bytes, file).tensors : readTorchCheckpoint(bytes).stateDict;
    return { stateDict, sha256 };
  } catch (err) {
    throw new Error(`${file} is not a readable checkpoint (${(err as Error).message}); is the file complete? A truncated download fails this way: fetch it again`);
  }
}
