# Config validation, the grid and path helpers shared by every rule file. No rules here.
from pathlib import Path

from snakemake.exceptions import WorkflowError
from ttur.configcheck import validate_config
from ttur.errors import UserError
from ttur.grid import find_cell, resolve_grid

try:
    validate_config(config, workflow.source_path("../schemas/config.schema.yaml"))
except UserError as error:
    raise WorkflowError(f"invalid config: {error}") from None

RESULTS = config["results"]
DATA = config["data_root"]
RESOURCES = config["resources"]
EXTRACTOR = config["feature_extractor"]
CELLS = resolve_grid(config)
IMAGE_DATASETS = sorted({c.dataset for c in CELLS if c.settings["metric"] == "fid"})
TEXT_DATASETS = sorted({c.dataset for c in CELLS if c.settings["metric"] == "jsd"})
MODELS = sorted({c.model for c in CELLS})
INCEPTION_FILE = "weights-inception-2015-12-05-6726825d.pth"
RUN = (
    f"{RESULTS}/runs/{{model}}/{{dataset}}/{{method}}/d{{lr_d}}_g{{lr_g}}/seed{{seed}}"
)


wildcard_constraints:
    model="|".join(MODELS),
    method="ttur|orig",
    lr_d=r"[0-9][0-9.e-]*",
    lr_g=r"[0-9][0-9.e-]*",
    seed=r"0|[1-9][0-9]*",
    dataset=r"[a-z0-9_]+",


def dataset_option(dataset, key, default=None):
    """A per-dataset setting from `datasets:` in the config."""
    return (config["datasets"].get(dataset) or {}).get(key, default)


def run_dirs():
    """Every training run of the grid, one per cell and seed."""
    return [f"{RESULTS}/runs/{c.run_path(seed)}" for c in CELLS for seed in c.seeds]


def run_metrics():
    return [f"{d}/metrics.csv" for d in run_dirs()]


def weights_path():
    """The Inception weights file: the user's local file if configured, else the downloaded one."""
    if EXTRACTOR != "inception-v3-compat":
        return []
    return config.get("inception_weights") or f"{RESOURCES}/weights/{INCEPTION_FILE}"


def weights_flag():
    path = weights_path()
    return f"--weights {path}" if path else ""


def stats_file(dataset):
    """Real statistics of a dataset: FID moments for images, n-gram counts for text."""
    if dataset in TEXT_DATASETS:
        return f"{RESULTS}/stats/{dataset}.ngrams.npz"
    return f"{RESULTS}/stats/{dataset}.{EXTRACTOR}.npz"


def prepared(dataset):
    return f"{DATA}/prepared/{dataset}/manifest.json"


def cell_of(wildcards):
    return find_cell(
        CELLS,
        wildcards.model,
        wildcards.dataset,
        wildcards.method,
        wildcards.lr_d,
        wildcards.lr_g,
    )


def train_flags(wildcards):
    """The `ttur train` options of one job: the cell's resolved settings plus the seed and the shared inputs."""
    cell = cell_of(wildcards)
    flags = {
        "model": cell.model,
        "dataset": cell.dataset,
        "method": cell.method,
        "lr_d": cell.lr_d,
        "lr_g": cell.lr_g,
        "seed": wildcards.seed,
        "device": config["device"],
        "extractor": EXTRACTOR,
        **cell.settings,
    }
    parts = []
    for key, value in flags.items():
        option = f"--{key.replace('_', '-')}"
        if isinstance(value, bool):
            parts.append(f"{option} {str(value).lower()}")
        elif value is not None:
            parts.append(f"{option} {value}")
    return " ".join(parts)


def uses_gpu():
    return 0 if config["device"] == "cpu" else 1


def final_targets():
    targets = [f"{RESULTS}/table1.csv", f"{RESULTS}/table1.md", f"{RESULTS}/cost.md"]
    targets += figure_files()
    targets += [f"{RESULTS}/toy/toy.csv", f"{RESULTS}/figures/fig4_toy.png"]
    if config.get("disturb") and (EXTRACTOR != "inception-v3-compat" or weights_path()):
        targets += [
            f"{RESULTS}/disturb/disturbances.csv",
            f"{RESULTS}/figures/figA8_disturbances.png",
        ]
    return targets


FIGURES_OF_MODEL = {"dcgan": "fig5_dcgan", "wgangp": "fig6_wgangp", "lang": "fig7_jsd"}


def figure_names():
    """The training figures that the grid's models call for (Fig. 5, 6, 7, A14, sample grids)."""
    names = [FIGURES_OF_MODEL[m] for m in MODELS]
    names.append("figA14_losses")
    if IMAGE_DATASETS:
        names.append("samples")
    return names


def figure_files():
    files = []
    for name in figure_names():
        files.append(f"{RESULTS}/figures/{name}.png")
        if name != "samples":
            files.append(f"{RESULTS}/figures/{name}.pdf")
    return files


def prepare_options(wildcards):
    options = []
    for key in ("recipe", "split", "max_lines", "seq_len", "workers"):
        value = dataset_option(wildcards.dataset, key)
        if value is not None:
            options.append(f"--{key.replace('_', '-')} {value}")
    return " ".join(options)


def train_runtime(wildcards, attempt):
    """Minutes per attempt for cluster schedulers; a retry gets more (it resumes from the saved state)."""
    return config["train"].get("runtime_minutes", 4320) * attempt


def disturb_option(key, default=None):
    return (config.get("disturb") or {}).get(key, default)


def require_ttur_command():
    """Rules call `ttur`; without conda deployment it must be on PATH (an activated environment)."""
    import shutil

    if shutil.which("ttur") is None:
        raise WorkflowError(
            "the `ttur` command is not on PATH: activate the environment first "
            "(`. .venv/bin/activate`, see README.md) or run with `--sdm conda`"
        )
