"""Beyond the paper's best-of-all protocol: does TTUR's advantage survive a comparison across seeds?

Each run contributes one number, its best value over evaluation points (lower is better for FID and JSD). A
one-sided Mann-Whitney U test asks whether TTUR's per-run bests tend to be lower than orig's; a seeded
percentile bootstrap gives a confidence interval for the difference of the mean per-run bests (TTUR - orig).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats import mannwhitneyu


@dataclass(frozen=True)
class Comparison:
    """TTUR against orig on per-run bests; NaN fields with a note where a group is too small."""

    n_ttur: int
    n_orig: int
    n_ttur_without_value: int
    n_orig_without_value: int
    u_statistic: float
    p_value: float
    mean_diff: float
    ci_low: float
    ci_high: float
    level: float
    n_boot: int
    seed: int
    note: str


def mann_whitney_less(ttur: np.ndarray, orig: np.ndarray) -> tuple[float, float]:
    """U statistic of TTUR and the one-sided p-value of "TTUR's values are stochastically smaller than orig's".

    scipy's exact distribution is used for small samples without ties, the normal approximation otherwise.
    """
    result = mannwhitneyu(ttur, orig, alternative="less", method="auto")
    return float(result.statistic), float(result.pvalue)


def bootstrap_mean_diff(
    ttur: np.ndarray, orig: np.ndarray, n_boot: int, level: float, seed: int
) -> tuple[float, float, float]:
    """mean(ttur) - mean(orig) and its percentile-bootstrap interval, resampling each group with replacement."""
    rng = np.random.default_rng(seed)
    ttur_idx = rng.integers(0, len(ttur), size=(n_boot, len(ttur)))
    orig_idx = rng.integers(0, len(orig), size=(n_boot, len(orig)))
    diffs = ttur[ttur_idx].mean(axis=1) - orig[orig_idx].mean(axis=1)
    alpha = (1.0 - level) / 2.0
    low, high = np.quantile(diffs, [alpha, 1.0 - alpha])
    return float(ttur.mean() - orig.mean()), float(low), float(high)


def compare_methods(
    ttur_bests: list[float], orig_bests: list[float], n_boot: int = 10_000, level: float = 0.95, seed: int = 0
) -> Comparison:
    """Compare per-run bests of TTUR and orig.

    A run without any finite value (diverged from the start) has no best. The rank test counts it as worse than
    every run with a value (+inf), since divergence is the worst outcome; the bootstrap of means can only use
    finite values, so it leaves such runs out and the counts say how many.
    """
    ttur = np.asarray(ttur_bests, dtype=float)
    orig = np.asarray(orig_bests, dtype=float)
    ttur_finite, orig_finite = ttur[np.isfinite(ttur)], orig[np.isfinite(orig)]
    nan = float("nan")
    u_statistic = p_value = mean_diff = low = high = nan
    notes = []
    if len(ttur) >= 1 and len(orig) >= 1 and (len(ttur_finite) + len(orig_finite)) > 0:
        u_statistic, p_value = mann_whitney_less(
            np.where(np.isfinite(ttur), ttur, np.inf), np.where(np.isfinite(orig), orig, np.inf)
        )
    else:
        notes.append("no runs with a value in one of the methods: no rank test")
    if len(ttur_finite) >= 2 and len(orig_finite) >= 2:
        mean_diff, low, high = bootstrap_mean_diff(ttur_finite, orig_finite, n_boot, level, seed)
    else:
        notes.append("fewer than 2 runs with a value in a method: no bootstrap interval")
    without = (len(ttur) - len(ttur_finite), len(orig) - len(orig_finite))
    if any(without):
        notes.append(
            f"runs without any value (ranked worst, left out of the bootstrap): ttur {without[0]}, orig {without[1]}"
        )
    return Comparison(
        n_ttur=len(ttur),
        n_orig=len(orig),
        n_ttur_without_value=without[0],
        n_orig_without_value=without[1],
        u_statistic=u_statistic,
        p_value=p_value,
        mean_diff=mean_diff,
        ci_low=low,
        ci_high=high,
        level=level,
        n_boot=n_boot,
        seed=seed,
        note="; ".join(notes),
    )
