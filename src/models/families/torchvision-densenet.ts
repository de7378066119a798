/**
 * torchvision's DenseNet family (0.14) on the model description: a 7x7 stride-2 stem (conv0, norm0, relu0,
 * pool0), dense blocks whose layers each see the concatenation of everything before them (norm1, relu, 1x1
 * conv1 to bn_size * growth channels, norm2, relu, 3x3 conv2 to growth channels), transitions between blocks
 * (norm, relu, 1x1 conv halving the channels, 2x2 average pool), then norm5, ReLU, global average pooling and
 * `classifier`. Parameter names are torchvision's keys.
 */
import type { StateDict } from "../../torch";
import { finishSpec, type Layer, type ModelSpec } from "../spec";

export interface TorchvisionDenseNetConfig {
  name: string;
  growthRate: number;
  blocks: number[];
  initFeatures: number;
  /** Bottleneck width factor: the 1x1 convolution outputs bnSize x growthRate channels. */
  bnSize?: number;
  classes?: number;
  inputSize?: number;
}

export const TORCHVISION_DENSENETS: Record<string, TorchvisionDenseNetConfig> = {
  densenet121: { name: "densenet121", growthRate: 32, blocks: [6, 12, 24, 16], initFeatures: 64 },
  densenet161: { name: "densenet161", growthRate: 48, blocks: [6, 12, 36, 24], initFeatures: 96 },
  densenet169: { name: "densenet169", growthRate: 32, blocks: [6, 12, 32, 32], initFeatures: 64 },
  densenet201: { name: "densenet201", growthRate: 32, blocks: [6, 12, 48, 32], initFeatures: 64 },
};

const BN_EPS = 1e-5;

export function torchvisionDenseNetSpec(config: TorchvisionDenseNetConfig): ModelSpec {
  const bnSize = config.bnSize ?? 4;
  const classes = config.classes ?? 1000;
  const inputSize = config.inputSize ?? 224;
  const layers: Layer[] = [];
  const bnRelu = (input: string, name: string, channels: number): string => {
    layers.push({ op: "batchnorm", input, output: `${name}:bn`, param: name, channels, eps: BN_EPS });
    layers.push({ op: "relu", input: `${name}:bn`, output: `${name}:relu` });
    return `${name}:relu`;
  };
  const conv = (input: string, name: string, inC: number, outC: number, kernel: number, stride = 1): string => {
    layers.push({ op: "conv2d", input, output: `${name}:conv`, weight: `${name}.weight`, inChannels: inC, outChannels: outC, kernel, stride, pad: (kernel - 1) / 2 });
    return `${name}:conv`;
  };

  const stem = conv("input", "features.conv0", 3, config.initFeatures, 7, 2);
  layers.push({ op: "batchnorm", input: stem, output: "features.norm0:bn", param: "features.norm0", channels: config.initFeatures, eps: BN_EPS });
  layers.push({ op: "relu", input: "features.norm0:bn", output: "features.relu0" });
  layers.push({ op: "maxpool", input: "features.relu0", output: "features.pool0", kernel: 3, stride: 2, pad: 1 });
  let x = "features.pool0";
  let channels = config.initFeatures;
  config.blocks.forEach((count, b) => {
    for (let j = 1; j <= count; j++) {
      const p = `features.denseblock${b + 1}.denselayer${j}`;
      const inner = conv(bnRelu(x, `${p}.norm1`, channels), `${p}.conv1`, channels, bnSize * config.growthRate, 1);
      const grown = conv(bnRelu(inner, `${p}.norm2`, bnSize * config.growthRate), `${p}.conv2`, bnSize * config.growthRate, config.growthRate, 3);
      layers.push({ op: "concat", inputs: [x, grown], output: `${p}:out` });
      x = `${p}:out`;
      channels += config.growthRate;
    }
    if (b < config.blocks.length - 1) {
      const t = `features.transition${b + 1}`;
      const halved = conv(bnRelu(x, `${t}.norm`, channels), `${t}.conv`, channels, Math.floor(channels / 2), 1);
      layers.push({ op: "avgpool", input: halved, output: `${t}:pool`, kernel: 2, stride: 2 });
      x = `${t}:pool`;
      channels = Math.floor(channels / 2);
    }
  });
  return finishSpec(config.name, [inputSize, inputSize, 3], layers, bnRelu(x, "features.norm5", channels), "classifier", channels, classes);
}

/**
 * The published DenseNet checkpoints name a dense layer's parameters `norm.1`, `conv.2`, ...; torchvision renames
 * them to `norm1`, `conv2` on load, and so does this. Other keys pass unchanged.
 */
export function renameLegacyDenseNetKeys(stateDict: StateDict): StateDict {
  const legacy = /^(.*denselayer\d+\.(?:norm|relu|conv))\.([12])\.(weight|bias|running_mean|running_var|num_batches_tracked)$/;
  return new Map([...stateDict].map(([key, t]) => [key.replace(legacy, "$1$2.$3"), t]));
}
