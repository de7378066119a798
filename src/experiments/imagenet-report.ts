/**
 * Notebook 03's ImageNet part: the layout of the paper's Tables 2-6 (one row per model at k1 = k2 = k) and Fig. 4
 * (r_A against the number of layers, one line per family, the CIFAR ResNets as a family of their own). The
 * paper's per-model values are not recorded in src/report/paper.ts except ResNet50's A_f (the no-noise value of
 * its Table 8), so that is the only paper number in the table; torchvision's published top-1 sits beside ours
 * as a check on the weights (its preset, not the paper's squash).
 */
import type { ChartSpec } from "../report/chart";
import { PAPER } from "../report/paper";
import { PAPER_COLUMN, type TableSource } from "../report/table";
import { type DepthEntry, measuredEntries } from "./depth";
import type { ImageNetFamilyEntry } from "./imagenet";
import { plainTable } from "./sweep-report";

const PAPER_AF: Record<string, { value: number; source: string }> = {
  resnet50: { value: PAPER.resnet50NoiseOriginal.value, source: `A_f: ${PAPER.resnet50NoiseOriginal.source}, no noise` },
};

/** Tables 2-6: n, k2 / c (c = distinct features over all S_y), k2 / n, A_d, A_f, r_A; unavailable rows say why (once, where rows share it). */
export function imagenetFamilyTable(entries: readonly ImageNetFamilyEntry[]): TableSource {
  const ratio = (x: number) => x.toFixed(4);
  const rows = entries.map((e, i) => {
    const paper = PAPER_AF[e.model];
    const head = [e.family, e.model, e.layers, e.width];
    const tail = [e.torchvisionTop1, paper?.value ?? null, paper?.source ?? ""];
    if (e.status === "unavailable") {
      const previous = entries[i - 1];
      const same = previous?.status === "unavailable" && previous.reason === e.reason;
      return [...head, null, null, null, null, null, null, null, ...tail, same ? "not measured: as above" : `not measured: ${e.reason}`];
    }
    return [
      ...head, e.k, e.distinctFeatures, ratio(e.k / e.distinctFeatures), ratio(e.k / e.width),
      100 * e.decomposedAccuracy, 100 * e.fullAccuracy, ratio(e.accuracyRatio), ...tail,
      `measured: ${e.trainImages} training, ${e.testImages} validation images, ${e.recipe}`,
    ];
  });
  return plainTable(
    ["family", "model", "layers", "n", "k2", "c", "k2 / c", "k2 / n", "A_d (%)", "A_f (%)", "r_A", "torchvision top-1 (%)", PAPER_COLUMN, "paper source", "status"],
    rows,
  );
}

/** Fig. 4: r_A against layers, one line per family; the CIFAR ResNets at k1 = k2 = cifarK from the depth study. */
export function rAgainstLayersChart(imagenet: readonly ImageNetFamilyEntry[], cifar: readonly DepthEntry[], cifarK: number, title: string): ChartSpec {
  const values = [
    ...imagenet.flatMap((e) => (e.status === "measured" ? [{ family: `${e.family}, k = ${e.k}`, model: e.model, layers: e.layers, r_A: e.accuracyRatio }] : [])),
    ...measuredEntries(cifar).flatMap((e) => {
      const row = e.result.rows.find((r) => r.k === cifarK);
      return row === undefined ? [] : [{ family: `CIFAR-10 ResNet, k = ${cifarK}`, model: e.model, layers: e.depth, r_A: row.accuracyRatio }];
    }),
  ];
  return {
    title,
    width: 560,
    height: 320,
    data: { values },
    mark: { type: "line", point: true },
    encoding: {
      x: { field: "layers", type: "quantitative", title: "layers (convolutions + linear)", scale: { zero: false } },
      y: { field: "r_A", type: "quantitative", title: "r_A = A_d / A_f", scale: { zero: false } },
      color: { field: "family", type: "nominal", title: null },
      tooltip: [
        { field: "model", type: "nominal" },
        { field: "layers", type: "quantitative" },
        { field: "r_A", type: "quantitative", format: ".4f" },
      ],
    },
  };
}
