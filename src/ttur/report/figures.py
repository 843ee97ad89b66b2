"""Figures 5, 6, 7 and A14 of the paper and the sample grids, as pure functions of the runs' metrics.

Every curve is one method x learning-rate pair: the line is the mean over runs at each evaluation step (drawn only
where every run has a value, as in the table's mean_best), the band spans the minimum and maximum over the runs
that have a value there. Runs of a pair are aligned by evaluation step (all runs of a pair evaluate at the same
steps); Fig. 6 and 7 put each step at the mean of the runs' elapsed minutes at that step, no interpolation.
TTUR is drawn in reds, orig in blue-grey tones, as in the paper.
"""

from __future__ import annotations

import math
import textwrap
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import seaborn as sns  # noqa: E402
from PIL import Image  # noqa: E402

from ttur.io import save_figure  # noqa: E402
from ttur.report.runs import METHOD_ORDER, TABLE_METRICS, Run, lr_label  # noqa: E402
from ttur.report.table import (  # noqa: E402
    PairSummary,
    fmt_step,
    group_runs,
    mean_curve,
    model_datasets,
    select_pairs,
)

TTUR_COLOURS = ("#b2182b", "#f4a582")  # dark to light red
ORIG_COLOURS = ("#2166ac", "#9a9a9a")  # blue to grey
METRIC_LABELS = {"fid": "FID", "jsd4": "JSD (4-gram)", "jsd6": "JSD (6-gram)"}
MODEL_TITLES = {"dcgan": "DCGAN", "wgangp": "WGAN-GP", "lang": "WGAN-GP language"}


def method_colours(method: str, n: int) -> list:
    """n shades for one method's learning-rate pairs: reds for TTUR, blue-to-grey for orig."""
    start, end = TTUR_COLOURS if method == "ttur" else ORIG_COLOURS
    return sns.color_palette(f"blend:{start},{end}", max(n, 2))[:n] if n > 1 else [start]


def curve_label(method: str, lr_d: float, lr_g: float) -> str:
    """The paper's legend text: "TTUR b a" or "orig b"."""
    name = "TTUR" if method == "ttur" else method
    return f"{name} {lr_label(lr_d, lr_g).replace(', ', ' ')}"


def _save_both(fig: plt.Figure, out_dir: Path, stem: str) -> list[Path]:
    written = save_figure(fig, [out_dir / f"{stem}.png", out_dir / f"{stem}.pdf"], dpi=120)
    plt.close(fig)
    return written


def _grid(n: int, ncols: int, width: float = 5.0, height: float = 3.6) -> tuple[plt.Figure, list]:
    ncols = max(1, min(ncols, n))
    nrows = math.ceil(n / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(width * ncols, height * nrows), squeeze=False)
    flat = list(axes.flat)
    for ax in flat[n:]:
        ax.set_visible(False)
    return fig, flat[:n]


def plot_metric_panel(ax: plt.Axes, runs: list[Run], model: str, dataset: str, column: str, x_axis: str) -> None:
    """One panel: mean and min-max band of `column` for every method x pair of a model x dataset.

    x_axis "updates" plots generator updates x 1k; "minutes" or "wall_minutes" the mean elapsed minutes.
    """
    groups = group_runs([run for run in runs if (run.model, run.dataset) == (model, dataset)])
    order = {method: i for i, method in enumerate(METHOD_ORDER)}
    methods = sorted({method for (_, _, method) in groups}, key=lambda m: (order.get(m, len(order)), m), reverse=True)
    for method in methods:  # orig before TTUR, so TTUR is drawn on top
        pairs = groups[(model, dataset, method)]
        colours = method_colours(method, len(pairs))
        for colour, ((lr_d, lr_g), pair_runs) in zip(colours, sorted(pairs.items()), strict=True):
            curve = mean_curve(pair_runs, column)
            x = curve["step"].to_numpy() / 1000.0 if x_axis == "updates" else curve[x_axis].to_numpy()
            ax.plot(
                x, curve["mean"], color=colour, lw=1.6, label=f"{curve_label(method, lr_d, lr_g)} (n={len(pair_runs)})"
            )
            band = curve["n_values"].to_numpy() > 0
            ax.fill_between(x, curve["min"], curve["max"], where=band, color=colour, alpha=0.2, lw=0)
    ax.set_xlabel(
        "mini-batch x 1k" if x_axis == "updates" else ("minutes" if x_axis == "minutes" else "wall-clock minutes")
    )
    ax.set_ylabel(METRIC_LABELS.get(column, column))
    ax.legend(fontsize=7, frameon=False)


def _metric_figure(runs: list[Run], model: str, x_axis: str, ncols: int, title: str) -> plt.Figure | None:
    panels = [(m, d) for m, d in model_datasets(runs) if m == model]
    if not panels:
        return None
    family = next(run.metric for run in runs if run.model == model)
    columns = TABLE_METRICS[family]
    fig, axes = _grid(len(panels) * len(columns), ncols if len(columns) == 1 else len(columns))
    for i, ((_, dataset), column) in enumerate((p, c) for p in panels for c in columns):
        plot_metric_panel(axes[i], runs, model, dataset, column, x_axis)
        axes[i].set_title(
            f"{MODEL_TITLES[model]} {dataset}" + (f" — {METRIC_LABELS[column]}" if len(columns) > 1 else "")
        )
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def figure5(runs: list[Run]) -> plt.Figure | None:
    """Fig. 5: DCGAN FID per evaluation, one panel per dataset, x in mini-batches x 1k."""
    return _metric_figure(runs, "dcgan", "updates", 2, "DCGAN: mean FID with min-max band over runs")


def figure6(runs: list[Run], time_column: str) -> plt.Figure | None:
    """Fig. 6: WGAN-GP FID against elapsed minutes (mean minutes of the runs at each evaluation)."""
    return _metric_figure(runs, "wgangp", time_column, 2, "WGAN-GP: mean FID with min-max band over runs")


def figure7(runs: list[Run], time_column: str) -> plt.Figure | None:
    """Fig. 7: language model JSD 4-gram and 6-gram against elapsed minutes."""
    return _metric_figure(runs, "lang", time_column, 2, "WGAN-GP language: mean JSD with min-max band over runs")


def _chosen(runs: list[Run]) -> dict[tuple[str, str, str], tuple[str, PairSummary]]:
    """Per (model, dataset, method): the pair chosen by the table's first metric (FID, or JSD 4-gram)."""
    chosen = {}
    for (model, dataset, column, method), (summary, _) in select_pairs(runs).items():
        if (model, dataset, method) not in chosen:
            chosen[(model, dataset, method)] = (column, summary)
    return chosen


def figure_a14(runs: list[Run]) -> plt.Figure | None:
    """Fig. A14: discriminator and generator losses against updates (mean and each run), per method's chosen pair."""
    chosen = _chosen(runs)
    if not chosen:
        return None
    keys = list(chosen)
    fig, axes = _grid(len(keys), 2, width=4.6, height=3.2)
    for ax, key in zip(axes, keys, strict=True):
        model, dataset, method = key
        _, summary = chosen[key]
        for column, colour, label in (
            ("d_loss", "#2166ac", "discriminator loss"),
            ("g_loss", "#b2182b", "generator loss"),
        ):
            curve = mean_curve(list(summary.runs), column)
            ax.plot(curve["step"].to_numpy() / 1000.0, curve["mean"], color=colour, lw=1.6, label=f"{label} (mean)")
            for run in summary.runs:  # every run thinly, so a loss shows even where the mean is undefined
                ax.plot(run.metrics["step"] / 1000.0, run.metrics[column], color=colour, lw=0.6, alpha=0.4)
        ax.set_title(f"{MODEL_TITLES[model]} {dataset}: {curve_label(method, summary.lr_d, summary.lr_g)}", fontsize=9)
        ax.set_xlabel("generator updates x 1k")
        ax.set_ylabel("loss")
        ax.legend(fontsize=7, frameon=False)
    fig.suptitle("Discriminator and generator losses (thick: mean over runs; thin: each run)", fontsize=10)
    fig.tight_layout()
    return fig


def sample_file(run: Run, step: int) -> tuple[Path | None, int]:
    """The sample file of `run` at `step`, or at the nearest step that has one; (None, -1) when there is none."""
    suffix = ".txt" if run.metric == "jsd" else ".png"
    exact = run.path / "samples" / f"step{step:07d}{suffix}"
    if exact.is_file():
        return exact, step
    candidates = sorted((run.path / "samples").glob(f"step*{suffix}"))
    if not candidates:
        return None, -1
    steps = [int(path.stem[4:]) for path in candidates if path.stem[4:].isdigit()]
    if not steps:
        return None, -1
    nearest = min(steps, key=lambda s: (abs(s - step), s))
    return run.path / "samples" / f"step{nearest:07d}{suffix}", nearest


def figure_samples(runs: list[Run]) -> plt.Figure | None:
    """Sample grids at the best checkpoint of the best run of each model x dataset x method, with labels."""
    chosen = _chosen(runs)
    if not chosen:
        return None
    keys = list(chosen)
    fig, axes = _grid(len(keys), 2, width=4.2, height=4.6)
    for ax, key in zip(axes, keys, strict=True):
        model, dataset, method = key
        column, summary = chosen[key]
        ax.set_axis_off()
        best = summary.best
        label = f"{MODEL_TITLES[model]} {dataset}\n{curve_label(method, summary.lr_d, summary.lr_g)}"
        if not best.found:
            ax.set_title(label + "\nno run with a value", fontsize=8)
            continue
        run = next(run for run in summary.runs if run.seed == best.seed)
        path, step = sample_file(run, best.step)
        value = f"{METRIC_LABELS.get(column, column)} {best.value:.3g}"
        where = f"seed {best.seed}, step {fmt_step(best.step)}"
        if path is None:
            ax.set_title(f"{label}\n{value} ({where})\nno samples saved", fontsize=8)
            continue
        if step != best.step:
            where += f"; samples of step {fmt_step(step)}"
        ax.set_title(f"{label}\n{value} ({where})", fontsize=8)
        if path.suffix == ".png":
            with Image.open(path) as image:
                ax.imshow(np.asarray(image.convert("RGB")), interpolation="nearest")
        else:
            lines = path.read_text(errors="replace").splitlines()[:16]
            text = "\n".join(textwrap.shorten(line, 40, placeholder="…") or " " for line in lines)
            ax.text(0.0, 1.0, text, family="monospace", fontsize=7, va="top", ha="left", transform=ax.transAxes)
    fig.tight_layout()
    return fig


def write_figures(runs: list[Run], out_dir: Path, only: tuple[str, ...], time_column: str = "minutes") -> list[Path]:
    """Write the requested figures whose model is present; return the files written."""
    written: list[Path] = []
    makers = {
        "fig5": ("fig5_dcgan", lambda: figure5(runs)),
        "fig6": ("fig6_wgangp", lambda: figure6(runs, time_column)),
        "fig7": ("fig7_jsd", lambda: figure7(runs, time_column)),
        "figA14": ("figA14_losses", lambda: figure_a14(runs)),
    }
    with sns.axes_style("whitegrid"), plt.rc_context({"figure.max_open_warning": 0, "font.size": 9}):
        for name, (stem, make) in makers.items():
            if name not in only:
                continue
            fig = make()
            if fig is not None:
                written += _save_both(fig, out_dir, stem)
        if "samples" in only:
            fig = figure_samples(runs)
            if fig is not None:
                written += save_figure(fig, [out_dir / "samples.png"], dpi=120)
                plt.close(fig)
    return written
