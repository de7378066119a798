/**
 * The CIFAR ResNets of He et al. 2016 (option-A shortcuts) as published by pytorch_resnet_cifar10: depth 6n + 2,
 * three stages of 16, 32 and 64 channels; state-dict keys are the checkpoint's after DataParallel's `module.`.
 */
import { appendResidual, finishSpec, type Layer, type ModelSpec, type StageSpec } from "../spec";

const BN_EPS = 1e-5;
const STAGE_WIDTHS = [16, 32, 64];

/** CIFAR ResNet of the given depth (6n + 2: 20, 32, 44, 56, 110, 1202). */
export function cifarResNetSpec(depth: number, classes = 10): ModelSpec {
  if (!Number.isInteger(depth) || depth < 8 || (depth - 2) % 6 !== 0) {
    throw new Error(`CIFAR ResNet depth must be 6n + 2 (20, 32, 44, 56, 110, ...), got ${depth}`);
  }
  const blocksPerStage = (depth - 2) / 6;
  const layers: Layer[] = [];
  const convBnRelu = (input: string, prefix: string, bnName: string, inC: number, outC: number, stride: number, relu: boolean): string => {
    layers.push({ op: "conv2d", input, output: `${prefix}:conv`, weight: `${prefix}.weight`, inChannels: inC, outChannels: outC, kernel: 3, stride, pad: 1 });
    layers.push({ op: "batchnorm", input: `${prefix}:conv`, output: `${bnName}:bn`, param: bnName, channels: outC, eps: BN_EPS });
    if (!relu) return `${bnName}:bn`;
    layers.push({ op: "relu", input: `${bnName}:bn`, output: `${bnName}:relu` });
    return `${bnName}:relu`;
  };

  let x = convBnRelu("input", "conv1", "bn1", 3, STAGE_WIDTHS[0], 1, true);
  let channels = STAGE_WIDTHS[0];
  const stages: StageSpec[] = [];
  STAGE_WIDTHS.forEach((width, stage) => {
    for (let block = 0; block < blocksPerStage; block++) {
      const stride = stage > 0 && block === 0 ? 2 : 1;
      const p = `layer${stage + 1}.${block}`;
      const h = convBnRelu(x, `${p}.conv1`, `${p}.bn1`, channels, width, stride, true);
      const y = convBnRelu(h, `${p}.conv2`, `${p}.bn2`, width, width, 1, false);
      let shortcut = x;
      if (stride !== 1 || channels !== width) {
        shortcut = `${p}:shortcut`;
        layers.push({ op: "shortcutA", input: x, output: shortcut, stride, inChannels: channels, padChannelsEachSide: (width - channels) / 2 });
      }
      x = appendResidual(layers, y, shortcut, p);
      channels = width;
    }
    stages.push({ name: `layer${stage + 1}`, tensor: x, channels: width });
  });
  return finishSpec(`resnet${depth}`, [32, 32, 3], layers, x, "linear", channels, classes, stages);
}
