#!/usr/bin/python3
"""Writes the MIS fixture of the pretrained ResNet20 on the 10,000 CIFAR-10 test images (test oracle only, never
product code), the oracle for MIS in src/method/mutual-info.ts:

- test/fixtures/mi/resnet20-test-features.npy.gz and -labels.npy.gz: the pooled features (float32, 10000 x 64) and
  labels the numbers below were computed on, so the test compares estimators on identical inputs whatever CPU
  extracted them (features from another CPU differ in the 7th digit, which moves the kNN estimate by ~2e-6);
- test/fixtures/mi/resnet20-mis.json: scikit-learn's mutual_info_classif (n_neighbors=3) between each feature and
  each class indicator, the MIS it gives (mean over features of the best class) with random_state=0 and for
  random_state 0..9 (the spread its tie-breaking jitter alone causes), and its estimator without the jitter.

Reads the features this project cached (run `npx decomp eval --model resnet20 --norm cifar` first), a decomp
tensor file: "DCTN", version, header length (u32 LE each), JSON header, float32 tensors in header order.
Run with Debian's python (python3-sklearn 1.2):  /usr/bin/python3 scripts/make-mis-fixture.py [FEATURE_FILE]
"""
import glob
import gzip
import io
import json
import os
import struct
import sys

import numpy as np
from sklearn.feature_selection import mutual_info_classif
from sklearn.feature_selection._mutual_info import _compute_mi_cd

ROOT = os.path.join(os.path.dirname(__file__), "..")
OUT = os.path.join(ROOT, "test", "fixtures", "mi")
JITTER_SEEDS = range(10)


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


def save_npy_gz(path, array):
    buffer = io.BytesIO()
    np.save(buffer, array)
    with open(path, "wb") as f:
        f.write(gzip.compress(buffer.getvalue(), 9, mtime=0))


def mis(x, labels, classes, seed):
    mi = np.stack([mutual_info_classif(x, (labels == c).astype(int), n_neighbors=3, random_state=seed) for c in range(classes)])
    return float(mi.max(axis=0).mean()), mi


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else glob.glob(os.path.join(ROOT, "data", "cache", "features", "resnet20-*-test-cifar-plain-all.bin"))[0]
    tensors, meta = read_tensor_file(path)
    features = tensors["features"].astype("<f4")
    labels = tensors["labels"].astype("u1")
    classes = int(meta["classes"])
    save_npy_gz(os.path.join(OUT, "resnet20-test-features.npy.gz"), features)
    save_npy_gz(os.path.join(OUT, "resnet20-test-labels.npy.gz"), labels)
    x = features.astype(np.float64)
    value, mi = mis(x, labels, classes, 0)
    spread = [mis(x, labels, classes, seed)[0] for seed in JITTER_SEEDS]
    # The estimator alone, without mutual_info_classif's tie-breaking noise.
    bare = np.array([[_compute_mi_cd(x[:, j], (labels == c).astype(int), 3) for j in range(x.shape[1])] for c in range(classes)])
    with open(os.path.join(OUT, "resnet20-mis.json"), "w") as f:
        json.dump({
            "features": os.path.basename(path), "backend": meta["backend"], "mis": value, "misBySeed": spread,
            "misWithoutNoise": float(bare.max(axis=0).mean()), "mi": mi.round(8).tolist(),
        }, f)
    print(f"MIS {value:.6f} (seeds 0-9: {min(spread):.6f}..{max(spread):.6f}; {float(bare.max(axis=0).mean()):.6f} without noise) over {x.shape[0]} images x {x.shape[1]} channels -> {os.path.normpath(OUT)}")


if __name__ == "__main__":
    main()
