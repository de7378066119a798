/**
 * torchvision's EfficientNet B0-B3 (0.14) on the model description: a 3x3 stride-2 stem (features.0), seven
 * stages of MBConv blocks (features.1-7: an optional 1x1 expansion, a depthwise convolution, squeeze-excitation
 * whose width is a quarter of the block's input channels, a 1x1 projection without activation, and the residual
 * add where stride is 1 and the width is kept), a 1x1 head convolution to four times the last stage's width
 * (features.8), global average pooling and `classifier.1`. SiLU throughout; dropout and stochastic depth are
 * inactive at evaluation. Width and depth multipliers scale the base table as torchvision does.
 */
import { finishSpec, type Layer, type ModelSpec } from "../spec";

export interface TorchvisionEfficientNetConfig {
  name: string;
  widthMult: number;
  depthMult: number;
  classes?: number;
  inputSize?: number;
  /**
   * The stage table (expand ratio, kernel, stride, input and output channels, blocks) before the multipliers;
   * default torchvision's B0 table. Reduced fixtures pass their own.
   */
  stages?: [number, number, number, number, number, number][];
}

/** EfficientNet-B0's stages: expand ratio, kernel, stride, input channels, output channels, blocks. */
const B0_STAGES: [number, number, number, number, number, number][] = [
  [1, 3, 1, 32, 16, 1],
  [6, 3, 2, 16, 24, 2],
  [6, 5, 2, 24, 40, 2],
  [6, 3, 2, 40, 80, 3],
  [6, 5, 1, 80, 112, 3],
  [6, 5, 2, 112, 192, 4],
  [6, 3, 1, 192, 320, 1],
];

/** The evaluation crop of each torchvision weight (IMAGENET1K_V1): 224, 240, 288, 300. */
export const TORCHVISION_EFFICIENTNETS: Record<string, TorchvisionEfficientNetConfig> = {
  efficientnet_b0: { name: "efficientnet_b0", widthMult: 1.0, depthMult: 1.0, inputSize: 224 },
  efficientnet_b1: { name: "efficientnet_b1", widthMult: 1.0, depthMult: 1.1, inputSize: 240 },
  efficientnet_b2: { name: "efficientnet_b2", widthMult: 1.1, depthMult: 1.2, inputSize: 288 },
  efficientnet_b3: { name: "efficientnet_b3", widthMult: 1.2, depthMult: 1.4, inputSize: 300 },
};

const BN_EPS = 1e-5;

/** Round to a multiple of 8, never more than 10 % below the value (torchvision's _make_divisible). */
export function makeDivisible(value: number, divisor = 8): number {
  let rounded = Math.max(divisor, Math.floor((value + divisor / 2) / divisor) * divisor);
  if (rounded < 0.9 * value) rounded += divisor;
  return rounded;
}

export function torchvisionEfficientNetSpec(config: TorchvisionEfficientNetConfig): ModelSpec {
  const classes = config.classes ?? 1000;
  const inputSize = config.inputSize ?? 224;
  const width = (c: number) => makeDivisible(c * config.widthMult);
  const stages = (config.stages ?? B0_STAGES).map(([expand, kernel, stride, inC, outC, blocks]) => ({
    expand, kernel, stride, inC: width(inC), outC: width(outC), blocks: Math.ceil(blocks * config.depthMult),
  }));
  const layers: Layer[] = [];
  /** Conv2dNormActivation: convolution, batch norm, then SiLU unless `act` is false; keys <name>.0 and <name>.1. */
  const convBn = (input: string, name: string, inC: number, outC: number, kernel: number, stride: number, groups: number, act: boolean): string => {
    layers.push({ op: "conv2d", input, output: `${name}:conv`, weight: `${name}.0.weight`, inChannels: inC, outChannels: outC, kernel, stride, pad: (kernel - 1) / 2, groups });
    layers.push({ op: "batchnorm", input: `${name}:conv`, output: `${name}:bn`, param: `${name}.1`, channels: outC, eps: BN_EPS });
    if (!act) return `${name}:bn`;
    layers.push({ op: "silu", input: `${name}:bn`, output: `${name}:silu` });
    return `${name}:silu`;
  };

  let x = convBn("input", "features.0", 3, stages[0].inC, 3, 2, 1, true);
  stages.forEach((stage, s) => {
    for (let b = 0; b < stage.blocks; b++) {
      const p = `features.${s + 1}.${b}`;
      const inC = b === 0 ? stage.inC : stage.outC;
      const stride = b === 0 ? stage.stride : 1;
      const expanded = makeDivisible(inC * stage.expand);
      let part = 0;
      let y = x;
      if (expanded !== inC) y = convBn(y, `${p}.block.${part++}`, inC, expanded, 1, 1, 1, true);
      y = convBn(y, `${p}.block.${part++}`, expanded, expanded, stage.kernel, stride, expanded, true);
      // Squeeze-excitation: pooled, 1x1 down to a quarter of the block's input width, SiLU, 1x1 up, sigmoid, scale.
      const se = `${p}.block.${part++}`;
      const squeeze = Math.max(1, Math.floor(inC / 4));
      layers.push({ op: "globalAvgPool", input: y, output: `${se}:pool`, keepDims: true });
      layers.push({ op: "conv2d", input: `${se}:pool`, output: `${se}:fc1`, weight: `${se}.fc1.weight`, bias: `${se}.fc1.bias`, inChannels: expanded, outChannels: squeeze, kernel: 1, stride: 1, pad: 0 });
      layers.push({ op: "silu", input: `${se}:fc1`, output: `${se}:silu` });
      layers.push({ op: "conv2d", input: `${se}:silu`, output: `${se}:fc2`, weight: `${se}.fc2.weight`, bias: `${se}.fc2.bias`, inChannels: squeeze, outChannels: expanded, kernel: 1, stride: 1, pad: 0 });
      layers.push({ op: "sigmoid", input: `${se}:fc2`, output: `${se}:scale` });
      layers.push({ op: "mul", inputs: [y, `${se}:scale`], output: `${se}:out` });
      y = convBn(`${se}:out`, `${p}.block.${part++}`, expanded, stage.outC, 1, 1, 1, false);
      if (stride === 1 && inC === stage.outC) {
        layers.push({ op: "add", inputs: [y, x], output: `${p}:out` });
        y = `${p}:out`;
      }
      x = y;
    }
  });
  const last = stages[stages.length - 1].outC;
  const head = convBn(x, `features.${stages.length + 1}`, last, 4 * last, 1, 1, 1, true);
  return finishSpec(config.name, [inputSize, inputSize, 3], layers, head, "classifier.1", 4 * last, classes);
}
