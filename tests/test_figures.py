"""Figures from hand-made runs of every model: each file is written, non-empty, and only when its model is present."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from ttur.cli import main
from ttur.report.figures import figure5, sample_file
from ttur.report.runs import discover_runs, write_run
from ttur.report.table import mean_curve

CELLS = (
    ("dcgan", "cifar10", "ttur", 1e-4, 5e-4),
    ("dcgan", "cifar10", "orig", 1e-4, 1e-4),
    ("dcgan", "cifar10", "orig", 5e-4, 5e-4),
    ("dcgan", "svhn", "ttur", 1e-5, 1e-4),
    ("dcgan", "svhn", "orig", 5e-5, 5e-5),
    ("wgangp", "cifar10", "ttur", 3e-4, 1e-4),
    ("wgangp", "cifar10", "orig", 1e-4, 1e-4),
    ("lang", "billion_word", "ttur", 3e-4, 1e-4),
    ("lang", "billion_word", "orig", 1e-4, 1e-4),
)
STEPS = (0, 100, 200, 300)


def make_runs(root: Path, models: tuple[str, ...]) -> list[Path]:
    paths = []
    for model, dataset, method, lr_d, lr_g in CELLS:
        if model not in models:
            continue
        for seed in (0, 1):
            path = root / model / dataset / method / f"d{lr_d!r}_g{lr_g!r}" / f"seed{seed}"
            rows = []
            for i, step in enumerate(STEPS):
                value = 100.0 / (i + 1) + seed + (5 if method == "orig" else 0)
                if method == "orig" and seed == 1 and i == 3:
                    value = math.nan  # a diverged evaluation: the mean line stops, the band keeps the other run
                row = {
                    "step": step,
                    "minutes": 0.5 * i + 0.1 * seed,
                    "wall_minutes": 0.6 * i + 0.1 * seed,
                    "d_loss": 1.0 / (i + 1),
                    "g_loss": 1.0 + 0.2 * i,
                    "note": "diverged" if math.isnan(value) else "",
                }
                if model == "lang":
                    row |= {f"jsd{n}": value / 200 + n / 20 for n in range(1, 7)}
                else:
                    row["fid"] = value
                rows.append(row)
                (path / "samples").mkdir(parents=True, exist_ok=True)
                if model == "lang":
                    (path / "samples" / f"step{step:07d}.txt").write_text("the quick brown fox\njumps over\n")
                else:
                    grid = np.full((16, 16, 3), 40 * i + 60 * seed, dtype=np.uint8)
                    Image.fromarray(grid).save(path / "samples" / f"step{step:07d}.png")
            settings = {"model": model, "dataset": dataset, "method": method, "lr_d": lr_d, "lr_g": lr_g, "seed": seed}
            write_run(path, settings, rows, extractor="randconv64")
            paths.append(path)
    return paths


def test_every_figure_is_written(tmp_path, capsys):
    make_runs(tmp_path / "runs", ("dcgan", "wgangp", "lang"))
    out = tmp_path / "figures"
    assert main(["figures", str(tmp_path / "runs"), "--out-dir", str(out)]) == 0
    expected = [
        f"{stem}.{ext}" for stem in ("fig5_dcgan", "fig6_wgangp", "fig7_jsd", "figA14_losses") for ext in ("png", "pdf")
    ]
    printed = capsys.readouterr().out
    for name in [*expected, "samples.png"]:
        assert (out / name).stat().st_size > 1000, name
        assert f"wrote {out / name}" in printed
    assert sorted(p.name for p in out.iterdir()) == sorted([*expected, "samples.png"])


def test_absent_models_and_only(tmp_path, capsys):
    make_runs(tmp_path / "runs", ("dcgan",))
    out = tmp_path / "figures"
    assert main(["figures", str(tmp_path / "runs"), "--out-dir", str(out), "--only", "fig5_dcgan,fig6,fig7"]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["fig5_dcgan.pdf", "fig5_dcgan.png"]  # no WGAN-GP/language runs
    assert capsys.readouterr().out.count("wrote ") == 2
    with pytest.raises(SystemExit):
        main(["figures", str(tmp_path / "runs"), "--out-dir", str(out), "--only", "fig9"])


def test_curve_and_pdf_are_deterministic(tmp_path):
    runs, _ = discover_runs(make_runs(tmp_path / "runs", ("dcgan",)))
    orig = [run for run in runs if run.dataset == "cifar10" and run.method == "orig" and run.lr_d == 1e-4]
    curve = mean_curve(orig, "fid")
    # Step 300: seed 0 has 100/4 + 0 + 5 = 30, seed 1 diverged -> no mean, band = [30, 30].
    assert math.isnan(curve["mean"].iloc[3]) and curve["min"].iloc[3] == curve["max"].iloc[3] == 30.0
    assert curve["mean"].iloc[0] == pytest.approx((105 + 106) / 2, abs=1e-12)
    first, second = tmp_path / "a.pdf", tmp_path / "b.pdf"
    for path in (first, second):
        figure5(runs).savefig(path, metadata={"CreationDate": None})
    assert first.read_bytes() == second.read_bytes()


def test_sample_file_falls_back_to_the_nearest_step(tmp_path):
    runs, _ = discover_runs(make_runs(tmp_path / "runs", ("dcgan",)))
    run = runs[0]
    assert sample_file(run, 200) == (run.path / "samples" / "step0000200.png", 200)
    assert sample_file(run, 260) == (run.path / "samples" / "step0000300.png", 300)
