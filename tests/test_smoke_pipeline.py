"""The smoke preset end to end: every rule of the DAG runs offline on CPU, a second run does nothing, the table
agrees with a recomputation from the runs' metrics.csv, and the HTML report builds."""

import json
import math
import time
from pathlib import Path

import pandas as pd
import pytest
from snakemake_cli import ROOT
from snakemake_cli import snakemake as run_snakemake

SMOKE_LIMIT_S = 600  # the bound for the smoke run on 2 cores

pytestmark = pytest.mark.slow


def snakemake(workdir, *args, timeout=SMOKE_LIMIT_S):
    """The workflow with `workdir` as its working directory (-d), so results land there."""
    return run_snakemake("-d", str(workdir), *args, timeout=timeout)


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("smoke")
    start = time.monotonic()
    result = snakemake(workdir, "--cores", "2", "--configfile", str(ROOT / "config/smoke.yaml"))
    elapsed = time.monotonic() - start
    print(f"smoke pipeline: {elapsed:.0f} s")
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-8000:]
    return workdir, workdir / "results" / "smoke", elapsed


def test_every_output_is_written(smoke):
    _, results, elapsed = smoke
    assert elapsed < SMOKE_LIMIT_S
    expected = [
        "table1.csv",
        "table1.md",
        "cost.md",
        "cost.csv",
        "toy/toy.csv",
        "disturb/disturbances.csv",
    ]
    for name in ("fig4_toy", "fig5_dcgan", "fig6_wgangp", "fig7_jsd", "figA14_losses", "figA8_disturbances"):
        expected.append(f"figures/{name}.png")
    expected.append("figures/samples.png")
    for name in expected:
        path = results / name
        assert path.is_file() and path.stat().st_size > 0, name


def test_second_run_does_nothing(smoke):
    workdir, _, _ = smoke
    result = snakemake(workdir, "--cores", "2", "--configfile", str(ROOT / "config/smoke.yaml"), "-n")
    assert result.returncode == 0
    assert "Nothing to be done" in result.stdout + result.stderr


def recompute_best(results: Path, model: str, dataset: str, method: str, column: str):
    """Independent recomputation of the paper's protocol: min over runs and evaluations of the best lr pair."""
    best = math.inf
    pair = None
    for metrics in sorted((results / "runs" / model / dataset / method).glob("*/seed*/metrics.csv")):
        frame = pd.read_csv(metrics)
        values = pd.to_numeric(frame[column], errors="coerce").dropna()
        if len(values) and values.min() < best:
            best, pair = float(values.min()), metrics.parent.parent.name
    return best, pair


def test_table_agrees_with_the_runs(smoke):
    _, results, _ = smoke
    table = pd.read_csv(results / "table1.csv")
    assert set(table.loc[table["metric"] == "fid", "feature_extractor"]) == {"randconv64"}
    checked = 0
    for row in table.itertuples():
        column = "fid" if row.metric == "fid" else row.metric
        best, pair = recompute_best(results, row.model, row.dataset, row.method, column)
        assert row.best == pytest.approx(best, rel=1e-9, abs=1e-12), row
        assert row.runs == 2
        checked += 1
    # dcgan and wgangp (fid) and lang (jsd4, jsd6), each with ttur and orig
    assert checked == 8


def test_runs_record_their_settings(smoke):
    _, results, _ = smoke
    runs = sorted((results / "runs").glob("*/*/*/*/seed*/run.json"))
    assert len(runs) == 12
    for path in runs:
        settings = json.loads(path.read_text())["settings"]
        assert settings["device"] == "cpu"
        assert settings["seed"] in (0, 1)
        metrics = pd.read_csv(path.parent / "metrics.csv")
        assert list(metrics.columns[:3]) == ["step", "minutes", "wall_minutes"]
        assert metrics["step"].iloc[0] == 0
        assert metrics["step"].iloc[-1] == settings["updates"] or metrics["note"].notna().any()


def test_report_builds(smoke):
    workdir, results, _ = smoke
    report = results / "report.html"
    result = snakemake(
        workdir, "--cores", "1", "--configfile", str(ROOT / "config/smoke.yaml"), "--report", str(report)
    )
    assert result.returncode == 0, result.stderr[-4000:]
    assert report.stat().st_size > 10_000
