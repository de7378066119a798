/**
 * Tables and charts for notebook 03 (depth study). The paper prints no per-depth numbers, so the paper column (A_d, %)
 * holds only its ResNet20 values (A_d at k1 = k2 = 3 and 5); every other depth shows a dash there.
 */
import type { ChartSpec } from "../report/chart";
import { PAPER, type PaperKey } from "../report/paper";
import { PAPER_COLUMN, type TableSource } from "../report/table";
import { type DepthEntry, measuredEntries } from "./depth";
import { plainTable } from "./sweep-report";

const pct = (x: number) => 100 * x;
/** Ratios as the paper prints them, to four significant decimals and no more (0.5, 0.0781). */
export const ratio = (x: number) => String(Number(x.toFixed(4)));

/** The paper's A_d for ResNet20 on the diagonal, at the k it prints (same placement as notebook 02). */
const PAPER_RESNET20_AD: Record<number, PaperKey> = { 3: "resnet20DecomposedK2is3", 5: "resnet20DecomposedK5" };

export const UNAVAILABLE_NOTE = "checkpoint not available offline";

/** One row per model and k: k2 / c and k2 / n (the paper's ratios), MACs, A_f, A_d, r_A, and the paper's A_d where it prints one. */
export function depthTable(entries: readonly DepthEntry[]): TableSource {
  const rows = measuredEntries(entries).flatMap((e) =>
    e.result.rows.map((r) => {
      const paper = e.model === "resnet20" ? PAPER_RESNET20_AD[r.k] : undefined;
      return [
        e.model,
        e.depth,
        r.k,
        ratio(r.k / e.result.classes),
        ratio(r.k / e.result.width),
        r.macs,
        pct(e.result.fullAccuracy),
        pct(r.decomposedAccuracy),
        pct(r.accuracyRatio),
        paper ? PAPER[paper].value : null,
        paper ? PAPER[paper].source : "",
      ];
    }),
  );
  return plainTable(
    ["model", "depth", "k1 = k2", "k2 / c", "k2 / n", "MACs (k2 x classes)", "A_f (%)", "A_d (%)", "r_A = A_d / A_f (%)", PAPER_COLUMN, "paper source"],
    rows,
  );
}

/**
 * One row per model (unavailable ones included, marked as such): A_f and r_A (both in %) at each k, and the
 * smallest k reaching each r_A threshold (given as a ratio).
 */
export function depthSummaryTable(entries: readonly DepthEntry[], ks: readonly number[], thresholds: readonly number[]): TableSource {
  const columns = [
    "model",
    "depth",
    "checkpoint",
    "A_f (%)",
    ...ks.map((k) => `r_A (%), k = ${k}`),
    ...thresholds.map((t) => `smallest k with r_A >= ${t}`),
  ];
  const rows = [...entries]
    .sort((a, b) => a.depth - b.depth)
    .map((e) => {
      if (e.status === "unavailable") {
        return [e.model, e.depth, UNAVAILABLE_NOTE, null, ...ks.map(() => null), ...thresholds.map(() => null)];
      }
      const ratioAt = (k: number) => {
        const row = e.result.rows.find((r) => r.k === k);
        return row ? pct(row.accuracyRatio) : null;
      };
      const smallest = (t: number) => e.result.smallestK.find((s) => s.threshold === t)?.k ?? null;
      return [e.model, e.depth, "measured", pct(e.result.fullAccuracy), ...ks.map(ratioAt), ...thresholds.map(smallest)];
    });
  return plainTable(columns, rows);
}

/** r_A against depth, one line per k; only measured depths are drawn. */
export function depthChart(entries: readonly DepthEntry[], title: string): ChartSpec {
  const measured = measuredEntries(entries);
  const values = measured.flatMap((e) =>
    e.result.rows.map((r) => ({ model: e.model, depth: e.depth, line: `k1 = k2 = ${r.k}`, k: r.k, r_A: r.accuracyRatio })),
  );
  const lines = [...new Set([...values].sort((a, b) => a.k - b.k).map((v) => v.line))];
  return {
    title,
    width: 560,
    height: 320,
    data: { values },
    mark: { type: "line", point: true },
    encoding: {
      x: {
        field: "depth",
        type: "quantitative",
        title: "depth (CIFAR ResNet layers)",
        scale: { zero: false, nice: false, padding: 12 },
        axis: { values: measured.map((e) => e.depth), format: "d" },
      },
      y: { field: "r_A", type: "quantitative", title: "r_A = A_d / A_f", scale: { zero: false } },
      color: { field: "line", type: "nominal", sort: lines, title: null },
      tooltip: [
        { field: "model", type: "nominal" },
        { field: "line", type: "nominal" },
        { field: "r_A", type: "quantitative", format: ".4f" },
      ],
    },
  };
}

/** r_A against k (1..m, log axis) for each depth, with the thresholds as dashed rules. */
export function depthCurveChart(entries: readonly DepthEntry[], thresholds: readonly number[], title: string): ChartSpec {
  const measured = measuredEntries(entries);
  const values = measured.flatMap((e) => e.result.curve.map((p) => ({ model: e.model, k: p.k, r_A: p.accuracyRatio })));
  return {
    title,
    width: 560,
    height: 320,
    layer: [
      {
        data: { values },
        mark: { type: "line", point: { size: 12 } },
        encoding: {
          x: { field: "k", type: "quantitative", title: "k1 = k2 (log scale)", scale: { type: "log" }, axis: { values: [1, 2, 3, 5, 10, 20, 30, 64] } },
          y: { field: "r_A", type: "quantitative", title: "r_A = A_d / A_f" },
          color: { field: "model", type: "nominal", sort: measured.map((e) => e.model), title: null },
          tooltip: [
            { field: "model", type: "nominal" },
            { field: "k", type: "quantitative" },
            { field: "r_A", type: "quantitative", format: ".4f" },
          ],
        },
      },
      {
        data: { values: thresholds.map((t) => ({ threshold: t })) },
        mark: { type: "rule", strokeDash: [6, 4], color: "gray" },
        encoding: { y: { field: "threshold", type: "quantitative" } },
      },
    ],
  };
}
