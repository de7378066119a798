/**
 * Data shapes shared by every method module. All arrays are row-major and owned by the caller;
 * the method never mutates its inputs.
 */

/** N x m penultimate activations, one row per instance. */
export interface FeatureMatrix {
  data: Float32Array;
  rows: number;
  cols: number;
}

/** Class of each instance, values 0..classes-1. */
export type Labels = Uint8Array | Int32Array;

/** Final fully connected layer: logits = weight (classes x features) * f + bias. */
export interface LinearLayer {
  weight: Float32Array;
  bias: Float32Array;
  classes: number;
  features: number;
}

/** Per class, the feature indices the decomposed layer keeps (entry y is S_y). */
export type IndexSets = ReadonlyArray<ReadonlyArray<number>>;
