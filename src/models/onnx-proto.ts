/**
 * ONNX files in and out, through the maintained protobuf definitions of the `onnx-proto` package (protobufjs):
 * the small description our exporters build (nodes, float and int64 initializers, typed inputs and outputs) is
 * encoded to ModelProto bytes, and any model a framework wrote is decoded for the importer.
 */
import { onnx } from "onnx-proto";

/** ONNX TensorProto.DataType values used here. */
export const OnnxDataType = { FLOAT: 1, INT32: 6, INT64: 7 } as const;

export interface OnnxTensor {
  name: string;
  dims: number[];
  /**
   * Float32 tensors carry Float32Array, int32 tensors Int32Array (both stored as raw bytes); int64 tensors carry
   * plain integers (exact up to 2^53), stored one varint each, for small constants.
   */
  data: Float32Array | Int32Array | number[];
}

export type OnnxAttributeValue = number | number[] | string | { floats: number[] } | { float: number };

export interface OnnxNode {
  opType: string;
  inputs: string[];
  outputs: string[];
  name?: string;
  /** Operator set domain; empty (the default) is the standard ONNX domain. */
  domain?: string;
  attributes?: Record<string, OnnxAttributeValue>;
}

export interface OnnxValueInfo {
  name: string;
  elemType: number;
  /** A string names a symbolic (batch) dimension. */
  shape: (number | string)[];
}

export interface OnnxGraph {
  name: string;
  nodes: OnnxNode[];
  initializers: OnnxTensor[];
  inputs: OnnxValueInfo[];
  outputs: OnnxValueInfo[];
}

export interface OnnxModel {
  graph: OnnxGraph;
  opsetVersion: number;
  /** Operator sets besides the standard one that the graph's nodes use. */
  extraOpsets?: { domain: string; version: number }[];
  producerName: string;
  producerVersion: string;
}

const IR_VERSION = 8;
const { AttributeType } = onnx.AttributeProto;

function tensorProto(t: OnnxTensor): onnx.ITensorProto {
  const count = t.dims.reduce((a, b) => a * b, 1);
  if (t.data.length !== count) throw new Error(`ONNX tensor ${t.name}: ${t.data.length} values do not fill shape [${t.dims.join(", ")}]`);
  if (t.data instanceof Float32Array || t.data instanceof Int32Array) {
    // Little-endian raw bytes, as ONNX stores them (and as every x86 and ARM host lays out typed arrays).
    const raw = new Uint8Array(t.data.length * 4);
    const view = new DataView(raw.buffer);
    if (t.data instanceof Float32Array) t.data.forEach((v, i) => view.setFloat32(i * 4, v, true));
    else t.data.forEach((v, i) => view.setInt32(i * 4, v, true));
    return { name: t.name, dims: t.dims, dataType: t.data instanceof Float32Array ? OnnxDataType.FLOAT : OnnxDataType.INT32, rawData: raw };
  }
  for (const v of t.data) if (!Number.isSafeInteger(v)) throw new Error(`ONNX tensor ${t.name}: int64 value ${v} is not an integer`);
  return { name: t.name, dims: t.dims, dataType: OnnxDataType.INT64, int64Data: t.data };
}

function attributeProto(name: string, value: OnnxAttributeValue): onnx.IAttributeProto {
  if (typeof value === "number") {
    if (!Number.isSafeInteger(value)) throw new Error(`ONNX attribute ${name}: ${value} is not an integer (give { float } for a float)`);
    return { name, type: AttributeType.INT, i: value };
  }
  if (typeof value === "string") return { name, type: AttributeType.STRING, s: new TextEncoder().encode(value) };
  if (Array.isArray(value)) return { name, type: AttributeType.INTS, ints: value };
  if ("floats" in value) return { name, type: AttributeType.FLOATS, floats: value.floats };
  return { name, type: AttributeType.FLOAT, f: value.float };
}

function valueInfoProto(v: OnnxValueInfo): onnx.IValueInfoProto {
  const dim = v.shape.map((d) => (typeof d === "number" ? { dimValue: d } : { dimParam: d }));
  return { name: v.name, type: { tensorType: { elemType: v.elemType, shape: { dim } } } };
}

/** Serialise an ONNX model to ModelProto bytes, ready for an InferenceSession. */
export function encodeOnnxModel(model: OnnxModel): Uint8Array {
  const g = model.graph;
  const proto: onnx.IModelProto = {
    irVersion: IR_VERSION,
    producerName: model.producerName,
    producerVersion: model.producerVersion,
    graph: {
      name: g.name,
      node: g.nodes.map((n) => ({
        input: n.inputs, output: n.outputs, name: n.name ?? "", opType: n.opType, domain: n.domain ?? "",
        attribute: Object.entries(n.attributes ?? {}).map(([name, value]) => attributeProto(name, value)),
      })),
      initializer: g.initializers.map(tensorProto),
      input: g.inputs.map(valueInfoProto),
      output: g.outputs.map(valueInfoProto),
    },
    opsetImport: [{ domain: "", version: model.opsetVersion }, ...(model.extraOpsets ?? []).map((o) => ({ domain: o.domain, version: o.version }))],
  };
  return onnx.ModelProto.encode(proto).finish();
}

/** ModelProto bytes as protobufjs objects; a file that is not one fails naming it. */
export function decodeOnnxModel(bytes: Uint8Array, where: string): onnx.ModelProto {
  let model: onnx.ModelProto;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (err) {
    throw new Error(`${where} is not an ONNX model (${(err as Error).message}); export one with torch.onnx.export or tf2onnx`);
  }
  if (model.graph === null || model.graph === undefined || (model.graph.node ?? []).length === 0) {
    throw new Error(`${where} is not an ONNX model: it holds no graph (or an empty one); export one with torch.onnx.export or tf2onnx`);
  }
  return model;
}

/** An int64 field as a number (protobufjs hands them over as Long). */
export function int64(v: number | { toNumber(): number } | null | undefined): number {
  if (v === null || v === undefined) return 0;
  return typeof v === "number" ? v : v.toNumber();
}

/** Encodes a decoded (and perhaps edited) model back to bytes. */
export function encodeModelProto(model: onnx.IModelProto): Uint8Array {
  return onnx.ModelProto.encode(model).finish();
}
