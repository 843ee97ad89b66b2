"""Cost report on hand-made runs and Snakemake benchmark files; the expected hours are worked out by hand."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest
import yaml

from ttur.cli import main
from ttur.report.cost import build_cost_report, load_paper_cells, read_benchmark
from ttur.report.runs import write_run

BENCH_HEADER = "s\th:m:s\tmax_rss\tmax_vms\tmax_uss\tmax_pss\tio_in\tio_out\tmean_load\tcpu_time\n"


def write_benchmark(path: Path, seconds: float, max_rss: float = 512.0) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(BENCH_HEADER + f"{seconds}\t0:03:20\t{max_rss}\t900.1\t400.2\t410.3\t1.5\t2.5\t95.0\t190.0\n")


def make_tree(results: Path) -> None:
    # DCGAN ttur, 2 seeds on a GPU: 200 updates in 2 training minutes, 1 evaluation minute over 3 evaluations of
    # 100 samples -> 0.6 s per update, 0.2 s per evaluated sample; jobs of 200 s and 220 s -> overhead 20 and 40 s.
    # DCGAN orig, 1 seed on the CPU without a benchmark file: 1 minute training, 0.5 evaluating -> 0.3 and 0.1 s.
    for method, lr, seed, minutes, wall, device, bench in (
        ("ttur", ("1e-4", "5e-4"), 0, 2.0, 3.0, "cuda:0", 200.0),
        ("ttur", ("1e-4", "5e-4"), 1, 2.0, 3.0, "cuda:0", 220.0),
        ("orig", ("1e-4", "1e-4"), 0, 1.0, 1.5, "cpu", None),
    ):
        relative = f"dcgan/smoke/{method}/d{lr[0]}_g{lr[1]}/seed{seed}"
        rows = [
            {
                "step": step,
                "minutes": minutes * step / 200,
                "wall_minutes": wall * step / 200,
                "fid": 50.0 - i,
                "d_loss": 1.0,
                "g_loss": 1.0,
                "note": "",
            }  # fmt: skip
            for i, step in enumerate((0, 100, 200))
        ]
        settings = {"model": "dcgan", "dataset": "smoke", "method": method, "lr_d": float(lr[0]), "lr_g": float(lr[1]),
                    "seed": seed, "eval_samples": 100, "width": 8, "batch_size": 16, "critic_iters": 1}  # fmt: skip
        write_run(results / "runs" / relative, settings, rows, device=device, extractor="randconv64")
        if bench is not None:
            write_benchmark(results / "benchmarks" / "train" / f"{relative}.tsv", bench)


PAPER_CONFIG = {
    "train": {},
    "models": {"dcgan": {"width": 64, "batch_size": 64}, "wgangp": {"width": 64}},
    "experiments": [
        {
            "model": "dcgan",
            "dataset": "celeba",
            "seeds": 8,
            "updates": 1000,
            "eval_every": 500,
            "eval_samples": 1000,
            "methods": {"ttur": {"lrs": [["1e-5", "5e-4"]]}, "orig": {"lrs": [["5e-4", "5e-4"]], "eval_every": 250}},
        },
        {
            "model": "wgangp",
            "dataset": "lsun",
            "seeds": 8,
            "updates": 105,
            "eval_every": 10,
            "eval_samples": 1000,
            "methods": {"ttur": {"lrs": [["3e-4", "1e-4"]]}},
        },
    ],
}


def test_spent_rates_and_projection(tmp_path):
    make_tree(tmp_path)
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump(PAPER_CONFIG))
    bench = read_benchmark(tmp_path / "benchmarks/train/dcgan/smoke/ttur/d1e-4_g5e-4/seed0.tsv")
    assert (bench.seconds, bench.max_rss_mb, bench.cpu_time) == (200.0, 512.0, 190.0)

    report = build_cost_report(tmp_path / "runs", tmp_path / "benchmarks" / "train", load_paper_cells(config))
    spent = report.spent.set_index("method")
    assert spent.loc["ttur", "device"] == "GPU" and spent.loc["orig", "device"] == "CPU"
    assert spent.loc["ttur", "job_hours"] == pytest.approx(420 / 3600, rel=1e-12)
    assert spent.loc["ttur", "train_hours"] == pytest.approx(240 / 3600, rel=1e-12)
    assert spent.loc["ttur", "eval_hours"] == pytest.approx(120 / 3600, rel=1e-12)
    assert (spent.loc["orig", "runs"], spent.loc["orig", "benchmarked"]) == (1, 0)
    assert math.isnan(spent.loc["orig", "job_hours"])

    rates = report.rates.set_index("method")
    assert rates.loc["ttur", "sec_per_update"] == pytest.approx(0.6, rel=1e-12)
    assert rates.loc["ttur", "sec_per_eval_sample"] == pytest.approx(0.2, rel=1e-12)
    assert rates.loc["ttur", "overhead_sec_per_job"] == pytest.approx(30.0, rel=1e-12)
    assert rates.loc["orig", "sec_per_update"] == pytest.approx(0.3, rel=1e-12)

    projection = report.projection.set_index(["model", "method"])
    # TTUR: 1000 updates x 0.6 s + 3 evaluations x 1000 samples x 0.2 s + 30 s = 1230 s per seed, 8 seeds.
    assert projection.loc[("dcgan", "ttur"), "evaluations"] == 3
    assert projection.loc[("dcgan", "ttur"), "hours"] == pytest.approx(1230 * 8 / 3600, rel=1e-12)
    # orig: 1000 x 0.3 + 5 evaluations x 1000 x 0.1 + no overhead measured = 800 s per seed.
    assert projection.loc[("dcgan", "orig"), "hours"] == pytest.approx(800 * 8 / 3600, rel=1e-12)
    assert math.isnan(projection.loc[("wgangp", "ttur"), "hours"])
    # 105 updates, eval_every 10: steps 0, 10, ..., 100 and the last step 105 (as `ttur train` does) -> 12.
    assert projection.loc[("wgangp", "ttur"), "evaluations"] == 12
    assert "no run of this model" in projection.loc[("wgangp", "ttur"), "note"]


def test_cli_writes_csv_and_an_honest_markdown(tmp_path):
    make_tree(tmp_path)
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump(PAPER_CONFIG))
    csv, md = tmp_path / "cost.csv", tmp_path / "cost.md"
    code = main(["cost", "--runs-root", str(tmp_path / "runs"), "--benchmarks-root", str(tmp_path / "benchmarks/train"),
                 "--paper-config", str(config), "--csv", str(csv), "--md", str(md)])  # fmt: skip
    assert code == 0
    frame = pd.read_csv(csv)
    assert frame["section"].value_counts().to_dict() == {"spent": 2, "rate": 2, "projected": 3}
    text = md.read_text()
    assert "Not the cost of the paper's networks on a GPU" in text
    assert f"Projected total: {(1230 + 800) * 8 / 3600:.3g}" in text
    assert main(["cost", "--runs-root", str(tmp_path / "runs"), "--benchmarks-root", str(tmp_path),
                 "--paper-config", str(tmp_path / "absent.yaml"), "--csv", str(csv), "--md", str(md)]) == 2  # fmt: skip
