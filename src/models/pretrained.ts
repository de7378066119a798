/** A pretrained model's parts: architecture, verified checkpoint (and its checksum), weights, and final layer. */
import { fetchArtifact } from "../artifacts";
import { initBackend } from "../backend";
import type { Progress } from "../progress";
import type { StateDict } from "../torch";
import { type ModelEntry, modelEntry } from "./registry";
import type { ForwardEngine } from "./engine";
import type { LinearLayerSpec, ModelSpec } from "./spec";
import { createTfjsEngine } from "./tfjs-engine";
import { checkStateDict, readWeights } from "./weights";

export interface Pretrained {
  kind: "registry";
  entry: ModelEntry;
  spec: ModelSpec;
  stateDict: StateDict;
  checkpointPath: string;
  /** Identifies the weights in cache keys. */
  checkpointSha256: string;
  /** Whether the weights are the registry's checkpoint (false for --weights: a user's own or fine-tuned model). */
  registryWeights: boolean;
  /** weight: classes x featureWidth (row-major), bias: classes. */
  finalLayer: { weight: Float32Array; bias: Float32Array };
}

export interface LoadPretrainedOptions {
  /** A copy of the registry's checkpoint obtained by hand; verified against the manifest's checksum when one is recorded. */
  checkpointPath?: string;
  /**
   * Other weights for the same architecture (a PyTorch state dict or a decomp model file): not checked against
   * the manifest, only key by key against the description; their final layer sets the number of classes.
   */
  weights?: string;
  /** Square input side the description is built for (default: the entry's own, e.g. 224 or 32). */
  inputSize?: number;
  onProgress?: Progress;
  cacheDir?: string;
}

export async function loadPretrained(name: string, opts: LoadPretrainedOptions = {}): Promise<Pretrained> {
  const entry = modelEntry(name);
  // A user's file is used as it is; the registry's checkpoint is fetched and verified first.
  const artifact = entry.checkpointArtifact;
  if (opts.weights === undefined && artifact === null) {
    throw new Error(`${name} has no published weights: pass --weights FILE (a PyTorch state dict of this architecture), or train it (decomp csg --model ${name} --from scratch)`);
  }
  const checkpointPath = opts.weights ?? (await fetchArtifact(artifact!, { file: opts.checkpointPath, onProgress: opts.onProgress, cacheDir: opts.cacheDir }));
  const { stateDict: stored, sha256: checkpointSha256 } = await readWeights(checkpointPath);
  const stateDict = entry.adaptStateDict(stored);
  const spec = entry.buildSpec(classesOf(entry, stateDict, checkpointPath), opts.inputSize);
  checkStateDict(spec, stateDict, checkpointPath);
  const head = spec.layers.find((l): l is LinearLayerSpec => l.op === "linear")!;
  return {
    kind: "registry", entry, spec, stateDict, checkpointPath, checkpointSha256, registryWeights: opts.weights === undefined,
    finalLayer: { weight: stateDict.get(`${head.param}.weight`)!.data, bias: stateDict.get(`${head.param}.bias`)!.data },
  };
}

/** The number of classes the checkpoint's final layer has (its weight's rows). */
function classesOf(entry: ModelEntry, stateDict: StateDict, file: string): number {
  const key = `${entry.headParam}.weight`;
  const weight = stateDict.get(key);
  if (weight === undefined || weight.shape.length !== 2) {
    throw new Error(`${file} has no final layer '${key}' (a classes x features matrix), which ${entry.name} needs; is it a ${entry.name} checkpoint?`);
  }
  return weight.shape[0];
}

/** Chooses the tensor backend (once), obtains and reads the checkpoint, and binds it to the TF.js executor. */
export async function loadModel(name: string, opts: LoadPretrainedOptions = {}): Promise<ForwardEngine> {
  const { spec, stateDict } = await loadPretrained(name, opts);
  await initBackend();
  return createTfjsEngine(spec, stateDict);
}
