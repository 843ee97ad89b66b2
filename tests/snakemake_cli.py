"""Run this repository's Snakefile through the venv's `snakemake` command, as a user would (the CLI, not the API)."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def snakemake(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """`snakemake -s Snakefile ARGS` from the repository root, with the venv's `ttur` on PATH."""
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ['PATH']}")
    return subprocess.run(
        [str(BIN / "snakemake"), "-s", str(ROOT / "Snakefile"), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
