import {
  compareWithAlgorithm1,
  comparisonFindings,
  csgHistoryChart,
  describeSchedule,
  featureReport,
  gateChannelOrder,
  gateHeatmap,
  otherReportsTable,
  table1,
  table1Findings,
} from "../../src/experiments";
import { type GateMatrix, influentialSets } from "../../src/method";
import { PAPER_COLUMN } from "../../src/report/table";
import type { CsgHistory } from "../../src/training";
import { syntheticLayer, syntheticSplit } from "./synthetic";

const classes = 4;
const cols = 12;
const preferred = (y: number) => Array.from({ length: cols }, (_, j) => j).filter((j) => (j * 7 + y * 3) % cols < 3);

/** Gates of 1 on the given channels of each class, 0.1 elsewhere. */
function gatesOn(channelsOf: (y: number) => number[]): GateMatrix {
  const data = new Float32Array(classes * cols).fill(0.1);
  for (let y = 0; y < classes; y++) for (const j of channelsOf(y)) data[y * cols + j] = 1;
  return { data, classes, channels: cols };
}

const history: CsgHistory = {
  stdAccuracy: [0.9173, 0.915, 0.9102], csgAccuracy: [0.91, 0.93, 0.95], density: [0.5, 0.5, 0.31],
  epochs: [
    { epoch: 1, path: "std", loss: 0.3, penalty: 0, trainAccuracy: 0.9, lr: 1e-5, seconds: 100, imagesPerSecond: 500, engine: "onnx" },
    { epoch: 2, path: "csg", loss: 0.25, penalty: 0.1, trainAccuracy: 0.92, lr: 1e-3, seconds: 102, imagesPerSecond: 490, engine: "onnx" },
  ],
};

describe("notebook 01's CSG report", () => {
  it("orders channels by their strongest class, then by that gate", () => {
    const g: GateMatrix = { data: Float32Array.from([0.2, 0.9, 0.3, 1, 0.8, 0.1, 0.5, 0.4]), classes: 2, channels: 4 };
    // Channel 0: class 1 (0.8); 1: class 0 (0.9); 2: class 1 (0.5); 3: class 0 (1).
    expect(gateChannelOrder(g)).toEqual([3, 1, 0, 2]);
    const chart = gateHeatmap(g, ["a", "b"], "G") as { data: { values: { position: number; channel: number }[] } };
    expect(chart.data.values.filter((v) => v.position === 0).map((v) => v.channel)).toEqual([3, 3]);
  });

  it("fills Table 1 with our rows beside the paper's, and the paper-only rows with what they need", () => {
    const rows = [{ model: "resnet20", schedule: describeSchedule(history, { optimiser: "adam", stdLr: 1e-5, csgLr: 1e-3 }), history, mis: { before: 0.1231, after: 0.14 }, targetDensity: 0.2 }];
    expect(rows[0].schedule).toBe("1 STD + 1 CSG epoch(s), Adam 1e-5 / 1e-3");
    const t = table1(rows, [{ model: "resnet34, CIFAR-10", keys: ["resnet34Cifar10StdTable1", "resnet34Cifar10CsgTable1"], needs: "training from scratch" }]);
    expect(t.columns).toEqual(["model, data (our schedule)", "quantity", "ours", PAPER_COLUMN, "paper source / note"]);
    const cells = t.values as unknown as (string | number | null)[][];
    const byQuantity = new Map(cells.map((r) => [String(r[1]), r]));
    expect(byQuantity.get("STD path accuracy after CSG training (%)")!.slice(2, 4)).toEqual([91.02, 88.09]);
    expect(byQuantity.get("CSG path accuracy (true-label gates) after CSG training (%)")!.slice(2, 4)).toEqual([95, 88.09]);
    expect(byQuantity.get("STD path accuracy, at the start (%)")![3]).toBeNull();
    expect(byQuantity.get("MIS, at the start -> after CSG training")![2]).toBe("0.1231 -> 0.1400");
    const paperOnly = cells.filter((r) => r[0] === "resnet34, CIFAR-10");
    expect(paperOnly.map((r) => [r[2], r[3]])).toEqual([[null, 84.07], [null, 84.07]]);
    expect(String(paperOnly[0][4])).toContain("not run here: training from scratch");
    expect(table1Findings(rows)).toBe(
      "- **resnet20** (1 STD + 1 CSG epoch(s), Adam 1e-5 / 1e-3): the network (STD path) went from 91.73 to 91.02 % (−0.71 points); " +
        "the CSG path, which sees the true label through G[y], reached 95.00 % (+3.98 points above the network); G's density fell from 0.50 to 0.3100 (hinge target 0.2); " +
        "MIS rose from 0.1231 to 0.1400; the paper's 88.09 for both paths lies 2.93 points below our STD path and 6.91 points below our CSG path.",
    );
    const other = otherReportsTable(rows[0]);
    const otherCells = other.values as unknown as (string | number | null)[][];
    expect(otherCells[0].slice(1, 5)).toEqual(["CSG-trained", 91.02, "0.1400", "0.3100"]);
    expect(otherCells.map((r) => r[3])).toContain("0.1603");
  });

  it("draws both paths and the density per epoch, with the paper's line for ResNet20", () => {
    const chart = csgHistoryChart(history, "h", true) as { vconcat: { layer?: { data: { values: unknown[] } }[] }[] };
    expect(chart.vconcat[0].layer![0].data.values).toHaveLength(6);
    expect(chart.vconcat[0].layer![1].data.values).toEqual([{ accuracy: 88.09, label: "paper Table 1: 88.09 (both paths)" }]);
  });

  it("scores CSG's top gates against Algorithm 1's sets on one network", () => {
    const train = syntheticSplit(1, 400, cols, classes);
    const testSplit = syntheticSplit(2, 200, cols, classes);
    const layer = syntheticLayer(3, cols, classes);
    const test = { ...featureReport(testSplit.features, testSplit.labels, classes), labels: testSplit.labels };
    const net = { network: "toy", train, test, layer };
    const algorithm1 = influentialSets(train.features, train.labels, { classes, k1: 3, k2: 3 }).sets.map((s) => [...s].sort((a, b) => a - b));
    // Gates on Algorithm 1's own sets: full overlap, identical A_d and noise ablation.
    const [same] = compareWithAlgorithm1(net, gatesOn((y) => algorithm1[y]), [3], [0, 1]);
    expect(same.overlap.total).toBe(classes * 3);
    expect(same.decomposed.csg).toBe(same.decomposed.algorithm1);
    expect(same.noised.csg).toBe(same.noised.algorithm1);
    expect(same.mi.meanCsg).toBeCloseTo(same.mi.meanAlgorithm1, 12);
    // Gates on channels no class prefers: no overlap, and those channels carry less of the class.
    const avoid = (y: number) => Array.from({ length: cols }, (_, j) => j).filter((j) => !preferred(y).includes(j) && !algorithm1[y].includes(j)).slice(0, 3);
    const [other] = compareWithAlgorithm1(net, gatesOn(avoid), [3], [0, 1]);
    expect(other.overlap.total).toBe(0);
    expect(other.decomposed.csg).toBeLessThan(other.decomposed.algorithm1);
    expect(other.noised.csg).toBeGreaterThan(other.noised.algorithm1);
    expect(other.mi.meanCsg).toBeLessThan(other.mi.meanAlgorithm1);
    const text = comparisonFindings([other]);
    expect(text).toContain("share 0 of 12 channels (two random sets would share about 3.0)");
    expect(text).toContain("Algorithm 1's sets give the higher A_d by");
  });
});
