/** The contract every inference engine (TF.js, ONNX Runtime, ...) meets, so feature extraction does not care which runs. */
import type { ModelSpec } from "./spec";

/** What running a model needs to know of it, whether it was built from a description or imported as a graph. */
export type ModelShape = Pick<ModelSpec, "name" | "inputShape" | "featureWidth" | "classes">;

export interface ForwardResult {
  /** Pooled penultimate features, count x spec.featureWidth, row-major. */
  features: Float32Array;
  /** Logits, count x spec.classes, row-major. */
  logits: Float32Array;
  /** Each stage output of a description made by withStageOutputs, count x its width, in its order. */
  stages?: Float32Array[];
}

export interface ForwardEngine {
  /** Human-readable name of what computes, e.g. "tfjs/wasm" or "onnxruntime-node/cpu"; reported to the user. */
  readonly backend: string;
  readonly spec: ModelShape;
  /** Forward a batch of already-normalised images (count x 32 x 32 x 3, NHWC). */
  forward(images: Float32Array, count: number): Promise<ForwardResult>;
  /** Release native or tensor memory. */
  dispose(): void;
}

/** Spatial maps of a batch (the global average pool's input), NHWC. */
export interface MapBatch {
  data: Float32Array;
  shape: [number, number, number, number];
}

/** An engine for an imported model, which can also hand back the last feature map (null when there is none). */
export interface ImportedEngine extends ForwardEngine {
  maps(images: Float32Array, count: number): Promise<MapBatch | null>;
}
