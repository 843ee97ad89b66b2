"""Table 1 from hand-made run directories whose answer is worked out by hand in the comments below."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ttur.cli import main
from ttur.report.runs import discover_runs, write_run
from ttur.report.stats_tests import bootstrap_mean_diff, compare_methods
from ttur.report.table import TABLE_COLUMNS, build_table, render_markdown, table_frame

NAN = float("nan")
STEPS = (0, 1000, 2000, 3000)
# DCGAN on CIFAR-10, FID per evaluation step. Two lr pairs per method.
CIFAR = {
    # TTUR pair A: per-run bests 20 (seed 0, step 2000), 21 (seed 1), 40 (seed 2) -> best 20 at step 2000.
    ("ttur", "1e-4", "5e-4"): {0: (50, 30, 20, 25), 1: (60, 35, 22, 21), 2: (55, 40, NAN, NAN)},
    # TTUR pair B ties A's best (20); the tie goes to the first pair in ascending (lr_d, lr_g) order -> B.
    # Seed 0 reaches 20 at steps 1000 and 3000 -> the earliest, 1000. Means: 47.5, 22.5, 27, 22.5 -> mean_best
    # 22.5 at the earliest of the tied steps (1000), std over (20, 25) = sqrt(12.5). Seed 2 of B is missing.
    ("ttur", "1e-5", "1e-4"): {0: (45, 20, 30, 20), 1: (50, 25, 24, 25)},
    # orig pair C: seed 2 diverges after step 0 (empty FIDs with a note). Bests 38, 41, 60 -> best 38 (seed 0,
    # step 2000). The mean is defined only at step 0 where every run has a value: (70 + 65 + 60) / 3 = 65, std 5.
    ("orig", "1e-4", "1e-4"): {0: (70, 40, 38, 39), 1: (65, 45, 42, 41), 2: (60, NAN, NAN, NAN)},
    # orig pair D: seed 1 has no value at all; best 44 > 38, so C is chosen.
    ("orig", "5e-4", "5e-4"): {0: (80, 50, 45, 44), 1: (NAN, NAN, NAN, NAN)},
}


def minutes_of(step: int, seed: int) -> float:
    return step / 1000 * 2.0 + 0.1 * seed


def make_run(root: Path, model: str, dataset: str, method: str, lr_d: str, lr_g: str, seed: int, values, **kw) -> Path:
    path = root / model / dataset / method / f"d{lr_d}_g{lr_g}" / f"seed{seed}"
    metric = "jsd" if model == "lang" else "fid"
    rows = []
    for i, step in enumerate(STEPS[: len(values)]):
        row = {
            "step": step,
            "minutes": minutes_of(step, seed),
            "wall_minutes": minutes_of(step, seed) + 0.5 * (i + 1),
            "d_loss": 1.0 + 0.1 * i,
            "g_loss": 2.0 - 0.1 * i,
            "note": "" if not math.isnan(values[i]) else "diverged: loss is NaN",
        }
        if metric == "fid":
            row["fid"] = values[i]
        else:
            for n in range(1, 7):
                row[f"jsd{n}"] = values[i] + n / 100
        rows.append(row)
    settings = {
        "model": model,
        "dataset": dataset,
        "method": method,
        "lr_d": float(lr_d),
        "lr_g": float(lr_g),
        "seed": seed,
    }
    write_run(path, settings | {"updates": 3000, "eval_every": 1000}, rows, **kw)
    return path


def make_grid(root: Path, extractor: str = "inception-v3-compat") -> list[Path]:
    paths = []
    for (method, lr_d, lr_g), seeds in CIFAR.items():
        for seed, values in seeds.items():
            paths.append(make_run(root, "dcgan", "cifar10", method, lr_d, lr_g, seed, values, extractor=extractor))
    # A smoke dataset the paper does not have: one run per method.
    paths.append(make_run(root, "dcgan", "smokeimages", "ttur", "1e-4", "5e-4", 0, (9, 8, 7, 8), extractor=extractor))
    paths.append(make_run(root, "dcgan", "smokeimages", "orig", "1e-4", "1e-4", 0, (9, 9, 9), extractor=extractor))
    # The language model on One Billion Word: jsd_n = value + n/100, one run per method.
    paths.append(make_run(root, "lang", "billion_word", "ttur", "3e-4", "1e-4", 0, (0.9, 0.5, 0.4, 0.45)))
    paths.append(make_run(root, "lang", "billion_word", "orig", "1e-4", "1e-4", 0, (0.9, 0.6, 0.5, 0.5)))
    paths.append(root / "dcgan" / "cifar10" / "ttur" / "d1e-5_g1e-4" / "seed2")  # a failed job: no folder
    return paths


def row_of(frame: pd.DataFrame, dataset: str, metric: str, method: str) -> pd.Series:
    match = frame[(frame.dataset == dataset) & (frame.metric == metric) & (frame.method == method)]
    assert len(match) == 1
    return match.iloc[0]


def test_every_column_of_the_cifar_rows(tmp_path):
    runs, missing = discover_runs(make_grid(tmp_path))
    assert len(runs) == 14 and len(missing) == 1
    frame = table_frame(build_table(runs, missing, n_boot=2000))
    assert list(frame.columns) == list(TABLE_COLUMNS)
    ttur = row_of(frame, "cifar10", "fid", "ttur")
    expected_ttur = {
        "model": "dcgan", "lr_d": "1e-5", "lr_g": "1e-4", "pairs_tried": 2, "runs": 2, "runs_missing": 1,
        "runs_without_value": 0, "best": 20.0, "best_seed": 0, "best_step": 1000, "best_minutes": 2.0,
        "best_wall_minutes": 3.0, "mean_best": 22.5, "mean_best_step": 1000, "mean_best_minutes": 2.05,
        "paper": 36.9, "paper_lr_d": "1e-4", "paper_lr_g": "5e-4", "paper_step": 75000,
        "feature_extractor": "inception-v3-compat",
    }  # fmt: skip
    for column, value in expected_ttur.items():
        assert ttur[column] == pytest.approx(value, abs=1e-12) if isinstance(value, float) else ttur[column] == value, (
            column
        )
    assert ttur["std_at_mean_best"] == pytest.approx(math.sqrt(12.5), rel=1e-12)
    assert pd.isna(ttur["paper_minutes"])
    assert "runs of this pair missing: 1" in ttur["note"]

    orig = row_of(frame, "cifar10", "fid", "orig")
    expected_orig = {
        "lr_d": "1e-4", "lr_g": "1e-4", "pairs_tried": 2, "runs": 3, "runs_missing": 0, "runs_without_value": 0,
        "best": 38.0, "best_seed": 0, "best_step": 2000, "best_minutes": 4.0, "best_wall_minutes": 5.5,
        "mean_best": 65.0, "mean_best_step": 0, "mean_best_minutes": 0.1, "std_at_mean_best": 5.0, "paper": 37.7,
        "paper_step": 100000,
    }  # fmt: skip
    for column, value in expected_orig.items():
        assert orig[column] == pytest.approx(value, abs=1e-12) if isinstance(value, float) else orig[column] == value, (
            column
        )
    assert "runs with missing values (see their note column): 1" in orig["note"]


def test_smoke_and_language_rows(tmp_path):
    runs, missing = discover_runs(make_grid(tmp_path))
    frame = table_frame(build_table(runs, missing, n_boot=500))
    assert len(frame) == 2 + 2 + 4  # cifar10 x 2 methods, smoke x 2, language x (jsd4, jsd6) x 2
    smoke = row_of(frame, "smokeimages", "fid", "ttur")
    assert (smoke["best"], smoke["best_step"], smoke["mean_best"], smoke["runs"]) == (7.0, 2000, 7.0, 1)
    assert pd.isna(smoke["paper"]) and pd.isna(smoke["std_at_mean_best"])  # one run: no spread
    assert row_of(frame, "smokeimages", "fid", "orig")["best_step"] == 0  # 9, 9, 9: the earliest step
    jsd4 = row_of(frame, "billion_word", "jsd4", "ttur")
    assert jsd4["best"] == pytest.approx(0.44, abs=1e-12) and jsd4["best_step"] == 2000
    assert jsd4["paper"] == 0.35 and jsd4["paper_minutes"] == 1150 and jsd4["paper_step"] == 98000
    assert row_of(frame, "billion_word", "jsd6", "orig")["best"] == pytest.approx(0.56, abs=1e-12)
    assert row_of(frame, "billion_word", "jsd6", "orig")["paper"] == 0.77
    assert set(frame[frame.model == "lang"].feature_extractor) == {"n-gram"}


def test_cli_writes_csv_md_and_stats(tmp_path):
    paths = make_grid(tmp_path / "runs", extractor="randconv64")
    out = tmp_path / "out"
    code = main(["table", *map(str, paths), "--csv", str(out / "t.csv"), "--md", str(out / "t.md"),
                 "--stats-csv", str(out / "s.csv"), "--n-boot", "4000"])  # fmt: skip
    assert code == 0
    written = pd.read_csv(out / "t.csv")
    runs, missing = discover_runs(paths)
    recomputed = table_frame(build_table(runs, missing, n_boot=4000))
    pd.testing.assert_series_equal(written["best"], recomputed["best"].astype(float), check_names=False)
    md = (out / "t.md").read_text()
    assert "Warning: not Inception FIDs" in md and "`randconv64`" in md
    assert (
        "| cifar10 | 1e-5, 1e-4 | 1k | 20.00 | 1e-4, 5e-4 | 75k | 36.90 | 1e-4 | 2k | 38.00 | 1e-4 | 100k | 37.70 |"
        in md
    )
    assert "4-gram (billion_word)" in md and "Tables A2 and A4" in md and "missing: 1" in md
    stats = pd.read_csv(out / "s.csv")
    cifar = stats[(stats.dataset == "cifar10")].iloc[0]
    # TTUR per-run bests (20, 24) all below orig's (38, 41, 60): U = 0, exact p = 1 / C(5, 2) = 0.1.
    assert cifar["u_statistic"] == 0 and cifar["p_value"] == pytest.approx(0.1, abs=1e-12)
    assert cifar["mean_diff"] == pytest.approx(22 - 139 / 3, abs=1e-12)
    # Resampled means lie in [20, 24] (TTUR) and [38, 60] (orig): the interval is inside [-40, -14].
    assert -40 <= cifar["ci_low"] <= cifar["mean_diff"] <= cifar["ci_high"] <= -14


def test_best_agrees_with_a_recomputation_from_metrics_csv(tmp_path):
    # Independent of ttur.report: read every metrics.csv with pandas, take the minimum per lr folder.
    make_grid(tmp_path / "runs")
    out = tmp_path / "t.csv"
    assert main(["table", str(tmp_path / "runs"), "--csv", str(out), "--md", str(tmp_path / "t.md")]) == 0
    table = pd.read_csv(out, dtype={"lr_d": str, "lr_g": str})
    for _, row in table.iterrows():
        method_dir = tmp_path / "runs" / row["model"] / row["dataset"] / row["method"]
        minima = {
            pair_dir.name: min(pd.read_csv(m)[row["metric"]].min() for m in pair_dir.glob("seed*/metrics.csv"))
            for pair_dir in sorted(method_dir.iterdir())
        }
        chosen = f"d{row['lr_d']}_g{row['lr_g']}"
        assert row["best"] == minima[chosen] == min(minima.values()), (row["dataset"], row["metric"], row["method"])


def test_inception_heading_has_no_warning(tmp_path):
    runs, missing = discover_runs(make_grid(tmp_path))
    md = render_markdown(build_table(runs, missing, n_boot=200))
    assert "`inception-v3-compat`" in md and "Warning" not in md


def test_mann_whitney_counts_a_run_without_value_as_worst():
    # TTUR (1, 2) vs orig (3, no value -> +inf): every TTUR run ranks below every orig run; U = 0, p = 1/C(4,2).
    comparison = compare_methods([1.0, 2.0], [3.0, NAN], n_boot=100, seed=0)
    assert comparison.u_statistic == 0 and comparison.p_value == pytest.approx(1 / 6, abs=1e-12)
    assert comparison.n_orig_without_value == 1 and math.isnan(comparison.ci_low)  # one finite orig run only


def test_bootstrap_interval_by_hand():
    # Constant groups: every resample gives exactly 1 - 3.
    assert bootstrap_mean_diff(np.array([1.0, 1, 1]), np.array([3.0, 3, 3]), 500, 0.95, 0) == (-2.0, -2.0, -2.0)
    # TTUR (0, 1) against orig (0, 0): a resampled TTUR mean is 0, 0.5 or 1 with probability 1/4, 1/2, 1/4,
    # so the 2.5% and 97.5% quantiles of the difference are 0 and 1.
    diff, low, high = bootstrap_mean_diff(np.array([0.0, 1.0]), np.array([0.0, 0.0]), 20_000, 0.95, 7)
    assert (diff, low, high) == (0.5, 0.0, 1.0)
    again = bootstrap_mean_diff(np.array([3.0, 1.0, 4.0]), np.array([1.0, 5.0, 9.0]), 1000, 0.9, 3)
    assert again == bootstrap_mean_diff(np.array([3.0, 1.0, 4.0]), np.array([1.0, 5.0, 9.0]), 1000, 0.9, 3)


def test_bad_paths(tmp_path):
    from ttur.errors import UserError

    with pytest.raises(UserError, match="does not exist"):
        discover_runs([tmp_path / "nothing-here"])
    (tmp_path / "empty").mkdir()
    with pytest.raises(UserError, match="no run.json"):
        discover_runs([tmp_path / "empty"])
