"""Reproduction of the two time-scale update rule (TTUR) paper: data, models, training, FID and JSD."""

__version__ = "0.1.0"
