/**
 * The passes over image trees on the command line: `decomp extract` and `decomp merge` (one split of an ImageNet
 * tree or an image folder, whole or as shard i of n for a job array).
 */
import { DEFAULT_RANK_DEPTH, type ImageNetPass, type ImageNetPassOptions, mergeImageNetPass, parseShard, runImageNetPass } from "../../features/imagenet-pass";
import { type Command, intOption, type OptionValues } from "../command";
import { peakRssMiB } from "../../bench/child";
import { stderrProgress } from "../progress";
import { MODEL_OPTIONS, type ModelChoice, modelChoice } from "./model-options";

const PASS_OPTIONS = {
  ...MODEL_OPTIONS,
  split: { type: "string", default: "train", valueName: "SPLIT", description: "train (keeps each image's top --rank-depth feature indices) or val (keeps features and logits)" },
  "rank-depth": { type: "string", valueName: "R", description: `training passes: feature indices kept per image, at least the k1 you will use (default ${DEFAULT_RANK_DEPTH}, the paper's k1)` },
} as const;

function passOptions(values: OptionValues, choice: ModelChoice, split: "train" | "val"): ImageNetPassOptions {
  if (choice.data.kind === "cifar10") throw new Error("give the images with --data imagenet:DIR or folder:DIR (the folder holding train/ and val/)");
  const folder = choice.data.kind === "folder" ? { trainDir: choice.data.trainDir, testDir: choice.data.testDir } : undefined;
  return {
    model: choice.model, weights: choice.weights, root: choice.data.root, layout: choice.data.kind, folder, split, preprocessing: choice.preprocessing, norm: choice.norm,
    rankDepth: intOption(values, "rank-depth", 1), limit: choice.limit, batchSize: choice.batchSize, onProgress: stderrProgress(),
  };
}

function splitOption(values: OptionValues): "train" | "val" {
  const split = String(values.split);
  if (split !== "train" && split !== "val") throw new Error(`--split must be train or val, got '${split}'`);
  return split;
}

const describe = (p: ImageNetPass) => ({
  file: p.file, reused: p.reused, images: p.result.count, range: p.range, classes: p.classes.length, backend: p.backend,
  kind: p.key.rankDepth === null ? "features and logits" : `top ${p.key.rankDepth} feature indices per image`,
});

export const extractCommand: Command = {
  name: "extract",
  summary:
    "Run a model over one split of an ImageNet tree and cache the result: top feature indices per training image, features and logits per validation image. With --shard i/n only a deterministic slice (whole batches), in its own checksummed file, so a job array runs the shards and a failed one is rerun alone; decomp merge joins them.",
  options: {
    ...PASS_OPTIONS,
    shard: { type: "string", valueName: "i/n|auto", description: "run shard i of n (0-based); auto reads SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT or JOB_COMPLETION_INDEX with --shards" },
    shards: { type: "string", valueName: "N", description: "the number of shards, for --shard auto where the scheduler does not say it" },
  },
  async run(values, _positionals, ctx) {
    const choice = modelChoice(values);
    const shard = typeof values.shard === "string" ? parseShard(values.shard, intOption(values, "shards", 1)) : undefined;
    const pass = await runImageNetPass({ ...passOptions(values, choice, splitOption(values)), shard });
    const d = describe(pass);
    const part = shard === undefined ? "" : ` shard ${shard.index}/${shard.count} (images ${d.range.start}..${d.range.end})`;
    // What a cluster job asks for: the process's peak memory over the whole pass.
    const peakRss = peakRssMiB();
    ctx.log(`${choice.model} ${pass.key.split}${part}: ${d.images} images, ${d.kind} -> ${pass.file}${pass.reused ? " (already there)" : ""}; peak RSS ${peakRss.toFixed(0)} MiB`);
    return { model: choice.model, split: pass.key.split, shard: shard ?? null, ...d, peakRssMiB: peakRss };
  },
};

export const mergeCommand: Command = {
  name: "merge",
  summary: "Join the shard files of one ImageNet pass (decomp extract --shard i/n, same options) into the whole-split file that decomp eval and select read.",
  options: { ...PASS_OPTIONS, shards: { type: "string", valueName: "N", description: "how many shards the pass was split into" } },
  async run(values, _positionals, ctx) {
    const choice = modelChoice(values);
    const shards = intOption(values, "shards", 1);
    if (shards === undefined) throw new Error("--shards N is required: the n of the --shard i/n runs");
    const pass = await mergeImageNetPass(passOptions(values, choice, splitOption(values)), shards);
    ctx.log(`${choice.model} ${pass.key.split}: ${shards} shards, ${pass.result.count} images -> ${pass.file}`);
    return { model: choice.model, split: pass.key.split, shards, ...describe(pass) };
  },
};
