"""The Snakemake layer: lint, formatting, the paper grid's planned jobs, and config errors before any job."""

import collections
import re
import shutil
import subprocess

from snakemake_cli import BIN, ROOT, snakemake


def test_lint_is_clean():
    result = snakemake("--lint")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Congratulations, your workflow is in a good condition!" in result.stdout + result.stderr


def test_snakefmt_is_clean():
    snakefmt = shutil.which("snakefmt", path=str(BIN))
    result = subprocess.run([snakefmt, "--check", "Snakefile", "workflow/"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def planned_outputs(result):
    return re.findall(r"^\s+output: (.*)$", result.stdout, flags=re.MULTILINE)


def test_paper_dry_run_plans_one_training_job_per_cell_and_seed(tmp_path):
    result = snakemake(
        "-n", "--cores", "8", "--resources", "gpu=4", "--configfile", str(ROOT / "config/config.yaml"),
        "-d", str(tmp_path),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    runs = collections.Counter()
    for outputs in planned_outputs(result):
        match = re.match(r"results/runs/(\w+)/(\w+)/(ttur|orig)/d([0-9e.-]+)_g([0-9e.-]+)/seed\d+/metrics.csv", outputs)
        if match:
            runs[match.groups()] += 1
    expected = {}
    for dataset, ttur, origs in [
        ("celeba", ("1e-5", "5e-4"), ("5e-4", "1e-4", "1e-5")),
        ("cifar10", ("1e-4", "5e-4"), ("1e-4", "2e-4", "5e-4")),
        ("svhn", ("1e-5", "1e-4"), ("5e-5", "1e-5", "1e-4")),
        ("lsun", ("1e-5", "1e-4"), ("5e-5", "1e-5", "1e-4")),
    ]:
        expected[("dcgan", dataset, "ttur", *ttur)] = 8
        expected.update({("dcgan", dataset, "orig", lr, lr): 8 for lr in origs})
    for dataset in ("cifar10", "lsun"):
        expected[("wgangp", dataset, "ttur", "3e-4", "1e-4")] = 8
        expected.update({("wgangp", dataset, "orig", lr, lr): 8 for lr in ("1e-4", "5e-4", "7e-4")})
    expected[("lang", "billion_word", "ttur", "3e-4", "1e-4")] = 10
    expected[("lang", "billion_word", "orig", "1e-4", "1e-4")] = 10
    assert dict(runs) == expected
    assert sum(runs.values()) == 212
    stats = dict(re.findall(r"^(\w+)\s+(\d+)$", result.stdout, flags=re.MULTILINE))
    assert stats["train"] == "212"
    assert stats["download"] == "5"  # celeba, cifar10, svhn, lsun, billion_word
    assert stats["weights"] == "1"


def test_invalid_config_fails_before_any_job(tmp_path):
    result = snakemake(
        "--cores", "1", "--configfile", str(ROOT / "config/smoke.yaml"), "--config", "device=gpu0",
        "-d", str(tmp_path),
    )  # fmt: skip
    assert result.returncode != 0
    assert "invalid config: config key 'device' = 'gpu0' is invalid" in result.stderr
    assert not (tmp_path / "results").exists()
