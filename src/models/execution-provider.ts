/**
 * Which ONNX Runtime execution provider the inference engine asks for: DECOMP_EP=auto (default), cuda or cpu.
 * onnxruntime-node's CPU provider is inside the npm package; its CUDA provider is a separate shared library that
 * the package's install script downloads (skipped here, see environment.md), so `auto` only tries CUDA where that
 * library is present, and falls back to the CPU with the reason recorded; `cuda` fails instead of falling back.
 */
import * as fs from "node:fs";
import * as path from "node:path";

export type ProviderChoice = "auto" | "cuda" | "cpu";
export const PROVIDER_CHOICES: readonly ProviderChoice[] = ["auto", "cuda", "cpu"];

export function providerFromEnv(env: Record<string, string | undefined> = process.env): ProviderChoice {
  const v = (env.DECOMP_EP ?? "auto").trim().toLowerCase();
  if (!(PROVIDER_CHOICES as readonly string[]).includes(v)) throw new Error(`DECOMP_EP must be one of ${PROVIDER_CHOICES.join(", ")}, got '${env.DECOMP_EP}'`);
  return v as ProviderChoice;
}

/** Where onnxruntime-node looks for its CUDA provider library on this platform. */
export function cudaProviderLibrary(): string {
  const pkg = path.dirname(require.resolve("onnxruntime-node/package.json"));
  return path.join(pkg, "bin", "napi-v6", process.platform, process.arch, "libonnxruntime_providers_cuda.so");
}

/** The providers to try, in order, and why CUDA is not among them when it is not. */
export function providerPlan(choice: ProviderChoice, cudaLibrary = cudaProviderLibrary()): { providers: ("cuda" | "cpu")[]; reason: string | null } {
  if (choice === "cpu") return { providers: ["cpu"], reason: "DECOMP_EP=cpu" };
  const present = fs.existsSync(cudaLibrary);
  if (choice === "cuda") {
    if (!present) throw new Error(`DECOMP_EP=cuda, but ONNX Runtime's CUDA provider is not installed (${cudaLibrary} is absent); see environment.md, or set DECOMP_EP=cpu`);
    return { providers: ["cuda"], reason: null };
  }
  return present ? { providers: ["cuda", "cpu"], reason: null } : { providers: ["cpu"], reason: `CUDA provider not installed (${cudaLibrary} absent)` };
}

/**
 * Opens something (`what`, for the error) on the first provider of DECOMP_EP's plan (or `choice`) that takes it:
 * auto falls back to the next provider (the CPU); if none does, the last one's failure is reported.
 */
export async function openOnProvider<T>(choice: ProviderChoice, what: string, open: (provider: "cuda" | "cpu") => Promise<T>): Promise<T> {
  const { providers } = providerPlan(choice);
  let failure = "";
  for (const provider of providers) {
    try {
      return await open(provider);
    } catch (err) {
      failure = `ONNX Runtime could not open ${what} on ${provider}: ${(err as Error).message}`;
    }
  }
  throw new Error(failure);
}
