"""Table 1 as a pure function of the run directories: the paper's best-of-all protocol and a mean-over-seeds one.

Definitions (docs/report.md has the reasoning):
- per run, its best is the minimum of the metric over its evaluation points (earliest step on ties);
- `best` of a learning-rate pair is the minimum of its runs' bests (ties: earliest step, then lowest seed);
- the chosen pair of a method is the one with the lowest `best`; a pair without any finite value ranks last;
  ties go to the first pair in ascending (lr_d, lr_g) order;
- `mean_best` is the minimum over evaluation steps of the mean over the pair's runs, taken only at steps where
  every run of the pair has a finite value (a diverged run, a NaN or a shorter run makes the mean undefined
  there rather than silently averaging the survivors); ties go to the earliest step; `std_at_mean_best` is the
  sample standard deviation (ddof = 1) over runs at that step.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ttur.report.paper import paper_dataset, paper_value
from ttur.report.runs import (
    INCEPTION_EXTRACTOR,
    METHOD_ORDER,
    MODEL_ORDER,
    TABLE_METRICS,
    MissingRun,
    Run,
    format_lr,
    lr_label,
)
from ttur.report.stats_tests import Comparison, compare_methods

TABLE_COLUMNS = (
    "model",
    "dataset",
    "metric",
    "method",
    "lr_d",
    "lr_g",
    "pairs_tried",
    "runs",
    "runs_missing",
    "runs_without_value",
    "best",
    "best_seed",
    "best_step",
    "best_minutes",
    "best_wall_minutes",
    "mean_best",
    "mean_best_step",
    "mean_best_minutes",
    "std_at_mean_best",
    "paper",
    "paper_lr_d",
    "paper_lr_g",
    "paper_step",
    "paper_minutes",
    "feature_extractor",
    "note",
)
STATS_COLUMNS = (
    "model",
    "dataset",
    "metric",
    "ttur_lr_d",
    "ttur_lr_g",
    "orig_lr_d",
    "orig_lr_g",
    "n_ttur",
    "n_orig",
    "u_statistic",
    "p_value",
    "mean_diff",
    "ci_low",
    "ci_high",
    "ci_level",
    "n_boot",
    "bootstrap_seed",
    "note",
)
PAPER_DATASET_ORDER = ("celeba", "cifar10", "svhn", "lsun", "billion_word")
NAN = float("nan")


@dataclass(frozen=True)
class Best:
    """Where a minimum occurred; value NaN (and the rest NaN or -1) when there is no finite value."""

    value: float
    seed: int
    step: int
    minutes: float
    wall_minutes: float

    @property
    def found(self) -> bool:
        return math.isfinite(self.value)


NO_BEST = Best(NAN, -1, -1, NAN, NAN)


@dataclass(frozen=True)
class PairSummary:
    """One learning-rate pair of one method on one model x dataset x metric: its runs and their bests."""

    lr_d: float
    lr_g: float
    runs: tuple[Run, ...]
    per_run: tuple[Best, ...]
    best: Best
    curve: pd.DataFrame


@dataclass(frozen=True)
class Table:
    """Everything `ttur table` writes: the rows, the TTUR-vs-orig tests, and what was missing."""

    rows: list[dict]
    comparisons: list[dict]
    selections: dict[tuple[str, str, str, str], PairSummary]
    runs: list[Run]
    missing: list[MissingRun]


def run_best(run: Run, column: str) -> Best:
    """The minimum of `column` over one run's evaluation points; the earliest step wins ties."""
    frame = run.metrics
    values = frame[column].to_numpy(dtype=float)
    finite = np.isfinite(values)
    if not finite.any():
        return NO_BEST
    index = int(np.flatnonzero(finite & (values == values[finite].min()))[0])  # rows are sorted by step
    row = frame.iloc[index]
    return Best(float(values[index]), run.seed, int(row["step"]), float(row["minutes"]), float(row["wall_minutes"]))


def min_best(bests: list[Best]) -> Best:
    """The lowest of several bests; ties: earliest step, then lowest seed."""
    found = [best for best in bests if best.found]
    if not found:
        return NO_BEST
    return min(found, key=lambda best: (best.value, best.step, best.seed))


def mean_curve(runs: list[Run], column: str) -> pd.DataFrame:
    """Per evaluation step over runs: strict mean and std (NaN unless every run has a finite value there),
    min and max over the finite values, the number of runs with a value, and mean minutes / wall minutes."""
    steps = sorted(set().union(*(set(run.metrics["step"].tolist()) for run in runs)))
    shape = (len(runs), len(steps))
    values, minutes, wall = np.full(shape, NAN), np.full(shape, NAN), np.full(shape, NAN)
    position = {step: i for i, step in enumerate(steps)}
    for r, run in enumerate(runs):
        cols = [position[int(step)] for step in run.metrics["step"]]
        values[r, cols] = run.metrics[column].to_numpy(dtype=float)
        minutes[r, cols] = run.metrics["minutes"].to_numpy(dtype=float)
        wall[r, cols] = run.metrics["wall_minutes"].to_numpy(dtype=float)
    finite = np.isfinite(values)
    complete = finite.all(axis=0)
    n_values = finite.sum(axis=0)
    with np.errstate(all="ignore"):
        mean = np.where(complete, values.mean(axis=0), NAN)
        std = values.std(axis=0, ddof=1) if len(runs) > 1 else np.full(len(steps), NAN)
        std = np.where(complete, std, NAN)
        low = np.where(n_values > 0, np.nanmin(np.where(finite, values, np.inf), axis=0), NAN)
        high = np.where(n_values > 0, np.nanmax(np.where(finite, values, -np.inf), axis=0), NAN)
        mean_minutes = np.array([np.nanmean(c) if np.isfinite(c).any() else NAN for c in minutes.T])
        mean_wall = np.array([np.nanmean(c) if np.isfinite(c).any() else NAN for c in wall.T])
    return pd.DataFrame(
        {
            "step": np.asarray(steps, dtype=np.int64),
            "mean": mean,
            "std": std,
            "min": low,
            "max": high,
            "n_values": n_values,
            "minutes": mean_minutes,
            "wall_minutes": mean_wall,
        }
    )


def mean_best(curve: pd.DataFrame) -> tuple[float, int, float, float]:
    """(value, step, std, mean minutes) at the lowest defined mean; the earliest step wins ties; NaNs if none."""
    means = curve["mean"].to_numpy(dtype=float)
    finite = np.isfinite(means)
    if not finite.any():
        return NAN, -1, NAN, NAN
    index = int(np.flatnonzero(finite & (means == means[finite].min()))[0])
    row = curve.iloc[index]
    return float(row["mean"]), int(row["step"]), float(row["std"]), float(row["minutes"])


def summarize_pair(runs: list[Run], column: str) -> PairSummary:
    """Bests and mean curve of the runs of one learning-rate pair (runs sorted by seed)."""
    ordered = tuple(sorted(runs, key=lambda run: run.seed))
    per_run = tuple(run_best(run, column) for run in ordered)
    return PairSummary(
        lr_d=ordered[0].lr_d,
        lr_g=ordered[0].lr_g,
        runs=ordered,
        per_run=per_run,
        best=min_best(list(per_run)),
        curve=mean_curve(list(ordered), column),
    )


def choose_pair(summaries: list[PairSummary]) -> PairSummary:
    """The pair with the lowest best; pairs without a finite value last; ties: ascending (lr_d, lr_g)."""
    ordered = sorted(summaries, key=lambda s: (s.lr_d, s.lr_g))
    return min(ordered, key=lambda s: (0, s.best.value) if s.best.found else (1, 0.0))


def _order(values: list[str], preferred: tuple[str, ...]) -> list[str]:
    rank = {name: i for i, name in enumerate(preferred)}
    return sorted(set(values), key=lambda name: (rank.get(name, len(rank)), name))


def _dataset_key(dataset: str) -> tuple[int, str]:
    name = paper_dataset(dataset)
    rank = PAPER_DATASET_ORDER.index(name) if name in PAPER_DATASET_ORDER else len(PAPER_DATASET_ORDER)
    return (rank, dataset)


def group_runs(runs: list[Run]) -> dict[tuple[str, str, str], dict[tuple[float, float], list[Run]]]:
    """Runs by (model, dataset, method), then by learning-rate pair."""
    groups: dict[tuple[str, str, str], dict[tuple[float, float], list[Run]]] = defaultdict(lambda: defaultdict(list))
    for run in runs:
        groups[run.cell][run.pair].append(run)
    return groups


def model_datasets(runs: list[Run]) -> list[tuple[str, str]]:
    """(model, dataset) pairs present, in the paper's order (DCGAN, WGAN-GP, language; CelebA, CIFAR-10, ...)."""
    pairs = {(run.model, run.dataset) for run in runs}
    models = _order([model for model, _ in pairs], MODEL_ORDER)
    return [
        (model, dataset)
        for model in models
        for dataset in sorted({d for m, d in pairs if m == model}, key=_dataset_key)
    ]


def select_pairs(runs: list[Run]) -> dict[tuple[str, str, str, str], tuple[PairSummary, int]]:
    """For each (model, dataset, metric, method): the chosen pair's summary and how many pairs were tried."""
    groups = group_runs(runs)
    selections = {}
    for model, dataset in model_datasets(runs):
        metric_family = next(run.metric for run in runs if (run.model, run.dataset) == (model, dataset))
        methods = _order([method for m, d, method in groups if (m, d) == (model, dataset)], METHOD_ORDER)
        for column in TABLE_METRICS[metric_family]:
            for method in methods:
                pairs = groups[(model, dataset, method)]
                summaries = [summarize_pair(pair_runs, column) for _, pair_runs in sorted(pairs.items())]
                selections[(model, dataset, column, method)] = (choose_pair(summaries), len(summaries))
    return selections


def _extractors(runs: tuple[Run, ...]) -> str:
    return "+".join(sorted({run.extractor for run in runs}))


def _row(key: tuple[str, str, str, str], summary: PairSummary, pairs_tried: int, missing: list[MissingRun]) -> dict:
    model, dataset, metric, method = key
    n_missing = sum(
        1
        for m in missing
        if (m.model, m.dataset, m.method, m.lr_d, m.lr_g) == (model, dataset, method, summary.lr_d, summary.lr_g)
    )
    value, step, std, minutes = mean_best(summary.curve)
    without_value = sum(1 for best in summary.per_run if not best.found)
    notes = []
    if without_value:
        notes.append(f"runs without any {metric} value: {without_value} of {len(summary.runs)}")
    partial = sum(1 for run in summary.runs if run.metrics[metric].isna().any())
    if partial:
        notes.append(f"runs with missing values (see their note column): {partial}")
    if not math.isfinite(value):
        notes.append("mean_best undefined: no evaluation step where every run has a value")
    if n_missing:
        notes.append(f"runs of this pair missing: {n_missing}")
    paper = paper_value(model, dataset, metric, method)
    return {
        "model": model,
        "dataset": dataset,
        "metric": metric,
        "method": method,
        "lr_d": format_lr(summary.lr_d),
        "lr_g": format_lr(summary.lr_g),
        "pairs_tried": pairs_tried,
        "runs": len(summary.runs),
        "runs_missing": n_missing,
        "runs_without_value": without_value,
        "best": summary.best.value,
        "best_seed": summary.best.seed if summary.best.found else None,
        "best_step": summary.best.step if summary.best.found else None,
        "best_minutes": summary.best.minutes,
        "best_wall_minutes": summary.best.wall_minutes,
        "mean_best": value,
        "mean_best_step": step if math.isfinite(value) else None,
        "mean_best_minutes": minutes,
        "std_at_mean_best": std,
        "paper": paper.value if paper else None,
        "paper_lr_d": format_lr(paper.lr_d) if paper else None,
        "paper_lr_g": format_lr(paper.lr_g) if paper else None,
        "paper_step": paper.step if paper else None,
        "paper_minutes": paper.minutes if paper else None,
        "feature_extractor": _extractors(summary.runs),
        "note": "; ".join(notes),
    }


def _comparison_row(key: tuple[str, str, str], ttur: PairSummary, orig: PairSummary, comparison: Comparison) -> dict:
    model, dataset, metric = key
    return {
        "model": model,
        "dataset": dataset,
        "metric": metric,
        "ttur_lr_d": format_lr(ttur.lr_d),
        "ttur_lr_g": format_lr(ttur.lr_g),
        "orig_lr_d": format_lr(orig.lr_d),
        "orig_lr_g": format_lr(orig.lr_g),
        "n_ttur": comparison.n_ttur,
        "n_orig": comparison.n_orig,
        "u_statistic": comparison.u_statistic,
        "p_value": comparison.p_value,
        "mean_diff": comparison.mean_diff,
        "ci_low": comparison.ci_low,
        "ci_high": comparison.ci_high,
        "ci_level": comparison.level,
        "n_boot": comparison.n_boot,
        "bootstrap_seed": comparison.seed,
        "note": comparison.note,
    }


def build_table(
    runs: list[Run], missing: list[MissingRun], n_boot: int = 10_000, level: float = 0.95, seed: int = 0
) -> Table:
    """Table 1's rows and the per-dataset TTUR-vs-orig tests, from loaded runs."""
    selections = select_pairs(runs)
    rows = [_row(key, summary, tried, missing) for key, (summary, tried) in selections.items()]
    comparisons = []
    for model, dataset, metric, method in selections:
        if method != "ttur" or (model, dataset, metric, "orig") not in selections:
            continue
        ttur, orig = selections[(model, dataset, metric, "ttur")][0], selections[(model, dataset, metric, "orig")][0]
        comparison = compare_methods(
            [best.value for best in ttur.per_run], [best.value for best in orig.per_run], n_boot, level, seed
        )
        comparisons.append(_comparison_row((model, dataset, metric), ttur, orig, comparison))
    return Table(
        rows=rows,
        comparisons=comparisons,
        selections={key: summary for key, (summary, _) in selections.items()},
        runs=runs,
        missing=missing,
    )


def table_frame(table: Table) -> pd.DataFrame:
    """The rows as a frame with the documented column order (integers stay integers where defined)."""
    frame = pd.DataFrame(table.rows, columns=list(TABLE_COLUMNS))
    for column in ("best_seed", "best_step", "mean_best_step", "paper_step"):
        frame[column] = frame[column].astype("Int64")
    return frame


def stats_frame(table: Table) -> pd.DataFrame:
    return pd.DataFrame(table.comparisons, columns=list(STATS_COLUMNS))


def to_csv(frame: pd.DataFrame) -> str:
    """CSV text; missing values are empty cells, floats are written with full precision."""
    return frame.to_csv(index=False, na_rep="", lineterminator="\n")


# ---- Markdown -------------------------------------------------------------------------------------------------

MODEL_TITLES = {"dcgan": "DCGAN image", "wgangp": "WGAN-GP image", "lang": "WGAN-GP language"}
METRIC_TITLES = {"fid": "FID", "jsd4": "JSD 4-gram", "jsd6": "JSD 6-gram"}


def _fmt_value(value: float | None, metric: str) -> str:
    if value is None or not math.isfinite(value):
        return "—"
    return f"{value:.3f}" if metric.startswith("jsd") else f"{value:.2f}"


def fmt_step(step: int | None) -> str:
    """225000 -> "225k", 12500 -> "12.5k", 300 -> "300"."""
    if step is None or (isinstance(step, float) and not math.isfinite(step)) or step < 0:
        return "—"
    return f"{step / 1000:g}k" if step >= 1000 else str(int(step))


def _fmt_minutes(minutes: float | None) -> str:
    if minutes is None or not math.isfinite(minutes):
        return "—"
    if minutes >= 100:
        return f"{minutes:.0f}"
    return f"{minutes:.1f}" if minutes >= 1 else f"{minutes:.2f}"


def _pair_text(row: dict) -> str:
    return lr_label(float(row["lr_d"]), float(row["lr_g"]))


def _paper_pair_text(row: dict) -> str:
    if row["paper"] is None:
        return "—"
    return lr_label(float(row["paper_lr_d"]), float(row["paper_lr_g"]))


def _md_table(header: list[str], lines: list[list[str]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    out += ["| " + " | ".join(line) + " |" for line in lines]
    return out


def _extractor_heading(table: Table) -> list[str]:
    fid_rows = [row for row in table.rows if row["metric"] == "fid"]
    names = sorted({name for row in fid_rows for name in row["feature_extractor"].split("+")})
    lines = []
    if fid_rows:
        lines.append(f"FIDs computed with the feature extractor: {', '.join(f'`{n}`' for n in names)}.")
        if any(name != INCEPTION_EXTRACTOR for name in names):
            lines += [
                "",
                f"> **Warning: not Inception FIDs.** The extractor is not `{INCEPTION_EXTRACTOR}` (the paper's "
                "Inception network), so these FIDs are on another scale and must not be compared with the "
                "paper's numbers; they show the pipeline works, not what the paper measured.",
            ]
    if any(row["metric"].startswith("jsd") for row in table.rows):
        lines += ["", "JSD: n-gram Jensen–Shannon divergence in bits between generated and real text."]
    return lines


def _layout_section(table: Table, model: str) -> list[str]:
    """The paper's Table 1 layout for one model: one line per dataset (or n-gram), TTUR and orig side by side."""
    rows = [row for row in table.rows if row["model"] == model]
    if not rows:
        return []
    use_minutes = model != "dcgan"
    when = "time(m)" if use_minutes else "updates"
    metric_name = "JSD" if model == "lang" else "FID"
    first = "n-gram" if model == "lang" else "dataset"
    header = [first]
    for method, pair in (("TTUR", "b, a"), ("orig", "b = a")):
        header += [
            f"{method} {pair}",
            when,
            metric_name,
            f"paper {pair}",
            f"paper {when}",
            f"paper {metric_name}",
        ]
    lines = []
    keys = []
    for row in rows:
        key = (row["dataset"], row["metric"])
        if key not in keys:
            keys.append(key)
    for dataset, metric in keys:
        label = dataset if model != "lang" else f"{metric[-1]}-gram ({dataset})"
        line = [label]
        for method in ("ttur", "orig"):
            match = [r for r in rows if (r["dataset"], r["metric"], r["method"]) == (dataset, metric, method)]
            if not match:
                line += ["—"] * 6
                continue
            r = match[0]
            ours_when = _fmt_minutes(r["best_minutes"]) if use_minutes else fmt_step(r["best_step"])
            paper_when = _fmt_minutes(r["paper_minutes"]) if use_minutes else fmt_step(r["paper_step"])
            line += [
                _pair_text(r),
                ours_when,
                _fmt_value(r["best"], metric),
                _paper_pair_text(r),
                paper_when if r["paper"] is not None else "—",
                _fmt_value(r["paper"], metric),
            ]
        lines.append(line)
    unit = "wall-clock minutes of training (evaluation excluded)" if use_minutes else "generator updates"
    return [
        f"### {MODEL_TITLES.get(model, model)}",
        "",
        f"Best {metric_name} over all runs and evaluation points of the chosen learning rates; "
        f"{when} = {unit} at that point.",
        "",
        *_md_table(header, lines),
        "",
    ]


def _appendix_section(table: Table) -> list[str]:
    """Tables A2 and A4: iterations and minutes at the best value, for the WGAN-GP image and language models."""
    rows = [row for row in table.rows if row["model"] in ("wgangp", "lang")]
    if not rows:
        return []
    header = [
        "model",
        "dataset",
        "metric",
        "method",
        "b, a",
        "iter",
        "time(m)",
        "value",
        "paper iter",
        "paper time(m)",
        "paper value",
    ]
    lines = [
        [
            MODEL_TITLES.get(r["model"], r["model"]),
            r["dataset"],
            METRIC_TITLES.get(r["metric"], r["metric"]),
            r["method"],
            _pair_text(r),
            fmt_step(r["best_step"]),
            _fmt_minutes(r["best_minutes"]),
            _fmt_value(r["best"], r["metric"]),
            fmt_step(r["paper_step"]),
            _fmt_minutes(r["paper_minutes"]),
            _fmt_value(r["paper"], r["metric"]),
        ]
        for r in rows
    ]
    return [
        "## Tables A2 and A4: iterations and minutes at the best value",
        "",
        "iter = generator iterations; time(m) = training minutes without evaluation (`best_wall_minutes` in the "
        "CSV includes evaluation).",
        "",
        *_md_table(header, lines),
        "",
    ]


def _mean_section(table: Table) -> list[str]:
    header = [
        "model",
        "dataset",
        "metric",
        "method",
        "b, a",
        "runs",
        "mean_best ± std",
        "at step",
        "minutes",
        "best (paper protocol)",
    ]
    lines = []
    for r in table.rows:
        std = r["std_at_mean_best"]
        mean_text = _fmt_value(r["mean_best"], r["metric"])
        if mean_text != "—" and std is not None and math.isfinite(std):
            mean_text += f" ± {_fmt_value(std, r['metric'])}"
        lines.append(
            [
                MODEL_TITLES.get(r["model"], r["model"]),
                r["dataset"],
                METRIC_TITLES.get(r["metric"], r["metric"]),
                r["method"],
                _pair_text(r),
                f"{r['runs']}" + (f" (+{r['runs_missing']} missing)" if r["runs_missing"] else ""),
                mean_text,
                fmt_step(r["mean_best_step"]),
                _fmt_minutes(r["mean_best_minutes"]),
                _fmt_value(r["best"], r["metric"]),
            ]
        )
    return [
        "## Across seeds: the best of the mean curve",
        "",
        "mean_best = minimum over evaluation steps of the mean over runs (defined only where every run has a "
        "value); ± the sample standard deviation over runs at that step. Less lucky than the paper's best-of-all.",
        "",
        *_md_table(header, lines),
        "",
    ]


def _stats_section(table: Table) -> list[str]:
    if not table.comparisons:
        return []
    header = [
        "model",
        "dataset",
        "metric",
        "TTUR b, a",
        "orig b = a",
        "n TTUR",
        "n orig",
        "U",
        "p (TTUR < orig)",
        "mean diff",
        "CI",
    ]
    lines = []
    notes = []
    for c in table.comparisons:
        ci = "—"
        if math.isfinite(c["ci_low"]):
            ci = f"[{_fmt_value(c['ci_low'], c['metric'])}, {_fmt_value(c['ci_high'], c['metric'])}]"
        p = f"{c['p_value']:.3g}" if math.isfinite(c["p_value"]) else "—"
        u = f"{c['u_statistic']:g}" if math.isfinite(c["u_statistic"]) else "—"
        lines.append(
            [
                MODEL_TITLES.get(c["model"], c["model"]),
                c["dataset"],
                METRIC_TITLES.get(c["metric"], c["metric"]),
                lr_label(float(c["ttur_lr_d"]), float(c["ttur_lr_g"])),
                lr_label(float(c["orig_lr_d"]), float(c["orig_lr_g"])),
                str(c["n_ttur"]),
                str(c["n_orig"]),
                u,
                p,
                _fmt_value(c["mean_diff"], c["metric"]),
                ci,
            ]
        )
        if c["note"]:
            notes.append(f"- {c['model']}/{c['dataset']}/{c['metric']}: {c['note']}")
    level = table.comparisons[0]["ci_level"]
    n_boot = table.comparisons[0]["n_boot"]
    seed = table.comparisons[0]["bootstrap_seed"]
    return [
        "## TTUR vs orig across seeds",
        "",
        'Each run contributes its best value. p: one-sided Mann–Whitney U test (scipy, alternative "less") that '
        "TTUR's per-run bests are lower than orig's; U is TTUR's statistic. mean diff = mean(TTUR) − mean(orig) of "
        f"the per-run bests (negative favours TTUR) with a {level:.0%} percentile bootstrap interval "
        f"({n_boot} resamples of each method's runs, seed {seed}). The learning rates compared are the chosen ones, "
        "selected on the same runs, so the test is optimistic for whichever method had more pairs to choose from.",
        "",
        *_md_table(header, lines),
        "",
        *notes,
        *([""] if notes else []),
    ]


def _missing_section(table: Table) -> list[str]:
    lines = []
    for m in table.missing:
        lines.append(f"- `{m.path}`: {m.reason}")
    for r in table.rows:
        if r["note"]:
            lines.append(f"- {r['model']}/{r['dataset']}/{r['metric']}/{r['method']} ({_pair_text(r)}): {r['note']}")
    if not lines:
        return []
    return ["## Missing runs and values", "", *lines, ""]


def render_markdown(table: Table) -> str:
    """table1.md: a heading naming the feature extractor, the paper's layout, Tables A2/A4, and the statistics."""
    n_runs, n_missing = len(table.runs), len(table.missing)
    models = _order([row["model"] for row in table.rows], MODEL_ORDER)
    has_paper = any(row["paper"] is not None for row in table.rows)
    lines = [
        "# Table 1: TTUR vs one time-scale (orig) training",
        "",
        *_extractor_heading(table),
        "",
        f"Runs found: {n_runs}" + (f"; missing: {n_missing} (listed at the end)." if n_missing else "; none missing."),
        "b = discriminator learning rate, a = generator learning rate. For each method the learning-rate pair with "
        "the lowest best value is shown (the paper's protocol: best over all runs and evaluation points).",
    ]
    if not has_paper:
        lines.append("No dataset of these runs is in the paper, so the paper columns are empty.")
    lines.append("")
    lines.append("## Table 1 (the paper's layout, our numbers beside the paper's)")
    lines.append("")
    for model in models:
        lines += _layout_section(table, model)
    lines += _appendix_section(table)
    lines += _mean_section(table)
    lines += _stats_section(table)
    lines += _missing_section(table)
    return "\n".join(lines).rstrip() + "\n"
