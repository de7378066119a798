/** `decomp select`: Algorithm 1 on the training split, the resulting index map, and its decomposed test accuracy. */
import * as fs from "node:fs";
import * as path from "node:path";
import { cifarSpec, featureMatrix, finalLayer, getFeatures, loadForCifar } from "../../features";
import { evaluateDecomposed, indexMapToJson, influentialSets, validateK } from "../../method";
import { type Command, intOption, percent } from "../command";
import { stderrProgress } from "../progress";
import { selectImageNet } from "./imagenet";
import { MODEL_OPTIONS, modelChoice } from "./model-options";

export const selectCommand: Command = {
  name: "select",
  summary:
    "Run Algorithm 1 (top-k1 features per training image, top-k2 most frequent per class) on the training split (CIFAR-10, or an ImageNet tree with --data imagenet:DIR), write the index map, and report the decomposed test accuracy A_d and r_A = A_d / A_f.",
  options: {
    ...MODEL_OPTIONS,
    k1: { type: "string", default: "5", valueName: "K", description: "features kept per training image" },
    k2: { type: "string", default: "5", valueName: "K", description: "influential features kept per class" },
    augment: { type: "string", valueName: "SEED", description: "extract training features from crop+flip augmented images with this seed (plain images if absent)" },
    out: { type: "string", valueName: "FILE", description: "write the index map as JSON here" },
  },
  async run(values, _positionals, ctx) {
    const choice = modelChoice(values);
    const onProgress = stderrProgress();
    const augmentSeed = intOption(values, "augment", 0) ?? null;
    const k1 = intOption(values, "k1") as number;
    const k2 = intOption(values, "k2") as number;
    if (choice.data.kind !== "cifar10") {
      if (augmentSeed !== null) throw new Error("--augment is for CIFAR-10; ImageNet training images are used as the preprocessing gives them");
      if (typeof values.out === "string") checkWritable(values.out);
      return selectImageNet(values, choice, k1, k2, typeof values.out === "string" ? values.out : undefined, ctx);
    }
    // Check k against the feature width before any checkpoint is read or long extraction starts.
    const width = (await cifarSpec(choice)).featureWidth;
    validateK("k1", k1, width);
    validateK("k2", k2, width);
    if (typeof values.out === "string") checkWritable(values.out);
    const pretrained = await loadForCifar({ ...choice, onProgress });
    const train = await getFeatures({ ...choice, pretrained, split: "train", augmentSeed, onProgress });
    const result = influentialSets(featureMatrix(train), train.labels, { classes: train.classes, k1, k2 });
    const shape = { classes: train.classes, features: train.width };
    if (typeof values.out === "string") {
      fs.writeFileSync(values.out, indexMapToJson(result.sets, shape));
      ctx.log(`index map written to ${values.out}`);
    }
    const test = await getFeatures({ ...choice, pretrained, split: "test", augmentSeed: null, onProgress });
    const ev = evaluateDecomposed(featureMatrix(test), test.labels, finalLayer(test), result.sets);
    const trainImages = augmentSeed === null ? "plain" : `augmented (seed ${augmentSeed})`;
    ctx.log(
      `${choice.model}${choice.weights === undefined ? "" : ` (weights ${choice.weights})`}, k1=${k1}, k2=${k2}, ${trainImages} training features, ` +
        `${test.recipe === undefined ? "" : `${test.recipe}, `}${choice.norm} normalisation (${test.backend}): ` +
        `A_f ${percent(ev.fullAccuracy).toFixed(2)}%, A_d ${percent(ev.decomposedAccuracy).toFixed(2)}%, r_A ${ev.accuracyRatio.toFixed(4)}, ` +
        `multiply-adds ${ev.macs.decomposed} vs ${ev.macs.full}`,
    );
    return {
      model: choice.model,
      weights: choice.weights ?? null,
      preprocessing: test.recipe ?? "native",
      norm: choice.norm,
      backend: test.backend,
      k1,
      k2,
      augmentSeed,
      trainImages: train.count,
      testImages: test.count,
      fullAccuracy: percent(ev.fullAccuracy),
      decomposedAccuracy: percent(ev.decomposedAccuracy),
      rA: ev.accuracyRatio,
      macs: ev.macs,
      indices: Object.fromEntries(result.sets.map((s, c) => [String(c), [...s]])),
    };
  },
};

/** --out must name a file in an existing folder: found out now, not after minutes of extraction. */
function checkWritable(file: string): void {
  const dir = path.dirname(path.resolve(file));
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new Error(`--out ${file}: the folder ${dir} does not exist; create it or choose another path`);
  if (fs.existsSync(file) && fs.statSync(file).isDirectory()) throw new Error(`--out ${file} is a folder; give a file name such as ${path.join(file, "map.json")}`);
  try {
    fs.accessSync(dir, fs.constants.W_OK);
  } catch {
    throw new Error(`--out ${file}: the folder ${dir} is not writable`);
  }
}
