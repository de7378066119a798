/** `decomp eval`: full-layer accuracy of a model on the evaluation split of any source, and the decomposed accuracy of an index map. */
import { evaluationSplit, sourceShape } from "../../experiments/decompose";
import { accuracy, evaluateDecomposed, predictFromLogits } from "../../method";
import { modelName } from "../../models/load";
import { type Command, percent } from "../command";
import { stderrProgress } from "../progress";
import { readIndexMapFile } from "./index-map-file";
import { MODEL_OPTIONS, modelChoice } from "./model-options";

export const evalCommand: Command = {
  name: "eval",
  summary:
    "Evaluate a model on the CIFAR-10 test set (resized as its preprocessing says), an ImageNet validation split (--data imagenet:DIR) or an image folder's (--data folder:DIR): full accuracy, and with --indices the decomposed accuracy of an index map ({\"<class>\": [indices...]}, keys class numbers or names).",
  options: {
    ...MODEL_OPTIONS,
    indices: { type: "string", valueName: "FILE", description: "JSON index map to evaluate as a decomposed final layer" },
  },
  async run(values, _positionals, ctx) {
    const choice = modelChoice(values);
    const onProgress = stderrProgress();
    // The map is read and checked against the model's shape and the source's classes before any feature is extracted.
    const shape = await sourceShape({ ...choice, onProgress });
    const sets = typeof values.indices === "string" ? readIndexMapFile(values.indices, { classes: shape.classes.length, features: shape.featureWidth }, shape.classes) : null;
    const val = await evaluationSplit({ ...choice, onProgress });
    const { test, layer } = val;
    const top1 = percent(accuracy(predictFromLogits(val.logits, test.features.rows, layer.classes), test.labels));
    // A published accuracy belongs to the registry's checkpoint on its own dataset only.
    const p = val.pretrained;
    const published = p.kind === "registry" && p.registryWeights && p.entry.dataset === choice.data.kind && p.entry.publishedAccuracy !== null ? percent(p.entry.publishedAccuracy) : null;
    ctx.log(
      `${modelName(p)} (${val.recipe}, ${choice.norm} normalisation, ${val.backend ?? "cached"}${choice.weights === undefined ? "" : `, weights ${choice.weights}`}): ` +
        `top-1 ${top1.toFixed(2)}% on ${test.features.rows} ${choice.data.kind === "cifar10" ? "test" : "validation"} images of ${layer.classes} classes${published === null ? "" : ` (published: ${published.toFixed(2)}%)`}`,
    );
    const result: Record<string, unknown> = {
      model: choice.model, data: choice.data.kind, weights: choice.weights ?? null, preprocessing: val.recipe, norm: choice.norm, backend: val.backend,
      classes: layer.classes, featureWidth: layer.features, images: test.features.rows, accuracy: top1, publishedAccuracy: published, cache: val.cache,
    };
    if (sets !== null) {
      const ev = evaluateDecomposed(test.features, test.labels, layer, sets);
      Object.assign(result, { indices: values.indices, fullLayerAccuracy: percent(ev.fullAccuracy), decomposedAccuracy: percent(ev.decomposedAccuracy), rA: ev.accuracyRatio, macs: ev.macs });
      ctx.log(`decomposed (${values.indices}): ${percent(ev.decomposedAccuracy).toFixed(2)}%, r_A = ${ev.accuracyRatio.toFixed(4)}, multiply-adds ${ev.macs.decomposed} vs ${ev.macs.full}`);
    }
    return result;
  },
};
