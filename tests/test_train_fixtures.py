"""Small prepared datasets and real statistics in the real on-disk formats, shared by the training tests."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import torch

from ttur.data import PreparedImages, PreparedText, load_prepared
from ttur.data.synthetic import shapes32_image
from ttur.metrics.features import load_extractor
from ttur.metrics.jsd import build_ngram_model
from ttur.metrics.stats import StreamingMoments, save_stats

IMAGES = 96
LINES = 256
SEQ_LEN = 12
CHARMAP = ["unk", "`", "a", "b", "c", "d", "e", " "]


def _manifest(folder: Path, kind: str, file: str, array: np.ndarray, extra: dict) -> None:
    manifest = {"dataset": folder.name, "kind": kind, "count": len(array), "shape": list(array.shape),
                "dtype": str(array.dtype), "file": file, **extra}  # fmt: skip
    (folder / "manifest.json").write_text(json.dumps(manifest))


def make_datasets(root: Path) -> dict[str, Path]:
    """shapes32 images (prepared folder + randconv64 statistics) and a tiny text corpus (+ its n-gram model)."""
    images = np.stack([shapes32_image(0, i) for i in range(IMAGES)])
    img = root / "shapes32"
    img.mkdir(parents=True)
    np.save(img / "images.npy", images)
    _manifest(img, "images", "images.npy", images, {})
    extractor = load_extractor("randconv64", None, torch.device("cpu"))
    moments = StreamingMoments(extractor.dim, torch.device("cpu"))
    moments.update(extractor(torch.from_numpy(images).permute(0, 3, 1, 2).contiguous())[0])
    mu, sigma, _ = moments.finalize()
    save_stats(root / "shapes32.npz", mu, sigma, {"extractor": "randconv64", "weights_sha256": None})

    rng = np.random.default_rng(0)
    words = rng.integers(2, len(CHARMAP), size=(LINES, SEQ_LEN)).astype(np.uint16)
    words[:, -3:] = 1  # backtick padding, as the reference pads lines to 32
    txt = root / "tinytext"
    txt.mkdir()
    np.save(txt / "tokens.npy", words)
    (txt / "charmap.json").write_text(json.dumps(CHARMAP))
    _manifest(txt, "text", "tokens.npy", words, {"vocab_size": len(CHARMAP), "seq_len": SEQ_LEN})
    build_ngram_model(words, 6, charmap=CHARMAP).save(root / "tinytext.ngrams.npz")
    return {"images": img, "fid_stats": root / "shapes32.npz", "text": txt, "ngrams": root / "tinytext.ngrams.npz"}


def train_args(data: dict[str, Path], model: str, out: Path, **overrides: object) -> list[str]:
    """`ttur train` flags of a small CPU run (width 8-16, batch 16, evaluation on 128 images / 64 lines)."""
    image = model != "lang"
    flags: dict[str, object] = {
        "out": out, "model": model, "dataset": "shapes32" if image else "tinytext",
        "data": data["images"] if image else data["text"], "method": "ttur", "lr_d": 2e-4, "lr_g": 1e-4,
        "seed": 7, "updates": 40, "stats": data["fid_stats"] if image else data["ngrams"],
        "extractor": "randconv64", "width": 8 if image else 16, "batch_size": 16, "eval_every": 20,
        "eval_samples": 128 if image else 64, "eval_batch_size": 64 if image else 32, "checkpoint_every": 5,
        "device": "cpu",
    }  # fmt: skip
    flags.update(overrides)
    return [f"--{k.replace('_', '-')}={v}" for k, v in flags.items()]


def cli_env() -> dict[str, str]:
    """One thread per process: reproducible and fast on a shared 2-core machine (OpenMP oversubscription)."""
    return {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def start_train(args: list[str]) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "ttur.cli", "train", *args],
        env=cli_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def run_train(args: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "ttur.cli", "train", *args], env=cli_env(), capture_output=True, text=True, timeout=300
    )


def test_fixtures_load_as_prepared_datasets(tmp_path: Path) -> None:
    data = make_datasets(tmp_path)
    images = load_prepared(data["images"])
    text = load_prepared(data["text"])
    assert isinstance(images, PreparedImages) and images.array.shape == (IMAGES, 32, 32, 3)
    assert isinstance(text, PreparedText) and text.tokens.shape == (LINES, SEQ_LEN) and text.charmap == CHARMAP
