"""Training job as a process: SIGKILL/SIGTERM and restart, corrupted resume state, divergence, run.json.

On the CPU a resumed run must end with the metrics.csv of an uninterrupted run, identical in every column except
the wall-clock ones (minutes, wall_minutes), which measure real time.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import dataclasses
import json
import shutil
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch
from test_train_fixtures import make_datasets, run_train, start_train, train_args

from ttur.io import sha256_file
from ttur.train import TrainSettings, train
from ttur.train.settings import add_arguments

WALL_CLOCK = ("minutes", "wall_minutes")


def metrics_without_clock(run: Path) -> list[dict[str, str]]:
    with open(run / "metrics.csv", newline="") as handle:
        return [{k: v for k, v in row.items() if k not in WALL_CLOCK} for row in csv.DictReader(handle)]


def generator_weights(run: Path) -> dict[str, torch.Tensor]:
    return torch.load(run / "generator_last.pt", weights_only=True)["generator"]


def assert_same_run(run: Path, reference: Path) -> None:
    """Identical metrics (tolerance 0; full-precision text) and bit-identical final generator weights."""
    assert metrics_without_clock(run) == metrics_without_clock(reference)
    ours, theirs = generator_weights(run), generator_weights(reference)
    assert all(torch.equal(ours[name], theirs[name]) for name in theirs)
    assert not (run / ".resume").exists()  # a finished run removes its resume state


def wait_for(path: Path, process, timeout_s: float = 120.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not path.exists():
        assert process.poll() is None, f"training ended before {path.name} appeared: {process.communicate()}"
        assert time.monotonic() < deadline, f"{path} did not appear within {timeout_s} s"
        time.sleep(0.005)


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return make_datasets(tmp_path_factory.mktemp("resume_data"))


# WGAN-GP language model with 3 critic steps per update: data order, noise, GP alphas and evaluation noise.
LANG = {"method": "orig", "critic_iters": 3, "lr_d": 1e-4, "lr_g": 1e-4, "updates": 40}
# DCGAN with FID: BatchNorm running averages, BN-eval sampling and the sample grid.
DCGAN = {"updates": 40}


@pytest.fixture(scope="module")
def references(data: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("reference_runs")
    runs = {}
    for model, overrides in (("lang", LANG), ("dcgan", DCGAN)):
        with one_thread():  # in-process, uninterrupted; the same single-threaded numerics as the CLI runs
            train(TrainSettings(**settings_of(train_args(data, model, root / model, **overrides))), root / model)
        runs[model] = root / model
    return runs


def test_sigkill_at_any_moment_then_restart_is_identical(
    data: dict[str, Path], references: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = train_args(data, "lang", tmp_path / "run", **LANG)
    process = start_train(args)
    wait_for(tmp_path / "run" / ".resume" / "state.prev.pt", process)  # at least two checkpoints written
    process.send_signal(signal.SIGKILL)
    assert process.wait() == -signal.SIGKILL
    assert not (tmp_path / "run" / "run.json").read_text().count('"reason"')  # not finished
    with one_thread():
        train(TrainSettings(**settings_of(args)), tmp_path / "run")
    stderr = capsys.readouterr().err
    assert "resuming from" in stderr or "falling back to the previous" in stderr
    assert_same_run(tmp_path / "run", references["lang"])
    assert len(json.loads((tmp_path / "run" / "run.json").read_text())["resumes"]) == 1


@pytest.fixture(scope="module")
def terminated(data: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A DCGAN run stopped by SIGTERM part-way: run directory with state.pt and state.prev.pt."""
    run = tmp_path_factory.mktemp("terminated") / "run"
    process = start_train(train_args(data, "dcgan", run, **DCGAN))
    wait_for(run / ".resume" / "state.prev.pt", process)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 128 + signal.SIGTERM, stderr  # non-zero: Snakemake must not mark the job done
    assert "stopped by signal SIGTERM" in stderr and "resume state saved" in stderr
    header = (run / ".resume" / "state.pt").read_bytes().split(b"\n", 1)[0].decode()
    assert 0 < int(header.split("step=")[1].split()[0]) < DCGAN["updates"]
    return run


def test_sigterm_saves_state_exits_nonzero_and_resumes(
    data: dict[str, Path], references: dict[str, Path], terminated: Path, tmp_path: Path
) -> None:
    run = shutil.copytree(terminated, tmp_path / "run")
    resumed = run_train(train_args(data, "dcgan", run, **DCGAN))
    assert resumed.returncode == 0, resumed.stderr
    assert "resuming from" in resumed.stderr
    assert_same_run(run, references["dcgan"])


def test_corrupted_latest_state_falls_back_to_the_previous_one(
    data: dict[str, Path],
    references: dict[str, Path],
    terminated: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """(Both states corrupted -> scratch, with a message: test_train_units.py::test_store_falls_back_...)"""
    run = shutil.copytree(terminated, tmp_path / "run")
    path = run / ".resume" / "state.pt"
    data_bytes = bytearray(path.read_bytes())
    data_bytes[len(data_bytes) // 2] ^= 0xFF  # one flipped byte in the middle of the payload
    path.write_bytes(bytes(data_bytes))
    with one_thread():  # in-process: the same single-threaded numerics as the CLI runs
        train(TrainSettings(**settings_of(train_args(data, "dcgan", run, **DCGAN))), run)
    stderr = capsys.readouterr().err
    assert "state.pt is corrupted (checksum mismatch" in stderr
    assert "falling back to the previous resume state" in stderr
    assert_same_run(run, references["dcgan"])


def test_run_json_records_every_setting_and_provenance(data: dict[str, Path], references: dict[str, Path]) -> None:
    record = json.loads((references["dcgan"] / "run.json").read_text())
    fields = {f.name for f in dataclasses.fields(TrainSettings)}
    assert set(record["settings"]) == fields
    assert TrainSettings(**record["settings"]).updates == DCGAN["updates"]
    assert record["device"] == "cpu" and record["device_reason"]
    assert set(record["versions"]) == {"python", "torch", "numpy", "ttur"}
    assert record["extractor"] == {"name": "randconv64", "weights_sha256": None}
    assert record["stats_sha256"] == sha256_file(data["fid_stats"])
    assert record["finished"]["reason"] == "updates" and record["finished"]["step"] == DCGAN["updates"]
    rows = metrics_without_clock(references["dcgan"])
    assert [int(r["step"]) for r in rows] == [0, 20, 40]
    assert rows[0]["d_loss"] == "" and "no update before this step" in rows[0]["note"]
    assert all(float(r["fid"]) >= 0 and float(r["d_loss"]) > 0 for r in rows[1:])
    samples = sorted(p.name for p in (references["dcgan"] / "samples").iterdir())
    assert samples == ["step0000000.png", "step0000020.png", "step0000040.png"]
    assert (references["dcgan"] / "generator_best.pt").is_file()
    texts = sorted((references["lang"] / "samples").glob("*.txt"))
    assert len(texts[0].read_text().splitlines()) == 64  # eval_samples decoded sequences


def test_nan_loss_ends_the_run_cleanly_with_the_reason(data: dict[str, Path], tmp_path: Path) -> None:
    # lr 1e10 on the normalisation-free language model overflows to inf/NaN within the first update.
    values = settings_of(train_args(data, "lang", tmp_path / "run", lr_d=1e10, lr_g=1e10, updates=10))
    with one_thread():
        train(TrainSettings(**values), tmp_path / "run")  # returns normally: `ttur train` exits 0
    rows = metrics_without_clock(tmp_path / "run")
    last = rows[-1]
    assert last["note"].startswith(f"diverged at step {last['step']}: d_loss=")
    assert "nan" in last["note"] or "inf" in last["note"]
    assert all(last[c] == "" for c in ("jsd1", "jsd6", "d_loss", "g_loss"))
    assert int(last["step"]) <= 10 and len(rows) == 2  # step 0, then the divergence row (no metric for step 10)
    record = json.loads((tmp_path / "run" / "run.json").read_text())
    assert record["finished"]["reason"] == "diverged" and record["finished"]["note"] == last["note"]
    assert not (tmp_path / "run" / ".resume").exists()


@contextlib.contextmanager
def one_thread() -> Iterator[None]:
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def settings_of(args: list[str]) -> dict[str, object]:
    """TrainSettings values from `ttur train` flags, parsed by the command's own parser (without --out)."""
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    parser.add_argument("--out")
    values = vars(parser.parse_args(args))
    values.pop("out")
    return values
