import * as ort from "onnxruntime-node";
import { encodeOnnxModel, OnnxDataType, type OnnxGraph } from "../../src/models/onnx-proto";

const encode = (graph: OnnxGraph) => encodeOnnxModel({ producerName: "test", producerVersion: "0", opsetVersion: 13, graph });

// ONNX Runtime itself is the decoder: a model that only loads and computes right if every field is encoded right.
describe("hand-written ONNX protobuf encoder", () => {
  test("negative int64 initialisers, int and float attributes and symbolic dims decode as written", async () => {
    const bytes = encode({
      name: "g",
      nodes: [
        // Last two columns: starts = -2 needs the 10-byte two's complement varint.
        { opType: "Slice", inputs: ["x", "starts", "ends", "axes"], outputs: ["tail"] },
        { opType: "LeakyRelu", inputs: ["tail"], outputs: ["y"], attributes: { alpha: { float: 0.25 } } },
        { opType: "Flatten", inputs: ["x"], outputs: ["flat"], attributes: { axis: 0 } },
      ],
      initializers: [
        { name: "starts", dims: [1], data: [-2] },
        { name: "ends", dims: [1], data: [Number.MAX_SAFE_INTEGER] },
        { name: "axes", dims: [1], data: [1] },
      ],
      inputs: [{ name: "x", elemType: OnnxDataType.FLOAT, shape: ["n", 4] }],
      outputs: [
        { name: "y", elemType: OnnxDataType.FLOAT, shape: ["n", 2] },
        { name: "flat", elemType: OnnxDataType.FLOAT, shape: [1, "m"] },
      ],
    });
    const session = await ort.InferenceSession.create(bytes);
    const x = new ort.Tensor("float32", Float32Array.from([1, 2, -3, 4, -5, 6, 7, -8]), [2, 4]);
    const out = await session.run({ x });
    expect(Array.from(out.y.data as Float32Array)).toEqual([-0.75, 4, 7, -2]);
    expect(out.y.dims).toEqual([2, 2]);
    expect(out.flat.dims).toEqual([1, 8]);
    await session.release();
  });

  test("int32 initialisers travel as raw little-endian bytes, negative values included", async () => {
    // Gather with int32 indices, as the training graph lays out its blocked kernels: values past one and two
    // bytes, and -1 (from the end).
    const bytes = encode({
      name: "g",
      nodes: [{ opType: "Gather", inputs: ["x", "at"], outputs: ["y"], attributes: { axis: 0 } }],
      initializers: [{ name: "at", dims: [2, 3], data: Int32Array.from([70000, 0, -1, 256, 65536, 3]) }],
      inputs: [{ name: "x", elemType: OnnxDataType.FLOAT, shape: [70001] }],
      outputs: [{ name: "y", elemType: OnnxDataType.FLOAT, shape: [2, 3] }],
    });
    const session = await ort.InferenceSession.create(bytes);
    const x = Float32Array.from({ length: 70001 }, (_, i) => i);
    const out = await session.run({ x: new ort.Tensor("float32", x, [70001]) });
    expect(Array.from(out.y.data as Float32Array)).toEqual([70000, 0, 70000, 256, 65536, 3]);
    expect(out.y.dims).toEqual([2, 3]);
    await session.release();
  });

  test("refuses a tensor whose values do not fill its shape", () => {
    const graph = { name: "g", nodes: [], initializers: [{ name: "w", dims: [2, 2], data: new Float32Array(3) }], inputs: [], outputs: [] };
    expect(() => encode(graph)).toThrow(/ONNX tensor w: 3 values do not fill shape \[2, 2\]/);
  });
});
