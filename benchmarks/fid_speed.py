"""Time our Fréchet distance (cached real factor) against pytorch-fid's and torch-fidelity's, one process.

The peers run first, so that any thread-pool interference between numpy's BLAS and torch slows ours, not theirs.

All three get the same float64 2048-d statistics. Ours is timed per evaluation (the real factor is computed once
per dataset and reported separately); the peers recompute everything each call, as they do in practice.

    .venv/bin/python benchmarks/fid_speed.py [--dim 2048] [--device cpu|cuda] [--repeats 3]
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import torch

from ttur.metrics.fid import RealReference, frechet_distance


def gaussian_stats(rng: np.random.Generator, n: int, dim: int, shift: float) -> tuple[np.ndarray, np.ndarray]:
    """Mean and covariance of n features with a decaying spectrum (like pool3 features), float64."""
    basis, _ = np.linalg.qr(rng.standard_normal((dim, dim)))
    scales = np.arange(1, dim + 1) ** -0.5
    features = (rng.standard_normal((n, dim)) * scales) @ basis.T + shift
    return features.mean(axis=0), np.cov(features, rowvar=False)


def timed(fn, repeats: int) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        best = min(best, time.perf_counter() - start)
    return best, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dim", type=int, default=2048)
    parser.add_argument("--samples", type=int, default=10_000, help="features behind each covariance")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--repeats", type=int, default=3, help="repeats of our per-evaluation step (best is kept)")
    parser.add_argument("--peer-repeats", type=int, default=1)
    args = parser.parse_args()
    device = torch.device(args.device)
    rng = np.random.default_rng(0)
    mu1, sigma1 = gaussian_stats(rng, args.samples, args.dim, 0.0)
    mu2, sigma2 = gaussian_stats(rng, args.samples, args.dim, 0.05)
    print(f"dim {args.dim}, float64, device {device}, torch threads {torch.get_num_threads()}")

    from pytorch_fid.fid_score import calculate_frechet_distance
    from torch_fidelity.metric_fid import fid_statistics_to_metric

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # scipy's sqrtm `disp` inside pytorch-fid
        pf_time, pf = timed(lambda: calculate_frechet_distance(mu1, sigma1, mu2, sigma2), args.peer_repeats)
    tf_time, tf = timed(
        lambda: fid_statistics_to_metric({"mu": mu1, "sigma": sigma1}, {"mu": mu2, "sigma": sigma2}, False)[
            "frechet_inception_distance"
        ],
        args.peer_repeats,
    )
    time.sleep(2.0)  # let the peers' BLAS threads go idle before torch's start
    setup, reference = timed(lambda: RealReference(mu1, sigma1, device), 1)
    t2 = torch.from_numpy(mu2).to(device), torch.from_numpy(sigma2).to(device)
    ours_time, ours = timed(lambda: reference.distance(*t2), args.repeats)
    full_time, _ = timed(lambda: frechet_distance(mu1, sigma1, mu2, sigma2), 1)
    print(f"ours: real factor once per dataset {setup:.3f} s; per evaluation {ours_time:.3f} s; FID {ours.value:.9f}")
    print(f"ours without the cache (factor + evaluation): {full_time:.3f} s")

    print(f"pytorch-fid 0.3.0 (scipy sqrtm): {pf_time:.3f} s; FID {pf:.9f}; rel. diff {abs(ours.value - pf) / pf:.2e}")
    print(
        f"torch-fidelity 0.4.0 (np eigvals): {tf_time:.3f} s; FID {tf:.9f}; rel. diff {abs(ours.value - tf) / tf:.2e}"
    )
    for label, ours_seconds in (("per evaluation", ours_time), ("without the cache", full_time)):
        print(
            f"speed-up {label}: {pf_time / ours_seconds:.1f}x vs pytorch-fid, "
            f"{tf_time / ours_seconds:.1f}x vs torch-fidelity"
        )

    inner = reference.factor.T @ t2[1] @ reference.factor
    mm_time, _ = timed(lambda: reference.factor.T @ t2[1] @ reference.factor, args.repeats)
    eig_time, _ = timed(lambda: torch.linalg.eigvalsh(inner), args.repeats)
    print(f"parts of one evaluation: two matrix products {mm_time:.3f} s, symmetric eigenvalues {eig_time:.3f} s")


if __name__ == "__main__":
    main()
