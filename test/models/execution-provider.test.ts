import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { cudaProviderLibrary, providerFromEnv, providerPlan } from "../../src/models/execution-provider";
import { createOnnxEngine } from "../../src/models/onnx-engine";
import { cifarResNetSpec } from "../../src/models/families/cifar-resnet";
import { initialStateDict } from "../../src/training/init";

describe("ONNX Runtime execution provider (DECOMP_EP)", () => {
  const fake = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "decomp-ep-")), "libonnxruntime_providers_cuda.so");

  it("plans CUDA only where its provider library is installed, and says why not", () => {
    expect(providerFromEnv({})).toBe("auto");
    expect(providerFromEnv({ DECOMP_EP: "CUDA" })).toBe("cuda");
    expect(() => providerFromEnv({ DECOMP_EP: "rocm" })).toThrow("DECOMP_EP must be one of auto, cuda, cpu, got 'rocm'");
    expect(providerPlan("cpu", fake)).toEqual({ providers: ["cpu"], reason: "DECOMP_EP=cpu" });
    expect(providerPlan("auto", fake)).toEqual({ providers: ["cpu"], reason: `CUDA provider not installed (${fake} absent)` });
    expect(() => providerPlan("cuda", fake)).toThrow(`DECOMP_EP=cuda, but ONNX Runtime's CUDA provider is not installed (${fake} is absent); see environment.md, or set DECOMP_EP=cpu`);
    fs.writeFileSync(fake, "");
    expect(providerPlan("auto", fake)).toEqual({ providers: ["cuda", "cpu"], reason: null });
    expect(providerPlan("cuda", fake)).toEqual({ providers: ["cuda"], reason: null });
    expect(cudaProviderLibrary()).toMatch(/onnxruntime-node\/bin\/napi-v6\/linux\/x64\/libonnxruntime_providers_cuda\.so$/);
  });

  it("names the provider in the engine's backend; asking for CUDA where it is absent fails before any work", async () => {
    const spec = cifarResNetSpec(20);
    const weights = initialStateDict(spec, 0);
    // Where the library is installed, CUDA runs or says it could not (no usable GPU), and auto lands on CUDA
    // exactly when it opens; where it is not, asking for it fails at once and auto runs on the CPU.
    const cuda = await createOnnxEngine(spec, weights, { provider: "cuda" }).then(
      (e) => {
        e.dispose();
        return e.backend;
      },
      (err: Error) => err.message,
    );
    if (fs.existsSync(cudaProviderLibrary())) expect(cuda).toMatch(/^onnxruntime-node\/cuda$|could not open resnet20 on cuda/);
    else expect(cuda).toContain("DECOMP_EP=cuda, but ONNX Runtime's CUDA provider is not installed");
    const engine = await createOnnxEngine(spec, weights, { provider: "auto" });
    expect(engine.backend).toBe(cuda === "onnxruntime-node/cuda" ? "onnxruntime-node/cuda" : "onnxruntime-node/cpu");
    engine.dispose();
  });
});
