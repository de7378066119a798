import * as ort from "onnxruntime-node";
import { encodeOnnxModel, OnnxDataType } from "../../src/models/onnx-proto";

// ONNX Runtime itself is the decoder: a model that only loads and computes right if every field is encoded right.
describe("hand-written ONNX protobuf encoder", () => {
  test("negative int64 initialisers, int and float attributes and symbolic dims decode as written", async () => {
    const bytes = encodeOnnxModel({
      producerName: "test",
      producerVersion: "0",
      opsetVersion: 13,
      graph: {
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
      },
    });
    const session = await ort.InferenceSession.create(bytes);
    const x = new ort.Tensor("float32", Float32Array.from([1, 2, -3, 4, -5, 6, 7, -8]), [2, 4]);
    const out = await session.run({ x });
    expect(Array.from(out.y.data as Float32Array)).toEqual([-0.75, 4, 7, -2]);
    expect(out.y.dims).toEqual([2, 2]);
    expect(out.flat.dims).toEqual([1, 8]);
    await session.release();
  });

  test("refuses a tensor whose values do not fill its shape", () => {
    const model = {
      producerName: "t",
      producerVersion: "0",
      opsetVersion: 13,
      graph: { name: "g", nodes: [], initializers: [{ name: "w", dims: [2, 2], data: new Float32Array(3) }], inputs: [], outputs: [] },
    };
    expect(() => encodeOnnxModel(model)).toThrow(/ONNX tensor w: 3 values do not fill shape \[2, 2\]/);
  });
});
