"""Read training run directories (run.json + metrics.csv) into one in-memory record per run.

The aggregation, the figures and the cost report all start here, so "what counts as a run" is decided once: a
folder with `run.json` and `metrics.csv`. A run folder named on the command line that lacks either file is a
missing run (a failed job) and is kept as such, so the table can say how many runs it did not find.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ttur.errors import UserError
from ttur.grid import METRIC_OF_MODEL

# Metric columns of metrics.csv per metric family, and the ones Table 1 reports.
METRIC_COLUMNS = {"fid": ("fid",), "jsd": tuple(f"jsd{n}" for n in range(1, 7))}
TABLE_METRICS = {"fid": ("fid",), "jsd": ("jsd4", "jsd6")}
MODEL_ORDER = ("dcgan", "wgangp", "lang")
METHOD_ORDER = ("ttur", "orig")
INCEPTION_EXTRACTOR = "inception-v3-compat"

# {model}/{dataset}/{method}/d{lr_d}_g{lr_g}/seed{seed} at the end of a run path.
RUN_PATH = re.compile(
    r"(?P<model>[^/]+)/(?P<dataset>[^/]+)/(?P<method>[^/]+)/d(?P<lr_d>[^/_]+)_g(?P<lr_g>[^/_]+)/seed(?P<seed>\d+)/?$"
)


def format_lr(value: float) -> str:
    """Spell a learning rate as the paper does: 1e-05 -> "1e-5", 0.0003 -> "3e-4", 0.01 -> "1e-2"."""
    if not np.isfinite(value) or value <= 0:
        return repr(value)
    mantissa, exponent = f"{value:.6e}".split("e")
    mantissa = mantissa.rstrip("0").rstrip(".")
    return f"{mantissa}e{int(exponent)}"


def lr_label(lr_d: float, lr_g: float) -> str:
    """The paper's "b, a" (discriminator, generator) notation; a single value when b = a."""
    return format_lr(lr_d) if lr_d == lr_g else f"{format_lr(lr_d)}, {format_lr(lr_g)}"


@dataclass(frozen=True)
class Run:
    """One finished (or partly finished) training run: its identity, its settings and its metrics table."""

    path: Path
    model: str
    dataset: str
    method: str
    lr_d: float
    lr_g: float
    seed: int
    metric: str
    extractor: str
    device: str
    settings: dict[str, Any] = field(repr=False, compare=False)
    metrics: pd.DataFrame = field(repr=False, compare=False)

    @property
    def pair(self) -> tuple[float, float]:
        return (self.lr_d, self.lr_g)

    @property
    def cell(self) -> tuple[str, str, str]:
        return (self.model, self.dataset, self.method)


@dataclass(frozen=True)
class MissingRun:
    """A run folder that was asked for but holds no complete run; identity parsed from its path where possible."""

    path: Path
    reason: str
    model: str | None = None
    dataset: str | None = None
    method: str | None = None
    lr_d: float | None = None
    lr_g: float | None = None
    seed: int | None = None


def device_kind(device: Any) -> str:
    """ "GPU" or "CPU" from run.json's device entry (a string such as "cuda:0", or a dict with a type/device)."""
    if isinstance(device, dict):
        for key in ("type", "kind", "device", "name"):
            if key in device and isinstance(device[key], str):
                return device_kind(device[key])
        return "CPU"
    text = str(device).lower()
    return "GPU" if text.startswith("cuda") or "gpu" in text else "CPU"


def _extractor_name(info: dict[str, Any], metric: str) -> str:
    """The feature extractor behind a run's FIDs ("n-gram" for JSD runs, which use none)."""
    if metric == "jsd":
        return "n-gram"
    extractor = info.get("extractor")
    if isinstance(extractor, dict) and extractor.get("name"):
        return str(extractor["name"])
    if isinstance(extractor, str) and extractor:
        return extractor
    return str(info.get("settings", {}).get("extractor") or "unknown")


def read_metrics(path: Path, metric: str) -> pd.DataFrame:
    """metrics.csv as a frame sorted by step; empty metric cells become NaN, the note column stays text."""
    try:
        frame = pd.read_csv(path, dtype={"note": str}, keep_default_na=False, na_values=[""])
    except pd.errors.EmptyDataError:
        frame = pd.DataFrame()
    metric_columns = METRIC_COLUMNS[metric]
    required = ("step", "minutes", "wall_minutes", "d_loss", "g_loss")
    if frame.empty:
        frame = pd.DataFrame({column: pd.Series(dtype=float) for column in (*required, *metric_columns, "note")})
    missing = [column for column in required if column not in frame.columns]
    if missing or not any(column in frame.columns for column in metric_columns):
        names = ", ".join(missing) or " or ".join(metric_columns)
        raise UserError(f"{path} lacks the columns {names}; rerun `ttur train` to rewrite it")
    for column in metric_columns:  # a language run may evaluate only some n (jsd_ns): the others stay empty
        if column not in frame.columns:
            frame[column] = np.nan
    if "note" not in frame.columns:
        frame["note"] = ""
    frame["note"] = frame["note"].fillna("")
    for column in (*required, *metric_columns):
        frame[column] = pd.to_numeric(frame[column], errors="coerce").astype(float)
    frame["step"] = frame["step"].astype(np.int64)
    return frame.sort_values("step", kind="stable").reset_index(drop=True)


def load_run(path: Path) -> Run:
    """Read one run folder; raises UserError when run.json is unreadable or lacks the run's identity."""
    run_json = path / "run.json"
    try:
        info = json.loads(run_json.read_text())
        settings = info["settings"]
        model, dataset, method = settings["model"], settings["dataset"], settings["method"]
        lr_d, lr_g, seed = float(settings["lr_d"]), float(settings["lr_g"]), int(settings["seed"])
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise UserError(f"{run_json} is not a readable run.json ({error}); rerun the training job") from error
    metric = settings.get("metric") or METRIC_OF_MODEL.get(model)
    if metric not in METRIC_COLUMNS:
        raise UserError(f"{run_json} names metric {metric!r}; expected 'fid' or 'jsd'")
    return Run(
        path=path,
        model=model,
        dataset=dataset,
        method=method,
        lr_d=lr_d,
        lr_g=lr_g,
        seed=seed,
        metric=metric,
        extractor=_extractor_name(info, metric),
        device=device_kind(info.get("device", "cpu")),
        settings=settings,
        metrics=read_metrics(path / "metrics.csv", metric),
    )


def _missing(path: Path, reason: str) -> MissingRun:
    match = RUN_PATH.search(path.as_posix())
    if match is None:
        return MissingRun(path=path, reason=reason)
    try:
        lr_d, lr_g = float(match["lr_d"]), float(match["lr_g"])
    except ValueError:
        return MissingRun(path=path, reason=reason)
    return MissingRun(
        path=path,
        reason=reason,
        model=match["model"],
        dataset=match["dataset"],
        method=match["method"],
        lr_d=lr_d,
        lr_g=lr_g,
        seed=int(match["seed"]),
    )


def discover_runs(paths: list[Path]) -> tuple[list[Run], list[MissingRun]]:
    """Runs under the given paths (each a run folder, or a folder searched recursively for run.json).

    A path that looks like a run folder (ends in seedN) but lacks run.json or metrics.csv is a missing run. Any
    other path that does not exist is a user error. Runs are returned in a stable order (by path).
    """
    found: dict[Path, Run] = {}
    missing: dict[Path, MissingRun] = {}
    for raw in paths:
        path = Path(raw)
        looks_like_run = RUN_PATH.search(path.as_posix()) is not None
        if (path / "run.json").is_file():
            candidates = [path]
        elif path.is_dir() and not looks_like_run:
            candidates = sorted(p.parent for p in path.rglob("run.json"))
            if not candidates:
                raise UserError(f"no run.json under {path}; pass run folders or the runs/ folder of a results tree")
        elif looks_like_run:
            reason = "folder absent (failed or never run)" if not path.exists() else "run.json absent"
            missing[path] = _missing(path, reason)
            continue
        else:
            raise UserError(f"{path} does not exist; pass run folders or the runs/ folder of a results tree")
        for candidate in candidates:
            if not (candidate / "metrics.csv").is_file():
                missing[candidate] = _missing(candidate, "metrics.csv absent (the job did not finish)")
                continue
            found[candidate] = load_run(candidate)
    runs = [found[key] for key in sorted(found)]
    return runs, [missing[key] for key in sorted(missing)]


def write_run(
    path: Path,
    settings: dict[str, Any],
    rows: list[dict[str, Any]],
    device: str = "cpu",
    extractor: str = INCEPTION_EXTRACTOR,
) -> None:
    """Write a run folder in the training job's format (run.json + metrics.csv), e.g. for tests or imports.

    `rows` hold step, minutes, wall_minutes, the metric columns, d_loss, g_loss and note; None or NaN is written
    as an empty cell, as the training job does for a missing value.
    """
    from ttur.io import write_json, write_text

    metric = settings.get("metric") or METRIC_OF_MODEL[settings["model"]]
    columns = ["step", "minutes", "wall_minutes", *METRIC_COLUMNS[metric], "d_loss", "g_loss", "note"]
    lines = [",".join(columns)]
    for row in rows:
        cells = []
        for column in columns:
            value = row.get(column)
            missing = value is None or (isinstance(value, float) and not np.isfinite(value))
            cells.append("" if missing else str(value))
        lines.append(",".join(cells))
    write_json(
        path / "run.json",
        {
            "settings": {"metric": metric, **settings},
            "device": device,
            "extractor": {"name": extractor if metric == "fid" else "n-gram", "weights_sha256": None},
        },
    )
    write_text(path / "metrics.csv", "\n".join(lines) + "\n")
