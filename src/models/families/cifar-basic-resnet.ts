/**
 * The CIFAR variant of ResNet18/34 most CIFAR code uses (kuangliu/pytorch-cifar's layout): torchvision's BasicBlock
 * stages of 64-512 channels, but a 3 x 3 stride-1 first convolution and no max pool, so a 32 x 32 image ends as a
 * 4 x 4 map that the head averages; projection shortcuts (1 x 1 convolution + BatchNorm) where the shape changes.
 * State-dict keys: conv1, bn1, layer<s>.<b>.{conv1,bn1,conv2,bn2,shortcut.0,shortcut.1}, linear.
 */
import { appendResidual, finishSpec, type Layer, type ModelSpec, type StageSpec } from "../spec";

const BN_EPS = 1e-5;
const WIDTHS = [64, 128, 256, 512];

/** Blocks per stage of each depth. */
export const CIFAR_BASIC_RESNETS: Readonly<Record<string, number[]>> = {
  cifar_resnet18: [2, 2, 2, 2],
  cifar_resnet34: [3, 4, 6, 3],
};

export function cifarBasicResNetSpec(name: string, classes = 10): ModelSpec {
  const blocks = CIFAR_BASIC_RESNETS[name];
  if (blocks === undefined) throw new Error(`unknown CIFAR BasicBlock ResNet '${name}'; known: ${Object.keys(CIFAR_BASIC_RESNETS).join(", ")}`);
  const layers: Layer[] = [];
  const convBn = (input: string, conv: string, bn: string, inC: number, outC: number, kernel: number, stride: number): string => {
    layers.push({ op: "conv2d", input, output: `${conv}:conv`, weight: `${conv}.weight`, inChannels: inC, outChannels: outC, kernel, stride, pad: (kernel - 1) / 2 });
    layers.push({ op: "batchnorm", input: `${conv}:conv`, output: `${bn}:bn`, param: bn, channels: outC, eps: BN_EPS });
    return `${bn}:bn`;
  };
  const relu = (input: string): string => {
    layers.push({ op: "relu", input, output: `${input}:relu` });
    return `${input}:relu`;
  };
  let x = relu(convBn("input", "conv1", "bn1", 3, WIDTHS[0], 3, 1));
  let inC = WIDTHS[0];
  const stages: StageSpec[] = [];
  WIDTHS.forEach((width, s) => {
    for (let b = 0; b < blocks[s]; b++) {
      const stride = s > 0 && b === 0 ? 2 : 1;
      const p = `layer${s + 1}.${b}`;
      const h = relu(convBn(x, `${p}.conv1`, `${p}.bn1`, inC, width, 3, stride));
      const y = convBn(h, `${p}.conv2`, `${p}.bn2`, width, width, 3, 1);
      const shortcut = stride !== 1 || inC !== width ? convBn(x, `${p}.shortcut.0`, `${p}.shortcut.1`, inC, width, 1, stride) : x;
      x = appendResidual(layers, y, shortcut, p);
      inC = width;
    }
    stages.push({ name: `layer${s + 1}`, tensor: x, channels: width });
  });
  return finishSpec(name, [32, 32, 3], layers, x, "linear", inC, classes, stages);
}
