/**
 * The feature sets an experiment needs: training features to find the influential sets (Algorithm 1) and
 * test features to score them. The default is the setup behind the paper's CIFAR numbers: CIFAR-10
 * normalisation, Algorithm 1 on augmented training images (seed 0), plain test images.
 */
import { SPLIT_SIZES, type Split } from "../data/image-set";
import { featureMatrix, finalLayer, getFeatures, type FeatureSet } from "../features";
import type { FeatureMatrix, Labels, LinearLayer } from "../method";
import type { Progress } from "../progress";

export interface ExperimentSetup {
  model: string;
  /** Input normalisation for both splits (see src/data/transforms.ts). */
  norm: string;
  /** Augmentation seed for the training images Algorithm 1 sees; null for plain images. */
  trainAugmentSeed: number | null;
  trainImages: number;
  testImages: number;
}

export const DEFAULT_SETUP: Omit<ExperimentSetup, "trainImages" | "testImages"> = {
  model: "resnet20",
  norm: "cifar",
  trainAugmentSeed: 0,
};

/** Labelled features of one split, in the method's types. */
export interface LabelledFeatures {
  features: FeatureMatrix;
  labels: Labels;
}

export interface ExperimentData {
  setup: ExperimentSetup;
  train: LabelledFeatures;
  test: LabelledFeatures;
  layer: LinearLayer;
  /** Both cached sets, for provenance (backend, checkpoint hash). */
  sets: { train: FeatureSet; test: FeatureSet };
}

/** A request for the whole split asks for limit null, so it shares the cache entry of every other full run. */
export function limitFor(split: Split, images: number): number | null {
  if (!Number.isInteger(images) || images < 1) {
    throw new Error(`the number of ${split} images must be a positive integer, got ${images}`);
  }
  return images >= SPLIT_SIZES[split] ? null : images;
}

function labelled(set: FeatureSet): LabelledFeatures {
  return { features: featureMatrix(set), labels: set.labels };
}

export async function loadExperimentData(setup: ExperimentSetup, onProgress?: Progress): Promise<ExperimentData> {
  // Both sizes are checked before the first, possibly long, extraction.
  const trainLimit = limitFor("train", setup.trainImages);
  const testLimit = limitFor("test", setup.testImages);
  const train = await getFeatures({
    model: setup.model,
    split: "train",
    norm: setup.norm,
    augmentSeed: setup.trainAugmentSeed,
    limit: trainLimit,
    onProgress,
  });
  const test = await getFeatures({
    model: setup.model,
    split: "test",
    norm: setup.norm,
    augmentSeed: null,
    limit: testLimit,
    onProgress,
  });
  return { setup, train: labelled(train), test: labelled(test), layer: finalLayer(test), sets: { train, test } };
}

/** One line naming the setup, for table captions and summaries. */
export function describeSetup(setup: ExperimentSetup): string {
  const images = setup.trainAugmentSeed === null ? "plain" : `augmented (seed ${setup.trainAugmentSeed})`;
  return `${setup.model}, ${setup.norm} normalisation, Algorithm 1 on ${images} training images`;
}
