/** `decomp eval`: full-layer test accuracy of a pretrained model, and the decomposed accuracy of an index map. */
import * as fs from "node:fs";
import { CIFAR10_CLASSES } from "../../data";
import { cifarSpec, featureMatrix, finalLayer, getFeatures, loadForCifar, logitAccuracy } from "../../features";
import { evaluateDecomposed, type IndexSets, parseIndexMap } from "../../method";
import type { ModelSpec } from "../../models/spec";
import { type Command, percent } from "../command";
import { stderrProgress } from "../progress";
import { evalImageNet } from "./imagenet";
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
    if (choice.data.kind === "imagenet") return evalImageNet(values, choice, ctx);
    const onProgress = stderrProgress();
    // The weights and the map are read and checked against the model's shape before any feature is extracted.
    const sets = typeof values.indices === "string" ? readIndexMap(values.indices, cifarSpec(choice)) : null;
    const pretrained = await loadForCifar({ ...choice, onProgress });
    const test = await getFeatures({ ...choice, pretrained, split: "test", augmentSeed: null, onProgress });
    const accuracy = percent(logitAccuracy(test));
    // A published accuracy belongs to the registry's checkpoint on its own dataset only.
    const published = pretrained.registryWeights && pretrained.entry.dataset === "cifar10" ? percent(pretrained.entry.publishedAccuracy) : null;
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

/** An index-map file parsed and validated against the model's classes and feature width, naming the file in every error. */
function readIndexMap(file: string, spec: ModelSpec): IndexSets {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (err) {
    throw new Error(`--indices ${file}: cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); pass the JSON file 'decomp select --out' wrote`);
  }
  const keyedByName = /"[a-z]/.test(text);
  try {
    return parseIndexMap(text, { classes: spec.classes, features: spec.featureWidth, classNames: keyedByName ? CIFAR10_CLASSES : undefined });
  } catch (err) {
    throw new Error(`--indices ${file}: ${(err as Error).message}`);
  }
}
