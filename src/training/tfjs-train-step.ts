/**
 * One training step of a CIFAR ResNet spec on the active TF.js backend: BatchNorm in training mode (batch
 * statistics), the decomposed (masked) head, softmax cross-entropy, gradients of every trainable parameter.
 * Parameters come in and gradients go out as typed arrays in PyTorch layout; nothing persists between calls.
 */
import * as tf from "@tensorflow/tfjs";
import type { ModelSpec, TensorName } from "../models/spec";
import type { StateDict } from "../torch";
import { headBiasName, headWeightName, trainableNames } from "./params";

export interface BatchStats {
  /** Biased batch mean and variance per channel, as used in the forward. */
  mean: Float32Array;
  variance: Float32Array;
  /** Values per channel the statistics were taken over (N x H x W). */
  count: number;
}

export interface TrainStepResult {
  /** Mean cross-entropy over the batch. */
  loss: number;
  /** Images whose argmax logit is their label. */
  correct: number;
  grads: Map<string, Float32Array>;
  /** Per BatchNorm layer (by state-dict prefix). */
  batchStats: Map<string, BatchStats>;
  /** Gated steps only: d loss / d gate row of each image, count x features. */
  gateGrad?: Float32Array;
}

/** logits = f (W * mask)^T + b: the decomposed layer as a masked full layer. */
export function maskedLinear(features: tf.Tensor2D, weight: tf.Tensor2D, mask: tf.Tensor2D, bias: tf.Tensor1D): tf.Tensor2D {
  return tf.add(tf.matMul(features, tf.mul(weight, mask), false, true), bias);
}

/** Training-mode BatchNorm over NHWC: normalise with the batch's biased mean and variance. */
export function batchNormTrain(x: tf.Tensor4D, gamma: tf.Tensor1D, beta: tf.Tensor1D, eps: number): { y: tf.Tensor4D; mean: tf.Tensor1D; variance: tf.Tensor1D } {
  const { mean, variance } = tf.moments(x, [0, 1, 2]);
  // y = x * scale + shift with per-channel scale, shift: two full-size ops instead of four.
  const scale = tf.mul(gamma, tf.rsqrt(tf.add(variance, eps)));
  const shift = tf.sub(beta, tf.mul(mean, scale));
  return { y: tf.add(tf.mul(x, scale), shift), mean: mean as tf.Tensor1D, variance: variance as tf.Tensor1D };
}

/**
 * Option-A shortcut without stridedSlice (which has no gradient in TF.js): keep every stride-th row, then every
 * stride-th column, each as a rank-3 slice (the WASM backend's rank-6 slice is a slow generic loop), then pad channels.
 */
function shortcutA(x: tf.Tensor4D, stride: number, padChannels: number): tf.Tensor4D {
  const [n, h, w, c] = x.shape;
  const rows = tf.slice(tf.reshape(x, [n * (h / stride), stride, w * c]), [0, 0, 0], [-1, 1, -1]);
  const cols = tf.slice(tf.reshape(rows, [n * (h / stride) * (w / stride), stride, c]), [0, 0, 0], [-1, 1, -1]);
  return tf.pad(tf.reshape(cols, [n, h / stride, w / stride, c]), [[0, 0], [0, 0], [0, 0], [padChannels, padChannels]]);
}

function checkStride(spec: ModelSpec): void {
  const [h, w] = spec.inputShape;
  for (const layer of spec.layers) {
    if (layer.op === "shortcutA" && (h % layer.stride !== 0 || w % layer.stride !== 0)) {
      throw new Error(`${spec.name}: shortcut stride ${layer.stride} does not divide the input size`);
    }
  }
}

/**
 * Forward + backward of one batch (already normalised NHWC images). `mask` is the classes x features 0/1
 * head mask; pass all ones for an ordinary full head. With `gate` (count x features) the pooled features are
 * multiplied by each image's gate row before the head, and the gradient of those rows comes back as gateGrad.
 */
export function tfjsTrainStep(
  spec: ModelSpec,
  stateDict: StateDict,
  mask: Float32Array,
  images: Float32Array,
  labels: ArrayLike<number>,
  count: number,
  gate?: Float32Array,
): TrainStepResult {
  checkStride(spec);
  const [h, w, c] = spec.inputShape;
  if (images.length !== count * h * w * c) throw new Error(`train step expects ${count} x ${h} x ${w} x ${c} values, got ${images.length}`);
  if (labels.length !== count) throw new Error(`train step got ${labels.length} labels for ${count} images`);
  const names = trainableNames(spec);
  const kept: tf.Tensor[] = [];
  const statTensors = new Map<string, { mean: tf.Tensor1D; variance: tf.Tensor1D; count: number }>();
  let logitsKept: tf.Tensor2D | undefined;

  const { value, grads } = tf.tidy(() => {
    const paramTensors = names.map((name) => {
      const t = stateDict.get(name);
      if (t === undefined) throw new Error(`state dict has no '${name}' (needed to train ${spec.name})`);
      return tf.tensor(t.data, t.shape);
    });
    const byName = new Map(names.map((n, i) => [n, i]));
    const input = tf.tensor4d(images, [count, h, w, c]);
    const onehot = tf.oneHot(tf.tensor1d(Array.from(labels), "int32"), spec.classes);
    const maskT = tf.tensor2d(mask, [spec.classes, spec.featureWidth]);
    if (gate !== undefined) paramTensors.push(tf.tensor2d(gate, [count, spec.featureWidth]));

    const lossOf = (...params: tf.Tensor[]): tf.Scalar => {
      const p = (name: string) => params[byName.get(name) as number];
      const gateT = gate === undefined ? undefined : (params[names.length] as tf.Tensor2D);
      const live = new Map<TensorName, tf.Tensor>([[spec.input, input]]);
      const read = (name: TensorName) => live.get(name) as tf.Tensor;
      for (const layer of spec.layers) {
        switch (layer.op) {
          case "conv2d": {
            const filter = tf.transpose(p(layer.weight), [2, 3, 1, 0]) as tf.Tensor4D;
            const pad = layer.pad;
            live.set(layer.output, tf.conv2d(read(layer.input) as tf.Tensor4D, filter, layer.stride, [[0, 0], [pad, pad], [pad, pad], [0, 0]]));
            break;
          }
          case "batchnorm": {
            const bn = batchNormTrain(read(layer.input) as tf.Tensor4D, p(`${layer.param}.weight`) as tf.Tensor1D, p(`${layer.param}.bias`) as tf.Tensor1D, layer.eps);
            const [n, hh, ww] = (read(layer.input) as tf.Tensor4D).shape;
            statTensors.set(layer.param, { mean: tf.keep(bn.mean), variance: tf.keep(bn.variance), count: n * hh * ww });
            kept.push(bn.mean, bn.variance);
            live.set(layer.output, bn.y);
            break;
          }
          case "relu":
            live.set(layer.output, tf.relu(read(layer.input)));
            break;
          case "add":
            live.set(layer.output, tf.add(read(layer.inputs[0]), read(layer.inputs[1])));
            break;
          case "shortcutA":
            live.set(layer.output, shortcutA(read(layer.input) as tf.Tensor4D, layer.stride, layer.padChannelsEachSide));
            break;
          case "maxpool": {
            // Padded with -inf, as PyTorch does: a padded position never wins.
            const q = layer.pad;
            const padded = q === 0 ? read(layer.input) : tf.pad(read(layer.input) as tf.Tensor4D, [[0, 0], [q, q], [q, q], [0, 0]], -Infinity);
            live.set(layer.output, tf.maxPool(padded as tf.Tensor4D, layer.kernel, layer.stride, "valid"));
            break;
          }
          case "globalAvgPool": {
            const pooled = tf.mean(read(layer.input), [1, 2]);
            live.set(layer.output, gateT === undefined ? pooled : tf.mul(pooled, gateT));
            break;
          }
          case "linear":
            live.set(layer.output, maskedLinear(read(layer.input) as tf.Tensor2D, p(`${layer.param}.weight`) as tf.Tensor2D, maskT, p(`${layer.param}.bias`) as tf.Tensor1D));
            break;
        }
      }
      const logits = read(spec.outputs.logits) as tf.Tensor2D;
      logitsKept = tf.keep(logits);
      kept.push(logits);
      return tf.neg(tf.mean(tf.sum(tf.mul(onehot, tf.logSoftmax(logits)), 1))) as tf.Scalar;
    };
    return tf.valueAndGrads(lossOf)(paramTensors);
  });

  try {
    const loss = value.dataSync()[0];
    const gradMap = new Map<string, Float32Array>();
    names.forEach((name, i) => gradMap.set(name, grads[i].dataSync() as Float32Array));
    const gateGrad = gate === undefined ? undefined : (grads[names.length].dataSync() as Float32Array);
    const logits = (logitsKept as tf.Tensor2D).dataSync();
    let correct = 0;
    for (let i = 0; i < count; i++) {
      let best = 0;
      for (let y = 1; y < spec.classes; y++) if (logits[i * spec.classes + y] > logits[i * spec.classes + best]) best = y;
      if (best === labels[i]) correct++;
    }
    const batchStats = new Map<string, BatchStats>();
    for (const [param, s] of statTensors) {
      batchStats.set(param, { mean: s.mean.dataSync() as Float32Array, variance: s.variance.dataSync() as Float32Array, count: s.count });
    }
    return { loss, correct, grads: gradMap, batchStats, gateGrad };
  } finally {
    tf.dispose([value, ...grads, ...kept]);
  }
}

/** Logits of the masked head on given features, as the training forward computes them. */
export function maskedHeadLogits(spec: ModelSpec, stateDict: StateDict, mask: Float32Array, features: Float32Array, rows: number): Float32Array {
  const w = stateDict.get(headWeightName(spec));
  const b = stateDict.get(headBiasName(spec));
  if (w === undefined || b === undefined) throw new Error(`state dict has no '${headWeightName(spec)}' / '${headBiasName(spec)}'`);
  return tf.tidy(() =>
    maskedLinear(
      tf.tensor2d(features, [rows, spec.featureWidth]),
      tf.tensor2d(w.data, [spec.classes, spec.featureWidth]),
      tf.tensor2d(mask, [spec.classes, spec.featureWidth]),
      tf.tensor1d(b.data),
    ).dataSync() as Float32Array,
  );
}
