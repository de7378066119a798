/**
 * Tables and Vega-Lite charts for notebook 02 (paper Figs. 2 and 3), built from the sweep's data so the
 * notebook only chooses parameters and shows them. Accuracies are shown in percent.
 */
import { comparisonFrame, type ComparisonRow } from "../report/frames";
import type { ChartSpec } from "../report/chart";
import { PAPER, type PaperKey } from "../report/paper";
import { PAPER_COLUMN, type TableSource } from "../report/table";
import type { Concentration, HistogramBar } from "./concentration";
import { bestK1PerK2, bestK2PerK1, type BestRow, type CoverageSweep, describeDiagonalFinding, type SweepGrid } from "./sweep";

const pct = (x: number) => 100 * x;

type Cell = number | string | null;

/** A plain table; null cells print as a dash (danfo's value type has no null, hence the cast). */
export function plainTable(columns: string[], values: Cell[][]): TableSource {
  return { columns, values: values as TableSource["values"] };
}
const INFLUENTIAL_COLORS = { domain: ["influential", "other"], range: ["#d95f02", "#9ecae1"] };

function influenceLabel(b: HistogramBar): string {
  return b.influential ? "influential" : "other";
}

/**
 * Fig. 2 for one class: relative frequency of each feature index in the per-instance top-k1 sets, sorted. The
 * chart carries every class and a dropdown (param `classPick`, starting at `className`), so a reader of the
 * exported report switches classes without a kernel; the static rendering shows `className`.
 */
export function classHistogramChart(bars: HistogramBar[], className: string, k1: number, k2: number): ChartSpec {
  const classes = [...new Set(bars.map((b) => b.className))];
  if (!classes.includes(className)) throw new Error(`no histogram bars for class "${className}"; pick one of the dataset's class names`);
  const values = bars.map((b) => ({ className: b.className, feature: String(b.feature), rank: b.rank, frequency: b.frequency, set: influenceLabel(b) }));
  return {
    title: { text: { expr: `'Class "' + classPick + '": feature frequency in per-instance top-${k1} sets (top-${k2} highlighted)'` } },
    width: 720,
    height: 220,
    params: [{ name: "classPick", value: className, bind: { input: "select", options: classes, name: "class " } }],
    data: { values },
    transform: [{ filter: "datum.className === classPick" }],
    mark: "bar",
    encoding: {
      x: { field: "feature", type: "nominal", sort: { field: "rank", order: "ascending" }, title: "feature index (sorted by frequency)" },
      y: { field: "frequency", type: "quantitative", title: "relative frequency" },
      color: { field: "set", type: "nominal", scale: INFLUENTIAL_COLORS, title: null },
      tooltip: [
        { field: "feature", type: "nominal" },
        { field: "rank", type: "quantitative" },
        { field: "frequency", type: "quantitative", format: ".4f" },
      ],
    },
  };
}

/** Fig. 2 for every class: small multiples by rank (each panel sorted on its own), the `ranks` most frequent. */
export function histogramSmallMultiples(bars: HistogramBar[], k1: number, k2: number, ranks = 20): ChartSpec {
  const values = bars
    .filter((b) => b.rank <= ranks)
    .map((b) => ({ className: b.className, rank: b.rank, feature: b.feature, frequency: b.frequency, set: influenceLabel(b) }));
  return {
    title: `All classes: the ${ranks} most frequent feature indices in per-instance top-${k1} sets (top-${k2} highlighted)`,
    data: { values },
    facet: { field: "className", type: "nominal", sort: [...new Set(values.map((v) => v.className))], title: null },
    columns: 5,
    spec: {
      width: 170,
      height: 110,
      mark: "bar",
      encoding: {
        x: { field: "rank", type: "ordinal", title: "rank in class", axis: { values: [1, 5, 10, 15, 20] } },
        y: { field: "frequency", type: "quantitative", title: "relative frequency" },
        color: { field: "set", type: "nominal", scale: INFLUENTIAL_COLORS, title: null },
        tooltip: [
          { field: "className", type: "nominal" },
          { field: "feature", type: "quantitative" },
          { field: "frequency", type: "quantitative", format: ".4f" },
        ],
      },
    },
  };
}

/** How much of each class's histogram mass the influential set holds, and how spread the rest is. */
export function concentrationTable(concentrations: Concentration[], classNames: readonly string[], k2: number): TableSource {
  return plainTable(
    ["class", `top-${k2} share of mass (%)`, "entropy (bits)", "effective indices (2^H)", "indices for 50%", "indices for 90%", "indices used"],
    concentrations.map((c, y) => [
      classNames[y],
      pct(c.topShare),
      c.entropyBits,
      c.effectiveIndices,
      c.cover50,
      c.cover90,
      c.nonZero,
    ]),
  );
}

/** The grid's k1 values in ascending order. */
function gridK1s(grid: SweepGrid): number[] {
  return [...new Set(grid.cells.map((c) => c.k1))].sort((a, b) => a - b);
}

function gridValues(grid: SweepGrid) {
  const k1s = gridK1s(grid);
  return grid.cells.map((c) => ({ k1: c.k1, k1Index: k1s.indexOf(c.k1), k2: c.k2, A_d: pct(c.decomposedAccuracy), r_A: c.accuracyRatio }));
}

/**
 * A slider over the grid's k1 values (by position, since they are not evenly spaced) that a chart highlights:
 * the reader of an exported report picks a k1 without a kernel. Starts at k1 = 5, the paper's choice, if present.
 */
function k1Slider(grid: SweepGrid) {
  const k1s = gridK1s(grid);
  const start = k1s.indexOf(5);
  return {
    name: "k1Pick",
    value: start >= 0 ? start : 0,
    bind: { input: "range" as const, min: 0, max: k1s.length - 1, step: 1, name: `k1 (position in ${k1s.join(", ")}) ` },
  };
}

/** Fig. 3 as a heatmap over (k1, k2) of A_d (%) or r_A, each cell labelled with its value. */
export function gridHeatmap(grid: SweepGrid, metric: "A_d" | "r_A", title: string): ChartSpec {
  const format = metric === "A_d" ? ".1f" : ".3f";
  const axis = (name: string) => ({ field: name, type: "ordinal" as const, sort: "ascending" as const });
  return {
    title,
    width: 430,
    height: 330,
    data: { values: gridValues(grid) },
    params: [k1Slider(grid)],
    encoding: { x: { ...axis("k2"), title: "k2 (features kept per class)" }, y: { ...axis("k1"), title: "k1 (top features per instance)" } },
    layer: [
      {
        mark: "rect",
        encoding: {
          stroke: { condition: { test: "datum.k1Index === k1Pick", value: "#d62728" }, value: null },
          strokeWidth: { condition: { test: "datum.k1Index === k1Pick", value: 2 }, value: 0 },
          color: { field: metric, type: "quantitative", scale: { scheme: "viridis" }, title: metric === "A_d" ? "A_d (%)" : "r_A" },
          tooltip: [
            { field: "k1", type: "ordinal" },
            { field: "k2", type: "ordinal" },
            { field: "A_d", type: "quantitative", format: ".2f" },
            { field: "r_A", type: "quantitative", format: ".4f" },
          ],
        },
      },
      {
        mark: { type: "text", fontSize: 9 },
        encoding: {
          text: { field: metric, type: "quantitative", format },
          color: { condition: { test: `datum.${metric} < ${metric === "A_d" ? 60 : 0.65}`, value: "white" }, value: "black" },
        },
      },
    ],
  };
}

export interface ExtraLine {
  /** Legend label, e.g. "coverage p = 90%". */
  label: string;
  points: { k2: number; decomposedAccuracy: number }[];
}

/** Fig. 3 as lines: A_d (%) against k2, one line per k1 (plus extra lines), with A_f as a dashed reference. */
export function gridLines(grid: SweepGrid, title: string, extra: ExtraLine[] = []): ChartSpec {
  // Extra lines have no k1 (index -1) and stay drawn in full whatever the slider picks.
  const k1s = gridK1s(grid);
  const values = [
    ...grid.cells.map((c) => ({ line: `k1 = ${c.k1}`, k1Index: k1s.indexOf(c.k1), k2: c.k2, A_d: pct(c.decomposedAccuracy) })),
    ...extra.flatMap((e) => e.points.map((p) => ({ line: e.label, k1Index: -1, k2: p.k2, A_d: pct(p.decomposedAccuracy) }))),
  ];
  const fullLabel = `A_f = ${pct(grid.fullAccuracy).toFixed(2)} % (full layer)`;
  return {
    title,
    width: 620,
    height: 320,
    params: [k1Slider(grid)],
    layer: [
      {
        data: { values },
        mark: { type: "line", point: true },
        encoding: {
          opacity: { condition: { test: "datum.k1Index === k1Pick || datum.k1Index < 0", value: 1 }, value: 0.2 },
          x: { field: "k2", type: "ordinal", sort: "ascending", title: "k2 (features kept per class)" },
          y: { field: "A_d", type: "quantitative", title: "A_d (%)", scale: { zero: false } },
          color: { field: "line", type: "nominal", sort: [...new Set(values.map((v) => v.line))], title: null },
          tooltip: [
            { field: "line", type: "nominal" },
            { field: "k2", type: "ordinal" },
            { field: "A_d", type: "quantitative", format: ".2f" },
          ],
        },
      },
      {
        data: { values: [{ A_f: pct(grid.fullAccuracy), label: fullLabel }] },
        mark: { type: "rule", strokeDash: [6, 4], color: "black" },
        encoding: { y: { field: "A_f", type: "quantitative" }, tooltip: { field: "label", type: "nominal" } },
      },
    ],
  };
}

/** The best k2 for each k1 (or best k1 for each k2), with the diagonal cell beside it. */
export function bestTable(rows: BestRow[], fixedName: string, freeName: string): TableSource {
  return plainTable(
    [fixedName, `best ${freeName}`, "best A_d (%)", `A_d at ${freeName} = ${fixedName} (%)`, `${freeName} = ${fixedName} is best`],
    rows.map((r) => [
      r.fixed,
      r.best,
      pct(r.bestAccuracy),
      r.diagonalAccuracy === null ? null : pct(r.diagonalAccuracy),
      r.diagonalIsBest === null ? "not in grid" : r.diagonalIsBest ? "yes" : "no",
    ]),
  );
}

export interface SweepVariant {
  /** Column header, e.g. "A_d, augmented train (%)". */
  label: string;
  grid: SweepGrid;
}

/**
 * The diagonal k1 = k2 for several variants side by side, the coverage rule at k2 = k, and the paper's
 * Fig. 3 values where it prints one (only for the model the paper used).
 */
export function diagonalTable(
  variants: SweepVariant[],
  coverage: CoverageSweep | null,
  paperApplies: boolean,
): TableSource {
  const ks = variants[0].grid.k1s.filter((k) => variants[0].grid.k2s.includes(k));
  const paperAt: Record<number, PaperKey> = { 3: "resnet20DecomposedK2is3", 5: "resnet20DecomposedK5" };
  const columns = ["k1 = k2", "MACs (k2 x classes)", ...variants.map((v) => v.label)];
  if (coverage) columns.push(`A_d, coverage p = ${coverage.lengths[0].p}% rule, same k2 (%)`);
  columns.push(PAPER_COLUMN);
  const values = ks.map((k) => {
    const row: Cell[] = [k];
    const first = variants[0].grid.cells.find((c) => c.k1 === k && c.k2 === k);
    row.push(first ? first.macs : null);
    for (const v of variants) {
      const cell = v.grid.cells.find((c) => c.k1 === k && c.k2 === k);
      row.push(cell ? pct(cell.decomposedAccuracy) : null);
    }
    if (coverage) {
      const cell = coverage.cells.find((c) => c.p === coverage.lengths[0].p && c.k2 === k);
      row.push(cell ? pct(cell.decomposedAccuracy) : null);
    }
    row.push(paperApplies && paperAt[k] ? PAPER[paperAt[k]].value : null);
    return row;
  });
  return plainTable(columns, values);
}

/** Headline numbers beside the paper's: A_f and A_d at k1 = k2 = 5 and 3 of the default variant. */
export function headlineFrame(grid: SweepGrid, paperApplies: boolean): TableSource {
  const at = (k: number) => grid.cells.find((c) => c.k1 === k && c.k2 === k);
  const paper = (key: PaperKey) => (paperApplies ? key : undefined);
  const rows: ComparisonRow[] = [
    { quantity: "A_f, full layer (%)", ours: pct(grid.fullAccuracy), paper: paper("resnet20FullAccuracy") },
    { quantity: "A_f, full layer (%), vs the authors' README", ours: pct(grid.fullAccuracy), paper: paper("resnet20FullAccuracyReadme") },
  ];
  const k5 = at(5);
  if (k5) {
    rows.push({ quantity: "A_d, k1 = k2 = 5 (%)", ours: pct(k5.decomposedAccuracy), paper: paper("resnet20DecomposedK5") });
    rows.push({ quantity: "r_A = A_d / A_f, k1 = k2 = 5 (%)", ours: pct(k5.accuracyRatio) });
  }
  const k3 = at(3);
  if (k3) rows.push({ quantity: "A_d, k1 = k2 = 3 (%)", ours: pct(k3.decomposedAccuracy), paper: paper("resnet20DecomposedK2is3") });
  return comparisonFrame(rows);
}

/** The "best at k2 = k1" finding in both directions, as markdown computed from the grid. */
export function diagonalFindings(grid: SweepGrid, variant: string): string {
  const perK1 = describeDiagonalFinding(bestK2PerK1(grid), "k1", "k2");
  const perK2 = describeDiagonalFinding(bestK1PerK2(grid), "k2", "k1");
  return (
    `**${variant}.** For a fixed k1, ${perK1}. ` +
    `For a fixed budget k2 (k2 x classes MACs), ${perK2}.`
  );
}
