import { findArtifact, loadManifest } from "../../src/artifacts";
import { backendInfo } from "../../src/backend";
import { loadModel } from "../../src/models/pretrained";
import { CIFAR_MODEL_NAMES, inputRecipe, MODEL_NAMES, MODELS, modelEntry } from "../../src/models/registry";
import { countLayers } from "../../src/models/summary";
import { loadParityFixture, maxAbsDiff } from "./parity-fixture";

describe("model registry", () => {
  it("lists the five CIFAR ResNets, each bound to a manifest checkpoint", () => {
    expect(CIFAR_MODEL_NAMES).toEqual(["resnet20", "resnet32", "resnet44", "resnet56", "resnet110", "cifar_resnet18", "cifar_resnet34"]);
    const manifest = loadManifest();
    for (const name of CIFAR_MODEL_NAMES.slice(0, 5)) {
      const entry = MODELS[name];
      if (entry.kind !== "cifar-resnet") throw new Error(`${name} is not a CIFAR ResNet`);
      expect(`resnet${entry.depth}`).toBe(name);
      expect(entry.normalisation).toBe("checkpoint");
      expect(findArtifact(entry.checkpointArtifact!, manifest).file).toMatch(new RegExp(`^${name}-[0-9a-f]{8}\\.th$`));
    }
    // The BasicBlock 64-512 variants have no published weights: --weights, or training from scratch.
    for (const name of ["cifar_resnet18", "cifar_resnet34"]) expect([MODELS[name].checkpointArtifact, MODELS[name].publishedAccuracy, MODELS[name].buildSpec().featureWidth]).toEqual([null, null, 512]);
    expect(MODELS.resnet20.publishedAccuracy).toBe(0.9173);
    expect(MODELS.resnet56.publishedAccuracy).toBe(0.9339);
  });

  it("lists torchvision's thirteen paper models (and two more ResNets) with their V1 weights and presets", () => {
    const manifest = loadManifest();
    const torchvision = MODEL_NAMES.filter((n) => MODELS[n].kind === "torchvision");
    expect(torchvision).toEqual([
      "resnet18", "resnet34", "resnet50", "resnet101", "resnet152", "wide_resnet50_2", "wide_resnet101_2",
      "densenet121", "densenet161", "densenet169", "densenet201", "efficientnet_b0", "efficientnet_b1", "efficientnet_b2", "efficientnet_b3",
    ]);
    const rows = torchvision.map((name) => {
      const entry = modelEntry(name);
      const artifact = findArtifact(entry.checkpointArtifact!, manifest);
      const spec = entry.buildSpec();
      const recipe = inputRecipe(entry, "torchvision");
      const check = artifact.sha256 !== null ? `sha256 ${artifact.sha256.slice(0, 8)}...` : artifact.sha256Prefix === undefined ? null : `prefix ${artifact.sha256Prefix}`;
      return [name, artifact.urls[0].replace("https://download.pytorch.org/models/", ""), check, countLayers(spec), spec.featureWidth, recipe];
    });
    const standard = { kind: "resize-crop", resize: 256, crop: 224, interpolation: "bilinear" };
    const bicubic = (resize: number, crop: number) => ({ kind: "resize-crop", resize, crop, interpolation: "bicubic" });
    expect(rows).toEqual([
      ["resnet18", "resnet18-f37072fd.pth", "sha256 f37072fd...", 21, 512, standard],
      ["resnet34", "resnet34-b627a593.pth", "sha256 b627a593...", 37, 512, standard],
      ["resnet50", "resnet50-0676ba61.pth", "sha256 0676ba61...", 54, 2048, standard],
      ["resnet101", "resnet101-63fe2227.pth", "sha256 63fe2227...", 105, 2048, standard],
      ["resnet152", "resnet152-394f9c45.pth", "sha256 394f9c45...", 156, 2048, standard],
      ["wide_resnet50_2", "wide_resnet50_2-95faca4d.pth", "sha256 95faca4d...", 54, 2048, standard],
      ["wide_resnet101_2", "wide_resnet101_2-32ee1156.pth", "sha256 32ee1156...", 105, 2048, standard],
      ["densenet121", "densenet121-a639ec97.pth", "sha256 a639ec97...", 121, 1024, standard],
      // One public source for densenet161's full digest, none for 169 and 201: the name's prefix is checked.
      ["densenet161", "densenet161-8d451a50.pth", "prefix 8d451a50", 161, 2208, standard],
      ["densenet169", "densenet169-b2777c0a.pth", "prefix b2777c0a", 169, 1664, standard],
      ["densenet201", "densenet201-c1103571.pth", "prefix c1103571", 201, 1920, standard],
      // The ported EfficientNet files' name hash is not their sha256; torchvision 0.16's renames give the real prefixes.
      ["efficientnet_b0", "efficientnet_b0_rwightman-3dd342df.pth", "sha256 7f5810bc...", 82, 1280, bicubic(256, 224)],
      ["efficientnet_b1", "efficientnet_b1_rwightman-533bc792.pth", "prefix bac287d4", 116, 1280, bicubic(256, 240)],
      ["efficientnet_b2", "efficientnet_b2_rwightman-bcdf34b7.pth", "sha256 c35c1473...", 116, 1408, bicubic(288, 288)],
      ["efficientnet_b3", "efficientnet_b3_rwightman-cf984f9c.pth", "sha256 b3899882...", 131, 1536, bicubic(320, 300)],
    ]);
    expect(modelEntry("resnet50").publishedAccuracy).toBe(0.7613);
    expect(inputRecipe(modelEntry("efficientnet_b3"), "paper")).toEqual({ kind: "squash", size: 224, interpolation: "bilinear" });
    expect(inputRecipe(modelEntry("resnet20"), "paper")).toEqual({ kind: "native" });
    expect(() => inputRecipe(modelEntry("resnet50"), "timm")).toThrow("unknown preprocessing 'timm'; known: torchvision, paper");
  });

  it("rejects an unknown name, listing the known ones", () => {
    expect(() => modelEntry("resnet19")).toThrow("unknown model 'resnet19'; known models: resnet20, resnet32, resnet44, resnet56, resnet110, cifar_resnet18, cifar_resnet34, resnet18,");
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
