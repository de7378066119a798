/** What `decomp models` lists: each registry model's family, size, input and whether its weights are here. */
import { findArtifact, type LocalSource, localCopy } from "../artifacts";
import { MODEL_NAMES, modelEntry } from "./registry";
import type { ModelSpec } from "./spec";

export interface ModelSummary {
  name: string;
  family: string;
  /** Convolutions plus linear layers, the way the paper's Table 6 counts depth. */
  layers: number;
  featureWidth: number;
  classes: number;
  /** Height, width, channels of one input image (the evaluation crop for torchvision's weights). */
  inputShape: [number, number, number];
  /** Where the weights are found without the network, or null (fetched from `url` on use, where a checksum allows). */
  weights: LocalSource | null;
  url: string | null;
}

export function countLayers(spec: ModelSpec): number {
  return spec.layers.filter((l) => l.op === "conv2d" || l.op === "linear").length;
}

/** A model's depth as the paper plots it (Fig. 4, Table 6): its convolutions and linear layers. */
export function modelDepth(name: string): number {
  return countLayers(modelEntry(name).buildSpec());
}

export function modelSummaries(): ModelSummary[] {
  return MODEL_NAMES.map((name) => {
    const entry = modelEntry(name);
    const spec = entry.buildSpec();
    const artifact = entry.checkpointArtifact;
    const copy = artifact === null ? null : localCopy(artifact);
    return {
      name, family: entry.family, layers: countLayers(spec), featureWidth: spec.featureWidth, classes: spec.classes,
      inputShape: spec.inputShape, weights: copy?.source ?? null, url: artifact === null ? null : (findArtifact(artifact).urls[0] ?? null),
    };
  });
}
