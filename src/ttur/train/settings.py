"""TrainSettings: every knob of one training run, and the `ttur train` flags generated from it.

The dataclass is the single source of truth: the command line (`--lr-d` <-> `lr_d`), `run.json` and the
resume check all read its fields, so a new setting is added in exactly one place.
"""

from __future__ import annotations

import argparse
import dataclasses
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from ttur.errors import UserError

Model = Literal["dcgan", "wgangp", "lang"]

# The reference code's values (ttur_spec.md 0.1, 11.6), used where a setting is left at None.
MODEL_DEFAULTS: dict[str, dict[str, Any]] = {
    "dcgan": {"z_dim": 100, "width": 64, "beta1": 0.5, "beta2": 0.999, "metric": "fid", "eval_samples": 50000},
    "wgangp": {"z_dim": 128, "width": 64, "beta1": 0.0, "beta2": 0.9, "metric": "fid", "eval_samples": 50000},
    "lang": {"z_dim": 128, "width": 512, "beta1": 0.5, "beta2": 0.9, "metric": "jsd", "eval_samples": 640},
}


def _setting(default: Any = dataclasses.MISSING, help: str = "", **extra: Any) -> Any:  # noqa: A002
    """A dataclass field carrying its command-line help text."""
    metadata = {"help": help}
    if "default_factory" in extra:
        return field(default_factory=extra["default_factory"], metadata=metadata)
    return field(default=default, metadata=metadata)


@dataclass(frozen=True)
class TrainSettings:
    """One training run (one cell x seed of Table 1). Field `lr_d` is the flag `--lr-d`."""

    model: Model = _setting(help="architecture and loss: dcgan, wgangp (ResNet WGAN-GP images) or lang (WGAN-GP text)")
    dataset: str = _setting(help="dataset name, recorded in run.json (the data come from --data)")
    data: Path = _setting(help="prepared dataset folder (images.npy or tokens.npy, with manifest.json)")
    method: Literal["ttur", "orig"] = _setting(help="ttur or orig; recorded only: the schedule is --critic-iters")
    lr_d: float = _setting(help="discriminator / critic learning rate (b in the paper)")
    lr_g: float = _setting(help="generator learning rate (a in the paper)")
    seed: int = _setting(help="seed of initialisation, data order, noise and evaluation noise")
    updates: int = _setting(help="generator updates in total")
    stats: Path = _setting(help="real statistics: FID .npz (mu, sigma) or the real n-gram model .npz")
    critic_iters: int = _setting(1, help="D/critic steps per generator step (TTUR 1; orig WGAN-GP 5 images, 10 text)")
    batch_size: int = _setting(64, help="training mini-batch size")
    z_dim: int | None = _setting(None, help="latent size; none = the reference's (DCGAN 100, WGAN-GP 128)")
    width: int | None = _setting(None, help="base width; none = the reference's (DCGAN 64, WGAN-GP DIM 64, text 512)")
    beta1: float | None = _setting(None, help="Adam beta1; none = the reference's (DCGAN 0.5, WGAN-GP 0.0, text 0.5)")
    beta2: float | None = _setting(None, help="Adam beta2; none = the reference's (DCGAN 0.999, WGAN-GP 0.9)")
    gp_lambda: float = _setting(10.0, help="gradient-penalty weight of WGAN-GP (unused by DCGAN)")
    metric: Literal["fid", "jsd"] | None = _setting(None, help="fid (image models) or jsd (text); none = by model")
    eval_every: int = _setting(1000, help="generator updates between evaluations (also at step 0 and the last step)")
    eval_samples: int | None = _setting(None, help="samples per evaluation; none = reference (FID 50000, JSD 640)")
    eval_batch_size: int = _setting(1000, help="generation batch during evaluation (WGAN-GP BN uses its statistics)")
    extractor: str = _setting("inception-v3-compat", help="FID feature extractor name (randconv64: offline smoke)")
    weights: Path | None = _setting(None, help="feature-extractor weights file (Inception); none for randconv64")
    feature_batch_size: int = _setting(200, help="images per feature-extractor forward")
    pixels: Literal["round", "truncate"] = _setting("round", help="float->uint8 mapping of generated images for FID")
    wgan32_critic: Literal["per_sample", "grouped"] = _setting(
        "per_sample", help="WGAN-GP 32x32 critic head: per_sample (correct) or grouped (the reference's reshape)"
    )
    jsd_ns: list[int] = _setting(default_factory=lambda: [1, 2, 3, 4, 5, 6], help="n-gram orders of the JSD")
    checkpoint_every: int = _setting(1000, help="generator updates between resume-state saves")
    snapshots: Literal["best", "last", "all"] = _setting(
        "best", help="generator snapshots: last only, best + last, or all (best + last + every evaluation)"
    )
    device: str = _setting("auto", help="auto, cpu, cuda or cuda:N")
    cudnn_benchmark: bool = _setting(False, help="GPU: let cuDNN pick the fastest convolution algorithms")
    tf32: bool = _setting(False, help="GPU: allow TF32 matmuls and convolutions")
    channels_last: bool = _setting(False, help="GPU: channels-last memory format for the image models")
    max_minutes: float | None = _setting(None, help="training-minute budget; reaching it ends the run like --updates")

    def __post_init__(self) -> None:
        object.__setattr__(self, "data", Path(self.data))
        object.__setattr__(self, "stats", Path(self.stats))
        if self.weights is not None:
            object.__setattr__(self, "weights", Path(self.weights))
        object.__setattr__(self, "jsd_ns", sorted({int(n) for n in self.jsd_ns}))
        if self.model not in MODEL_DEFAULTS:
            raise UserError(f"bad training setting: unknown model '{self.model}'; use dcgan, wgangp or lang")
        for name, value in MODEL_DEFAULTS[self.model].items():
            if getattr(self, name) is None:
                object.__setattr__(self, name, value)
        self._validate()

    def _validate(self) -> None:
        expected_metric = "jsd" if self.model == "lang" else "fid"
        checks = [
            (self.method in ("ttur", "orig"), f"unknown method '{self.method}'; use ttur or orig"),
            (self.metric == expected_metric, f"model {self.model} is scored by {expected_metric}, not {self.metric}"),
            (self.lr_d > 0 and self.lr_g > 0, "learning rates must be positive"),
            (self.updates >= 1, "updates must be at least 1"),
            (self.critic_iters >= 1, "critic_iters must be at least 1"),
            (self.model != "dcgan" or self.critic_iters == 1, "DCGAN runs one D step per G step: critic_iters 1"),
            (self.batch_size >= 2, "batch_size must be at least 2 (BatchNorm)"),
            (self.z_dim >= 1 and self.width >= 1, "z_dim and width must be at least 1"),
            (0 <= self.beta1 < 1 and 0 <= self.beta2 < 1, "Adam betas must lie in [0, 1)"),
            (self.eval_every >= 1 and self.checkpoint_every >= 1, "eval_every and checkpoint_every must be >= 1"),
            (self.eval_samples >= 2 and self.eval_batch_size >= 2, "eval_samples and eval_batch_size must be >= 2"),
            (self.feature_batch_size >= 1, "feature_batch_size must be >= 1"),
            (self.pixels in ("round", "truncate"), f"unknown pixels mode '{self.pixels}'; use round or truncate"),
            (self.wgan32_critic in ("per_sample", "grouped"), "wgan32_critic must be per_sample or grouped"),
            (
                self.model != "wgangp" or self.wgan32_critic != "grouped" or self.batch_size % 4 == 0,
                "the grouped critic mixes 4 samples per value: batch_size must be a multiple of 4",
            ),
            (bool(self.jsd_ns) and min(self.jsd_ns) >= 1, "jsd_ns must list n-gram orders >= 1"),
            (self.snapshots in ("best", "last", "all"), f"unknown snapshots '{self.snapshots}'; use best, last or all"),
            (self.max_minutes is None or self.max_minutes > 0, "max_minutes must be positive (or omitted)"),
        ]
        for ok, message in checks:
            if not ok:
                raise UserError(f"bad training setting: {message}")

    def to_json(self) -> dict[str, Any]:
        """Every field as JSON-ready values (paths as strings), for run.json and the resume check."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            out[f.name] = str(value) if isinstance(value, Path) else (list(value) if f.name == "jsd_ns" else value)
        return out


# Fields that may change between a run and its resumption: where and how fast it runs, not what it computes.
OPERATIONAL_FIELDS = frozenset({"device", "checkpoint_every", "max_minutes", "snapshots"})


def _parse_bool(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, got '{text}'")


def _parse_optional(parse: typing.Callable[[str], Any]) -> typing.Callable[[str], Any]:
    def parse_or_none(text: str) -> Any:
        return None if text.strip().lower() in ("", "none", "null") else parse(text)

    parse_or_none.__name__ = getattr(parse, "__name__", "value")
    return parse_or_none


def _argument_spec(annotation: Any) -> dict[str, Any]:
    """argparse keywords (type, choices, nargs) for one field annotation."""
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType) and type(None) in args:
        (inner,) = [a for a in args if a is not type(None)]
        spec = _argument_spec(inner)
        spec["type"] = _parse_optional(spec["type"])
        return spec
    if origin is Literal:
        return {"type": str, "choices": list(args)}
    if origin is list:
        return {"type": args[0], "nargs": "+"}
    if annotation is bool:
        return {"type": _parse_bool, "metavar": "BOOL"}
    if annotation in (int, float, str, Path):
        return {"type": annotation}
    raise TypeError(f"no command-line mapping for {annotation!r}")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add one `--field-name` option per TrainSettings field (required where the field has no default)."""
    hints = typing.get_type_hints(TrainSettings)
    for f in dataclasses.fields(TrainSettings):
        spec = _argument_spec(hints[f.name])
        required = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        default = None if required else (f.default if f.default_factory is dataclasses.MISSING else f.default_factory())
        help_text = f.metadata.get("help", "") + ("" if required else f" (default: {default})")
        parser.add_argument(
            "--" + f.name.replace("_", "-"), dest=f.name, required=required, default=default, help=help_text, **spec
        )


def settings_from_args(args: argparse.Namespace) -> TrainSettings:
    """Build TrainSettings from a namespace filled by `add_arguments`."""
    return TrainSettings(**{f.name: getattr(args, f.name) for f in dataclasses.fields(TrainSettings)})


def settings_from_json(values: dict[str, Any]) -> TrainSettings:
    """Rebuild TrainSettings from `to_json` output (run.json, resume state)."""
    return TrainSettings(**values)
