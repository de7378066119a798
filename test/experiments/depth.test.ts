import { ArtifactUnavailableError, findArtifact } from "../../src/artifacts";
import {
  type DepthEntry,
  depthResult,
  type DiagonalPoint,
  describeDepthTrend,
  runDepthStudy,
  smallestKReaching,
  trendOf,
} from "../../src/experiments/depth";
import { depthChart, depthSummaryTable, depthTable, UNAVAILABLE_NOTE } from "../../src/experiments/depth-report";
import type { ExperimentData, ExperimentSetup } from "../../src/experiments/setup";
import { evaluateDecomposed, influentialSets } from "../../src/method";
import { chartSvg } from "../../src/report/chart";
import { PAPER_COLUMN } from "../../src/report/table";
import { syntheticLayer, syntheticSplit } from "./synthetic";

const cols = 10;
const classes = 4;

function syntheticData(seed: number): ExperimentData {
  const train = syntheticSplit(seed, 160, cols, classes);
  const test = syntheticSplit(seed + 1, 100, cols, classes);
  return { train, test, layer: syntheticLayer(seed + 2, cols, classes) } as ExperimentData;
}

const curve = (ratios: number[]): DiagonalPoint[] =>
  ratios.map((accuracyRatio, i) => ({ k: i + 1, accuracyRatio, decomposedAccuracy: accuracyRatio * 0.9, macs: (i + 1) * classes }));

describe("smallestKReaching", () => {
  const points = curve([0.5, 0.96, 0.94, 0.99, 0.985, 1]);

  it("returns the first k whose r_A reaches the threshold, even when a later k dips below it", () => {
    expect(smallestKReaching(points, 0.95)).toBe(2);
    expect(smallestKReaching(points, 0.99)).toBe(4);
    expect(smallestKReaching(points, 1)).toBe(6);
    expect(smallestKReaching(points.slice(0, 3), 0.99)).toBeNull();
  });

  it("rejects a threshold outside (0, 1]", () => {
    expect(() => smallestKReaching(points, 95)).toThrow(/threshold must be in \(0, 1\], got 95/);
  });
});

describe("depthResult", () => {
  const data = syntheticData(21);
  const ks = [1, 2, 3, 5];
  const result = depthResult(data, ks, [0.9, 0.99]);

  it("gives the same A_d, r_A and MACs as Algorithm 1 plus evaluateDecomposed at each k1 = k2", () => {
    expect(result.rows.map((r) => r.k)).toEqual(ks);
    for (const row of result.rows) {
      const { sets } = influentialSets(data.train.features, data.train.labels, { classes, k1: row.k, k2: row.k });
      const direct = evaluateDecomposed(data.test.features, data.test.labels, data.layer, sets);
      expect(row.decomposedAccuracy).toBe(direct.decomposedAccuracy);
      expect(row.accuracyRatio).toBe(direct.accuracyRatio);
      expect(row.macs).toBe(direct.macs.decomposed);
      expect(result.fullAccuracy).toBe(direct.fullAccuracy);
    }
    expect(result.testRows).toBe(100);
  });

  it("scans every k up to the feature width, where the decomposed layer is the full one", () => {
    expect(result.curve.map((p) => p.k)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(result.curve[cols - 1].accuracyRatio).toBe(1);
    expect(new Set(result.curve.map((p) => p.accuracyRatio)).size).toBeGreaterThan(2);
    for (const { threshold, k } of result.smallestK) {
      expect(k).not.toBeNull();
      expect(result.curve[k! - 1].accuracyRatio).toBeGreaterThanOrEqual(threshold);
      expect(result.curve.slice(0, k! - 1).every((p) => p.accuracyRatio < threshold)).toBe(true);
    }
  });

  it("rejects a k beyond the feature width", () => {
    expect(() => depthResult(data, [3, 11])).toThrow(/k must be an integer in 1..10 \(the feature width\), got 11/);
  });
});

describe("runDepthStudy", () => {
  const unavailable = () => new ArtifactUnavailableError(findArtifact("resnet110"), [{ source: "mirror", location: "x", reason: "not present" }], "/tmp/x");

  it("measures each model in the paper's setup and marks a missing checkpoint instead of failing", async () => {
    const seen: ExperimentSetup[] = [];
    const load = async (setup: ExperimentSetup) => {
      seen.push(setup);
      if (setup.model === "resnet110") throw unavailable();
      return syntheticData(setup.model === "resnet20" ? 31 : 41);
    };
    const entries = await runDepthStudy(["resnet20", "resnet32", "resnet110"], { trainImages: 160, testImages: 100 }, { ks: [1, 3], load });
    expect(seen.map((s) => [s.model, s.norm, s.trainAugmentSeed, s.trainImages, s.testImages])).toEqual([
      ["resnet20", "cifar", 0, 160, 100],
      ["resnet32", "cifar", 0, 160, 100],
      ["resnet110", "cifar", 0, 160, 100],
    ]);
    expect(entries.map((e) => [e.model, e.depth, e.status])).toEqual([
      ["resnet20", 20, "measured"],
      ["resnet32", 32, "measured"],
      ["resnet110", 110, "unavailable"],
    ]);
    const missing = entries[2] as Extract<DepthEntry, { status: "unavailable" }>;
    expect(missing.reason).toMatch(/Could not obtain artifact "resnet110"/);
    const first = entries[0] as Extract<DepthEntry, { status: "measured" }>;
    expect(first.result).toEqual(depthResult(syntheticData(31), [1, 3]));
  });

  it("lets any other loading error through", async () => {
    const load = async () => {
      throw new Error("feature cache is corrupt");
    };
    await expect(runDepthStudy(["resnet20"], { trainImages: 1, testImages: 1 }, { load })).rejects.toThrow("feature cache is corrupt");
  });
});

function measured(model: string, depth: number, ratios: Record<number, number>): DepthEntry {
  const rows = Object.entries(ratios).map(([k, r]) => ({ k: Number(k), accuracyRatio: r, decomposedAccuracy: 0.9 * r, macs: 10 * Number(k) }));
  const setup = { model, norm: "cifar", trainAugmentSeed: 0, trainImages: 100, testImages: 10000 };
  return { model, depth, status: "measured", setup, result: { fullAccuracy: 0.9, classes: 10, width: 64, testRows: 10000, rows, curve: rows, smallestK: [{ threshold: 0.95, k: 5 }] } };
}

describe("depth trend", () => {
  it("classifies a series ordered by depth", () => {
    expect(trendOf([0.9, 0.9, 0.8])).toBe("falls");
    expect(trendOf([0.7, 0.8, 0.8])).toBe("rises");
    expect(trendOf([0.8, 0.8])).toBe("flat");
    expect(trendOf([0.8, 0.7, 0.9])).toBe("mixed");
  });

  it("states the direction per k from the entries, ordered by depth whatever the input order", () => {
    const entries = [measured("resnet44", 44, { 1: 0.6, 5: 0.95 }), measured("resnet20", 20, { 1: 0.8, 5: 0.97 }), measured("resnet32", 32, { 1: 0.7, 5: 0.96 })];
    const text = describeDepthTrend(entries, [1, 5]);
    expect(text).toContain("**r_A falls with depth at every k**");
    expect(text).toContain("k1 = k2 = 1: r_A falls with depth (0.8000 → 0.7000 → 0.6000); resnet44 − resnet20: -0.2000");
    const mixed = describeDepthTrend([...entries, measured("resnet56", 56, { 1: 0.9, 5: 0.94 })], [1, 5]);
    expect(mixed).toContain("r_A is monotone in depth at 1 of 2 k values (falls at 1, rises at 0); from resnet20 to resnet56 it is higher at 1 and lower at 1 of 2");
    expect(describeDepthTrend(entries.slice(0, 1), [1])).toMatch(/fewer than two depths/);
    expect(() => describeDepthTrend(entries, [3])).toThrow(/k = 3 was not measured/);
  });
});

describe("depth report", () => {
  const entries: DepthEntry[] = [
    measured("resnet32", 32, { 3: 0.93, 5: 0.96 }),
    measured("resnet20", 20, { 3: 0.92, 5: 0.97 }),
    { model: "resnet110", depth: 110, status: "unavailable", reason: "no file" },
  ];

  it("shows the paper's A_d only for ResNet20 at the k it prints", () => {
    const table = depthTable(entries);
    expect(table.columns).toContain(PAPER_COLUMN);
    const rows = table.values as unknown as (string | number | null)[][];
    const paper = table.columns.indexOf(PAPER_COLUMN);
    // k2 / c is filters per class over the classes (the paper: 0.5 for ResNet20 at k2 = 5), k2 / n over the width.
    const ratios = [table.columns.indexOf("k2 / c"), table.columns.indexOf("k2 / n")];
    expect(rows.map((r) => [r[0], r[2], r[ratios[0]], r[ratios[1]], r[paper]])).toEqual([
      ["resnet20", 3, "0.3", "0.0469", 84.16],
      ["resnet20", 5, "0.5", "0.0781", 88.59],
      ["resnet32", 3, "0.3", "0.0469", null],
      ["resnet32", 5, "0.5", "0.0781", null],
    ]);
  });

  it("lists an unavailable checkpoint as such in the summary", () => {
    const table = depthSummaryTable(entries, [3, 5], [0.95]);
    const rows = table.values as unknown as (string | number | null)[][];
    expect(rows.map((r) => r[0])).toEqual(["resnet20", "resnet32", "resnet110"]);
    expect(rows[2]).toEqual(["resnet110", 110, UNAVAILABLE_NOTE, null, null, null, null]);
    const [af, r3, r5, smallest] = rows[0].slice(3) as number[];
    expect([af, r3, r5, smallest].map((v) => Number(v.toFixed(10)))).toEqual([90, 92, 97, 5]);
  });

  it("draws one line per k over the measured depths", async () => {
    const svg = await chartSvg(depthChart(entries, "test depth chart"));
    expect(svg.match(/aria-roledescription="line mark"/g)).toHaveLength(2);
    const points = svg.match(/depth \(CIFAR ResNet layers\): (\d+); [^"]*" role="graphics-symbol" aria-roledescription="point"/g)!;
    expect(points.map((p) => p.slice(29, 31)).sort()).toEqual(["20", "20", "32", "32"]);
  });
});
