/** The training step on ONNX Runtime (its CPU provider, or CUDA where installed), running the graph generated from the ModelSpec. */
import { availableParallelism } from "node:os";
import * as ort from "onnxruntime-node";
import { predictFromLogits } from "../method";
import { nchwcBlockSize } from "../models/nchwc";
import { openOnProvider, providerFromEnv, type ProviderChoice } from "../models/execution-provider";
import { ONNX_BACKEND, sessionOptions } from "../models/onnx-engine";
import type { ModelSpec } from "../models/spec";
import type { StateDict } from "../torch";
import { activationShapes, exportTrainingGraph, type Shape, TRAIN_IO, trainingParamShapes } from "./onnx-train-graph";
import { batchNormLayers, checkGate, trainableNames } from "./params";
import { FasterChoice } from "./faster-choice";
import type { TrainEngine } from "./train-engine";
import type { BatchStats, TrainStepResult } from "./tfjs-train-step";

export interface OnnxTrainOptions {
  /** Threads inside one operator; defaults to every core. */
  intraOpThreads?: number;
  /** Run convolutions on ONNX Runtime's blocked NCHWc kernels where this machine has them (default true). */
  nchwc?: boolean;
  /**
   * Whether ONNX Runtime's idle intra-op threads busy-wait for the next operator during a step. "auto" (the
   * default for models whose activations stay small, see AUTO_SPINNING_MAX_BYTES; else false) opens the graph
   * twice, with and without, and runs each step on whichever FasterChoice finds faster: on this 2-core machine spinning took a quiet step from 164 to 151-157 ms, but from 264 to 392 ms
   * with one other busy process on the cores.
   */
  spinning?: boolean | "auto";
  /** Build the CSG path's graph: gate rows in, their gradient out (see TrainingGraphOptions.gated). */
  gated?: boolean;
  /** Execution provider (default DECOMP_EP: CUDA where installed, else the CPU). */
  provider?: ProviderChoice;
}

/** One opened copy of the training graph and whether its threads spin. */
interface TrainSession {
  session: ort.InferenceSession;
  spinning: boolean;
}

class OnnxTrainEngine implements TrainEngine {
  private sessions: TrainSession[] | null;
  private readonly choice: FasterChoice;
  private readonly names: string[];
  private readonly mask: ort.Tensor;
  private readonly shapes: Map<string, Shape>;
  private readonly paramShapes: Map<string, number[]>;
  /** FasterChoice's step counts at the previous settings() call. */
  private reported: number[];

  constructor(
    private readonly spec: ModelSpec,
    sessions: TrainSession[],
    mask: Float32Array,
    private readonly gated: boolean,
    readonly name: string,
    private readonly threads: number,
  ) {
    this.sessions = sessions;
    this.choice = new FasterChoice(sessions.length);
    this.reported = this.choice.counts();
    this.names = trainableNames(spec);
    this.shapes = activationShapes(spec);
    this.paramShapes = trainingParamShapes(spec);
    this.mask = new ort.Tensor("float32", mask, [spec.classes, spec.featureWidth]);
  }

  settings(): string {
    const counts = this.choice.counts();
    const since = counts.map((n, i) => n - this.reported[i]);
    this.reported = counts;
    const steps = since.reduce((a, b) => a + b, 0);
    const spun = (this.sessions ?? []).reduce((sum, s, i) => sum + (s.spinning ? since[i] : 0), 0);
    return `${this.threads} intra-op thread${this.threads === 1 ? "" : "s"}, spinning in ${spun} of ${steps} steps`;
  }

  async step(stateDict: StateDict, images: Float32Array, labels: ArrayLike<number>, count: number, gate?: Float32Array): Promise<TrainStepResult> {
    if (!this.sessions) throw new Error("ONNX training engine was disposed; create a new one with createTrainEngine");
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
    const gateRows = checkGate(spec, this.gated, gate, count);
    if (gateRows !== undefined) feeds[TRAIN_IO.gate] = new ort.Tensor("float32", gateRows, [count, spec.featureWidth]);
    for (const name of this.names) {
      const t = stateDict.get(name);
      if (t === undefined) throw new Error(`state dict has no '${name}' (needed to train ${spec.name})`);
      feeds[name] = new ort.Tensor("float32", t.data, this.paramShapes.get(name) as number[]);
    }
    const way = this.choice.next();
    const started = performance.now();
    const out = await this.sessions[way].session.run(feeds);
    this.choice.record(way, performance.now() - started);
    // The binding hands back its own copy of every output, which stays valid after dispose: no second copy.
    const read = (name: string) => out[name].data as Float32Array;
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
    const gateGrad = this.gated ? read(TRAIN_IO.gateGrad) : undefined;
    for (const t of Object.values(out)) t.dispose();
    return { loss, correct, grads, batchStats, gateGrad };
  }

  dispose(): void {
    for (const { session } of this.sessions ?? []) void session.release();
    this.sessions = null;
  }
}

/**
 * "auto" spinning opens the graph twice, and each session keeps its own memory arena: cheap for the CIFAR
 * ResNets (activations of 2.5 MiB per image for ResNet20, 7.1 for ResNet56), but ResNet50 at 224 x 224 (144 MiB
 * per image) took the process to 7.6 GB for a batch of 41 with one session, and a second session's arena ran a
 * 24 GB machine out of memory. Above this size, one session without spinning.
 */
const AUTO_SPINNING_MAX_BYTES = 16 << 20;

/** float32 bytes of every activation of one image (the input included). */
function activationBytesPerImage(spec: ModelSpec): number {
  let values = 0;
  for (const [c, h, w] of activationShapes(spec).values()) values += c * h * w;
  return 4 * values;
}

/**
 * The CPU training sessions' options: the inference engine's, without ONNX Runtime's memory pattern. The pattern
 * (one block for a run's intermediates, laid out from the first run's allocations) came on top of what the first
 * run had left in the arena: ResNet50 at 224 x 224 peaked at 4.9 GB with it and 3.6 GB without at batch 16,
 * 9.4 and 5.7 GB at batch 32 (ResNet20 at batch 64: 0.73 and 0.51 GB). The steady step time stayed within this
 * machine's noise (ResNet20 115-120 ms either way; ResNet50 at batch 16 2.5-2.9 s against 2.7-3.0 s) and the
 * second step got faster (ResNet50 at batch 16 4.4-5.0 s against 8.1-9.1 s). Where tensors live does not change
 * the arithmetic: every output is bit for bit the same.
 */
export function trainSessionOptions(intraOpThreads: number, spinning: boolean): ort.InferenceSession.SessionOptions {
  return { ...sessionOptions(intraOpThreads, spinning), enableMemPattern: false };
}

/**
 * Generate the training graph of `spec` and open it in an ONNX Runtime session on the provider DECOMP_EP (or
 * `options.provider`) picks, as the inference engine does: CUDA where its library is installed (plain
 * convolutions: the NCHWc kernels are the CPU provider's), else the CPU; `mask` is the head mask.
 */
export async function createOnnxTrainEngine(spec: ModelSpec, mask: Float32Array, options: OnnxTrainOptions = {}): Promise<TrainEngine> {
  const gated = options.gated ?? false;
  const threads = options.intraOpThreads ?? availableParallelism();
  return openOnProvider(options.provider ?? providerFromEnv(), `${spec.name}'s training graph`, async (provider) => {
    if (provider === "cuda") {
      const bytes = exportTrainingGraph(spec, { nchwcBlock: null, gated });
      const session = await ort.InferenceSession.create(bytes, sessionOptions(threads, false, "cuda"));
      return new OnnxTrainEngine(spec, [{ session, spinning: false }], mask, gated, "onnxruntime-node/cuda", threads);
    }
    const nchwcBlock = options.nchwc === false ? null : await nchwcBlockSize();
    const bytes = exportTrainingGraph(spec, { nchwcBlock, gated });
    const spinning = options.spinning ?? (activationBytesPerImage(spec) <= AUTO_SPINNING_MAX_BYTES ? "auto" : false);
    const modes = spinning === "auto" ? [false, true] : [spinning];
    const sessions: TrainSession[] = [];
    for (const spin of modes) sessions.push({ session: await ort.InferenceSession.create(bytes, trainSessionOptions(threads, spin)), spinning: spin });
    return new OnnxTrainEngine(spec, sessions, mask, gated, ONNX_BACKEND, threads);
  });
}
