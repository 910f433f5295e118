#!/usr/bin/python3
"""Inputs and independent reference values of core/metrics/bias_report_test.cc.

Chi-square: scipy.stats.chisquare / chi2.sf / special.gammaincc. KS: scipy.stats.ks_2samp
(method="exact" for the small cases; for the large case scipy's kstwobign.sf of the limit, which is
our "asymp" method). Histograms: numpy.histogram. Recall/coverage: prdc formulas with exact scipy
cdist distances (recall <= radius as Kynkaanniemi et al., coverage strict < as prdc). FID: pytorch-fid.
Vendi: vendi-score (eigenvalues of the cosine kernel / n).

Run with Debian's Python:  /usr/bin/python3 make_golden.py
"""
import json
import os

import numpy as np
from scipy import linalg, special, stats
from scipy.spatial.distance import cdist

HERE = os.path.dirname(os.path.abspath(__file__))
RECALL_K, COVERAGE_K, BINS = 3, 5, 32


def fid(a, b):
    mu1, mu2 = a.mean(0), b.mean(0)
    s1, s2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    covmean, _ = linalg.sqrtm(s1.dot(s2), disp=False)
    covmean = covmean.real
    diff = mu1 - mu2
    return float(diff.dot(diff) + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean))


def radii(x, k):
    return np.partition(cdist(x, x), k, axis=-1)[:, k]


def recall(real, fake, k):
    d = cdist(real, fake)  # real x fake
    return float((d <= radii(fake, k)[None, :]).any(axis=1).mean())


def coverage(real, fake, k):
    d = cdist(real, fake)
    return float((d.min(axis=1) < radii(real, k)).mean())


def vendi(x):
    n = x / np.linalg.norm(x, axis=1, keepdims=True)
    w = np.linalg.eigvalsh(n @ n.T / len(x))
    w = w[w > 0]
    return float(np.exp(-(w * np.log(w)).sum()))


def save(name, a):
    np.save(os.path.join(HERE, name + ".npy"), np.asarray(a, dtype=np.float64).reshape(len(a), -1))


def main():
    rng = np.random.default_rng(7)
    out = {"recall_k": RECALL_K, "coverage_k": COVERAGE_K, "bins": BINS}

    # Regularised upper incomplete gamma on a grid (series and continued-fraction branches).
    grid = []
    for a in [0.5, 1.0, 2.5, 7.0, 30.0, 200.0]:
        for x in [1e-3, 0.3, 1.0, 3.0, a, a + 1.5, 2 * a + 5, 5 * a + 20]:
            grid.append([a, x, float(special.gammaincc(a, x))])
    out["gamma_q"] = grid
    out["chi2_sf"] = [[s, d, float(stats.chi2.sf(s, d))] for s, d in
                      [(0.5, 1), (3.84, 1), (10.0, 4), (25.0, 9), (120.0, 80), (300.0, 9)]]

    # KS cases: small (exact), unequal sizes, ties, and a large asymptotic one.
    ks = {}
    cases = {
        "equal50": (rng.normal(0, 1, 50), rng.normal(0.4, 1, 50)),
        "unequal": (rng.normal(0, 1, 40), rng.normal(0.3, 1.3, 73)),
        "ties": (rng.integers(0, 6, 60).astype(float), rng.integers(1, 7, 45).astype(float)),
        "same": (rng.normal(0, 1, 200), rng.normal(0, 1, 300)),
        "large": (rng.normal(0, 1, 12000), rng.normal(0.02, 1, 11000)),
    }
    for name, (a, b) in cases.items():
        save("ks_" + name + "_a", a)
        save("ks_" + name + "_b", b)
        if name == "large":
            r = stats.ks_2samp(a, b, method="asymp")
            en = len(a) * len(b) / (len(a) + len(b))
            ks[name] = {"statistic": float(r.statistic),
                        "p_value": float(stats.kstwobign.sf(np.sqrt(en) * r.statistic)),
                        "scipy_asymp_p_value": float(r.pvalue), "method": "asymp"}
        else:
            r = stats.ks_2samp(a, b, method="exact")
            ks[name] = {"statistic": float(r.statistic), "p_value": float(r.pvalue),
                        "method": "exact"}
    out["ks"] = ks

    # A whole report: 4 classes, d = 6. Synthetic class 0 matches, 1 is collapsed onto 3 points,
    # 2 is shifted, 3 has too few rows; class 4 exists only in the synthetic set.
    d = 6
    centres = rng.normal(0, 3, (5, d))
    real_n = {0: 40, 1: 35, 2: 30, 3: 6}
    synth_n = {0: 45, 1: 30, 2: 20, 3: 5, 4: 4}
    real, rl, synth, sl = [], [], [], []
    for c, n in real_n.items():
        real.append(centres[c] + rng.normal(0, 1, (n, d)))
        rl += [c] * n
    for c, n in synth_n.items():
        if c == 1:
            base = centres[c] + rng.normal(0, 1, (3, d))
            x = base[rng.integers(0, 3, n)] + rng.normal(0, 0.05, (n, d))
        elif c == 2:
            x = centres[c] + 1.5 + rng.normal(0, 1, (n, d))
        else:
            x = centres[c] + rng.normal(0, 1, (n, d))
        synth.append(x)
        sl += [c] * n
    real = np.vstack(real).astype(np.float32)
    synth = np.vstack(synth).astype(np.float32)
    rl.append(-1)  # one unknown row each
    real = np.vstack([real, rng.normal(0, 1, (1, d)).astype(np.float32)])
    sl.append(-1)
    synth = np.vstack([synth, rng.normal(0, 1, (1, d)).astype(np.float32)])
    np.save(os.path.join(HERE, "report_real.npy"), real)
    np.save(os.path.join(HERE, "report_synthetic.npy"), synth)
    with open(os.path.join(HERE, "report_real_classes.txt"), "w") as f:
        f.write(" ".join(map(str, rl)) + "\n")
    with open(os.path.join(HERE, "report_synthetic_classes.txt"), "w") as f:
        f.write(" ".join(map(str, sl)) + "\n")
    r64, s64 = real.astype(np.float64), synth.astype(np.float64)
    rl, sl = np.array(rl), np.array(sl)

    # Class balance: classes 0..4; the test covers classes with real count > 0 (0..3).
    names = ["zero", "one", "two", "three", "four"]
    rc = np.array([(rl == c).sum() for c in range(5)])
    sc = np.array([(sl == c).sum() for c in range(5)])
    pr, ps = rc / rc.sum(), sc / sc.sum()
    tested = rc > 0
    m_tested = sc[tested].sum()
    chi = stats.chisquare(sc[tested], m_tested * pr[tested])
    out["report"] = {
        "class_names": names,
        "real_counts": rc.tolist(), "synthetic_counts": sc.tolist(),
        "chi2": float(chi.statistic), "chi2_p": float(chi.pvalue), "chi2_dof": int(tested.sum() - 1),
        "total_variation": float(0.5 * np.abs(pr - ps).sum()),
        "most_over": int(np.argmax(ps - pr)), "most_under": int(np.argmin(ps - pr)),
    }

    # Per-image stats (real 112 rows, synthetic 105 rows); "sharpness" shifted, "noise" only real.
    stats_real = {"brightness": rng.normal(0.5, 0.1, len(rl)), "sharpness": rng.gamma(2, 1, len(rl)),
                  "noise": rng.normal(0, 1, len(rl))}
    stats_synth = {"brightness": rng.normal(0.5, 0.1, len(sl)),
                   "sharpness": rng.gamma(2, 1, len(sl)) + 1.0}
    stats_real["brightness"][3] = np.nan  # dropped
    for k, v in stats_real.items():
        save("stat_real_" + k, v)
    for k, v in stats_synth.items():
        save("stat_synthetic_" + k, v)
    shifts = {}
    for k in ["brightness", "sharpness"]:
        a = stats_real[k][~np.isnan(stats_real[k])]
        b = stats_synth[k]
        r = stats.ks_2samp(a, b, method="exact")
        lo, hi = min(a.min(), b.min()), max(a.max(), b.max())
        ca, edges = np.histogram(a, BINS, range=(lo, hi))
        cb, _ = np.histogram(b, BINS, range=(lo, hi))
        shifts[k] = {"statistic": float(r.statistic), "p_value": float(r.pvalue),
                     "real_mean": float(a.mean()), "real_median": float(np.median(a)),
                     "real_std": float(a.std()), "synthetic_mean": float(b.mean()),
                     "synthetic_median": float(np.median(b)), "synthetic_std": float(b.std()),
                     "edges": edges.tolist(), "real_counts": ca.tolist(),
                     "synthetic_counts": cb.tolist()}
    out["report"]["shifts"] = shifts

    div = {"vendi_real": vendi(r64), "vendi_synthetic": vendi(s64),
           "recall": recall(r64, s64, RECALL_K), "coverage": coverage(r64, s64, COVERAGE_K),
           "per_class": {}}
    for c in range(5):
        a, b = r64[rl == c], s64[sl == c]
        if len(a) < 10 or len(b) < 10:
            continue
        div["per_class"][str(c)] = {
            "vendi_real": vendi(a), "vendi_synthetic": vendi(b),
            "recall": recall(a, b, RECALL_K), "coverage": coverage(a, b, COVERAGE_K),
            "fid": fid(a, b)}
    out["report"]["diversity"] = div

    with open(os.path.join(HERE, "golden.json"), "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
