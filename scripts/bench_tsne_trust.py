#!/usr/bin/python3
"""scikit-learn's trustworthiness (k=10) of a projection on the same seeded 5,000-row subsample as
../shared/bench/sklearn_tsne.py, so SynthLens outputs are scored by the peer's own code.
Usage: bench_tsne_trust.py EMB.npy XY.npy"""
import sys

import numpy as np
from sklearn.manifold import trustworthiness

X = np.load(sys.argv[1]).astype(np.float32)
Y = np.load(sys.argv[2])
idx = np.random.default_rng(0).choice(len(X), min(5000, len(X)), replace=False)
print(f"{trustworthiness(X[idx], Y[idx], n_neighbors=10):.4f}")
