/** Random but realistic models and images for training tests. */
import { CIFAR10_CLASSES, type ImageSet, mulberry32 } from "../../src/data";
import type { ModelSpec } from "../../src/models/spec";
import type { StateDict } from "../../src/torch";

/** He-initialised weights and non-trivial BN statistics for every state-dict entry of the spec. */
export function randomStateDict(spec: ModelSpec, seed: number): StateDict {
  const rng = mulberry32(seed);
  const normal = () => Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());
  const sd: StateDict = new Map();
  for (const layer of spec.layers) {
    if (layer.op === "conv2d") {
      const fanIn = layer.inChannels * layer.kernel * layer.kernel;
      const shape = [layer.outChannels, layer.inChannels, layer.kernel, layer.kernel];
      sd.set(layer.weight, { shape, data: Float32Array.from({ length: fanIn * layer.outChannels }, () => normal() * Math.sqrt(2 / fanIn)) });
    } else if (layer.op === "batchnorm") {
      const c = layer.channels;
      sd.set(`${layer.param}.weight`, { shape: [c], data: Float32Array.from({ length: c }, () => 0.8 + 0.4 * rng()) });
      sd.set(`${layer.param}.bias`, { shape: [c], data: Float32Array.from({ length: c }, () => 0.1 * normal()) });
      sd.set(`${layer.param}.running_mean`, { shape: [c], data: Float32Array.from({ length: c }, () => 0.1 * normal()) });
      sd.set(`${layer.param}.running_var`, { shape: [c], data: Float32Array.from({ length: c }, () => 0.5 + rng()) });
    } else if (layer.op === "linear") {
      sd.set(`${layer.param}.weight`, { shape: [layer.outFeatures, layer.inFeatures], data: Float32Array.from({ length: layer.outFeatures * layer.inFeatures }, () => 0.3 * normal()) });
      sd.set(`${layer.param}.bias`, { shape: [layer.outFeatures], data: Float32Array.from({ length: layer.outFeatures }, () => 0.1 * normal()) });
    }
  }
  return sd;
}

export function randomImages(count: number, seed: number): ImageSet {
  const rng = mulberry32(seed);
  return {
    count, height: 32, width: 32, channels: 3, classNames: CIFAR10_CLASSES,
    pixels: Uint8Array.from({ length: count * 3072 }, () => Math.floor(rng() * 256)),
    labels: Uint8Array.from({ length: count }, (_, i) => i % 10),
  };
}
