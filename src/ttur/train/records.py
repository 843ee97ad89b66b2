"""The declared outputs of a run directory: metrics.csv, run.json and generator snapshots (docs/architecture.md)."""

from __future__ import annotations

import csv
import datetime
import io
import json
import math
import platform
from pathlib import Path
from typing import Any

import numpy as np
import torch

import ttur
from ttur.io import atomic_path, write_json, write_text
from ttur.models import GanPair


def _cell(value: Any) -> str:
    """CSV text of one value: floats in full round-trip precision; None, NaN and ±inf (no value) as empty."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return ""
    if isinstance(value, float):
        return repr(value)
    return str(value)


class MetricsLog:
    """The rows of metrics.csv: step, minutes, wall_minutes, <metric columns>, d_loss, g_loss, note."""

    def __init__(self, metric_columns: list[str]) -> None:
        self.columns = ["step", "minutes", "wall_minutes", *metric_columns, "d_loss", "g_loss", "note"]
        self.rows: list[dict[str, Any]] = []

    def steps(self) -> set[int]:
        return {int(row["step"]) for row in self.rows}

    def add(self, row: dict[str, Any]) -> None:
        unknown = set(row) - set(self.columns)
        if unknown:
            raise ValueError(f"metrics row has unknown columns {sorted(unknown)}")
        self.rows.append({column: row.get(column) for column in self.columns})

    def write(self, path: Path) -> None:
        """Rewrite the whole file atomically (it is small: one row per evaluation)."""
        text = io.StringIO()
        writer = csv.writer(text, lineterminator="\n")
        writer.writerow(self.columns)
        for row in self.rows:
            writer.writerow([_cell(row[column]) for column in self.columns])
        write_text(path, text.getvalue())


def versions() -> dict[str, str]:
    return {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "numpy": np.__version__,
        "ttur": ttur.__version__,
    }


def now_utc() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")


def read_json(path: Path) -> dict[str, Any] | None:
    """A JSON object from `path`, or None if it is missing or unreadable."""
    try:
        value = json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def save_generator(path: Path, pair: GanPair, meta: dict[str, Any]) -> None:
    """A generator snapshot: its weights (CPU) and what is needed to rebuild it (`meta`: build_gan arguments, step)."""
    state = {name: tensor.detach().cpu() for name, tensor in pair.generator.state_dict().items()}
    with atomic_path(path) as tmp:
        torch.save({"generator": state, **meta}, tmp)


def write_run_json(path: Path, record: dict[str, Any]) -> None:
    write_json(path, record)
