/** `decomp bench`: our inference engines against PyTorch CPU on this machine, side by side, with ratios. */
import { formatBenchReport, runBenchmark } from "../../bench";
import { type Command, intOption } from "../command";
import { stderrProgress } from "../progress";

export const benchCommand: Command = {
  name: "bench",
  summary:
    "Benchmark feature extraction (images/s) of ResNet20 and ResNet56 on our engines and, when Debian's python3-torch is installed, PyTorch CPU on the same machine, each at its best batch size, plus the ResNet20 fine-tuning step (projected epoch time ratio); prints ratios, peak RSS and logit parity.",
  options: {
    models: { type: "string", default: "resnet20,resnet56", valueName: "LIST", description: "comma-separated model names" },
    images: { type: "string", default: "10000", valueName: "N", description: "images per timed pass (10000 = the CIFAR-10 test set size)" },
    python: { type: "string", default: "/usr/bin/python3", valueName: "PATH", description: "python with torch for the PyTorch side; 'none' skips it" },
  },
  async run(values, _positionals, ctx) {
    const report = await runBenchmark({
      models: String(values.models).split(",").map((m) => m.trim()).filter(Boolean),
      images: intOption(values, "images", 1),
      python: values.python === "none" ? null : String(values.python),
      onProgress: stderrProgress(),
    });
    ctx.log(formatBenchReport(report));
    return report as unknown as Record<string, unknown>;
  },
};
