import { noiseConclusion, noiseTable, perClassNoiseChart } from "../../src/experiments/noise-report";
import { meanInterval } from "../../src/method/metrics";
import type { NoiseAblationResult } from "../../src/experiments/noise-ablation";
import { classHistogramChart, diagonalTable, gridHeatmap, gridLines, headlineFrame } from "../../src/experiments/sweep-report";
import { sweepCoverage, sweepGrid } from "../../src/experiments/sweep";
import { chartSvg } from "../../src/report/chart";
import { PAPER_COLUMN } from "../../src/report/table";
import { syntheticLayer, syntheticSplit } from "./synthetic";

const train = syntheticSplit(11, 120, 8, 3);
const test = syntheticSplit(12, 60, 8, 3);
const layer = syntheticLayer(13, 8, 3);
const grid = sweepGrid(train, test, layer, [1, 3, 5], [1, 3, 5, 8]);

describe("sweep report", () => {
  it("puts the paper's Fig. 3 values only on the diagonal cells it prints, and only when the paper applies", () => {
    const coverage = sweepCoverage(train, test, layer, [80], [1, 3, 5, 8]);
    const table = diagonalTable([{ label: "A", grid }], coverage, true);
    expect(table.columns).toEqual(["k1 = k2", "MACs (k2 x classes)", "A", "A_d, coverage p = 80% rule, same k2 (%)", PAPER_COLUMN]);
    const rows = table.values as unknown as (number | null)[][];
    expect(rows.map((r) => r[0])).toEqual([1, 3, 5]);
    expect(rows.map((r) => r[4])).toEqual([null, 84.16, 88.59]);
    expect(rows[1][2]).toBeCloseTo(100 * grid.cells.find((c) => c.k1 === 3 && c.k2 === 3)!.decomposedAccuracy, 10);
    expect(rows[1][1]).toBe(9);
    const other = diagonalTable([{ label: "A", grid }], null, false).values as unknown as (number | null)[][];
    expect(other.map((r) => r[r.length - 1])).toEqual([null, null, null]);
  });

  it("leaves the paper column empty in the headline for another model", () => {
    const frame = headlineFrame(grid, false);
    expect(frame.columns).toContain(PAPER_COLUMN);
    const paper = frame.values.map((r) => (r as unknown[])[2]);
    expect(paper.every((v) => v === null)).toBe(true);
  });

  it("draws one heatmap cell per grid cell", async () => {
    const svg = await chartSvg(gridHeatmap(grid, "A_d", "test heatmap"));
    const rects = /<g class="mark-rect role-mark[^"]*"[^>]*>(.*?)<\/g>/.exec(svg);
    expect(rects![1].match(/<path /g)).toHaveLength(grid.cells.length);
  });
});

function result(influential: number[], others: number[]): NoiseAblationResult {
  const run = (accuracy: number) => ({ accuracy, perClass: Float64Array.from([accuracy, accuracy]) });
  const seeded = (values: number[]) => {
    const accuracy = meanInterval(values);
    return { accuracy, perSeed: values, perClass: Float64Array.from([accuracy.mean, accuracy.mean]) };
  };
  return {
    seeds: influential.map((_, i) => i),
    original: run(0.9),
    noise: { influential: seeded(influential), others: seeded(others) },
    zero: { influential: run(0.3), others: run(0.95) },
  };
}

describe("noise report", () => {
  it("formats mean ± std [95 % interval], marks a single seed, places the paper's value against the interval, and adds the paper's rows", () => {
    const ablations = [
      { model: "resnet20", result: result([0.5, 0.6, 0.7], [0.8, 0.81, 0.82]) },
      { model: "resnet32", result: result([0.4], [0.85]) },
    ];
    const rows = noiseTable(ablations).values as unknown as unknown[][];
    // 60 ± 10 over 3 seeds: half-width t(0.975, 2) * 10 / sqrt(3) = 24.84; 81 ± 1: 2.48.
    expect(rows.map((r) => r.slice(0, 6))).toEqual([
      ["resnet20", "original", "90.00", 90, 91.17, ""],
      ["resnet20", "influential noised", "60.00 ± 10.00 [35.16, 84.84]", 30, 48.97, "inside"],
      ["resnet20", "non-influential noised", "81.00 ± 1.00 [78.52, 83.48]", 95, 82.24, "inside"],
      ["resnet32", "original", "90.00", 90, null, ""],
      ["resnet32", "influential noised", "40.00 (1 seed)", 30, null, ""],
      ["resnet32", "non-influential noised", "85.00 (1 seed)", 95, null, ""],
      ["resnet50 (ImageNet)", "original", "paper only: needs ImageNet", null, 74.55, ""],
      ["resnet50 (ImageNet)", "influential noised", "paper only: needs ImageNet", null, 12.52, ""],
      ["resnet50 (ImageNet)", "non-influential noised", "paper only: needs ImageNet", null, 74.4, ""],
    ]);
    expect(noiseConclusion(ablations)).toBe(
      "resnet20 influential noised: ours 60.00 ± 10.00 [35.16, 84.84] % over 3 seeds; the paper's 48.97 % lies inside it; " +
        "resnet20 non-influential noised: ours 81.00 ± 1.00 [78.52, 83.48] % over 3 seeds; the paper's 82.24 % lies inside it",
    );
    // Measured on ImageNet, ResNet50 takes its paper values in place of the paper-only rows; else they carry the reason.
    const with50 = noiseTable([{ model: "resnet50", result: result([0.1, 0.12, 0.14], [0.74, 0.75, 0.76]) }]).values as unknown as unknown[][];
    expect(with50.map((r) => r.slice(0, 6))).toEqual([
      ["resnet50", "original", "90.00", 90, 74.55, ""],
      ["resnet50", "influential noised", "12.00 ± 2.00 [7.03, 16.97]", 30, 12.52, "inside"],
      ["resnet50", "non-influential noised", "75.00 ± 1.00 [72.52, 77.48]", 95, 74.4, "inside"],
    ]);
    expect((noiseTable([], "DECOMP_IMAGENET is not set").values as unknown as unknown[][]).map((r) => r[2])).toEqual(Array(3).fill("paper only: DECOMP_IMAGENET is not set"));
    const narrow = [{ model: "resnet20", result: result([0.47, 0.475, 0.48], [0.85, 0.851, 0.852]) }];
    expect(noiseConclusion(narrow)).toMatch(/the paper's 48\.97 % lies above it, by 0\.23 points; .*the paper's 82\.24 % lies below it, by 2\.61 points$/);
  });

  it("charts three bars per class", async () => {
    const ablations = [{ model: "m", result: result([0.5], [0.8]) }, { model: "n", result: result([0.4, 0.45], [0.7, 0.75]) }];
    const spec = perClassNoiseChart(ablations, ["a", "b"], "n");
    // Both models travel with the chart (a dropdown picks one); the static rendering draws the chosen one.
    expect((spec as { data: { values: unknown[] } }).data.values).toHaveLength(12);
    expect((spec as { params: { value: string; bind: { options: string[] } }[] }).params[0]).toMatchObject({ value: "n", bind: { input: "select", options: ["m", "n"] } });
    const svg = await chartSvg(spec);
    const rects = /<g class="mark-rect role-mark[^"]*"[^>]*>(.*?)<\/g>/.exec(svg);
    expect(rects![1].match(/<path /g)).toHaveLength(6);
    expect(svg).toContain("n: per-class accuracy with N(0,1) noise (mean over 2 seeds)");
    expect(() => perClassNoiseChart(ablations, ["a"])).toThrow(/1 class names for 2 classes/);
    expect(() => perClassNoiseChart(ablations, ["a", "b"], "z")).toThrow('model "z" is not among the ablations run: m, n');
  });
});

describe("charts with controls computed ahead", () => {
  const bars = ["cat", "dog"].flatMap((className, c) =>
    Array.from({ length: 4 }, (_, j) => ({ className, classIndex: c, feature: j, rank: c === 0 ? j + 1 : 4 - j, frequency: (c === 0 ? 4 - j : j + 1) / 10, influential: j < 2 })),
  );

  it("Fig. 2 carries every class with a dropdown and draws the chosen one", async () => {
    const spec = classHistogramChart(bars, "dog", 5, 2) as unknown as { data: { values: unknown[] }; params: { value: string; bind: { input: string; options: string[] } }[] };
    expect(spec.data.values).toHaveLength(8);
    expect(spec.params[0]).toMatchObject({ name: "classPick", value: "dog", bind: { input: "select", options: ["cat", "dog"] } });
    const svg = await chartSvg(spec as never);
    expect(svg).toContain('Class "dog": feature frequency in per-instance top-5 sets (top-2 highlighted)');
    expect(/<g class="mark-rect role-mark[^"]*"[^>]*>(.*?)<\/g>/.exec(svg)![1].match(/<path /g)).toHaveLength(4);
    expect(() => classHistogramChart(bars, "eel", 5, 2)).toThrow('no histogram bars for class "eel"');
  });

  it("Fig. 3's heatmap and lines carry a k1 slider that starts at k1 = 5", () => {
    for (const spec of [gridHeatmap(grid, "A_d", "t"), gridLines(grid, "t")] as unknown as { params: { name: string; value: number; bind: { input: string; max: number } }[] }[]) {
      const k1s = [...new Set(grid.cells.map((c) => c.k1))].sort((a, b) => a - b);
      expect(spec.params[0]).toMatchObject({ name: "k1Pick", value: Math.max(0, k1s.indexOf(5)), bind: { input: "range", max: k1s.length - 1 } });
    }
  });
});
