"""Fig. 4: noisy gradient descent in x and ascent in y on the saddle f(x, y) = (1 + x^2)(100 - y^2).

The saddle point is (0, 0) with f = 100. Each iteration first moves x down its noisy gradient, then y up its
noisy gradient at the new x (sequential updates, as in TTUR's notebook Toy_Data_Example/ttur_example_saddle.ipynb,
ttur_spec.md §7.2). The four learning-rate settings are the paper's Fig. 4 caption's: equal rates 0.01 and 0.001,
TTUR with 0.0001 for x vs 0.01 for y, and 0.01 for x vs 0.0001 for y. The notebook states them relative to
base_lr = 0.01 as (lr, lr), (lr/10, lr/10), (lr/100, lr), (lr, lr/100): the same numbers; we use the caption's
absolute values and its labels (the notebook calls the fourth row "TTUR y", the caption only "a larger rate for x").
Every setting sees the same noise sequence (one seeded generator per setting, same seed), so the rows differ only
by their learning rates.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

START = (0.5, -0.4)


@dataclass(frozen=True)
class ToySetting:
    name: str
    lr_x: float
    lr_y: float


SETTINGS = (
    ToySetting("equal 0.01", 0.01, 0.01),
    ToySetting("equal 0.001", 0.001, 0.001),
    ToySetting("TTUR x 0.0001, y 0.01", 0.0001, 0.01),
    ToySetting("x 0.01, y 0.0001", 0.01, 0.0001),
)


@dataclass(frozen=True)
class ToyResult:
    setting: ToySetting
    x: np.ndarray  # positions after iterations 0..N (index 0 is the start)
    y: np.ndarray

    @property
    def objective(self) -> np.ndarray:
        return objective(self.x, self.y)

    @property
    def norm(self) -> np.ndarray:
        return np.hypot(self.x, self.y)


def objective(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return (1.0 + x**2) * (100.0 - y**2)


def run_saddle(setting: ToySetting, iterations: int, sigma: float, seed: int) -> ToyResult:
    """Iterate x -= lr_x (df/dx + noise), then y += lr_y (df/dy + noise) at the new x."""
    rng = np.random.default_rng(seed)
    noise = rng.normal(0.0, sigma, size=(iterations, 2))
    xs, ys = np.empty(iterations + 1), np.empty(iterations + 1)
    x, y = START
    xs[0], ys[0] = x, y
    with np.errstate(over="ignore", invalid="ignore"):  # a diverging setting is recorded as inf/NaN, not hidden
        for i in range(iterations):
            x = x - setting.lr_x * (2.0 * x * (100.0 - y * y) + noise[i, 0])
            y = y + setting.lr_y * (-2.0 * y * (1.0 + x * x) + noise[i, 1])
            xs[i + 1], ys[i + 1] = x, y
    return ToyResult(setting, xs, ys)


def run_toy_experiment(seed: int = 0, iterations: int = 5000, sigma: float = 1.0) -> list[ToyResult]:
    """All four settings of Fig. 4 with the same seed."""
    return [run_saddle(setting, iterations, sigma, seed) for setting in SETTINGS]


def toy_frame(results: list[ToyResult]) -> pd.DataFrame:
    """Long table: iteration, setting, lr_x, lr_y, x, y, objective, norm (iteration 0 is the start)."""
    frames = [
        pd.DataFrame(
            {
                "iteration": np.arange(len(r.x)),
                "setting": r.setting.name,
                "lr_x": r.setting.lr_x,
                "lr_y": r.setting.lr_y,
                "x": r.x,
                "y": r.y,
                "objective": r.objective,
                "norm": r.norm,
            }
        )
        for r in results
    ]
    return pd.concat(frames, ignore_index=True)


def plot_toy(results: list[ToyResult], out_fig: Path) -> list[Path]:
    """Left: the objective surface; right: one row per setting with objective, norm and the (x, y) path.

    Writes `out_fig` and, beside it, the other of .png/.pdf; returns both paths.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import seaborn as sns

    from ttur.io import save_figure

    with sns.axes_style("whitegrid"), plt.rc_context({"font.size": 8}):
        fig = plt.figure(figsize=(15, 2.4 * len(results)))
        grid = fig.add_gridspec(len(results), 4, width_ratios=(1.4, 1, 1, 1))
        surface = fig.add_subplot(grid[:, 0], projection="3d")
        gx, gy = np.meshgrid(np.linspace(-1, 1, 41), np.linspace(-1, 1, 41))
        surface.plot_surface(gx, gy, objective(gx, gy), cmap="viridis", linewidth=0, antialiased=False)
        surface.set_xlabel("x")
        surface.set_ylabel("y")
        surface.set_title("f(x, y) = (1 + x²)(100 − y²), saddle at (0, 0)")
        for row, result in enumerate(results):
            ttur = result.setting.name.startswith("TTUR")
            colour = "#b2182b" if ttur else "#2166ac"
            steps = np.arange(len(result.x))
            ax_obj, ax_norm, ax_xy = (fig.add_subplot(grid[row, col]) for col in (1, 2, 3))
            ax_obj.plot(steps, result.objective, color=colour, lw=0.8)
            ax_obj.axhline(100.0, color="black", lw=0.6, ls="--")
            ax_obj.set_ylabel(result.setting.name)
            ax_norm.plot(steps, result.norm, color=colour, lw=0.8)
            ax_xy.scatter(result.x, result.y, c=steps, cmap="viridis", s=2)
            ax_xy.plot([0], [0], marker="x", color="black")
            if row == 0:
                ax_obj.set_title("objective")
                ax_norm.set_title("norm ‖(x, y)‖")
                ax_xy.set_title("(x, y), colour = iteration")
            if row == len(results) - 1:
                ax_obj.set_xlabel("iteration")
                ax_norm.set_xlabel("iteration")
                ax_xy.set_xlabel("x")
        fig.tight_layout()
        paths = [out_fig, out_fig.with_suffix(".png"), out_fig.with_suffix(".pdf")]
        written = save_figure(fig, paths, dpi=110, tight=False)
        plt.close(fig)
    return written
