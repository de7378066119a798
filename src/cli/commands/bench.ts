/** `decomp bench`: our inference engines against PyTorch CPU on this machine, side by side, with ratios. */
import { formatBenchReport, runBenchmark } from "../../bench";
import { type Command, intOption } from "../command";
import { stderrProgress } from "../progress";

const list = (value: unknown): string[] => String(value).split(",").map((s) => s.trim()).filter(Boolean);

export const benchCommand: Command = {
  name: "bench",
  summary:
    "Benchmark feature extraction (images/s) of ResNet20 and ResNet56 on our engines and, when Debian's python3-torch is installed, PyTorch CPU on the same machine, each at its best batch size, plus the ResNet20 fine-tuning step (epoch time ratio, projected from step times, or timed epochs with --finetune-epoch); prints ratios, peak RSS and logit parity.",
  options: {
    models: { type: "string", default: "resnet20,resnet56", valueName: "LIST", description: "comma-separated model names" },
    images: { type: "string", default: "10000", valueName: "N", description: "images per timed pass (10000 = the CIFAR-10 test set size)" },
    python: { type: "string", default: "/usr/bin/python3", valueName: "PATH", description: "python with torch for the PyTorch side; 'none' skips it" },
    rounds: { type: "string", default: "2", valueName: "N", description: "alternating rounds of ours and PyTorch; each setting keeps its fastest" },
    "torch-modes": { type: "string", default: "eager,frozen", valueName: "LIST", description: "PyTorch modes tried (eager, frozen TorchScript)" },
    "torch-allocators": { type: "string", default: "default,tuned", valueName: "LIST", description: "glibc malloc settings tried for PyTorch (tuned = no trimming, no mmap)" },
    "torch-wait": { type: "string", default: "default,passive", valueName: "LIST", description: "OpenMP wait policies tried for PyTorch" },
    "finetune-epoch": {
      type: "string",
      default: "0",
      valueName: "N",
      description: "also time one real fine-tuning epoch per side over the first N CIFAR-10 training images (50000 = all; 0 = steps only); the fine-tune ratio then compares the epochs",
    },
    "csg-epoch": {
      type: "string",
      default: "0",
      valueName: "N",
      description: "also time one CSG epoch against one decomposed fine-tuning epoch of ResNet20 on our training engine, over the first N CIFAR-10 training images (50000 = all; 0 = skip)",
    },
  },
  async run(values, _positionals, ctx) {
    const report = await runBenchmark({
      models: list(values.models),
      images: intOption(values, "images", 1),
      python: values.python === "none" ? null : String(values.python),
      rounds: intOption(values, "rounds", 1),
      torchModes: list(values["torch-modes"]),
      torchAllocators: list(values["torch-allocators"]),
      torchWaitPolicies: list(values["torch-wait"]),
      finetuneEpochImages: intOption(values, "finetune-epoch", 0, 50000),
      csgEpochImages: intOption(values, "csg-epoch", 0, 50000),
      onProgress: stderrProgress(),
    });
    ctx.log(formatBenchReport(report));
    return report as unknown as Record<string, unknown>;
  },
};
