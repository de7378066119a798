#!/usr/bin/python3
"""PyTorch CPU side of `decomp bench` for torchvision's ImageNet models: forward images/s and peak RSS.

A benchmark reference, never product code. Each model runs in its own child process (so its peak RSS is its
own), with random weights (speed does not depend on their values) on synthetic N(0, 1) inputs of the given
side, at every batch size and mode; prints one JSON object on stdout.
    /usr/bin/python3 scripts/bench-torchvision.py --models resnet50,efficientnet_b0 --batches 8,16,32 --images 128
With --train-steps N it instead times N training steps of the first model at the first batch size (median, after
--warmup untimed ones): BatchNorm in training mode, the final linear layer's weight masked to five features per
class (the decomposed head), cross-entropy, backward and torch.optim.Adam, as the decomposed fine-tune runs.
With --export-onnx DIR it instead writes DIR/<model>.onnx (torch.onnx.export, opset 17, dynamic batch, the same
seeded weights), what the bench imports to time decomp's ONNX importer on a graph torch wrote.
"""
import argparse
import json
import os
import resource
import subprocess
import sys
import time

import torch
import torch.nn.functional as F
import torchvision

from torchscript import five_per_class, median_step_seconds, prepare


def build(name):
    torch.manual_seed(0)
    return torchvision.models.get_model(name, weights=None).eval()


def measure(args):
    torch.set_num_threads(args.threads)
    model = build(args.models[0])
    gen = torch.Generator().manual_seed(0)
    data = torch.randn(args.images, 3, args.size, args.size, generator=gen)
    results = []
    for mode in args.modes:
        for batch in args.batches:
            run = prepare(model, mode, data[:batch])
            with torch.no_grad():
                for _ in range(args.warmup):
                    run(data[:batch])
                best = float("inf")
                for _ in range(args.repeats):
                    start = time.perf_counter()
                    for i in range(0, args.images, batch):
                        run(data[i:i + batch])
                    best = min(best, time.perf_counter() - start)
            results.append({"model": args.models[0], "mode": mode, "batch": batch, "images": args.images,
                            "seconds": best, "imagesPerSec": args.images / best})
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"results": results, "peakRssMiB": peak_kib / 1024}


def measure_train(args):
    torch.set_num_threads(args.threads)
    model = build(args.models[0]).train()
    head = [m for m in model.modules() if isinstance(m, torch.nn.Linear)][-1]
    gen = torch.Generator().manual_seed(0)
    mask = five_per_class(*head.weight.shape, gen)
    head.forward = lambda x: F.linear(x, head.weight * mask, head.bias)
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-6)
    batch = args.batches[0]
    images = torch.randn(batch, 3, args.size, args.size, generator=gen)
    labels = torch.randint(0, mask.shape[0], (batch,), generator=gen)

    def step():
        loss = F.cross_entropy(model(images), labels)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()

    median = median_step_seconds(step, args.warmup, args.train_steps)
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"train": {"batch": batch, "steps": args.train_steps, "msPerStep": median * 1000,
                      "imagesPerSec": batch / median, "peakRssMiB": peak_kib / 1024}}


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--models", type=lambda s: [m for m in s.split(",") if m], default=["resnet50", "efficientnet_b0"])
    p.add_argument("--batches", type=lambda s: [int(v) for v in s.split(",") if v], default=[8, 16, 32])
    p.add_argument("--modes", type=lambda s: s.split(","), default=["eager", "frozen"])
    p.add_argument("--images", type=int, default=128)
    p.add_argument("--size", type=int, default=224)
    p.add_argument("--repeats", type=int, default=1)
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--train-steps", type=int, default=0)
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--export-onnx", metavar="DIR")
    args = p.parse_args()
    if args.export_onnx:
        for name in args.models:
            torch.onnx.export(build(name), torch.zeros(1, 3, args.size, args.size), os.path.join(args.export_onnx, f"{name}.onnx"), opset_version=17,
                              input_names=["images"], output_names=["logits"], dynamic_axes={"images": {0: "batch"}, "logits": {0: "batch"}})
        print(json.dumps({"exported": args.models}))
        return
    if args.child:
        print(json.dumps(measure_train(args) if args.train_steps > 0 else measure(args)))
        return
    models = []
    for name in args.models:
        argv = [f"--models={name}", "--batches=" + ",".join(map(str, args.batches)), "--modes=" + ",".join(args.modes),
                f"--images={args.images}", f"--size={args.size}", f"--repeats={args.repeats}", f"--warmup={args.warmup}",
                f"--threads={args.threads}", f"--train-steps={args.train_steps}", "--child"]
        out = subprocess.run([sys.executable, os.path.abspath(__file__), *argv],
                             check=True, capture_output=True, text=True).stdout
        models.append({"model": name, **json.loads(out)})
    print(json.dumps({"torch": torch.__version__, "torchvision": torchvision.__version__, "threads": args.threads,
                      "size": args.size, "models": models}))


if __name__ == "__main__":
    main()
