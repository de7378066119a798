/**
 * The seam where a tensor engine plugs into fine-tuning: typed arrays in (PyTorch-layout parameters, one
 * normalised NHWC batch), loss, gradients and batch statistics out. Native TF.js is first choice where it
 * loads; else ONNX Runtime's CPU provider (about 10x TF.js WASM on ResNet20, see scripts/bench-train.ts);
 * else TF.js on WASM or plain JS.
 */
import * as tf from "@tensorflow/tfjs";
import { NATIVE_TF_BACKEND } from "../backend";
import type { ModelSpec } from "../models/spec";
import type { StateDict } from "../torch";
import { type TrainStepResult, tfjsTrainStep } from "./tfjs-train-step";
import { checkGate, checkTrainable } from "./params";
import { registerTrainingKernels } from "./wasm-kernels";

export interface TrainEngine {
  /** What computes the step, e.g. "onnxruntime-node/cpu" or "tfjs/wasm"; reported in the fine-tune history. */
  readonly name: string;
  /**
   * Settings the engine chose for the steps since the previous call (or its start), for reports, e.g. how often
   * its threads spun; absent if it chooses none.
   */
  settings?(): string;
  /**
   * One forward and backward pass. `gate` (count x features) is each image's gate row; an engine created with
   * `gated` requires it and returns its gradient as `gateGrad`, any other engine refuses it.
   */
  step(stateDict: StateDict, images: Float32Array, labels: ArrayLike<number>, count: number, gate?: Float32Array): Promise<TrainStepResult>;
  dispose(): void;
}

export type TrainEngineChoice = "auto" | "onnx" | "tfjs";
export const TRAIN_ENGINE_CHOICES: readonly TrainEngineChoice[] = ["auto", "onnx", "tfjs"];

/** Reads DECOMP_TRAIN_ENGINE (auto | onnx | tfjs); unset means auto. */
export function trainEngineFromEnv(env: Record<string, string | undefined> = process.env): TrainEngineChoice {
  const raw = (env.DECOMP_TRAIN_ENGINE ?? "").trim() || "auto";
  if (!(TRAIN_ENGINE_CHOICES as readonly string[]).includes(raw)) {
    throw new Error(`DECOMP_TRAIN_ENGINE='${raw}' is not a training engine; use one of ${TRAIN_ENGINE_CHOICES.join(", ")} (or unset it)`);
  }
  return raw as TrainEngineChoice;
}

export interface TrainEngineOptions {
  /** The CSG path: pooled features times a per-image gate row, whose gradient the step returns. */
  gated?: boolean;
  /** ONNX Runtime's threads inside one operator (default every core); the TF.js engines do not take it. */
  intraOpThreads?: number;
}

/** Refuses an intra-op thread count that is not a positive integer (undefined: every core). */
export function checkThreads(threads: number | undefined): void {
  if (threads !== undefined && !(Number.isInteger(threads) && threads >= 1)) throw new Error(`intraOpThreads must be a positive integer, got ${threads}`);
}

/** The training step on the active TF.js backend (tfjsTrainStep). */
function tfjsTrainEngine(spec: ModelSpec, mask: Float32Array, gated: boolean): TrainEngine {
  const backend = tf.getBackend();
  // Neither TF.js backend without native bindings can train a convolution at a usable speed on its own.
  if (backend === "wasm" || backend === "cpu") registerTrainingKernels(backend);
  return {
    name: `tfjs/${backend}`,
    step: async (stateDict, images, labels, count, gate) => tfjsTrainStep(spec, stateDict, mask, images, labels, count, checkGate(spec, gated, gate, count)),
    dispose: () => {},
  };
}

async function onnxTrainEngine(spec: ModelSpec, mask: Float32Array, options: TrainEngineOptions): Promise<TrainEngine> {
  // Loaded lazily: a platform without ONNX Runtime's binary must still train on TF.js.
  const { createOnnxTrainEngine } = await import("./onnx-train-step");
  return createOnnxTrainEngine(spec, mask, options);
}

/** A training engine for `spec` with the head mask `mask` (classes x features, all ones for a full head). */
export async function createTrainEngine(
  spec: ModelSpec,
  mask: Float32Array,
  choice: TrainEngineChoice = trainEngineFromEnv(),
  options: TrainEngineOptions = {},
): Promise<TrainEngine> {
  checkTrainable(spec);
  const gated = options.gated ?? false;
  checkThreads(options.intraOpThreads);
  if (choice === "onnx") return onnxTrainEngine(spec, mask, options);
  // The caller has chosen the TF.js backend already (evaluation runs on it); native TF.js trains well itself.
  if (choice === "tfjs" || tf.getBackend() === NATIVE_TF_BACKEND) return tfjsTrainEngine(spec, mask, gated);
  try {
    return await onnxTrainEngine(spec, mask, options);
  } catch (err) {
    console.error(`decomp: ONNX Runtime unavailable for training (${(err as Error).message.split("\n")[0]}); training on TF.js ${tf.getBackend()}`);
    return tfjsTrainEngine(spec, mask, gated);
  }
}
