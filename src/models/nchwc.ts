/**
 * ONNX Runtime's blocked "NCHWc" convolutions (its com.microsoft.nchwc operators, MLAS kernels that keep B
 * channels together) for graphs whose convolution weights are graph inputs. The runtime only rewrites a
 * Conv into this form when its weight is a constant, so a training graph, whose weights change every step,
 * has to ask for it: a Conv on the blocked kernels took half the time of a plain one here, reorders included.
 */
import * as ort from "onnxruntime-node";
import { ONNX_OPSET } from "./onnx-export";
import { encodeOnnxModel, OnnxDataType } from "./onnx-proto";

export const NCHWC_DOMAIN = "com.microsoft.nchwc";
export const NCHWC_OPSET = { domain: NCHWC_DOMAIN, version: 1 };

let probed: Promise<number | null> | undefined;

/**
 * Channels per block of this machine's NCHWc kernels (16 with AVX-512, 8 with AVX2), or null where this
 * ONNX Runtime build has none. Read from the padded channel count of a four-channel ReorderInput (the
 * smallest it takes).
 */
export function nchwcBlockSize(): Promise<number | null> {
  probed ??= (async () => {
    const bytes = encodeOnnxModel({
      producerName: "decomp",
      producerVersion: "0.1.0",
      opsetVersion: ONNX_OPSET,
      extraOpsets: [NCHWC_OPSET],
      graph: {
        name: "nchwc-probe",
        nodes: [{ opType: "ReorderInput", domain: NCHWC_DOMAIN, inputs: ["x"], outputs: ["y"] }],
        initializers: [],
        inputs: [{ name: "x", elemType: OnnxDataType.FLOAT, shape: [1, 4, 1, 1] }],
        outputs: [{ name: "y", elemType: OnnxDataType.FLOAT, shape: [1, "blocked", 1, 1] }],
      },
    });
    try {
      const session = await ort.InferenceSession.create(bytes, { executionProviders: ["cpu"], graphOptimizationLevel: "disabled", logSeverityLevel: 4 });
      try {
        const out = await session.run({ x: new ort.Tensor("float32", new Float32Array(4), [1, 4, 1, 1]) });
        const block = out.y.dims[1];
        return Number.isInteger(block) && block > 1 ? block : null;
      } finally {
        await session.release();
      }
    } catch {
      return null;
    }
  })();
  return probed;
}
