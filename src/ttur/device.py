"""Device selection: lease one free GPU per process with a lock file, or fall back to the CPU.

Snakemake assigns no device ids, so `--resources gpu=4` alone would put four jobs on `cuda:0`. Each training
process takes a non-blocking exclusive `flock` on `<lock_dir>/gpu<i>.lock` for the first free visible device
and holds it for its lifetime; the kernel drops the lock when the process dies, even on SIGKILL.
"""

from __future__ import annotations

import fcntl
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import torch

from ttur.errors import UserError


@dataclass
class DeviceLease:
    """The device a process computes on, and the open lock file that reserves it (None on CPU)."""

    device: torch.device
    reason: str
    lock: IO[str] | None = None

    def release(self) -> None:
        if self.lock is not None:
            self.lock.close()
            self.lock = None


def default_lock_dir() -> Path:
    """Lock files live in $TTUR_GPU_LOCK_DIR, or a per-user folder under the system temp dir."""
    env = os.environ.get("TTUR_GPU_LOCK_DIR")
    if env:
        return Path(env)
    return Path(tempfile.gettempdir()) / f"ttur-gpu-locks-{os.getuid()}"


def _try_lock(path: Path) -> IO[str] | None:
    handle = open(path, "a+")  # noqa: SIM115 - the handle must outlive this function to keep the lock
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        return None
    handle.seek(0)
    handle.truncate()
    handle.write(f"{os.getpid()}\n")
    handle.flush()
    return handle


def lease_device(requested: str, lock_dir: Path | None = None, device_count: int | None = None) -> DeviceLease:
    """Resolve `requested` ('auto', 'cpu', 'cuda', 'cuda:N') to a device, leasing a free GPU when needed.

    Under a scheduler that sets CUDA_VISIBLE_DEVICES the visible devices are the ones granted, so the lease
    normally picks index 0. 'auto' falls back to the CPU without CUDA; 'cuda' without CUDA is an error.
    """
    if requested == "cpu":
        return DeviceLease(torch.device("cpu"), "cpu requested")
    count = torch.cuda.device_count() if device_count is None else device_count
    if count == 0:
        if requested == "auto":
            return DeviceLease(torch.device("cpu"), "no CUDA device visible: running on CPU")
        raise UserError(f"device '{requested}' requested but no CUDA device is visible; set device: cpu or auto")
    if requested.startswith("cuda:"):
        index = int(requested.split(":", 1)[1])
        return DeviceLease(torch.device("cuda", index), f"cuda:{index} requested explicitly (no lease)")
    if requested not in ("auto", "cuda"):
        raise UserError(f"unknown device '{requested}'; use auto, cpu, cuda or cuda:N")
    directory = lock_dir or default_lock_dir()
    directory.mkdir(parents=True, exist_ok=True)
    visible = os.environ.get("CUDA_VISIBLE_DEVICES", "all")
    for index in range(count):
        handle = _try_lock(directory / f"gpu{index}.lock")
        if handle is not None:
            reason = f"leased cuda:{index} of {count} visible (CUDA_VISIBLE_DEVICES={visible}), lock in {directory}"
            return DeviceLease(torch.device("cuda", index), reason, handle)
    raise UserError(
        f"all {count} visible GPUs are leased by other ttur processes (locks in {directory}); "
        "run Snakemake with --resources gpu=<number of GPUs> so it never starts more GPU jobs than devices"
    )


def log_device(lease: DeviceLease) -> None:
    """Say on stderr which device the job computes on, and why."""
    print(f"[ttur] device {lease.device}: {lease.reason}", file=sys.stderr, flush=True)
