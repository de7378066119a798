/** A pretrained model's parts: architecture, verified checkpoint (and its checksum), weights, and final layer. */
import { fetchArtifact, findArtifact, sha256File } from "../artifacts";
import { initBackend } from "../backend";
import type { Progress } from "../progress";
import { loadTorchCheckpoint, type StateDict } from "../torch";
import { type ModelEntry, modelEntry } from "./registry";
import type { ForwardEngine } from "./engine";
import { cifarResNetSpec, type LinearLayerSpec, type ModelSpec } from "./spec";
import { createTfjsEngine } from "./tfjs-resnet";

export interface Pretrained {
  entry: ModelEntry;
  spec: ModelSpec;
  stateDict: StateDict;
  checkpointPath: string;
  /** Identifies the weights in cache keys. */
  checkpointSha256: string;
  /** weight: classes x featureWidth (row-major), bias: classes. */
  finalLayer: { weight: Float32Array; bias: Float32Array };
}

export interface LoadPretrainedOptions {
  /** A checkpoint file obtained by hand; verified against the manifest's sha256 when one is recorded. */
  checkpointPath?: string;
  onProgress?: Progress;
  cacheDir?: string;
}

export async function loadPretrained(name: string, opts: LoadPretrainedOptions = {}): Promise<Pretrained> {
  const entry = modelEntry(name);
  const spec = cifarResNetSpec(entry.depth);
  const artifact = findArtifact(entry.checkpointArtifact);
  const checkpointPath = await fetchArtifact(artifact.id, { file: opts.checkpointPath, onProgress: opts.onProgress, cacheDir: opts.cacheDir });
  const checkpointSha256 = artifact.sha256 ?? (await sha256File(checkpointPath));
  const { stateDict } = await loadTorchCheckpoint(checkpointPath);
  const head = spec.layers.find((l): l is LinearLayerSpec => l.op === "linear");
  const weight = head && stateDict.get(`${head.param}.weight`);
  const bias = head && stateDict.get(`${head.param}.bias`);
  if (!weight || !bias || weight.data.length !== spec.classes * spec.featureWidth || bias.data.length !== spec.classes) {
    throw new Error(`${checkpointPath} has no final layer of shape [${spec.classes}, ${spec.featureWidth}] for ${name}; is it a CIFAR-10 ${name} checkpoint?`);
  }
  return { entry, spec, stateDict, checkpointPath, checkpointSha256, finalLayer: { weight: weight.data, bias: bias.data } };
}

/** Chooses the tensor backend (once), obtains and reads the checkpoint, and binds it to the TF.js executor. */
export async function loadModel(name: string, opts: LoadPretrainedOptions = {}): Promise<ForwardEngine> {
  const { spec, stateDict } = await loadPretrained(name, opts);
  await initBackend();
  return createTfjsEngine(spec, stateDict);
}
