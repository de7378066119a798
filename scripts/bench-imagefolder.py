#!/usr/bin/python3
"""PyTorch side of `decomp bench`'s ImageNet pipeline: torchvision's ImageFolder and DataLoader with the model
weight's evaluation transforms (Resize, CenterCrop, ToTensor, Normalize on PIL images) feeding a torchvision
model (random weights), over the folder decomp's bench wrote; a benchmark reference, never product code.
    /usr/bin/python3 scripts/bench-imagefolder.py --folder DIR --model resnet50 --batch 16 --workers 0,1,2
Prints JSON: the stage times (decode + transform alone, forward alone) and the whole pipeline per worker count.
"""
import argparse
import json
import resource
import time

import torch
import torchvision
from torch.utils.data import DataLoader
from torchvision.datasets import ImageFolder

from torchscript import prepare


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--folder", required=True)
    p.add_argument("--model", default="resnet50")
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--workers", type=lambda s: [int(v) for v in s.split(",") if v], default=[0, 1, 2])
    p.add_argument("--mode", default="frozen")
    p.add_argument("--threads", type=int, default=2)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    transform = torchvision.models.get_model_weights(args.model).IMAGENET1K_V1.transforms()
    dataset = ImageFolder(args.folder, transform=transform)
    n = len(dataset)
    torch.manual_seed(0)
    model = torchvision.models.get_model(args.model, weights=None).eval()
    example = torch.stack([dataset[i][0] for i in range(min(args.batch, n))])
    run = prepare(model, args.mode, example)

    start = time.perf_counter()
    tensors = [dataset[i][0] for i in range(n)]
    decode = time.perf_counter() - start
    batches = [torch.stack(tensors[i:i + args.batch]) for i in range(0, n, args.batch)]
    with torch.no_grad():
        run(batches[0])
        start = time.perf_counter()
        for b in batches:
            run(b)
        forward = time.perf_counter() - start
        pipelines = []
        for workers in args.workers:
            loader = DataLoader(dataset, batch_size=args.batch, num_workers=workers)
            start = time.perf_counter()
            for images, _ in loader:
                run(images)
            seconds = time.perf_counter() - start
            pipelines.append({"workers": workers, "seconds": seconds, "imagesPerSec": n / seconds})
    print(json.dumps({
        "torch": torch.__version__, "torchvision": torchvision.__version__, "images": n, "batch": args.batch, "mode": args.mode,
        "threads": args.threads, "decodeTransformSeconds": decode, "forwardSeconds": forward, "pipelines": pipelines,
        "peakRssMiB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }))


if __name__ == "__main__":
    main()
