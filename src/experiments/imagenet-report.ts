/**
 * Notebook 03's ImageNet part: the layout of the paper's Tables 2-6 (one row per model at k1 = k2 = k) with every
 * cell the paper prints beside ours, and Fig. 4 (r_A against the number of layers, one line per family, the CIFAR
 * ResNets as a family of their own, the paper's points overlaid). torchvision's published top-1 sits beside ours
 * as a check on the weights (its preset, not the paper's squash).
 */
import type { ChartSpec } from "../report/chart";
import { PAPER_IMAGENET } from "../report/paper";
import type { TableSource } from "../report/table";
import { type DepthEntry, measuredEntries } from "./depth";
import { ratio } from "./depth-report";
import type { ImageNetFamilyEntry } from "./imagenet";
import { plainTable } from "./sweep-report";

/**
 * Tables 2-6: n, k2 / c (c the number of classes, as the paper defines it), k2 / n, A_d, A_f, r_A, and the number
 * of distinct features over all S_y (ours only); then the paper's printed n, k2 / c, k2 / n, A_d, A_f, r_A for the
 * thirteen models it reports. Rows not measured keep the paper's cells and say why (once, where rows share it).
 */
export function imagenetFamilyTable(entries: readonly ImageNetFamilyEntry[]): TableSource {
  const rows = entries.map((e, i) => {
    const p = PAPER_IMAGENET[e.model];
    const head = [e.family, e.model, e.layers, e.width];
    const paper = p === undefined
      ? [null, null, null, null, null, null, "not in the paper"]
      : [p.n, String(p.k2OverC), String(p.k2OverN), (100 * p.decomposedAccuracy).toFixed(3), (100 * p.fullAccuracy).toFixed(3), String(p.accuracyRatio), p.nNote === undefined ? p.source : `${p.source}; n ${p.nNote}`];
    if (e.status === "unavailable") {
      const previous = entries[i - 1];
      const same = previous?.status === "unavailable" && previous.reason === e.reason;
      return [...head, null, null, null, null, null, null, null, e.torchvisionTop1, ...paper, same ? "not measured: as above" : `not measured: ${e.reason}`];
    }
    return [
      ...head, e.k, ratio(e.k / e.classes), ratio(e.k / e.width), e.distinctFeatures,
      100 * e.decomposedAccuracy, 100 * e.fullAccuracy, ratio(e.accuracyRatio), e.torchvisionTop1, ...paper,
      `measured: ${e.trainImages} training, ${e.testImages} validation images, ${e.recipe}`,
    ];
  });
  return plainTable(
    [
      "family", "model", "layers", "n", "k2", "k2 / c", "k2 / n", "distinct features in all S_y", "A_d (%)", "A_f (%)", "r_A", "torchvision top-1 (%)",
      "paper n", "paper k2 / c", "paper k2 / n", "paper A_d (%)", "paper A_f (%)", "paper r_A", "paper source", "status",
    ],
    rows,
  );
}

/**
 * Fig. 4: r_A against layers, one line per family; the CIFAR ResNets at k1 = k2 = cifarK from the depth study. With
 * `paperPoints` (default) the paper's r_A of Tables 2-6 are drawn as hollow diamonds, in the family's colour, at the
 * same layer counts.
 */
export function rAgainstLayersChart(imagenet: readonly ImageNetFamilyEntry[], cifar: readonly DepthEntry[], cifarK: number, title: string, paperPoints = true): ChartSpec {
  const paper = paperPoints
    ? imagenet.flatMap((e) => {
        const p = PAPER_IMAGENET[e.model];
        return p === undefined ? [] : [{ family: e.family, source: p.source, model: e.model, layers: e.layers, r_A: p.accuracyRatio }];
      })
    : [];
  const values = [
    ...imagenet.flatMap((e) => (e.status === "measured" ? [{ family: e.family, line: `${e.family}, k = ${e.k}`, model: e.model, layers: e.layers, r_A: e.accuracyRatio }] : [])),
    ...measuredEntries(cifar).flatMap((e) => {
      const row = e.result.rows.find((r) => r.k === cifarK);
      const family = "CIFAR-10 ResNet";
      return row === undefined ? [] : [{ family, line: `${family}, k = ${cifarK}`, model: e.model, layers: e.depth, r_A: row.accuracyRatio }];
    }),
  ];
  const tooltip = [
    { field: "line", type: "nominal", title: "measured" },
    { field: "model", type: "nominal" },
    { field: "layers", type: "quantitative" },
    { field: "r_A", type: "quantitative", format: ".4f" },
  ] as const;
  const x = { field: "layers", type: "quantitative", title: "layers (convolutions + linear)", scale: { zero: false } } as const;
  const y = { field: "r_A", type: "quantitative", title: "r_A = A_d / A_f", scale: { zero: false } } as const;
  const color = { field: "family", type: "nominal", title: null } as const;
  return {
    title,
    width: 560,
    height: 320,
    layer: [
      { data: { values }, mark: { type: "line", point: true } as const, encoding: { x, y, color, detail: { field: "line" }, tooltip: [...tooltip] } },
      ...(paper.length === 0
        ? []
        : [{
            data: { values: paper },
            mark: { type: "point", shape: "diamond", filled: false, size: 90 } as const,
            encoding: { x, y, color, tooltip: [{ field: "source", type: "nominal", title: "paper" } as const, ...tooltip.slice(1)] },
          }]),
    ],
  };
}
