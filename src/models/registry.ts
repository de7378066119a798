/** The pretrained CIFAR-10 ResNets by name: architecture depth, checkpoint artifact, preprocessing. */

export type ModelName = "resnet20" | "resnet32" | "resnet44" | "resnet56" | "resnet110";

export interface ModelEntry {
  name: ModelName;
  /** Depth passed to cifarResNetSpec. */
  depth: number;
  /** Id of the checkpoint in data/manifest.json. */
  checkpointArtifact: string;
  /** CIFAR-10 test accuracy published with the checkpoint (pytorch_resnet_cifar10 README: 1 - test error). */
  publishedAccuracy: number;
  /** Which input normalisation the weights expect (named in src/data/transforms.ts NORMALISATIONS). */
  normalisation: "checkpoint";
}

const entry = (depth: number, testErrorPercent: number): ModelEntry => ({
  name: `resnet${depth}` as ModelName,
  depth,
  checkpointArtifact: `resnet${depth}`,
  publishedAccuracy: Math.round((100 - testErrorPercent) * 100) / 10000,
  normalisation: "checkpoint",
});

export const MODELS: Readonly<Record<ModelName, ModelEntry>> = {
  resnet20: entry(20, 8.27),
  resnet32: entry(32, 7.37),
  resnet44: entry(44, 6.9),
  resnet56: entry(56, 6.61),
  resnet110: entry(110, 6.32),
};

export const MODEL_NAMES = Object.keys(MODELS) as ModelName[];

/** The registry entry of `name`; an unknown name fails listing the known ones. */
export function modelEntry(name: string): ModelEntry {
  if (!Object.prototype.hasOwnProperty.call(MODELS, name)) {
    throw new Error(`unknown model '${name}'; known models: ${MODEL_NAMES.join(", ")}`);
  }
  return MODELS[name as ModelName];
}
