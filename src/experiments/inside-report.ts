/** Tables, charts and the computed conclusions of notebook 09 (inside the network: stages and the class tree). */
import type { Merge } from "../method";
import type { ChartSpec } from "../report/chart";
import { PAPER, type PaperKey } from "../report/paper";
import { PAPER_COLUMN, type TableSource } from "../report/table";
import type { ClassTree, HeadCells, StageResult, TwoLevelCell } from "./inside";
import { plainTable } from "./sweep-report";

const pct = (x: number) => 100 * x;
const PAPER_HEAD: Record<number, PaperKey> = { 3: "resnet20DecomposedK2is3", 5: "resnet20DecomposedK5" };

/** One model's stages: the probe's accuracy (its A_f), A_d and r_A kept and refitted at each k, Table 8 through the probe. */
export function stageTable(model: string, results: readonly StageResult[], head: HeadCells, ks: readonly number[], noiseK: number): TableSource {
  const rows = results.map((r) => [
    r.stage, r.width, pct(r.probeAccuracy), pct(r.probeTrainAccuracy),
    ...ks.flatMap((k) => {
      const c = r.cells.find((x) => x.k === k)!;
      return [`${pct(c.keep).toFixed(2)} (${(c.keep / r.probeAccuracy).toFixed(3)})`, c.refit === null ? null : `${pct(c.refit).toFixed(2)} (${(c.refit / r.probeAccuracy).toFixed(3)})`];
    }),
    `${pct(r.noise.influential.mean).toFixed(2)} / ${pct(r.noise.others.mean).toFixed(2)}`, null,
  ]);
  const paperText = (k: number) => (model === "resnet20" && PAPER_HEAD[k] !== undefined ? `${PAPER[PAPER_HEAD[k]].value} at k = ${k}` : null);
  rows.push([
    `${results[results.length - 1].stage}, network's own head`, results[results.length - 1].width, pct(head.fullAccuracy), null,
    ...ks.flatMap((k) => {
      const c = head.cells.find((x) => x.k === k)!;
      return [`${pct(c.keep).toFixed(2)} (${(c.keep / head.fullAccuracy).toFixed(3)})`, null];
    }),
    null, ks.map(paperText).filter((t) => t !== null).join(", ") || null,
  ]);
  return plainTable(
    ["stage", "channels", "probe A_f test (%)", "probe train (%)", ...ks.flatMap((k) => [`A_d kept, k = ${k} (r_A)`, `A_d refitted, k = ${k} (r_A)`]), `accuracy, set / rest noised, k = ${noiseK} (%)`, `${PAPER_COLUMN}: A_d`],
    rows,
  );
}

/** r_A against relative depth (stage / stages), one line per model and scoring: within and across networks. */
export function stageChart(runs: readonly { model: string; results: readonly StageResult[] }[], k: number): ChartSpec {
  const values = runs.flatMap(({ model, results }) =>
    results.flatMap((r, i) => {
      const c = r.cells.find((x) => x.k === k)!;
      const at = { model, stage: r.stage, depth: (i + 1) / results.length };
      return [
        { ...at, scoring: "kept", r_A: c.keep / r.probeAccuracy },
        ...(c.refit === null ? [] : [{ ...at, scoring: "refitted", r_A: c.refit / r.probeAccuracy }]),
        { ...at, scoring: "probe A_f / 100", r_A: r.probeAccuracy },
      ];
    }),
  );
  return {
    title: `r_A = A_d / probe A_f at k = ${k} per stage (dashed: kept, solid: refitted, dotted: the probe's A_f as a fraction)`,
    width: 560, height: 320,
    data: { values },
    mark: { type: "line", point: true },
    encoding: {
      x: { field: "depth", type: "quantitative", title: "relative depth (stage / number of stages)", scale: { domain: [0, 1] } },
      y: { field: "r_A", type: "quantitative", title: "r_A", scale: { domain: [0, 1] } },
      color: { field: "model", type: "nominal", title: null },
      strokeDash: { field: "scoring", type: "nominal", title: null, scale: { domain: ["kept", "refitted", "probe A_f / 100"], range: [[6, 4], [1, 0], [2, 2]] } },
      tooltip: [{ field: "model", type: "nominal" }, { field: "stage", type: "nominal" }, { field: "scoring", type: "nominal" }, { field: "r_A", type: "quantitative", format: ".3f" }],
    },
  };
}

/** Class selectivity of every channel per stage, split by whether the channel is in some class's set. */
export function selectivityChart(model: string, results: readonly StageResult[], k: number): ChartSpec {
  const values = results.flatMap((r) => Array.from(r.selectivity, (si, j) => ({ stage: r.stage, SI: si, set: r.inSomeSet[j] ? `in some S_y (k = ${k})` : "in no S_y" })));
  return {
    title: `${model}: class selectivity index of each channel, per stage`,
    width: 480, height: 280,
    data: { values },
    mark: { type: "boxplot", extent: "min-max" },
    encoding: {
      x: { field: "stage", type: "nominal", title: null, sort: results.map((r) => r.stage) },
      xOffset: { field: "set", type: "nominal" },
      y: { field: "SI", type: "quantitative", title: "selectivity (mu_max - mu_rest) / (mu_max + mu_rest)", scale: { domain: [0, 1] } },
      color: { field: "set", type: "nominal", title: null },
    },
  };
}

/** The dendrogram as nested brackets with merge heights, e.g. "((cat, dog) 0.33, ...)". */
export function treeText(merges: readonly Merge[], names: readonly string[]): string {
  const text: string[] = [...names];
  merges.forEach((m) => text.push(`(${text[m.left]}, ${text[m.right]}):${m.height.toFixed(2)}`));
  return text[text.length - 1];
}

/** Each tree: its cut against the known grouping, ARI and where it sits among random trees. */
export function treeTable(trees: readonly ClassTree[], names: readonly string[]): TableSource {
  const groupsText = (t: ClassTree) => {
    const groups = new Map<number, string[]>();
    t.groups.forEach((g, c) => groups.set(g, [...(groups.get(g) ?? []), names[c]]));
    return [...groups.values()].map((g) => `{${g.join(", ")}}`).join(" ");
  };
  const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
  return plainTable(
    ["similarity", "tree (distance 1 - similarity, average linkage)", "cut into groups", "ARI vs vehicles / animals", "random trees: median [2.5 %, 97.5 %]", "share of random trees as good", PAPER_COLUMN],
    trees.map((t) => {
      const r = sorted(t.randomAri);
      const q = (p: number) => r[Math.min(r.length - 1, Math.floor(p * r.length))];
      return [t.similarity === "jaccard" ? "Jaccard of S_y" : "cosine of W on S_a ∪ S_b", treeText(t.merges, names), groupsText(t), t.ari.toFixed(3), `${q(0.5).toFixed(3)} [${q(0.025).toFixed(3)}, ${q(0.975).toFixed(3)}]`, t.pValue.toFixed(3), "not studied (future work)"];
    }),
  );
}

/** A class-by-class similarity as a heat map. */
export function similarityChart(tree: ClassTree, names: readonly string[], title: string): ChartSpec {
  const values = names.flatMap((a, i) => names.map((b, j) => ({ a, b, similarity: tree.matrix[i * names.length + j] })));
  return {
    title, width: 300, height: 300,
    data: { values },
    mark: "rect",
    encoding: {
      x: { field: "a", type: "nominal", sort: [...names], title: null },
      y: { field: "b", type: "nominal", sort: [...names], title: null },
      color: { field: "similarity", type: "quantitative", scale: { scheme: "blues" } },
      tooltip: [{ field: "a", type: "nominal" }, { field: "b", type: "nominal" }, { field: "similarity", type: "quantitative", format: ".2f" }],
    },
  };
}

/** The two-level layer at each budget against the flat decomposed layer (classes x k multiply-adds). */
export function twoLevelTable(cells: readonly TwoLevelCell[], flat: HeadCells, classes: number, grouping: string): TableSource {
  return plainTable(
    ["grouping", "features per group", "features per class", "two-level A (%)", "multiply-adds per image", "flat A_d at the same k (%)", "flat multiply-adds", PAPER_COLUMN],
    cells.map((c) => {
      const same = flat.cells.find((x) => x.k === c.k);
      return [grouping, c.groupK, c.k, pct(c.accuracy), c.macs.toFixed(1), same === undefined ? null : pct(same.keep), classes * c.k, "not studied (future work)"];
    }),
  );
}

/** What the numbers say: depth within each network, the last stage against the network's own head, the tree. */
export function insideConclusion(runs: readonly { model: string; results: readonly StageResult[]; head: HeadCells }[], k: number, trees: readonly ClassTree[], twoLevel: readonly TwoLevelCell[], flat: HeadCells, classes: number): string {
  const lines = runs.map(({ model, results, head }) => {
    const rA = results.map((r) => {
      const c = r.cells.find((x) => x.k === k)!;
      return { stage: r.stage, keep: c.keep / r.probeAccuracy, refit: c.refit === null ? null : c.refit / r.probeAccuracy, probe: r.probeAccuracy };
    });
    const rising = (xs: (number | null)[]) => xs.every((v, i) => i === 0 || v === null || xs[i - 1] === null || v >= xs[i - 1]!);
    const headCell = head.cells.find((x) => x.k === k)!;
    const last = results[results.length - 1];
    return (
      `- **${model}**: probe accuracy ${rA.map((r) => `${r.stage} ${pct(r.probe).toFixed(1)} %`).join(", ")}; r_A at k = ${k} refitted ${rA.map((r) => (r.refit === null ? "—" : r.refit.toFixed(3))).join(" → ")}` +
      ` (${rising(rA.map((r) => r.refit)) ? "rises with every stage" : "does not rise with every stage"}), kept ${rA.map((r) => r.keep.toFixed(3)).join(" → ")}` +
      ` (${rising(rA.map((r) => r.keep)) ? "rises with every stage" : "does not rise with every stage"}). At ${last.stage}, the probe's kept r_A is ${rA[rA.length - 1].keep.toFixed(3)} against ${(headCell.keep / head.fullAccuracy).toFixed(3)} with the network's own head.`
    );
  });
  const across = runs.map(({ model, results }) => {
    const c = results[results.length - 1].cells.find((x) => x.k === k)!;
    return `${model} ${(c.keep / results[results.length - 1].probeAccuracy).toFixed(3)}`;
  });
  if (runs.length > 1) lines.push(`- Across networks, the last stage's kept r_A at k = ${k}: ${across.join(", ")}.`);
  for (const t of trees) {
    lines.push(`- The ${t.similarity === "jaccard" ? "Jaccard" : "restricted-cosine"} tree cut in two has ARI ${t.ari.toFixed(3)} against vehicles / animals; ${(100 * t.pValue).toFixed(1)} % of ${t.randomAri.length} random trees do as well.`);
  }
  const flatAt = flat.cells.find((x) => x.k === k);
  const cheaper = twoLevel.filter((c) => flatAt !== undefined && c.macs < classes * k).sort((a, b) => b.accuracy - a.accuracy)[0];
  if (flatAt !== undefined && cheaper !== undefined) {
    lines.push(`- The best two-level layer under the flat layer's ${classes * k} multiply-adds (k = ${k}): ${cheaper.groupK} features per group and ${cheaper.k} per class, ${pct(cheaper.accuracy).toFixed(2)} % with ${cheaper.macs.toFixed(1)} multiply-adds, against the flat ${pct(flatAt.keep).toFixed(2)} %.`);
  }
  return lines.join("\n");
}
