"""Jensen–Shannon divergence (bits) between the n-gram distributions of a real corpus and generated sequences.

The definition is the reference's `NgramLanguageModel.js_with`: p = real count / real total, q = generated
count / generated total, no smoothing, m = (p + q) / 2, JSD = (KL(p‖m) + KL(q‖m)) / (2 ln 2), each KL summed over
its own distribution's support. An n-gram seen on one side only contributes prob · ln 2 to that side's KL, so

    JSD = ½ (P_only + Q_only) + Σ_common [p ln(2p / (p+q)) + q ln(2q / (p+q))] / (2 ln 2)

where P_only, Q_only are the probability masses outside the common support, obtained exactly from integer counts.
One evaluation therefore touches only the generated n-grams (a sort, then a binary search in the real keys).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from ttur.metrics.ngrams import (
    DEFAULT_CHUNK_LINES,
    NgramModel,
    build_ngram_model,
    count_ngrams,
    searchable,
    token_range,
)

__all__ = ["JsdEvaluator", "NgramModel", "build_ngram_model", "jsd_from_common_counts"]


def jsd_from_common_counts(real_common: np.ndarray, fake_common: np.ndarray, real_total: int, fake_total: int) -> float:
    """JSD in bits from the counts of the n-grams both sides contain (aligned) and the two totals.

    Masses outside the common support are (total − Σ common counts) / total, computed from integers, so identical
    corpora give exactly 0 and disjoint ones exactly 1.
    """
    if real_total <= 0 or fake_total <= 0:
        raise ValueError("both distributions need at least one n-gram")
    p_only = (real_total - int(real_common.sum())) / real_total
    q_only = (fake_total - int(fake_common.sum())) / fake_total
    # log(2p / (p+q)) = log1p((x − y) / (x + y)) with x = a·T_q, y = b·T_p: accurate when p ≈ q.
    x = real_common.astype(np.float64) * float(fake_total)
    y = fake_common.astype(np.float64) * float(real_total)
    s = x + y
    p = real_common / real_total
    q = fake_common / fake_total
    common = float(np.sum(p * np.log1p((x - y) / s)) + np.sum(q * np.log1p((y - x) / s)))
    return 0.5 * (p_only + q_only) + common / (2.0 * math.log(2.0))


class JsdEvaluator:
    """Evaluates JSD for several n against a prebuilt real model; `.evaluate(tokens)` → {"jsd4": ..., ...}."""

    def __init__(self, real: NgramModel, ns: Sequence[int], chunk_lines: int = DEFAULT_CHUNK_LINES) -> None:
        ns = [int(n) for n in ns]
        bad = [n for n in ns if not 1 <= n <= real.max_n]
        if not ns or bad:
            raise ValueError(f"n must be within 1..{real.max_n} (the model's orders), got {ns}")
        self.real = real
        self.ns = ns
        self.chunk_lines = chunk_lines
        self._keys = {n: searchable(real.keys[n]) for n in ns}
        self._totals = {n: real.total(n) for n in ns}
        for n in ns:
            if self._totals[n] == 0:
                raise ValueError(f"the real model has no {n}-grams (its lines are shorter than {n} tokens)")

    def evaluate(self, tokens: np.ndarray) -> dict[str, float]:
        """JSD per requested n between the real model and the (lines × L) generated token ids."""
        tokens = np.asarray(tokens)
        if tokens.ndim != 2 or not np.issubdtype(tokens.dtype, np.integer):
            raise ValueError(f"tokens must be a 2-D integer array, got {tokens.dtype} of shape {tokens.shape}")
        smallest, largest = token_range(tokens, self.chunk_lines)
        if smallest < 0 or largest >= self.real.vocab_size:
            raise ValueError(f"token ids must lie in 0..{self.real.vocab_size - 1}, found {smallest}..{largest}")
        return {f"jsd{n}": self._evaluate_n(tokens, n) for n in self.ns}

    def _evaluate_n(self, tokens: np.ndarray, n: int) -> float:
        fake_keys, fake_counts = count_ngrams(tokens, n, self.real.vocab_size, self.chunk_lines)
        if len(fake_keys) == 0:
            raise ValueError(f"the generated sequences have no {n}-grams (length {tokens.shape[1]} < {n})")
        real_keys = self._keys[n]
        queries = searchable(fake_keys)
        index = np.searchsorted(real_keys, queries)
        inside = index < len(real_keys)
        found = np.zeros(len(queries), dtype=bool)
        found[inside] = real_keys[index[inside]] == queries[inside]
        real_common = self.real.counts[n][index[found]]
        return jsd_from_common_counts(real_common, fake_counts[found], self._totals[n], int(fake_counts.sum()))
