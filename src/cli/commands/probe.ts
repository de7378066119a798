/** `decomp probe`: a linear probe on a stage's pooled features, and Algorithm 1 read through it (notebook 09's steps 1-3). */
import { analyseStages, DEFAULT_SETUP, loadStageData } from "../../experiments";
import { checkModelName, isModelFile } from "../../models/load";
import { modelEntry } from "../../models/registry";
import { pickStages } from "../../models/spec";
import { type Command, intOption, percent } from "../command";
import { stderrProgress } from "../progress";

export const probeCommand: Command = {
  name: "probe",
  summary:
    "Fit a linear probe (multinomial logistic regression on channel-scaled, uncentred pooled features) at a stage of a CIFAR-10 model, run Algorithm 1 through it, and report the probe's accuracy, A_d kept and refitted, r_A, and Table 8's noise ablation per stage. Stage features come from one cached pass for all stages.",
  options: {
    model: { type: "string", default: "resnet20", valueName: "NAME", description: "a CIFAR ResNet of the registry (resnet20 | resnet32 | resnet44 | resnet56 | resnet110), or a CIFAR-10 classifier's ONNX file" },
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
    if (isModelFile(model)) {
      // An imported graph's stage widths are known once its first run measures them; k is checked against them then.
      if (stageNames === undefined) throw new Error(`${model} is a graph without named stages: name its feature maps with --stage TENSOR (repeatable)`);
    } else {
      const entry = modelEntry(model);
      if (entry.kind !== "cifar-resnet") throw new Error(`decomp probe runs on CIFAR-10, so it takes a CIFAR ResNet or a CIFAR-10 model's ONNX file (${model} is an ImageNet model)`);
      for (const s of pickStages(entry.buildSpec(10), stageNames)) {
        const wide = ks.find((k) => k > s.channels);
        if (wide !== undefined) throw new Error(`--k ${wide} is larger than stage ${s.name}'s ${s.channels} channels; use k from 1 to ${s.channels}`);
      }
    }
    const trainImages = intOption(values, "train-images", 1) as number;
    const testImages = intOption(values, "test-images", 1) as number;
    const noiseSeeds = Array.from({ length: intOption(values, "noise-seeds", 1) as number }, (_, i) => i);
    const onProgress = stderrProgress();
    const data = await loadStageData({ ...DEFAULT_SETUP, model, trainImages, testImages }, onProgress, stageNames);
    const results = analyseStages(data, { ks, refit: values.refit === true, noiseK: ks[0], noiseSeeds, onProgress });
    for (const r of results) {
      const cells = r.cells.map((c) => `k=${c.k} A_d ${percent(c.keep).toFixed(2)}% (r_A ${(c.keep / r.probeAccuracy).toFixed(3)})${c.refit === null ? "" : `, refitted ${percent(c.refit).toFixed(2)}% (r_A ${(c.refit / r.probeAccuracy).toFixed(3)})`}`);
      ctx.log(
        `${model} ${r.stage} (${r.width} channels): probe ${percent(r.probeAccuracy).toFixed(2)}% test, ${percent(r.probeTrainAccuracy).toFixed(2)}% train; ${cells.join("; ")}; ` +
          `noise k=${ks[0]}: set ${percent(r.noise.influential.mean).toFixed(2)}%, rest ${percent(r.noise.others.mean).toFixed(2)}% (${noiseSeeds.length} seeds)`,
      );
    }
    ctx.log(`features by ${data.backend}; ${trainImages} training images (augmented, seed ${DEFAULT_SETUP.trainAugmentSeed}), ${testImages} test images, cifar normalisation`);
    return {
      model, backend: data.backend, trainImages, testImages, ks,
      stages: results.map((r) => ({
        stage: r.stage, channels: r.width, probeAccuracy: percent(r.probeAccuracy), probeTrainAccuracy: percent(r.probeTrainAccuracy),
        cells: r.cells.map((c) => ({ k: c.k, keep: percent(c.keep), refit: c.refit === null ? null : percent(c.refit), rAKeep: c.keep / r.probeAccuracy })),
        noise: { influential: percent(r.noise.influential.mean), others: percent(r.noise.others.mean) },
        meanSelectivity: r.selectivity.reduce((s, v) => s + v, 0) / r.width,
      })),
    };
  },
};
