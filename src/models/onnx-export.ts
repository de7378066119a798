/**
 * ModelSpec + PyTorch state dict -> ONNX ModelProto bytes for inference. BatchNorm that directly follows a
 * convolution is folded into that convolution's weight and bias (inference mode, running statistics), so
 * ONNX Runtime sees Conv(+Add)+Relu chains it can fuse.
 */
import { type BatchNormLayer, type Conv2dLayer, convWeightShape, type Layer, layerInputs, type ModelSpec } from "./spec";
import type { StateDict } from "../torch";
import { encodeOnnxModel, OnnxDataType, type OnnxNode, type OnnxTensor } from "./onnx-proto";

export type InputLayout = "nhwc" | "nchw";

export interface OnnxExportOptions {
  /**
   * Layout of the graph input. "nhwc" (default) matches the ForwardEngine contract with a Transpose inside
   * the graph; "nchw" leaves the transpose to the caller.
   */
  inputLayout?: InputLayout;
}

/** ONNX opset the exporter targets; every op used has had its current form since opset 13. */
export const ONNX_OPSET = 13;
const BATCH_DIM = "batch";

/** The parameter `key` of the state dict, checked against the shape the spec expects. */
export function getParam(stateDict: StateDict, key: string, shape: number[]): Float32Array {
  const entry = stateDict.get(key);
  if (!entry) {
    throw new Error(`state dict has no "${key}": is the checkpoint for this architecture and depth?`);
  }
  const same = entry.shape.length === shape.length && entry.shape.every((d, i) => d === shape[i]);
  if (!same) {
    throw new Error(`state dict "${key}" has shape [${entry.shape.join(", ")}], the spec expects [${shape.join(", ")}]`);
  }
  return entry.data;
}

function countConsumers(layers: Layer[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const l of layers) {
    const inputs = layerInputs(l);
    for (const i of inputs) counts.set(i, (counts.get(i) ?? 0) + 1);
  }
  return counts;
}

/** The stage outputs withStageOutputs added, with their widths (none for a plain description). */
export function stageOutputs(spec: ModelSpec): { name: string; channels: number }[] {
  const names = spec.outputs.stages ?? [];
  if (names.length === 0) return [];
  const byOutput = new Map(spec.layers.flatMap((l) => (l.op === "globalAvgPool" ? [[l.output, l.input] as const] : [])));
  return names.map((name) => {
    const maps = byOutput.get(name);
    const stage = spec.stages?.find((s) => s.tensor === maps);
    if (stage === undefined) throw new Error(`${spec.name}: output '${name}' pools no stage of the description`);
    return { name, channels: stage.channels };
  });
}

/** Per-channel scale and shift equal to BatchNorm in inference mode: y = x * scale + shift. */
export function batchNormAffine(bn: BatchNormLayer, stateDict: StateDict): { scale: Float32Array; shift: Float32Array } {
  const c = [bn.channels];
  const gamma = getParam(stateDict, `${bn.param}.weight`, c);
  const beta = getParam(stateDict, `${bn.param}.bias`, c);
  const mean = getParam(stateDict, `${bn.param}.running_mean`, c);
  const variance = getParam(stateDict, `${bn.param}.running_var`, c);
  const scale = new Float32Array(bn.channels);
  const shift = new Float32Array(bn.channels);
  for (let i = 0; i < bn.channels; i++) {
    // Folded in float64 so the only rounding is the final store to float32.
    const s = gamma[i] / Math.sqrt(variance[i] + bn.eps);
    scale[i] = s;
    shift[i] = beta[i] - mean[i] * s;
  }
  return { scale, shift };
}

/** Build the inference graph of `spec` with weights from `stateDict`, serialised as ONNX ModelProto bytes. */
export function exportOnnxModel(spec: ModelSpec, stateDict: StateDict, options: OnnxExportOptions = {}): Uint8Array {
  const layout = options.inputLayout ?? "nhwc";
  const nodes: OnnxNode[] = [];
  const initializers: OnnxTensor[] = [];
  const constant = (name: string, dims: number[], data: Float32Array | number[]): string => {
    initializers.push({ name, dims, data });
    return name;
  };
  const consumers = countConsumers(spec.layers);
  const producedBy = new Map<string, Layer>();
  const folded = new Set<Layer>();

  const [h, w, c] = spec.inputShape;
  const inputShape = layout === "nhwc" ? [BATCH_DIM, h, w, c] : [BATCH_DIM, c, h, w];
  let graphInput = spec.input;
  if (layout === "nhwc") {
    graphInput = `${spec.input}:nchw`;
    nodes.push({ opType: "Transpose", inputs: [spec.input], outputs: [graphInput], attributes: { perm: [0, 3, 1, 2] } });
  }
  const rename = (t: string): string => (t === spec.input ? graphInput : t);

  // A BatchNorm is folded into the conv feeding it when nothing else reads the raw conv output.
  const foldTarget = new Map<Conv2dLayer, BatchNormLayer>();
  for (const l of spec.layers) {
    producedBy.set(l.output, l);
    if (l.op === "batchnorm") {
      const src = producedBy.get(l.input);
      if (src?.op === "conv2d" && consumers.get(l.input) === 1) {
        foldTarget.set(src, l);
        folded.add(l);
      }
    }
  }

  for (const l of spec.layers) {
    switch (l.op) {
      case "conv2d": {
        const shape = convWeightShape(l);
        const weight = getParam(stateDict, l.weight, shape);
        const bias = l.bias === undefined ? undefined : getParam(stateDict, l.bias, [l.outChannels]);
        const bn = foldTarget.get(l);
        const inputs = [rename(l.input)];
        let output = l.output;
        if (bn) {
          const { scale, shift } = batchNormAffine(bn, stateDict);
          const perOut = weight.length / l.outChannels;
          const scaled = new Float32Array(weight.length);
          for (let o = 0; o < l.outChannels; o++) {
            for (let j = 0; j < perOut; j++) scaled[o * perOut + j] = weight[o * perOut + j] * scale[o];
          }
          // BN(conv(x) + b) = conv_{w s}(x) + (b s + shift).
          const folded = bias === undefined ? shift : shift.map((v, o) => v + bias[o] * scale[o]);
          inputs.push(constant(`${l.weight}:folded`, shape, scaled));
          inputs.push(constant(`${bn.param}:shift`, [l.outChannels], folded));
          output = bn.output;
        } else {
          inputs.push(constant(l.weight, shape, weight));
          if (bias !== undefined) inputs.push(constant(l.bias as string, [l.outChannels], bias));
        }
        nodes.push({
          opType: "Conv",
          inputs,
          outputs: [output],
          attributes: { kernel_shape: [l.kernel, l.kernel], strides: [l.stride, l.stride], pads: [l.pad, l.pad, l.pad, l.pad], ...((l.groups ?? 1) > 1 ? { group: l.groups } : {}) },
        });
        break;
      }
      case "batchnorm": {
        if (folded.has(l)) break;
        const ch = [l.channels];
        const p = (suffix: string) => constant(`${l.param}.${suffix}`, ch, getParam(stateDict, `${l.param}.${suffix}`, ch));
        nodes.push({
          opType: "BatchNormalization",
          inputs: [rename(l.input), p("weight"), p("bias"), p("running_mean"), p("running_var")],
          outputs: [l.output],
          attributes: { epsilon: { float: l.eps } },
        });
        break;
      }
      case "relu":
        nodes.push({ opType: "Relu", inputs: [rename(l.input)], outputs: [l.output] });
        break;
      case "sigmoid":
        nodes.push({ opType: "Sigmoid", inputs: [rename(l.input)], outputs: [l.output] });
        break;
      case "silu": {
        // Opset 13 has no SiLU: x * Sigmoid(x).
        const gate = `${l.output}:sigmoid`;
        nodes.push({ opType: "Sigmoid", inputs: [rename(l.input)], outputs: [gate] });
        nodes.push({ opType: "Mul", inputs: [rename(l.input), gate], outputs: [l.output] });
        break;
      }
      case "mul":
        nodes.push({ opType: "Mul", inputs: l.inputs.map(rename), outputs: [l.output] });
        break;
      case "add":
        nodes.push({ opType: "Add", inputs: l.inputs.map(rename), outputs: [l.output] });
        break;
      case "shortcutA": {
        // A 1x1 convolution whose weight is a 0/1 channel-embedding matrix: exactly the strided pick plus zero
        // channel padding (each output is one input times 1 plus zeros), but unlike Slice + Pad it stays in
        // ONNX Runtime's blocked NCHWc layout, so no reorder sits on the residual path.
        const p = l.padChannelsEachSide;
        const outChannels = l.inChannels + 2 * p;
        const embed = new Float32Array(outChannels * l.inChannels);
        for (let i = 0; i < l.inChannels; i++) embed[(i + p) * l.inChannels + i] = 1;
        nodes.push({
          opType: "Conv",
          inputs: [rename(l.input), constant(`${l.output}:embed`, [outChannels, l.inChannels, 1, 1], embed)],
          outputs: [l.output],
          attributes: { kernel_shape: [1, 1], strides: [l.stride, l.stride], pads: [0, 0, 0, 0] },
        });
        break;
      }
      case "concat":
        nodes.push({ opType: "Concat", inputs: l.inputs.map(rename), outputs: [l.output], attributes: { axis: 1 } });
        break;
      case "avgpool":
      case "maxpool": {
        const pad = l.op === "maxpool" ? l.pad : 0;
        nodes.push({
          opType: l.op === "maxpool" ? "MaxPool" : "AveragePool",
          inputs: [rename(l.input)],
          outputs: [l.output],
          attributes: { kernel_shape: [l.kernel, l.kernel], strides: [l.stride, l.stride], pads: [pad, pad, pad, pad] },
        });
        break;
      }
      case "globalAvgPool": {
        if (l.keepDims) {
          nodes.push({ opType: "GlobalAveragePool", inputs: [rename(l.input)], outputs: [l.output] });
          break;
        }
        const pooled = `${l.output}:nchw11`;
        nodes.push({ opType: "GlobalAveragePool", inputs: [rename(l.input)], outputs: [pooled] });
        nodes.push({ opType: "Flatten", inputs: [pooled], outputs: [l.output], attributes: { axis: 1 } });
        break;
      }
      case "linear": {
        const weight = getParam(stateDict, `${l.param}.weight`, [l.outFeatures, l.inFeatures]);
        const bias = getParam(stateDict, `${l.param}.bias`, [l.outFeatures]);
        nodes.push({
          opType: "Gemm",
          inputs: [rename(l.input), constant(`${l.param}.weight`, [l.outFeatures, l.inFeatures], weight), constant(`${l.param}.bias`, [l.outFeatures], bias)],
          outputs: [l.output],
          attributes: { transB: 1 },
        });
        break;
      }
    }
  }

  return encodeOnnxModel({
    producerName: "decomp",
    producerVersion: "0.1.0",
    opsetVersion: ONNX_OPSET,
    graph: {
      name: spec.name,
      nodes,
      initializers,
      inputs: [{ name: spec.input, elemType: OnnxDataType.FLOAT, shape: inputShape }],
      // Logits first: what a classifier's first output is, and where an importer looks for its final layer.
      outputs: [
        { name: spec.outputs.logits, elemType: OnnxDataType.FLOAT, shape: [BATCH_DIM, spec.classes] },
        { name: spec.outputs.features, elemType: OnnxDataType.FLOAT, shape: [BATCH_DIM, spec.featureWidth] },
        ...stageOutputs(spec)
          .filter((o) => o.name !== spec.outputs.features)
          .map((o) => ({ name: o.name, elemType: OnnxDataType.FLOAT, shape: [BATCH_DIM, o.channels] })),
      ],
    },
  });
}
