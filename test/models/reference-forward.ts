/**
 * Test-only reference executor: a direct float64 loop implementation of every ModelSpec layer the CIFAR and
 * reduced torchvision ResNets use, over NHWC typed arrays, with BatchNorm unfolded, so engines can be checked
 * against an independent computation. With `batchNorm: "batch"` it is the training forward (each BatchNorm
 * normalises with its batch's biased mean and variance, as PyTorch's train mode and our training step do), and
 * `trainingLoss` is the objective a training step differentiates, in float64: a reference for gradient checks
 * that carries no float32 rounding of its own.
 */
import type { ModelSpec } from "../../src/models/spec";
import type { StateDict } from "../../src/torch";
import { mulberry32 } from "../../src/data/prng";

interface Activation {
  h: number;
  w: number;
  c: number;
  data: Float64Array; // count x h x w x c
}

export interface ReferenceOptions {
  /** running: the checkpoint's statistics (inference, default); batch: the batch's own (training). */
  batchNorm?: "running" | "batch";
  /** count x features: each image's pooled features are multiplied by its row before the head (CSG's gates). */
  gateRows?: ArrayLike<number>;
  /** classes x features 0/1: the head's weight is multiplied by it (the decomposed layer). */
  headMask?: ArrayLike<number>;
}

function param(sd: StateDict, key: string): Float32Array {
  const t = sd.get(key);
  if (!t) throw new Error(`reference forward: missing ${key}`);
  return t.data;
}

export function referenceForward(spec: ModelSpec, sd: StateDict, images: ArrayLike<number>, count: number, options: ReferenceOptions = {}): { features: Float64Array; logits: Float64Array } {
  const [h0, w0, c0] = spec.inputShape;
  const acts = new Map<string, Activation>();
  acts.set(spec.input, { h: h0, w: w0, c: c0, data: Float64Array.from({ length: count * h0 * w0 * c0 }, (_, i) => images[i]) });
  const get = (name: string) => acts.get(name)!;
  for (const l of spec.layers) {
    switch (l.op) {
      case "conv2d": {
        const x = get(l.input);
        const wt = param(sd, l.weight);
        const bias = l.bias === undefined ? undefined : param(sd, l.bias);
        const { kernel: k, stride, pad } = l;
        const groups = l.groups ?? 1;
        const inPer = l.inChannels / groups;
        const outPer = l.outChannels / groups;
        const ho = Math.floor((x.h + 2 * pad - k) / stride) + 1;
        const wo = Math.floor((x.w + 2 * pad - k) / stride) + 1;
        const out = new Float64Array(count * ho * wo * l.outChannels);
        for (let n = 0; n < count; n++)
          for (let oy = 0; oy < ho; oy++)
            for (let ox = 0; ox < wo; ox++)
              for (let o = 0; o < l.outChannels; o++) {
                const first = Math.floor(o / outPer) * inPer;
                let s = bias === undefined ? 0 : bias[o];
                for (let ky = 0; ky < k; ky++) {
                  const iy = oy * stride - pad + ky;
                  if (iy < 0 || iy >= x.h) continue;
                  for (let kx = 0; kx < k; kx++) {
                    const ix = ox * stride - pad + kx;
                    if (ix < 0 || ix >= x.w) continue;
                    const at = ((n * x.h + iy) * x.w + ix) * x.c + first;
                    for (let i = 0; i < inPer; i++) s += x.data[at + i] * wt[((o * inPer + i) * k + ky) * k + kx];
                  }
                }
                out[((n * ho + oy) * wo + ox) * l.outChannels + o] = s;
              }
        acts.set(l.output, { h: ho, w: wo, c: l.outChannels, data: out });
        break;
      }
      case "batchnorm": {
        const x = get(l.input);
        const [g, b] = ["weight", "bias"].map((s) => param(sd, `${l.param}.${s}`));
        const { mean, variance } = options.batchNorm === "batch" ? batchMoments(x) : { mean: param(sd, `${l.param}.running_mean`), variance: param(sd, `${l.param}.running_var`) };
        const out = x.data.map((val, idx) => {
          const ch = idx % x.c;
          return ((val - mean[ch]) / Math.sqrt(variance[ch] + l.eps)) * g[ch] + b[ch];
        });
        acts.set(l.output, { ...x, data: out });
        break;
      }
      case "relu": {
        const x = get(l.input);
        acts.set(l.output, { ...x, data: x.data.map((v) => Math.max(0, v)) });
        break;
      }
      case "add": {
        const [a, b] = l.inputs.map(get);
        acts.set(l.output, { ...a, data: a.data.map((v, i) => v + b.data[i]) });
        break;
      }
      case "shortcutA": {
        const x = get(l.input);
        const p = l.padChannelsEachSide;
        const ho = Math.ceil(x.h / l.stride);
        const wo = Math.ceil(x.w / l.stride);
        const co = x.c + 2 * p;
        const out = new Float64Array(count * ho * wo * co);
        for (let n = 0; n < count; n++)
          for (let y = 0; y < ho; y++)
            for (let xx = 0; xx < wo; xx++)
              for (let ch = 0; ch < x.c; ch++) {
                out[((n * ho + y) * wo + xx) * co + ch + p] = x.data[((n * x.h + y * l.stride) * x.w + xx * l.stride) * x.c + ch];
              }
        acts.set(l.output, { h: ho, w: wo, c: co, data: out });
        break;
      }
      case "maxpool": {
        const x = get(l.input);
        const ho = Math.floor((x.h + 2 * l.pad - l.kernel) / l.stride) + 1;
        const wo = Math.floor((x.w + 2 * l.pad - l.kernel) / l.stride) + 1;
        const out = new Float64Array(count * ho * wo * x.c).fill(-Infinity);
        for (let n = 0; n < count; n++)
          for (let oy = 0; oy < ho; oy++)
            for (let ox = 0; ox < wo; ox++)
              for (let ky = 0; ky < l.kernel; ky++)
                for (let kx = 0; kx < l.kernel; kx++) {
                  const iy = oy * l.stride - l.pad + ky;
                  const ix = ox * l.stride - l.pad + kx;
                  if (iy < 0 || iy >= x.h || ix < 0 || ix >= x.w) continue;
                  for (let ch = 0; ch < x.c; ch++) {
                    const o = ((n * ho + oy) * wo + ox) * x.c + ch;
                    out[o] = Math.max(out[o], x.data[((n * x.h + iy) * x.w + ix) * x.c + ch]);
                  }
                }
        acts.set(l.output, { h: ho, w: wo, c: x.c, data: out });
        break;
      }
      case "globalAvgPool": {
        const x = get(l.input);
        const out = new Float64Array(count * x.c);
        const plane = x.h * x.w;
        for (let n = 0; n < count; n++)
          for (let p = 0; p < plane; p++)
            for (let ch = 0; ch < x.c; ch++) out[n * x.c + ch] += x.data[(n * plane + p) * x.c + ch] / plane;
        if (l.output === spec.outputs.features && options.gateRows !== undefined) {
          for (let i = 0; i < out.length; i++) out[i] *= options.gateRows[i];
        }
        acts.set(l.output, { h: 1, w: 1, c: x.c, data: out });
        break;
      }
      case "linear": {
        const x = get(l.input);
        const wt = param(sd, `${l.param}.weight`);
        const bias = param(sd, `${l.param}.bias`);
        const mask = l.output === spec.outputs.logits ? options.headMask : undefined;
        const out = new Float64Array(count * l.outFeatures);
        for (let n = 0; n < count; n++)
          for (let o = 0; o < l.outFeatures; o++) {
            let s = bias[o];
            for (let i = 0; i < l.inFeatures; i++) {
              const at = o * l.inFeatures + i;
              s += x.data[n * l.inFeatures + i] * wt[at] * (mask === undefined ? 1 : mask[at]);
            }
            out[n * l.outFeatures + o] = s;
          }
        acts.set(l.output, { h: 1, w: 1, c: l.outFeatures, data: out });
        break;
      }
      default:
        throw new Error(`reference forward: no float64 implementation of '${l.op}'`);
    }
  }
  return { features: get(spec.outputs.features).data, logits: get(spec.outputs.logits).data };
}

/** Per channel, the mean and biased variance over every image and position. */
function batchMoments(x: Activation): { mean: Float64Array; variance: Float64Array } {
  const mean = new Float64Array(x.c);
  const variance = new Float64Array(x.c);
  const n = x.data.length / x.c;
  for (let i = 0; i < x.data.length; i++) mean[i % x.c] += x.data[i] / n;
  for (let i = 0; i < x.data.length; i++) variance[i % x.c] += (x.data[i] - mean[i % x.c]) ** 2 / n;
  return { mean, variance };
}

/** Mean softmax cross-entropy of the training forward (BatchNorm on batch statistics), in float64. */
export function trainingLoss(spec: ModelSpec, sd: StateDict, images: ArrayLike<number>, labels: ArrayLike<number>, options: Omit<ReferenceOptions, "batchNorm"> = {}): number {
  const count = labels.length;
  const { logits } = referenceForward(spec, sd, images, count, { ...options, batchNorm: "batch" });
  let loss = 0;
  for (let n = 0; n < count; n++) {
    const row = logits.subarray(n * spec.classes, (n + 1) * spec.classes);
    const top = row.reduce((a, b) => Math.max(a, b), -Infinity);
    const logSum = top + Math.log(row.reduce((s, v) => s + Math.exp(v - top), 0));
    loss += (logSum - row[labels[n]]) / count;
  }
  return loss;
}

/**
 * d f / d x of a float32 parameter now at `x`, by a float64 central difference over steps float32 can hold:
 * x + h and x - h are rounded to float32 (the parameter is stored as one) and the difference divides by the
 * steps actually taken. Its error is about h^2 |f'''| / 6 from the Taylor series plus 1e-16 |f| / h from
 * rounding, both below 1e-9 at h = 1e-6 for these O(1) losses. The objective is only piecewise smooth: a ReLU
 * kink within h of the point bends the difference, and a first-layer weight moves every activation of its
 * channel, so kinks lie close (ResNet8's conv1.weight[5] in the train-step test: h = 1e-5 missed the gradient
 * by 6e-6, h = 1e-6 by 5e-9). Hence the small default step.
 */
export function float64Derivative(x: number, at: (value: number) => number, h = 1e-6): number {
  const up = Math.fround(x + h);
  const down = Math.fround(x - h);
  return (at(up) - at(down)) / (up - down);
}

/** Random but well-scaled weights for every parameter the spec names. */
export function randomStateDict(spec: ModelSpec, seed: number): StateDict {
  const rand = mulberry32(seed);
  const uniform = (n: number, lo: number, hi: number) => Float32Array.from({ length: n }, () => lo + (hi - lo) * rand());
  const sd: StateDict = new Map();
  const put = (key: string, shape: number[], data: Float32Array) => sd.set(key, { shape, data });
  for (const l of spec.layers) {
    if (l.op === "conv2d") {
      const fanIn = l.inChannels * l.kernel * l.kernel;
      const bound = Math.sqrt(6 / fanIn);
      put(l.weight, [l.outChannels, l.inChannels, l.kernel, l.kernel], uniform(l.outChannels * fanIn, -bound, bound));
    } else if (l.op === "batchnorm") {
      put(`${l.param}.weight`, [l.channels], uniform(l.channels, 0.5, 1.5));
      put(`${l.param}.bias`, [l.channels], uniform(l.channels, -0.2, 0.2));
      put(`${l.param}.running_mean`, [l.channels], uniform(l.channels, -0.2, 0.2));
      put(`${l.param}.running_var`, [l.channels], uniform(l.channels, 0.5, 1.5));
    } else if (l.op === "linear") {
      put(`${l.param}.weight`, [l.outFeatures, l.inFeatures], uniform(l.outFeatures * l.inFeatures, -0.3, 0.3));
      put(`${l.param}.bias`, [l.outFeatures], uniform(l.outFeatures, -0.1, 0.1));
    }
  }
  return sd;
}
