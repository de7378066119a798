/**
 * Numbers reported by Badola, Roy, Padmanabhan and Lal, "Decomposing the Deep: Finding Class Specific Filters in
 * Deep CNNs", in one place. They are shown beside ours, labelled as the paper's, and never stand in for ours.
 */
export interface PaperValue {
  /** What was measured, in the words a table row uses. */
  quantity: string;
  /** Top-1 accuracy in percent. */
  value: number;
  /** Where in the paper (or the authors' release) the number is printed. */
  source: string;
}

export const PAPER_CITATION = "Badola et al., Decomposing the Deep: Finding Class Specific Filters in Deep CNNs";

export const PAPER = {
  resnet20FullAccuracy: {
    quantity: "ResNet20 CIFAR-10, full layer (A_f)",
    value: 91.17,
    source: "paper text",
  },
  resnet20FullAccuracyReadme: {
    quantity: "ResNet20 CIFAR-10, pretrained checkpoint",
    value: 91.71,
    source: "authors' README",
  },
  resnet20DecomposedK5: {
    quantity: "ResNet20 CIFAR-10, decomposed k1=k2=5 (A_d)",
    value: 88.59,
    source: "Fig. 3 and text",
  },
  resnet20DecomposedK2is3: {
    quantity: "ResNet20 CIFAR-10, decomposed k2=3 (A_d)",
    value: 84.16,
    source: "Fig. 3",
  },
  resnet20FineTunedOneEpoch: {
    quantity: "ResNet20 CIFAR-10, decomposed k1=k2=5 after 1 epoch fine-tuning",
    value: 91.51,
    source: "retraining section",
  },
  resnet20NoiseOriginal: {
    quantity: "ResNet20 CIFAR-10, no noise",
    value: 91.17,
    source: "Table 8",
  },
  resnet20NoiseInfluential: {
    quantity: "ResNet20 CIFAR-10, influential filters noised",
    value: 48.97,
    source: "Table 8",
  },
  resnet20NoiseNonInfluential: {
    quantity: "ResNet20 CIFAR-10, non-influential filters noised",
    value: 82.24,
    source: "Table 8",
  },
  resnet50NoiseOriginal: {
    quantity: "ResNet50 ImageNet, no noise",
    value: 74.55,
    source: "Table 8",
  },
  resnet50NoiseInfluential: {
    quantity: "ResNet50 ImageNet, influential filters noised",
    value: 12.52,
    source: "Table 8",
  },
  resnet50NoiseNonInfluential: {
    quantity: "ResNet50 ImageNet, non-influential filters noised",
    value: 74.4,
    source: "Table 8",
  },
  resnet50DecomposedImageNet: {
    quantity: "ResNet50 ImageNet, decomposed final layer before retraining (A_d)",
    value: 64.7,
    source: "retraining section",
  },
  resnet50RetrainedImageNet: {
    quantity: "ResNet50 ImageNet, decomposed after about 10 epochs of retraining",
    value: 73.91,
    source: "retraining section",
  },
  resnet20Cifar10CsgTable1: {
    quantity: "ResNet20 CIFAR-10, CSG path accuracy (their CSG re-implementation)",
    value: 88.09,
    source: "Table 1 (printed as 0.8809)",
  },
  resnet20Cifar10StdTable1: {
    quantity: "ResNet20 CIFAR-10, STD path accuracy (their CSG re-implementation)",
    value: 88.09,
    source: "Table 1 (printed as 0.8809)",
  },
  resnet34Cifar10CsgTable1: {
    quantity: "ResNet34 CIFAR-10, CSG path accuracy",
    value: 84.07,
    source: "Table 1 (printed as 0.8407)",
  },
  resnet34Cifar10StdTable1: {
    quantity: "ResNet34 CIFAR-10, STD path accuracy",
    value: 84.07,
    source: "Table 1 (printed as 0.8407)",
  },
  resnet18TinyCsgTable1: {
    quantity: "ResNet18 Tiny ImageNet, CSG path accuracy",
    value: 36.33,
    source: "Table 1 (printed as 0.3633)",
  },
  resnet18TinyStdTable1: {
    quantity: "ResNet18 Tiny ImageNet, STD path accuracy",
    value: 36.41,
    source: "Table 1 (printed as 0.3641)",
  },
  resnet34TinyCsgTable1: {
    quantity: "ResNet34 Tiny ImageNet, CSG path accuracy",
    value: 37.94,
    source: "Table 1 (printed as 0.3794)",
  },
  resnet34TinyStdTable1: {
    quantity: "ResNet34 Tiny ImageNet, STD path accuracy",
    value: 38.52,
    source: "Table 1 (printed as 0.3852)",
  },
} as const satisfies Record<string, PaperValue>;

export type PaperKey = keyof typeof PAPER;

/**
 * One model's column of the paper's Tables 2-6 (ImageNet validation, k1 = k2 = 50), as printed: accuracies and
 * r_A as fractions, k2 / c with c the number of classes (50 / 1000), k2 / n with n the feature width.
 */
export interface PaperImageNetRow {
  /** The table that prints it. */
  source: string;
  /** Final feature dimension n as printed. */
  n: number;
  /** Where the printed n is not the model's width (the DenseNet tables print one merged cell). */
  nNote?: string;
  k2OverC: number;
  k2OverN: number;
  decomposedAccuracy: number;
  fullAccuracy: number;
  accuracyRatio: number;
  /** Layers as printed (Table 6 only). */
  layers?: number;
}

const DENSENET_N = "printed as 2048 in one merged cell; the printed k2 / n implies torchvision's width";

/** Tables 2-6, transcribed as printed (the same numbers as shared/paper/tables.json, which a test checks). */
export const PAPER_IMAGENET: Readonly<Record<string, PaperImageNetRow>> = {
  resnet50: { source: "Table 2", n: 2048, k2OverC: 0.05, k2OverN: 0.0244141, decomposedAccuracy: 0.64792, fullAccuracy: 0.74548, accuracyRatio: 0.869131 },
  resnet101: { source: "Table 2", n: 2048, k2OverC: 0.05, k2OverN: 0.0244141, decomposedAccuracy: 0.68164, fullAccuracy: 0.75986, accuracyRatio: 0.89706 },
  resnet152: { source: "Table 2", n: 2048, k2OverC: 0.05, k2OverN: 0.0244141, decomposedAccuracy: 0.69346, fullAccuracy: 0.77014, accuracyRatio: 0.900434 },
  wide_resnet50_2: { source: "Table 3", n: 2048, k2OverC: 0.05, k2OverN: 0.0244141, decomposedAccuracy: 0.75008, fullAccuracy: 0.77256, accuracyRatio: 0.970902 },
  wide_resnet101_2: { source: "Table 3", n: 2048, k2OverC: 0.05, k2OverN: 0.0244141, decomposedAccuracy: 0.75988, fullAccuracy: 0.77908, accuracyRatio: 0.975356 },
  densenet121: { source: "Table 4", n: 2048, nNote: DENSENET_N, k2OverC: 0.05, k2OverN: 0.0488281, decomposedAccuracy: 0.6372, fullAccuracy: 0.71956, accuracyRatio: 0.885541 },
  densenet169: { source: "Table 4", n: 2048, nNote: DENSENET_N, k2OverC: 0.05, k2OverN: 0.0300481, decomposedAccuracy: 0.66328, fullAccuracy: 0.73754, accuracyRatio: 0.899314 },
  densenet161: { source: "Table 5", n: 2048, nNote: DENSENET_N, k2OverC: 0.05, k2OverN: 0.0226449, decomposedAccuracy: 0.6766, fullAccuracy: 0.75268, accuracyRatio: 0.898921 },
  densenet201: { source: "Table 5", n: 2048, nNote: DENSENET_N, k2OverC: 0.05, k2OverN: 0.0260417, decomposedAccuracy: 0.68214, fullAccuracy: 0.7455, accuracyRatio: 0.91501 },
  efficientnet_b0: { source: "Table 6", n: 1280, layers: 82, k2OverC: 0.05, k2OverN: 0.0390625, decomposedAccuracy: 0.64838, fullAccuracy: 0.7609, accuracyRatio: 0.852122 },
  efficientnet_b1: { source: "Table 6", n: 1280, layers: 116, k2OverC: 0.05, k2OverN: 0.0390625, decomposedAccuracy: 0.7046, fullAccuracy: 0.76392, accuracyRatio: 0.922348 },
  efficientnet_b2: { source: "Table 6", n: 1408, layers: 116, k2OverC: 0.05, k2OverN: 0.0355114, decomposedAccuracy: 0.6778, fullAccuracy: 0.76762, accuracyRatio: 0.882989 },
  efficientnet_b3: { source: "Table 6", n: 1536, layers: 131, k2OverC: 0.05, k2OverN: 0.0325521, decomposedAccuracy: 0.64842, fullAccuracy: 0.76928, accuracyRatio: 0.842892 },
};
