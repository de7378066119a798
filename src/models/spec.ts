/**
 * The one model description: typed layers over named tensors, with parameters named by their PyTorch state-dict
 * keys so weights bind by name. Every family (src/models/families/) builds one, and every executor (TF.js, ONNX
 * Runtime's inference and training graphs, the float64 test reference) runs one; models imported as files
 * (src/models/import/) run as their own graphs instead.
 */

/** A named activation tensor flowing between layers (NHWC in every executor of this project). */
export type TensorName = string;

export interface Conv2dLayer {
  op: "conv2d";
  input: TensorName;
  output: TensorName;
  /** State-dict key of the PyTorch weight, shape [outChannels, inChannels / groups, kernel, kernel]. */
  weight: string;
  /** State-dict key of the bias [outChannels], if the convolution has one. */
  bias?: string;
  inChannels: number;
  outChannels: number;
  kernel: number;
  stride: number;
  /** Explicit zero padding on every side, as PyTorch's `padding=1` (TF's 'same' differs for stride 2). */
  pad: number;
  /** Channel groups (default 1); groups = inChannels = outChannels is a depthwise convolution. */
  groups?: number;
}

export interface BatchNormLayer {
  op: "batchnorm";
  input: TensorName;
  output: TensorName;
  /** Prefix of `<prefix>.weight`, `.bias`, `.running_mean`, `.running_var` in the state dict. */
  param: string;
  channels: number;
  eps: number;
}

export interface ReluLayer {
  op: "relu";
  input: TensorName;
  output: TensorName;
}

/** x * sigmoid(x) (PyTorch's SiLU, EfficientNet's activation). */
export interface SiluLayer {
  op: "silu";
  input: TensorName;
  output: TensorName;
}

export interface SigmoidLayer {
  op: "sigmoid";
  input: TensorName;
  output: TensorName;
}

/** Elementwise product, the second input broadcast over space ([N, 1, 1, C] scales, squeeze-excitation). */
export interface MulLayer {
  op: "mul";
  inputs: [TensorName, TensorName];
  output: TensorName;
}

export interface AddLayer {
  op: "add";
  inputs: [TensorName, TensorName];
  output: TensorName;
}

/** Option-A shortcut: keep every second pixel in both spatial axes, then zero-pad channels on both sides. */
export interface ShortcutALayer {
  op: "shortcutA";
  input: TensorName;
  output: TensorName;
  stride: number;
  inChannels: number;
  padChannelsEachSide: number;
}

/** Channel concatenation of the inputs, in order (DenseNet's dense connections). */
export interface ConcatLayer {
  op: "concat";
  inputs: TensorName[];
  output: TensorName;
}

/** Average pooling without padding (DenseNet's transitions). */
export interface AvgPoolLayer {
  op: "avgpool";
  input: TensorName;
  output: TensorName;
  kernel: number;
  stride: number;
}

/** Max pooling, padded symmetrically with positions that never win (PyTorch's MaxPool2d pads with -inf). */
export interface MaxPoolLayer {
  op: "maxpool";
  input: TensorName;
  output: TensorName;
  kernel: number;
  stride: number;
  pad: number;
}

export interface GlobalAvgPoolLayer {
  op: "globalAvgPool";
  input: TensorName;
  output: TensorName;
  /** Keep the 1 x 1 spatial axes ([N, 1, 1, C], for squeeze-excitation); default: flatten to [N, C]. */
  keepDims?: boolean;
}

export interface LinearLayerSpec {
  op: "linear";
  input: TensorName;
  output: TensorName;
  /** Prefix of `<prefix>.weight` [out, in] and `<prefix>.bias` [out]. */
  param: string;
  inFeatures: number;
  outFeatures: number;
}

export type Layer =
  | Conv2dLayer
  | BatchNormLayer
  | ReluLayer
  | SiluLayer
  | SigmoidLayer
  | MulLayer
  | AddLayer
  | ShortcutALayer
  | ConcatLayer
  | AvgPoolLayer
  | MaxPoolLayer
  | GlobalAvgPoolLayer
  | LinearLayerSpec;

/** PyTorch's weight shape of a convolution: [out, in / groups, k, k]. */
export function convWeightShape(l: Conv2dLayer): number[] {
  const groups = l.groups ?? 1;
  if (l.inChannels % groups !== 0 || l.outChannels % groups !== 0) throw new Error(`convolution '${l.output}': ${groups} groups do not divide ${l.inChannels} -> ${l.outChannels} channels`);
  return [l.outChannels, l.inChannels / groups, l.kernel, l.kernel];
}

/** The tensors a layer reads. */
export function layerInputs(l: Layer): TensorName[] {
  return l.op === "add" || l.op === "mul" || l.op === "concat" ? [...l.inputs] : [l.input];
}

export interface ModelSpec {
  name: string;
  /** Input tensor name and shape [height, width, channels] of one image. */
  input: TensorName;
  inputShape: [number, number, number];
  /** Layers in execution order; each reads tensors produced earlier (or the input). */
  layers: Layer[];
  /**
   * The pooled penultimate features (m values per image) and the logits; with withStageOutputs, also each
   * named stage's pooled output (pooled width values per image), in the order of `stages`.
   */
  outputs: { features: TensorName; logits: TensorName; stages?: TensorName[] };
  /** The network's stages in depth order (a family that names them), the last one the maps the head pools. */
  stages?: StageSpec[];
  /** Width m of the penultimate features. */
  featureWidth: number;
  classes: number;
}

/** A stage of a network: its name (e.g. `layer2`) and the post-activation maps it ends with. */
export interface StageSpec {
  name: string;
  tensor: TensorName;
  channels: number;
}

/** Appends `relu(y + shortcut)` as `<prefix>:sum` and `<prefix>:out`, a residual block's end; returns its output. */
export function appendResidual(layers: Layer[], y: TensorName, shortcut: TensorName, prefix: string): TensorName {
  layers.push({ op: "add", inputs: [y, shortcut], output: `${prefix}:sum` });
  layers.push({ op: "relu", input: `${prefix}:sum`, output: `${prefix}:out` });
  return `${prefix}:out`;
}

/**
 * Appends the global average pool ("features", the penultimate features the method reads) and the final linear
 * layer ("logits") under the state-dict prefix `param`, and returns the finished description.
 */
export function finishSpec(name: string, inputShape: [number, number, number], layers: Layer[], x: TensorName, param: string, channels: number, classes: number, stages?: StageSpec[]): ModelSpec {
  layers.push({ op: "globalAvgPool", input: x, output: "features" });
  layers.push({ op: "linear", input: "features", output: "logits", param, inFeatures: channels, outFeatures: classes });
  return { name, input: "input", inputShape, layers, outputs: { features: "features", logits: "logits" }, featureWidth: channels, classes, ...(stages === undefined ? {} : { stages }) };
}

/** The named stages of a model, checked: all of them when `names` is absent; an unknown name lists the model's stages. */
export function pickStages(spec: Pick<ModelSpec, "name" | "stages">, names?: readonly string[]): StageSpec[] {
  const stages = spec.stages ?? [];
  if (stages.length === 0) throw new Error(`${spec.name} names no stages (stage features exist for the CIFAR ResNets and torchvision's ResNets and Wide ResNets)`);
  if (names === undefined) return stages;
  if (names.length === 0) throw new Error(`name at least one stage of ${spec.name}: ${stages.map((s) => s.name).join(", ")}`);
  return names.map((n) => {
    const stage = stages.find((s) => s.name === n);
    if (stage === undefined) throw new Error(`${spec.name} has no stage '${n}'; its stages are ${stages.map((s) => s.name).join(", ")}`);
    return stage;
  });
}

/**
 * The description with each named stage's globally average-pooled maps as an extra output (`stage:<name>`), so
 * one forward pass gives every stage. The stage the head pools reads the penultimate features output itself,
 * so its values are those features, bit for bit.
 */
export function withStageOutputs(spec: ModelSpec, names?: readonly string[]): ModelSpec {
  const stages = pickStages(spec, names);
  const last = pooledMapsName(spec);
  const layers = [...spec.layers];
  const outputs = stages.map((s) => {
    if (s.tensor === last) return spec.outputs.features;
    const output = `stage:${s.name}`;
    layers.push({ op: "globalAvgPool", input: s.tensor, output });
    return output;
  });
  return { ...spec, layers, outputs: { ...spec.outputs, stages: outputs } };
}

/** The tensor the global average pool reads: the last block's activation maps (e.g. `layer3.2:out`, 8x8x64). */
export function pooledMapsName(spec: ModelSpec): TensorName {
  const pool = spec.layers.find((l): l is GlobalAvgPoolLayer => l.op === "globalAvgPool" && l.output === spec.outputs.features);
  if (pool === undefined) throw new Error(`${spec.name} has no global average pool producing '${spec.outputs.features}'`);
  return pool.input;
}
