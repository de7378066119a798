import { findArtifact, loadManifest } from "../../src/artifacts";
import { backendInfo } from "../../src/backend";
import { loadModel } from "../../src/models/pretrained";
import { MODEL_NAMES, MODELS, modelEntry } from "../../src/models/registry";
import { loadParityFixture, maxAbsDiff } from "./parity-fixture";

describe("model registry", () => {
  it("lists the five CIFAR ResNets, each bound to a manifest checkpoint", () => {
    expect(MODEL_NAMES).toEqual(["resnet20", "resnet32", "resnet44", "resnet56", "resnet110"]);
    const manifest = loadManifest();
    for (const name of MODEL_NAMES) {
      const entry = MODELS[name];
      expect(`resnet${entry.depth}`).toBe(name);
      expect(entry.normalisation).toBe("checkpoint");
      expect(findArtifact(entry.checkpointArtifact, manifest).file).toMatch(new RegExp(`^${name}-[0-9a-f]{8}\\.th$`));
    }
    expect(MODELS.resnet20.publishedAccuracy).toBe(0.9173);
    expect(MODELS.resnet56.publishedAccuracy).toBe(0.9339);
  });

  it("rejects an unknown name, listing the known ones", () => {
    expect(() => modelEntry("resnet18")).toThrow("unknown model 'resnet18'; known models: resnet20, resnet32, resnet44, resnet56, resnet110");
    expect(() => modelEntry("toString")).toThrow(/unknown model 'toString'/);
  });

  it("loads resnet20 from a checkpoint path on the default backend and reproduces PyTorch", async () => {
    const fixture = loadParityFixture();
    const ref = fixture.models.resnet20;
    const engine = await loadModel("resnet20", { checkpointPath: ref.checkpoint });
    expect(engine.backend).toBe(`tfjs/${backendInfo().tfBackend}`);
    expect(engine.spec.name).toBe("resnet20");
    const out = await engine.forward(fixture.inputs, fixture.count);
    engine.dispose();
    expect(maxAbsDiff(out.logits, ref.logits)).toBeLessThanOrEqual(1e-4);
  });

  it("refuses a checkpoint file that is not the model's (sha256 check)", async () => {
    const fixture = loadParityFixture();
    await expect(loadModel("resnet20", { checkpointPath: fixture.models.resnet56.checkpoint })).rejects.toThrow(/Could not obtain artifact "resnet20"/);
  });

  it("reports a missing hand-supplied checkpoint for resnet110 without touching the network", async () => {
    await expect(loadModel("resnet110", { checkpointPath: "/nonexistent/resnet110-1d1ed7c2.th" })).rejects.toThrow(/does not exist/);
  });
});
