/** What `decomp models` lists: each registry model's family, size, input and whether its weights are here. */
import { findArtifact, localCopy } from "../artifacts";
import { MODEL_NAMES, modelEntry } from "./registry";
import { cifarResNetSpec, type ModelSpec } from "./spec";

export interface ModelSummary {
  name: string;
  family: string;
  /** Convolutions plus linear layers, the way the paper's Table 6 counts depth. */
  layers: number;
  featureWidth: number;
  classes: number;
  /** Height, width, channels of one input image. */
  inputShape: [number, number, number];
  /** Where the weights are found without the network: "cache", "mirror", or null (fetched from `url` on use). */
  weights: "cache" | "mirror" | null;
  url: string | null;
}

export function countLayers(spec: ModelSpec): number {
  return spec.layers.filter((l) => l.op === "conv2d" || l.op === "linear").length;
}

export function modelSummaries(): ModelSummary[] {
  return MODEL_NAMES.map((name) => {
    const entry = modelEntry(name);
    const spec = cifarResNetSpec(entry.depth);
    const copy = localCopy(entry.checkpointArtifact);
    return {
      name, family: "CIFAR-10 ResNet (pytorch_resnet_cifar10)", layers: countLayers(spec), featureWidth: spec.featureWidth, classes: spec.classes,
      inputShape: spec.inputShape, weights: copy?.source ?? null, url: findArtifact(entry.checkpointArtifact).urls[0] ?? null,
    };
  });
}
