"""Inception Score from classifier logits, with splits, and the paper's Inception Distance IND = m - IS.

IS = exp(mean_i KL(p(y|x_i) || p(y))) per split of consecutive samples, then mean and std over splits, as in
openai/improved-gan and bioinf-jku/TTUR:FIDvsINC/fidutils.py (`get_inception_score`, 10 splits). p·log p is
taken as 0 where p = 0 (appendix A1). The paper bounds IS by the number of samples m it is computed on, and
defines IND = m - IS; with splits, each score is computed on m = n // splits samples.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import log_softmax, xlogy


@dataclass(frozen=True)
class InceptionScore:
    """Mean and std of the per-split scores, the number of splits and the samples per split (the paper's m)."""

    mean: float
    std: float
    splits: int
    split_size: int

    @property
    def distance(self) -> float:
        """IND = m - IS (appendix A1), m being the samples each score was computed on."""
        return inception_distance(self.mean, self.split_size)


def inception_distance(score: float, m: int) -> float:
    """The paper's "Inception Distance": m - IS, zero when m <= K samples are confidently in distinct classes."""
    return float(m) - score


def split_bounds(n: int, splits: int) -> list[tuple[int, int]]:
    """[start, stop) of each split, `i*n//splits` to `(i+1)*n//splits` as in the original."""
    return [(i * n // splits, (i + 1) * n // splits) for i in range(splits)]


def probabilities(logits: np.ndarray) -> np.ndarray:
    """Softmax over the last axis in float64."""
    return np.exp(log_softmax(np.asarray(logits, dtype=np.float64), axis=-1))


def _score(sum_plogp: float, sum_p: np.ndarray, count: int) -> float:
    """exp of mean KL: (1/m) Σ_i Σ_k p_ik log p_ik - Σ_k p̄_k log p̄_k, with p̄ = Σ_i p_i / m."""
    mean_p = sum_p / count
    return float(np.exp(sum_plogp / count - xlogy(mean_p, mean_p).sum()))


def inception_score(logits: np.ndarray, splits: int = 10) -> InceptionScore:
    """Inception Score of N×K logits in `splits` consecutive splits."""
    probs = probabilities(logits)
    n = len(probs)
    if splits < 1 or n < splits:
        raise ValueError(f"need at least one sample per split: {n} samples, {splits} splits")
    scores = [
        _score(xlogy(p, p).sum(), p.sum(axis=0), len(p)) for p in (probs[a:b] for a, b in split_bounds(n, splits))
    ]
    return InceptionScore(float(np.mean(scores)), float(np.std(scores)), splits, n // splits)


class StreamingInceptionScore:
    """The same score accumulated batch by batch (Σ p log p and Σ p per split), so no N×K array is kept."""

    def __init__(self, n: int, splits: int = 10) -> None:
        if splits < 1 or n < splits:
            raise ValueError(f"need at least one sample per split: {n} samples, {splits} splits")
        self.n, self.splits = n, splits
        self.bounds = split_bounds(n, splits)
        self.sum_plogp = np.zeros(splits)
        self.sum_p: np.ndarray | None = None
        self.seen = 0

    def update(self, logits: np.ndarray) -> None:
        """Add the next consecutive batch of N×K logits."""
        probs = probabilities(logits)
        if self.sum_p is None:
            self.sum_p = np.zeros((self.splits, probs.shape[1]))
        start, stop = self.seen, self.seen + len(probs)
        if stop > self.n:
            raise ValueError(f"more than the announced {self.n} samples")
        for i, (a, b) in enumerate(self.bounds):
            lo, hi = max(a, start), min(b, stop)
            if lo < hi:
                part = probs[lo - start : hi - start]
                self.sum_plogp[i] += xlogy(part, part).sum()
                self.sum_p[i] += part.sum(axis=0)
        self.seen = stop

    def finalize(self) -> InceptionScore:
        """Mean and std over splits; all `n` samples must have been added."""
        if self.seen != self.n or self.sum_p is None:
            raise ValueError(f"saw {self.seen} of the announced {self.n} samples")
        scores = [_score(self.sum_plogp[i], self.sum_p[i], b - a) for i, (a, b) in enumerate(self.bounds)]
        return InceptionScore(float(np.mean(scores)), float(np.std(scores)), self.splits, self.n // self.splits)
