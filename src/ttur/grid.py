"""The experiment grid: expand a validated config into training cells and their resolved settings.

Snakemake expands the grid through this module, and `ttur cost` uses it to project the paper grid's cost, so the
mapping from YAML to training settings lives in one place. Learning rates keep their YAML spelling ("1e-5") in
paths; they are converted to floats only for the training job.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Settings of a training job that the config may give per model, per experiment or per method (the most specific
# wins). Their names are the `ttur train` flags with dashes replaced by underscores.
MODEL_KEYS = (
    "batch_size",
    "z_dim",
    "width",
    "beta1",
    "beta2",
    "gp_lambda",
    "pixels",
    "wgan32_critic",
)
RUN_KEYS = ("updates", "critic_iters", "eval_every", "eval_samples", "max_minutes")
TRAIN_KEYS = (
    "eval_batch_size",
    "feature_batch_size",
    "checkpoint_every",
    "snapshots",
    "cudnn_benchmark",
    "tf32",
    "channels_last",
)
METRIC_OF_MODEL = {"dcgan": "fid", "wgangp": "fid", "lang": "jsd"}


@dataclass(frozen=True)
class Cell:
    """One model × dataset × method × learning-rate pair; each seed of it is one training job."""

    model: str
    dataset: str
    method: str
    lr_d: str
    lr_g: str
    seeds: list[int] = field(hash=False)
    settings: dict[str, Any] = field(hash=False)

    @property
    def path(self) -> str:
        """The run folder of one seed, relative to `{results}/runs`, without the seed part."""
        return f"{self.model}/{self.dataset}/{self.method}/d{self.lr_d}_g{self.lr_g}"

    def run_path(self, seed: int) -> str:
        return f"{self.path}/seed{seed}"


def lr_string(value: Any) -> str:
    """Spell a learning rate for paths exactly as the config does ("1e-5" stays "1e-5")."""
    return value if isinstance(value, str) else repr(value)


def resolve_grid(config: dict[str, Any]) -> list[Cell]:
    """Every cell of the config's experiments, in config order, with every training setting resolved."""
    cells = []
    train_defaults = {key: config["train"][key] for key in TRAIN_KEYS if key in config["train"]}
    for experiment in config["experiments"]:
        model = experiment["model"]
        model_defaults = config["models"][model]
        for method, method_config in experiment["methods"].items():
            settings: dict[str, Any] = dict(train_defaults)
            for source in (model_defaults, experiment, method_config):
                settings.update({key: source[key] for key in MODEL_KEYS + RUN_KEYS if key in source})
            settings["metric"] = METRIC_OF_MODEL[model]
            seeds = _seeds(experiment["seeds"])
            for lr_d, lr_g in method_config["lrs"]:
                cells.append(
                    Cell(
                        model=model,
                        dataset=experiment["dataset"],
                        method=method,
                        lr_d=lr_string(lr_d),
                        lr_g=lr_string(lr_g),
                        seeds=seeds,
                        settings=dict(settings),
                    )
                )
    return cells


def _seeds(spec: int | list[int]) -> list[int]:
    """`seeds: 8` means seeds 0..7; a list names them explicitly."""
    return list(range(spec)) if isinstance(spec, int) else [int(seed) for seed in spec]


def find_cell(cells: list[Cell], model: str, dataset: str, method: str, lr_d: str, lr_g: str) -> Cell:
    """The cell matching a run folder's wildcards."""
    for cell in cells:
        if (cell.model, cell.dataset, cell.method, cell.lr_d, cell.lr_g) == (model, dataset, method, lr_d, lr_g):
            return cell
    raise KeyError(f"no cell {model}/{dataset}/{method}/d{lr_d}_g{lr_g} in the config")
