/** Options shared by every command that runs a model: which model and weights, which preprocessing, how many images. */
import { getNormalisation, NORMALISATIONS } from "../../data";
import { checkModelName, modelRecipe } from "../../models/load";
import { MODEL_NAMES, PREPROCESSINGS } from "../../models/registry";
import { type OptionSpec, type OptionValues, intOption } from "../command";

export const MODEL_OPTIONS: Record<string, OptionSpec> = {
  model: { type: "string", default: "resnet20", valueName: "NAME", description: `${MODEL_NAMES.join(" | ")} (decomp models lists them), or a classifier exported to ONNX (FILE.onnx)` },
  weights: {
    type: "string",
    valueName: "FILE",
    description: "the model's weights from this file instead of the registry's checkpoint: a PyTorch state dict (.pth/.th, either serialisation) or a decomp model file; its final layer sets the classes",
  },
  data: {
    type: "string",
    default: "cifar10",
    valueName: "SOURCE",
    description: "cifar10; imagenet:DIR (the folder holding train/ and val/, ILSVRC-2012 layout); or folder:DIR, a dataset of one's own in ImageFolder's layout (DIR/train/<class>/*, DIR/val/<class>/*; a DIR/classes.json maps folder names to the model's outputs)",
  },
  "train-dir": { type: "string", valueName: "DIR", description: "with --data folder:DIR, the training split's folder (default DIR/train)" },
  "test-dir": { type: "string", valueName: "DIR", description: "with --data folder:DIR, the evaluation split's folder (default DIR/val)" },
  preprocess: {
    type: "string",
    default: "torchvision",
    valueName: "NAME",
    description: `torchvision models only: ${PREPROCESSINGS.join(" | ")} (torchvision = the weight's evaluation preset, e.g. resize 256, centre crop 224; paper = the authors' 224 x 224 squash)`,
  },
  norm: { type: "string", default: "checkpoint", valueName: "NAME", description: `input normalisation: ${Object.keys(NORMALISATIONS).join(" | ")}` },
  limit: { type: "string", valueName: "N", description: "use only the first N images of each split (quick looks; cached separately)" },
  "batch-size": { type: "string", valueName: "N", description: "images per forward pass" },
};

export type DataSource = { kind: "cifar10" } | { kind: "imagenet"; root: string } | { kind: "folder"; root: string; trainDir?: string; testDir?: string };

export interface ModelChoice {
  model: string;
  data: DataSource;
  weights?: string;
  preprocessing: string;
  norm: string;
  limit: number | null;
  batchSize?: number;
}

/** The model options, each checked (known model, known normalisation, ranges) before a command does any work. */
export function modelChoice(values: OptionValues): ModelChoice {
  const preprocessing = String(values.preprocess ?? "torchvision");
  checkModelName(String(values.model));
  modelRecipe(String(values.model), preprocessing, null);
  getNormalisation(String(values.norm));
  return {
    model: String(values.model),
    data: dataSource(String(values.data ?? "cifar10"), values),
    weights: typeof values.weights === "string" ? values.weights : undefined,
    preprocessing,
    norm: String(values.norm),
    limit: intOption(values, "limit", 1) ?? null,
    batchSize: intOption(values, "batch-size", 1, 4096),
  };
}

export function dataSource(text: string, values: OptionValues = {}): DataSource {
  const dirs = { trainDir: typeof values["train-dir"] === "string" ? values["train-dir"] : undefined, testDir: typeof values["test-dir"] === "string" ? values["test-dir"] : undefined };
  if (text.startsWith("folder:") && text.length > "folder:".length) return { kind: "folder", root: text.slice("folder:".length), ...dirs };
  if (dirs.trainDir !== undefined || dirs.testDir !== undefined) throw new Error("--train-dir and --test-dir go with --data folder:DIR");
  if (text === "cifar10") return { kind: "cifar10" };
  if (text.startsWith("imagenet:") && text.length > "imagenet:".length) return { kind: "imagenet", root: text.slice("imagenet:".length) };
  throw new Error(`--data must be cifar10, imagenet:DIR (DIR holds train/ and val/) or folder:DIR (ImageFolder's layout), got '${text}'`);
}
