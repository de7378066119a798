/** `decomp models`: the registry, one line per model. */
import { modelSummaries } from "../../models/summary";
import type { Command } from "../command";

export const modelsCommand: Command = {
  name: "models",
  summary: "List the models this toolkit runs: family, layers (convolutions + linear, as the paper's Table 6 counts), penultimate feature width, input size, and whether the weights are already here (cache or mirror) or will be fetched.",
  options: {},
  async run(_values, _positionals, ctx) {
    const models = modelSummaries();
    const rows = models.map((m) => [m.name, m.family, String(m.layers), String(m.featureWidth), String(m.classes), m.inputShape.join("x"), m.weights ?? `not here: ${m.url ?? "(no URL)"}`]);
    const header = ["model", "family", "layers", "features", "classes", "input (HxWxC)", "weights"];
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
    for (const r of [header, ...rows]) ctx.log(r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join("  "));
    return { models };
  },
};
