/**
 * Any CNN classifier exported to ONNX, as a model the pipeline runs: the file is read and checked, its final
 * linear layer becomes the decomposable layer, and the graph gets the penultimate features, the logits and the
 * last spatial map as extra outputs, so one ONNX Runtime run gives everything extraction and the maps read.
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import { availableParallelism } from "node:os";
import * as path from "node:path";
import * as ort from "onnxruntime-node";
import type { onnx } from "onnx-proto";
import type { ForwardResult, ImportedEngine, MapBatch, ModelShape } from "../engine";
import { openOnProvider, providerFromEnv, type ProviderChoice } from "../execution-provider";
import { nhwcToNchw, sessionOptions } from "../onnx-engine";
import { decodeOnnxModel, encodeModelProto } from "../onnx-proto";
import { findFinalLayer, findPooledMap, indexGraph, inputLayout, negativeSource, type PooledMap } from "./onnx-graph";

export interface ImportedOnnxModel {
  kind: "imported";
  format: "onnx";
  /** The file as given, resolved. */
  file: string;
  /** The same, under the name registry models give their weights' file. */
  checkpointPath: string;
  /** Identifies the weights in cache keys and reports (the file's sha256). */
  checkpointSha256: string;
  spec: ModelShape;
  /** The decomposable layer: weight classes x features (row-major), bias. */
  finalLayer: { weight: Float32Array; bias: Float32Array };
  /** How the graph takes its input: layout, and the batch size when the graph fixes one. */
  input: { name: string; layout: "nchw" | "nhwc"; batch: number | null };
  /** The constant holding the final layer's weight in the file, and its orientation (for export). */
  weightTensor: { name: string; classesFirst: boolean };
  /** Graph outputs the engine reads; `stages`: feature maps a user named (withStageTensors), pooled per channel. */
  outputs: { features: string; logits: string; map: string | null; stages?: string[] };
  /** The last spatial map's layout, when the features are its global average. */
  map: PooledMap | null;
  /** Things a user should know (features that can be negative); the run goes on. */
  warnings: string[];
  /** The model with the extra outputs, what the engine opens. */
  bytes: Uint8Array;
  /** The model as read (for export). */
  proto: onnx.ModelProto;
}

export interface ImportOptions {
  /** Side of the square images the preprocessing gives; required where the graph leaves H and W open. */
  inputSize?: number;
}

/** Whether `--model` names a file to import rather than a registry model. */
export function isOnnxFile(model: string): boolean {
  return model.toLowerCase().endsWith(".onnx");
}

/** The last model imported, by file, size, modification time and input size: a command checks, then loads, once. */
let last: { key: string; model: ImportedOnnxModel } | null = null;

/** Reads, checks and prepares an ONNX classifier; every problem is reported before any image is decoded. */
export function importOnnx(file: string, options: ImportOptions = {}): ImportedOnnxModel {
  const abs = path.resolve(file);
  if (!fs.existsSync(abs)) throw new Error(`model file ${abs} does not exist`);
  const stat = fs.statSync(abs);
  const key = JSON.stringify([abs, stat.size, stat.mtimeMs, options.inputSize ?? null]);
  if (last?.key === key) return last.model;
  const model = readOnnx(abs, options);
  last = { key, model };
  return model;
}

function readOnnx(abs: string, options: ImportOptions): ImportedOnnxModel {
  const bytes = fs.readFileSync(abs);
  const proto = decodeOnnxModel(bytes, abs);
  const index = indexGraph(proto.graph!);
  const input = inputLayout(index, abs);
  const head = findFinalLayer(index, abs);
  const map = findPooledMap(index, head.features, abs);
  const warnings: string[] = [];
  const negative = negativeSource(index, head.features, abs);
  if (negative !== null) {
    warnings.push(`${path.basename(abs)}: the penultimate features come from ${negative}, which can be negative; Algorithm 1 ranks features by size and assumes they are non-negative (post-ReLU), so read its sets with care`);
  }
  const side = fixedSide(input, options.inputSize, abs);
  const outputs = { features: head.features, logits: head.logits, map: map?.name ?? null };
  return {
    kind: "imported", format: "onnx", file: abs, checkpointPath: abs, checkpointSha256: createHash("sha256").update(bytes).digest("hex"),
    spec: { name: path.basename(abs), inputShape: [side, side, 3], featureWidth: head.featureWidth, classes: head.classes },
    finalLayer: { weight: head.weight, bias: head.bias },
    weightTensor: head.weightTensor,
    input: { name: input.name, layout: input.layout, batch: input.batch },
    outputs, map, warnings, bytes: withOutputs(proto, Object.values(outputs).filter((o): o is string => o !== null)), proto,
  };
}

/** Ops whose output is an activation a user may want to probe (offered when a named tensor is not in the graph). */
const ACTIVATIONS = new Set(["Relu", "Clip", "LeakyRelu", "Sigmoid", "HardSigmoid", "HardSwish", "Mul", "Add", "Concat", "MaxPool", "AveragePool"]);

/**
 * The model with the feature maps called `names` as extra outputs, so one run also gives each one's channel means
 * (ForwardResult.stages, in this order). A name the graph does not produce is refused, offering its activations.
 */
export function withStageTensors(model: ImportedOnnxModel, names: readonly string[]): ImportedOnnxModel {
  if (names.length === 0) throw new Error(`name at least one tensor of ${model.file} to probe`);
  const index = indexGraph(model.proto.graph!);
  for (const name of names) {
    if (index.producer.has(name)) continue;
    const offered = (model.proto.graph!.node ?? []).filter((n) => ACTIVATIONS.has(n.opType ?? "")).flatMap((n) => n.output ?? []);
    const shown = offered.length > 40 ? [...offered.slice(0, 20), "...", ...offered.slice(-20)] : offered;
    throw new Error(`${model.file} has no tensor '${name}'; its activations (${offered.length}) are ${shown.join(", ")}`);
  }
  const outputs = { ...model.outputs, stages: [...names] };
  const all = [outputs.features, outputs.logits, ...(outputs.map === null ? [] : [outputs.map]), ...names];
  return { ...model, outputs, bytes: withOutputs(model.proto, all) };
}

/** Channel means of an activation batch: [n, c, h, w] (or [n, h, w, c] in an NHWC graph) to n x c. */
function poolChannels(t: ort.Tensor, layout: "nchw" | "nhwc", n: number, what: string): Float32Array {
  const dims = t.dims.map(Number);
  if (dims.length !== 4) throw new Error(`tensor '${what}' has shape [${dims.join(", ")}]: it has no spatial axes to pool; name a feature map (batch x channels x height x width)`);
  const [, a, b, d] = dims;
  const [c, plane] = layout === "nchw" ? [a, b * d] : [d, a * b];
  const data = t.data as Float32Array;
  const out = new Float32Array(n * c);
  for (let i = 0; i < n; i++) {
    for (let p = 0; p < plane; p++) {
      for (let ch = 0; ch < c; ch++) {
        const at = layout === "nchw" ? (i * c + ch) * plane + p : (i * plane + p) * c + ch;
        out[i * c + ch] += data[at];
      }
    }
  }
  for (let q = 0; q < out.length; q++) out[q] /= plane;
  return out;
}

/** The square input side: the graph's fixed H = W, which a given preprocessing must match, or the preprocessing's. */
function fixedSide(input: { height: number | null; width: number | null }, wanted: number | undefined, where: string): number {
  const { height, width } = input;
  if (height !== null && width !== null) {
    if (height !== width) throw new Error(`${where} takes ${height} x ${width} images; decomp feeds square ones (resize and crop, or squash, to one side)`);
    if (wanted !== undefined && wanted !== height) {
      throw new Error(`${where} takes ${height} x ${height} images but the preprocessing gives ${wanted} x ${wanted}; use --crop ${height} (or --squash ${height}), or a sidecar ${path.basename(where)}.preprocess.json that says so`);
    }
    return height;
  }
  if (wanted === undefined) throw new Error(`${where} leaves its input's height and width open; give the size with --crop N or --squash N`);
  return wanted;
}

/** The model with `names` added as graph outputs (float tensors of whatever shape), so a run returns them. */
function withOutputs(proto: onnx.ModelProto, names: string[]): Uint8Array {
  const graph = proto.graph!;
  const present = new Set((graph.output ?? []).map((o) => o.name));
  const extra = names.filter((n, i) => !present.has(n) && names.indexOf(n) === i).map((name) => ({ name, type: { tensorType: { elemType: 1 } } }));
  return encodeModelProto({ ...proto, graph: { ...graph, output: [...(graph.output ?? []), ...extra] } });
}

class ImportedOnnxEngine implements ImportedEngine {
  private session: ort.InferenceSession | null;

  constructor(private readonly model: ImportedOnnxModel, session: ort.InferenceSession, readonly backend: string) {
    this.session = session;
  }

  get spec(): ModelShape {
    return this.model.spec;
  }

  async forward(images: Float32Array, count: number): Promise<ForwardResult> {
    const [h, w, c] = this.spec.inputShape;
    const per = h * w * c;
    if (!Number.isInteger(count) || count < 1 || images.length < count * per) throw new Error(`forward got ${images.length} values for ${count} images of ${h} x ${w} x ${c}`);
    const { featureWidth: m, classes } = this.spec;
    const features = new Float32Array(count * m);
    const logits = new Float32Array(count * classes);
    const stageParts: Float32Array[][] = [];
    // A graph exported with a fixed batch runs in slices of that size, the last one padded with zeros.
    const step = this.model.input.batch ?? count;
    for (let start = 0; start < count; start += step) {
      const n = Math.min(step, count - start);
      const slice = new Float32Array(step * per);
      slice.set(images.subarray(start * per, (start + n) * per));
      const out = await this.run(slice, step);
      features.set(out.features.subarray(0, n * m), start * m);
      logits.set(out.logits.subarray(0, n * classes), start * classes);
      out.stages?.forEach((s, i) => (stageParts[i] ??= []).push(s.subarray(0, (n * s.length) / step)));
    }
    if (this.model.outputs.stages === undefined) return { features, logits };
    const stages = stageParts.map((parts) => {
      const all = new Float32Array(parts.reduce((t, p) => t + p.length, 0));
      parts.reduce((at, p) => (all.set(p, at), at + p.length), 0);
      return all;
    });
    return { features, logits, stages };
  }

  /** The last feature map of `count` NHWC images (the pool's input), NHWC; null when the features are not a pooled map. */
  async maps(images: Float32Array, count: number): Promise<MapBatch | null> {
    const name = this.model.outputs.map;
    if (name === null || this.model.map === null) return null;
    const [h, w, c] = this.spec.inputShape;
    const per = h * w * c;
    const step = this.model.input.batch ?? count;
    const parts: MapBatch[] = [];
    for (let start = 0; start < count; start += step) {
      const n = Math.min(step, count - start);
      const slice = new Float32Array(step * per);
      slice.set(images.subarray(start * per, (start + n) * per));
      const out = await this.runFor(slice, step, [name]);
      const t = out[name];
      const [, a, b, d] = t.dims.map(Number);
      const data = new Float32Array(t.data as Float32Array).subarray(0, n * a * b * d);
      t.dispose();
      parts.push(this.model.map.layout === "nhwc" ? { data, shape: [n, a, b, d] } : toNhwc(data, n, a, b, d));
    }
    const [, mh, mw, mc] = parts[0].shape;
    const all = new Float32Array(count * mh * mw * mc);
    let at = 0;
    for (const p of parts) {
      all.set(p.data, at);
      at += p.data.length;
    }
    return { data: all, shape: [count, mh, mw, mc] };
  }

  /** One session run on `count` NHWC images, fetching the named outputs. */
  private async runFor(nhwc: Float32Array, count: number, names: string[]): Promise<ort.InferenceSession.OnnxValueMapType> {
    if (!this.session) throw new Error("the imported model's engine was disposed");
    const [h, w, c] = this.spec.inputShape;
    const nchw = this.model.input.layout === "nchw";
    const tensor = new ort.Tensor("float32", nchw ? nhwcToNchw(nhwc.subarray(0, count * h * w * c), count, h, w, c) : nhwc.subarray(0, count * h * w * c), nchw ? [count, c, h, w] : [count, h, w, c]);
    try {
      return await this.session.run({ [this.model.input.name]: tensor }, names);
    } finally {
      tensor.dispose();
    }
  }

  /** One session run on `count` NHWC images: features and logits, checked against the widths the head gave. */
  private async run(nhwc: Float32Array, count: number): Promise<ForwardResult> {
    const { features, logits, stages } = this.model.outputs;
    const out = await this.runFor(nhwc, count, [features, logits, ...(stages ?? [])]);
    const f = new Float32Array(out[features].data as Float32Array);
    const l = new Float32Array(out[logits].data as Float32Array);
    // Activations keep the layout the head pools in (an NHWC head pools NHWC maps); NCHW, ONNX's own, otherwise.
    const pooled = stages?.map((name) => poolChannels(out[name], this.model.map?.layout ?? "nchw", count, name));
    for (const name of new Set([features, logits, ...(stages ?? [])])) out[name].dispose();
    if (f.length !== count * this.spec.featureWidth || l.length !== count * this.spec.classes) {
      throw new Error(`${this.model.file}: a run gave ${f.length / count} features and ${l.length / count} logits per image, the final layer says ${this.spec.featureWidth} and ${this.spec.classes}`);
    }
    return { features: f, logits: l, ...(pooled === undefined ? {} : { stages: pooled }) };
  }

  dispose(): void {
    void this.session?.release();
    this.session = null;
  }
}

/** An NCHW map batch [n, c, h, w] as NHWC. */
function toNhwc(data: Float32Array, n: number, c: number, h: number, w: number): MapBatch {
  const out = new Float32Array(data.length);
  const plane = h * w;
  for (let i = 0; i < n; i++) for (let ch = 0; ch < c; ch++) for (let p = 0; p < plane; p++) out[(i * plane + p) * c + ch] = data[(i * c + ch) * plane + p];
  return { data: out, shape: [n, h, w, c] };
}

/**
 * Opens the imported graph on the provider DECOMP_EP (or `options.provider`) picks, with the registry engine's
 * session options (every core, no spinning, unless said otherwise).
 */
export async function openImportedEngine(model: ImportedOnnxModel, options: { provider?: ProviderChoice; intraOpThreads?: number; spinning?: boolean } = {}): Promise<ImportedEngine> {
  const threads = options.intraOpThreads ?? availableParallelism();
  return openOnProvider(options.provider ?? providerFromEnv(), model.spec.name, async (p) => {
    let session: ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(model.bytes, sessionOptions(threads, options.spinning ?? false, p));
    } catch (err) {
      throw new Error(`${model.file}: ONNX Runtime cannot load it (${(err as Error).message.split("\n")[0]})`);
    }
    return new ImportedOnnxEngine(model, session, `onnxruntime-node/${p}`);
  });
}
