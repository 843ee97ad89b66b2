"""Inception Score and IND on logits with known answers."""

from __future__ import annotations

import numpy as np
import pytest

from ttur.experiments.inception_score import StreamingInceptionScore, inception_distance, inception_score


def test_uniform_predictions_score_one():
    result = inception_score(np.zeros((50, 16)), splits=10)  # p(y|x) uniform for every sample: KL = 0
    assert abs(result.mean - 1.0) < 1e-12 and result.std < 1e-12
    assert result.split_size == 5 and result.distance == pytest.approx(4.0, abs=1e-12)


@pytest.mark.parametrize("k", [1, 4, 16])
def test_k_confident_distinct_classes_score_k(k):
    # each sample certain of its own class (off-class probability e^-60 ~ 1e-26): IS = K, the bound m = K is met
    logits = 60.0 * np.eye(k)
    result = inception_score(logits, splits=1)
    assert abs(result.mean - k) < 1e-9 * k
    assert abs(inception_distance(result.mean, k)) < 1e-9 * k  # IND = m - IS = 0 for a perfect set


def test_confident_but_all_one_class_scores_one():
    logits = np.zeros((20, 8))
    logits[:, 3] = 60.0  # confident, but no diversity: p(y) = p(y|x), KL = 0
    assert abs(inception_score(logits, splits=2).mean - 1.0) < 1e-9


def test_streaming_matches_batch():
    rng = np.random.default_rng(0)
    logits = rng.normal(scale=3.0, size=(103, 12))  # 103 is not a multiple of the 10 splits
    whole = inception_score(logits, splits=10)
    streaming = StreamingInceptionScore(103, splits=10)
    for a, b in [(0, 7), (7, 40), (40, 41), (41, 103)]:
        streaming.update(logits[a:b])
    result = streaming.finalize()
    assert abs(result.mean - whole.mean) < 1e-12 and abs(result.std - whole.std) < 1e-12
    # the per-split formula against a direct evaluation of exp(mean_i KL(p_i || mean p)) on the first split
    probs = np.exp(logits - logits.max(axis=1, keepdims=True))
    probs /= probs.sum(axis=1, keepdims=True)
    part = probs[:10]
    direct = np.exp(np.mean(np.sum(part * (np.log(part) - np.log(part.mean(axis=0, keepdims=True))), axis=1)))
    single = StreamingInceptionScore(10, splits=1)
    single.update(logits[:10])
    assert abs(single.finalize().mean - direct) < 1e-12


def test_streaming_rejects_wrong_counts():
    streaming = StreamingInceptionScore(10, splits=2)
    streaming.update(np.zeros((4, 3)))
    with pytest.raises(ValueError):
        streaming.finalize()
    with pytest.raises(ValueError):
        streaming.update(np.zeros((7, 3)))
