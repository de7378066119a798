/** ForwardEngine on ONNX Runtime's native CPU provider, running the graph exported from the ModelSpec. */
import { availableParallelism } from "os";
import * as ort from "onnxruntime-node";
import type { ForwardEngine, ForwardResult } from "./engine";
import type { ModelSpec } from "./spec";
import type { StateDict } from "../torch";
import { exportOnnxModel, type InputLayout } from "./onnx-export";
import { openOnProvider, providerFromEnv, type ProviderChoice } from "./execution-provider";

export const ONNX_BACKEND = "onnxruntime-node/cpu";

export interface OnnxEngineOptions {
  /** Threads inside one operator; defaults to every core (os.availableParallelism). */
  intraOpThreads?: number;
  /** Graph input layout; see OnnxExportOptions. NHWC keeps the transpose inside the graph. */
  inputLayout?: InputLayout;
  /**
   * Let idle intra-op threads busy-wait for the next operator (default false). Measured on the project's
   * 2-core machine while shared with other work: spinning halved ResNet20 throughput (489 vs 1003 images/s,
   * batch 64), because a spinning thread burns the time slice its partner needs.
   */
  spinning?: boolean;
  /** auto, cuda or cpu (default: DECOMP_EP, else auto). */
  provider?: ProviderChoice;
}

/** Session options chosen by measurement (see src/bench): all graph optimisations, one intra-op pool. */
export function sessionOptions(intraOpThreads: number, spinning = false, provider: "cpu" | "cuda" = "cpu"): ort.InferenceSession.SessionOptions {
  return {
    executionProviders: [provider],
    graphOptimizationLevel: "all",
    executionMode: "sequential",
    intraOpNumThreads: intraOpThreads,
    interOpNumThreads: 1,
    enableCpuMemArena: true,
    enableMemPattern: true,
    // Spinning stops when a run returns, so only the operators of one run, not the caller's work between
    // runs, compete with the spinning threads.
    extra: { session: { intra_op: { allow_spinning: spinning ? "1" : "0" }, force_spinning_stop: spinning ? "1" : "0" } },
  };
}

class OnnxForwardEngine implements ForwardEngine {
  private session: ort.InferenceSession | null;

  constructor(readonly spec: ModelSpec, session: ort.InferenceSession, private readonly layout: InputLayout, readonly backend: string) {
    this.session = session;
  }

  async forward(images: Float32Array, count: number): Promise<ForwardResult> {
    if (!this.session) throw new Error("ONNX engine was disposed; create a new one with createOnnxEngine");
    const [h, w, c] = this.spec.inputShape;
    const per = h * w * c;
    if (!Number.isInteger(count) || count < 1) throw new Error(`forward needs a positive image count, got ${count}`);
    if (images.length < count * per) {
      throw new Error(`forward got ${images.length} values for ${count} images; expected ${count} x ${h} x ${w} x ${c} = ${count * per}`);
    }
    const data = images.length === count * per ? images : images.subarray(0, count * per);
    const dims = this.layout === "nhwc" ? [count, h, w, c] : [count, c, h, w];
    const input = new ort.Tensor("float32", this.layout === "nhwc" ? data : nhwcToNchw(data, count, h, w, c), dims);
    const { features, logits, stages } = this.spec.outputs;
    const names = [...new Set([features, logits, ...(stages ?? [])])];
    const out = await this.session.run({ [this.spec.input]: input }, names);
    const copy = (name: string) => new Float32Array(out[name].data as Float32Array);
    const result: ForwardResult = { features: copy(features), logits: copy(logits), ...(stages === undefined ? {} : { stages: stages.map(copy) }) };
    input.dispose();
    for (const name of names) out[name].dispose();
    return result;
  }

  dispose(): void {
    // release() is asynchronous in onnxruntime-node; the engine is unusable from here on either way.
    void this.session?.release();
    this.session = null;
  }
}

export function nhwcToNchw(src: Float32Array, n: number, h: number, w: number, c: number): Float32Array {
  const dst = new Float32Array(src.length);
  const plane = h * w;
  for (let b = 0; b < n; b++) {
    const base = b * plane * c;
    for (let p = 0; p < plane; p++) {
      for (let ch = 0; ch < c; ch++) dst[base + ch * plane + p] = src[base + p * c + ch];
    }
  }
  return dst;
}

/**
 * Export `spec` with the given weights to ONNX and open it in an ONNX Runtime session on the provider DECOMP_EP
 * (or `options.provider`) picks; the engine's backend names it ("onnxruntime-node/cuda" or ".../cpu").
 */
export async function createOnnxEngine(spec: ModelSpec, stateDict: StateDict, options: OnnxEngineOptions = {}): Promise<ForwardEngine> {
  const layout = options.inputLayout ?? "nhwc";
  const threads = options.intraOpThreads ?? availableParallelism();
  const bytes = exportOnnxModel(spec, stateDict, { inputLayout: layout });
  return openOnProvider(options.provider ?? providerFromEnv(), spec.name, async (provider) => {
    const session = await ort.InferenceSession.create(bytes, sessionOptions(threads, options.spinning ?? false, provider));
    return new OnnxForwardEngine(spec, session, layout, `onnxruntime-node/${provider}`);
  });
}
