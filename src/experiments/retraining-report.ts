/**
 * Tables and the training-curve chart for notebook 04 (retraining), built from fineTune's history, retrainHead's
 * result and the head cost measurements. Accuracies are shown in percent.
 */
import type { ChartSpec } from "../report/chart";
import { comparisonFrame, type ComparisonRow, paperClaimsFrame } from "../report/frames";
import { PAPER, type PaperKey } from "../report/paper";
import { PAPER_COLUMN, type TableSource } from "../report/table";
import type { FineTuneHistory } from "../training";
import type { ImageNetRetraining } from "./imagenet";
import type { HeadLatency } from "./retraining";
import { plainTable } from "./sweep-report";

const pct = (x: number) => 100 * x;

export interface RetrainingOutcome {
  /** A_f of the pretrained network's full final layer on the test features. */
  fullAccuracy: number;
  fineTune: {
    /** Entry e: A_d after e epochs (entry 0 before training), as in FineTuneHistory. */
    testAccuracy: number[];
    trainImages: number;
    /** Size of the whole training split, to say when only part of it was used. */
    splitImages: number;
  };
  head: {
    /** Entry e: A_d after e head-only epochs (entry 0 before), as in HeadRetrainResult. */
    testAccuracy: number[];
  };
  /** The paper's numbers are for ResNet20 with k1 = k2 = 5; anything else gets an empty paper column. */
  paperApplies: boolean;
}

function imagesLabel(trainImages: number, splitImages: number): string {
  return trainImages >= splitImages ? `all ${trainImages} training images` : `${trainImages} of ${splitImages} training images`;
}

/** Markdown saying how many training images the fine-tune used, loudly when it was not the whole split. */
export function fineTuneImagesNote(trainImages: number, splitImages: number): string {
  return trainImages >= splitImages
    ? `The fine-tune used ${imagesLabel(trainImages, splitImages)}.`
    : `**Reduced run: the fine-tune used only the first ${trainImages} of the ${splitImages} training images**, so each epoch here is ${trainImages} images, not a full epoch as in the paper.`;
}

/** Before, after each fine-tune epoch and after head-only retraining, beside the paper's 88.59 -> 91.51. */
export function retrainingTable(outcome: RetrainingOutcome): TableSource {
  const paper = (key: PaperKey) => (outcome.paperApplies ? key : undefined);
  const tuned = outcome.fineTune;
  const head = outcome.head.testAccuracy;
  if (tuned.testAccuracy.length === 0 || head.length === 0) throw new Error("the retraining table needs the accuracy before training (entry 0) of both runs");
  const rows: ComparisonRow[] = [
    { quantity: "A_f, full layer, pretrained (%)", ours: pct(outcome.fullAccuracy), paper: paper("resnet20FullAccuracy") },
    { quantity: "A_d before retraining (%)", ours: pct(tuned.testAccuracy[0]), paper: paper("resnet20DecomposedK5") },
  ];
  tuned.testAccuracy.slice(1).forEach((a, i) => {
    rows.push({
      quantity: `A_d after full fine-tune, epoch ${i + 1} on ${imagesLabel(tuned.trainImages, tuned.splitImages)} (%)`,
      ours: pct(a),
      paper: i === 0 ? paper("resnet20FineTunedOneEpoch") : undefined,
    });
  });
  const headEpochs = head.length - 1;
  if (headEpochs >= 1) rows.push({ quantity: "A_d after head-only retraining, 1 epoch (%)", ours: pct(head[1]) });
  if (headEpochs > 1) rows.push({ quantity: `A_d after head-only retraining, ${headEpochs} epochs (%)`, ours: pct(head[headEpochs]) });
  return comparisonFrame(rows);
}

/**
 * The ResNet50 ImageNet retraining beside the paper's 64.7 -> 73.91 (and A_f 74.55, Table 8's no-noise value):
 * ours per epoch when it ran, else the paper's rows alone with the ours column empty.
 */
export function imagenetRetrainingTable(run: ImageNetRetraining | null): TableSource {
  if (run === null) return paperClaimsFrame(["resnet50NoiseOriginal", "resnet50DecomposedImageNet", "resnet50RetrainedImageNet"]);
  const paper = (key: PaperKey) => (run.model === "resnet50" ? key : undefined);
  const acc = run.result.history.testAccuracy;
  const images = `${run.trainImages} training images`;
  const rows: ComparisonRow[] = [
    { quantity: `${run.model} ImageNet, A_f, full layer (%)`, ours: pct(run.fullAccuracy), paper: paper("resnet50NoiseOriginal") },
    { quantity: `${run.model} ImageNet, A_d at k1 = k2 = ${run.k}, before retraining (%)`, ours: pct(acc[0]), paper: paper("resnet50DecomposedImageNet") },
    ...acc.slice(1).map((a, i) => ({ quantity: `A_d after retraining, epoch ${i + 1} on ${images} (%)`, ours: pct(a), paper: i === 9 ? paper("resnet50RetrainedImageNet") : undefined })),
  ];
  // The paper's "about 10 epochs" sits beside our tenth; a shorter run shows it on a row of its own.
  if (acc.length < 11) rows.push({ quantity: "A_d after about 10 epochs of retraining (%)", ours: null, paper: paper("resnet50RetrainedImageNet") });
  return comparisonFrame(rows);
}

/** The paper's cost of the last layer, 64 x 10 and 5 x 10 multiply-adds (ResNet20, k2 = 5). */
export const PAPER_HEAD_MACS = { full: 640, decomposed: 50 } as const;

export interface ComplexityInput {
  macs: { full: number; decomposed: number };
  backboneMacs: number;
  latency: HeadLatency[];
  paperApplies: boolean;
}

/** Multiply-adds per image and median latency per batch of the full and decomposed final layer, with the backbone for scale. */
export function complexityTable(input: ComplexityInput): TableSource {
  const { macs, backboneMacs, latency } = input;
  const share = (m: number) => pct(m / (backboneMacs + m));
  const columns = [
    "part of the network",
    "multiply-adds per image",
    `${PAPER_COLUMN}, multiply-adds`,
    "share of the network's multiply-adds (%)",
    ...latency.map((l) => `ms per batch of ${l.batchSize} (median of ${l.repeats})`),
  ];
  return plainTable(columns, [
    ["final layer, full", macs.full, input.paperApplies ? PAPER_HEAD_MACS.full : null, share(macs.full), ...latency.map((l) => l.fullMs)],
    ["final layer, decomposed", macs.decomposed, input.paperApplies ? PAPER_HEAD_MACS.decomposed : null, share(macs.decomposed), ...latency.map((l) => l.decomposedMs)],
    ["convolutions (backbone)", backboneMacs, null, pct(backboneMacs / (backboneMacs + macs.full)), ...latency.map(() => null)],
  ]);
}

/** Global batch index of each log entry: epochs follow each other, each epoch's last entry holds its batch count. */
function globalBatches(history: FineTuneHistory): { offsets: number[]; x: number[] } {
  const perEpoch = new Map<number, number>();
  for (const b of history.batches) perEpoch.set(b.epoch, Math.max(perEpoch.get(b.epoch) ?? 0, b.batch));
  const epochs = history.testAccuracy.length - 1;
  const offsets = [0];
  for (let e = 1; e <= epochs; e++) offsets.push(offsets[e - 1] + (perEpoch.get(e) ?? 0));
  return { offsets, x: history.batches.map((b) => offsets[b.epoch - 1] + b.batch) };
}

/**
 * Two panels over the batch index: training loss, and accuracy (training batches, test A_d after each epoch at
 * the epoch's last batch, the paper's before/after values as labelled dashed rules).
 */
export function trainingCurveChart(history: FineTuneHistory, title: string, paperApplies: boolean): ChartSpec {
  const { offsets, x } = globalBatches(history);
  const width = 620;
  const lossValues = history.batches.map((b, i) => ({ batch: x[i], loss: b.loss, epoch: b.epoch }));
  const accuracyValues = [
    ...history.batches.map((b, i) => ({ batch: x[i], accuracy: pct(b.accuracy), series: "training batches (augmented, BN train mode)" })),
    ...history.testAccuracy.map((a, e) => ({ batch: offsets[e], accuracy: pct(a), series: "test A_d (after each epoch; batch 0 = before)" })),
  ];
  const paperRules = paperApplies
    ? [
        { accuracy: PAPER.resnet20DecomposedK5.value, label: `paper: ${PAPER.resnet20DecomposedK5.value} before` },
        { accuracy: PAPER.resnet20FineTunedOneEpoch.value, label: `paper: ${PAPER.resnet20FineTunedOneEpoch.value} after 1 epoch` },
      ]
    : [];
  const xAxis = { field: "batch", type: "quantitative" as const, title: "batch (global index over epochs)", axis: { format: "d", tickMinStep: 1 } };
  // Per-point markers help a short run and clutter a full epoch's hundreds of batches.
  const point = history.batches.length <= 100;
  return {
    title,
    vconcat: [
      {
        width,
        height: 160,
        data: { values: lossValues },
        mark: { type: "line", point },
        encoding: {
          x: xAxis,
          y: { field: "loss", type: "quantitative", title: "training cross-entropy" },
          tooltip: [{ field: "batch", type: "quantitative" }, { field: "epoch", type: "quantitative" }, { field: "loss", type: "quantitative", format: ".4f" }],
        },
      },
      {
        width,
        height: 220,
        layer: [
          {
            data: { values: accuracyValues },
            mark: { type: "line", point },
            encoding: {
              x: xAxis,
              y: { field: "accuracy", type: "quantitative", title: "accuracy (%)", scale: { zero: false } },
              color: { field: "series", type: "nominal", title: null, legend: { orient: "bottom", direction: "vertical", labelLimit: 400 } },
              tooltip: [{ field: "series", type: "nominal" }, { field: "batch", type: "quantitative" }, { field: "accuracy", type: "quantitative", format: ".2f" }],
            },
          },
          ...(paperRules.length === 0
            ? []
            : [
                { data: { values: paperRules }, mark: { type: "rule" as const, strokeDash: [6, 4], color: "#8c6d00" }, encoding: { y: { field: "accuracy", type: "quantitative" as const } } },
                {
                  data: { values: paperRules },
                  mark: { type: "text" as const, align: "left" as const, dx: 4, dy: -6, color: "#8c6d00", fontStyle: "italic" },
                  encoding: { y: { field: "accuracy", type: "quantitative" as const }, x: { value: 0 }, text: { field: "label" } },
                },
              ]),
        ],
      },
    ],
  };
}
