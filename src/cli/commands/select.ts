/** `decomp select`: Algorithm 1 on the training split of any source, the resulting index map, and its decomposed accuracy. */
import * as fs from "node:fs";
import * as path from "node:path";
import { decompose } from "../../experiments/decompose";
import { accuracy, checkRule, evaluateDecomposed, indexMapToJson, predictDecomposed, refitSets, SELECTION_RULES, selectByRule } from "../../method";
import { loadCsg } from "../../training";
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
    rule: { type: "string", default: "algorithm1", valueName: "NAME", description: `how the k2 features per class are chosen: ${SELECTION_RULES.join(" | ")} (notebook 08 compares them; rules other than algorithm1 read the training features: on ImageNet and image folders give --per-class)` },
    "per-class": { type: "string", valueName: "N", description: "ImageNet and image folders: keep the features of the first N training images of each class (every rule and --refit read them; Algorithm 1 runs on the same sample)" },
    seed: { type: "string", valueName: "N", description: "the random rule's draw, the greedy rule's held-out split (default 0)" },
    gates: { type: "string", valueName: "FILE", description: "the csg rule: a model saved by decomp csg --out (DIR/model.dctn), whose gate matrix ranks the features" },
    refit: { type: "boolean", description: "also report A_d with the sets' weights and biases refitted by logistic regression on the training features" },
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
    const rule = checkRule(String(values.rule));
    const perClass = intOption(values, "per-class", 1) ?? null;
    if (perClass !== null && choice.data.kind === "cifar10") throw new Error("--per-class is for ImageNet and image folders; CIFAR-10's training features are kept whole");
    const tree = choice.data.kind !== "cifar10" && perClass === null;
    if (rule !== "algorithm1" && tree) throw new Error(`--rule ${rule} reads the training images' features, which an ImageNet or image-folder pass keeps only as top ranks; add --per-class N to keep the features of N training images per class, or use --rule algorithm1`);
    if (values.refit === true && tree) throw new Error("--refit fits on the training images' features, which an ImageNet or image-folder pass keeps only as top ranks; add --per-class N to keep the features of N training images per class");
    if (rule === "csg" && typeof values.gates !== "string") throw new Error("--rule csg needs --gates FILE: a model saved by decomp csg --out DIR (DIR/model.dctn)");
    const gates = rule === "csg" ? loadCsg(String(values.gates)).gates.data : undefined;
    // k, the model and the source's layout are checked before any checkpoint is read or long extraction starts.
    const algorithm1 = await decompose({ ...choice, k1, k2, rankDepth: intOption(values, "rank-depth", 1), augmentSeed, trainPerClass: perClass, onProgress });
    // Another rule chooses from the same training features and is scored on the same test features.
    const d = rule === "algorithm1" ? algorithm1 : (() => {
      const sets = selectByRule(rule, { features: algorithm1.trainingFeatures!, labels: algorithm1.training.labels, layer: algorithm1.layer }, { k: k2, k1, seed: intOption(values, "seed", 0) ?? 0, gates });
      const ev = evaluateDecomposed(algorithm1.test.features, algorithm1.test.labels, algorithm1.layer, sets);
      return { ...algorithm1, sets, decomposedAccuracy: ev.decomposedAccuracy, accuracyRatio: ev.accuracyRatio, macs: ev.macs };
    })();
    const refitted = values.refit === true
      ? accuracy(predictDecomposed(d.test.features, refitSets(d.trainingFeatures!, d.training.labels, d.layer, d.sets).layer, d.sets), d.test.labels)
      : null;
    if (out !== undefined) {
      fs.writeFileSync(out, indexMapToJson(d.sets, { classes: d.layer.classes, features: d.featureWidth }));
      ctx.log(`index map written to ${out}`);
    }
    const trainImages = perClass !== null ? `(the first ${perClass} per class)` : augmentSeed === null ? "plain" : `augmented (seed ${augmentSeed})`;
    ctx.log(
      `${modelName(d.pretrained)}${choice.weights === undefined ? "" : ` (weights ${choice.weights})`} on ${choice.data.kind === "cifar10" ? "CIFAR-10" : choice.data.root}, rule ${rule}, k1=${k1}, k2=${k2}, ` +
        `${d.trainImages} ${trainImages} training images, ${d.recipe}, ${choice.norm} normalisation (${d.backend.val ?? "cached"}): ` +
        `A_f ${percent(d.fullAccuracy).toFixed(2)}%, A_d ${percent(d.decomposedAccuracy).toFixed(2)}%, r_A ${d.accuracyRatio.toFixed(4)}, ` +
        `multiply-adds ${d.macs.decomposed} vs ${d.macs.full} (${d.test.features.rows} evaluation images)${refitted === null ? "" : `; refitted A_d ${percent(refitted).toFixed(2)}%`}`,
    );
    return {
      model: choice.model, data: choice.data.kind, weights: choice.weights ?? null, preprocessing: d.recipe, norm: choice.norm, backend: d.backend.val, rule, k1, k2, augmentSeed,
      rankDepth: d.rankDepth, trainImages: d.trainImages, testImages: d.test.features.rows, fullAccuracy: percent(d.fullAccuracy), decomposedAccuracy: percent(d.decomposedAccuracy),
      rA: d.accuracyRatio, refitAccuracy: refitted === null ? null : percent(refitted), macs: d.macs, indices: Object.fromEntries(d.sets.map((s, c) => [String(c), [...s]])), caches: d.caches,
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
