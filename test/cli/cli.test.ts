import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { featureMatrix, finalLayer, getFeatures } from "../../src/features";
import { accuracy, evaluateDecomposed, l1Density, predictDecomposed, refitSets, selectByRule } from "../../src/method";
import { loadCsg } from "../../src/training";
import { runCli as run } from "./run-cli";

describe("decomp CLI", () => {
  it("lists its commands", async () => {
    const { code, stdout } = await run("--help");
    expect(code).toBe(0);
    for (const name of ["fetch", "models", "eval", "select", "probe", "csg", "forward", "export", "bench"]) expect(stdout).toMatch(new RegExp(`^  ${name} `, "m"));
  });

  it.each(["fetch", "models", "eval", "select", "probe", "csg", "forward", "export", "bench"])("'%s --help' describes every option including --json", async (name) => {
    const { code, stdout } = await run(name, "--help");
    expect(code).toBe(0);
    expect(stdout).toContain(`decomp ${name}`);
    expect(stdout).toContain("--json");
  });

  it("lists the registry's models with their layer counts, feature width and where their weights are", async () => {
    const { code, stdout } = await run("models", "--json");
    expect(code).toBe(0);
    const { models } = JSON.parse(stdout);
    expect(models.map((m: { name: string; layers: number; featureWidth: number }) => [m.name, m.layers, m.featureWidth])).toEqual([
      ["resnet20", 20, 64], ["resnet32", 32, 64], ["resnet44", 44, 64], ["resnet56", 56, 64], ["resnet110", 110, 64],
      ["cifar_resnet18", 21, 512], ["cifar_resnet34", 37, 512],
      ["resnet18", 21, 512], ["resnet34", 37, 512], ["resnet50", 54, 2048], ["resnet101", 105, 2048], ["resnet152", 156, 2048],
      ["wide_resnet50_2", 54, 2048], ["wide_resnet101_2", 105, 2048],
      ["densenet121", 121, 1024], ["densenet161", 161, 2208], ["densenet169", 169, 1664], ["densenet201", 201, 1920],
      ["efficientnet_b0", 82, 1280], ["efficientnet_b1", 116, 1280], ["efficientnet_b2", 116, 1408], ["efficientnet_b3", 131, 1536],
    ]);
    expect(models[0].inputShape).toEqual([32, 32, 3]);
    expect(models.find((m: { name: string }) => m.name === "efficientnet_b3").inputShape).toEqual([300, 300, 3]);
    expect(["cache", "mirror"]).toContain(models[0].weights);
    // No published weights for the BasicBlock CIFAR variants: nothing to find, nowhere to download from.
    expect(models.find((m: { name: string }) => m.name === "cifar_resnet34")).toMatchObject({ weights: null, url: null });
  });

  it("refuses an altered copy of torchvision's weights, naming the expected and the actual sha256", async () => {
    const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "decomp-cli-altered-"));
    const saved = { TORCH_HOME: process.env.TORCH_HOME, DECOMP_CACHE: process.env.DECOMP_CACHE, DECOMP_MIRROR: process.env.DECOMP_MIRROR };
    // A copy in PyTorch's download cache with the right name and the wrong bytes; the download is answered here.
    const hub = path.join(scratch, "torch", "hub", "checkpoints");
    fs.mkdirSync(hub, { recursive: true });
    const altered = Buffer.from("not the published resnet18 weights");
    fs.writeFileSync(path.join(hub, "resnet18-f37072fd.pth"), altered);
    Object.assign(process.env, { TORCH_HOME: path.join(scratch, "torch"), DECOMP_CACHE: path.join(scratch, "cache"), DECOMP_MIRROR: path.join(scratch, "mirror") });
    const download = jest.spyOn(globalThis, "fetch").mockRejectedValue(new Error("offline"));
    try {
      const { code, stderr } = await run("fetch", "resnet18");
      expect(code).toBe(1);
      const actual = createHash("sha256").update(altered).digest("hex");
      expect(stderr).toContain(
        `torch hub cache ${path.join(hub, "resnet18-f37072fd.pth")}: size ${altered.length} bytes, expected 46830571; sha256 ${actual}, expected f37072fd47e89c5e827621c5baffa7500819f7896bbacec160b1a16c560e07ec`,
      );
      expect(download).toHaveBeenCalledWith("https://download.pytorch.org/models/resnet18-f37072fd.pth");
    } finally {
      download.mockRestore();
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
      fs.rmSync(scratch, { recursive: true, force: true });
    }
  });

  it("selects with another rule from the same features, and reports the refitted A_d", async () => {
    const { code, stdout } = await run("select", "--model", "resnet20", "--norm", "cifar", "--limit", "300", "--rule", "weight", "--k2", "3", "--refit", "--json");
    expect(code).toBe(0);
    const out = JSON.parse(stdout);
    const train = await getFeatures({ model: "resnet20", split: "train", norm: "cifar", limit: 300 });
    const test = await getFeatures({ model: "resnet20", split: "test", norm: "cifar", limit: 300 });
    const layer = finalLayer(test);
    const sets = selectByRule("weight", { features: featureMatrix(train), labels: train.labels, layer }, { k: 3 });
    expect(Object.values(out.indices)).toEqual(sets);
    expect([out.rule, out.decomposedAccuracy]).toEqual(["weight", Math.round(1e6 * evaluateDecomposed(featureMatrix(test), test.labels, layer, sets).decomposedAccuracy) / 1e4]);
    const refit = refitSets(featureMatrix(train), train.labels, layer, sets).layer;
    expect(out.refitAccuracy).toBe(Math.round(1e6 * accuracy(predictDecomposed(featureMatrix(test), refit, sets), test.labels)) / 1e4);
  });

  it("names an unknown command and the known ones", async () => {
    const { code, stderr } = await run("evaluate");
    expect(code).toBe(2);
    expect(stderr).toMatch(/unknown command "evaluate"\. Known commands: fetch, models, eval, select, probe, extract, merge, csg, forward, export, bench\./);
  });

  it("rejects an unknown option and points to --help", async () => {
    const { code, stderr } = await run("eval", "--modle", "resnet20");
    expect(code).toBe(2);
    expect(stderr).toMatch(/--modle/);
    expect(stderr).toMatch(/decomp eval --help/);
  });

  it("rejects an unknown model name before doing any work", async () => {
    const { code, stderr } = await run("eval", "--model", "resnet99");
    expect(code).toBe(1);
    expect(stderr).toMatch(/unknown model 'resnet99'; known models: resnet20, resnet32, resnet44, resnet56, resnet110/);
  });

  it("rejects k larger than the feature width before extracting anything", async () => {
    const { code, stderr } = await run("select", "--k1", "65");
    expect(code).toBe(1);
    expect(stderr).toMatch(/k1 must be an integer in 1\.\.64 \(the feature width is 64\), got 65/);
  });

  it("rejects an unknown normalisation", async () => {
    const { code, stderr } = await run("eval", "--norm", "imagenet", "--limit", "10");
    expect(code).toBe(1);
    expect(stderr).toMatch(/Unknown normalisation "imagenet"\. Known normalisations: checkpoint, cifar/);
  });

  it("trains CSG gates on a few images and saves weights and gates that load back", async () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), "decomp-cli-csg-"));
    const { code, stdout, stderr } = await run("csg", "--limit", "128", "--epochs", "2", "--period", "2", "--phase", "1", "--batch-size", "32", "--out", out, "--json");
    expect({ code, stderr: code === 0 ? "" : stderr }).toEqual({ code: 0, stderr: "" });
    const result = JSON.parse(stdout);
    expect(result.epochs.map((e: { path: string }) => e.path)).toEqual(["std", "csg"]);
    expect(result.density.before).toBe(0.5);
    expect(result.density.after).toBeGreaterThan(0);
    expect(result.density.after).toBeLessThanOrEqual(1);
    expect(result.mis.before).toBeGreaterThan(0);
    expect(result.stdAccuracy.before).toBeGreaterThan(80);
    const saved = loadCsg(path.join(out, "model.dctn"));
    const gates = JSON.parse(fs.readFileSync(path.join(out, "gates.json"), "utf8"));
    expect(gates.gates).toHaveLength(10);
    expect(Float32Array.from(gates.gates.flat())).toEqual(saved.gates.data);
    expect(l1Density(saved.gates.data)).toBeCloseTo(result.density.after, 12);
    fs.rmSync(out, { recursive: true, force: true });
  }, 300000);
});
