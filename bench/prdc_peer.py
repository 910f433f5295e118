#!/usr/bin/python3
"""Peer of synthlens_bench_metrics: precision/recall/density/coverage exactly as the `prdc`
package (Naeem et al. 2020, github.com/clovaai/generative-evaluation-prdc) computes them, on
scikit-learn's pairwise_distances (n_jobs=8 as prdc passes), for N(0, I) float32 sets.

  nice -n 19 /usr/bin/python3 bench/prdc_peer.py --n 10000 --d 2048 --k 5

Prints one JSON object with the seconds of compute_prdc (data generation excluded). Memory: three
dense float32 distance matrices (n x n, m x m, n x m): 50,000 rows need ~30 GB, so measure <= 10k.
"""
import argparse
import json
import time

import numpy as np
import sklearn.metrics


def compute_pairwise_distance(data_x, data_y=None):
    if data_y is None:
        data_y = data_x
    return sklearn.metrics.pairwise_distances(data_x, data_y, metric="euclidean", n_jobs=8)


def get_kth_value(unsorted, k, axis=-1):
    indices = np.argpartition(unsorted, k, axis=axis)[..., :k]
    k_smallests = np.take_along_axis(unsorted, indices, axis=axis)
    return k_smallests.max(axis=axis)


def compute_nearest_neighbour_distances(input_features, nearest_k):
    distances = compute_pairwise_distance(input_features)
    return get_kth_value(distances, k=nearest_k + 1, axis=-1)


def compute_prdc(real_features, fake_features, nearest_k):
    real_nearest_neighbour_distances = compute_nearest_neighbour_distances(real_features, nearest_k)
    fake_nearest_neighbour_distances = compute_nearest_neighbour_distances(fake_features, nearest_k)
    distance_real_fake = compute_pairwise_distance(real_features, fake_features)
    precision = (distance_real_fake < np.expand_dims(real_nearest_neighbour_distances, axis=1)
                 ).any(axis=0).mean()
    recall = (distance_real_fake < np.expand_dims(fake_nearest_neighbour_distances, axis=0)
              ).any(axis=1).mean()
    density = (1.0 / float(nearest_k)) * (
        distance_real_fake < np.expand_dims(real_nearest_neighbour_distances, axis=1)).sum(axis=0).mean()
    coverage = (distance_real_fake.min(axis=1) < real_nearest_neighbour_distances).mean()
    return dict(precision=float(precision), recall=float(recall), density=float(density),
                coverage=float(coverage))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--n", type=int, default=10000)
    p.add_argument("--d", type=int, default=2048)
    p.add_argument("--k", type=int, default=5)
    a = p.parse_args()
    rng = np.random.default_rng(0)
    real = rng.standard_normal((a.n, a.d), dtype=np.float32)
    fake = rng.standard_normal((a.n, a.d), dtype=np.float32)
    t0 = time.perf_counter()
    r = compute_prdc(real, fake, a.k)
    r.update(n=a.n, d=a.d, k=a.k, seconds=time.perf_counter() - t0)
    print(json.dumps(r))


if __name__ == "__main__":
    main()
