/** The training step on ONNX Runtime's native CPU provider, running the graph generated from the ModelSpec. */
import { availableParallelism } from "node:os";
import * as ort from "onnxruntime-node";
import { predictFromLogits } from "../method";
import { nchwcBlockSize } from "../models/nchwc";
import { ONNX_BACKEND, sessionOptions } from "../models/onnx-engine";
import type { ModelSpec } from "../models/spec";
import type { StateDict } from "../torch";
import { activationShapes, exportTrainingGraph, type Shape, TRAIN_IO } from "./onnx-train-graph";
import { batchNormLayers, trainableNames } from "./params";
import type { TrainEngine } from "./train-engine";
import type { BatchStats, TrainStepResult } from "./tfjs-train-step";

export interface OnnxTrainOptions {
  /** Threads inside one operator; defaults to every core. */
  intraOpThreads?: number;
  /** Run convolutions on ONNX Runtime's blocked NCHWc kernels where this machine has them (default true). */
  nchwc?: boolean;
}

class OnnxTrainEngine implements TrainEngine {
  readonly name = ONNX_BACKEND;
  private session: ort.InferenceSession | null;
  private readonly names: string[];
  private readonly mask: ort.Tensor;
  private readonly shapes: Map<string, Shape>;

  constructor(private readonly spec: ModelSpec, session: ort.InferenceSession, mask: Float32Array) {
    this.session = session;
    this.names = trainableNames(spec);
    this.shapes = activationShapes(spec);
    this.mask = new ort.Tensor("float32", mask, [spec.classes, spec.featureWidth]);
  }

  async step(stateDict: StateDict, images: Float32Array, labels: ArrayLike<number>, count: number): Promise<TrainStepResult> {
    if (!this.session) throw new Error("ONNX training engine was disposed; create a new one with createTrainEngine");
    const { spec } = this;
    const [h, w, c] = spec.inputShape;
    if (images.length !== count * h * w * c) throw new Error(`train step expects ${count} x ${h} x ${w} x ${c} values, got ${images.length}`);
    if (labels.length !== count) throw new Error(`train step got ${labels.length} labels for ${count} images`);
    const onehot = new Float32Array(count * spec.classes);
    for (let i = 0; i < count; i++) {
      const y = labels[i];
      if (!Number.isInteger(y) || y < 0 || y >= spec.classes) throw new Error(`label ${y} of image ${i} is not a class of ${spec.name} (0..${spec.classes - 1})`);
      onehot[i * spec.classes + y] = 1;
    }
    const feeds: Record<string, ort.Tensor> = {
      [TRAIN_IO.images]: new ort.Tensor("float32", images, [count, h, w, c]),
      [TRAIN_IO.onehot]: new ort.Tensor("float32", onehot, [count, spec.classes]),
      [TRAIN_IO.mask]: this.mask,
    };
    for (const name of this.names) {
      const t = stateDict.get(name);
      if (t === undefined) throw new Error(`state dict has no '${name}' (needed to train ${spec.name})`);
      feeds[name] = new ort.Tensor("float32", t.data, t.shape);
    }
    const out = await this.session.run(feeds);
    const read = (name: string) => new Float32Array(out[name].data as Float32Array);
    const logits = read(spec.outputs.logits);
    const predictions = predictFromLogits(logits, count, spec.classes);
    let correct = 0;
    for (let i = 0; i < count; i++) if (predictions[i] === labels[i]) correct++;
    const grads = new Map(this.names.map((n) => [n, read(TRAIN_IO.grad(n))]));
    const batchStats = new Map<string, BatchStats>();
    for (const bn of batchNormLayers(spec)) {
      const [, bh, bw] = this.shapes.get(bn.input) as Shape;
      batchStats.set(bn.param, { mean: read(TRAIN_IO.batchMean(bn.param)), variance: read(TRAIN_IO.batchVar(bn.param)), count: count * bh * bw });
    }
    const loss = (out[TRAIN_IO.loss].data as Float32Array)[0];
    for (const t of Object.values(out)) t.dispose();
    return { loss, correct, grads, batchStats };
  }

  dispose(): void {
    void this.session?.release();
    this.session = null;
  }
}

/** Generate the training graph of `spec` and open it in an ONNX Runtime CPU session; `mask` is the head mask. */
export async function createOnnxTrainEngine(spec: ModelSpec, mask: Float32Array, options: OnnxTrainOptions = {}): Promise<TrainEngine> {
  const nchwcBlock = options.nchwc === false ? null : await nchwcBlockSize();
  const bytes = exportTrainingGraph(spec, { nchwcBlock });
  const session = await ort.InferenceSession.create(bytes, sessionOptions(options.intraOpThreads ?? availableParallelism()));
  return new OnnxTrainEngine(spec, session, mask);
}
