/**
 * ModelSpec -> ONNX graph of one training step: forward with BatchNorm in training mode, the masked
 * (decomposed) head, mean softmax cross-entropy, and the gradient of that loss for every trainable parameter,
 * the backward pass written out with plain ONNX ops so the stock ONNX Runtime CPU build (no training ops) runs
 * it. Parameters are graph inputs (PyTorch names and layout), so one session serves every step of a run.
 */
import { createHash } from "node:crypto";
import { encodeOnnxModel, OnnxDataType, type OnnxNode, type OnnxTensor, type OnnxValueInfo } from "../models/onnx-proto";
import { ONNX_OPSET } from "../models/onnx-export";
import { NCHWC_DOMAIN, NCHWC_OPSET } from "../models/nchwc";
import type { Conv2dLayer, Layer, MaxPoolLayer, ModelSpec, TensorName } from "../models/spec";
import { headBiasName, headWeightName, trainableNames } from "./params";

/** Graph input and output names of the training step; the logits keep the spec's name. */
export const TRAIN_IO = {
  images: "images",
  onehot: "onehot",
  mask: "mask",
  /** Gated graphs only: each image's gate row G[y] over the pooled features, [N, features]. */
  gate: "gate",
  gateGrad: "grad:gate",
  loss: "loss",
  grad: (param: string) => `grad:${param}`,
  batchMean: (bn: string) => `batch_mean:${bn}`,
  batchVar: (bn: string) => `batch_var:${bn}`,
} as const;

const BATCH = "batch";

/** Channels, height and width of an activation (the batch size stays symbolic). */
export type Shape = [number, number, number];

export interface TrainingGraphOptions {
  /**
   * Channels per block of ONNX Runtime's NCHWc kernels on this machine (nchwcBlockSize()); convolutions whose
   * channel counts fill whole blocks then run on them. null or absent: plain ONNX Conv everywhere.
   */
  nchwcBlock?: number | null;
  /**
   * Multiply the pooled features by a per-image gate row (input TRAIN_IO.gate) before the head, and return the
   * loss's gradient with respect to those rows (TRAIN_IO.gateGrad): the class-specific gates' CSG path.
   */
  gated?: boolean;
}

class GraphBuilder {
  readonly nodes: OnnxNode[] = [];
  readonly initializers: OnnxTensor[] = [];
  private next = 0;
  private consts = new Map<string, string>();
  private readonly reshaped = new Map<string, string>();
  private readonly invCounts = new Map<number, string>();
  private batchCount: string | undefined;
  /** [1, N] ones, N the batch size (sumOverBatch). */
  private batchOnes: string | undefined;

  constructor(private readonly nchwcBlock: number | null) {}

  op(opType: string, inputs: string[], attributes?: OnnxNode["attributes"], output?: string, domain?: string): string {
    const out = output ?? `t${this.next++}:${opType}`;
    this.nodes.push({ opType, inputs, outputs: [out], attributes, domain });
    return out;
  }

  /**
   * Conv of x with the kernel of layer `l`: its weight as stored ([cout, cin, k, k]), or with `flipped` that
   * weight turned in space with in and out channels swapped (the input gradient's kernel). Where both channel
   * counts fill whole NCHWc blocks it runs blocked: x reordered in, the kernel gathered straight from the stored
   * weight into the blocked kernels' [out/B, in/B, k*k, B(in), B(out)] order (one Gather, since flipping,
   * swapping and blocking are all one permutation), the result reordered back, so every other op of the
   * graph keeps plain NCHW.
   */
  conv(x: string, l: Conv2dLayer, flipped: boolean, attributes: OnnxNode["attributes"], output?: string): string {
    const k = l.kernel;
    const [cout, cin] = flipped ? [l.inChannels, l.outChannels] : [l.outChannels, l.inChannels];
    const b = this.nchwcBlock;
    if (b === null || cin % b !== 0 || cout % b !== 0) {
      const w = flipped ? this.slice(this.op("Transpose", [l.weight], { perm: [1, 0, 2, 3] }), [k - 1, k - 1], [-(k + 1), -(k + 1)], [2, 3], [-1, -1]) : l.weight;
      return this.op("Conv", [x, w], attributes, output);
    }
    const taps = k * k;
    // int32 raw bytes: as int64 varints, protobufjs allocated objects per value, and their garbage collection
    // took most of ResNet50's 40 s of graph generation (millions of indices per convolution).
    const from = new Int32Array(cout * cin * taps);
    let at = 0;
    for (let ob = 0; ob < cout / b; ob++) {
      for (let ib = 0; ib < cin / b; ib++) {
        for (let t = 0; t < taps; t++) {
          for (let bi = 0; bi < b; bi++) {
            for (let bo = 0; bo < b; bo++) {
              const [o, i] = [ob * b + bo, ib * b + bi];
              from[at++] = flipped ? (i * cout + o) * taps + (taps - 1 - t) : (o * cin + i) * taps + t;
            }
          }
        }
      }
    }
    // Indices shaped like the kernel, so the Gather's output is the kernel itself.
    const kernel = this.op("Gather", [this.reshape(l.weight, [-1]), this.constant("i32", [cout, cin, k, k], from)], { axis: 0 });
    const blockedX = this.op("ReorderInput", [x], undefined, undefined, NCHWC_DOMAIN);
    const blockedY = this.op("Conv", [blockedX, kernel], attributes, undefined, NCHWC_DOMAIN);
    return this.op("ReorderOutput", [blockedY], { channels: cout }, output, NCHWC_DOMAIN);
  }

  private constant(kind: string, dims: number[], data: Float32Array | Int32Array | number[]): string {
    // Keyed by a digest of the values: a key spelling out ResNet50's kernel indices (millions per convolution)
    // would take seconds to build.
    const values = Array.isArray(data) ? Float64Array.from(data) : data;
    const key = `${kind}[${dims.join(",")}]${createHash("sha256").update(new Uint8Array(values.buffer, values.byteOffset, values.byteLength)).digest("hex")}`;
    let name = this.consts.get(key);
    if (name === undefined) {
      name = `c${this.consts.size}`;
      this.initializers.push({ name, dims, data });
      this.consts.set(key, name);
    }
    return name;
  }

  /** A named float initializer, added once however often it is asked for. */
  weights(name: string, dims: number[], data: Float32Array): string {
    if (!this.initializers.some((t) => t.name === name)) this.initializers.push({ name, dims, data });
    return name;
  }

  ints(values: number[]): string {
    return this.constant("i64", [values.length], values);
  }

  floats(values: number[]): string {
    return this.constant("f32", [values.length], Float32Array.from(values));
  }

  scalar(value: number): string {
    return this.constant("f32", [], Float32Array.of(value));
  }

  /**
   * The sum of gradient contributions, as a chain of Adds: ONNX Runtime's Sum took about 2.5 times an Add's time
   * on two [64, 16, 32, 32] tensors here, and the whole ResNet20 step was 1-5% faster with Adds.
   */
  sum(terms: string[]): string {
    return terms.reduce((total, term) => this.op("Add", [total, term]));
  }

  reduceSum(x: string, axes: number[]): string {
    return this.op("ReduceSum", [x, this.ints(axes)], { keepdims: 1 });
  }

  /**
   * Per-channel sum over N, H and W of an NCHW tensor as [1, C, 1, 1], of its values or (`squares`) their
   * squares. In two steps, H W then N: about 25% faster in ONNX Runtime than one reduction over [0, 2, 3].
   * Squares as Mul then ReduceSum: ONNX Runtime's ReduceSumSquare took 0.54 ms on [64, 16, 32, 32] here
   * against 0.08 ms for ReduceSum, and the whole ResNet20 step was about 1.5% faster this way.
   */
  channelSum(x: string, squares = false): string {
    const spatial = this.reduceSum(squares ? this.op("Mul", [x, x]) : x, [2, 3]);
    return this.reduceSum(spatial, [0]);
  }

  /**
   * Per-image products [N, ...] summed over the batch and shaped `dims`, as a MatMul with a row of N ones:
   * ONNX Runtime's ReduceSum over the leading axis took twice as long on [64, 576, 64], and the ResNet20 step
   * was about 1.5% faster with the MatMul.
   */
  sumOverBatch(x: string, dims: number[]): string {
    this.batchOnes ??= this.op("Expand", [this.constant("f32", [1, 1], Float32Array.of(1)), this.op("Concat", [this.ints([1]), this.batchSize()], { axis: 0 })]);
    return this.reshape(this.op("MatMul", [this.batchOnes, this.reshape(x, [0, -1])]), dims);
  }

  /** The batch size N as read from the images: int64, shape [1], built once. */
  batchSize(): string {
    this.batchCount ??= this.op("Gather", [this.op("Shape", [TRAIN_IO.images]), this.ints([0])]);
    return this.batchCount;
  }

  /** x reshaped; the same reshape of the same tensor is one node (fewer nodes, less per-node overhead). */
  reshape(x: string, shape: number[]): string {
    const key = `${x}|${shape.join(",")}`;
    let out = this.reshaped.get(key);
    if (out === undefined) {
      out = this.op("Reshape", [x, this.ints(shape)]);
      this.reshaped.set(key, out);
    }
    return out;
  }

  /** 1 / (N H W) for activations of H x W per channel, one node per size. */
  invCount(invBatch: string, h: number, w: number): string {
    let out = this.invCounts.get(h * w);
    if (out === undefined) {
      out = this.op("Mul", [invBatch, this.scalar(1 / (h * w))]);
      this.invCounts.set(h * w, out);
    }
    return out;
  }

  slice(x: string, starts: number[], ends: number[], axes: number[], steps: number[]): string {
    return this.op("Slice", [x, this.ints(starts), this.ints(ends), this.ints(axes), this.ints(steps)]);
  }
}

function convAttributes(l: Conv2dLayer): OnnxNode["attributes"] {
  return { kernel_shape: [l.kernel, l.kernel], strides: [l.stride, l.stride], pads: [l.pad, l.pad, l.pad, l.pad] };
}

/** Output size of a convolution along one axis. */
const convOut = (size: number, l: Conv2dLayer) => Math.floor((size + 2 * l.pad - l.kernel) / l.stride) + 1;

interface BnSaved {
  centred: string;
  invStd: string;
  /** gamma invStd, [1, C, 1, 1]. */
  scale: string;
  /** 1 / (N H W), the reciprocal of the values per channel. */
  invCount: string;
}

/**
 * Stride-1 convolutions whose output is at least this many positions on a side get their weight gradient from
 * row taps (weightGradientFromRowTaps); smaller or strided ones from full patches (weightGradientFromPatches).
 * Measured on ResNet20, batch 64, 2 threads: the whole training step took 9-10% less time with row taps on the
 * 32 x 32 and 16 x 16 stages, and about the same again with the 8 x 8 stage added (there the padded rows add
 * a quarter more multiply-adds and the per-image shifting overhead weighs more).
 */
const ROW_TAPS_MIN_SIZE = 16;

/** dL/dW of a convolution from its input x (shape `inShape`) and output gradient dy, as [cout, cin, k, k]. */
function weightGradient(g: GraphBuilder, l: Conv2dLayer, x: string, dy: string, inShape: Shape, outShape: Shape): string {
  const [, ho, wo] = outShape;
  return l.stride === 1 && Math.min(ho, wo) >= ROW_TAPS_MIN_SIZE ? weightGradientFromRowTaps(g, l, x, dy, inShape, outShape) : weightGradientFromPatches(g, l, x, dy, inShape, outShape);
}

/**
 * Full patches: a grouped Conv whose k*k one-hot kernels per input channel copy each tap gives per-image
 * patches [N, Cin*k*k, Ho*Wo] in PyTorch's (cin, kh, kw) weight order, padding and stride included; a batched
 * MatMul with the output gradient and a sum over the batch finish it. Measured on ResNet20, batch 64,
 * 2 threads, the whole step took 231 ms this way against 280 ms for 9 Slice + Concat patches of the
 * channel-major input with one GEMM; a Conv with the output gradient as a stride-dilated kernel (plain or on
 * the blocked kernels), an Einsum over Slice patches and one GEMM per tap were slower still.
 */
function weightGradientFromPatches(g: GraphBuilder, l: Conv2dLayer, x: string, dy: string, inShape: Shape, outShape: Shape): string {
  const [cin] = inShape;
  const [cout, ho, wo] = outShape;
  const { kernel: k, stride: s, pad: p } = l;
  const taps = k * k;
  const oneHot = new Float32Array(cin * taps * taps);
  for (let row = 0; row < cin * taps; row++) oneHot[row * taps + (row % taps)] = 1;
  const kernel = g.weights(`im2col:${cin}x${k}`, [cin * taps, 1, k, k], oneHot);
  const conv = g.op("Conv", [x, kernel], { kernel_shape: [k, k], strides: [s, s], pads: [p, p, p, p], group: cin });
  const patches = g.reshape(conv, [0, cin * taps, ho * wo]);
  const dyT = g.op("Transpose", [g.reshape(dy, [0, cout, ho * wo])], { perm: [0, 2, 1] });
  const summed = g.sumOverBatch(g.op("MatMul", [patches, dyT]), [cin * taps, cout]);
  return g.reshape(g.op("Transpose", [summed], { perm: [1, 0] }), [cout, cin, k, k]);
}

/**
 * Row taps, for stride 1: the k horizontal taps of the input over every padded row,
 * X[n, (cin, kw), hp, w] = xpad[n, cin, hp, w + kw], and the output gradient shifted down by each vertical tap,
 * D[n, (cout, kh), hp, w] = dy[n, cout, hp - kh, w], for hp over the H + 2p padded rows; then
 * dW[cout, cin, kh, kw] = sum over n, hp, w of D X, one batched MatMul and a sum over the batch. Both shifts are
 * grouped Convs with one-hot 1 x k and k x 1 kernels, together 2k copies of the input's size instead of the
 * k*k of full patches: fewer bytes written and read again, for a few more multiply-adds on the padded rows.
 */
function weightGradientFromRowTaps(g: GraphBuilder, l: Conv2dLayer, x: string, dy: string, inShape: Shape, outShape: Shape): string {
  const [cin, h] = inShape;
  const [cout, , wo] = outShape;
  const { kernel: k, pad: p } = l;
  const oneHot = (channels: number, tapOf: (t: number) => number) => {
    const data = new Float32Array(channels * k * k);
    for (let row = 0; row < channels * k; row++) data[row * k + tapOf(row % k)] = 1;
    return data;
  };
  const rows = (h + 2 * p) * wo;
  const across = g.weights(`row-taps:${cin}x${k}`, [cin * k, 1, 1, k], oneHot(cin, (kw) => kw));
  const inputTaps = g.op("Conv", [x, across], { kernel_shape: [1, k], strides: [1, 1], pads: [p, p, p, p], group: cin });
  // Output row hp of the k x 1 kernel reads dy row hp + i - (k - 1); a one at i = k - 1 - kh reads row hp - kh.
  const down = g.weights(`column-taps:${cout}x${k}`, [cout * k, 1, k, 1], oneHot(cout, (kh) => k - 1 - kh));
  const gradTaps = g.op("Conv", [dy, down], { kernel_shape: [k, 1], strides: [1, 1], pads: [k - 1, 0, k - 1, 0], group: cout });
  const xT = g.op("Transpose", [g.reshape(inputTaps, [0, cin * k, rows])], { perm: [0, 2, 1] });
  const summed = g.sumOverBatch(g.op("MatMul", [g.reshape(gradTaps, [0, cout * k, rows]), xT]), [cout, k, cin, k]);
  return g.op("Transpose", [summed], { perm: [0, 2, 1, 3] });
}

/**
 * The backward of keeping every s-th row and column: each value of dy [N, C, Ho, Wo] at the top-left of its
 * s x s cell of [N, C, s Ho, s Wo], zeros elsewhere. Nearest-neighbour upsampling times a constant 0/1 grid
 * is 2-3x faster in ONNX Runtime than padding a [N, C, Ho, 1, Wo, 1] view (6-D Pad is a generic loop).
 */
function spreadStrided(g: GraphBuilder, dy: string, ho: number, wo: number, s: number): string {
  const grid = new Float32Array(ho * s * wo * s);
  for (let i = 0; i < ho * s; i += s) for (let j = 0; j < wo * s; j += s) grid[i * wo * s + j] = 1;
  const upsampled = g.op("Resize", [dy, "", g.floats([1, 1, s, s])], { mode: "nearest", coordinate_transformation_mode: "asymmetric", nearest_mode: "floor" });
  return g.op("Mul", [upsampled, g.weights(`stride-grid:${ho}x${wo}/${s}`, [1, 1, ho * s, wo * s], grid)]);
}

/**
 * dL/dx of a max pool: each output's gradient goes to the first position of its window (row-major) that holds
 * the window's maximum, as PyTorch's CPU kernel picks it. For each of the k x k offsets, the inputs at that offset
 * of every window are compared with the windows' maxima, minus the windows already served by an earlier offset;
 * the hits times dy are spread back to the input's (padded) grid at that offset and summed.
 */
function maxPoolGradient(g: GraphBuilder, l: MaxPoolLayer, dy: string, inShape: Shape, outShape: Shape): string {
  const [, h, w] = inShape;
  const [, ho, wo] = outShape;
  const { kernel: k, stride: s, pad: p } = l;
  const [hp, wp] = [h + 2 * p, w + 2 * p];
  const padded = p === 0 ? l.input : g.op("Pad", [l.input, g.ints([0, 0, p, p, 0, 0, p, p]), g.scalar(-Infinity)]);
  let served: string | undefined;
  const parts: string[] = [];
  for (let a = 0; a < k; a++) {
    for (let b = 0; b < k; b++) {
      const atOffset = g.slice(padded, [a, b], [a + s * (ho - 1) + 1, b + s * (wo - 1) + 1], [2, 3], [s, s]);
      let hit = g.op("Cast", [g.op("Equal", [atOffset, l.output])], { to: OnnxDataType.FLOAT });
      if (served === undefined) served = hit;
      else {
        hit = g.op("Mul", [hit, g.op("Sub", [g.scalar(1), served])]);
        served = g.op("Add", [served, hit]);
      }
      const routed = g.op("Mul", [hit, dy]);
      const spread = s > 1 ? spreadStrided(g, routed, ho, wo, s) : routed;
      // The spread grid starts at (a, b) of the padded input; past its end there are only zeros.
      const placed = g.op("Pad", [spread, g.ints([0, 0, a, b, 0, 0, Math.max(0, hp - a - ho * s), Math.max(0, wp - b - wo * s)])]);
      parts.push(a + ho * s > hp || b + wo * s > wp ? g.slice(placed, [0, 0], [hp, wp], [2, 3], [1, 1]) : placed);
    }
  }
  const total = g.sum(parts);
  return p === 0 ? total : g.slice(total, [p, p], [p + h, p + w], [2, 3], [1, 1]);
}

/**
 * dL/dx of a convolution: the output gradient, spread back to stride 1 by zero insertion, convolved with the
 * kernel flipped in space and with in/out channels swapped. A plain Conv is im2col + GEMM in ONNX Runtime,
 * as cheap as the forward one; ConvTranspose (GEMM + col2im) took 3x the forward convolutions' time.
 */
function inputGradient(g: GraphBuilder, l: Conv2dLayer, dy: string, inShape: Shape, outShape: Shape): string {
  const [, h, w] = inShape;
  const [, ho, wo] = outShape;
  const { kernel: k, stride: s, pad: p } = l;
  const spread = s > 1 ? spreadStrided(g, dy, ho, wo, s) : dy;
  const before = k - 1 - p;
  const pads = [before, before, h + p - s * ho, w + p - s * wo];
  return g.conv(spread, l, true, { kernel_shape: [k, k], strides: [1, 1], pads });
}

/**
 * Shape of every trainable parameter as the training graph takes it and returns its gradient: PyTorch's,
 * except BatchNorm's weight and bias as [1, C, 1, 1], which broadcast over NCHW as they are (the values are the
 * same; the engine feeds them with these dims).
 */
export function trainingParamShapes(spec: ModelSpec): Map<string, number[]> {
  const shapes = new Map<string, number[]>();
  for (const l of spec.layers) {
    if (l.op === "conv2d") shapes.set(l.weight, [l.outChannels, l.inChannels, l.kernel, l.kernel]);
    if (l.op === "batchnorm") for (const p of ["weight", "bias"]) shapes.set(`${l.param}.${p}`, [1, l.channels, 1, 1]);
    if (l.op === "linear") {
      shapes.set(`${l.param}.weight`, [l.outFeatures, l.inFeatures]);
      shapes.set(`${l.param}.bias`, [l.outFeatures]);
    }
  }
  return shapes;
}

/** Channels, height and width of every activation of `spec`, its input included. */
export function activationShapes(spec: ModelSpec): Map<TensorName, Shape> {
  const [h0, w0, c0] = spec.inputShape;
  const shapes = new Map<TensorName, Shape>([[spec.input, [c0, h0, w0]]]);
  const of = (t: TensorName) => {
    const shape = shapes.get(t);
    if (shape === undefined) throw new Error(`${spec.name}: '${t}' is read before any layer writes it`);
    return shape;
  };
  for (const l of spec.layers) {
    switch (l.op) {
      case "conv2d": {
        const [, h, w] = of(l.input);
        shapes.set(l.output, [l.outChannels, convOut(h, l), convOut(w, l)]);
        break;
      }
      case "add":
      case "mul":
        shapes.set(l.output, of(l.inputs[0]));
        break;
      case "shortcutA": {
        const [c, h, w] = of(l.input);
        shapes.set(l.output, [c + 2 * l.padChannelsEachSide, Math.ceil(h / l.stride), Math.ceil(w / l.stride)]);
        break;
      }
      case "globalAvgPool":
        shapes.set(l.output, [of(l.input)[0], 1, 1]);
        break;
      case "linear":
        shapes.set(l.output, [l.outFeatures, 1, 1]);
        break;
      case "concat": {
        const parts = l.inputs.map(of);
        shapes.set(l.output, [parts.reduce((sum, [c]) => sum + c, 0), parts[0][1], parts[0][2]]);
        break;
      }
      case "avgpool":
      case "maxpool": {
        const [c, h, w] = of(l.input);
        const pad = l.op === "maxpool" ? l.pad : 0;
        const side = (n: number) => Math.floor((n + 2 * pad - l.kernel) / l.stride) + 1;
        shapes.set(l.output, [c, side(h), side(w)]);
        break;
      }
      default:
        shapes.set(l.output, of(l.input));
    }
  }
  return shapes;
}

/** The training-step graph of `spec` as ONNX ModelProto bytes. */
export function exportTrainingGraph(spec: ModelSpec, options: TrainingGraphOptions = {}): Uint8Array {
  const g = new GraphBuilder(options.nchwcBlock ?? null);
  const shapes = activationShapes(spec);
  const shapeOf = (t: TensorName) => shapes.get(t) as Shape;
  const names = trainableNames(spec);
  const paramShapes = trainingParamShapes(spec);
  const outputs: OnnxValueInfo[] = [];
  const float = (name: string, shape: (number | string)[]): OnnxValueInfo => ({ name, elemType: OnnxDataType.FLOAT, shape });
  const gated = options.gated ?? false;
  /** What the head reads: the pooled features, gated or not. */
  let headInput: string | undefined;

  // Forward. The graph input is NHWC like every engine's; NCHW inside for ONNX Runtime's convolutions.
  g.op("Transpose", [TRAIN_IO.images], { perm: [0, 3, 1, 2] }, spec.input);
  const invBatch = g.op("Reciprocal", [g.op("Cast", [g.batchSize()], { to: OnnxDataType.FLOAT })]);
  const bnSaved = new Map<Layer, BnSaved>();
  let features: TensorName | undefined;
  let maskedWeight: string | undefined;
  for (const l of spec.layers) {
    switch (l.op) {
      case "conv2d": {
        g.conv(l.input, l, false, convAttributes(l), l.output);
        break;
      }
      case "batchnorm": {
        const c = l.channels;
        const [, h, w] = shapeOf(l.input);
        const invCount = g.invCount(invBatch, h, w);
        const mean = g.op("Mul", [g.channelSum(l.input), invCount], undefined, TRAIN_IO.batchMean(l.param));
        const centred = g.op("Sub", [l.input, mean]);
        // Biased variance normalises, as PyTorch's BatchNorm in training mode. y = centred (gamma invStd) + beta
        // never materialises the normalised input; the backward pass folds invStd into per-channel factors.
        const variance = g.op("Mul", [g.channelSum(centred, true), invCount], undefined, TRAIN_IO.batchVar(l.param));
        const invStd = g.op("Reciprocal", [g.op("Sqrt", [g.op("Add", [variance, g.scalar(l.eps)])])]);
        const scale = g.op("Mul", [`${l.param}.weight`, invStd]);
        g.op("Add", [g.op("Mul", [centred, scale]), `${l.param}.bias`], undefined, l.output);
        outputs.push(float(TRAIN_IO.batchMean(l.param), [1, c, 1, 1]), float(TRAIN_IO.batchVar(l.param), [1, c, 1, 1]));
        bnSaved.set(l, { centred, invStd, scale, invCount });
        break;
      }
      case "relu":
        g.op("Relu", [l.input], undefined, l.output);
        break;
      case "add":
        g.op("Add", [...l.inputs], undefined, l.output);
        break;
      case "shortcutA": {
        const [, h, w] = shapeOf(l.input);
        const s = l.stride;
        const p = l.padChannelsEachSide;
        const strided = g.slice(l.input, [0, 0], [h, w], [2, 3], [s, s]);
        g.op("Pad", [strided, g.ints([0, p, 0, 0, 0, p, 0, 0])], undefined, l.output);
        break;
      }
      case "maxpool":
        // ONNX's MaxPool never lets a padded position win, as PyTorch's -inf padding.
        g.op("MaxPool", [l.input], { kernel_shape: [l.kernel, l.kernel], strides: [l.stride, l.stride], pads: [l.pad, l.pad, l.pad, l.pad] }, l.output);
        break;
      case "globalAvgPool": {
        g.op("Flatten", [g.op("GlobalAveragePool", [l.input])], { axis: 1 }, l.output);
        features = l.output;
        // A per-channel gate commutes with the average pool, so gating the pooled features is the CSG path.
        headInput = gated ? g.op("Mul", [features, TRAIN_IO.gate]) : features;
        break;
      }
      case "linear": {
        if (l.input !== features || headInput === undefined) throw new Error(`${spec.name}: the final linear layer must read the global average pool`);
        maskedWeight = g.op("Mul", [`${l.param}.weight`, TRAIN_IO.mask]);
        g.op("Gemm", [headInput, maskedWeight, `${l.param}.bias`], { transB: 1 }, l.output);
        break;
      }
    }
  }
  if (features === undefined || maskedWeight === undefined || spec.outputs.logits !== spec.layers[spec.layers.length - 1].output) {
    throw new Error(`${spec.name}: the training graph needs a global average pool followed by the final linear layer`);
  }

  // Mean cross-entropy and its gradient w.r.t. the logits, (softmax - onehot) / N.
  const logProb = g.op("LogSoftmax", [spec.outputs.logits], { axis: 1 });
  const perImage = g.op("ReduceSum", [g.op("Mul", [TRAIN_IO.onehot, logProb]), g.ints([1])], { keepdims: 0 });
  g.op("Neg", [g.op("ReduceMean", [perImage], { keepdims: 0 })], undefined, TRAIN_IO.loss);
  const dLogits = g.op("Mul", [g.op("Sub", [g.op("Exp", [logProb]), TRAIN_IO.onehot]), invBatch]);

  // Backward, layers in reverse; a tensor read by several layers sums their contributions.
  const contributions = new Map<TensorName, string[]>([[spec.outputs.logits, [dLogits]]]);
  const addGrad = (t: TensorName, grad: string) => {
    if (t === spec.input) return;
    contributions.set(t, [...(contributions.get(t) ?? []), grad]);
  };
  const paramGrad = (param: string, grad: string) => {
    g.op("Identity", [grad], undefined, TRAIN_IO.grad(param));
  };
  for (const l of [...spec.layers].reverse()) {
    const terms = contributions.get(l.output);
    if (terms === undefined) throw new Error(`${spec.name}: '${l.output}' does not reach the loss`);
    const dy = g.sum(terms);
    switch (l.op) {
      case "linear": {
        paramGrad(headWeightName(spec), g.op("Mul", [g.op("Gemm", [dy, headInput as string], { transA: 1 }), TRAIN_IO.mask]));
        paramGrad(headBiasName(spec), g.op("ReduceSum", [dy, g.ints([0])], { keepdims: 0 }));
        const dHeadInput = g.op("MatMul", [dy, maskedWeight]);
        if (gated) {
          g.op("Mul", [dHeadInput, l.input], undefined, TRAIN_IO.gateGrad);
          addGrad(l.input, g.op("Mul", [dHeadInput, TRAIN_IO.gate]));
        } else {
          addGrad(l.input, dHeadInput);
        }
        break;
      }
      case "globalAvgPool": {
        const [c, h, w] = shapeOf(l.input);
        const spread = g.op("Mul", [g.reshape(dy, [-1, c, 1, 1]), g.scalar(1 / (h * w))]);
        addGrad(l.input, g.op("Expand", [spread, g.op("Shape", [l.input])]));
        break;
      }
      case "relu":
        // dy times the 0/1 mask of positive outputs: exactly Where(y > 0, dy, 0), but ONNX Runtime's Where
        // with a scalar branch took 0.87 ms on a [64, 16, 32, 32] tensor here, Cast + Mul about 0.55.
        addGrad(l.input, g.op("Mul", [dy, g.op("Cast", [g.op("Greater", [l.output, g.scalar(0)])], { to: OnnxDataType.FLOAT })]));
        break;
      case "add":
        addGrad(l.inputs[0], dy);
        addGrad(l.inputs[1], dy);
        break;
      case "shortcutA": {
        const [c, h, w] = shapeOf(l.input);
        const [, ho, wo] = shapeOf(l.output);
        const s = l.stride;
        const kept = g.slice(dy, [l.padChannelsEachSide], [l.padChannelsEachSide + c], [1], [1]);
        // The subsample's backward puts each value at the top-left of its s x s cell, zeros elsewhere:
        // [N, C, ho, 1, wo, 1] padded to [N, C, ho, s, wo, s] is exactly that layout.
        const full = spreadStrided(g, kept, ho, wo, s);
        addGrad(l.input, ho * s === h && wo * s === w ? full : g.slice(full, [0, 0], [h, w], [2, 3], [1, 1]));
        break;
      }
      case "maxpool":
        addGrad(l.input, maxPoolGradient(g, l, dy, shapeOf(l.input), shapeOf(l.output)));
        break;
      case "batchnorm": {
        const { centred, invStd, scale, invCount } = bnSaved.get(l) as BnSaved;
        const sumDy = g.channelSum(dy);
        const sumDyCentred = g.channelSum(g.op("Mul", [dy, centred]));
        const gammaGrad = g.op("Mul", [sumDyCentred, invStd]);
        paramGrad(`${l.param}.weight`, gammaGrad);
        paramGrad(`${l.param}.bias`, sumDy);
        // dx = gamma invStd (dy - mean(dy) - xhat mean(dy xhat)) with xhat = centred invStd, means over the
        // N H W values per channel: dy scale - shift - centred slope, shift and slope per channel.
        const perValue = g.op("Mul", [scale, invCount]);
        const shift = g.op("Mul", [sumDy, perValue]);
        const slope = g.op("Mul", [gammaGrad, g.op("Mul", [invStd, perValue])]);
        addGrad(l.input, g.op("Sub", [g.op("Sub", [g.op("Mul", [dy, scale]), shift]), g.op("Mul", [centred, slope])]));
        break;
      }
      case "conv2d": {
        const inShape = shapeOf(l.input);
        const outShape = shapeOf(l.output);
        paramGrad(l.weight, weightGradient(g, l, l.input, dy, inShape, outShape));
        if (l.input !== spec.input) addGrad(l.input, inputGradient(g, l, dy, inShape, outShape));
        break;
      }
    }
  }

  const [h, w, c] = spec.inputShape;
  const inputs: OnnxValueInfo[] = [
    float(TRAIN_IO.images, [BATCH, h, w, c]),
    float(TRAIN_IO.onehot, [BATCH, spec.classes]),
    float(TRAIN_IO.mask, [spec.classes, spec.featureWidth]),
    ...(gated ? [float(TRAIN_IO.gate, [BATCH, spec.featureWidth])] : []),
    ...names.map((n) => float(n, paramShapes.get(n) as number[])),
  ];
  outputs.unshift(float(TRAIN_IO.loss, []), float(spec.outputs.logits, [BATCH, spec.classes]));
  outputs.push(...names.map((n) => float(TRAIN_IO.grad(n), paramShapes.get(n) as number[])));
  if (gated) outputs.push(float(TRAIN_IO.gateGrad, [BATCH, spec.featureWidth]));
  return encodeOnnxModel({
    producerName: "decomp",
    producerVersion: "0.1.0",
    opsetVersion: ONNX_OPSET,
    extraOpsets: g.nodes.some((n) => n.domain === NCHWC_DOMAIN) ? [NCHWC_OPSET] : [],
    graph: { name: `${spec.name}-train-step`, nodes: g.nodes, initializers: g.initializers, inputs, outputs },
  });
}
