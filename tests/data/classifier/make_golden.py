#!/usr/bin/python3
"""Reference model of core/metrics/artifact_classifier_test.cc: scikit-learn's StandardScaler +
LogisticRegression(C) (lbfgs, tol 1e-10) fitted on all labelled rows, its probabilities on held-out
rows, and roc_auc_score of a fixed score vector.

Run with Debian's Python:  /usr/bin/python3 make_golden.py
"""
import json
import os

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.preprocessing import StandardScaler

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    rng = np.random.default_rng(11)
    n, n_test, f = 300, 50, 24
    # Features on very different scales (embedding-like and score-like columns), one constant.
    scale = np.concatenate([np.full(16, 0.05), np.array([1, 10, 100, 0.5, 3, 7, 1, 1.0])])
    x = rng.normal(0, 1, (n + n_test, f)) * scale + rng.normal(0, 2, f)
    x[:, 20] = 4.0
    w = rng.normal(0, 1, f)
    w[20] = 0
    z = (x - x.mean(0)) / np.where(x.std(0) > 0, x.std(0), 1) @ w * 0.6
    y = (rng.uniform(size=n + n_test) < 1 / (1 + np.exp(-z))).astype(int)
    xtr, ytr, xte = x[:n], y[:n], x[n:]
    out = {"cases": {}}
    for c in [0.1, 1.0]:
        scaler = StandardScaler().fit(xtr)
        model = LogisticRegression(C=c, tol=1e-10, max_iter=100000).fit(scaler.transform(xtr), ytr)
        out["cases"][str(c)] = {
            "c": c,
            "coef": model.coef_[0].tolist(),
            "intercept": float(model.intercept_[0]),
            "train_probability": model.predict_proba(scaler.transform(xtr))[:, 1].tolist(),
            "test_probability": model.predict_proba(scaler.transform(xte))[:, 1].tolist(),
        }
    out["mean"] = xtr.mean(0).tolist()
    out["std"] = np.where(xtr.std(0) > 0, xtr.std(0), 1).tolist()
    np.save(os.path.join(HERE, "train_x.npy"), xtr.astype(np.float64))
    np.save(os.path.join(HERE, "test_x.npy"), xte.astype(np.float64))
    with open(os.path.join(HERE, "train_y.txt"), "w") as fh:
        fh.write(" ".join(map(str, ytr)) + "\n")
    with open(os.path.join(HERE, "golden.json"), "w") as fh:
        json.dump(out, fh, indent=1)
        fh.write("\n")
    print("positives", ytr.sum(), "of", n)


if __name__ == "__main__":
    main()
