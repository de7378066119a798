#!/usr/bin/python3
"""Writes a synthetic tree in Tiny ImageNet 200's published layout, and what torchvision reads from it (test oracle).

    /usr/bin/python3 scripts/make-tiny-imagenet.py OUT_DIR [CLASSES] [TRAIN_PER_CLASS] [VAL_PER_CLASS]

OUT_DIR receives wnids.txt (in a shuffled order, as the published file is not sorted), words.txt,
train/<wnid>/images/<wnid>_<i>.JPEG with train/<wnid>/<wnid>_boxes.txt, val/images/val_<i>.JPEG with
val/val_annotations.txt (file, wnid, box; images of all classes interleaved), and oracle.json: the classes and
(file, label) pairs of torchvision.datasets.ImageFolder over train/, and the validation labels the annotation file
gives. Images are seeded 64 x 64 colour fields, saved as JPEG by Pillow.
"""
import json
import os
import sys

import numpy as np
from PIL import Image
from torchvision.datasets import ImageFolder


def image(rng):
    y, x = np.mgrid[0:64, 0:64] / 63.0
    channels = [0.5 + 0.4 * np.sin(rng.uniform(1, 6) * x + rng.uniform(0, 3)) * np.cos(rng.uniform(1, 6) * y) for _ in range(3)]
    return Image.fromarray((np.stack(channels, axis=2) * 255).clip(0, 255).astype(np.uint8))


def main():
    out = sys.argv[1]
    given = [int(a) for a in sys.argv[2:5]]
    classes, train_per, val_per = given + [5, 4, 3][len(given):]
    rng = np.random.RandomState(20261205)
    wnids = [f"n{rng.randint(10**7, 10**8 - 1):08d}" for _ in range(classes)]
    os.makedirs(os.path.join(out, "val", "images"), exist_ok=True)
    with open(os.path.join(out, "wnids.txt"), "w") as f:
        f.write("".join(w + "\n" for w in wnids))
    with open(os.path.join(out, "words.txt"), "w") as f:
        f.write("".join(f"{w}\tsynthetic class {i}\n" for i, w in enumerate(wnids)))
    for w in wnids:
        folder = os.path.join(out, "train", w, "images")
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(out, "train", w, f"{w}_boxes.txt"), "w") as boxes:
            for i in range(train_per):
                image(rng).save(os.path.join(folder, f"{w}_{i}.JPEG"), quality=90)
                boxes.write(f"{w}_{i}.JPEG\t0\t0\t63\t63\n")
    annotations = []
    for i in range(classes * val_per):
        w = wnids[i % classes]
        name = f"val_{i}.JPEG"
        image(rng).save(os.path.join(out, "val", "images", name), quality=90)
        annotations.append(f"{name}\t{w}\t1\t2\t60\t61\n")
    with open(os.path.join(out, "val", "val_annotations.txt"), "w") as f:
        f.write("".join(annotations))
    folder = ImageFolder(os.path.join(out, "train"))
    wnid_of = {line.split("\t")[0]: line.split("\t")[1] for line in annotations}
    oracle = {"classes": folder.classes,
              "train": [[os.path.relpath(p, out), label] for p, label in folder.samples],
              "val": {name: folder.class_to_idx[w] for name, w in wnid_of.items()}}
    with open(os.path.join(out, "oracle.json"), "w") as f:
        json.dump(oracle, f)


if __name__ == "__main__":
    main()
