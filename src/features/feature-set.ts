/** What feature extraction produces: per-image penultimate features and logits, plus the final layer they feed. */
import type { Split } from "../data";

export interface FeatureSetKey {
  model: string;
  split: Split;
  /** Name of the input normalisation (see src/data/transforms.ts). */
  norm: string;
  /** Seed of the crop+flip augmentation, or null for plain images. */
  augmentSeed: number | null;
  /** Only the first `limit` images of the split, or null for all of them. */
  limit: number | null;
  /** sha256 of the checkpoint the weights came from: new weights never read old features. */
  checkpointSha256: string;
  /** The resize and crop before normalisation (recipeId), absent for images the model takes as they are. */
  recipe?: string;
}

export interface FeatureSet extends FeatureSetKey {
  count: number;
  /** Feature width m. */
  width: number;
  classes: number;
  /** count x width, row-major, non-negative (after ReLU and global average pooling). */
  features: Float32Array;
  /** count x classes, row-major. */
  logits: Float32Array;
  labels: Uint8Array;
  /** Final layer: weight classes x width (row-major) and bias, as in the checkpoint. */
  weight: Float32Array;
  bias: Float32Array;
  /** The engine that computed the features (a cache hit keeps the original engine's name). */
  backend: string;
}
