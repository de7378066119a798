/**
 * Notebook 09's experiment on synthetic stages whose answers are known (an early stage of pure noise, a late one
 * with class structure), the class tree on sets built to form two groups, the two-level layer, the report
 * helpers, and `decomp probe` on the real ResNet20 (a small slice of CIFAR-10) with its refusals.
 */
import { analyseStages, classTrees, headCells, insideConclusion, stageTable, type StageData, treeText, twoLevelLayers, type ExperimentData } from "../../src/experiments";
import { mulberry32 } from "../../src/data/prng";
import type { LabelledFeatures } from "../../src/experiments/setup";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { cifarResNetSpec } from "../../src/models/families/cifar-resnet";
import { exportOnnxModel } from "../../src/models/onnx-export";
import { loadTorchCheckpoint } from "../../src/torch";
import { runCli } from "../cli/run-cli";
import { loadParityFixture } from "../models/parity-fixture";
import { syntheticLayer, syntheticSplit } from "./synthetic";

const CLASSES = 4;

function noise(seed: number, rows: number, cols: number): LabelledFeatures {
  const rng = mulberry32(seed);
  return { features: { data: Float32Array.from({ length: rows * cols }, () => rng()), rows, cols }, labels: Uint8Array.from({ length: rows }, (_, i) => i % CLASSES) };
}

function stageData(): StageData {
  const train = syntheticSplit(1, 400, 12, CLASSES);
  const test = syntheticSplit(2, 200, 12, CLASSES);
  const network = { train, test, layer: syntheticLayer(3, 12, CLASSES) } as unknown as ExperimentData;
  return {
    setup: { model: "synthetic", norm: "cifar", trainAugmentSeed: null, trainImages: 400, testImages: 200 },
    stages: [
      { name: "early", width: 6, train: noise(4, 400, 6), test: noise(5, 200, 6) },
      { name: "late", width: 12, train, test },
    ],
    network,
    backend: "test",
  };
}

describe("stages read through probes", () => {
  it("finds no class information in a noise stage and much in a structured one, and scores each k both ways", () => {
    const data = stageData();
    const results = analyseStages(data, { ks: [1, 3], refit: true, noiseK: 3, noiseSeeds: [0, 1] });
    expect(results.map((r) => [r.stage, r.width, r.cells.map((c) => c.k)])).toEqual([["early", 6, [1, 3]], ["late", 12, [1, 3]]]);
    const [early, late] = results;
    // Four classes: chance is 25 %; noise features carry nothing a linear probe can use on unseen images.
    expect(early.probeAccuracy).toBeLessThan(0.4);
    expect(late.probeAccuracy).toBeGreaterThan(0.6);
    expect(late.cells[1].refit!).toBeGreaterThanOrEqual(late.cells[0].refit! - 0.05);
    expect(late.selectivity.length).toBe(12);
    // The structured stage's sets carry its evidence: noising them hurts more than noising the rest.
    expect(late.noise.influential.mean).toBeLessThan(late.noise.others.mean);
    const head = headCells(data.network, [1, 3]);
    const table = stageTable("synthetic", results, head, [1, 3], 3);
    expect(table.values).toHaveLength(3);
    expect(String((table.values[2] as unknown[])[0])).toBe("late, network's own head");
    expect(insideConclusion([{ model: "synthetic", results, head }], 3, [], [], head, CLASSES)).toMatch(/^- \*\*synthetic\*\*: probe accuracy early \d+\.\d %, late \d+\.\d %; r_A at k = 3 refitted/);
  });

  it("refuses a k wider than a stage, naming the stage and its width", () => {
    expect(() => analyseStages(stageData(), { ks: [8], refit: false, noiseK: 3, noiseSeeds: [0] })).toThrow("k = 8 does not fit stage early, which has 6 channels; use k from 1 to 6 or leave the stage out");
  });
});

describe("the class tree and the two-level layer", () => {
  // Classes 0, 1 share features {0, 1, 2}; classes 2, 3 share {6, 7, 8}.
  const sets = [[0, 1, 2], [0, 1, 3], [6, 7, 8], [6, 7, 9]];
  const layer = syntheticLayer(7, 12, CLASSES);

  it("groups classes that share influential features, better than random trees", () => {
    const [jaccard] = classTrees(sets, layer, [0, 0, 1, 1], 200);
    expect(Array.from(jaccard.groups)).toEqual([0, 0, 1, 1]);
    expect(jaccard.ari).toBe(1);
    expect(jaccard.pValue).toBeLessThan(0.5);
    expect(treeText(jaccard.merges, ["a", "b", "c", "d"])).toBe("((a, b):0.50, (c, d):0.50):1.00");
  });

  it("scores the two-level layer on held-out images with its multiply-adds", () => {
    const train = syntheticSplit(1, 400, 12, CLASSES);
    const test = syntheticSplit(2, 200, 12, CLASSES);
    const cells = twoLevelLayers(train, test, syntheticLayer(3, 12, CLASSES), Int32Array.from([0, 0, 1, 1]), [2], [3]);
    expect(cells).toHaveLength(1);
    // Two group sets of 2, then two classes of 3 features each.
    expect(cells[0].macs).toBe(2 * 2 + 2 * 3);
    expect(cells[0].accuracy).toBeGreaterThan(0.5);
  });
});

describe("decomp probe on ResNet20", () => {
  it("refuses an unknown stage, a k wider than a stage, and an ImageNet model, before any work", async () => {
    for (const [args, message] of <[string[], string][]>[
      [["--stage", "layer4"], "resnet20 has no stage 'layer4'; its stages are layer1, layer2, layer3"],
      [["--k", "20"], "--k 20 is larger than stage layer1's 16 channels; use k from 1 to 16"],
      [["--model", "resnet50"], "resnet50 is an ImageNet model: give its data with --data folder:DIR or imagenet:DIR and --per-class N"],
    ]) {
      const r = await runCli("probe", ...args);
      expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 1, stderr: expect.stringContaining(message) });
      expect(r.stderr).not.toContain("extract");
    }
  });

  it("probes the stages asked for on a slice of CIFAR-10: the last stage's probe near the network's accuracy, the first far below", async () => {
    const r = await runCli("probe", "--stage", "layer1", "--stage", "layer3", "--k", "5", "--train-images", "1000", "--test-images", "500", "--noise-seeds", "2", "--json");
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.stages.map((s: { stage: string; channels: number }) => [s.stage, s.channels])).toEqual([["layer1", 16], ["layer3", 64]]);
    // ResNet20 classifies 91.7 % of CIFAR-10; a probe on its last stage from 1,000 images gets most of that, and the
    // 16 channels after the first stage far less (colour and texture only).
    expect(out.stages[1].probeAccuracy).toBeGreaterThan(80);
    expect(out.stages[0].probeAccuracy).toBeLessThan(out.stages[1].probeAccuracy - 20);
    expect(out.stages[1].cells[0].k).toBe(5);
  });

  it("probes a feature map named in a CIFAR-10 model's ONNX file, and asks for one when none is named", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "decomp-probe-onnx-"));
    try {
      const { stateDict } = await loadTorchCheckpoint(loadParityFixture().models.resnet20.checkpoint);
      const file = path.join(dir, "my-cifar-net.onnx");
      fs.writeFileSync(file, exportOnnxModel(cifarResNetSpec(20), stateDict, { inputLayout: "nchw" }));
      const bare = await runCli("probe", "--model", file);
      expect(bare.stderr).toContain("my-cifar-net.onnx is a graph without named stages: name its feature maps with --stage TENSOR (repeatable)");
      const r = await runCli("probe", "--model", file, "--stage", "layer2.2:out", "--k", "3", "--train-images", "600", "--test-images", "300", "--noise-seeds", "1", "--json");
      expect(r.code).toBe(0);
      const out = JSON.parse(r.stdout);
      expect(out.stages.map((s: { stage: string; channels: number }) => [s.stage, s.channels])).toEqual([["layer2.2:out", 32]]);
      expect(out.stages[0].probeAccuracy).toBeGreaterThan(30);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
