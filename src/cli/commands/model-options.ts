/** Options shared by every command that runs a model: which model, which input normalisation, how many images. */
import { getNormalisation, NORMALISATIONS } from "../../data";
import { modelEntry } from "../../models/registry";
import { type OptionSpec, type OptionValues, intOption } from "../command";

export const MODEL_OPTIONS: Record<string, OptionSpec> = {
  model: { type: "string", default: "resnet20", valueName: "NAME", description: "resnet20 | resnet32 | resnet44 | resnet56 | resnet110" },
  norm: { type: "string", default: "checkpoint", valueName: "NAME", description: `input normalisation: ${Object.keys(NORMALISATIONS).join(" | ")}` },
  limit: { type: "string", valueName: "N", description: "use only the first N images of each split (quick looks; cached separately)" },
  "batch-size": { type: "string", valueName: "N", description: "images per forward pass" },
};

export interface ModelChoice {
  model: string;
  norm: string;
  limit: number | null;
  batchSize?: number;
}

/** The model options, each checked (known model, known normalisation, ranges) before a command does any work. */
export function modelChoice(values: OptionValues): ModelChoice {
  modelEntry(String(values.model));
  getNormalisation(String(values.norm));
  return {
    model: String(values.model),
    norm: String(values.norm),
    limit: intOption(values, "limit", 1) ?? null,
    batchSize: intOption(values, "batch-size", 1, 4096),
  };
}
