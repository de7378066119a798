"""PyTorch CPU side of `decomp bench`: forward images/s of the CIFAR ResNets, and an oracle for logits.

Run with the Debian python that has torch (a benchmark reference and test oracle, never product code):
    /usr/bin/python3 scripts/bench-torch.py --depths 20,56 --batches 32,64,128,256 --images 10000
Prints one JSON object on stdout. Inputs are synthetic, already-normalised N(0, 1) images (speed does not
depend on pixel values). glibc's allocator settings and OpenMP's wait policy only take effect at process
start, so the script relaunches itself once per (--allocators, --omp-wait-policies) pair and merges the results.

With --train-steps N it times N training steps per batch size instead (median): BatchNorm in training mode,
the masked head, cross-entropy, backward and torch.optim.Adam, as one fine-tuning step. With --train-epoch
FILE it times one whole fine-tuning epoch over the images in FILE, shuffled and augmented as the fine-tune does.

With --oracle-inputs FILE (raw little-endian float32, count x 32 x 32 x 3 NHWC, as the ForwardEngine takes
them) it also writes FILE.logits.f32 and FILE.features.f32 computed by the PyTorch model, so the caller
can compare its own outputs on the same images.
"""
import argparse
import json
import os
import subprocess
import sys
import time

import torch
import torch.nn.functional as F

from torch_resnet import CifarResNet, load_state
from torchscript import five_per_class, median_step_seconds, prepare

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_CHECKPOINTS = os.path.join(ROOT, "..", "shared", "mirror", "pytorch_resnet_cifar10")
CHECKPOINT_FILES = {20: "resnet20-12fca82f.th", 32: "resnet32-d509ac18.th", 44: "resnet44-014dd654.th", 56: "resnet56-4bfd9763.th"}
# Without these, glibc returns large freed blocks to the kernel and PyTorch page-faults them back in on
# every batch; with them the heap keeps its pages.
TUNED_MALLOC = "glibc.malloc.mmap_threshold=4294967295:glibc.malloc.trim_threshold=4294967295"
# The fine-tune's recipe (src/data/transforms.ts: the "cifar" normalisation and AUGMENT_PAD).
CIFAR_MEAN = torch.tensor([0.491, 0.482, 0.447]).view(1, 3, 1, 1)
CIFAR_STD = torch.tensor([0.247, 0.243, 0.261]).view(1, 3, 1, 1)
AUGMENT_PAD = 4


def load_model(depth, args):
    model = CifarResNet(depth)
    path = args.checkpoints.get(depth) or os.path.join(args.checkpoint_dir, CHECKPOINT_FILES.get(depth, ""))
    if os.path.isfile(path):
        model.load_state_dict(load_state(path))
        source = path
    else:
        source = "random init (checkpoint not found)"
    return model.eval(), source


def time_pass(run, data, batch):
    start = time.perf_counter()
    for i in range(0, data.shape[0], batch):
        run(data[i:i + batch])
    return time.perf_counter() - start


def measure(args):
    torch.set_num_threads(args.threads)
    gen = torch.Generator().manual_seed(0)
    data = torch.randn(args.images, 3, 32, 32, generator=gen)
    results = []
    for depth in args.depths:
        model, source = load_model(depth, args)
        for mode in args.modes:
            for batch in args.batches:
                run = prepare(model, mode, data[:batch])
                with torch.inference_mode():
                    for _ in range(args.warmup):
                        run(data[:batch])
                    best = min(time_pass(run, data, batch) for _ in range(args.repeats))
                results.append({
                    "depth": depth, "mode": mode, "batch": batch, "images": args.images,
                    "seconds": best, "imagesPerSec": args.images / best, "checkpoint": source,
                })
    return results


def train_step_for(model, gen):
    """One fine-tuning step as the notebook runs it: BN in train mode, masked head, cross-entropy, backward, Adam."""
    model.train()
    mask = five_per_class(10, 64, gen)
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-4)

    def step(images, labels):
        features, _ = model(images)
        logits = F.linear(features, model.linear.weight * mask, model.linear.bias)
        loss = F.cross_entropy(logits, labels)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()

    return step


def measure_train_steps(args):
    """Training steps/s (median of --train-steps) per batch size, on synthetic batches."""
    torch.set_num_threads(args.threads)
    gen = torch.Generator().manual_seed(0)
    results = []
    for depth in args.depths:
        model, source = load_model(depth, args)
        step = train_step_for(model, gen)
        for batch in args.batches:
            images = torch.randn(batch, 3, 32, 32, generator=gen)
            labels = torch.randint(0, 10, (batch,), generator=gen)
            median = median_step_seconds(lambda: step(images, labels), args.warmup, args.train_steps)
            results.append({
                "depth": depth, "mode": "train-step", "batch": batch, "steps": args.train_steps,
                "msPerStep": median * 1000, "imagesPerSec": batch / median, "checkpoint": source,
            })
    return results


def augmented_batch(pixels, idx, gen):
    """The fine-tune's augmentation on uint8 NHWC images: zero-pad 4, random 32x32 crop, random horizontal
    flip, then CIFAR normalisation; vectorised over the batch. Returns NCHW float32."""
    b = idx.shape[0]
    padded = F.pad(pixels[idx].permute(0, 3, 1, 2), (AUGMENT_PAD,) * 4)
    dy = torch.randint(0, 2 * AUGMENT_PAD + 1, (b,), generator=gen)
    dx = torch.randint(0, 2 * AUGMENT_PAD + 1, (b,), generator=gen)
    flip = torch.rand(b, generator=gen) < 0.5
    ramp = torch.arange(32)
    rows = dy[:, None] + ramp
    cols = dx[:, None] + torch.where(flip[:, None], 31 - ramp, ramp)
    # Advanced indices around a slice: the batch and pixel dims come first, channels last.
    crops = padded[torch.arange(b)[:, None, None], :, rows[:, :, None], cols[:, None, :]]
    x = crops.permute(0, 3, 1, 2).float().div_(255)
    return (x - CIFAR_MEAN) / CIFAR_STD


def measure_train_epoch(args):
    """One timed fine-tuning epoch over every image of --train-epoch (shuffled, augmented, batch --batches[0])."""
    torch.set_num_threads(args.threads)
    gen = torch.Generator().manual_seed(0)
    count = os.path.getsize(args.train_epoch) // 3072
    pixels = torch.from_file(args.train_epoch, dtype=torch.uint8, size=count * 3072).view(count, 32, 32, 3)
    labels = torch.from_file(args.train_epoch + ".labels", dtype=torch.uint8, size=count).long()
    depth, batch = args.depths[0], args.batches[0]
    model, source = load_model(depth, args)
    step = train_step_for(model, gen)
    start = time.perf_counter()
    order = torch.randperm(count, generator=gen)
    # A last batch of one image is dropped, as the fine-tune does (BatchNorm needs two).
    for first in range(0, count - 1, batch):
        idx = order[first:first + batch]
        step(augmented_batch(pixels, idx, gen), labels[idx])
    seconds = time.perf_counter() - start
    return [{"depth": depth, "mode": "train-epoch", "batch": batch, "images": count, "seconds": seconds,
             "imagesPerSec": count / seconds, "checkpoint": source}]


def write_oracle(args):
    raw = torch.from_file(args.oracle_inputs, dtype=torch.float32, size=os.path.getsize(args.oracle_inputs) // 4)
    images = raw.view(-1, 32, 32, 3).permute(0, 3, 1, 2).contiguous()
    model, source = load_model(args.depths[0], args)
    if not os.path.isfile(source):
        sys.exit(f"no checkpoint for resnet{args.depths[0]}: pass --checkpoints {args.depths[0]}=PATH (an oracle needs real weights)")
    with torch.inference_mode():
        features, logits = model(images)
    logits.numpy().astype("<f4").tofile(args.oracle_inputs + ".logits.f32")
    features.numpy().astype("<f4").tofile(args.oracle_inputs + ".features.f32")


def checkpoint_paths(text):
    return {int(d): path for d, path in (item.split("=", 1) for item in text.split(",") if item)}


def ints(text):
    return [int(v) for v in text.split(",") if v]


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--depths", type=ints, default=[20, 56])
    p.add_argument("--batches", type=ints, default=[32, 64, 128, 256])
    p.add_argument("--modes", type=lambda s: s.split(","), default=["eager", "frozen"])
    p.add_argument("--images", type=int, default=10000)
    p.add_argument("--repeats", type=int, default=2)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--allocators", type=lambda s: s.split(","), default=["default", "tuned"],
                   help="glibc malloc settings to measure: default and/or tuned (" + TUNED_MALLOC + ")")
    p.add_argument("--omp-wait-policies", type=lambda s: s.split(","), default=["default", "passive"],
                   help="OpenMP idle threads: default (spin, then sleep) and/or passive (OMP_WAIT_POLICY=PASSIVE, "
                        "which wins when the cores are shared with other work)")
    p.add_argument("--checkpoint-dir", default=DEFAULT_CHECKPOINTS)
    p.add_argument("--checkpoints", type=checkpoint_paths, default={}, help="DEPTH=PATH,... overriding --checkpoint-dir")
    p.add_argument("--oracle-inputs", help="raw float32 NHWC images; writes <file>.logits.f32 and <file>.features.f32 for the first depth")
    p.add_argument("--train-steps", type=int, default=0,
                   help="measure this many training steps per batch size (median reported) instead of the forward pass")
    p.add_argument("--train-epoch", metavar="FILE",
                   help="time one fine-tuning epoch over FILE (raw uint8 NHWC 32x32x3 images; labels in FILE.labels) "
                        "for the first depth at the first batch size, instead of the forward pass")
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args()

    if args.oracle_inputs:
        write_oracle(args)
        print(json.dumps({"oracle": args.oracle_inputs, "depth": args.depths[0]}))
        return
    if args.child:
        measured = measure_train_epoch if args.train_epoch else measure_train_steps if args.train_steps > 0 else measure
        print(json.dumps(measured(args)))
        return

    results = []
    for allocator in args.allocators:
        if allocator not in ("default", "tuned"):
            p.error(f"unknown allocator setting {allocator!r}; use default or tuned")
        for policy in args.omp_wait_policies:
            if policy not in ("default", "passive"):
                p.error(f"unknown OpenMP wait policy {policy!r}; use default or passive")
            env = dict(os.environ)
            env.pop("GLIBC_TUNABLES", None)
            env.pop("OMP_WAIT_POLICY", None)
            if allocator == "tuned":
                env["GLIBC_TUNABLES"] = TUNED_MALLOC
            if policy == "passive":
                env["OMP_WAIT_POLICY"] = "PASSIVE"
            out = subprocess.run([sys.executable, os.path.abspath(__file__), *sys.argv[1:], "--child"],
                                 env=env, check=True, capture_output=True, text=True).stdout
            for r in json.loads(out):
                r["allocator"] = allocator
                r["glibcTunables"] = env.get("GLIBC_TUNABLES", "")
                r["ompWaitPolicy"] = policy
                results.append(r)
    print(json.dumps({
        "torch": torch.__version__, "threads": args.threads, "images": args.images,
        "input": "synthetic N(0,1) normalised images, fixed seed", "results": results,
    }))


if __name__ == "__main__":
    main()
