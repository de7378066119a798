#!/usr/bin/python3
"""Writes test/fixtures/refit/logistic.json: scikit-learn's multinomial LogisticRegression (lbfgs) on small
seeded problems restricted to given feature columns, the oracle for the refit scoring in src/method/refit.ts
(test oracle only, never product code). Our objective is mean cross-entropy + l2 / 2 |W|^2 with the intercepts
unpenalised; scikit-learn's is C x summed cross-entropy + |W|^2 / 2, the same problem at C = 1 / (l2 N).

Run with Debian's python (python3-sklearn 1.2):  /usr/bin/python3 scripts/make-refit-fixture.py
"""
import json
import os

import numpy as np
from sklearn.linear_model import LogisticRegression

OUT = os.path.join(os.path.dirname(__file__), "..", "test", "fixtures", "refit", "logistic.json")


def case(seed, rows, m, classes, columns, l2):
    rng = np.random.default_rng(seed)
    centres = rng.uniform(0, 2, size=(classes, m))
    labels = np.arange(rows) % classes
    features = np.maximum(0, centres[labels] + rng.normal(0, 0.8, size=(rows, m))).astype(np.float32)
    x = features[:, columns].astype(np.float64)
    model = LogisticRegression(C=1 / (l2 * rows), solver="lbfgs", tol=1e-12, max_iter=100000).fit(x, labels)
    return {
        "features": features.round(6).tolist(), "labels": labels.tolist(), "classes": classes, "columns": columns, "l2": l2,
        "coef": model.coef_.tolist(), "intercept": model.intercept_.tolist(), "trainAccuracy": float(model.score(x, labels)),
    }


def main():
    cases = [case(1, 240, 8, 3, [0, 2, 5], 1e-2), case(2, 300, 10, 4, list(range(10)), 1e-3), case(3, 200, 6, 2, [1, 4], 1e-1)]
    # Features as written (rounded to 6 decimals) are what both sides fit: refit on the rounded values.
    for c in cases:
        x = np.array(c["features"], dtype=np.float32).astype(np.float64)[:, c["columns"]]
        labels = np.array(c["labels"])
        # Two classes: scikit-learn fits one row d = W1 - W0 with |d|^2 / 2; our two rows at their optimum are -d/2, d/2,
        # whose penalty l2 / 2 (|d|^2 / 4 + |d|^2 / 4) is l2 / 4 |d|^2: the same problem at C = 2 / (l2 N).
        scale = 2 if c["classes"] == 2 else 1
        model = LogisticRegression(C=scale / (c["l2"] * len(labels)), solver="lbfgs", tol=1e-12, max_iter=100000).fit(x, labels)
        c["coef"], c["intercept"], c["trainAccuracy"] = model.coef_.tolist(), model.intercept_.tolist(), float(model.score(x, labels))
        if c["classes"] == 2:
            w = np.array(c["coef"])[0]
            c["coef"] = [(-w / 2).tolist(), (w / 2).tolist()]
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        json.dump({"cases": cases}, f)
    print(f"{len(cases)} cases -> {os.path.normpath(OUT)}")


if __name__ == "__main__":
    main()
