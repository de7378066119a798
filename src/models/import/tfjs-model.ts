/**
 * A TF.js LayersModel (model.json and its weight shards: a Keras model converted by tensorflowjs_converter, a
 * Teachable Machine export, a model saved from TF.js) as a model the pipeline runs: its final Dense layer is the
 * decomposable layer (a fused softmax is dropped: logits are recomputed as W f + b from the features), the Dense
 * layer's input the penultimate features, and the input of the last GlobalAveragePooling2D the feature map.
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { writeFileAtomic } from "../../artifacts/atomic-write";
import { initBackend } from "../../backend";
import type { IndexSets } from "../../method";
import { headMask } from "../../training/params";
import type { ForwardResult, ImportedEngine, MapBatch, ModelShape } from "../engine";

/** Layers that pass values on unchanged (in the walk from the output back to the head, or from the head to the pool). */
const PASS_THROUGH = new Set(["Flatten", "Dropout", "Reshape", "SpatialDropout2D", "GaussianDropout", "AlphaDropout"]);
const AFTER_HEAD = new Set([...PASS_THROUGH, "Softmax"]);
const KEEPS_SIGN = new Set([...PASS_THROUGH, "GlobalAveragePooling2D", "GlobalMaxPooling2D", "MaxPooling2D", "AveragePooling2D", "Concatenate"]);
const NON_NEGATIVE_ACTIVATIONS = new Set(["relu", "relu6", "sigmoid", "softmax", "softplus", "exponential"]);

export interface ImportedTfjsModel {
  kind: "imported";
  format: "tfjs";
  /** model.json, resolved. */
  file: string;
  checkpointPath: string;
  /** sha256 over model.json and its weight shards, in order. */
  checkpointSha256: string;
  spec: ModelShape;
  finalLayer: { weight: Float32Array; bias: Float32Array };
  /** The Dense layer's name, what its input comes from, and the layer giving the feature map. */
  layers: { dense: string; map: string | null };
  warnings: string[];
  /** The network up to the features (and the map), what the engine runs. */
  network: tf.LayersModel;
  /** The model as read (topology and weights), for export. */
  artifacts: tf.io.ModelArtifacts;
}

/** Whether `--model` names a TF.js LayersModel (its model.json). */
export function isTfjsFile(model: string): boolean {
  return model.toLowerCase().endsWith(".json");
}

interface ModelJson {
  modelTopology?: unknown;
  format?: string;
  weightsManifest?: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
}

/** model.json and its shards as TF.js artifacts, every problem naming the file. */
function readArtifacts(abs: string): { artifacts: tf.io.ModelArtifacts; sha256: string } {
  if (!fs.existsSync(abs)) throw new Error(`model file ${abs} does not exist`);
  const text = fs.readFileSync(abs);
  let json: ModelJson;
  try {
    json = JSON.parse(text.toString("utf8"));
  } catch (err) {
    throw new Error(`${abs} is not a TF.js model.json (${(err as Error).message}); save one with model.save or tensorflowjs_converter`);
  }
  if (json.modelTopology === undefined || json.weightsManifest === undefined) throw new Error(`${abs} is not a TF.js LayersModel: it needs modelTopology and weightsManifest (a graph model from tf.saved_model conversion has no layers to decompose; export it to ONNX instead)`);
  if (json.format !== undefined && json.format !== "layers-model") throw new Error(`${abs} is a TF.js ${json.format}, not a layers-model; export it to ONNX instead (tf2onnx)`);
  const hash = createHash("sha256").update(text);
  const shards: Uint8Array[] = [];
  const specs: tf.io.WeightsManifestEntry[] = [];
  for (const group of json.weightsManifest) {
    for (const p of group.paths) {
      const shard = path.resolve(path.dirname(abs), p);
      if (!fs.existsSync(shard)) throw new Error(`${abs} names the weight file ${p}, which is not beside it (${shard})`);
      const bytes = fs.readFileSync(shard);
      hash.update(bytes);
      shards.push(bytes);
    }
    specs.push(...group.weights);
  }
  const total = shards.reduce((n, s) => n + s.length, 0);
  const weightData = new Uint8Array(total);
  let at = 0;
  for (const s of shards) {
    weightData.set(s, at);
    at += s.length;
  }
  return { artifacts: { modelTopology: json.modelTopology as tf.io.ModelArtifacts["modelTopology"], weightSpecs: specs, weightData: weightData.buffer, format: "layers-model" }, sha256: hash.digest("hex") };
}

const className = (layer: tf.layers.Layer) => layer.getClassName();
const previous = (layer: tf.layers.Layer): tf.layers.Layer | undefined => layer.inboundNodes[0]?.inboundLayers[0];
const activationOf = (layer: tf.layers.Layer) => String((layer.getConfig() as { activation?: string }).activation ?? "linear");

/** Whether a layer's output is non-negative by construction; otherwise the layer that may make it negative. */
function negativeSource(layer: tf.layers.Layer | undefined, depth = 0): string | null {
  if (layer === undefined) return "the model's input";
  const kind = className(layer);
  if (kind === "ReLU" || kind === "Softmax") return null;
  if (kind === "Activation" || kind === "Dense" || kind === "Conv2D" || kind === "DepthwiseConv2D" || kind === "SeparableConv2D") {
    return NON_NEGATIVE_ACTIVATIONS.has(activationOf(layer)) ? null : `${kind} ${layer.name} (activation ${activationOf(layer)})`;
  }
  if (KEEPS_SIGN.has(kind) && depth < 64) {
    for (const input of layer.inboundNodes[0]?.inboundLayers ?? []) {
      const found = negativeSource(input, depth + 1);
      if (found !== null) return found;
    }
    return null;
  }
  return `${kind} ${layer.name}`;
}

/** Reads, checks and prepares a LayersModel; every problem is reported before any image is decoded. */
export async function importTfjs(file: string, options: { inputSize?: number } = {}): Promise<ImportedTfjsModel> {
  const abs = path.resolve(file);
  const { artifacts, sha256 } = readArtifacts(abs);
  await initBackend();
  let model: tf.LayersModel;
  try {
    model = await tf.loadLayersModel(tf.io.fromMemory(artifacts));
  } catch (err) {
    throw new Error(`${abs}: TF.js cannot load it (${(err as Error).message.split("\n")[0]})`);
  }
  const output = model.outputs[0];
  let layer: tf.layers.Layer | undefined = output.sourceLayer as tf.layers.Layer;
  while (layer !== undefined && (AFTER_HEAD.has(className(layer)) || (className(layer) === "Activation" && ["softmax", "linear"].includes(activationOf(layer))))) layer = previous(layer);
  if (layer === undefined || className(layer) !== "Dense") {
    throw new Error(`${abs} has no final Dense layer: its output comes from ${layer === undefined ? "its input" : `a ${className(layer)} layer (${layer.name})`}; Algorithm 1 decomposes a fully connected final layer`);
  }
  const dense = layer;
  const [kernel, bias] = dense.getWeights();
  const [featureWidth, classes] = kernel.shape;
  const k = kernel.dataSync();
  const weight = new Float32Array(classes * featureWidth);
  for (let y = 0; y < classes; y++) for (let j = 0; j < featureWidth; j++) weight[y * featureWidth + j] = k[j * classes + y];
  const b = bias === undefined ? new Float32Array(classes) : Float32Array.from(bias.dataSync());
  const features = dense.input as tf.SymbolicTensor;
  let pool = previous(dense);
  while (pool !== undefined && PASS_THROUGH.has(className(pool))) pool = previous(pool);
  const mapLayer = pool !== undefined && className(pool) === "GlobalAveragePooling2D" ? previous(pool) : undefined;
  const inputShape = model.inputs[0].shape;
  if (inputShape.length !== 4 || inputShape[3] !== 3) throw new Error(`${abs}: input shape [${inputShape.map((d) => d ?? "?").join(", ")}] is not [N, H, W, 3] (RGB images, channels last)`);
  const [, h, w] = inputShape;
  if (h !== null && w !== null && h !== w) throw new Error(`${abs} takes ${h} x ${w} images; decomp feeds square ones`);
  if (h !== null && options.inputSize !== undefined && options.inputSize !== h) {
    throw new Error(`${abs} takes ${h} x ${h} images but the preprocessing gives ${options.inputSize} x ${options.inputSize}; use --crop ${h} (or --squash ${h})`);
  }
  const side = h ?? options.inputSize;
  if (side === undefined) throw new Error(`${abs} leaves its input's height and width open; give the size with --crop N or --squash N`);
  const outputs = mapLayer === undefined ? [features] : [features, mapLayer.output as tf.SymbolicTensor];
  const network = tf.model({ inputs: model.inputs, outputs });
  const warnings: string[] = [];
  const negative = negativeSource(previous(dense));
  if (negative !== null) warnings.push(`${path.basename(abs)}: the penultimate features come from ${negative}, which can be negative; Algorithm 1 ranks features by size and assumes they are non-negative (post-ReLU), so read its sets with care`);
  return {
    kind: "imported", format: "tfjs", file: abs, checkpointPath: abs, checkpointSha256: sha256,
    spec: { name: path.basename(path.dirname(abs)) === "" ? path.basename(abs) : `${path.basename(path.dirname(abs))}/${path.basename(abs)}`, inputShape: [side, side, 3], featureWidth, classes },
    finalLayer: { weight, bias: b }, layers: { dense: dense.name, map: mapLayer?.name ?? null }, warnings, network, artifacts,
  };
}

/** Logits W f + b of `count` feature rows, accumulated in float64. */
function headLogits(model: ImportedTfjsModel, features: Float32Array, count: number): Float32Array {
  const { featureWidth: m, classes } = model.spec;
  const { weight, bias } = model.finalLayer;
  const logits = new Float32Array(count * classes);
  for (let i = 0; i < count; i++) {
    for (let y = 0; y < classes; y++) {
      let s = bias[y];
      for (let j = 0; j < m; j++) s += weight[y * m + j] * features[i * m + j];
      logits[i * classes + y] = s;
    }
  }
  return logits;
}

export class TfjsImportedEngine implements ImportedEngine {
  constructor(private readonly model: ImportedTfjsModel, readonly backend: string) {}

  get spec(): ModelShape {
    return this.model.spec;
  }

  private run(images: Float32Array, count: number): { features: Float32Array; map: MapBatch | null } {
    const [h, w, c] = this.spec.inputShape;
    if (!Number.isInteger(count) || count < 1 || images.length < count * h * w * c) throw new Error(`forward got ${images.length} values for ${count} images of ${h} x ${w} x ${c}`);
    const x = tf.tensor4d(images.subarray(0, count * h * w * c), [count, h, w, c]);
    const out = this.model.network.predict(x);
    const [f, m] = Array.isArray(out) ? out : [out];
    try {
      const features = Float32Array.from(f.dataSync());
      const map = m === undefined ? null : { data: Float32Array.from(m.dataSync()), shape: m.shape as [number, number, number, number] };
      return { features, map };
    } finally {
      tf.dispose([x, f, ...(m === undefined ? [] : [m])]);
    }
  }

  async forward(images: Float32Array, count: number): Promise<ForwardResult> {
    const { features } = this.run(images, count);
    return { features, logits: headLogits(this.model, features, count) };
  }

  /** The last feature map (the global average pool's input), NHWC; null when the features are not a pooled map. */
  async maps(images: Float32Array, count: number): Promise<MapBatch | null> {
    return this.run(images, count).map;
  }

  dispose(): void {
    // The network belongs to the imported model, which other engines may still use.
  }
}

export async function openTfjsImportedEngine(model: ImportedTfjsModel): Promise<TfjsImportedEngine> {
  const backend = await initBackend();
  return new TfjsImportedEngine(model, backend.name);
}

/**
 * The model as read with its Dense kernel zero outside each class's set (all kept when sets is null), written
 * as a LayersModel: `file` (model.json) and `<stem>.weights.bin` beside it, each whole or not at all.
 */
export async function writeDecomposedTfjs(model: ImportedTfjsModel, sets: IndexSets | null, file: string): Promise<number> {
  const specs = model.artifacts.weightSpecs!;
  const data = new Uint8Array((model.artifacts.weightData as ArrayBuffer).slice(0));
  if (sets !== null) {
    const { classes, featureWidth } = model.spec;
    const mask = headMask(sets, classes, featureWidth);
    let offset = 0;
    for (const s of specs) {
      const size = s.shape.reduce((a, b) => a * b, 1) * (s.dtype === "float32" || s.dtype === "int32" ? 4 : 1);
      if (s.name === `${model.layers.dense}/kernel` || s.name.endsWith(`/${model.layers.dense}/kernel`)) {
        if (s.dtype !== "float32" || s.quantization !== undefined) throw new Error(`${model.file}: the Dense kernel ${s.name} is not plain float32, so decomp cannot edit it`);
        const kernel = new Float32Array(data.buffer, offset, featureWidth * classes);
        for (let y = 0; y < classes; y++) for (let j = 0; j < featureWidth; j++) if (mask[y * featureWidth + j] === 0) kernel[j * classes + y] = 0;
      }
      offset += size;
    }
  }
  const weightsName = `${path.basename(file, path.extname(file))}.weights.bin`;
  const json = { modelTopology: model.artifacts.modelTopology, format: "layers-model", generatedBy: "decomp", convertedBy: null, weightsManifest: [{ paths: [weightsName], weights: specs }] };
  await writeFileAtomic(path.join(path.dirname(file), weightsName), [data]);
  const text = new TextEncoder().encode(JSON.stringify(json));
  await writeFileAtomic(file, [text]);
  return data.length + text.length;
}
