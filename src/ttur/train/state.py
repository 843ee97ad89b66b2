"""Resume state: written atomically with a checksum, the previous good state kept as a fallback.

Layout under RUN_DIR/.resume/ (not a Snakemake output, so a failed job's state survives): `state.pt` (latest) and
`state.prev.pt` (the one before). Each file is one header line `TTUR-RESUME 1 step=<s> sha256=<hex>` followed by
the `torch.save` bytes the digest covers. A file that fails its checksum or does not load is reported on stderr
and the older one is used; with neither, the run starts from scratch. Never silently from garbage.
"""

from __future__ import annotations

import hashlib
import io
import random
import shutil
import sys
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ttur.io import write_bytes

MAGIC = b"TTUR-RESUME 1"
LATEST = "state.pt"
PREVIOUS = "state.prev.pt"


class CorruptStateError(Exception):
    """A resume-state file that is truncated, altered or unreadable."""


def encode(payload: dict[str, Any]) -> bytes:
    """Header line with step and sha256, then the serialized payload."""
    buffer = io.BytesIO()
    torch.save(payload, buffer)
    body = buffer.getvalue()
    header = MAGIC + f" step={int(payload['step'])} sha256={hashlib.sha256(body).hexdigest()}\n".encode()
    return header + body


def decode(data: bytes, device: torch.device) -> dict[str, Any]:
    """Check the header and checksum, then load the payload onto `device` (tensors only, no arbitrary pickles)."""
    header, newline, body = data.partition(b"\n")
    fields = header.split(b" ")
    if not newline or not header.startswith(MAGIC + b" ") or not fields[-1].startswith(b"sha256="):
        raise CorruptStateError("missing or unknown header")
    expected = fields[-1].removeprefix(b"sha256=").decode(errors="replace")
    actual = hashlib.sha256(body).hexdigest()
    if actual != expected:
        raise CorruptStateError(f"checksum mismatch (header {expected[:12]}..., content {actual[:12]}...)")
    try:
        return torch.load(io.BytesIO(body), map_location=device, weights_only=True)
    except Exception as error:  # a checksummed file that still does not load is as bad as a corrupted one
        raise CorruptStateError(f"unreadable payload ({type(error).__name__}: {error})") from error


def saved_step(path: Path) -> int | None:
    """The step in a state file's header, read without loading the payload; None if there is no file."""
    try:
        with open(path, "rb") as handle:
            header = handle.readline().decode(errors="replace").split()
    except FileNotFoundError:
        return None
    return int(next(field for field in header if field.startswith("step=")).removeprefix("step="))


class ResumeStore:
    """Reads and writes the two rotating state files of one run directory."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self._latest_is_good = True  # False after `load` found state.pt corrupted: never rotate it into prev

    def _say(self, message: str) -> None:
        print(f"[ttur train] {message}", file=sys.stderr, flush=True)

    def load(self, device: torch.device) -> dict[str, Any] | None:
        """The newest good state, or None (fresh start). Problems are reported on stderr, never hidden."""
        for stale in self.directory.glob(".state*.tmp"):  # a write cut short by SIGKILL
            stale.unlink(missing_ok=True)
        for name in (LATEST, PREVIOUS):
            path = self.directory / name
            if not path.exists():
                continue
            try:
                state = decode(path.read_bytes(), device)
            except (CorruptStateError, OSError) as error:
                self._say(f"resume state {path} is corrupted ({error}); ignoring it")
                if name == LATEST:
                    self._latest_is_good = False
                continue
            if name == PREVIOUS:
                self._say(f"falling back to the previous resume state {path} (step {state['step']})")
            else:
                self._say(f"resuming from {path} (step {state['step']})")
            return state
        if not self._latest_is_good or (self.directory / PREVIOUS).exists():
            self._say("no usable resume state: starting from scratch")
        return None

    def save(self, payload: dict[str, Any]) -> None:
        """Write `payload` as the latest state; the current latest (if good) becomes the previous one."""
        data = encode(payload)
        latest = self.directory / LATEST
        self.directory.mkdir(parents=True, exist_ok=True)
        if latest.exists() and self._latest_is_good:
            latest.replace(self.directory / PREVIOUS)
        write_bytes(latest, data)
        self._latest_is_good = True

    def clear(self) -> None:
        """Remove both states (the run finished; its outputs are complete)."""
        shutil.rmtree(self.directory, ignore_errors=True)


def capture_rng() -> dict[str, Any]:
    """The global RNG states: Python, NumPy, torch CPU and every CUDA device (as plain tensors and tuples)."""
    numpy_state = np.random.get_state()
    return {
        "python": random.getstate(),
        "numpy": (numpy_state[0], torch.from_numpy(numpy_state[1].copy()), *numpy_state[2:]),
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
    }


def restore_rng(state: dict[str, Any]) -> None:
    """Inverse of `capture_rng`."""
    random.setstate(state["python"])
    name, key, *rest = state["numpy"]
    np.random.set_state((name, key.cpu().numpy().astype(np.uint32), *rest))
    torch.set_rng_state(state["torch"].cpu())
    if state["cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all([s.cpu() for s in state["cuda"]])
