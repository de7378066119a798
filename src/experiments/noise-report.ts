/** Table and chart for notebook 06 (paper Table 8): our noise ablation beside the paper's rows. */
import type { MeanInterval } from "../method";
import type { ChartSpec } from "../report/chart";
import { PAPER, type PaperKey } from "../report/paper";
import { PAPER_COLUMN, type TableSource } from "../report/table";
import type { NoiseAblationResult } from "./noise-ablation";
import { plainTable } from "./sweep-report";

export interface ModelAblation {
  model: string;
  result: NoiseAblationResult;
}

const CONDITIONS = ["original", "influential noised", "non-influential noised"] as const;

/** Table 8's rows for the models the paper reports (ResNet50: on ImageNet). */
const PAPER_ROWS: Record<string, [PaperKey, PaperKey, PaperKey]> = {
  resnet20: ["resnet20NoiseOriginal", "resnet20NoiseInfluential", "resnet20NoiseNonInfluential"],
  resnet50: ["resnet50NoiseOriginal", "resnet50NoiseInfluential", "resnet50NoiseNonInfluential"],
};

const fmt = (x: number) => (100 * x).toFixed(2);

/** Mean ± per-seed std [95 % interval of the mean], in %; one seed has no spread to show. */
export function formatInterval(a: MeanInterval): string {
  return a.n > 1 ? `${fmt(a.mean)} ± ${fmt(a.std)} [${fmt(a.low)}, ${fmt(a.high)}]` : `${fmt(a.mean)} (1 seed)`;
}

/** Where a paper value (%) falls against our interval of the mean (fractions): inside, above or below it. */
export function paperVersusInterval(paperPercent: number, a: MeanInterval): "inside" | "above" | "below" | "no interval (1 seed)" {
  if (a.n < 2) return "no interval (1 seed)";
  if (paperPercent > 100 * a.high) return "above";
  if (paperPercent < 100 * a.low) return "below";
  return "inside";
}

/**
 * One row per model and condition: accuracy with N(0, 1) noise as mean ± per-seed std with the 95 % interval
 * of the mean, with zeros instead (deterministic), the paper's value and where it falls against our interval;
 * then, when ResNet50 (ImageNet) is not among them, the paper's ResNet50 rows with `imagenetReason`.
 */
export function noiseTable(ablations: ModelAblation[], imagenetReason = "needs ImageNet"): TableSource {
  const rows = ablations.flatMap(({ model, result }) => {
    const paper = PAPER_ROWS[model];
    const noised = (["influential", "others"] as const).map((t) => result.noise[t].accuracy);
    const noise = [fmt(result.original.accuracy), ...noised.map(formatInterval)];
    const zero = [result.original.accuracy, result.zero.influential.accuracy, result.zero.others.accuracy];
    return CONDITIONS.map((condition, i) => [
      model,
      condition,
      noise[i],
      100 * zero[i],
      paper ? PAPER[paper[i]].value : null,
      // The unablated accuracy is deterministic: there is no interval to hold the paper's value against.
      paper && i > 0 ? paperVersusInterval(PAPER[paper[i]].value, noised[i - 1]) : "",
      paper ? PAPER[paper[i]].source : "",
    ]);
  });
  const measured50 = ablations.some((a) => a.model === "resnet50");
  const imagenet = measured50 ? [] : PAPER_ROWS.resnet50.map((key, i) => [
    "resnet50 (ImageNet)",
    CONDITIONS[i],
    `paper only: ${imagenetReason}`,
    null,
    PAPER[key].value,
    "",
    PAPER[key].source,
  ]);
  return plainTable(
    [
      "model",
      "condition",
      "ours, N(0,1) noise (%): mean ± per-seed std [95 % interval of the mean]",
      "ours, zeros (%)",
      PAPER_COLUMN,
      "paper's value vs our 95 % interval",
      "paper source",
    ],
    [...rows, ...imagenet],
  );
}

/** The notebook's conclusion for the models the paper reports: each noised condition against the paper's value. */
export function noiseConclusion(ablations: ModelAblation[]): string {
  const parts = ablations.flatMap(({ model, result }) => {
    const paper = PAPER_ROWS[model];
    if (!paper) return [];
    return (["influential", "others"] as const).map((t, i) => {
      const a = result.noise[t].accuracy;
      const p = PAPER[paper[i + 1]].value;
      const where = paperVersusInterval(p, a);
      const verdict = where === "inside" ? "inside it" : where === "no interval (1 seed)" ? "with no interval to compare (1 seed)" : `${where} it, by ${Math.abs(where === "above" ? p - 100 * a.high : 100 * a.low - p).toFixed(2)} points`;
      return `${model} ${CONDITIONS[i + 1]}: ours ${formatInterval(a)} % over ${a.n} seeds; the paper's ${p.toFixed(2)} % lies ${verdict}`;
    });
  });
  return parts.join("; ");
}

/**
 * Per-class accuracy (%) of the three conditions, as grouped bars, for every model run; a dropdown (param
 * `modelPick`, starting at `model`) switches models in the exported report, the static rendering shows `model`.
 */
export function perClassNoiseChart(ablations: ModelAblation[], classNames: readonly string[], model = ablations[0]?.model): ChartSpec {
  if (!ablations.some((a) => a.model === model)) throw new Error(`model "${model}" is not among the ablations run: ${ablations.map((a) => a.model).join(", ")}`);
  const values = ablations.flatMap(({ model: m, result }) => {
    const series: [string, Float64Array][] = [
      [CONDITIONS[0], result.original.perClass],
      [CONDITIONS[1], result.noise.influential.perClass],
      [CONDITIONS[2], result.noise.others.perClass],
    ];
    if (series.some(([, v]) => v.length !== classNames.length)) {
      throw new Error(`got ${classNames.length} class names for ${result.original.perClass.length} classes`);
    }
    return series.flatMap(([condition, perClass]) => Array.from(perClass, (acc, y) => ({ model: m, className: classNames[y], condition, accuracy: 100 * acc })));
  });
  const seeds = ablations.find((a) => a.model === model)!.result.seeds.length;
  return {
    title: { text: { expr: `modelPick + ': per-class accuracy with N(0,1) noise (mean over ${seeds} seed${seeds > 1 ? "s" : ""})'` } },
    width: 640,
    height: 260,
    params: [{ name: "modelPick", value: model, bind: { input: "select", options: ablations.map((a) => a.model), name: "model " } }],
    data: { values },
    transform: [{ filter: "datum.model === modelPick" }],
    mark: "bar",
    encoding: {
      x: { field: "className", type: "nominal", sort: [...classNames], title: null, axis: { labelAngle: -30 } },
      xOffset: { field: "condition", type: "nominal", sort: [...CONDITIONS] },
      y: { field: "accuracy", type: "quantitative", title: "accuracy (%)", scale: { domain: [0, 100] } },
      color: {
        field: "condition",
        type: "nominal",
        sort: [...CONDITIONS],
        scale: { range: ["#4c78a8", "#e45756", "#72b7b2"] },
        legend: { labelLimit: 240 },
        title: null,
      },
      tooltip: [
        { field: "model", type: "nominal" },
        { field: "className", type: "nominal" },
        { field: "condition", type: "nominal" },
        { field: "accuracy", type: "quantitative", format: ".2f" },
      ],
    },
  };
}
