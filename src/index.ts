/** What notebooks and other programs import: one small, stable surface over the pipeline data -> model -> features -> method -> report. */
export const VERSION = "0.1.0";
export * as report from "./report/index";
export { PROFILES, PROFILE_ENV, describeProfile, loadProfile } from "./profile";
export type { Profile, ProfileName } from "./profile";
export { initBackend, backendInfo, type BackendInfo } from "./backend";
export { fetchArtifact, loadManifest } from "./artifacts";
export { CIFAR10_CLASSES, loadCifar10, normalise, augmentRange, type ImageSet, type Split } from "./data";
export { MODEL_NAMES, modelEntry } from "./models/registry";
export { loadModel, loadPretrained, type Pretrained } from "./models/pretrained";
export { createEngine, type EngineChoice } from "./models/engines";
export { cifarResNetSpec, type ModelSpec } from "./models/spec";
export { getFeatures, featureMatrix, finalLayer, logitAccuracy, type FeatureSet, type GetFeaturesOptions } from "./features";
export * as method from "./method";
export type { Progress, ProgressEvent } from "./progress";
export * as experiments from "./experiments";
export * as training from "./training";
