/**
 * The trainable state of a ResNet (CIFAR's or torchvision's) as plain typed arrays in PyTorch state-dict naming and layout, so the
 * optimiser, checkpoints and the saved model never depend on which tensor engine computed the gradients.
 */
import type { IndexSets, LinearLayer } from "../method";
import type { BatchNormLayer, ModelSpec } from "../models/spec";
import type { StateDict } from "../torch";

/** BatchNorm's running statistics: updated from batch statistics, never by the optimiser. */
export const BN_MOMENTUM = 0.1;

/** The layer types the training steps (ONNX graph and TF.js) differentiate. */
const TRAINABLE_OPS = new Set(["conv2d", "batchnorm", "relu", "add", "shortcutA", "maxpool", "globalAvgPool", "linear"]);

/** Refuses a model whose layers the training steps cannot differentiate, naming the first such layer. */
export function checkTrainable(spec: ModelSpec): void {
  const other = spec.layers.find((l) => !TRAINABLE_OPS.has(l.op));
  if (other !== undefined) {
    throw new Error(`${spec.name} has a '${other.op}' layer (output '${other.output}'), which training does not support yet; training runs on models built from ${[...TRAINABLE_OPS].join(", ")}`);
  }
  const conv = spec.layers.find((l) => l.op === "conv2d" && ((l.groups ?? 1) !== 1 || l.bias !== undefined));
  if (conv !== undefined) throw new Error(`${spec.name}: the convolution '${conv.output}' has groups or a bias, which training does not support yet`);
  const pool = spec.layers.find((l) => l.op === "globalAvgPool" && l.keepDims);
  if (pool !== undefined) throw new Error(`${spec.name}: the pooling '${pool.output}' keeps its spatial axes, which training does not support yet`);
}

/** Names of the parameters the optimiser updates, in spec order (conv weights, BN affine, linear). */
export function trainableNames(spec: ModelSpec): string[] {
  const names: string[] = [];
  for (const layer of spec.layers) {
    if (layer.op === "conv2d") names.push(layer.weight);
    else if (layer.op === "batchnorm") names.push(`${layer.param}.weight`, `${layer.param}.bias`);
    else if (layer.op === "linear") names.push(`${layer.param}.weight`, `${layer.param}.bias`);
  }
  return names;
}

export function batchNormLayers(spec: ModelSpec): BatchNormLayer[] {
  return spec.layers.filter((l): l is BatchNormLayer => l.op === "batchnorm");
}

function linearParam(spec: ModelSpec): string {
  const linear = spec.layers.find((l) => l.op === "linear");
  if (linear === undefined || linear.op !== "linear") throw new Error(`${spec.name} has no linear layer to decompose`);
  return linear.param;
}

export const headWeightName = (spec: ModelSpec): string => `${linearParam(spec)}.weight`;
export const headBiasName = (spec: ModelSpec): string => `${linearParam(spec)}.bias`;

/** The gate rows a step was given, checked against what its engine was built for. */
export function checkGate(spec: ModelSpec, gated: boolean, gate: Float32Array | undefined, count: number): Float32Array | undefined {
  if (!gated) {
    if (gate !== undefined) throw new Error(`this training engine was created without gates; create it with { gated: true } to pass gate rows`);
    return undefined;
  }
  if (gate === undefined) throw new Error(`this gated training engine needs each image's gate row (${count} x ${spec.featureWidth} values)`);
  if (gate.length !== count * spec.featureWidth) throw new Error(`gate rows: expected ${count} x ${spec.featureWidth} values, got ${gate.length}`);
  return gate;
}

/** The final layer of a state dict in the method's terms (views of its arrays, not copies). */
export function headLayer(spec: ModelSpec, stateDict: StateDict): LinearLayer {
  const w = stateDict.get(headWeightName(spec));
  const b = stateDict.get(headBiasName(spec));
  if (w === undefined || b === undefined) throw new Error(`the state dict has no '${headWeightName(spec)}' / '${headBiasName(spec)}' for ${spec.name}'s final layer`);
  return { weight: w.data, bias: b.data, classes: spec.classes, features: spec.featureWidth };
}

/** classes x features 0/1 mask: row y is 1 exactly on S_y. */
export function headMask(sets: IndexSets, classes: number, features: number): Float32Array {
  if (sets.length !== classes) throw new Error(`need one influential set per class (${classes}), got ${sets.length}`);
  const mask = new Float32Array(classes * features);
  sets.forEach((set, y) => {
    for (const j of set) {
      if (!Number.isInteger(j) || j < 0 || j >= features) throw new Error(`S_${y} holds ${j}, outside 0..${features - 1}`);
      mask[y * features + j] = 1;
    }
  });
  return mask;
}

/** A private copy of every tensor of a state dict, for training to update in place. */
export function copyStateDict(stateDict: StateDict): StateDict {
  return new Map([...stateDict].map(([name, t]) => [name, { shape: [...t.shape], data: new Float32Array(t.data) }]));
}

/**
 * A private copy of the state dict whose final layer is the decomposed one: W[y, j] zeroed for j outside S_y.
 * The mask is also applied in every forward pass, so those weights get zero gradient and stay zero, and any
 * full-layer executor loading this state dict computes exactly the decomposed logits.
 */
export function decomposedStateDict(spec: ModelSpec, stateDict: StateDict, mask: Float32Array): StateDict {
  const out = copyStateDict(stateDict);
  const w = out.get(headWeightName(spec));
  if (w === undefined) throw new Error(`state dict has no '${headWeightName(spec)}'`);
  if (w.data.length !== mask.length) throw new Error(`mask has ${mask.length} values, '${headWeightName(spec)}' has ${w.data.length}`);
  for (let i = 0; i < mask.length; i++) w.data[i] *= mask[i];
  return out;
}

/**
 * PyTorch's running-statistics update: running = (1 - momentum) running + momentum batch, where the variance
 * fed in is the unbiased one (n / (n - 1) times the biased batch variance used in the forward).
 */
export function updateRunningStats(
  runningMean: Float32Array,
  runningVar: Float32Array,
  batchMean: Float32Array,
  batchVar: Float32Array,
  n: number,
  momentum = BN_MOMENTUM,
): void {
  const unbias = n > 1 ? n / (n - 1) : 1;
  for (let c = 0; c < runningMean.length; c++) {
    runningMean[c] = (1 - momentum) * runningMean[c] + momentum * batchMean[c];
    runningVar[c] = (1 - momentum) * runningVar[c] + momentum * batchVar[c] * unbias;
  }
}
