import * as tf from "@tensorflow/tfjs";
import { selectBackend } from "../../src/backend";
import { batchNormTrain, registerTrainingKernels, updateRunningStats } from "../../src/training";
import { mulberry32 } from "../../src/data";

const quiet = { logger: () => {} };

function random(n: number, seed: number): Float32Array {
  const rng = mulberry32(seed);
  return Float32Array.from({ length: n }, () => rng() * 2 - 1);
}

type Pad = number | "same" | "valid";
interface ConvCase { n: number; h: number; w: number; ci: number; co: number; k: number; stride: number; pad: Pad }

const CASES: ConvCase[] = [
  { n: 2, h: 8, w: 8, ci: 3, co: 4, k: 3, stride: 1, pad: 1 },
  { n: 2, h: 8, w: 8, ci: 3, co: 4, k: 3, stride: 2, pad: 1 },
  { n: 1, h: 7, w: 9, ci: 2, co: 3, k: 3, stride: 2, pad: 1 },
  { n: 2, h: 6, w: 6, ci: 2, co: 2, k: 1, stride: 2, pad: 0 },
  { n: 1, h: 6, w: 5, ci: 2, co: 3, k: 3, stride: 2, pad: "same" },
  { n: 1, h: 7, w: 7, ci: 2, co: 3, k: 3, stride: 2, pad: "valid" },
];

/** Gradients of sum(conv(x, f) * r) with respect to x and f on the active backend. */
function convGrads(c: ConvCase, seed: number): { dx: Float32Array; df: Float32Array } {
  return tf.tidy(() => {
    const x = tf.tensor4d(random(c.n * c.h * c.w * c.ci, seed), [c.n, c.h, c.w, c.ci]);
    const f = tf.tensor4d(random(c.k * c.k * c.ci * c.co, seed + 1), [c.k, c.k, c.ci, c.co]);
    const pad = typeof c.pad === "number" ? ([[0, 0], [c.pad, c.pad], [c.pad, c.pad], [0, 0]] as tf.backend_util.ExplicitPadding) : c.pad;
    const outShape = tf.conv2d(x, f, c.stride, pad).shape;
    const r = tf.tensor(random(outShape.reduce((a, b) => a * b, 1), seed + 2), outShape);
    const [dx, df] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.stride, pad), r)))([x, f]);
    return { dx: dx.dataSync() as Float32Array, df: df.dataSync() as Float32Array };
  });
}

describe("WASM training kernels", () => {
  it("Conv2DBackpropFilter and Conv2DBackpropInput on wasm match the cpu backend's kernels", async () => {
    await selectBackend({ ...quiet, force: "cpu" });
    const reference = CASES.map((c, i) => convGrads(c, 10 * i));
    await selectBackend({ ...quiet, force: "wasm" });
    // Without the registration, the filter gradient has no wasm kernel at all.
    expect(() => convGrads(CASES[0], 0)).toThrow(/Conv2DBackpropFilter/);
    registerTrainingKernels();
    CASES.forEach((c, i) => {
      const got = convGrads(c, 10 * i);
      expect(got.df.length).toBe(reference[i].df.length);
      got.df.forEach((v, j) => expect(v).toBeCloseTo(reference[i].df[j], 4));
      got.dx.forEach((v, j) => expect(v).toBeCloseTo(reference[i].dx[j], 4));
    });
  });
});

describe("training-mode BatchNorm", () => {
  beforeAll(() => selectBackend({ ...quiet, force: "cpu" }));

  it("normalises with the biased batch statistics and backpropagates the closed-form gradient", () => {
    const [n, h, w, c] = [3, 2, 2, 2];
    const count = n * h * w;
    const x = random(count * c, 7);
    const gamma = Float32Array.from([1.5, -0.5]);
    const beta = Float32Array.from([0.25, 2]);
    const dy = random(count * c, 8);
    const eps = 1e-5;
    const { y, mean, variance, dx, dgamma, dbeta } = tf.tidy(() => {
      const xt = tf.tensor4d(x, [n, h, w, c]);
      const g = tf.tensor1d(gamma);
      const b = tf.tensor1d(beta);
      const fwd = batchNormTrain(xt, g, b, eps);
      const [gx, gg, gb] = tf.grads((a: tf.Tensor, gg2: tf.Tensor, bb: tf.Tensor) =>
        tf.sum(tf.mul(batchNormTrain(a as tf.Tensor4D, gg2 as tf.Tensor1D, bb as tf.Tensor1D, eps).y, tf.tensor4d(dy, [n, h, w, c]))),
      )([xt, g, b]);
      return { y: fwd.y.dataSync(), mean: fwd.mean.dataSync(), variance: fwd.variance.dataSync(), dx: gx.dataSync(), dgamma: gg.dataSync(), dbeta: gb.dataSync() };
    });
    for (let ch = 0; ch < c; ch++) {
      const xs = Array.from({ length: count }, (_, i) => x[i * c + ch]);
      const dys = Array.from({ length: count }, (_, i) => dy[i * c + ch]);
      const mu = xs.reduce((a, b) => a + b, 0) / count;
      const v = xs.reduce((a, b) => a + (b - mu) ** 2, 0) / count;
      const inv = 1 / Math.sqrt(v + eps);
      const xhat = xs.map((xi) => (xi - mu) * inv);
      expect(mean[ch]).toBeCloseTo(mu, 5);
      expect(variance[ch]).toBeCloseTo(v, 5);
      const sumDy = dys.reduce((a, b) => a + b, 0);
      const sumDyXhat = dys.reduce((a, d, i) => a + d * xhat[i], 0);
      expect(dbeta[ch]).toBeCloseTo(sumDy, 4);
      expect(dgamma[ch]).toBeCloseTo(sumDyXhat, 4);
      for (let i = 0; i < count; i++) {
        expect(y[i * c + ch]).toBeCloseTo(gamma[ch] * xhat[i] + beta[ch], 4);
        // dx = gamma / (N sigma) * (N dy - sum dy - xhat sum(dy xhat))
        const expected = ((gamma[ch] * inv) / count) * (count * dys[i] - sumDy - xhat[i] * sumDyXhat);
        expect(dx[i * c + ch]).toBeCloseTo(expected, 4);
      }
    }
  });

  it("updates running statistics as PyTorch does (momentum 0.1, unbiased variance)", () => {
    const runningMean = Float32Array.from([0, 1]);
    const runningVar = Float32Array.from([1, 2]);
    updateRunningStats(runningMean, runningVar, Float32Array.from([2, -1]), Float32Array.from([3, 0.5]), 4);
    expect(runningMean[0]).toBeCloseTo(0.9 * 0 + 0.1 * 2, 6);
    expect(runningMean[1]).toBeCloseTo(0.9 * 1 + 0.1 * -1, 6);
    expect(runningVar[0]).toBeCloseTo(0.9 * 1 + 0.1 * 3 * (4 / 3), 6);
    expect(runningVar[1]).toBeCloseTo(0.9 * 2 + 0.1 * 0.5 * (4 / 3), 6);
  });
});
