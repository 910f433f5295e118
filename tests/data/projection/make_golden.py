#!/usr/bin/python3
"""Expected numbers for core/projection/projection_test.cc from independent references
(numpy SVD, sklearn.manifold.trustworthiness, scipy curve_fit as umap-learn's find_ab_params).
Inputs are closed-form so the C++ test builds the same matrices without data files.
Run with Debian's Python: /usr/bin/python3 tests/data/projection/make_golden.py > tests/data/projection/golden.json"""
import json
import numpy as np
import scipy.optimize
import sklearn
from sklearn.manifold import trustworthiness


def matrix(n, d, salt):
    # Same formula as Formula() in projection_test.cc.
    i = np.arange(n, dtype=np.float64)[:, None]
    j = np.arange(d, dtype=np.float64)[None, :]
    return np.sin(0.37 * i * (j + 1) + salt) + 0.25 * (j + 1) * np.cos(0.11 * i + 0.7 * j) + 0.01 * i


def pca_scores(x, dims):
    xc = x - x.mean(axis=0)
    _, s, vt = np.linalg.svd(xc, full_matrices=False)
    v = vt[:dims].T
    for c in range(dims):  # largest-|loading| entry positive (first index on ties)
        if v[np.argmax(np.abs(v[:, c])), c] < 0:
            v[:, c] = -v[:, c]
    return xc @ v, (s[:dims] ** 2 / (len(x) - 1))


def find_ab(spread, min_dist):
    def curve(x, a, b):
        return 1.0 / (1.0 + a * x ** (2 * b))
    xv = np.linspace(0, spread * 3, 300)
    yv = np.zeros(xv.shape)
    yv[xv < min_dist] = 1.0
    yv[xv >= min_dist] = np.exp(-(xv[xv >= min_dist] - min_dist) / spread)
    params, _ = scipy.optimize.curve_fit(curve, xv, yv)
    return params


out = {"sklearn": sklearn.__version__, "numpy": np.__version__}
x = matrix(40, 6, 0.3)
scores, var = pca_scores(x, 3)
out["pca_small"] = {"n": 40, "d": 6, "salt": 0.3, "dims": 3,
                    "scores": scores.ravel().tolist(), "variances": var.tolist()}
xl = matrix(30, 600, 1.1)  # d > 512: the randomised solver
scores, var = pca_scores(xl, 2)
out["pca_wide"] = {"n": 30, "d": 600, "salt": 1.1, "dims": 2,
                   "scores": scores.ravel().tolist(), "variances": var.tolist()}
hi = matrix(60, 8, 0.5)
lo = matrix(60, 2, 2.0)
out["trustworthiness"] = {"n": 60, "high_d": 8, "high_salt": 0.5, "low_d": 2, "low_salt": 2.0,
                          "k5": trustworthiness(hi, lo, n_neighbors=5),
                          "k12": trustworthiness(hi, lo, n_neighbors=12),
                          "k5_pca": trustworthiness(hi, pca_scores(hi, 2)[0], n_neighbors=5)}
out["umap_ab"] = [{"min_dist": m, "a": float(a), "b": float(b)}
                  for m in (0.001, 0.1, 0.5) for a, b in [find_ab(1.0, m)]]
print(json.dumps(out, indent=1))
