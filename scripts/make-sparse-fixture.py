#!/usr/bin/python3
"""Writes test/fixtures/refit/elasticnet.json: scikit-learn's multinomial LogisticRegression with the elastic-net
penalty (saga, l1_ratio 0.99) at a few lambdas on a small seeded problem, the oracle for the path in
src/method/sparse.ts (test oracle only, never product code). Both sides standardise the features (mean 0,
population standard deviation 1); our objective is mean cross-entropy + lambda (0.99 |W|_1 + 0.01 / 2 |W|^2), which
is scikit-learn's at C = 1 / (lambda N).

Run with Debian's python (python3-sklearn 1.2):  /usr/bin/python3 scripts/make-sparse-fixture.py
"""
import json
import os

import numpy as np
from sklearn.linear_model import LogisticRegression

OUT = os.path.join(os.path.dirname(__file__), "..", "test", "fixtures", "refit", "elasticnet.json")


def main():
    rng = np.random.default_rng(4)
    rows, m, classes = 300, 8, 3
    centres = rng.uniform(0, 2, size=(classes, m))
    centres[:, 5:] = 1  # three features that tell the classes nothing
    labels = np.arange(rows) % classes
    features = np.maximum(0, centres[labels] + rng.normal(0, 0.7, size=(rows, m))).astype(np.float32).round(5)
    x = features.astype(np.float64)
    x = (x - x.mean(0)) / x.std(0)
    points = []
    for lam in [0.2, 0.08, 0.03, 0.01]:
        model = LogisticRegression(penalty="elasticnet", solver="saga", l1_ratio=0.99, C=1 / (lam * rows), tol=1e-10, max_iter=200000).fit(x, labels)
        coef = np.where(np.abs(model.coef_) < 1e-7, 0.0, model.coef_)
        points.append({"lambda": lam, "coef": coef.tolist(), "intercept": model.intercept_.tolist(), "trainAccuracy": float(model.score(x, labels))})
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        json.dump({"features": features.tolist(), "labels": labels.tolist(), "classes": classes, "points": points}, f)
    print(f"{len(points)} lambdas -> {os.path.normpath(OUT)}: non-zeros per class {[[int((np.array(p['coef'][c]) != 0).sum()) for c in range(classes)] for p in points]}")


if __name__ == "__main__":
    main()
