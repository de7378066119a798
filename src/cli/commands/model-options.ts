/** Options shared by every command that runs a model: which model and weights, which preprocessing, how many images. */
import * as fs from "node:fs";
import { customNormalisation, getNormalisation, NORMALISATIONS } from "../../data";
import type { Recipe } from "../../data/preprocess";
import type { DataSource } from "../../experiments/decompose";
import { checkModelName, isModelFile, modelRecipe } from "../../models/load";
import { MODEL_NAMES, PREPROCESSINGS } from "../../models/registry";
import { type OptionSpec, type OptionValues, intOption } from "../command";

export const MODEL_OPTIONS: Record<string, OptionSpec> = {
  model: { type: "string", default: "resnet20", valueName: "NAME", description: `${MODEL_NAMES.join(" | ")} (decomp models lists them), or a classifier of your own: an ONNX file (FILE.onnx) or a TF.js LayersModel (its model.json)` },
  weights: {
    type: "string",
    valueName: "FILE",
    description: "the model's weights from this file instead of the registry's checkpoint: a PyTorch state dict (.pth/.th, either serialisation) or a decomp model file; its final layer sets the classes",
  },
  data: {
    type: "string",
    default: "cifar10",
    valueName: "SOURCE",
    description: "cifar10; imagenet:DIR (the folder holding train/ and val/, ILSVRC-2012 layout); tiny-imagenet:DIR (Tiny ImageNet 200: wnids.txt, train/<wnid>/images/, val/ with val_annotations.txt); or folder:DIR, a dataset of one's own in ImageFolder's layout (DIR/train/<class>/*, DIR/val/<class>/*; a DIR/classes.json maps folder names to the model's outputs)",
  },
  "train-dir": { type: "string", valueName: "DIR", description: "with --data folder:DIR, the training split's folder (default DIR/train)" },
  "test-dir": { type: "string", valueName: "DIR", description: "with --data folder:DIR, the evaluation split's folder (default DIR/val)" },
  preprocess: {
    type: "string",
    default: "torchvision",
    valueName: "NAME",
    description: `torchvision models only: ${PREPROCESSINGS.join(" | ")} (torchvision = the weight's evaluation preset, e.g. resize 256, centre crop 224; paper = the authors' 224 x 224 squash)`,
  },
  norm: { type: "string", default: "checkpoint", valueName: "NAME", description: `input normalisation: ${Object.keys(NORMALISATIONS).join(" | ")} (checkpoint = ImageNet's mean and std)` },
  resize: { type: "string", valueName: "N", description: "a recipe of one's own: resize the shorter side to N, then --crop (default: the model's preprocessing)" },
  crop: { type: "string", valueName: "N", description: "centre crop N x N after --resize (alone: resize to N * 256 / 224 first, as torchvision)" },
  squash: { type: "string", valueName: "N", description: "resize to N x N without keeping the aspect ratio (instead of --resize/--crop)" },
  interpolation: { type: "string", valueName: "NAME", description: "bilinear (default) | bicubic, for --resize/--crop/--squash" },
  mean: { type: "string", valueName: "A,B,C", description: "normalisation mean per channel (with --std; instead of --norm)" },
  std: { type: "string", valueName: "A,B,C", description: "normalisation standard deviation per channel (with --mean)" },
  scale: { type: "string", valueName: "1|255", description: "with --mean/--std: 1 (default) scales pixels to [0, 1] first, 255 keeps pixel units" },
  channels: { type: "string", valueName: "rgb|bgr", description: "with --mean/--std: the channel order the model takes (default rgb)" },
  limit: { type: "string", valueName: "N", description: "use only the first N images of each split (quick looks; cached separately)" },
  "batch-size": { type: "string", valueName: "N", description: "images per forward pass" },
};


export type { DataSource };

export interface ModelChoice {
  model: string;
  data: DataSource;
  weights?: string;
  /** A preprocessing name, or the recipe --resize/--crop/--squash (or the model's sidecar file) give. */
  preprocessing: string | Recipe;
  norm: string;
  limit: number | null;
  batchSize?: number;
}

/** The model options, each checked (known model, known normalisation, ranges) before a command does any work. */
export function modelChoice(values: OptionValues): ModelChoice {
  const model = String(values.model);
  checkModelName(model);
  // An imported model carries no preprocessing: a sidecar file beside it may say it, and options override it.
  const sidecar = isModelFile(model) ? readSidecar(`${model}.preprocess.json`) : {};
  // Options replace the sidecar's recipe, or its normalisation, as a whole.
  const given = (keys: string[]) => (keys.some((k) => values[k] !== undefined) ? values : sidecar);
  const preprocessing = ownRecipe(given(RECIPE_KEYS)) ?? String(values.preprocess ?? "torchvision");
  modelRecipe(model, preprocessing, null);
  const norm = ownNormalisation(given(NORM_KEYS)) ?? String(values.norm);
  getNormalisation(norm);
  return {
    model,
    data: dataSource(String(values.data ?? "cifar10"), values),
    weights: typeof values.weights === "string" ? values.weights : undefined,
    preprocessing,
    norm,
    limit: intOption(values, "limit", 1) ?? null,
    batchSize: intOption(values, "batch-size", 1, 4096),
  };
}

const RECIPE_KEYS = ["resize", "crop", "squash", "interpolation"];
const NORM_KEYS = ["mean", "std", "scale", "channels"];

/** `<model>.preprocess.json`: the preprocessing options' names and values, e.g. {"crop": 224, "mean": "0.5,0.5,0.5", "std": "0.5,0.5,0.5"}. */
function readSidecar(file: string): OptionValues {
  if (!fs.existsSync(file)) return {};
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (err) {
    throw new Error(`${file} is not valid JSON (${(err as Error).message})`);
  }
  const unknown = Object.keys(raw).find((k) => ![...RECIPE_KEYS, ...NORM_KEYS].includes(k));
  if (unknown !== undefined) throw new Error(`${file}: unknown key '${unknown}'; it may hold ${[...RECIPE_KEYS, ...NORM_KEYS].join(", ")}`);
  return Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, Array.isArray(v) ? v.join(",") : String(v)]));
}

function ownRecipe(values: OptionValues): Recipe | null {
  if (!RECIPE_KEYS.some((k) => values[k] !== undefined)) return null;
  const interpolation = String(values.interpolation ?? "bilinear");
  if (interpolation !== "bilinear" && interpolation !== "bicubic") throw new Error(`--interpolation must be bilinear or bicubic, got '${interpolation}'`);
  const squash = intOption(values, "squash", 1, 4096);
  const resize = intOption(values, "resize", 1, 4096);
  const crop = intOption(values, "crop", 1, 4096);
  if (squash !== undefined) {
    if (resize !== undefined || crop !== undefined) throw new Error("--squash resizes to a square by itself; give it without --resize and --crop");
    return { kind: "squash", size: squash, interpolation };
  }
  if (crop === undefined) throw new Error("--resize needs --crop N (or use --squash N)");
  const shorter = resize ?? Math.round((crop * 256) / 224);
  if (shorter < crop) throw new Error(`--crop ${crop} does not fit in images resized to ${shorter}`);
  return { kind: "resize-crop", resize: shorter, crop, interpolation };
}

function ownNormalisation(values: OptionValues): string | null {
  if (!NORM_KEYS.some((k) => values[k] !== undefined)) return null;
  if (values.mean === undefined || values.std === undefined) throw new Error("--mean and --std go together (and --scale, --channels with them)");
  return customNormalisation(getNormalisation(`mean=${values.mean};std=${values.std}${values.scale === undefined ? "" : `;scale=${values.scale}`}${values.channels === undefined ? "" : `;channels=${values.channels}`}`));
}

export function dataSource(text: string, values: OptionValues = {}): DataSource {
  const dirs = { trainDir: typeof values["train-dir"] === "string" ? values["train-dir"] : undefined, testDir: typeof values["test-dir"] === "string" ? values["test-dir"] : undefined };
  if (text.startsWith("folder:") && text.length > "folder:".length) return { kind: "folder", root: text.slice("folder:".length), ...dirs };
  if (dirs.trainDir !== undefined || dirs.testDir !== undefined) throw new Error("--train-dir and --test-dir go with --data folder:DIR");
  if (text === "cifar10") return { kind: "cifar10" };
  if (text.startsWith("imagenet:") && text.length > "imagenet:".length) return { kind: "imagenet", root: text.slice("imagenet:".length) };
  if (text.startsWith("tiny-imagenet:") && text.length > "tiny-imagenet:".length) return { kind: "tiny-imagenet", root: text.slice("tiny-imagenet:".length) };
  throw new Error(`--data must be cifar10, imagenet:DIR (DIR holds train/ and val/), tiny-imagenet:DIR (Tiny ImageNet 200's folder) or folder:DIR (ImageFolder's layout), got '${text}'`);
}
