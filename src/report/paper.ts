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
