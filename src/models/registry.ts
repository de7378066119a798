/** The pretrained CIFAR-10 ResNets by name: architecture depth, checkpoint artifact, preprocessing; loads a ready engine. */
import { fetchArtifact } from "../artifacts";
import { initBackend } from "../backend";
import type { Progress } from "../progress";
import { loadTorchCheckpoint } from "../torch";
import type { ForwardEngine } from "./engine";
import { cifarResNetSpec } from "./spec";
import { createTfjsEngine } from "./tfjs-resnet";

export type ModelName = "resnet20" | "resnet32" | "resnet44" | "resnet56" | "resnet110";

export interface ModelEntry {
  name: ModelName;
  /** Depth passed to cifarResNetSpec. */
  depth: number;
  /** Id of the checkpoint in data/manifest.json. */
  checkpointArtifact: string;
  /** CIFAR-10 test accuracy published with the checkpoint (pytorch_resnet_cifar10 README: 1 - test error). */
  publishedAccuracy: number;
  /** Which input normalisation the weights expect; 'checkpoint' = CHECKPOINT_NORMALISATION. */
  normalisation: "checkpoint";
}

/** Per-channel RGB mean/std the pytorch_resnet_cifar10 checkpoints were trained with (ImageNet statistics). */
export const CHECKPOINT_NORMALISATION = {
  mean: [0.485, 0.456, 0.406] as const,
  std: [0.229, 0.224, 0.225] as const,
};

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

export interface LoadModelOptions {
  /** A checkpoint file obtained by hand; verified against the manifest's sha256 when one is recorded. */
  checkpointPath?: string;
  onProgress?: Progress;
}

/** Chooses the tensor backend (once), obtains and reads the checkpoint, and binds it to the architecture. */
export async function loadModel(name: string, opts: LoadModelOptions = {}): Promise<ForwardEngine> {
  const model = modelEntry(name);
  await initBackend();
  const file = await fetchArtifact(model.checkpointArtifact, { file: opts.checkpointPath, onProgress: opts.onProgress });
  const checkpoint = await loadTorchCheckpoint(file);
  return createTfjsEngine(cifarResNetSpec(model.depth), checkpoint.stateDict);
}
