#!/usr/bin/python3
"""Writes test/fixtures/probe/: references for the stage probes and the class tree (test oracles only).

- probe.json: non-negative features of 4 classes (seeded), scaled per channel by scikit-learn's
  StandardScaler(with_mean=False); LogisticRegression(lbfgs, multinomial) at C = 1 / (n * l2), which is our
  objective mean cross-entropy + l2 / 2 |W|^2 times n; coefficients, intercepts and test predictions.
- linkage.json: SciPy's linkage(method="average") of 9 seeded points, and of the 10 x 10 distance matrix given.
- ari.json: scikit-learn's adjusted_rand_score on seeded labellings.

Run with Debian's python:  /usr/bin/python3 scripts/make-probe-fixture.py
"""
import json
import os

import numpy as np
import sklearn
from scipy.cluster.hierarchy import linkage
from scipy.spatial.distance import pdist, squareform
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import adjusted_rand_score
from sklearn.preprocessing import StandardScaler

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "test", "fixtures", "probe")
SEED = 20261205


def features(rng, n, classes, width):
    labels = rng.randint(0, classes, n)
    centres = rng.uniform(0, 2, (classes, width)) * rng.uniform(0.2, 3, width)
    x = np.maximum(0, centres[labels] + rng.normal(0, 0.8, (n, width)) * rng.uniform(0.2, 3, width))
    return x.astype(np.float32), labels


def main():
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.RandomState(SEED)
    classes, width, l2 = 4, 12, 1e-2
    xtr, ytr = features(rng, 400, classes, width)
    xte, yte = features(np.random.RandomState(SEED + 1), 300, classes, width)
    scaler = StandardScaler(with_mean=False).fit(xtr.astype(np.float64))
    model = LogisticRegression(C=1.0 / (len(ytr) * l2), solver="lbfgs", multi_class="multinomial", tol=1e-12, max_iter=100000)
    model.fit(scaler.transform(xtr.astype(np.float64)), ytr)
    probe = {"sklearn": sklearn.__version__, "classes": classes, "width": width, "l2": l2,
             "train": {"features": xtr.ravel().tolist(), "labels": ytr.tolist()},
             "test": {"features": xte.ravel().tolist(), "labels": yte.tolist()},
             "scale": scaler.scale_.tolist(),
             "coef": model.coef_.ravel().tolist(), "intercept": model.intercept_.tolist(),
             "testPredictions": model.predict(scaler.transform(xte.astype(np.float64))).tolist()}
    with open(os.path.join(OUT, "probe.json"), "w") as f:
        json.dump(probe, f)

    points = rng.normal(0, 1, (9, 3))
    matrix = squareform(pdist(rng.normal(0, 1, (10, 4))))
    with open(os.path.join(OUT, "linkage.json"), "w") as f:
        json.dump({"points": points.tolist(), "pointsLinkage": linkage(pdist(points), method="average").tolist(),
                   "distance": matrix.ravel().tolist(), "distanceLinkage": linkage(squareform(matrix), method="average").tolist()}, f)

    pairs = []
    for size, ka, kb in [(10, 2, 2), (30, 3, 5), (50, 4, 4), (12, 1, 3)]:
        a, b = rng.randint(0, ka, size), rng.randint(0, kb, size)
        pairs.append({"a": a.tolist(), "b": b.tolist(), "ari": adjusted_rand_score(a, b)})
    with open(os.path.join(OUT, "ari.json"), "w") as f:
        json.dump(pairs, f)


if __name__ == "__main__":
    main()
