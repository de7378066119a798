/**
 * Random initial weights for training from scratch, as the CIFAR ResNet recipe (akamaster/pytorch_resnet_cifar10)
 * sets them: Kaiming-normal convolution and linear weights (fan in, gain sqrt 2), PyTorch's default uniform
 * linear bias, BatchNorm at weight 1, bias 0, running mean 0 and variance 1. Any description gets weights this
 * way (grouped convolutions by their fan in, convolution biases like linear ones), which is what the benchmarks
 * and tests of the torchvision families run on where the published weights are not at hand.
 */
import { mulberry32 } from "../data";
import { convWeightShape, type ModelSpec } from "../models/spec";
import type { StateDict } from "../torch";

export function initialStateDict(spec: ModelSpec, seed: number): StateDict {
  const rng = mulberry32(seed);
  // Box-Muller; 1 - u keeps the logarithm finite.
  const normal = () => Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());
  const sd: StateDict = new Map();
  // A plain loop: Float32Array.from over an array-like takes V8's generic path, seconds per million values.
  const filled = (n: number, value: () => number) => {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = value();
    return out;
  };
  for (const l of spec.layers) {
    if (l.op === "conv2d") {
      const shape = convWeightShape(l);
      const fanIn = shape[1] * l.kernel * l.kernel;
      sd.set(l.weight, { shape, data: filled(l.outChannels * fanIn, () => normal() * Math.sqrt(2 / fanIn)) });
      if (l.bias !== undefined) sd.set(l.bias, { shape: [l.outChannels], data: filled(l.outChannels, () => (2 * rng() - 1) / Math.sqrt(fanIn)) });
    } else if (l.op === "batchnorm") {
      const c = l.channels;
      sd.set(`${l.param}.weight`, { shape: [c], data: new Float32Array(c).fill(1) });
      sd.set(`${l.param}.bias`, { shape: [c], data: new Float32Array(c) });
      sd.set(`${l.param}.running_mean`, { shape: [c], data: new Float32Array(c) });
      sd.set(`${l.param}.running_var`, { shape: [c], data: new Float32Array(c).fill(1) });
    } else if (l.op === "linear") {
      const bound = 1 / Math.sqrt(l.inFeatures);
      sd.set(`${l.param}.weight`, { shape: [l.outFeatures, l.inFeatures], data: filled(l.outFeatures * l.inFeatures, () => normal() * Math.sqrt(2 / l.inFeatures)) });
      sd.set(`${l.param}.bias`, { shape: [l.outFeatures], data: filled(l.outFeatures, () => (2 * rng() - 1) * bound) });
    }
  }
  return sd;
}
