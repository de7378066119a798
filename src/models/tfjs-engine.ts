/** TF.js executor of a declarative ModelSpec (NHWC): binds a PyTorch state dict by name and runs the forward pass. */
import * as tf from "@tensorflow/tfjs";
import type { StateDict } from "../torch";
import type { ForwardEngine, ForwardResult } from "./engine";
import { type Conv2dLayer, convWeightShape, type Layer, layerInputs, type ModelSpec, type TensorName } from "./spec";

export interface TfjsEngineOptions {
  /**
   * Fold each inference-mode BatchNorm into the preceding convolution's weights plus a bias, and fuse a
   * following ReLU into the same kernel (default true). Off runs every layer literally, as PyTorch does.
   */
  foldBatchNorm?: boolean;
}

type Step =
  | { kind: "conv"; input: TensorName; output: TensorName; filter: tf.Tensor4D; bias?: tf.Tensor1D; relu: boolean; stride: number; pad: number; depthwise: boolean }
  | { kind: "batchnorm"; input: TensorName; output: TensorName; mean: tf.Tensor1D; variance: tf.Tensor1D; gamma: tf.Tensor1D; beta: tf.Tensor1D; eps: number }
  | { kind: "relu" | "silu" | "sigmoid"; input: TensorName; output: TensorName }
  | { kind: "mul"; inputs: [TensorName, TensorName]; output: TensorName }
  | { kind: "add"; inputs: [TensorName, TensorName]; output: TensorName }
  | { kind: "concat"; inputs: TensorName[]; output: TensorName }
  | { kind: "avgpool"; input: TensorName; output: TensorName; kernel: number; stride: number }
  | { kind: "shortcutA"; input: TensorName; output: TensorName; stride: number; padChannels: number }
  | { kind: "globalAvgPool"; input: TensorName; output: TensorName; keepDims: boolean }
  | { kind: "maxpool"; input: TensorName; output: TensorName; kernel: number; stride: number; pad: number }
  | { kind: "linear"; input: TensorName; output: TensorName; /** [in, out] */ weight: tf.Tensor2D; bias: tf.Tensor1D };

const fmt = (shape: readonly number[]): string => `[${shape.join(", ")}]`;

/** Looks weights up by key, collecting every missing or mis-shaped one so the user sees them all at once. */
class WeightBinder {
  readonly problems: string[] = [];
  constructor(private readonly stateDict: StateDict) {}

  get(key: string, expected: number[]): Float32Array | undefined {
    const entry = this.stateDict.get(key);
    if (entry === undefined) {
      this.problems.push(`missing '${key}' (expected shape ${fmt(expected)})`);
      return undefined;
    }
    if (entry.shape.length !== expected.length || entry.shape.some((d, i) => d !== expected[i])) {
      this.problems.push(`'${key}' has shape ${fmt(entry.shape)}, expected ${fmt(expected)}`);
      return undefined;
    }
    if (entry.data.length !== expected.reduce((a, b) => a * b, 1)) {
      this.problems.push(`'${key}' holds ${entry.data.length} values, its shape ${fmt(expected)} needs ${expected.reduce((a, b) => a * b, 1)}`);
      return undefined;
    }
    return entry.data;
  }
}

/**
 * PyTorch conv weight [out, in, kh, kw] -> TF filter [kh, kw, in, out], each output channel scaled; a depthwise
 * weight [C, 1, kh, kw] -> TF's depthwise filter [kh, kw, C, 1], the same loop with one input channel per group.
 */
function torchConvToHwio(w: Float32Array, layer: Conv2dLayer, scale?: Float64Array): Float32Array {
  const { outChannels: O, kernel: K } = layer;
  const I = layer.inChannels / (layer.groups ?? 1);
  const out = new Float32Array(w.length);
  for (let o = 0; o < O; o++) {
    const s = scale ? scale[o] : 1;
    for (let i = 0; i < I; i++) {
      for (let y = 0; y < K; y++) {
        for (let x = 0; x < K; x++) {
          out[((y * K + x) * I + i) * O + o] = w[((o * I + i) * K + y) * K + x] * s;
        }
      }
    }
  }
  return out;
}

/** How many layers read each tensor: folding is only valid when the conv/BN output has no other reader. */
function readerCounts(layers: Layer[]): Map<TensorName, number> {
  const counts = new Map<TensorName, number>();
  for (const layer of layers) {
    for (const name of layerInputs(layer)) counts.set(name, (counts.get(name) ?? 0) + 1);
  }
  return counts;
}

/** Turns the spec into executable steps holding weight tensors; throws listing every weight problem. */
function compile(spec: ModelSpec, stateDict: StateDict, fold: boolean): Step[] {
  const bind = new WeightBinder(stateDict);
  const readers = readerCounts(spec.layers);
  const protectedNames = new Set([spec.outputs.features, spec.outputs.logits, ...(spec.outputs.stages ?? [])]);
  const foldable = (name: TensorName) => readers.get(name) === 1 && !protectedNames.has(name);
  const steps: Step[] = [];
  const layers = spec.layers;
  for (let i = 0; i < layers.length; i++) {
    const layer = layers[i];
    switch (layer.op) {
      case "conv2d": {
        const groups = layer.groups ?? 1;
        const depthwise = groups > 1;
        if (depthwise && (groups !== layer.inChannels || groups !== layer.outChannels)) {
          bind.problems.push(`the convolution '${layer.output}' has ${groups} groups over ${layer.inChannels} -> ${layer.outChannels} channels; the TF.js executor runs depthwise (groups = channels) and ungrouped ones only`);
          break;
        }
        const w = bind.get(layer.weight, convWeightShape(layer));
        const convBias = layer.bias === undefined ? undefined : bind.get(layer.bias, [layer.outChannels]);
        // TF.js keeps a depthwise filter as [kh, kw, channels, 1].
        const filterShape: [number, number, number, number] = depthwise ? [layer.kernel, layer.kernel, layer.inChannels, 1] : [layer.kernel, layer.kernel, layer.inChannels, layer.outChannels];
        const bn = layers[i + 1];
        if (fold && bn?.op === "batchnorm" && bn.input === layer.output && foldable(layer.output)) {
          const c = bn.channels;
          const gamma = bind.get(`${bn.param}.weight`, [c]);
          const beta = bind.get(`${bn.param}.bias`, [c]);
          const mean = bind.get(`${bn.param}.running_mean`, [c]);
          const variance = bind.get(`${bn.param}.running_var`, [c]);
          const relu = layers[i + 2];
          const fuseRelu = relu?.op === "relu" && relu.input === bn.output && foldable(bn.output);
          i += fuseRelu ? 2 : 1;
          if (!w || !gamma || !beta || !mean || !variance || (layer.bias !== undefined && !convBias)) continue;
          // y = gamma * (conv(x) + b - mean) / sqrt(var + eps) + beta = conv_{w * s}(x) + (beta + (b - mean) * s)
          const scale = new Float64Array(c);
          const bias = new Float32Array(c);
          for (let k = 0; k < c; k++) {
            scale[k] = gamma[k] / Math.sqrt(variance[k] + bn.eps);
            bias[k] = beta[k] + ((convBias?.[k] ?? 0) - mean[k]) * scale[k];
          }
          const filter = tf.tensor4d(torchConvToHwio(w, layer, scale), filterShape);
          const output = fuseRelu ? (relu as { output: TensorName }).output : bn.output;
          steps.push({ kind: "conv", input: layer.input, output, filter, bias: tf.tensor1d(bias), relu: fuseRelu, stride: layer.stride, pad: layer.pad, depthwise });
        } else if (w && (layer.bias === undefined || convBias)) {
          const filter = tf.tensor4d(torchConvToHwio(w, layer), filterShape);
          const bias = convBias === undefined ? undefined : tf.tensor1d(convBias);
          steps.push({ kind: "conv", input: layer.input, output: layer.output, filter, bias, relu: false, stride: layer.stride, pad: layer.pad, depthwise });
        }
        break;
      }
      case "batchnorm": {
        const c = layer.channels;
        const [gamma, beta, mean, variance] = ["weight", "bias", "running_mean", "running_var"].map((p) => bind.get(`${layer.param}.${p}`, [c]));
        if (gamma && beta && mean && variance) {
          steps.push({
            kind: "batchnorm", input: layer.input, output: layer.output, eps: layer.eps,
            gamma: tf.tensor1d(gamma), beta: tf.tensor1d(beta), mean: tf.tensor1d(mean), variance: tf.tensor1d(variance),
          });
        }
        break;
      }
      case "relu":
      case "silu":
      case "sigmoid":
        steps.push({ kind: layer.op, input: layer.input, output: layer.output });
        break;
      case "globalAvgPool":
        steps.push({ kind: "globalAvgPool", input: layer.input, output: layer.output, keepDims: layer.keepDims ?? false });
        break;
      case "mul":
        steps.push({ kind: "mul", inputs: layer.inputs, output: layer.output });
        break;
      case "add":
        steps.push({ kind: "add", inputs: layer.inputs, output: layer.output });
        break;
      case "concat":
        steps.push({ kind: "concat", inputs: layer.inputs, output: layer.output });
        break;
      case "avgpool":
        steps.push({ kind: "avgpool", input: layer.input, output: layer.output, kernel: layer.kernel, stride: layer.stride });
        break;
      case "maxpool":
        steps.push({ kind: "maxpool", input: layer.input, output: layer.output, kernel: layer.kernel, stride: layer.stride, pad: layer.pad });
        break;
      case "shortcutA":
        steps.push({ kind: "shortcutA", input: layer.input, output: layer.output, stride: layer.stride, padChannels: layer.padChannelsEachSide });
        break;
      case "linear": {
        const w = bind.get(`${layer.param}.weight`, [layer.outFeatures, layer.inFeatures]);
        const b = bind.get(`${layer.param}.bias`, [layer.outFeatures]);
        if (w && b) {
          // Stored as [in, out]: tfjs-backend-wasm 4.22 adds the bias wrongly in a fused matMul with transposeB.
          const weight = tf.tidy(() => tf.transpose(tf.tensor2d(w, [layer.outFeatures, layer.inFeatures]))) as tf.Tensor2D;
          steps.push({ kind: "linear", input: layer.input, output: layer.output, weight, bias: tf.tensor1d(b) });
        }
        break;
      }
    }
  }
  if (bind.problems.length > 0) {
    disposeSteps(steps);
    const shown = bind.problems.slice(0, 8).join("; ");
    const more = bind.problems.length > 8 ? `; and ${bind.problems.length - 8} more` : "";
    throw new Error(`state dict does not fit ${spec.name}: ${shown}${more}. Is it the checkpoint of this architecture (keys without the 'module.' prefix)?`);
  }
  return steps;
}

function stepInputs(step: Step): TensorName[] {
  return step.kind === "add" || step.kind === "mul" || step.kind === "concat" ? step.inputs : [step.input];
}

function stepTensors(step: Step): tf.Tensor[] {
  switch (step.kind) {
    case "conv": return step.bias ? [step.filter, step.bias] : [step.filter];
    case "batchnorm": return [step.mean, step.variance, step.gamma, step.beta];
    case "linear": return [step.weight, step.bias];
    default: return [];
  }
}

function disposeSteps(steps: Step[]): void {
  for (const step of steps) tf.dispose(stepTensors(step));
}

function run(step: Step, read: (name: TensorName) => tf.Tensor): tf.Tensor {
  switch (step.kind) {
    case "conv": {
      const x = read(step.input) as tf.Tensor4D;
      if (step.depthwise) {
        const p = step.pad;
        const padded = p === 0 ? x : tf.pad(x, [[0, 0], [p, p], [p, p], [0, 0]]);
        return tf.fused.depthwiseConv2d({ x: padded, filter: step.filter, strides: step.stride, pad: "valid", bias: step.bias, activation: step.relu ? "relu" : "linear" });
      }
      // Symmetric explicit padding as PyTorch does; TF's 'same' pads only bottom/right for stride 2.
      const pad: [[number, number], [number, number], [number, number], [number, number]] = [[0, 0], [step.pad, step.pad], [step.pad, step.pad], [0, 0]];
      return tf.fused.conv2d({ x, filter: step.filter, strides: step.stride, pad, bias: step.bias, activation: step.relu ? "relu" : "linear" });
    }
    case "batchnorm":
      return tf.batchNorm(read(step.input) as tf.Tensor4D, step.mean, step.variance, step.beta, step.gamma, step.eps);
    case "relu":
      return tf.relu(read(step.input));
    case "silu": {
      const x = read(step.input);
      return tf.mul(x, tf.sigmoid(x));
    }
    case "sigmoid":
      return tf.sigmoid(read(step.input));
    case "mul":
      return tf.mul(read(step.inputs[0]), read(step.inputs[1]));
    case "add":
      return tf.add(read(step.inputs[0]), read(step.inputs[1]));
    case "shortcutA": {
      const x = read(step.input) as tf.Tensor4D;
      const [n, h, w, c] = x.shape;
      const sub = tf.stridedSlice(x, [0, 0, 0, 0], [n, h, w, c], [1, step.stride, step.stride, 1]) as tf.Tensor4D;
      return tf.pad(sub, [[0, 0], [0, 0], [0, 0], [step.padChannels, step.padChannels]]);
    }
    case "globalAvgPool":
      return tf.mean(read(step.input), [1, 2], step.keepDims);
    case "concat":
      return tf.concat(step.inputs.map(read) as tf.Tensor4D[], 3);
    case "avgpool":
      return tf.avgPool(read(step.input) as tf.Tensor4D, step.kernel, step.stride, "valid");
    case "maxpool": {
      // Padded with -inf, as PyTorch does: a padded position never wins, whatever the sign of the activations.
      const p = step.pad;
      const padded = p === 0 ? read(step.input) : tf.pad(read(step.input) as tf.Tensor4D, [[0, 0], [p, p], [p, p], [0, 0]], -Infinity);
      return tf.maxPool(padded as tf.Tensor4D, step.kernel, step.stride, "valid");
    }
    case "linear":
      return tf.fused.matMul({ a: read(step.input) as tf.Tensor2D, b: step.weight, bias: step.bias });
  }
}

/** A named activation copied out of a forward pass: NHWC data with its shape (batch first). */
export interface NamedActivation {
  shape: number[];
  data: Float32Array;
}

/** The TF.js engine also returns any named activation of the spec, e.g. the last block's maps before pooling. */
export interface TfjsEngine extends ForwardEngine {
  /**
   * Runs the forward pass and copies out the tensors called `names` (each a layer output of the spec that the
   * executor keeps: with BatchNorm folding, a conv's or BN's own output is folded away; ReLU, add and block
   * outputs such as `layer3.2:out` always exist).
   */
  forwardNamed(images: Float32Array, count: number, names: TensorName[]): Promise<Map<TensorName, NamedActivation>>;
}

class TfjsResNetEngine implements TfjsEngine {
  private steps: Step[] | undefined;
  /** Index of the last step reading each tensor, so activations are freed as soon as they are dead. */
  private readonly lastUse = new Map<TensorName, number>();
  private readonly produced: Set<TensorName>;

  constructor(readonly spec: ModelSpec, steps: Step[]) {
    this.steps = steps;
    steps.forEach((step, i) => {
      for (const name of stepInputs(step)) this.lastUse.set(name, i);
    });
    this.produced = new Set([spec.input, ...steps.map((s) => s.output)]);
  }

  get backend(): string {
    return `tfjs/${tf.getBackend()}`;
  }

  /** Runs every step and returns the tensors called `keep` (the caller disposes them). */
  private execute(images: Float32Array, count: number, keep: TensorName[]): tf.Tensor[] {
    const steps = this.steps;
    if (steps === undefined) throw new Error(`${this.spec.name} engine was disposed; load the model again`);
    const [h, w, c] = this.spec.inputShape;
    if (!Number.isInteger(count) || count < 1 || images.length !== count * h * w * c) {
      throw new Error(`forward expects ${count} x ${h} x ${w} x ${c} = ${count * h * w * c} values (NHWC), got ${images.length}`);
    }
    const missing = keep.filter((name) => !this.produced.has(name));
    if (missing.length > 0) {
      throw new Error(
        `${this.spec.name} has no tensor ${missing.map((n) => `'${n}'`).join(", ")} in this executor ` +
          `(a conv/BN output folded away, or a misspelt name); available: ${[...this.produced].join(", ")}`,
      );
    }
    const kept = new Set(keep);
    return tf.tidy(() => {
      const live = new Map<TensorName, tf.Tensor>([[this.spec.input, tf.tensor4d(images, [count, h, w, c])]]);
      const read = (name: TensorName): tf.Tensor => {
        const t = live.get(name);
        if (t === undefined) throw new Error(`${this.spec.name}: tensor '${name}' is read before it is produced`);
        return t;
      };
      steps.forEach((step, i) => {
        live.set(step.output, run(step, read));
        // A batch of activations is large (256 images x 16 x 32 x 32 floats = 16 MiB); free each once dead.
        for (const name of stepInputs(step)) {
          if (this.lastUse.get(name) === i && !kept.has(name)) live.get(name)?.dispose();
        }
      });
      return keep.map(read);
    });
  }

  async forward(images: Float32Array, count: number): Promise<ForwardResult> {
    const { features, logits, stages } = this.spec.outputs;
    const tensors = this.execute(images, count, [features, logits, ...(stages ?? [])]);
    try {
      const [f, l, ...s] = (await Promise.all(tensors.map((t) => t.data()))) as Float32Array[];
      return { features: f, logits: l, ...(stages === undefined ? {} : { stages: s }) };
    } finally {
      tf.dispose(tensors);
    }
  }

  async forwardNamed(images: Float32Array, count: number, names: TensorName[]): Promise<Map<TensorName, NamedActivation>> {
    if (names.length === 0) throw new Error("forwardNamed needs at least one tensor name, e.g. the last block's 'layer3.2:out'");
    const tensors = this.execute(images, count, names);
    try {
      const data = await Promise.all(tensors.map((t) => t.data()));
      return new Map(names.map((name, i) => [name, { shape: tensors[i].shape.slice(), data: data[i] as Float32Array }]));
    } finally {
      tf.dispose(tensors);
    }
  }

  dispose(): void {
    if (this.steps) disposeSteps(this.steps);
    this.steps = undefined;
  }
}

/** Binds the state dict to the spec on the active TF.js backend (call initBackend() first to choose it). */
export function createTfjsEngine(spec: ModelSpec, stateDict: StateDict, options: TfjsEngineOptions = {}): TfjsEngine {
  return new TfjsResNetEngine(spec, compile(spec, stateDict, options.foldBatchNorm ?? true));
}
