/** `decomp eval`: full-layer test accuracy of a pretrained model, and the decomposed accuracy of an index map. */
import * as fs from "node:fs";
import { CIFAR10_CLASSES } from "../../data";
import { featureMatrix, finalLayer, getFeatures, logitAccuracy } from "../../features";
import { evaluateDecomposed, type IndexSets, parseIndexMap } from "../../method";
import { modelEntry } from "../../models/registry";
import { cifarResNetSpec } from "../../models/spec";
import { type Command, percent } from "../command";
import { stderrProgress } from "../progress";
import { MODEL_OPTIONS, modelChoice } from "./model-options";

export const evalCommand: Command = {
  name: "eval",
  summary:
    "Evaluate a pretrained model on the CIFAR-10 test set: full accuracy, and with --indices the decomposed accuracy of an index map ({\"<class>\": [indices...]}, keys class numbers or names).",
  options: {
    ...MODEL_OPTIONS,
    indices: { type: "string", valueName: "FILE", description: "JSON index map to evaluate as a decomposed final layer" },
  },
  async run(values, _positionals, ctx) {
    const choice = modelChoice(values);
    // The map is read and checked against the model's shape before any feature is extracted.
    const sets = typeof values.indices === "string" ? readIndexMap(values.indices, choice.model) : null;
    const test = await getFeatures({ ...choice, split: "test", augmentSeed: null, onProgress: stderrProgress() });
    const accuracy = percent(logitAccuracy(test));
    const published = percent(modelEntry(choice.model).publishedAccuracy);
    ctx.log(`${choice.model} (${choice.norm} normalisation, ${test.backend}): top-1 ${accuracy.toFixed(2)}% on ${test.count} test images (published: ${published.toFixed(2)}%)`);
    const result: Record<string, unknown> = { model: choice.model, norm: choice.norm, backend: test.backend, images: test.count, accuracy, publishedAccuracy: published };
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
function readIndexMap(file: string, model: string): IndexSets {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (err) {
    throw new Error(`--indices ${file}: cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); pass the JSON file 'decomp select --out' wrote`);
  }
  const spec = cifarResNetSpec(modelEntry(model).depth);
  const keyedByName = /"[a-z]/.test(text);
  try {
    return parseIndexMap(text, { classes: spec.classes, features: spec.featureWidth, classNames: keyedByName ? CIFAR10_CLASSES : undefined });
  } catch (err) {
    throw new Error(`--indices ${file}: ${(err as Error).message}`);
  }
}
