/** `decomp select`: Algorithm 1 on the training split of any source, the resulting index map, and its decomposed accuracy. */
import * as fs from "node:fs";
import * as path from "node:path";
import { decompose } from "../../experiments/decompose";
import { indexMapToJson } from "../../method";
import { modelName } from "../../models/load";
import { type Command, intOption, percent } from "../command";
import { stderrProgress } from "../progress";
import { MODEL_OPTIONS, modelChoice } from "./model-options";

export const selectCommand: Command = {
  name: "select",
  summary:
    "Run Algorithm 1 (top-k1 features per training image, top-k2 most frequent per class) on the training split (CIFAR-10, an ImageNet tree with --data imagenet:DIR, or an image folder with --data folder:DIR), write the index map, and report the decomposed accuracy A_d on the evaluation split and r_A = A_d / A_f.",
  options: {
    ...MODEL_OPTIONS,
    k1: { type: "string", default: "5", valueName: "K", description: "features kept per training image" },
    k2: { type: "string", default: "5", valueName: "K", description: "influential features kept per class" },
    augment: { type: "string", valueName: "SEED", description: "CIFAR-10: extract training features from crop+flip augmented images with this seed (plain images if absent)" },
    "rank-depth": { type: "string", valueName: "R", description: "ImageNet and image folders: feature indices kept per training image (default max(k1, 50))" },
    out: { type: "string", valueName: "FILE", description: "write the index map as JSON here" },
  },
  async run(values, _positionals, ctx) {
    const choice = modelChoice(values);
    const onProgress = stderrProgress();
    const augmentSeed = intOption(values, "augment", 0) ?? null;
    const k1 = intOption(values, "k1") as number;
    const k2 = intOption(values, "k2") as number;
    if (augmentSeed !== null && choice.data.kind !== "cifar10") throw new Error("--augment is for CIFAR-10; ImageNet and image-folder training images are used as the preprocessing gives them");
    const out = typeof values.out === "string" ? values.out : undefined;
    if (out !== undefined) checkWritable(out);
    // k, the model and the source's layout are checked before any checkpoint is read or long extraction starts.
    const d = await decompose({ ...choice, k1, k2, rankDepth: intOption(values, "rank-depth", 1), augmentSeed, onProgress });
    if (out !== undefined) {
      fs.writeFileSync(out, indexMapToJson(d.sets, { classes: d.layer.classes, features: d.featureWidth }));
      ctx.log(`index map written to ${out}`);
    }
    const trainImages = augmentSeed === null ? "plain" : `augmented (seed ${augmentSeed})`;
    ctx.log(
      `${modelName(d.pretrained)}${choice.weights === undefined ? "" : ` (weights ${choice.weights})`} on ${choice.data.kind === "cifar10" ? "CIFAR-10" : choice.data.root}, k1=${k1}, k2=${k2}, ` +
        `${d.trainImages} ${trainImages} training images, ${d.recipe}, ${choice.norm} normalisation (${d.backend.val ?? "cached"}): ` +
        `A_f ${percent(d.fullAccuracy).toFixed(2)}%, A_d ${percent(d.decomposedAccuracy).toFixed(2)}%, r_A ${d.accuracyRatio.toFixed(4)}, ` +
        `multiply-adds ${d.macs.decomposed} vs ${d.macs.full} (${d.test.features.rows} evaluation images)`,
    );
    return {
      model: choice.model, data: choice.data.kind, weights: choice.weights ?? null, preprocessing: d.recipe, norm: choice.norm, backend: d.backend.val, k1, k2, augmentSeed,
      rankDepth: d.rankDepth, trainImages: d.trainImages, testImages: d.test.features.rows, fullAccuracy: percent(d.fullAccuracy), decomposedAccuracy: percent(d.decomposedAccuracy),
      rA: d.accuracyRatio, macs: d.macs, indices: Object.fromEntries(d.sets.map((s, c) => [String(c), [...s]])), caches: d.caches,
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
