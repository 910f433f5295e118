"""Peer of synthlens_bench_classifier: the same retrain with scikit-learn on the same rows.

StandardScaler + LogisticRegression(C, lbfgs, tol 1e-6) inside 5-fold stratified CV (out-of-fold
probabilities -> AUROC), then a final fit on all rows: the work ArtifactClassifier::Train does.
Run with Debian's /usr/bin/python3:  python3 bench/classifier_peer.py X.npy Y.txt [C] [FOLDS]
"""
import json
import sys
import time

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler


def main():
    x = np.load(sys.argv[1]).astype(np.float64)
    y = np.loadtxt(sys.argv[2], dtype=int)
    c = float(sys.argv[3]) if len(sys.argv) > 3 else 0.1
    folds = int(sys.argv[4]) if len(sys.argv) > 4 else 5
    t0 = time.perf_counter()
    oof = np.zeros(len(y))
    for train, test in StratifiedKFold(folds, shuffle=True, random_state=0).split(x, y):
        model = make_pipeline(StandardScaler(), LogisticRegression(C=c, tol=1e-6, max_iter=1000))
        model.fit(x[train], y[train])
        oof[test] = model.predict_proba(x[test])[:, 1]
    final = make_pipeline(StandardScaler(), LogisticRegression(C=c, tol=1e-6, max_iter=1000))
    final.fit(x, y)
    seconds = time.perf_counter() - t0
    print(json.dumps({"n": len(y), "f": x.shape[1], "folds": folds, "c": c,
                      "seconds": seconds, "cv_auroc": roc_auc_score(y, oof)}))


if __name__ == "__main__":
    main()
