"""The driver's block-wise disturbing matches the whole-set definitions (global noise range, contamination count)."""

from __future__ import annotations

import numpy as np

from ttur.experiments import disturbances as dist
from ttur.experiments.disturb_run import BLOCK, Disturber, DisturbSettings, block_rng, select_indices

N = 2 * BLOCK + 100  # three blocks, the last one partial


def _images() -> np.ndarray:
    return np.random.default_rng(0).integers(0, 256, size=(N + 50, 4, 4, 3), dtype=np.uint8)


def test_noise_is_scaled_by_the_range_over_all_blocks():
    images, settings = _images(), DisturbSettings(n_images=N, seed=3)
    indices = select_indices(len(images), N, settings.seed)
    disturber = Disturber("gaussian_noise", 3, images, indices, settings, None)
    block_ranges = []
    for start in disturber.blocks():
        count = min(BLOCK, N - start)
        noise = dist.standard_noise((count, 4, 4, 3), block_rng(settings.seed, "gaussian_noise", 3, start // BLOCK))
        block_ranges.append((float(noise.min()), float(noise.max())))
    low, high = disturber.noise_range
    assert low == min(r[0] for r in block_ranges) and high == max(r[1] for r in block_ranges)
    # the global range is wider than any block's own: a block scaled by it is not stretched to the full [0, 255]
    assert any(r != (low, high) for r in block_ranges)
    first = disturber.block(0)
    expected = dist.gaussian_noise(
        np.ascontiguousarray(images[indices[:BLOCK]]),
        0.75,
        block_rng(settings.seed, "gaussian_noise", 3, 0),
        (low, high),
    )
    np.testing.assert_array_equal(first, expected)


def test_contamination_over_blocks_replaces_round_ratio_n():
    images = np.zeros((N, 4, 4, 3), dtype=np.uint8)
    pool = np.full((7, 4, 4, 3), 200, dtype=np.uint8)
    settings = DisturbSettings(n_images=N, seed=0)
    disturber = Disturber("contamination", 1, images, select_indices(N, N, 0), settings, pool)
    replaced = sum(int((disturber.block(start) == 200).all(axis=(1, 2, 3)).sum()) for start in disturber.blocks())
    assert replaced == round(0.25 * N)


def test_subset_is_seeded_sorted_and_capped():
    a, b = select_indices(1000, 100, seed=1), select_indices(1000, 100, seed=1)
    np.testing.assert_array_equal(a, b)
    assert len(np.unique(a)) == 100 and (np.diff(a) > 0).all()
    assert not np.array_equal(a, select_indices(1000, 100, seed=2))
    np.testing.assert_array_equal(select_indices(50, 100, seed=1), np.arange(50))
