#!/usr/bin/python3
"""Writes test/fixtures/mi/resnet20-mis.json: scikit-learn's mutual_info_classif (n_neighbors=3, random_state=0)
(and its estimator without the tie-breaking noise) between each pooled feature of the pretrained ResNet20 on the 10,000 CIFAR-10 test images and each class
indicator, and the MIS it gives (mean over channels of the best class), the oracle for MIS in
src/method/mutual-info.ts (test oracle only, never product code).

Reads the features this project cached (run `npx decomp eval --model resnet20 --norm cifar` first), a decomp
tensor file: "DCTN", version, header length (u32 LE each), JSON header, float32 tensors in header order.
Run with Debian's python (scikit-learn 1.2):  /usr/bin/python3 scripts/make-mis-fixture.py [FEATURE_FILE]
"""
import glob
import json
import os
import struct
import sys

import numpy as np
from sklearn.feature_selection import mutual_info_classif
from sklearn.feature_selection._mutual_info import _compute_mi_cd

ROOT = os.path.join(os.path.dirname(__file__), "..")
OUT = os.path.join(ROOT, "test", "fixtures", "mi", "resnet20-mis.json")


def read_tensor_file(path):
    raw = open(path, "rb").read()
    magic, version, header_len = struct.unpack_from("<III", raw, 0)
    assert magic == 0x4E544344 and version == 1, f"{path} is not a decomp tensor file"
    header = json.loads(raw[12:12 + header_len])
    offset = 12 + header_len
    tensors = {}
    for t in header["tensors"]:
        n = int(np.prod(t["shape"]))
        tensors[t["name"]] = np.frombuffer(raw, dtype="<f4", count=n, offset=offset).reshape(t["shape"])
        offset += 4 * n
    return tensors, header["meta"]


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else glob.glob(os.path.join(ROOT, "data", "cache", "features", "resnet20-*-test-cifar-plain-all.bin"))[0]
    tensors, meta = read_tensor_file(path)
    x = tensors["features"].astype(np.float64)
    labels = tensors["labels"].astype(int)
    classes = int(meta["classes"])
    mi = np.stack([mutual_info_classif(x, (labels == c).astype(int), n_neighbors=3, random_state=0) for c in range(classes)])
    mis = float(mi.max(axis=0).mean())
    # The estimator alone, without mutual_info_classif's tie-breaking noise.
    bare = np.array([[_compute_mi_cd(x[:, j], (labels == c).astype(int), 3) for j in range(x.shape[1])] for c in range(classes)])
    with open(OUT, "w") as f:
        json.dump({"features": os.path.basename(path), "backend": meta["backend"], "mis": mis, "misWithoutNoise": float(bare.max(axis=0).mean()), "mi": mi.round(8).tolist()}, f)
    print(f"MIS {mis:.6f} ({float(bare.max(axis=0).mean()):.6f} without noise) over {x.shape[0]} images x {x.shape[1]} channels -> {os.path.normpath(OUT)}")


if __name__ == "__main__":
    main()
