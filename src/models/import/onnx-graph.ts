/**
 * Reading a classifier's ONNX graph: where its final linear layer is (Gemm, or MatMul with or without Add,
 * behind any Softmax, Identity, Flatten or Reshape), its weight and bias, the penultimate features it reads,
 * the spatial map a global average pool turned into them, the input's layout and size, and whether the features
 * are sure to be non-negative. Pure functions over the decoded protobuf, so every rule is testable on small graphs.
 */
import type { onnx } from "onnx-proto";
import { halfToFloat } from "../../data/npy";
import { int64 } from "../onnx-proto";

/** Operators that pass a tensor on without changing its values (for the search from an output back to the head). */
const PASS_THROUGH = new Set(["Identity", "Flatten", "Reshape", "Squeeze", "Unsqueeze", "Dropout", "Cast"]);
/** What may follow the final linear layer before the graph output. */
const AFTER_HEAD = new Set([...PASS_THROUGH, "Softmax", "LogSoftmax"]);
/** Operators whose output is non-negative whatever their input. */
const NON_NEGATIVE = new Set(["Relu", "Sigmoid", "Softmax", "Abs", "Exp", "Softplus"]);
/** Operators whose output is non-negative when every data input is. */
const KEEPS_SIGN = new Set([...PASS_THROUGH, "Concat", "MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool", "ReduceMean", "ReduceMax", "Transpose"]);

export interface GraphIndex {
  graph: onnx.IGraphProto;
  /** The node writing each tensor. */
  producer: Map<string, onnx.INodeProto>;
  initializers: Map<string, onnx.ITensorProto>;
}

export function indexGraph(graph: onnx.IGraphProto): GraphIndex {
  const producer = new Map<string, onnx.INodeProto>();
  for (const n of graph.node ?? []) for (const o of n.output ?? []) producer.set(o, n);
  const initializers = new Map((graph.initializer ?? []).map((t) => [t.name ?? "", t] as const));
  return { graph, producer, initializers };
}

export function attribute(node: onnx.INodeProto, name: string): onnx.IAttributeProto | undefined {
  return (node.attribute ?? []).find((a) => a.name === name);
}

const intAttribute = (node: onnx.INodeProto, name: string, fallback: number) => {
  const a = attribute(node, name);
  return a === undefined ? fallback : int64(a.i);
};
const floatAttribute = (node: onnx.INodeProto, name: string, fallback: number) => attribute(node, name)?.f ?? fallback;

/** A tensor's values as float32 (FLOAT, FLOAT16, DOUBLE, INT32, INT64), or an error naming it. */
export function tensorValues(t: onnx.ITensorProto, where: string): { dims: number[]; data: Float32Array } {
  const dims = (t.dims ?? []).map((d) => int64(d));
  const count = dims.reduce((a, b) => a * b, 1);
  if (t.dataLocation === 1) throw new Error(`${where}: tensor ${t.name} keeps its values in an external file; export the model with the weights inside it`);
  const raw = t.rawData !== null && t.rawData !== undefined && t.rawData.length > 0 ? new DataView(t.rawData.buffer, t.rawData.byteOffset, t.rawData.byteLength) : null;
  const data = new Float32Array(count);
  switch (t.dataType) {
    case 1:
      for (let i = 0; i < count; i++) data[i] = raw !== null ? raw.getFloat32(4 * i, true) : t.floatData![i];
      break;
    case 10:
      for (let i = 0; i < count; i++) data[i] = halfToFloat(raw !== null ? raw.getUint16(2 * i, true) : t.int32Data![i]);
      break;
    case 11:
      for (let i = 0; i < count; i++) data[i] = raw !== null ? raw.getFloat64(8 * i, true) : t.doubleData![i];
      break;
    case 6:
      for (let i = 0; i < count; i++) data[i] = raw !== null ? raw.getInt32(4 * i, true) : t.int32Data![i];
      break;
    case 7:
      for (let i = 0; i < count; i++) data[i] = raw !== null ? Number(raw.getBigInt64(8 * i, true)) : int64(t.int64Data![i]);
      break;
    default:
      throw new Error(`${where}: tensor ${t.name} has ONNX data type ${t.dataType}, which decomp does not read (float, float16, double, int32, int64)`);
  }
  return { dims, data };
}

/** A constant: an initializer, or the output of a Constant node (possibly behind Identity). */
export function constantValue(index: GraphIndex, name: string, where: string): { dims: number[]; data: Float32Array } | null {
  const init = index.initializers.get(name);
  if (init !== undefined) return tensorValues(init, where);
  const node = index.producer.get(name);
  if (node?.opType === "Identity") return constantValue(index, node.input![0], where);
  if (node?.opType === "Constant") {
    const value = attribute(node, "value");
    if (value?.t) return tensorValues(value.t, where);
  }
  return null;
}

export interface FinalLayer {
  /** The node computing the logits (Gemm, MatMul or the Add after a MatMul). */
  node: onnx.INodeProto;
  /** Input tensor: the penultimate features. */
  features: string;
  /** Output tensor: the logits (before any Softmax). */
  logits: string;
  /** classes x featureWidth, row-major. */
  weight: Float32Array;
  bias: Float32Array;
  classes: number;
  featureWidth: number;
  /** The constant holding the weight, and whether it is stored [classes, features] (Gemm transB) or transposed. */
  weightTensor: { name: string; classesFirst: boolean };
}

/**
 * The final linear layer: from the graph's first output back through Softmax and value-preserving operators to a
 * Gemm, a MatMul + Add or a bare MatMul whose weight (and bias) are constants. Anything else is refused saying
 * what computes the output instead (SqueezeNet's classifier is a 1 x 1 convolution and a pool).
 */
export function findFinalLayer(index: GraphIndex, where: string): FinalLayer {
  const output = index.graph.output?.[0]?.name;
  if (!output) throw new Error(`${where} has no graph output`);
  let name = output;
  let node = index.producer.get(name);
  const passed: string[] = [];
  while (node !== undefined && AFTER_HEAD.has(node.opType ?? "")) {
    passed.push(node.opType!);
    name = node.input![0];
    node = index.producer.get(name);
  }
  const refuse = (what: string) =>
    new Error(
      `${where} has no final linear layer: its output ${output}${passed.length ? ` (through ${passed.join(", ")})` : ""} comes from ${what}. ` +
        `Algorithm 1 decomposes a fully connected final layer (Gemm, or MatMul + Add, as torch.onnx.export writes nn.Linear)`,
    );
  if (node === undefined) throw refuse("the graph input or a constant");
  if (node.opType === "Gemm") return fromGemm(index, node, where, refuse);
  if (node.opType === "Add") {
    const [a, b] = node.input!;
    for (const [x, c] of [[a, b], [b, a]] as const) {
      const mm = index.producer.get(x);
      const bias = constantValue(index, c, where);
      if (mm?.opType === "MatMul" && bias !== null) return fromMatMul(index, mm, where, refuse, { node, bias: bias.data });
    }
  }
  if (node.opType === "MatMul") return fromMatMul(index, node, where, refuse);
  // Up the chain a little: SqueezeNet's output is a pool of a ReLU of a 1 x 1 convolution.
  const chain: string[] = [];
  for (let n: onnx.INodeProto | undefined = node; n !== undefined && chain.length < 4; n = index.producer.get(n.input?.[0] ?? "")) chain.push(n.opType ?? "?");
  const convolutional = chain.includes("Conv") ? " (a convolutional classifier, as SqueezeNet's, not a fully connected layer)" : "";
  throw refuse(`${chain.join(" <- ")}${convolutional}`);
}

function fromGemm(index: GraphIndex, node: onnx.INodeProto, where: string, refuse: (what: string) => Error): FinalLayer {
  const [a, b, c] = node.input!;
  if (intAttribute(node, "transA", 0) !== 0) throw refuse("a Gemm with transA = 1");
  const w = constantValue(index, b, where);
  if (w === null || w.dims.length !== 2) throw refuse("a Gemm whose weight is not a constant matrix");
  const transB = intAttribute(node, "transB", 0) === 1;
  const [classes, featureWidth] = transB ? w.dims : [w.dims[1], w.dims[0]];
  const alpha = floatAttribute(node, "alpha", 1);
  const beta = floatAttribute(node, "beta", 1);
  const weight = new Float32Array(classes * featureWidth);
  for (let y = 0; y < classes; y++) for (let j = 0; j < featureWidth; j++) weight[y * featureWidth + j] = alpha * (transB ? w.data[y * featureWidth + j] : w.data[j * classes + y]);
  const bias = new Float32Array(classes);
  if (c !== undefined && c !== "") {
    const cv = constantValue(index, c, where);
    if (cv === null) throw refuse("a Gemm whose bias is not a constant");
    if (cv.data.length !== classes && cv.data.length !== 1) throw refuse(`a Gemm whose bias has ${cv.data.length} values for ${classes} outputs`);
    for (let y = 0; y < classes; y++) bias[y] = beta * cv.data[cv.data.length === 1 ? 0 : y];
  }
  return { node, features: a, logits: node.output![0], weight, bias, classes, featureWidth, weightTensor: { name: b, classesFirst: transB } };
}

function fromMatMul(index: GraphIndex, node: onnx.INodeProto, where: string, refuse: (what: string) => Error, add?: { node: onnx.INodeProto; bias: Float32Array }): FinalLayer {
  const [a, b] = node.input!;
  const w = constantValue(index, b, where);
  if (w === null || w.dims.length !== 2) throw refuse("a MatMul whose second operand is not a constant matrix");
  const [featureWidth, classes] = w.dims;
  const weight = new Float32Array(classes * featureWidth);
  for (let y = 0; y < classes; y++) for (let j = 0; j < featureWidth; j++) weight[y * featureWidth + j] = w.data[j * classes + y];
  const bias = new Float32Array(classes);
  if (add !== undefined) {
    if (add.bias.length !== classes && add.bias.length !== 1) throw refuse(`a MatMul + Add whose bias has ${add.bias.length} values for ${classes} outputs`);
    for (let y = 0; y < classes; y++) bias[y] = add.bias[add.bias.length === 1 ? 0 : y];
  }
  return { node: add?.node ?? node, features: a, logits: (add?.node ?? node).output![0], weight, bias, classes, featureWidth, weightTensor: { name: b, classesFirst: false } };
}

/** The last spatial map: the input of the global average pool the features come from, and its layout. */
export interface PooledMap {
  name: string;
  layout: "nchw" | "nhwc";
}

/**
 * Walks back from the features through value-preserving operators to GlobalAveragePool, or a ReduceMean over the
 * two spatial axes (NCHW's 2, 3 or NHWC's 1, 2); null when the features come from elsewhere (VGG's second fully
 * connected layer), which leaves channel maps unavailable for that model.
 */
export function findPooledMap(index: GraphIndex, features: string, where: string): PooledMap | null {
  let node = index.producer.get(features);
  while (node !== undefined && PASS_THROUGH.has(node.opType ?? "")) node = index.producer.get(node.input![0]);
  if (node === undefined) return null;
  if (node.opType === "GlobalAveragePool") return { name: node.input![0], layout: "nchw" };
  if (node.opType === "ReduceMean") {
    const fromAttribute = attribute(node, "axes")?.ints?.map((v) => int64(v));
    const fromInput = node.input!.length > 1 ? Array.from(constantValue(index, node.input![1], where)?.data ?? []) : undefined;
    const axes = [...(fromAttribute ?? fromInput ?? [])].map((a) => (a < 0 ? a + 4 : a)).sort();
    if (axes.join() === "2,3") return { name: node.input![0], layout: "nchw" };
    if (axes.join() === "1,2") return { name: node.input![0], layout: "nhwc" };
  }
  return null;
}

/**
 * Whether a tensor is non-negative by construction (ReLU, ReLU6 as Clip(0, ...), sigmoid, softmax, and what pools,
 * concatenates or reshapes only such tensors); otherwise the operator that may make it negative.
 */
export function negativeSource(index: GraphIndex, name: string, where: string, depth = 0): string | null {
  const node = index.producer.get(name);
  if (node === undefined) return index.initializers.has(name) ? null : `the graph input ${name}`;
  const op = node.opType ?? "";
  if (NON_NEGATIVE.has(op)) return null;
  if (op === "Clip") {
    const min = node.input!.length > 1 && node.input![1] !== "" ? constantValue(index, node.input![1], where)?.data[0] : floatAttribute(node, "min", -Infinity);
    return min !== undefined && min >= 0 ? null : `a Clip without a non-negative minimum (${node.name || name})`;
  }
  if (KEEPS_SIGN.has(op) && depth < 64) {
    const data = op === "Concat" ? node.input! : [node.input![0]];
    for (const input of data) {
      const found = negativeSource(index, input, where, depth + 1);
      if (found !== null) return found;
    }
    return null;
  }
  return `${op}${node.name ? ` (${node.name})` : ""}`;
}

/** The input's layout and its fixed dimensions (null where symbolic), from its declared shape. */
export function inputLayout(index: GraphIndex, where: string): { name: string; layout: "nchw" | "nhwc"; batch: number | null; height: number | null; width: number | null; channels: number } {
  const initialised = new Set(index.initializers.keys());
  const input = (index.graph.input ?? []).find((i) => !initialised.has(i.name ?? ""));
  if (input === undefined) throw new Error(`${where} has no graph input (every input is an initializer)`);
  const dims = (input.type?.tensorType?.shape?.dim ?? []).map((d) => (d.dimValue !== null && d.dimValue !== undefined && int64(d.dimValue) > 0 ? int64(d.dimValue) : null));
  if (dims.length !== 4) throw new Error(`${where}: input ${input.name} has ${dims.length} dimensions; an image classifier takes [N, C, H, W] or [N, H, W, C]`);
  const channelsFirst = dims[1] === 1 || dims[1] === 3;
  const channelsLast = dims[3] === 1 || dims[3] === 3;
  // A permute right after the input says NHWC even when the channel count would fit both positions.
  const first = (index.graph.node ?? []).find((n) => (n.input ?? []).includes(input.name ?? ""));
  const perm = first?.opType === "Transpose" ? attribute(first, "perm")?.ints?.map((v) => int64(v)).join() : undefined;
  const layout = perm === "0,3,1,2" || (channelsLast && !channelsFirst) ? "nhwc" : "nchw";
  const [batch, a, b, c] = dims;
  const channels = layout === "nchw" ? a : c;
  if (channels !== 3) throw new Error(`${where}: input ${input.name} [${dims.map((d) => d ?? "?").join(", ")}] does not take RGB images (3 channels first or last)`);
  return layout === "nchw" ? { name: input.name!, layout, batch, height: b, width: c, channels } : { name: input.name!, layout, batch, height: a, width: b, channels };
}
