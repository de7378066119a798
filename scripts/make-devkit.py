#!/usr/bin/python3
"""Test fixture and oracle (Debian python3-scipy, python3-torchvision): an ILSVRC-2012 devkit for a small tree.

    /usr/bin/python3 scripts/make-devkit.py OUT_DIR '["n01440764", ...]' VAL_IMAGES COMPRESS(0|1) SEED

Writes OUT_DIR/ILSVRC2012_devkit_t12/data/meta.mat (a 'synsets' struct array with the devkit's fields: the given
wnids as leaves, numbered in a seeded order unlike their sorted one, plus two inner synsets with children) and
ILSVRC2012_validation_ground_truth.txt (one seeded leaf ID per validation image), packs the folder as
OUT_DIR/ILSVRC2012_devkit_t12.tar.gz, and prints, as JSON, the wnid of each validation image as torchvision's own
parse_devkit_archive reads that archive (its md5 check, which is for the real archive, skipped).
"""
import json
import os
import random
import sys
import tarfile

import numpy as np
import scipy.io
import torch
import torchvision.datasets.imagenet as tv_imagenet


def main():
    out, wnids, val_images, compress, seed = sys.argv[1], json.loads(sys.argv[2]), int(sys.argv[3]), sys.argv[4] == "1", int(sys.argv[5])
    rng = random.Random(seed)
    leaves = list(wnids)
    rng.shuffle(leaves)
    inner = ["n00001740", "n00021939"]
    fields = ["ILSVRC2012_ID", "WNID", "words", "gloss", "num_children", "children", "wordnet_height", "num_train_images"]
    synsets = np.zeros(len(leaves) + len(inner), dtype=[(f, object) for f in fields])
    for i, wnid in enumerate(leaves + inner):
        leaf = i < len(leaves)
        synsets[i] = (i + 1, wnid, f"words of {wnid}", f"gloss of {wnid}", 0 if leaf else 2,
                      np.zeros((1, 0)) if leaf else np.array([[1, 2]], dtype=np.float64), 0 if leaf else 1, 1300 if leaf else 0)
    data = os.path.join(out, "ILSVRC2012_devkit_t12", "data")
    os.makedirs(data, exist_ok=True)
    scipy.io.savemat(os.path.join(data, "meta.mat"), {"synsets": synsets.reshape(-1, 1)}, do_compression=compress)
    truth = [rng.randint(1, len(leaves)) for _ in range(val_images)]
    with open(os.path.join(data, "ILSVRC2012_validation_ground_truth.txt"), "w") as f:
        f.write("".join(f"{t}\n" for t in truth))
    archive = os.path.join(out, "ILSVRC2012_devkit_t12.tar.gz")
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(os.path.join(out, "ILSVRC2012_devkit_t12"), arcname="ILSVRC2012_devkit_t12")
    tv_imagenet._verify_archive = lambda root, file, md5: None
    tv_imagenet.parse_devkit_archive(out)
    meta = os.path.join(out, tv_imagenet.META_FILE)
    _, val_wnids = torch.load(meta)
    os.remove(meta)
    print(json.dumps(val_wnids))


if __name__ == "__main__":
    main()
