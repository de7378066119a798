#!/usr/bin/python3
"""Writes test/fixtures/mi/cases.json: seeded continuous/discrete samples and scikit-learn's k-nearest-neighbour
MI estimate of each (sklearn.feature_selection._mutual_info._compute_mi_cd, the estimator itself, without the
tie-breaking noise mutual_info_classif adds), the oracle for src/method/mutual-info.ts (test oracle only).

Run with Debian's python (scikit-learn 1.2):  /usr/bin/python3 scripts/make-mi-fixtures.py
"""
import json
import os

import numpy as np
import sklearn
from sklearn.feature_selection._mutual_info import _compute_mi_cd

OUT = os.path.join(os.path.dirname(__file__), "..", "test", "fixtures", "mi", "cases.json")


def main():
    rng = np.random.default_rng(0)
    cases = []

    def add(name, c, d, k=3):
        c = np.asarray(c, dtype=np.float64)
        d = np.asarray(d)
        cases.append({"name": name, "neighbours": k, "c": c.tolist(), "d": d.tolist(), "mi": float(_compute_mi_cd(c, d, k))})

    d = rng.integers(0, 3, 300)
    add("three labels, shifted normals", rng.normal(size=300) + 0.8 * d, d)
    add("independent", rng.normal(size=300), rng.integers(0, 4, 300))
    d = rng.integers(0, 2, 400)
    add("ties: values rounded to one decimal", np.round(rng.normal(size=400) + d, 1), d)
    d = rng.integers(0, 10, 500)
    relu = np.maximum(0, rng.normal(size=500) + 0.3 * (d == 2))
    add("ReLU-like: a third exact zeros, binary indicator", relu, (d == 2).astype(int))
    d = np.concatenate([rng.integers(0, 2, 60), [2], [3, 3]])
    add("rare classes: one seen once (left out), one seen twice (k = 1)", rng.normal(size=63) + 0.5 * (d == 1), d)
    d = np.repeat(np.arange(7), [2, 3, 4, 5, 7, 8, 40])
    add("small classes of 2 to 8 samples (scikit-learn's brute-force search) beside a large one", rng.normal(size=d.size) + 0.3 * d, d)
    d = rng.integers(0, 3, 200)
    add("five neighbours", rng.exponential(size=200) * (1 + d), d, 5)
    add("float32 activations", rng.gamma(2.0, size=250).astype(np.float32).astype(np.float64), rng.integers(0, 5, 250))
    with open(OUT, "w") as f:
        json.dump({"sklearn": sklearn.__version__, "cases": cases}, f)
    print(f"wrote {len(cases)} cases to {os.path.normpath(OUT)}")


if __name__ == "__main__":
    main()
