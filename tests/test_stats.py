"""Streamed statistics against np.mean/np.cov, and the .npz + .json statistics files."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from ttur.errors import UserError
from ttur.metrics.stats import StreamingMoments, load_stats, save_stats, sidecar_path

CPU = torch.device("cpu")


def _stream(features: np.ndarray, batch_size: int) -> tuple[np.ndarray, np.ndarray, int]:
    moments = StreamingMoments(features.shape[1], CPU)
    for start in range(0, len(features), batch_size):
        moments.update(torch.from_numpy(features[start : start + batch_size]))
    mu, sigma, n = moments.finalize()
    return mu.numpy(), sigma.numpy(), n


def test_moments_equal_numpy_mean_and_unbiased_cov():
    rng = np.random.default_rng(0)
    features = (rng.standard_normal((1000, 40)) @ rng.standard_normal((40, 40))).astype(np.float32)
    mu, sigma, n = _stream(features, batch_size=97)  # 1000 is not a multiple of 97: every vector counts
    assert n == 1000
    reference = features.astype(np.float64)
    np.testing.assert_allclose(mu, reference.mean(axis=0), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(sigma, np.cov(reference, rowvar=False), rtol=1e-12, atol=1e-12)
    assert sigma.dtype == np.float64 and np.array_equal(sigma, sigma.T)


def test_moments_do_not_depend_on_batch_size():
    rng = np.random.default_rng(1)
    features = rng.standard_normal((500, 16))
    results = [_stream(features, batch_size) for batch_size in (1, 7, 64, 500)]
    for mu, sigma, _ in results[1:]:
        np.testing.assert_allclose(mu, results[0][0], rtol=1e-13, atol=1e-13)
        np.testing.assert_allclose(sigma, results[0][1], rtol=1e-12, atol=1e-13)


def test_moments_stay_accurate_far_from_the_origin():
    # a raw sum of squares in float64 would lose ~8 digits here (mean 1e4, spread 1)
    rng = np.random.default_rng(2)
    features = 1e4 + rng.standard_normal((2000, 8))
    _, sigma, _ = _stream(features, batch_size=100)
    np.testing.assert_allclose(sigma, np.cov(features, rowvar=False), rtol=1e-9, atol=1e-9)


def test_fewer_samples_than_dimensions_warns_and_one_sample_fails():
    moments = StreamingMoments(8, CPU)
    moments.update(torch.ones(1, 8))
    with pytest.raises(ValueError, match="at least 2"):
        moments.finalize()
    moments.update(torch.zeros(3, 8))
    with pytest.warns(UserWarning, match="4 samples for 8-d features"):
        moments.finalize()
    with pytest.raises(ValueError, match=r"\(N, 8\)"):
        moments.update(torch.zeros(3, 5))


def test_save_and_load_round_trip_with_sidecar(tmp_path):
    rng = np.random.default_rng(3)
    mu, sigma = rng.standard_normal(5), np.cov(rng.standard_normal((20, 5)), rowvar=False)
    path = tmp_path / "stats" / "toy.randconv64.npz"
    meta = {"n": 20, "extractor": "randconv64", "weights_sha256": None}
    save_stats(path, torch.from_numpy(mu), sigma, meta)
    with np.load(path) as data:
        assert sorted(data.files) == ["mu", "sigma"] and data["sigma"].dtype == np.float64
    assert json.loads(sidecar_path(path).read_text()) == meta
    loaded_mu, loaded_sigma, loaded_meta = load_stats(path)
    assert np.array_equal(loaded_mu, mu) and np.array_equal(loaded_sigma, sigma) and loaded_meta == meta
    assert [p.name for p in path.parent.iterdir() if p.name.startswith(".")] == []  # no temporary files left


def test_ttur_published_format_loads_unchanged(tmp_path):
    # TTUR's precalc_stats_example.py writes np.savez_compressed(path, mu=mu, sigma=sigma), no sidecar
    rng = np.random.default_rng(4)
    mu, sigma = rng.standard_normal(2048), np.eye(2048) * 0.5
    path = tmp_path / "fid_stats_cifar10_train.npz"
    np.savez_compressed(path, mu=mu, sigma=sigma)
    loaded_mu, loaded_sigma, meta = load_stats(path)
    assert meta is None and np.array_equal(loaded_mu, mu) and np.array_equal(loaded_sigma, sigma)


def test_bad_statistics_files_are_user_errors(tmp_path):
    with pytest.raises(UserError, match="does not exist"):
        load_stats(tmp_path / "absent.npz")
    wrong_keys = tmp_path / "wrong.npz"
    np.savez(wrong_keys, mean=np.zeros(3))
    with pytest.raises(UserError, match="lacks the key"):
        load_stats(wrong_keys)
    wrong_shape = tmp_path / "shape.npz"
    np.savez(wrong_shape, mu=np.zeros(3), sigma=np.zeros((3, 4)))
    with pytest.raises(UserError, match="expected"):
        load_stats(wrong_shape)
    garbage = tmp_path / "garbage.npz"
    garbage.write_bytes(b"not a zip file")
    with pytest.raises(UserError, match="cannot read"):
        load_stats(garbage)
    # a download or copy cut short: the zip's central directory is gone (zipfile.BadZipFile, not an OSError)
    whole = tmp_path / "whole.npz"
    np.savez(whole, mu=np.zeros(3), sigma=np.eye(3))
    truncated = tmp_path / "truncated.npz"
    truncated.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    with pytest.raises(UserError, match="cannot read"):
        load_stats(truncated)
    # a plain .npy renamed to .npz: np.load returns an array, not an archive
    renamed = tmp_path / "renamed.npz"
    with open(renamed, "wb") as handle:
        np.save(handle, np.zeros(3))
    with pytest.raises(UserError, match="not an .npz archive"):
        load_stats(renamed)
    with pytest.raises(UserError, match=r"\.npz"):
        save_stats(tmp_path / "stats.npy", np.zeros(2), np.eye(2), {})
