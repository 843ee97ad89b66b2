"""The training job: TrainSettings (one run's settings) and train(settings, out) (spec §3-§5, DESIGN.md)."""

from ttur.train.loop import TrainingInterrupted, train
from ttur.train.settings import TrainSettings

__all__ = ["TrainSettings", "TrainingInterrupted", "train"]
