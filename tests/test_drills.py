"""Failure drills through Snakemake on a tiny config: killed, preempted and corrupted training jobs, crashes that
leave incomplete outputs, two invocations on one results directory, and the single-seed rerun command.

Each drill runs the real workflow (Snakefile, profiles/default) in its own working directory, on a shapes32
dataset and randconv64 statistics that a module fixture builds once with the pipeline itself. The training job
keeps its resume state in RUN_DIR/.resume/; the drills check what docs/cluster.md promises after each failure.
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from ttur.train.state import saved_step

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent  # the venv's bin: snakemake and the `ttur` command the rules call
UPDATES = 100
EVAL_EVERY = 50
CHECKPOINT_EVERY = 10
INTERRUPT_AT = 20  # interrupt once the saved state has reached this step (well before UPDATES)
CELL = "results/runs/dcgan/shapes32/ttur/d1e-4_g4e-4"
LOG = "results/logs/train/dcgan/shapes32/ttur/d1e-4_g4e-4"
TIMEOUT_S = 300  # per Snakemake invocation; a drill normally needs seconds


def tiny_config(seeds: int, updates: int = UPDATES, eval_every: int = EVAL_EVERY) -> dict:
    """The smoke preset cut down: one DCGAN cell on 400 generated shapes, 100 updates, a checkpoint every 10."""
    return {
        "results": "results",
        "data_root": "results/data",
        "resources": "results/resources",
        "device": "cpu",
        "feature_extractor": "randconv64",
        "inception_weights": None,
        "inception_urls": [],
        "stats": {"batch_size": 200},
        "datasets": {"shapes32": {"count": 400, "seed": 0}},
        "models": {"dcgan": {"batch_size": 32, "z_dim": 16, "width": 8, "beta1": 0.5, "beta2": 0.999}},
        "experiments": [
            {
                "model": "dcgan",
                "dataset": "shapes32",
                "seeds": seeds,
                "eval_every": eval_every,
                "eval_samples": 100,
                "updates": updates,
                "methods": {"ttur": {"critic_iters": 1, "lrs": [["1e-4", "4e-4"]]}},
            }
        ],
        "train": {
            "eval_batch_size": 100,
            "feature_batch_size": 100,
            "checkpoint_every": CHECKPOINT_EVERY,
            "snapshots": "last",
            "threads": 1,
            "runtime_minutes": 10,
            "mem_mb": 1000,
        },
        "toy": {"seed": 0, "iterations": 10},
    }


def env() -> dict[str, str]:
    return {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}", "OMP_NUM_THREADS": "1"}


def snakemake_argv(*args: str) -> list[str]:
    # Callers pass targets before flags, and --configfile comes last: list-valued flags swallow what follows them.
    return [str(BIN / "snakemake"), *args, "--snakefile", str(REPO / "Snakefile"), "--configfile", "config.yaml"]


def run_snakemake(workdir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        snakemake_argv(*args),
        cwd=workdir,
        env=env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=TIMEOUT_S,
    )


class Background:
    """A Snakemake invocation in its own process group (so a drill can kill it and its jobs at once)."""

    def __init__(self, workdir: Path, *args: str) -> None:
        self.output = workdir / f"snakemake-{time.monotonic_ns()}.out"
        with open(self.output, "w") as out:
            self.proc = subprocess.Popen(
                snakemake_argv(*args), cwd=workdir, env=env(), stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip

    def text(self) -> str:
        return self.output.read_text()

    def wait(self) -> int:
        return self.proc.wait(timeout=TIMEOUT_S)

    def kill_group(self) -> None:
        """SIGKILL Snakemake and every job it started (a node or head-process crash)."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)


@pytest.fixture()
def background():
    """Starts Background invocations and kills whatever is left of them at teardown."""
    started: list[Background] = []

    def start(workdir: Path, *args: str) -> Background:
        started.append(Background(workdir, *args))
        return started[-1]

    yield start
    for invocation in started:
        if invocation.proc.poll() is None:
            invocation.kill_group()


def run_dir(seed: int) -> str:
    return f"{CELL}/seed{seed}"


def wait_for_state(workdir: Path, seed: int, invocation: Background, min_step: int) -> int:
    """Poll until the run's saved state reaches `min_step` (the job is then mid-training); returns that step."""
    path = workdir / run_dir(seed) / ".resume" / "state.pt"
    deadline = time.monotonic() + TIMEOUT_S
    while time.monotonic() < deadline:
        step = saved_step(path)
        if step is not None and step >= min_step:
            assert step < UPDATES, f"the run reached step {step} before the drill could interrupt it"
            return step
        assert invocation.proc.poll() is None, f"Snakemake ended early:\n{invocation.text()}"
        time.sleep(0.02)
    raise AssertionError(f"no resume state at step >= {min_step} after {TIMEOUT_S} s:\n{invocation.text()}")


def training_pid(pgid: int, seed: int) -> int:
    """The `ttur train` process of one seed among the processes of a Snakemake invocation's group."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        words = [w.decode(errors="replace") for w in cmdline]
        pgrp = int(stat.rsplit(")", 1)[1].split()[2])
        if pgrp == pgid and "train" in words and "--out" in words and words[words.index("--out") + 1] == run_dir(seed):
            return int(entry.name)
    raise AssertionError(f"no `ttur train` process for seed {seed} in process group {pgid}")


def metric_steps(workdir: Path, seed: int) -> list[int]:
    with open(workdir / run_dir(seed) / "metrics.csv", newline="") as handle:
        return [int(row["step"]) for row in csv.DictReader(handle)]


def run_record(workdir: Path, seed: int) -> dict:
    return json.loads((workdir / run_dir(seed) / "run.json").read_text())


def train_log(workdir: Path, seed: int) -> str:
    return (workdir / f"{LOG}/seed{seed}.log").read_text()


def assert_finished(workdir: Path, seed: int) -> None:
    """A complete run: every evaluation row once, in order, a finished record and no resume state left."""
    assert metric_steps(workdir, seed) == list(range(0, UPDATES + 1, EVAL_EVERY))
    record = run_record(workdir, seed)
    assert record["finished"]["reason"] == "updates" and record["finished"]["step"] == UPDATES
    assert not (workdir / run_dir(seed) / ".resume").exists()


def metrics_target(seed: int) -> str:
    return f"{run_dir(seed)}/metrics.csv"


NO_RETRY = ("--preemptible-rules", "train", "--preemptible-retries", "0")  # fail at once: the drill reruns by hand


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A working directory with the generated dataset and its FID statistics, built once by the pipeline."""
    workdir = tmp_path_factory.mktemp("drill-template")
    (workdir / "config.yaml").write_text(yaml.safe_dump(tiny_config(seeds=2)))
    done = run_snakemake(workdir, "--cores", "2", "--until", "fid_stats")
    assert done.returncode == 0, done.stdout
    return workdir


@pytest.fixture()
def workdir(template: Path, tmp_path: Path) -> Path:
    """A private copy of the template (results, config and Snakemake's metadata), so drills never interfere."""
    target = tmp_path / "wd"
    shutil.copytree(template, target, symlinks=True)
    return target


def interrupted_run(workdir: Path, background, sig: int) -> tuple[Background, int]:
    """Start seed 0's training without retries, send `sig` to the training process mid-run; returns the step seen."""
    invocation = background(workdir, metrics_target(0), "--cores", "1", *NO_RETRY)
    seen = wait_for_state(workdir, 0, invocation, INTERRUPT_AT)
    os.kill(training_pid(invocation.proc.pid, 0), sig)
    assert invocation.wait() != 0, invocation.text()
    return invocation, seen


def test_sigkill_of_training_job_resumes_on_next_invocation(workdir: Path, background) -> None:
    invocation, seen = interrupted_run(workdir, background, signal.SIGKILL)
    assert "Error in rule train" in invocation.text()
    # Snakemake removed the failed job's outputs; the resume state is not an output and survives.
    assert not (workdir / metrics_target(0)).exists()
    saved = saved_step(workdir / run_dir(0) / ".resume" / "state.pt")
    assert saved is not None and seen <= saved < UPDATES

    rerun = run_snakemake(workdir, metrics_target(0), "--cores", "1")
    assert rerun.returncode == 0, rerun.stdout
    assert f"(step {saved})" in train_log(workdir, 0)
    assert "resuming from" in train_log(workdir, 0)
    # The second process started at the saved step: it ran UPDATES - saved updates, not UPDATES.
    assert [r["step"] for r in run_record(workdir, 0)["resumes"]] == [saved]
    assert_finished(workdir, 0)


def test_sigterm_saves_state_and_next_invocation_finishes(workdir: Path, background) -> None:
    invocation, seen = interrupted_run(workdir, background, signal.SIGTERM)
    log = train_log(workdir, 0)
    assert "stopped by signal SIGTERM" in log and "resume state saved" in log, log
    saved = saved_step(workdir / run_dir(0) / ".resume" / "state.pt")
    assert saved is not None and seen <= saved < UPDATES
    assert f"at step {saved}" in log  # it saved exactly where it stopped, not at an older checkpoint

    rerun = run_snakemake(workdir, metrics_target(0), "--cores", "1")
    assert rerun.returncode == 0, rerun.stdout
    assert "resuming from" in train_log(workdir, 0)
    assert [r["step"] for r in run_record(workdir, 0)["resumes"]] == [saved]
    assert_finished(workdir, 0)


def corrupt(path: Path) -> None:
    """Flip one byte in the middle of the payload: the header stays readable, the checksum no longer matches."""
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


def test_corrupted_latest_state_falls_back_to_previous(workdir: Path, background) -> None:
    interrupted_run(workdir, background, signal.SIGTERM)
    resume = workdir / run_dir(0) / ".resume"
    latest, previous = saved_step(resume / "state.pt"), saved_step(resume / "state.prev.pt")
    assert latest is not None and previous is not None and previous <= latest  # equal if SIGTERM hit a checkpoint
    corrupt(resume / "state.pt")

    rerun = run_snakemake(workdir, metrics_target(0), "--cores", "1")
    assert rerun.returncode == 0, rerun.stdout
    log = train_log(workdir, 0)
    assert "is corrupted (checksum mismatch" in log, log
    assert "falling back to the previous resume state" in log and f"(step {previous})" in log, log
    assert [r["step"] for r in run_record(workdir, 0)["resumes"]] == [previous]
    assert_finished(workdir, 0)


def test_corrupted_states_restart_from_scratch(workdir: Path, background) -> None:
    interrupted_run(workdir, background, signal.SIGTERM)
    resume = workdir / run_dir(0) / ".resume"
    corrupt(resume / "state.pt")
    (resume / "state.prev.pt").write_bytes((resume / "state.prev.pt").read_bytes()[:100])  # truncated

    rerun = run_snakemake(workdir, metrics_target(0), "--cores", "1")
    assert rerun.returncode == 0, rerun.stdout
    log = train_log(workdir, 0)
    assert log.count("is corrupted") == 2, log
    assert "no usable resume state: starting from scratch" in log, log
    assert run_record(workdir, 0)["resumes"] == []  # a fresh run, never one built on the garbage
    assert_finished(workdir, 0)


def test_incomplete_output_after_crash_is_not_taken_as_finished(workdir: Path, background) -> None:
    # A crash of the whole machine: Snakemake and the training job die together, after metrics.csv was written.
    invocation = background(workdir, metrics_target(0), "--cores", "1")
    wait_for_state(workdir, 0, invocation, INTERRUPT_AT)
    invocation.kill_group()
    assert (workdir / metrics_target(0)).exists()  # a partial file that looks like an output
    assert metric_steps(workdir, 0)[-1] < UPDATES

    # The dead invocation's lock is still there: a real run is refused until `--unlock` (docs/cluster.md).
    locked = run_snakemake(workdir, metrics_target(0), "--cores", "1")
    assert locked.returncode != 0 and "Directory cannot be locked" in locked.stdout, locked.stdout
    unlocked = run_snakemake(workdir, metrics_target(0), "--unlock")
    assert unlocked.returncode == 0, unlocked.stdout

    # Without --rerun-incomplete Snakemake refuses to use the file; with it (profiles/default) the job runs again.
    strict = run_snakemake(workdir, metrics_target(0), "-n", "--workflow-profile", "none")
    assert strict.returncode != 0
    assert "IncompleteFilesException" in strict.stdout and metrics_target(0) in strict.stdout, strict.stdout
    planned = run_snakemake(workdir, metrics_target(0), "-n")
    assert planned.returncode == 0, planned.stdout
    assert planned_jobs(planned.stdout) == {"train": 1}, planned.stdout  # shown as "reason: Forced execution"
    rerun = run_snakemake(workdir, metrics_target(0), "--cores", "1")
    assert rerun.returncode == 0, rerun.stdout
    assert "resuming from" in train_log(workdir, 0)
    assert_finished(workdir, 0)


def test_second_invocation_on_same_results_is_refused_by_the_lock(workdir: Path, background) -> None:
    first = background(workdir, metrics_target(0), "--cores", "1")
    wait_for_state(workdir, 0, first, INTERRUPT_AT)
    trainer = training_pid(first.proc.pid, 0)
    os.kill(trainer, signal.SIGSTOP)  # hold the first invocation mid-job while the second one tries
    try:
        second = run_snakemake(workdir, metrics_target(0), "--cores", "1")
    finally:
        os.kill(trainer, signal.SIGCONT)
    assert second.returncode != 0
    assert "Directory cannot be locked" in second.stdout and "--unlock" in second.stdout, second.stdout
    assert first.wait() == 0, first.text()
    # The first run was not disturbed: no resume, every row once.
    assert run_record(workdir, 0)["resumes"] == []
    assert_finished(workdir, 0)
    docs = (REPO / "docs" / "cluster.md").read_text()
    assert "Directory cannot be locked" in docs and "--unlock" in docs


def planned_jobs(dry_run: str) -> dict[str, int]:
    """The `Job stats` table of a dry-run: rule -> number of planned jobs."""
    lines = dry_run.split("Job stats:", 1)[1].splitlines()
    counts = {}
    for line in lines[3:]:
        parts = line.split()
        if len(parts) != 2 or parts[0] == "total":
            break
        counts[parts[0]] = int(parts[1])
    return counts


def test_single_seed_rerun_plans_that_job_and_its_dependents(workdir: Path) -> None:
    # The whole tiny pipeline, for real: two seeds of 20 updates (data and statistics come from the template).
    (workdir / "config.yaml").write_text(yaml.safe_dump(tiny_config(seeds=2, updates=20, eval_every=10)))
    complete = run_snakemake(workdir, "--cores", "2")
    assert complete.returncode == 0, complete.stdout
    nothing = run_snakemake(workdir, "-n")
    assert "Nothing to be done" in nothing.stdout, nothing.stdout

    # The command in docs/cluster.md: rerun seed 1 and everything computed from it, nothing else.
    rerun = run_snakemake(workdir, "-n", "-R", metrics_target(1))
    assert rerun.returncode == 0, rerun.stdout
    assert planned_jobs(rerun.stdout) == {"train": 1, "table": 1, "figures": 1, "cost": 1, "all": 1}
    train_job = rerun.stdout.split("rule train:", 1)[1].split("\n\n", 1)[0]
    assert f"output: {metrics_target(1)}" in train_job and "seed=1" in train_job, train_job
