/** Tables, charts and the computed conclusions of notebook 08 (selection rules head to head). */
import type { SelectionRule } from "../method";
import type { ChartSpec } from "../report/chart";
import { PAPER, type PaperKey } from "../report/paper";
import { PAPER_COLUMN, type TableSource } from "../report/table";
import type { RuleCell, RuleNoise } from "./rules";
import { plainTable } from "./sweep-report";

const pct = (x: number) => 100 * x;
/** A signed gap in words: Algorithm 1 can also beat the reference it is measured against. */
const gapText = (reference: number, algorithm1: number) => {
  const points = pct(reference - algorithm1).toFixed(2);
  return points === "0.00" || points === "-0.00" ? "level with it" : points.startsWith("-") ? `${points.slice(1)} points above` : `${points} points below`;
};
const PAPER_ALGORITHM1: Record<number, PaperKey> = { 3: "resnet20DecomposedK2is3", 5: "resnet20DecomposedK5" };

const keepText = (c: RuleCell) => (c.keepInterval === null ? pct(c.keep) : `${pct(c.keep).toFixed(2)} [${pct(c.keepInterval.low).toFixed(2)}, ${pct(c.keepInterval.high).toFixed(2)}]`);
const refitText = (c: RuleCell) => (c.refit === null ? null : c.refitInterval === null ? pct(c.refit) : `${pct(c.refit).toFixed(2)} [${pct(c.refitInterval.low).toFixed(2)}, ${pct(c.refitInterval.high).toFixed(2)}]`);

/**
 * One row per rule and k: A_d kept and refitted (%; random: mean [95 % interval] over its seeds), the overlap with
 * Algorithm 1's sets, the selection time, and the paper's A_d beside Algorithm 1 where it prints one (ResNet20, or
 * the values given, e.g. Table 2's ResNet50 at k = 50).
 */
export function rulesTable(cells: readonly RuleCell[], ks: readonly number[], paperApplies: boolean, paperAlgorithm1?: Readonly<Record<number, { value: number; source: string }>>): TableSource {
  const paperAt = (k: number) => paperAlgorithm1?.[k] ?? (paperApplies && PAPER_ALGORITHM1[k] !== undefined ? PAPER[PAPER_ALGORITHM1[k]] : undefined);
  const rows = ks.flatMap((k) =>
    cells.filter((c) => c.k === k).map((c) => {
      const paper = c.rule === "algorithm1" ? paperAt(k) : undefined;
      if (c.note !== null) return [c.rule, k, null, null, null, Math.round(c.selectMs), null, "", c.note];
      return [c.rule, k, keepText(c), refitText(c), `${(100 * c.overlap).toFixed(0)} %`, Math.round(c.selectMs), paper?.value ?? null, paper?.source ?? "", ""];
    }),
  );
  return plainTable(["rule", "k per class", "A_d kept (%)", "A_d refitted (%)", "overlap with Algorithm 1's sets", "select (ms)", PAPER_COLUMN, "paper source", "note"], rows);
}

/** A_d against k, one line per rule, random's 95 % interval as a band and A_f as a dashed rule. */
export function rulesChart(cells: readonly RuleCell[], fullAccuracy: number, scoring: "keep" | "refit", title: string): ChartSpec {
  const of = (c: RuleCell) => (scoring === "keep" ? c.keep : c.refit);
  const band = (c: RuleCell) => (scoring === "keep" ? c.keepInterval : c.refitInterval);
  const values = cells.filter((c) => of(c) !== null && Number.isFinite(of(c))).map((c) => ({ rule: c.rule, k: c.k, A_d: pct(of(c)!) }));
  const bands = cells.filter((c) => band(c) !== null).map((c) => ({ k: c.k, low: pct(band(c)!.low), high: pct(band(c)!.high) }));
  const x = { field: "k", type: "quantitative", title: "features per class k (log scale)", scale: { type: "log", nice: false } } as const;
  return {
    title, width: 560, height: 320,
    layer: [
      { data: { values: bands }, mark: { type: "area", opacity: 0.25, color: "gray" } as const, encoding: { x, y: { field: "low", type: "quantitative", title: "A_d (%)" }, y2: { field: "high" } } },
      {
        data: { values }, mark: { type: "line", point: true } as const,
        encoding: {
          x, y: { field: "A_d", type: "quantitative", title: "A_d (%)", scale: { zero: false } }, color: { field: "rule", type: "nominal", title: null },
          tooltip: [{ field: "rule", type: "nominal" }, { field: "k", type: "quantitative" }, { field: "A_d", type: "quantitative", format: ".2f" }],
        },
      },
      { data: { values: [{ A_f: pct(fullAccuracy) }] }, mark: { type: "rule" as const, strokeDash: [6, 4], color: "black" }, encoding: { y: { field: "A_f", type: "quantitative" } } },
    ],
  };
}

/** Table 8's ablation per rule: accuracy with the set noised and with the rest noised. */
export function rulesNoiseTable(noise: readonly RuleNoise[], k: number, paperApplies: boolean): TableSource {
  const fmt = (a: RuleNoise["influential"]) => `${pct(a.mean).toFixed(2)} [${pct(a.low).toFixed(2)}, ${pct(a.high).toFixed(2)}]`;
  return plainTable(
    ["rule", `set noised, k = ${k} (%)`, "rest noised (%)", "gap (points)", `${PAPER_COLUMN}: set / rest noised`],
    noise.map((n) => [n.rule, fmt(n.influential), fmt(n.others), pct(n.others.mean - n.influential.mean),
      paperApplies && n.rule === "algorithm1" && k === 5 ? `${PAPER.resnet20NoiseInfluential.value} / ${PAPER.resnet20NoiseNonInfluential.value}` : null]),
  );
}

/**
 * What the numbers say, computed: the best rule at each k in each scoring, by how much it beats random's upper
 * bound, and how far Algorithm 1 is from the best.
 */
export function rulesConclusion(cells: readonly RuleCell[], ks: readonly number[]): string {
  const lines: string[] = [];
  for (const scoring of ["keep", "refit"] as const) {
    const of = (c: RuleCell) => (scoring === "keep" ? c.keep : c.refit);
    if (cells.every((c) => of(c) === null)) continue;
    const parts = ks.map((k) => {
      const atK = cells.filter((c) => c.k === k && of(c) !== null && Number.isFinite(of(c)) && c.rule !== "random");
      const best = atK.reduce((a, b) => (of(b)! > of(a)! ? b : a));
      const alg = atK.find((c) => c.rule === "algorithm1")!;
      const random = cells.find((c) => c.k === k && c.rule === "random");
      const interval = random === undefined ? null : scoring === "keep" ? random.keepInterval : random.refitInterval;
      const overRandom = interval === null ? "" : of(best)! > interval.high ? `, ${pct(of(best)! - interval.high).toFixed(2)} points above random sets' 95 % interval` : `, not above random sets' 95 % interval (up to ${pct(interval.high).toFixed(2)} %)`;
      const algText = best.rule === "algorithm1" ? "Algorithm 1 is the best" : `Algorithm 1 ${gapText(of(best)!, of(alg)!)}`;
      const anchor = atK.find((c) => c.rule === "sparse-refit");
      const anchorText = scoring === "refit" && anchor !== undefined ? `; against sparse-refit (${pct(of(anchor)!).toFixed(2)} %, the upper reference) Algorithm 1's pattern is ${gapText(of(anchor)!, of(alg)!)}` : "";
      return `k = ${k}: ${best.rule} ${pct(of(best)!).toFixed(2)} %${overRandom}; ${algText}${anchorText}`;
    });
    lines.push(`**${scoring === "keep" ? "Kept weights" : "Refitted"}** — ${parts.join("; ")}.`);
  }
  return lines.join("\n\n");
}

export const RULE_DESCRIPTIONS: Record<SelectionRule, string> = {
  algorithm1: "the paper's: each image's top k1, the k most frequent per class",
  random: "uniform sets (the floor), mean over seeds",
  "mean-activation": "top k of E[f_j | c]",
  weight: "top k of W[c, j]",
  "abs-weight": "top k of |W[c, j]|",
  contribution: "top k of W[c, j] E[f_j | c] (= gradient x activation, integrated gradients, Shapley value of the logit)",
  "contribution-centred": "top k of W[c, j] (E[f_j | c] - E[f_j])",
  margin: "top k of E[(W[c, j] - W[r(x), j]) f_j | c], r(x) the strongest other class",
  "taylor-loss": "top k of |E[f_j dL/df_j | c]| (Molchanov et al. 2017)",
  greedy: "forward selection on held-out training images, classes in turn",
  shared: "one set for every class: top k of sum_c |W[c, j]| E[f_j]",
  csg: "the k largest gates of a CSG run",
  "sparse-refit": "an elastic-net path (l1 share 0.99) on standardised features, cut at k per class; refitted, the upper reference",
};
