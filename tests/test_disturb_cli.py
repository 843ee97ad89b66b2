"""End-to-end `ttur disturb` with the randconv64 smoke extractor on a generated prepared folder."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from ttur.cli import main
from ttur.experiments.disturb_run import CSV_COLUMNS
from ttur.metrics.features import load_extractor
from ttur.metrics.stats import StreamingMoments, save_stats

N_IMAGES = 80


def _blobs(n: int, size: int, seed: int) -> np.ndarray:
    """Coloured discs on a plain background: images with structure for the disturbances to destroy."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:size, 0:size]
    images = np.empty((n, size, size, 3), dtype=np.uint8)
    for i in range(n):
        images[i] = rng.integers(0, 90)
        cx, cy, r = rng.uniform(size / 4, 3 * size / 4), rng.uniform(size / 4, 3 * size / 4), rng.uniform(3, size / 3)
        images[i][(x - cx) ** 2 + (y - cy) ** 2 < r * r] = rng.integers(60, 256, size=3)
    return images


@pytest.fixture(scope="module")
def prepared(tmp_path_factory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("disturb")
    prep = root / "prepared" / "blobs"
    prep.mkdir(parents=True)
    images = _blobs(N_IMAGES, 32, seed=0)
    np.save(prep / "images.npy", images)
    manifest = {"dataset": "blobs", "kind": "images", "count": N_IMAGES, "shape": [32, 32, 3]}
    (prep / "manifest.json").write_text(json.dumps(manifest))
    extractor = load_extractor("randconv64", None, torch.device("cpu"))
    moments = StreamingMoments(extractor.dim, torch.device("cpu"))
    moments.update(extractor(torch.from_numpy(images).permute(0, 3, 1, 2))[0])
    mu, sigma, n = moments.finalize()
    stats = root / "blobs.randconv64.npz"
    save_stats(stats, mu, sigma, {"extractor": "randconv64", "n": n})
    return prep, stats


def _run(prep: Path, stats: Path, out: Path, *extra: str) -> tuple[int, list[dict]]:
    argv = [
        "disturb", str(prep), "--stats", str(stats), "--out-csv", str(out / "disturbances.csv"),
        "--out-fig", str(out / "disturbances.png"), "--extractor", "randconv64", "--device", "cpu",
        "--n-images", str(N_IMAGES), "--batch-size", "32", *extra,
    ]  # fmt: skip
    code = main(argv)
    rows = list(csv.DictReader((out / "disturbances.csv").open())) if code == 0 else []
    return code, rows


def test_smoke_run_writes_csv_and_figure(prepared, tmp_path):
    prep, stats = prepared
    code, rows = _run(prep, stats, tmp_path)
    assert code == 0
    assert list(rows[0]) == list(CSV_COLUMNS)
    assert len(rows) == 6 * 4
    png = (tmp_path / "disturbances.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and (tmp_path / "disturbances.pdf").stat().st_size > 0
    by = {(r["disturbance"], int(r["level"])): r for r in rows}
    # level 0 is the very set the real statistics were computed from: FID 0 up to float64 rounding
    assert abs(float(by["gaussian_noise", 0]["fid"])) < 1e-6
    for name in ("gaussian_noise", "gaussian_blur", "black_rectangles", "swirl", "salt_and_pepper"):
        assert float(by[name, 3]["fid"]) > float(by[name, 0]["fid"]) + 1e-6  # the strongest level moves FID
        for level in range(4):
            row = by[name, level]
            score, m = float(row["inception_score"]), int(row["is_split_size"])
            assert m == N_IMAGES // 10 and int(row["n_images"]) == N_IMAGES
            assert 1.0 - 1e-9 <= score <= 16  # IS lies between 1 and the 16 classes of the randconv64 head
            assert abs(float(row["ind"]) - (m - score)) < 1e-4  # IND = m - IS (CSV keeps 6 significant digits)
            assert float(row["ind_relative"]) >= 0
    # without --contamination the contamination rows are present but empty, and say how to enable them
    for level in range(4):
        row = by["contamination", level]
        assert row["fid"] == "" and row["inception_score"] == "" and "--contamination DIR" in row["note"]


def test_contamination_folder_and_determinism(prepared, tmp_path):
    from PIL import Image

    prep, stats = prepared
    pool = tmp_path / "imagenet"
    pool.mkdir()
    rng = np.random.default_rng(1)
    for i in range(6):  # other sizes and aspect ratios than the 32×32 dataset: cropped and resized
        Image.fromarray(rng.integers(0, 256, size=(40 + 9 * i, 48, 3), dtype=np.uint8)).save(pool / f"{i}.png")
    subset = ("--disturbances", "contamination,salt_and_pepper", "--contamination", str(pool))
    code, first = _run(prep, stats, tmp_path / "a", *subset)
    assert code == 0 and [r["disturbance"] for r in first] == ["contamination"] * 4 + ["salt_and_pepper"] * 4
    assert float(first[3]["fid"]) > float(first[0]["fid"]) + 1e-6
    # same seed, another batch size: the same disturbed images, so the same numbers (float32 features reordered
    # into different batches: agree to 1e-6 relative; an FID of identical sets is rounding noise of the order of
    # 1e-7 x trace(sigma) ~ 1e-6, hence the absolute 1e-5)
    code, second = _run(prep, stats, tmp_path / "b", *subset, "--batch-size", "7")
    assert code == 0
    for a, b in zip(first, second, strict=True):
        for key in ("fid", "inception_score"):
            assert float(a[key]) == pytest.approx(float(b[key]), rel=1e-6, abs=1e-5)


def test_bad_input_exits_2(prepared, tmp_path):
    prep, stats = prepared
    assert _run(prep, tmp_path / "missing.npz", tmp_path)[0] == 2
    assert _run(tmp_path, stats, tmp_path)[0] == 2  # no images.npy
    assert _run(prep, stats, tmp_path, "--disturbances", "noise")[0] == 2
    other = tmp_path / "inception.npz"
    save_stats(other, np.zeros(64), np.eye(64), {"extractor": "inception-v3-compat"})
    assert _run(prep, other, tmp_path)[0] == 2  # statistics of another extractor
