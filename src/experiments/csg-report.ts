/**
 * Tables and charts for notebook 01 (paper Table 1, CSG): our CSG runs beside the paper's Table 1 and beside the
 * numbers Liang et al. and a public re-implementation report, the gate matrix, the per-epoch history, and
 * CSG's channels against Algorithm 1's. Accuracies are shown in percent.
 */
import type { ChartSpec } from "../report/chart";
import { PAPER, type PaperKey } from "../report/paper";
import { PAPER_COLUMN, type TableSource } from "../report/table";
import type { GateMatrix } from "../method";
import type { CsgHistory, CsgHyperparameters } from "../training";
import type { SetComparison } from "./csg";
import { plainTable } from "./sweep-report";

const pct = (x: number) => 100 * x;

/** What one of our CSG runs gives for Table 1. */
export interface CsgRow {
  model: string;
  schedule: string;
  history: CsgHistory;
  mis: { before: number; after: number };
  /** The hinge's density target d. */
  targetDensity: number;
  /** The data's name in the table (default CIFAR-10). */
  data?: string;
  /** Table 1's STD and CSG numbers for this row (ResNet20 on CIFAR-10 has them by default). */
  paper?: { std: PaperKey; csg: PaperKey };
}

/** "4 STD + 2 CSG epochs (Adam 1e-5 / 1e-3)": the schedule a run followed, for captions and tables. */
export function describeSchedule(history: CsgHistory, h: Pick<CsgHyperparameters, "optimiser" | "stdLr" | "csgLr">): string {
  const count = (p: string) => history.epochs.filter((e) => e.path === p).length;
  return `${count("std")} STD + ${count("csg")} CSG epoch(s), ${h.optimiser === "adam" ? "Adam" : "SGD"} ${lrText(h.stdLr)} / ${lrText(h.csgLr)}`;
}

/** 1e-5 rather than 0.00001; 0.1 as it is. */
const lrText = (lr: number) => (lr < 0.01 ? lr.toExponential() : String(lr));

/** Densities, MIS and MI with four decimals, as strings so a table's digits option leaves them alone. */
const four = (x: number) => x.toFixed(4);

type Cell = number | string | null;

/**
 * Table 1: per model, the STD and CSG path accuracy before and after CSG training, the density and the MIS, with
 * the paper's number where Table 1 has one; the paper's rows we cannot run carry the paper's numbers and what
 * they need.
 */
export function table1(rows: CsgRow[], cannotRun: { model: string; keys: readonly string[]; needs: string }[]): TableSource {
  const values: Cell[][] = [];
  const paper = (key: PaperKey | undefined): Cell[] => (key ? [PAPER[key].value, PAPER[key].source] : [null, ""]);
  for (const r of rows) {
    const h = r.history;
    const last = h.stdAccuracy.length - 1;
    const keys = r.paper ?? (r.model === "resnet20" && r.data === undefined ? { std: "resnet20Cifar10StdTable1", csg: "resnet20Cifar10CsgTable1" } as const : undefined);
    const label = `${r.model}, ${r.data ?? "CIFAR-10"} (${r.schedule})`;
    values.push(
      [label, "STD path accuracy, at the start (%)", pct(h.stdAccuracy[0]), ...paper(undefined)],
      [label, "STD path accuracy after CSG training (%)", pct(h.stdAccuracy[last]), ...paper(keys?.std)],
      [label, "CSG path accuracy (true-label gates), G = 0.5 before training (%)", pct(h.csgAccuracy[0]), ...paper(undefined)],
      [label, "CSG path accuracy (true-label gates) after CSG training (%)", pct(h.csgAccuracy[last]), ...paper(keys?.csg)],
      [label, "L1 density of G after training", four(h.density[last]), ...paper(undefined)],
      [label, "MIS, at the start -> after CSG training", `${four(r.mis.before)} -> ${four(r.mis.after)}`, ...paper(undefined)],
    );
  }
  for (const c of cannotRun) {
    for (const name of c.keys) {
      if (!(name in PAPER)) throw new Error(`'${name}' is not a number of the paper (src/report/paper.ts)`);
      const key = name as PaperKey;
      values.push([c.model, PAPER[key].quantity.replace(/^[^,]*, /, ""), null, PAPER[key].value, `${PAPER[key].source}; not run here: ${c.needs}`]);
    }
  }
  return plainTable(["model, data (our schedule)", "quantity", "ours", PAPER_COLUMN, "paper source / note"], values);
}

/** What Table 1's rows say, computed from them: each model's change on both paths and the density reached. */
export function table1Findings(rows: CsgRow[]): string {
  const paper = PAPER.resnet20Cifar10StdTable1.value;
  return rows
    .map((r) => {
      const h = r.history;
      const last = h.stdAccuracy.length - 1;
      const [std0, std1, csg1] = [pct(h.stdAccuracy[0]), pct(h.stdAccuracy[last]), pct(h.csgAccuracy[last])];
      const signed = (d: number) => `${d >= 0 ? "+" : "−"}${Math.abs(d).toFixed(2)}`;
      const paperNote = r.model === "resnet20" ? `; the paper's ${paper} for both paths lies ${Math.abs(std1 - paper).toFixed(2)} points ${std1 > paper ? "below" : "above"} our STD path and ${Math.abs(csg1 - paper).toFixed(2)} points ${csg1 > paper ? "below" : "above"} our CSG path` : "";
      return (
        `- **${r.model}** (${r.schedule}): the network (STD path) went from ${std0.toFixed(2)} to ${std1.toFixed(2)} % (${signed(std1 - std0)} points); ` +
        `the CSG path, which sees the true label through G[y], reached ${csg1.toFixed(2)} % (${signed(csg1 - std1)} points above the network); ` +
        `G's density ${h.density[last] < h.density[0] ? "fell" : "rose"} from ${h.density[0].toFixed(2)} to ${four(h.density[last])} (hinge target ${r.targetDensity}); ` +
        `MIS ${r.mis.after < r.mis.before ? "fell" : "rose"} from ${four(r.mis.before)} to ${four(r.mis.after)}${paperNote}.`
      );
    })
    .join("\n");
}

/** Numbers other reports give for ResNet20 on CIFAR-10, each with its source; never the paper's and never ours. */
export const OTHER_REPORTS = [
  { source: "Liang et al. 2020, as quoted by NeverGiveU/NNInterpretation", network: "CSG-trained", accuracy: 91.92, mis: 0.1603, density: 0.0788 },
  { source: "Liang et al. 2020, as quoted by NeverGiveU/NNInterpretation", network: "standard-trained", accuracy: 91.69, mis: 0.1119, density: null },
  { source: "NeverGiveU/NNInterpretation re-implementation", network: "CSG-trained", accuracy: 91.77, mis: 0.1264, density: 0.1 },
  { source: "NeverGiveU/NNInterpretation re-implementation", network: "standard-trained", accuracy: 91.94, mis: 0.0883, density: null },
] as const;

/** Our ResNet20 run in the terms the CSG literature uses (test accuracy = STD path), beside OTHER_REPORTS. */
export function otherReportsTable(ours: CsgRow): TableSource {
  const h = ours.history;
  const last = h.stdAccuracy.length - 1;
  return plainTable(
    ["source", "network", "test accuracy (%)", "MIS", "L1 density"],
    [
      [`ours (${ours.schedule})`, "CSG-trained", pct(h.stdAccuracy[last]), four(ours.mis.after), four(h.density[last])],
      ["ours", "standard-trained (the pretrained checkpoint)", pct(h.stdAccuracy[0]), four(ours.mis.before), null],
      ...OTHER_REPORTS.map((r) => [r.source, r.network, r.accuracy, four(r.mis), r.density === null ? null : four(r.density)] as Cell[]),
    ],
  );
}

/**
 * Channels ordered by their strongest class (the class with the largest gate), then by that gate, descending:
 * a class-specific G shows as blocks along the diagonal.
 */
export function gateChannelOrder(gates: GateMatrix): number[] {
  const { data, classes, channels } = gates;
  const strongest = Array.from({ length: channels }, (_, j) => {
    let best = 0;
    for (let y = 1; y < classes; y++) if (data[y * channels + j] > data[best * channels + j]) best = y;
    return { j, best, value: data[best * channels + j] };
  });
  return strongest.sort((a, b) => a.best - b.best || b.value - a.value || a.j - b.j).map((s) => s.j);
}

/** G as a classes x channels heatmap, channels in gateChannelOrder. */
export function gateHeatmap(gates: GateMatrix, classNames: readonly string[], title: string): ChartSpec {
  const order = gateChannelOrder(gates);
  const values = order.flatMap((j, position) =>
    classNames.map((name, y) => ({ position, channel: j, class: name, gate: gates.data[y * gates.channels + j] })),
  );
  return {
    title,
    width: 640,
    height: 260,
    data: { values },
    mark: "rect",
    encoding: {
      x: { field: "position", type: "ordinal", title: "channel (ordered by strongest class, then gate)", axis: { labels: false, ticks: false } },
      y: { field: "class", type: "nominal", sort: [...classNames], title: null },
      color: { field: "gate", type: "quantitative", scale: { scheme: "viridis", domain: [0, 1] }, title: "gate" },
      tooltip: [{ field: "class", type: "nominal" }, { field: "channel", type: "quantitative" }, { field: "gate", type: "quantitative", format: ".3f" }],
    },
  };
}

/** How the gate values are distributed: a histogram over [0, 1]. */
export function gateHistogram(gates: GateMatrix, title: string): ChartSpec {
  return {
    title,
    width: 420,
    height: 200,
    data: { values: Array.from(gates.data, (gate) => ({ gate })) },
    mark: "bar",
    encoding: {
      x: { field: "gate", type: "quantitative", bin: { extent: [0, 1], step: 0.05 }, title: "gate value" },
      y: { aggregate: "count", type: "quantitative", title: "gates (class x channel)" },
      tooltip: [{ field: "gate", type: "quantitative", bin: { extent: [0, 1], step: 0.05 } }, { aggregate: "count", type: "quantitative", title: "gates" }],
    },
  };
}

/** STD and CSG path test accuracy and G's density after every epoch (epoch 0 = before training). */
export function csgHistoryChart(history: CsgHistory, title: string, paperApplies: boolean): ChartSpec {
  const pathOf = (e: number) => (e === 0 ? "before" : history.epochs[e - 1].path.toUpperCase());
  const accuracy = history.stdAccuracy.flatMap((a, e) => [
    { epoch: e, series: "STD path (the network)", accuracy: pct(a), trained: pathOf(e) },
    { epoch: e, series: "CSG path (true-label gates)", accuracy: pct(history.csgAccuracy[e]), trained: pathOf(e) },
  ]);
  const rules = paperApplies ? [{ accuracy: PAPER.resnet20Cifar10StdTable1.value, label: `paper Table 1: ${PAPER.resnet20Cifar10StdTable1.value} (both paths)` }] : [];
  const x = { field: "epoch", type: "quantitative" as const, title: "epochs trained", axis: { format: "d", tickMinStep: 1 } };
  return {
    title,
    vconcat: [
      {
        width: 560,
        height: 220,
        layer: [
          {
            data: { values: accuracy },
            mark: { type: "line", point: true },
            encoding: {
              x,
              y: { field: "accuracy", type: "quantitative", title: "test accuracy (%)", scale: { zero: false } },
              color: { field: "series", type: "nominal", title: null },
              tooltip: [{ field: "series", type: "nominal" }, { field: "epoch", type: "quantitative" }, { field: "trained", type: "nominal", title: "epoch's path" }, { field: "accuracy", type: "quantitative", format: ".2f" }],
            },
          },
          ...(rules.length
            ? [{
                data: { values: rules },
                mark: { type: "rule" as const, strokeDash: [6, 4], color: "black" },
                encoding: { y: { field: "accuracy", type: "quantitative" as const }, tooltip: { field: "label", type: "nominal" as const } },
              }]
            : []),
        ],
      },
      {
        width: 560,
        height: 140,
        data: { values: history.density.map((d, e) => ({ epoch: e, density: d, trained: pathOf(e) })) },
        mark: { type: "line", point: true, color: "#7570b3" },
        encoding: {
          x,
          y: { field: "density", type: "quantitative", title: "L1 density of G", scale: { domain: [0, 1] } },
          tooltip: [{ field: "epoch", type: "quantitative" }, { field: "trained", type: "nominal", title: "epoch's path" }, { field: "density", type: "quantitative", format: ".4f" }],
        },
      },
    ],
  };
}

/** CSG's top-k gates against Algorithm 1's S_y, per network and k: overlap, A_d, noise ablation, MI. */
export function setComparisonTable(rows: SetComparison[]): TableSource {
  return plainTable(
    ["network", "k", "overlap (of k x classes)", "A_f (%)", "A_d, Algorithm 1 (%)", "A_d, CSG top-k (%)", "noised, Algorithm 1 (%)", "noised, CSG top-k (%)", "mean MI, Algorithm 1", "mean MI, CSG top-k"],
    rows.map((r) => [
      r.network, r.k, `${r.overlap.total} / ${r.k * r.overlap.perClass.length}`, pct(r.fullAccuracy), pct(r.decomposed.algorithm1), pct(r.decomposed.csg),
      pct(r.noised.algorithm1), pct(r.noised.csg), four(r.mi.meanAlgorithm1), four(r.mi.meanCsg),
    ]),
  );
}

/** Per class at one k: the two sets, their overlap and the MI of each set's channels with the class. */
export function perClassComparisonTable(row: SetComparison, classNames: readonly string[]): TableSource {
  return plainTable(
    ["class", "S_y (Algorithm 1)", "CSG top-k", "shared", "MI, Algorithm 1", "MI, CSG top-k"],
    classNames.map((name, y) => [
      name, row.sets.algorithm1[y].join(", "), row.sets.csg[y].join(", "), row.overlap.perClass[y], four(row.mi.algorithm1[y]), four(row.mi.csg[y]),
    ]),
  );
}

/** The conclusions the comparison supports, computed from its numbers (no fixed text). */
export function comparisonFindings(rows: SetComparison[]): string {
  return rows
    .map((r) => {
      // Two random k-subsets of m channels share k^2 / m channels on average, per class.
      const expected = (r.overlap.perClass.length * r.k * r.k) / r.channels;
      const ad = pct(r.decomposed.algorithm1 - r.decomposed.csg);
      const noise = pct(r.noised.csg - r.noised.algorithm1);
      const better = (d: number, what: string) => (Math.abs(d) < 0.05 ? `the two give the same ${what}` : `${d > 0 ? "Algorithm 1" : "CSG"}'s sets give ${what} by ${Math.abs(d).toFixed(2)} points`);
      return (
        `- **${r.network}, k = ${r.k}**: the sets share ${r.overlap.total} of ${r.k * r.overlap.perClass.length} channels (two random sets would share about ${expected.toFixed(1)}); ` +
        `as a decomposed layer ${better(ad, "the higher A_d")}; noising the true class's channels, ${better(noise, "the larger accuracy drop")}; ` +
        `mean MI of the chosen channels with their class: Algorithm 1 ${r.mi.meanAlgorithm1.toFixed(4)}, CSG ${r.mi.meanCsg.toFixed(4)}.`
      );
    })
    .join("\n");
}
