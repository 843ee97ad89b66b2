"""The SLURM profile end to end on a real single-node SLURM cluster started on this machine.

scripts/slurm_local.sh installs (apt) and starts munge, slurmctld and slurmd with one fake GPU; the smoke preset's
training jobs, cut down, then run through `snakemake --profile profiles/slurm`: every job is submitted with
sbatch, the GPU rules ask for the fake GPU (`--gpus=1`) and still compute on the CPU (device auto, no CUDA). One
training job is cancelled mid-run like a preemption; the profile's retry resubmits it and it resumes from its
saved state. The fixture stops exactly the daemons it started.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from ttur.train.state import saved_step

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
SCRIPT = REPO / "scripts" / "slurm_local.sh"
UPDATES = 100
CELLS = {"ttur": ["1e-4", "4e-4"], "orig": ["2e-4", "2e-4"]}
RUNS = {method: f"results/runs/dcgan/shapes32/{method}/d{d}_g{g}/seed0" for method, (d, g) in CELLS.items()}
PREEMPTED = "orig"  # the run whose first SLURM job is cancelled mid-training
WORKFLOW_TIMEOUT_S = 240


def slurm_unavailable() -> str | None:
    """Why this machine cannot host the test cluster, or None."""
    if os.geteuid() != 0:
        return "needs root: scripts/slurm_local.sh installs packages and starts system daemons"
    if shutil.which("slurmctld") is None and shutil.which("apt-get") is None:
        return "SLURM is not installed and apt-get is not available to install it"
    return None


pytestmark = [pytest.mark.slow, pytest.mark.skipif(slurm_unavailable() is not None, reason=str(slurm_unavailable()))]


def script(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(SCRIPT), *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, check=check,
        timeout=600,
    )  # fmt: skip


@pytest.fixture(scope="module")
def cluster():
    """The local cluster: started here (and stopped here) unless it is already up."""
    already_up = script("status", check=False).returncode == 0
    if not already_up:
        started = script("up", check=False)
        assert started.returncode == 0, started.stdout
        print(started.stdout)
    try:
        yield
    finally:
        if not already_up:
            stopped = script("down", check=False)
            assert stopped.returncode == 0, stopped.stdout


def tiny_smoke_config() -> dict:
    """The smoke preset's DCGAN experiment (TTUR and one time-scale), one seed, 100 updates; device auto."""
    smoke = yaml.safe_load((REPO / "config" / "smoke.yaml").read_text())
    experiment = next(e for e in smoke["experiments"] if e["model"] == "dcgan")
    methods = {m: {**experiment["methods"][m], "lrs": [lrs]} for m, lrs in CELLS.items()}
    experiment.update(seeds=1, updates=UPDATES, eval_every=50, eval_samples=100, methods=methods)
    smoke.update(
        results="results",
        data_root="results/data",
        resources="results/resources",
        device="auto",  # the GPU rules request a GPU from SLURM; without CUDA the jobs run on the CPU
        experiments=[experiment],
        datasets={"shapes32": {"count": 400, "seed": 0}},
        stats={"batch_size": 200},
    )
    smoke["models"] = {"dcgan": {**smoke["models"]["dcgan"], "batch_size": 32, "width": 8, "z_dim": 16}}
    smoke["train"].update(eval_batch_size=100, feature_batch_size=100, checkpoint_every=5, mem_mb=1000)
    smoke.pop("disturb", None)
    return smoke


def submitted(output: str) -> dict[str, dict[str, str]]:
    """SLURM job id -> wildcards folder, per rule, from the executor's lines
    `Job N has been submitted with SLURM jobid X (log: .../slurm_logs/rule_<rule>/<wildcards>/X.log)`."""
    jobs: dict[str, dict[str, str]] = {}
    pattern = r"submitted with SLURM jobid (\d+) \(log: \S*/slurm_logs/rule_(\w+)/(\S+)/\d+\.log\)"
    for slurm_id, rule, wildcards in re.findall(pattern, output):
        jobs.setdefault(rule, {})[slurm_id] = wildcards
    return jobs


def squeue(job_ids: list[str]) -> dict[str, dict[str, str]]:
    """State, comment and requested TRES of finished jobs (MinJobAge=300 keeps them visible to squeue)."""
    out = subprocess.run(
        ["squeue", "-h", "-t", "all", "-j", ",".join(job_ids), "-O", "JobID:|,State:|,Comment:|,tres-per-job:|"],
        stdout=subprocess.PIPE, text=True, check=True,
    ).stdout  # fmt: skip
    rows = {}
    for line in out.splitlines():
        job_id, state, comment, tres = (field.strip() for field in line.split("|")[:4])
        rows[job_id] = {"state": state, "comment": comment, "tres": tres}
    return rows


def test_smoke_training_jobs_run_through_the_slurm_profile(cluster, tmp_path: Path) -> None:
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(tiny_smoke_config()))
    env = {
        **os.environ,
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "TTUR_SLURM_ACCOUNT": "ci",
        "TTUR_SLURM_PARTITION": "debug",
        "TTUR_SLURM_GPU_PARTITION": "debug",
    }
    argv = [
        "timeout", "-k", "10", str(WORKFLOW_TIMEOUT_S),  # the executor can hang when status queries fail
        str(BIN / "snakemake"), "--until", "train", "--profile", str(REPO / "profiles" / "slurm"),
        "--slurm-status-command", "squeue",  # no accounting database on the test cluster: sacct does not work
        "--slurm-init-seconds-before-status-checks", "2", "--latency-wait", "5", "--slurm-keep-successful-logs",
        "--snakefile", str(REPO / "Snakefile"), "--configfile", "config.yaml",
    ]  # fmt: skip
    log = tmp_path / "snakemake.out"
    with open(log, "w") as out:
        head = subprocess.Popen(
            argv, cwd=tmp_path, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        # Preemption drill: once the run's state has a few saved steps, cancel its SLURM job (SIGTERM, then
        # SIGKILL after KillWait). The executor sees CANCELLED, the profile's retry resubmits, the run resumes.
        state = tmp_path / RUNS[PREEMPTED] / ".resume" / "state.pt"
        deadline = time.monotonic() + WORKFLOW_TIMEOUT_S
        while (saved_step(state) or 0) < 10:
            assert head.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.05)
        cancelled_at = saved_step(state)
        assert cancelled_at is not None and cancelled_at < UPDATES
        running = submitted(log.read_text())["train"]
        first_job = next(i for i, wildcards in running.items() if f"_{PREEMPTED}_" in f"_{wildcards}_")
        subprocess.run(["scancel", first_job], check=True)
        assert head.wait(timeout=WORKFLOW_TIMEOUT_S + 20) == 0, log.read_text()
    finally:
        if head.poll() is None:
            os.killpg(head.pid, signal.SIGKILL)
            head.wait()
    output = log.read_text()

    jobs = submitted(output)
    # download is a local rule (it needs the network); everything after it went through sbatch.
    assert sorted(jobs) == ["fid_stats", "prepare_images", "train"], output
    assert len(jobs["train"]) == len(RUNS) + 1, output  # one job per run, plus the resubmitted cancelled one
    rows = squeue([i for ids in jobs.values() for i in ids])
    assert rows[first_job]["state"] == "CANCELLED", rows
    assert [rows[i]["state"] for i in jobs["train"] if i != first_job] == ["COMPLETED"] * len(RUNS), rows
    for rule in ("fid_stats", "train"):
        for job_id in jobs[rule]:
            assert rows[job_id]["comment"].startswith(f"rule_{rule}_"), rows
            assert "gpu:1" in rows[job_id]["tres"], rows  # sbatch --gpus=1: the fake GPU was requested
    assert "gpu" not in rows[next(iter(jobs["prepare_images"]))]["tres"], rows

    for method, run in RUNS.items():
        record = json.loads((tmp_path / run / "run.json").read_text())
        assert record["device"] == "cpu", record["device_reason"]  # granted a "GPU", computed on the CPU
        assert record["finished"]["step"] == UPDATES
        resumed = [r["step"] for r in record["resumes"]]
        if method == PREEMPTED:
            assert len(resumed) == 1 and cancelled_at <= resumed[0] < UPDATES, record["resumes"]
        else:
            assert resumed == [], record["resumes"]
