"""What the runs cost (Snakemake benchmark files) and what the paper grid would cost at the measured rates.

Spent: each training job's benchmark TSV (`s` = wall seconds of the job) summed per cell (model x dataset x
method x learning-rate pair, over seeds), in GPU- or CPU-hours by the device in run.json.

Projected: per model and method, seconds per generator update (training minutes of metrics.csv / updates done,
evaluation excluded; it includes the critic steps of that method) and seconds per evaluated sample (evaluation
minutes / evaluations x eval_samples), plus the per-job overhead outside the training loop (benchmark seconds -
wall minutes). The paper cell's cost is updates x rate + evaluations x eval_samples x rate + overhead, times its
seeds. The rates are those of the networks and device that ran here, so the projection measures the paper grid's
amount of work in units of this machine, not the paper networks' GPU time.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ttur.errors import UserError
from ttur.report.runs import Run, discover_runs, format_lr

SPENT_COLUMNS = (
    "model",
    "dataset",
    "method",
    "lr_d",
    "lr_g",
    "device",
    "runs",
    "benchmarked",
    "job_hours",
    "train_hours",
    "eval_hours",
    "max_rss_mb",
)
RATE_COLUMNS = (
    "model",
    "method",
    "device",
    "runs",
    "width",
    "batch_size",
    "critic_iters",
    "updates_measured",
    "sec_per_update",
    "sec_per_eval_sample",
    "overhead_sec_per_job",
)
PROJECTION_COLUMNS = (
    "model",
    "dataset",
    "method",
    "lr_d",
    "lr_g",
    "seeds",
    "updates",
    "eval_every",
    "evaluations",
    "eval_samples",
    "rate_from",
    "device",
    "hours_per_seed",
    "hours",
    "note",
)
INTEGER_COLUMNS = ("runs", "benchmarked", "updates_measured", "seeds", "updates", "eval_every", "evaluations")


@dataclass(frozen=True)
class Benchmark:
    """One Snakemake benchmark file: wall seconds of the job, peak resident memory, CPU time."""

    seconds: float
    max_rss_mb: float
    cpu_time: float


def read_benchmark(path: Path) -> Benchmark:
    """Read a Snakemake benchmark TSV (columns s, h:m:s, max_rss, ...); repeated rows are averaged."""
    try:
        frame = pd.read_csv(path, sep="\t")
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError) as error:
        raise UserError(f"{path} is not a readable Snakemake benchmark file ({error}); rerun the job") from error
    if "s" not in frame.columns or frame.empty:
        raise UserError(f"{path} lacks the 's' column or a data row; it is not a Snakemake benchmark file")

    def mean_of(column: str) -> float:
        if column not in frame.columns:
            return math.nan
        return float(pd.to_numeric(frame[column], errors="coerce").mean())

    return Benchmark(seconds=mean_of("s"), max_rss_mb=mean_of("max_rss"), cpu_time=mean_of("cpu_time"))


@dataclass(frozen=True)
class MeasuredRun:
    """A run with its benchmark (None when the file is absent) and the time split read from metrics.csv."""

    run: Run
    benchmark: Benchmark | None
    updates_done: int
    train_seconds: float
    eval_seconds: float
    evaluations: int
    eval_samples: int | None


def _last_finite(series: pd.Series) -> float:
    values = pd.to_numeric(series, errors="coerce").dropna()
    return float(values.iloc[-1]) if len(values) else math.nan


def measure_runs(runs_root: Path, benchmarks_root: Path) -> list[MeasuredRun]:
    """Every run under runs_root, matched with `{benchmarks_root}/{path relative to runs_root}.tsv`."""
    runs, _ = discover_runs([runs_root])
    measured = []
    for run in runs:
        relative = run.path.relative_to(runs_root)
        bench_path = benchmarks_root / f"{relative.as_posix()}.tsv"
        metrics = run.metrics
        minutes, wall = _last_finite(metrics["minutes"]), _last_finite(metrics["wall_minutes"])
        eval_samples = run.settings.get("eval_samples")
        measured.append(
            MeasuredRun(
                run=run,
                benchmark=read_benchmark(bench_path) if bench_path.is_file() else None,
                updates_done=int(metrics["step"].max()) if len(metrics) else 0,
                train_seconds=60.0 * minutes,
                eval_seconds=60.0 * (wall - minutes),
                evaluations=len(metrics),
                eval_samples=int(eval_samples) if eval_samples is not None else None,
            )
        )
    return measured


def spent_frame(measured: list[MeasuredRun]) -> pd.DataFrame:
    """Hours per cell summed over seeds: whole jobs (benchmark), and the training / evaluation parts (metrics)."""
    groups: dict[tuple, list[MeasuredRun]] = defaultdict(list)
    for m in measured:
        r = m.run
        groups[(r.model, r.dataset, r.method, r.lr_d, r.lr_g, r.device)].append(m)
    rows = []
    for (model, dataset, method, lr_d, lr_g, device), items in sorted(groups.items()):
        benched = [m for m in items if m.benchmark is not None]
        rows.append(
            {
                "model": model,
                "dataset": dataset,
                "method": method,
                "lr_d": format_lr(lr_d),
                "lr_g": format_lr(lr_g),
                "device": device,
                "runs": len(items),
                "benchmarked": len(benched),
                "job_hours": sum(m.benchmark.seconds for m in benched) / 3600 if benched else math.nan,
                "train_hours": sum(m.train_seconds for m in items) / 3600,
                "eval_hours": sum(m.eval_seconds for m in items) / 3600,
                "max_rss_mb": max(m.benchmark.max_rss_mb for m in benched) if benched else math.nan,
            }
        )
    return pd.DataFrame(rows, columns=list(SPENT_COLUMNS))


@dataclass(frozen=True)
class Rate:
    """Measured seconds per generator update, per evaluated sample, and per job outside the loop."""

    model: str
    method: str
    device: str
    runs: int
    width: object
    batch_size: object
    critic_iters: object
    updates_measured: int
    sec_per_update: float
    sec_per_eval_sample: float
    overhead_sec_per_job: float


def _setting(items: list[MeasuredRun], key: str) -> object:
    values = sorted({str(m.run.settings.get(key)) for m in items if m.run.settings.get(key) is not None})
    return "/".join(values) if values else None


def measure_rates(measured: list[MeasuredRun]) -> dict[tuple[str, str], Rate]:
    """Rates per (model, method), pooled over the runs (total seconds / total work)."""
    groups: dict[tuple[str, str], list[MeasuredRun]] = defaultdict(list)
    for m in measured:
        groups[(m.run.model, m.run.method)].append(m)
    rates = {}
    for (model, method), items in sorted(groups.items()):
        updates = sum(m.updates_done for m in items)
        samples = sum(m.evaluations * m.eval_samples for m in items if m.eval_samples)
        eval_seconds = sum(m.eval_seconds for m in items if m.eval_samples)
        benched = [m for m in items if m.benchmark is not None and math.isfinite(m.train_seconds + m.eval_seconds)]
        overhead = (
            sum(m.benchmark.seconds - m.train_seconds - m.eval_seconds for m in benched) / len(benched)
            if benched
            else 0.0
        )
        rates[(model, method)] = Rate(
            model=model,
            method=method,
            device="/".join(sorted({m.run.device for m in items})),
            runs=len(items),
            width=_setting(items, "width"),
            batch_size=_setting(items, "batch_size"),
            critic_iters=_setting(items, "critic_iters"),
            updates_measured=updates,
            sec_per_update=sum(m.train_seconds for m in items) / updates if updates else math.nan,
            sec_per_eval_sample=eval_seconds / samples if samples else math.nan,
            overhead_sec_per_job=max(overhead, 0.0),
        )
    return rates


def load_paper_cells(config_path: Path) -> list:
    """The paper grid's cells from its config (ttur.grid.resolve_grid on the YAML)."""
    import yaml

    from ttur.grid import resolve_grid

    try:
        config = yaml.safe_load(Path(config_path).read_text())
    except OSError as error:
        raise UserError(
            f"cannot read the paper config {config_path} ({error}); pass --paper-config config/config.yaml"
        ) from error
    try:
        return resolve_grid(config)
    except (KeyError, TypeError) as error:
        raise UserError(
            f"{config_path} is not a pipeline config (missing key {error}); pass config/config.yaml"
        ) from error


def project(cells: list, rates: dict[tuple[str, str], Rate]) -> pd.DataFrame:
    """Projected hours of each paper cell: measured rates x the cell's updates, evaluations and seeds."""
    rows = []
    for cell in cells:
        s = cell.settings
        updates, eval_every, eval_samples = int(s["updates"]), int(s["eval_every"]), s.get("eval_samples")
        # as the training loop: at step 0, every eval_every updates, and at the last step if not a multiple
        evaluations = updates // eval_every + 1 + (1 if updates % eval_every else 0)
        usable = {key: r for key, r in rates.items() if math.isfinite(r.sec_per_update)}
        rate = usable.get((cell.model, cell.method))
        note = ""
        if rate is None:
            same_model = [r for (model, _), r in usable.items() if model == cell.model]
            rate = same_model[0] if same_model else None
            if rate is not None:
                note = f"no measured {cell.method} run; used {rate.method}'s rate"
            else:
                note = "no run of this model with a measured update (none got past its first evaluation)"
        hours_per_seed = math.nan
        if rate is not None:
            eval_rate = rate.sec_per_eval_sample if math.isfinite(rate.sec_per_eval_sample) else 0.0
            if not math.isfinite(rate.sec_per_eval_sample):
                note = "; ".join(filter(None, [note, "evaluation time not measured (left out)"]))
            seconds = updates * rate.sec_per_update + evaluations * int(eval_samples or 0) * eval_rate
            hours_per_seed = (seconds + rate.overhead_sec_per_job) / 3600
        rows.append(
            {
                "model": cell.model,
                "dataset": cell.dataset,
                "method": cell.method,
                "lr_d": cell.lr_d,
                "lr_g": cell.lr_g,
                "seeds": len(cell.seeds),
                "updates": updates,
                "eval_every": eval_every,
                "evaluations": evaluations,
                "eval_samples": eval_samples,
                "rate_from": f"{rate.model}/{rate.method}" if rate else "",
                "device": rate.device if rate else "",
                "hours_per_seed": hours_per_seed,
                "hours": hours_per_seed * len(cell.seeds),
                "note": note,
            }
        )
    return pd.DataFrame(rows, columns=list(PROJECTION_COLUMNS))


@dataclass(frozen=True)
class CostReport:
    spent: pd.DataFrame
    rates: pd.DataFrame
    projection: pd.DataFrame

    def csv(self) -> str:
        """One CSV: a `section` column (spent, rate, projected) before the union of the three tables' columns."""
        parts = [
            frame.assign(section=name)
            for name, frame in (("spent", self.spent), ("rate", self.rates), ("projected", self.projection))
        ]
        frame = pd.concat(parts, ignore_index=True)
        for column in INTEGER_COLUMNS:
            frame[column] = pd.to_numeric(frame[column], errors="coerce").round().astype("Int64")
        columns = ["section", *dict.fromkeys(c for p in parts for c in p.columns if c != "section")]
        return frame[columns].to_csv(index=False, na_rep="", lineterminator="\n")

    def markdown(self) -> str:
        return render_cost_markdown(self)


def build_cost_report(runs_root: Path, benchmarks_root: Path, cells: list) -> CostReport:
    measured = measure_runs(runs_root, benchmarks_root)
    rates = measure_rates(measured)
    rate_frame = pd.DataFrame([r.__dict__ for r in rates.values()], columns=list(RATE_COLUMNS))
    return CostReport(spent=spent_frame(measured), rates=rate_frame, projection=project(cells, rates))


def _fmt(value: object, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    if isinstance(value, float):
        if value == 0 or 0.001 <= abs(value) < 1000:
            return f"{value:.{digits}g}"
        return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.1e}"
    return str(value)


def _md_table(frame: pd.DataFrame, columns: list[str]) -> list[str]:
    lines = ["| " + " | ".join(columns) + " |", "|" + "|".join(" --- " for _ in columns) + "|"]
    for _, row in frame.iterrows():
        lines.append("| " + " | ".join(_fmt(row[c]) for c in columns) + " |")
    return lines


def render_cost_markdown(report: CostReport) -> str:
    spent, rates, projection = report.spent, report.rates, report.projection
    totals = spent.groupby("device")["job_hours"].sum(min_count=1) if len(spent) else pd.Series(dtype=float)
    total_text = ", ".join(f"{_fmt(hours)} {device}-hours" for device, hours in totals.dropna().items())
    total_text = total_text or "no benchmark files"
    n_runs, n_benched = int(spent["runs"].sum()), int(spent["benchmarked"].sum())
    devices = "/".join(sorted(set(rates["device"]))) or "this machine"
    by_model = projection.groupby("model", sort=False)["hours"].sum(min_count=1)
    lines = [
        "# Compute cost",
        "",
        "## Spent by this results tree",
        "",
        f"Total: {total_text} over {n_runs} training jobs ({n_benched} with a Snakemake benchmark file; "
        "job hours = the benchmark's wall seconds, summed over seeds; train/eval hours from metrics.csv).",
        "",
        *_md_table(spent, list(SPENT_COLUMNS)),
        "",
        "## Measured rates",
        "",
        "Seconds per generator update (training only, critic steps included), per evaluated sample, and per job "
        "outside the training loop (start-up, data loading, model building).",
        "",
        *_md_table(rates, list(RATE_COLUMNS)),
        "",
        "## Projected cost of the paper grid at these rates",
        "",
        f"> **Not the cost of the paper's networks on a GPU.** The rates were measured on {devices} with the "
        "networks of these runs (their width and batch size are in the table above; a smoke run uses tiny networks "
        "and a cheap feature extractor). The projection is *measured rate × the paper config's updates, "
        "evaluations and seeds*: it scales the amount of work of the paper grid in units of this machine and these "
        "networks. It is a lower bound for wider networks and larger images, and says nothing about GPU speed-ups.",
        "",
        f"Projected total: {_fmt(float(projection['hours'].sum(min_count=1)) if len(projection) else math.nan)} "
        f"{devices}-hours; per model: "
        + (
            ", ".join(
                f"{model} {_fmt(hours)} h" if math.isfinite(hours) else f"{model} not projected (no measured run)"
                for model, hours in by_model.items()
            )
            or "none"
        )
        + ".",
        "",
        *_md_table(projection, list(PROJECTION_COLUMNS)),
        "",
    ]
    return "\n".join(lines)
