/**
 * torchvision's ResNet family (0.14, the version the paper's authors pin) on the model description: a 7x7
 * stride-2 stem with batch norm, ReLU and a 3x3 stride-2 max pool, four stages of BasicBlocks or Bottlenecks
 * (v1.5: a bottleneck's stride sits on its 3x3 convolution), a 1x1 convolution plus batch norm as the
 * downsample wherever a block changes stride or width, global average pooling and `fc`. Parameter names are
 * torchvision's state-dict keys. Wide ResNets are bottleneck ResNets whose inner width is doubled.
 */
import { appendResidual, finishSpec, type Layer, type ModelSpec, type StageSpec } from "../spec";

export interface TorchvisionResNetConfig {
  name: string;
  block: "basic" | "bottleneck";
  /** Blocks per stage (four stages). */
  blocks: [number, number, number, number];
  /** torchvision's width_per_group: 64, or 128 for the wide variants (bottleneck only). */
  widthPerGroup?: number;
  /** Output channels of the stem and the four stages' planes: torchvision's 64 and [64, 128, 256, 512]. */
  stem?: number;
  planes?: [number, number, number, number];
  classes?: number;
  /** Square input side (224 for the ImageNet evaluation crop). */
  inputSize?: number;
}

const BN_EPS = 1e-5;

/** The torchvision constructors' configurations, by their function names. */
export const TORCHVISION_RESNETS: Record<string, TorchvisionResNetConfig> = {
  resnet18: { name: "resnet18", block: "basic", blocks: [2, 2, 2, 2] },
  resnet34: { name: "resnet34", block: "basic", blocks: [3, 4, 6, 3] },
  resnet50: { name: "resnet50", block: "bottleneck", blocks: [3, 4, 6, 3] },
  resnet101: { name: "resnet101", block: "bottleneck", blocks: [3, 4, 23, 3] },
  resnet152: { name: "resnet152", block: "bottleneck", blocks: [3, 8, 36, 3] },
  wide_resnet50_2: { name: "wide_resnet50_2", block: "bottleneck", blocks: [3, 4, 6, 3], widthPerGroup: 128 },
  wide_resnet101_2: { name: "wide_resnet101_2", block: "bottleneck", blocks: [3, 4, 23, 3], widthPerGroup: 128 },
};

/** Output side of a convolution or pool with symmetric padding (floor mode, as torchvision's layers). */
const outSize = (size: number, kernel: number, stride: number, pad: number) => Math.floor((size + 2 * pad - kernel) / stride) + 1;

export function torchvisionResNetSpec(config: TorchvisionResNetConfig): ModelSpec {
  const stem = config.stem ?? 64;
  const planes = config.planes ?? [64, 128, 256, 512];
  const classes = config.classes ?? 1000;
  const inputSize = config.inputSize ?? 224;
  const widthPerGroup = config.widthPerGroup ?? 64;
  if (config.block === "basic" && widthPerGroup !== 64) throw new Error(`${config.name}: BasicBlock only supports width_per_group 64, as torchvision`);
  const expansion = config.block === "basic" ? 1 : 4;
  if (outSize(outSize(inputSize, 7, 2, 3), 3, 2, 1) < 1) throw new Error(`${config.name}: an input of ${inputSize} x ${inputSize} is too small for the stem`);
  const layers: Layer[] = [];
  const conv = (input: string, name: string, inC: number, outC: number, kernel: number, stride: number): string => {
    layers.push({ op: "conv2d", input, output: `${name}:conv`, weight: `${name}.weight`, inChannels: inC, outChannels: outC, kernel, stride, pad: (kernel - 1) / 2 });
    return `${name}:conv`;
  };
  const bn = (input: string, name: string, channels: number): string => {
    layers.push({ op: "batchnorm", input, output: `${name}:bn`, param: name, channels, eps: BN_EPS });
    return `${name}:bn`;
  };
  const relu = (input: string): string => {
    layers.push({ op: "relu", input, output: `${input}:relu` });
    return `${input}:relu`;
  };

  let x = relu(bn(conv("input", "conv1", 3, stem, 7, 2), "bn1", stem));
  layers.push({ op: "maxpool", input: x, output: "maxpool", kernel: 3, stride: 2, pad: 1 });
  x = "maxpool";
  let inC = stem;
  const stages: StageSpec[] = [];
  planes.forEach((p, stage) => {
    for (let b = 0; b < config.blocks[stage]; b++) {
      const stride = stage > 0 && b === 0 ? 2 : 1;
      const prefix = `layer${stage + 1}.${b}`;
      const outC = p * expansion;
      let y: string;
      if (config.block === "basic") {
        y = relu(bn(conv(x, `${prefix}.conv1`, inC, p, 3, stride), `${prefix}.bn1`, p));
        y = bn(conv(y, `${prefix}.conv2`, p, p, 3, 1), `${prefix}.bn2`, p);
      } else {
        const width = Math.floor(p * (widthPerGroup / 64));
        y = relu(bn(conv(x, `${prefix}.conv1`, inC, width, 1, 1), `${prefix}.bn1`, width));
        y = relu(bn(conv(y, `${prefix}.conv2`, width, width, 3, stride), `${prefix}.bn2`, width));
        y = bn(conv(y, `${prefix}.conv3`, width, outC, 1, 1), `${prefix}.bn3`, outC);
      }
      const shortcut = stride !== 1 || inC !== outC ? bn(conv(x, `${prefix}.downsample.0`, inC, outC, 1, stride), `${prefix}.downsample.1`, outC) : x;
      x = appendResidual(layers, y, shortcut, prefix);
      inC = outC;
    }
    stages.push({ name: `layer${stage + 1}`, tensor: x, channels: inC });
  });
  return finishSpec(config.name, [inputSize, inputSize, 3], layers, x, "fc", inC, classes, stages);
}
