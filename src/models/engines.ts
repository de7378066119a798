/**
 * Which inference engine runs a model. Native TF.js (tfjs-node / -gpu) is first choice where it loads; else
 * ONNX Runtime's native CPU provider (ships inside its npm package); else TF.js on WASM or plain JS.
 */
import { initBackend } from "../backend";
import type { StateDict } from "../torch";
import type { ForwardEngine } from "./engine";
import type { ModelSpec } from "./spec";
import { createTfjsEngine } from "./tfjs-engine";

export type EngineChoice = "auto" | "onnx" | "tfjs";
export const ENGINE_CHOICES: readonly EngineChoice[] = ["auto", "onnx", "tfjs"];

/** Reads DECOMP_ENGINE (auto | onnx | tfjs); unset means auto. */
export function engineFromEnv(env: Record<string, string | undefined> = process.env): EngineChoice {
  const raw = (env.DECOMP_ENGINE ?? "").trim() || "auto";
  if (!(ENGINE_CHOICES as readonly string[]).includes(raw)) {
    throw new Error(`DECOMP_ENGINE='${raw}' is not an engine; use one of ${ENGINE_CHOICES.join(", ")} (or unset it)`);
  }
  return raw as EngineChoice;
}

async function onnxEngine(spec: ModelSpec, stateDict: StateDict): Promise<ForwardEngine> {
  // Loaded lazily: a platform without ONNX Runtime's binary must still run on TF.js.
  const { createOnnxEngine } = await import("./onnx-engine");
  return createOnnxEngine(spec, stateDict);
}

export async function createEngine(spec: ModelSpec, stateDict: StateDict, choice: EngineChoice = engineFromEnv()): Promise<ForwardEngine> {
  if (choice === "onnx") return onnxEngine(spec, stateDict);
  const backend = await initBackend();
  if (choice === "tfjs" || backend.tfBackend === "tensorflow") return createTfjsEngine(spec, stateDict);
  try {
    return await onnxEngine(spec, stateDict);
  } catch (err) {
    console.error(`decomp: ONNX Runtime unavailable (${(err as Error).message.split("\n")[0]}); running on TF.js ${backend.name}`);
    return createTfjsEngine(spec, stateDict);
  }
}
