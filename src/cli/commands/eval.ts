/** `decomp eval`: full-layer test accuracy of a pretrained model, and the decomposed accuracy of an index map. */
import { CIFAR10_CLASSES } from "../../data";
import { cifarSpec, featureMatrix, finalLayer, getFeatures, loadForCifar, logitAccuracy } from "../../features";
import { evaluateDecomposed } from "../../method";
import { type Command, percent } from "../command";
import { stderrProgress } from "../progress";
import { evalImageNet } from "./imagenet";
import { readIndexMapFile } from "./index-map-file";
import { MODEL_OPTIONS, modelChoice } from "./model-options";

export const evalCommand: Command = {
  name: "eval",
  summary:
    "Evaluate a model on the CIFAR-10 test set (resized as its preprocessing says) or, with --data imagenet:DIR, on an ImageNet validation split: full accuracy, and with --indices the decomposed accuracy of an index map ({\"<class>\": [indices...]}, keys class numbers or names).",
  options: {
    ...MODEL_OPTIONS,
    indices: { type: "string", valueName: "FILE", description: "JSON index map to evaluate as a decomposed final layer" },
  },
  async run(values, _positionals, ctx) {
    const choice = modelChoice(values);
    if (choice.data.kind !== "cifar10") return evalImageNet(values, choice, ctx);
    const onProgress = stderrProgress();
    // The weights and the map are read and checked against the model's shape before any feature is extracted.
    const spec = await cifarSpec(choice);
    const sets = typeof values.indices === "string" ? readIndexMapFile(values.indices, { classes: spec.classes, features: spec.featureWidth }, CIFAR10_CLASSES) : null;
    const pretrained = await loadForCifar({ ...choice, onProgress });
    const test = await getFeatures({ ...choice, pretrained, split: "test", augmentSeed: null, onProgress });
    const accuracy = percent(logitAccuracy(test));
    // A published accuracy belongs to the registry's checkpoint on its own dataset only.
    const published = pretrained.kind === "registry" && pretrained.registryWeights && pretrained.entry.dataset === "cifar10" ? percent(pretrained.entry.publishedAccuracy) : null;
    const input = test.recipe === undefined ? "" : `${test.recipe}, `;
    ctx.log(
      `${choice.model} (${input}${choice.norm} normalisation, ${test.backend}${choice.weights === undefined ? "" : `, weights ${choice.weights}`}): ` +
        `top-1 ${accuracy.toFixed(2)}% on ${test.count} test images${published === null ? "" : ` (published: ${published.toFixed(2)}%)`}`,
    );
    const result: Record<string, unknown> = {
      model: choice.model, weights: choice.weights ?? null, preprocessing: test.recipe ?? "native", norm: choice.norm, backend: test.backend,
      classes: test.classes, featureWidth: test.width, images: test.count, accuracy, publishedAccuracy: published,
    };
    if (sets !== null) {
      const ev = evaluateDecomposed(featureMatrix(test), test.labels, finalLayer(test), sets);
      Object.assign(result, {
        indices: values.indices,
        fullLayerAccuracy: percent(ev.fullAccuracy),
        decomposedAccuracy: percent(ev.decomposedAccuracy),
        rA: ev.accuracyRatio,
        macs: ev.macs,
      });
      ctx.log(`decomposed (${values.indices}): ${percent(ev.decomposedAccuracy).toFixed(2)}%, r_A = ${ev.accuracyRatio.toFixed(4)}, multiply-adds ${ev.macs.decomposed} vs ${ev.macs.full}`);
    }
    return result;
  },
};
