/**
 * Test-only reference executor: a direct float64 loop implementation of every ModelSpec layer over NHWC
 * typed arrays, with BatchNorm unfolded, so engines can be checked against an independent computation.
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

function param(sd: StateDict, key: string): Float32Array {
  const t = sd.get(key);
  if (!t) throw new Error(`reference forward: missing ${key}`);
  return t.data;
}

export function referenceForward(spec: ModelSpec, sd: StateDict, images: Float32Array, count: number): { features: Float64Array; logits: Float64Array } {
  const [h0, w0, c0] = spec.inputShape;
  const acts = new Map<string, Activation>();
  acts.set(spec.input, { h: h0, w: w0, c: c0, data: Float64Array.from(images.subarray(0, count * h0 * w0 * c0)) });
  const get = (name: string) => acts.get(name)!;
  for (const l of spec.layers) {
    switch (l.op) {
      case "conv2d": {
        const x = get(l.input);
        const wt = param(sd, l.weight);
        const k = l.kernel;
        const ho = Math.floor((x.h + 2 * l.pad - k) / l.stride) + 1;
        const wo = Math.floor((x.w + 2 * l.pad - k) / l.stride) + 1;
        const out = new Float64Array(count * ho * wo * l.outChannels);
        for (let n = 0; n < count; n++)
          for (let oy = 0; oy < ho; oy++)
            for (let ox = 0; ox < wo; ox++)
              for (let o = 0; o < l.outChannels; o++) {
                let s = 0;
                for (let ky = 0; ky < k; ky++) {
                  const iy = oy * l.stride - l.pad + ky;
                  if (iy < 0 || iy >= x.h) continue;
                  for (let kx = 0; kx < k; kx++) {
                    const ix = ox * l.stride - l.pad + kx;
                    if (ix < 0 || ix >= x.w) continue;
                    for (let i = 0; i < l.inChannels; i++) {
                      s += x.data[((n * x.h + iy) * x.w + ix) * x.c + i] * wt[((o * l.inChannels + i) * k + ky) * k + kx];
                    }
                  }
                }
                out[((n * ho + oy) * wo + ox) * l.outChannels + o] = s;
              }
        acts.set(l.output, { h: ho, w: wo, c: l.outChannels, data: out });
        break;
      }
      case "batchnorm": {
        const x = get(l.input);
        const [g, b, m, v] = ["weight", "bias", "running_mean", "running_var"].map((s) => param(sd, `${l.param}.${s}`));
        const out = x.data.map((val, idx) => {
          const ch = idx % x.c;
          return ((val - m[ch]) / Math.sqrt(v[ch] + l.eps)) * g[ch] + b[ch];
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
      case "globalAvgPool": {
        const x = get(l.input);
        const out = new Float64Array(count * x.c);
        const plane = x.h * x.w;
        for (let n = 0; n < count; n++)
          for (let p = 0; p < plane; p++)
            for (let ch = 0; ch < x.c; ch++) out[n * x.c + ch] += x.data[(n * plane + p) * x.c + ch] / plane;
        acts.set(l.output, { h: 1, w: 1, c: x.c, data: out });
        break;
      }
      case "linear": {
        const x = get(l.input);
        const wt = param(sd, `${l.param}.weight`);
        const bias = param(sd, `${l.param}.bias`);
        const out = new Float64Array(count * l.outFeatures);
        for (let n = 0; n < count; n++)
          for (let o = 0; o < l.outFeatures; o++) {
            let s = bias[o];
            for (let i = 0; i < l.inFeatures; i++) s += x.data[n * l.inFeatures + i] * wt[o * l.inFeatures + i];
            out[n * l.outFeatures + o] = s;
          }
        acts.set(l.output, { h: 1, w: 1, c: l.outFeatures, data: out });
        break;
      }
    }
  }
  return { features: get(spec.outputs.features).data, logits: get(spec.outputs.logits).data };
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
