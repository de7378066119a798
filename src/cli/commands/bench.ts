/** `decomp bench`: our inference engines against PyTorch CPU on this machine, side by side, with ratios. */
import { formatBenchReport, runBenchmark } from "../../bench";
import { type Command, intOption } from "../command";
import { stderrProgress } from "../progress";

/** A comma-separated option as a list, or undefined when it was not given (the bench's defaults apply). */
const list = (value: unknown): string[] | undefined => (value === undefined ? undefined : String(value).split(",").map((s) => s.trim()).filter(Boolean));

export const benchCommand: Command = {
  name: "bench",
  summary:
    "Benchmark feature extraction (images/s) of ResNet20 and ResNet56, and of torchvision's ResNet50 and EfficientNet-B0 at 224 x 224, on our engines and, when Debian's python3-torch (and python3-torchvision) is installed, PyTorch CPU on the same machine, each at its best batch size, plus the ResNet20 fine-tuning step (epoch time ratio, projected from step times, or timed epochs with --finetune-epoch) and ResNet50's training step at 224 x 224; prints ratios, peak RSS and logit parity. --quick keeps the whole run to minutes.",
  options: {
    quick: { type: "boolean", description: "smaller defaults for everything not given, so the whole bench takes minutes: 1 round, 2000 CIFAR images, 32 ImageNet-size ones, PyTorch frozen with the tuned allocator only" },
    models: { type: "string", valueName: "LIST", description: "CIFAR ResNets, comma-separated (default resnet20,resnet56)" },
    "imagenet-models": { type: "string", valueName: "LIST", description: "torchvision models timed at their input size against torchvision in PyTorch (default resnet50,efficientnet_b0; 'none' skips)" },
    images: { type: "string", valueName: "N", description: "CIFAR images per timed pass (default 10000, the CIFAR-10 test set size; 2000 with --quick)" },
    "pipeline-images": { type: "string", valueName: "N", description: "JPEGs (500 x 375) through decode + preprocessing + ResNet50, ours against torchvision's DataLoader (default 64; 32 with --quick; 0 skips)" },
    "pass-rss-images": { type: "string", valueName: "N", description: "peak RSS of ResNet50 training passes (decomp extract's) over N synthetic images at 32 x 32, with one at 224 x 224 for the engine, projected to ImageNet's 1.28M (default 100000, a few minutes; 0 with --quick; 0 skips)" },
    "imagenet-train-steps": { type: "string", valueName: "N", description: "timed training steps of --imagenet-train-model at its input size, ours against PyTorch's, with each side's peak RSS (default 5; 3 with --quick; 0 skips)" },
    "imagenet-train-model": { type: "string", valueName: "NAME", description: "torchvision ResNet whose training step is timed (default resnet50)" },
    "imagenet-train-batch": { type: "string", valueName: "N", description: "batch size of that training step (default 16)" },
    "imagenet-images": { type: "string", valueName: "N", description: "ImageNet-size images per timed pass (default 96; 32 with --quick)" },
    python: { type: "string", default: "/usr/bin/python3", valueName: "PATH", description: "python with torch (and torchvision) for the PyTorch side; 'none' skips it" },
    rounds: { type: "string", valueName: "N", description: "alternating rounds of ours and PyTorch; each setting keeps its fastest (default 2; 1 with --quick)" },
    threads: { type: "string", valueName: "N", description: "threads inside one operator, ours and PyTorch's, for every measurement (default: every core)" },
    "torch-modes": { type: "string", valueName: "LIST", description: "PyTorch modes tried: eager, frozen TorchScript (default both; frozen with --quick)" },
    "torch-allocators": { type: "string", valueName: "LIST", description: "glibc malloc settings tried for PyTorch, tuned = no trimming, no mmap (default default,tuned; tuned with --quick)" },
    "torch-wait": { type: "string", valueName: "LIST", description: "OpenMP wait policies tried for PyTorch (default default,passive; default with --quick)" },
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
      quick: values.quick === true,
      models: list(values.models),
      imagenetModels: values["imagenet-models"] === "none" ? [] : list(values["imagenet-models"]),
      images: intOption(values, "images", 1),
      imagenetImages: intOption(values, "imagenet-images", 1),
      pipelineImages: intOption(values, "pipeline-images", 0),
      passRssImages: intOption(values, "pass-rss-images", 0),
      imagenetTrainSteps: intOption(values, "imagenet-train-steps", 0),
      imagenetTrainModel: values["imagenet-train-model"] === undefined ? undefined : String(values["imagenet-train-model"]),
      imagenetTrainBatch: intOption(values, "imagenet-train-batch", 1),
      python: values.python === "none" ? null : String(values.python),
      rounds: intOption(values, "rounds", 1),
      threads: intOption(values, "threads", 1),
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
