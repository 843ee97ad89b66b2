"""The training job: TrainSettings (one run's settings) and train(settings, out) (spec §3-§5, DESIGN.md).

`train` and `TrainingInterrupted` are imported on first use, so that building the `ttur` parser (which reads
TrainSettings to make the flags) does not import torch.
"""

from typing import Any

from ttur.train.settings import TrainSettings

__all__ = ["TrainSettings", "TrainingInterrupted", "train"]


def __getattr__(name: str) -> Any:
    if name in ("train", "TrainingInterrupted"):
        from ttur.train import loop

        return getattr(loop, name)
    raise AttributeError(f"module 'ttur.train' has no attribute {name!r}")
