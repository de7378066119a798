/** `decomp csg`: train class-specific gates on a CIFAR ResNet and report Table 1's quantities. */
import * as fs from "node:fs";
import * as path from "node:path";
import { resolveCacheDir } from "../../artifacts";
import { writeFileAtomic } from "../../artifacts/atomic-write";
import { NORMALISATIONS } from "../../data";
import { SPLIT_SIZES } from "../../data/image-set";
import { runCsgExperiment, runCsgOnTree } from "../../experiments/csg";
import { cifarModelEntry, modelEntry } from "../../models/registry";
import { csgDefaults, type CsgHyperparameters, type CsgStart, resolveCsgHyperparameters, saveCsg } from "../../training";
import { type Command, intOption, numberOption, percent } from "../command";
import { stderrProgress } from "../progress";
import { dataSource, modelChoice, MODEL_OPTIONS } from "./model-options";

const pretrainedDefaults = csgDefaults("pretrained");

/** A torchvision model's description, refusing a CIFAR ResNet (those train on CIFAR-10, without --data). */
function torchvisionSpec(model: string) {
  const entry = modelEntry(model);
  if (entry.kind !== "torchvision") throw new Error(`${model} is a CIFAR ResNet: it trains on CIFAR-10 (leave --data out); image trees take torchvision's models (resnet18, resnet34, ...)`);
  return entry.buildSpec();
}

export const csgCommand: Command = {
  name: "csg",
  summary:
    "Train class-specific gates (CSG, Liang et al. 2020: the baseline of the paper's Table 1) on a CIFAR-10 ResNet, or on a torchvision ResNet over Tiny ImageNet or another image tree, from pretrained weights or from scratch, and print the STD and CSG path accuracy before and after, the gates' L1 density and the mutual information score (MIS); saves the weights and the gate matrix.",
  options: {
    model: MODEL_OPTIONS.model,
    norm: { type: "string", valueName: "NAME", description: `input normalisation: ${Object.keys(NORMALISATIONS).join(" | ")} (default: cifar on CIFAR-10; checkpoint, ImageNet's mean and std, on an image tree)` },
    data: { type: "string", default: "cifar10", valueName: "SOURCE", description: "cifar10 (the CIFAR ResNets), or an image tree for torchvision's ResNets: tiny-imagenet:DIR (Table 1's Tiny ImageNet rows; a folder or tiny-imagenet-200.zip), imagenet:DIR or folder:DIR" },
    "train-dir": MODEL_OPTIONS["train-dir"],
    "test-dir": MODEL_OPTIONS["test-dir"],
    weights: { type: "string", valueName: "FILE", description: "image trees, --from pretrained: the starting weights (default the registry's ImageNet checkpoint); a head with other classes is replaced by a fresh one (then 10 STD warm-up epochs of 20, unless set)" },
    limit: { type: "string", valueName: "N", description: "train on the first N training images and evaluate on the first N test images (quick looks)" },
    from: { type: "string", default: "pretrained", valueName: "START", description: "pretrained (fine-tune the checkpoint with Adam) | scratch (random weights, SGD 0.1: GPU-scale hours)" },
    epochs: { type: "string", valueName: "N", description: `epochs in all, STD and CSG (default: ${pretrainedDefaults.epochs} from pretrained, ${csgDefaults("scratch").epochs} from scratch)` },
    warmup: { type: "string", valueName: "N", description: "leading STD-only epochs (default: 0 from pretrained, 10 from scratch, as the original)" },
    period: { type: "string", valueName: "N", description: `epochs per STD/CSG alternation (default ${pretrainedDefaults.period})` },
    phase: { type: "string", valueName: "N", description: `epoch e is a CSG epoch when e % period >= phase (default ${pretrainedDefaults.csgPhase}: one in three)` },
    density: { type: "string", valueName: "D", description: `density target of the L1 hinge, in (0, 1] (default ${pretrainedDefaults.density})` },
    lambda: { type: "string", valueName: "L", description: `weight of the L1 hinge, >= 0 (default ${pretrainedDefaults.lambda})` },
    "std-lr": { type: "string", valueName: "LR", description: "learning rate of STD epochs (default: Adam 1e-5 from pretrained, SGD 0.1 from scratch)" },
    "csg-lr": { type: "string", valueName: "LR", description: "learning rate of CSG epochs (default: Adam 1e-3 from pretrained, SGD 0.1 from scratch)" },
    "batch-size": { type: "string", valueName: "N", description: `training batch size (default ${pretrainedDefaults.batchSize})` },
    seed: { type: "string", valueName: "N", description: "seed of the shuffling, augmentation and (from scratch) initial weights (default 0)" },
    out: { type: "string", valueName: "DIR", description: "folder for model.dctn (weights, gates, history) and gates.json (default: the cache's csg/<model>-<start>-e<epochs>-seed<seed>/)" },
  },
  async run(values, _positionals, ctx) {
    const onTree = dataSource(String(values.data ?? "cifar10"), values).kind !== "cifar10";
    const choice = modelChoice({ ...values, "batch-size": undefined, norm: values.norm ?? (onTree ? "checkpoint" : "cifar") });
    const from = String(values.from) as CsgStart;
    if (from !== "pretrained" && from !== "scratch") throw new Error(`--from must be pretrained or scratch, got "${values.from}"`);
    const hyperparameters: Partial<CsgHyperparameters> = {
      epochs: intOption(values, "epochs", 0),
      warmupEpochs: intOption(values, "warmup", 0),
      period: intOption(values, "period", 1),
      csgPhase: intOption(values, "phase", 0),
      density: numberOption(values, "density"),
      lambda: numberOption(values, "lambda"),
      stdLr: numberOption(values, "std-lr"),
      csgLr: numberOption(values, "csg-lr"),
      batchSize: intOption(values, "batch-size", 2),
      seed: intOption(values, "seed", 0),
    };
    const limit = choice.limit;
    const tree = choice.data.kind === "cifar10" ? null : choice.data;
    // Resolved (and checked) here only to name the default output folder; the run resolves them again.
    const spec = tree === null ? cifarModelEntry(choice.model, "decomp csg on CIFAR-10").buildSpec() : torchvisionSpec(choice.model);
    const h = resolveCsgHyperparameters(spec, { ...hyperparameters, from });
    const where = tree === null ? "" : `-${tree.kind}`;
    const outDir = typeof values.out === "string" ? values.out : path.join(resolveCacheDir(), "csg", `${choice.model}${where}-${from}-e${h.epochs}-seed${h.seed}`);
    if (fs.existsSync(outDir) && !fs.statSync(outDir).isDirectory()) throw new Error(`--out ${outDir} is a file; give a folder`);
    const onProgress = stderrProgress();
    const run = tree === null
      ? await runCsgExperiment({
        model: choice.model, norm: choice.norm, from, hyperparameters,
        trainImages: Math.min(limit ?? SPLIT_SIZES.train, SPLIT_SIZES.train), testImages: Math.min(limit ?? SPLIT_SIZES.test, SPLIT_SIZES.test), onProgress,
      }).then((r) => ({ ...r, images: { train: r.images.train.count, test: r.images.test.count }, newHead: false }))
      : await runCsgOnTree({
        model: choice.model, data: tree, weights: choice.weights, from, hyperparameters, norm: choice.norm,
        trainImages: limit ?? undefined, testImages: limit ?? undefined, onProgress,
      });
    const { history } = run.result;
    const last = history.stdAccuracy.length - 1;
    fs.mkdirSync(outDir, { recursive: true });
    const modelFile = path.join(outDir, "model.dctn");
    const gatesFile = path.join(outDir, "gates.json");
    await saveCsg(modelFile, run.spec, run.result);
    const { gates } = run.result;
    const rows = Array.from({ length: gates.classes }, (_, y) => Array.from(gates.data.subarray(y * gates.channels, (y + 1) * gates.channels)));
    await writeFileAtomic(gatesFile, [Buffer.from(`${JSON.stringify({ model: choice.model, classes: gates.classes, channels: gates.channels, gates: rows })}\n`)]);
    const engine = history.epochs[0]?.engine ?? "none (0 epochs)";
    const epochs = history.epochs.map((e) => e.path.toUpperCase()).join(" ");
    ctx.log(
      `${choice.model} CSG from ${from}${run.newHead ? " (a new head for the tree's classes)" : ""}, ${history.epochs.length} epoch(s) [${epochs}] on ${run.images.train} training images (${engine}); ${run.images.test} test images:\n` +
        `  STD path accuracy ${percent(history.stdAccuracy[0]).toFixed(2)}% -> ${percent(history.stdAccuracy[last]).toFixed(2)}%\n` +
        `  CSG path accuracy (true-label gates) ${percent(history.csgAccuracy[0]).toFixed(2)}% -> ${percent(history.csgAccuracy[last]).toFixed(2)}%\n` +
        `  L1 density ${history.density[0].toFixed(4)} -> ${run.density.toFixed(4)}\n` +
        `  MIS ${run.before.mis.toFixed(4)} -> ${run.after.mis.toFixed(4)}\n` +
        `saved ${modelFile} and ${gatesFile}`,
    );
    return {
      model: choice.model, norm: choice.norm, from, engine, hyperparameters: run.result.hyperparameters,
      data: choice.data.kind, newHead: run.newHead, trainImages: run.images.train, testImages: run.images.test,
      stdAccuracy: { before: percent(history.stdAccuracy[0]), after: percent(history.stdAccuracy[last]) },
      csgAccuracy: { before: percent(history.csgAccuracy[0]), after: percent(history.csgAccuracy[last]) },
      density: { before: history.density[0], after: run.density },
      mis: { before: run.before.mis, after: run.after.mis },
      epochs: history.epochs, modelFile, gatesFile,
    };
  },
};
