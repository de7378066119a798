/**
 * Every model the toolkit runs by name: the pretrained CIFAR-10 ResNets and torchvision's ImageNet families.
 * An entry knows its architecture (built for any number of classes, since a fine-tuned checkpoint's final
 * layer decides them), its checkpoint artifact, the preprocessing its weights were evaluated with, and the
 * checkpoint quirks of its family.
 */
import type { Recipe } from "../data/preprocess";
import type { StateDict } from "../torch";
import { renameLegacyDenseNetKeys, TORCHVISION_DENSENETS, torchvisionDenseNetSpec } from "./families/torchvision-densenet";
import { TORCHVISION_EFFICIENTNETS, torchvisionEfficientNetSpec } from "./families/torchvision-efficientnet";
import { TORCHVISION_RESNETS, torchvisionResNetSpec } from "./families/torchvision-resnet";
import { type ModelSpec } from "./spec";
import { cifarBasicResNetSpec } from "./families/cifar-basic-resnet";
import { cifarResNetSpec } from "./families/cifar-resnet";

/**
 * torchvision's evaluation preset (ImageClassification): resize the shorter side, centre-crop, then scale to
 * [0, 1] and normalise with ImageNet's mean and std (the "checkpoint" normalisation).
 */
export type EvalPreset = Extract<Recipe, { kind: "resize-crop" }>;

/** torchvision: each weight's own evaluation preset; paper: the authors' Resize((224, 224)) squash, bilinear. */
export const PREPROCESSINGS = ["torchvision", "paper"] as const;
export type PreprocessingName = (typeof PREPROCESSINGS)[number];

const PAPER_RECIPE: Recipe = { kind: "squash", size: 224, interpolation: "bilinear" };

interface EntryBase {
  name: string;
  family: string;
  /** Id of the checkpoint in data/manifest.json; null for an architecture without published weights (--weights, or train one). */
  checkpointArtifact: string | null;
  /** Top-1 accuracy published with the checkpoint on its own dataset (fraction); null without published weights. */
  publishedAccuracy: number | null;
  /** The dataset the registry's checkpoint was trained on. */
  dataset: "cifar10" | "imagenet";
  /** State-dict prefix of the final linear layer, whose weight's rows give the number of classes. */
  headParam: string;
  /** The architecture with `classes` outputs and a square input of `inputSize` (default: the entry's own). */
  buildSpec(classes?: number, inputSize?: number): ModelSpec;
  /** Renames a published checkpoint's keys to the ones the description reads (identity for most families). */
  adaptStateDict(stateDict: StateDict): StateDict;
}

export interface CifarModelEntry extends EntryBase {
  kind: "cifar-resnet";
  /** Depth passed to cifarResNetSpec (the option-A ResNets of pytorch_resnet_cifar10); null for the BasicBlock 64-512 variants. */
  depth: number | null;
  /** Which input normalisation the weights expect (named in src/data/transforms.ts NORMALISATIONS). */
  normalisation: "checkpoint";
}

export interface TorchvisionModelEntry extends EntryBase {
  kind: "torchvision";
  checkpointArtifact: string;
  publishedAccuracy: number;
  preset: EvalPreset;
}

export type ModelEntry = CifarModelEntry | TorchvisionModelEntry;

const unchanged = (stateDict: StateDict) => stateDict;

const cifar = (depth: number, testErrorPercent: number): CifarModelEntry => ({
  kind: "cifar-resnet",
  name: `resnet${depth}`,
  family: "CIFAR-10 ResNet (pytorch_resnet_cifar10)",
  depth,
  checkpointArtifact: `resnet${depth}`,
  publishedAccuracy: Math.round((100 - testErrorPercent) * 100) / 10000,
  dataset: "cifar10",
  headParam: "linear",
  normalisation: "checkpoint",
  buildSpec: (classes = 10, inputSize = 32) => {
    if (inputSize !== 32) throw new Error(`resnet${depth} takes 32 x 32 CIFAR images, not ${inputSize} x ${inputSize}`);
    return cifarResNetSpec(depth, classes);
  },
  adaptStateDict: unchanged,
});

/**
 * The CIFAR ResNet18/34 variant (BasicBlock stages of 64-512 channels; src/models/families/cifar-basic-resnet.ts):
 * no published checkpoint, so its weights come from --weights or from training (decomp csg --from scratch).
 */
const cifarBasic = (name: string): CifarModelEntry => ({
  kind: "cifar-resnet",
  name,
  family: "CIFAR ResNet, BasicBlock 64-512 (no published weights)",
  depth: null,
  checkpointArtifact: null,
  publishedAccuracy: null,
  dataset: "cifar10",
  headParam: "linear",
  normalisation: "checkpoint",
  buildSpec: (classes = 10, inputSize = 32) => {
    if (inputSize !== 32) throw new Error(`${name} takes 32 x 32 CIFAR images, not ${inputSize} x ${inputSize}`);
    return cifarBasicResNetSpec(name, classes);
  },
  adaptStateDict: unchanged,
});

/** torchvision's ImageClassification defaults, which every V1 weight below uses except EfficientNet's. */
const STANDARD_PRESET: EvalPreset = { kind: "resize-crop", resize: 256, crop: 224, interpolation: "bilinear" };

/** torchvision 0.14's IMAGENET1K_V1 weights: ImageNet top-1 (acc@1, percent) and evaluation preset. */
const torchvision = (
  name: string,
  family: string,
  acc1: number,
  headParam: string,
  build: (classes: number, inputSize: number) => ModelSpec,
  preset: EvalPreset = STANDARD_PRESET,
  adaptStateDict: (sd: StateDict) => StateDict = unchanged,
): TorchvisionModelEntry => ({
  kind: "torchvision",
  name,
  family,
  checkpointArtifact: name,
  publishedAccuracy: Math.round(acc1 * 1000) / 100000,
  dataset: "imagenet",
  headParam,
  preset,
  buildSpec: (classes = 1000, inputSize = preset.crop) => build(classes, inputSize),
  adaptStateDict,
});

const resnet = (name: string, family: string, acc1: number) =>
  torchvision(name, family, acc1, "fc", (classes, inputSize) => torchvisionResNetSpec({ ...TORCHVISION_RESNETS[name], classes, inputSize }));
const densenet = (name: string, acc1: number) =>
  torchvision(name, "DenseNet (torchvision)", acc1, "classifier", (classes, inputSize) => torchvisionDenseNetSpec({ ...TORCHVISION_DENSENETS[name], classes, inputSize }), STANDARD_PRESET, renameLegacyDenseNetKeys);
const efficientnet = (name: string, acc1: number, preset: EvalPreset) =>
  torchvision(name, "EfficientNet (torchvision)", acc1, "classifier.1", (classes, inputSize) => torchvisionEfficientNetSpec({ ...TORCHVISION_EFFICIENTNETS[name], classes, inputSize }), preset);

const ENTRIES: ModelEntry[] = [
  cifar(20, 8.27),
  cifar(32, 7.37),
  cifar(44, 6.9),
  cifar(56, 6.61),
  cifar(110, 6.32),
  cifarBasic("cifar_resnet18"),
  cifarBasic("cifar_resnet34"),
  resnet("resnet18", "ResNet (torchvision)", 69.758),
  resnet("resnet34", "ResNet (torchvision)", 73.314),
  resnet("resnet50", "ResNet (torchvision)", 76.13),
  resnet("resnet101", "ResNet (torchvision)", 77.374),
  resnet("resnet152", "ResNet (torchvision)", 78.312),
  resnet("wide_resnet50_2", "Wide ResNet (torchvision)", 78.468),
  resnet("wide_resnet101_2", "Wide ResNet (torchvision)", 78.848),
  densenet("densenet121", 74.434),
  densenet("densenet161", 77.138),
  densenet("densenet169", 75.6),
  densenet("densenet201", 76.896),
  efficientnet("efficientnet_b0", 77.692, { kind: "resize-crop", resize: 256, crop: 224, interpolation: "bicubic" }),
  efficientnet("efficientnet_b1", 78.642, { kind: "resize-crop", resize: 256, crop: 240, interpolation: "bicubic" }),
  efficientnet("efficientnet_b2", 80.608, { kind: "resize-crop", resize: 288, crop: 288, interpolation: "bicubic" }),
  efficientnet("efficientnet_b3", 82.008, { kind: "resize-crop", resize: 320, crop: 300, interpolation: "bicubic" }),
];

export const MODELS: Readonly<Record<string, ModelEntry>> = Object.fromEntries(ENTRIES.map((e) => [e.name, e]));

export const MODEL_NAMES: readonly string[] = ENTRIES.map((e) => e.name);

export const CIFAR_MODEL_NAMES: readonly string[] = ENTRIES.filter((e) => e.kind === "cifar-resnet").map((e) => e.name);

/** The registry entry of `name`; an unknown name fails listing the known ones. */
export function modelEntry(name: string): ModelEntry {
  if (!Object.prototype.hasOwnProperty.call(MODELS, name)) {
    throw new Error(`unknown model '${name}'; known models: ${MODEL_NAMES.join(", ")}`);
  }
  return MODELS[name];
}

/** A CIFAR ResNet's entry, for the parts of the toolkit written for them (training, CSG, the PyTorch oracle). */
export function cifarModelEntry(name: string, what: string): CifarModelEntry {
  const entry = modelEntry(name);
  if (entry.kind !== "cifar-resnet") throw new Error(`${what} supports the CIFAR ResNets (${CIFAR_MODEL_NAMES.join(", ")}), not ${name}`);
  return entry;
}

/**
 * What happens to an image before normalisation: a CIFAR ResNet takes CIFAR's 32 x 32 images as they are; a
 * torchvision model takes its weight's preset or the paper's squash.
 */
export function inputRecipe(entry: ModelEntry, preprocessing: string): Recipe {
  if (!(PREPROCESSINGS as readonly string[]).includes(preprocessing)) {
    throw new Error(`unknown preprocessing '${preprocessing}'; known: ${PREPROCESSINGS.join(", ")}`);
  }
  if (entry.kind === "cifar-resnet") return { kind: "native" };
  return preprocessing === "paper" ? PAPER_RECIPE : entry.preset;
}
