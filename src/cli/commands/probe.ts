/** `decomp probe`: a linear probe on a stage's pooled features, and Algorithm 1 read through it (notebook 09's steps 1-3). */
import { analyseStages, DEFAULT_SETUP, loadStageData, loadTreeStageData } from "../../experiments";
import { checkModelName, isModelFile } from "../../models/load";
import { modelEntry } from "../../models/registry";
import { pickStages } from "../../models/spec";
import { type Command, intOption, percent } from "../command";
import { stderrProgress } from "../progress";
import { dataSource, MODEL_OPTIONS } from "./model-options";

export const probeCommand: Command = {
  name: "probe",
  summary:
    "Fit a linear probe (multinomial logistic regression on channel-scaled, uncentred pooled features) at each stage of a model, run Algorithm 1 through it, and report the probe's accuracy, A_d kept and refitted, r_A, and Table 8's noise ablation per stage: CIFAR-10 models, or any registry or ONNX model on an image folder or ImageNet tree with --per-class. Stage features come from one cached pass for all stages.",
  options: {
    model: { type: "string", default: "resnet20", valueName: "NAME", description: "a CIFAR ResNet (resnet20 | resnet32 | resnet44 | resnet56 | resnet110) or, with --data, a torchvision ResNet; or a classifier's ONNX file" },
    weights: MODEL_OPTIONS.weights,
    data: { type: "string", default: "cifar10", valueName: "SOURCE", description: "cifar10, or an image tree: folder:DIR (ImageFolder's layout) or imagenet:DIR (ILSVRC-2012), with --per-class" },
    "train-dir": MODEL_OPTIONS["train-dir"],
    "test-dir": MODEL_OPTIONS["test-dir"],
    preprocess: MODEL_OPTIONS.preprocess,
    "per-class": { type: "string", valueName: "N", description: "image trees: the probes read the stage features of the first N training images of each class (all validation images are scored)" },
    stage: { type: "string", multiple: true, valueName: "NAME", description: "a stage to probe (repeatable; default every stage: layer1, layer2, layer3); for an ONNX file, the name of a feature map in its graph" },
    k: { type: "string", default: "5", valueName: "K[,K...]", description: "features per class (k1 = k2 = k), each at most the stage's channels" },
    "train-images": { type: "string", default: "50000", valueName: "N", description: "training images for the probes and Algorithm 1 (the first N of CIFAR-10's 50,000)" },
    "test-images": { type: "string", default: "10000", valueName: "N", description: "test images to score on" },
    refit: { type: "boolean", description: "also refit each probe on Algorithm 1's sets (slower)" },
    "noise-seeds": { type: "string", default: "5", valueName: "N", description: "noise draws of the per-stage noise ablation" },
  },
  async run(values, _positionals, ctx) {
    const model = String(values.model);
    checkModelName(model);
    const stageNames = Array.isArray(values.stage) ? values.stage.map(String) : undefined;
    const ks = String(values.k).split(",").map((s) => {
      const k = Number(s.trim());
      if (!Number.isInteger(k) || k < 1) throw new Error(`--k takes positive integers separated by commas, got '${values.k}'`);
      return k;
    });
    const source = dataSource(String(values.data), values);
    const perClass = intOption(values, "per-class", 1) ?? null;
    if (source.kind === "cifar10" && perClass !== null) throw new Error("--per-class is for image trees (--data folder:DIR or imagenet:DIR); on CIFAR-10 give --train-images");
    if (source.kind !== "cifar10" && perClass === null) throw new Error(`--data ${values.data}: give --per-class N, the training images per class whose stage features the probes read (a tree's whole training split would not fit in memory at every stage)`);
    if (isModelFile(model)) {
      // An imported graph's stage widths are known once its first run measures them; k is checked against them then.
      if (stageNames === undefined) throw new Error(`${model} is a graph without named stages: name its feature maps with --stage TENSOR (repeatable)`);
    } else {
      const entry = modelEntry(model);
      if ((entry.kind === "cifar-resnet") !== (source.kind === "cifar10")) {
        throw new Error(entry.kind === "cifar-resnet" ? `${model} is a CIFAR-10 model; probe it without --data` : `${model} is an ImageNet model: give its data with --data folder:DIR or imagenet:DIR and --per-class N`);
      }
      for (const s of pickStages(entry.buildSpec(), stageNames)) {
        const wide = ks.find((k) => k > s.channels);
        if (wide !== undefined) throw new Error(`--k ${wide} is larger than stage ${s.name}'s ${s.channels} channels; use k from 1 to ${s.channels}`);
      }
    }
    const trainImages = intOption(values, "train-images", 1) as number;
    const testImages = intOption(values, "test-images", 1) as number;
    const noiseSeeds = Array.from({ length: intOption(values, "noise-seeds", 1) as number }, (_, i) => i);
    const onProgress = stderrProgress();
    const data = source.kind === "cifar10"
      ? await loadStageData({ ...DEFAULT_SETUP, model, trainImages, testImages }, onProgress, stageNames)
      : await loadTreeStageData({ model, weights: typeof values.weights === "string" ? values.weights : undefined, data: source, perClass: perClass!, stages: stageNames, preprocessing: String(values.preprocess), onProgress });
    const results = analyseStages(data, { ks, refit: values.refit === true, noiseK: ks[0], noiseSeeds, onProgress });
    for (const r of results) {
      const cells = r.cells.map((c) => `k=${c.k} A_d ${percent(c.keep).toFixed(2)}% (r_A ${(c.keep / r.probeAccuracy).toFixed(3)})${c.refit === null ? "" : `, refitted ${percent(c.refit).toFixed(2)}% (r_A ${(c.refit / r.probeAccuracy).toFixed(3)})`}`);
      ctx.log(
        `${model} ${r.stage} (${r.width} channels): probe ${percent(r.probeAccuracy).toFixed(2)}% test, ${percent(r.probeTrainAccuracy).toFixed(2)}% train; ${cells.join("; ")}; ` +
          `noise k=${ks[0]}: set ${percent(r.noise.influential.mean).toFixed(2)}%, rest ${percent(r.noise.others.mean).toFixed(2)}% (${noiseSeeds.length} seeds)`,
      );
    }
    const { setup } = data;
    ctx.log(
      source.kind === "cifar10"
        ? `features by ${data.backend}; ${setup.trainImages} training images (augmented, seed ${DEFAULT_SETUP.trainAugmentSeed}), ${setup.testImages} test images, cifar normalisation`
        : `features by ${data.backend}; ${setup.trainImages} training images (the first ${perClass} per class), ${setup.testImages} validation images, ${setup.norm} normalisation`,
    );
    return {
      model, data: source.kind, backend: data.backend, trainImages: setup.trainImages, testImages: setup.testImages, ks,
      stages: results.map((r) => ({
        stage: r.stage, channels: r.width, probeAccuracy: percent(r.probeAccuracy), probeTrainAccuracy: percent(r.probeTrainAccuracy),
        cells: r.cells.map((c) => ({ k: c.k, keep: percent(c.keep), refit: c.refit === null ? null : percent(c.refit), rAKeep: c.keep / r.probeAccuracy })),
        noise: { influential: percent(r.noise.influential.mean), others: percent(r.noise.others.mean) },
        meanSelectivity: r.selectivity.reduce((s, v) => s + v, 0) / r.width,
      })),
    };
  },
};
