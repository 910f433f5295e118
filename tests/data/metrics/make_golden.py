#!/usr/bin/python3
"""Builds the small deterministic inputs of core/metrics/set_metrics_test.cc and their reference
values, computed independently with numpy/scipy/scikit-learn following the public reference code:
pytorch-fid (FID), torch-fidelity (KID's unbiased MMD^2), prdc (precision/recall/density/coverage,
with exact scipy cdist distances), vendi-score, dgm-eval (AuthPct).

Run with Debian's Python (numpy, scipy, sklearn):  /usr/bin/python3 make_golden.py
Writes CASE_real.npy, CASE_synthetic.npy (float32) and golden.json beside this script.
"""
import gzip
import json
import os

import numpy as np
from scipy import linalg
from scipy.spatial.distance import cdist
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

HERE = os.path.dirname(os.path.abspath(__file__))
PR_K, DC_K = 3, 5


def fid(a, b):
    # pytorch-fid calculate_frechet_distance, eps = 1e-6.
    mu1, mu2 = a.mean(0), b.mean(0)
    s1, s2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    diff = mu1 - mu2
    covmean, _ = linalg.sqrtm(s1.dot(s2), disp=False)
    if not np.isfinite(covmean).all():
        offset = np.eye(s1.shape[0]) * 1e-6
        covmean = linalg.sqrtm((s1 + offset).dot(s2 + offset))
    if np.iscomplexobj(covmean):
        if not np.allclose(np.diagonal(covmean).imag, 0, atol=1e-3):
            raise ValueError("imaginary component")
        covmean = covmean.real
    return float(diff.dot(diff) + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean))


def mmd2(f1, f2):
    # torch-fidelity mmd2 with the polynomial kernel (x.y/d + 1)^3, equal subset sizes.
    d = f1.shape[1]
    k = lambda x, y: (x @ y.T / d + 1.0) ** 3
    k11, k22, k12 = k(f1, f1), k(f2, f2), k(f1, f2)
    m = f1.shape[0]
    kt_xx = (k11.sum(-1) - np.diag(k11)).sum()
    kt_yy = (k22.sum(-1) - np.diag(k22)).sum()
    return float((kt_xx + kt_yy) / (m * (m - 1)) - 2 * k12.sum() / m ** 2)


def kth_radii(x, k):
    # prdc compute_nearest_neighbour_distances, with exact distances (self at column i is 0).
    d = cdist(x, x)
    return np.partition(d, k, axis=-1)[:, k]


def prdc(real, fake):
    rr_pr, rr_dc, rf_pr = kth_radii(real, PR_K), kth_radii(real, DC_K), kth_radii(fake, PR_K)
    d = cdist(real, fake)  # real x fake
    precision = (d <= rr_pr[:, None]).any(axis=0).mean()
    recall = (d <= rf_pr[None, :]).any(axis=1).mean()
    # prdc counts density strictly inside the balls; precision/recall use <= (Kynkaanniemi).
    density = (1.0 / DC_K) * (d < rr_dc[:, None]).sum(axis=0).mean()
    coverage = (d.min(axis=1) < rr_dc).mean()
    return dict(precision=float(precision), recall=float(recall), density=float(density),
                coverage=float(coverage))


def vendi(x):
    n = x.shape[0]
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    x = x / norms
    w = linalg.eigvalsh(x @ x.T / n)
    w = w[w > 0]
    return float(np.exp(-(w * np.log(w)).sum()))


def authpct(real, fake):
    # dgm-eval compute_authpct: authentic if the nearest real row's own NN distance < gen distance.
    rr = cdist(real, real)
    np.fill_diagonal(rr, np.inf)
    real_nn = rr.min(axis=1)
    gd = cdist(real, fake)
    nearest = gd.argmin(axis=0)
    authen = real_nn[nearest] < gd.min(axis=0)
    cos = (real / np.linalg.norm(real, axis=1, keepdims=True)) @ (
        fake / np.linalg.norm(fake, axis=1, keepdims=True)).T
    copy = (cos.max(axis=0) >= 0.5).mean()
    return float(100.0 * authen.mean()), float(copy)


def logistic(real, fake):
    # Real = 0, synthetic = 1; StandardScaler (ddof 0) then sklearn's L2 logistic regression, C=1.
    x = np.vstack([real, fake])
    y = np.r_[np.zeros(len(real)), np.ones(len(fake))]
    xs = StandardScaler().fit_transform(x)
    clf = LogisticRegression(C=1.0, tol=1e-12, max_iter=10000).fit(xs, y)
    return [float(v) for v in clf.coef_[0]], float(clf.intercept_[0])


def load_fashion(n_each):
    root = "/usr/share/datasets/fashion-mnist"
    def images(name):
        with gzip.open(os.path.join(root, name)) as f:
            return np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 784).astype(np.float64) / 255
    def labels(name):
        with gzip.open(os.path.join(root, name)) as f:
            return np.frombuffer(f.read(), np.uint8, offset=8).astype(np.int64)
    tr, te = images("train-images-idx3-ubyte.gz")[:n_each], images("t10k-images-idx3-ubyte.gz")[:n_each]
    ltr, lte = labels("train-labels-idx1-ubyte.gz")[:n_each], labels("t10k-labels-idx1-ubyte.gz")[:n_each]
    pca = PCA(n_components=32, random_state=0).fit(tr)
    return pca.transform(tr), pca.transform(te), ltr, lte


def load_fashion_encoder(n_each):
    """The bundled SimCLR encoder's 512-d embeddings (TorchScript, run by Debian's python3-torch)
    of the first n_each Fashion-MNIST train and test images: real embeddings, N < d."""
    import json
    import torch
    root = "/usr/share/datasets/fashion-mnist"
    pkg = os.path.join(HERE, "..", "..", "..", "resources", "models", "fmnist-encoder")
    manifest = json.load(open(os.path.join(pkg, "model.json")))
    mean, std = manifest["input"]["mean"][0], manifest["input"]["std"][0]
    encoder = torch.jit.load(os.path.join(pkg, manifest["files"]["encoder"])).eval()
    def images(name):
        with gzip.open(os.path.join(root, name)) as f:
            x = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 1, 28, 28)[:n_each]
        with torch.no_grad():
            t = (torch.from_numpy(x.astype(np.float32)) / 255 - mean) / std
            return encoder(t).double().numpy()
    return images("train-images-idx3-ubyte.gz"), images("t10k-images-idx3-ubyte.gz")


def main():
    rng = np.random.default_rng(20240611)
    cases = {}
    d = 16
    cases["identical"] = (rng.standard_normal((300, d)), rng.standard_normal((300, d)))
    cases["shifted"] = (rng.standard_normal((300, d)), rng.standard_normal((300, d)) + 0.5)
    real = rng.standard_normal((200, d))
    # Five real rows copied 40 times each: exact zero distances, zero synthetic radii.
    cases["collapsed"] = (real, np.repeat(real[:5], 40, axis=0))
    # N < d: rank-deficient covariances.
    cases["rank_deficient"] = (rng.standard_normal((40, 64)), 0.8 * rng.standard_normal((50, 64)) + 0.2)
    tr, te, ltr, lte = load_fashion(500)
    cases["fashion_pca32"] = (tr, te)
    cases["fashion_encoder"] = load_fashion_encoder(200)

    golden = {"pr_k": PR_K, "dc_k": DC_K, "cases": {}}
    for name, (a, b) in cases.items():
        a32, b32 = a.astype(np.float32), b.astype(np.float32)
        np.save(os.path.join(HERE, f"{name}_real.npy"), a32)
        np.save(os.path.join(HERE, f"{name}_synthetic.npy"), b32)
        a64, b64 = a32.astype(np.float64), b32.astype(np.float64)
        g = {"n_real": len(a), "n_synthetic": len(b), "dim": a.shape[1], "fid": fid(a64, b64)}
        g.update(prdc(a64, b64))
        g["vendi_real"], g["vendi_synthetic"] = vendi(a64), vendi(b64)
        g["authpct"], g["copy_fraction_cos0.5"] = authpct(a64, b64)
        if len(a) == len(b):
            g["mmd2_full"] = mmd2(a64, b64)
        if name == "shifted":
            g["logistic_coef"], g["logistic_intercept"] = logistic(a64, b64)
        golden["cases"][name] = g
    np.savetxt(os.path.join(HERE, "fashion_pca32_real_labels.txt"), ltr, fmt="%d")
    np.savetxt(os.path.join(HERE, "fashion_pca32_synthetic_labels.txt"), lte, fmt="%d")
    # Per-class reference of the real-data case: classes present in both sets.
    a64 = cases["fashion_pca32"][0].astype(np.float32).astype(np.float64)
    b64 = cases["fashion_pca32"][1].astype(np.float32).astype(np.float64)
    per_class = {}
    for c in sorted(set(ltr) & set(lte)):
        pa, pb = a64[ltr == c], b64[lte == c]
        if min(len(pa), len(pb)) > DC_K:
            e = {"n_real": int(len(pa)), "n_synthetic": int(len(pb)), "fid": fid(pa, pb)}
            e.update(prdc(pa, pb))
            per_class[str(int(c))] = e
    golden["cases"]["fashion_pca32"]["per_class"] = per_class
    with open(os.path.join(HERE, "golden.json"), "w") as f:
        json.dump(golden, f, indent=1, sort_keys=True)


if __name__ == "__main__":
    main()
