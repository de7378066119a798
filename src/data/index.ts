/** CIFAR-10 data: loading, caching and the transforms applied before a model sees the pixels. */
export { CIFAR10_CLASSES, type ImageSet, makeImageSet, type Split, validateSplit } from "./image-set";
export { type Cifar10Source, type LoadCifar10Options, loadCifar10 } from "./cifar10";
export {
  AUGMENT_PAD,
  type CropFlip,
  type ImageBatch,
  NORMALISATIONS,
  type Normalisation,
  type NormalisationName,
  augmentRange,
  augmentationFor,
  batchView,
  customNormalisation,
  getNormalisation,
  normalise,
  padCropFlip,
} from "./transforms";
export { type Rng, deriveSeed, mulberry32 } from "./prng";
