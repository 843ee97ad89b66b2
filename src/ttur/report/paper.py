"""The paper's published numbers (Table 1, Tables A2 and A4), as data the table puts beside ours.

Source: Heusel et al. 2017, Table 1 (FID/JSD, updates for DCGAN, minutes for WGAN-GP), Table A2 (WGAN-GP image:
iterations and minutes) and Table A4 (language: iterations and minutes); the NIPS poster repeats them
(ttur_spec.md §3.6, §4.8, §5.5). `step` is the number of generator updates at the best value ("updates" for
DCGAN, "iter" in Tables A2/A4); `minutes` is wall-clock time, given only for WGAN-GP and the language model.
The DCGAN SVHN row repeats CelebA's FIDs (12.5 and 21.4) in both the paper and the poster; we report it as printed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class PaperValue:
    """One published number: the method's learning rates, where the best value occurred, and the value."""

    model: str
    dataset: str
    metric: str
    method: str
    lr_d: float
    lr_g: float
    step: int
    minutes: float | None
    value: float


PAPER_VALUES: tuple[PaperValue, ...] = (
    # DCGAN, Table 1 (FID at the best number of updates).
    PaperValue("dcgan", "celeba", "fid", "ttur", 1e-5, 5e-4, 225_000, None, 12.5),
    PaperValue("dcgan", "celeba", "fid", "orig", 5e-4, 5e-4, 70_000, None, 21.4),
    PaperValue("dcgan", "cifar10", "fid", "ttur", 1e-4, 5e-4, 75_000, None, 36.9),
    PaperValue("dcgan", "cifar10", "fid", "orig", 1e-4, 1e-4, 100_000, None, 37.7),
    PaperValue("dcgan", "svhn", "fid", "ttur", 1e-5, 1e-4, 165_000, None, 12.5),
    PaperValue("dcgan", "svhn", "fid", "orig", 5e-5, 5e-5, 185_000, None, 21.4),
    PaperValue("dcgan", "lsun", "fid", "ttur", 1e-5, 1e-4, 340_000, None, 57.5),
    PaperValue("dcgan", "lsun", "fid", "orig", 5e-5, 5e-5, 70_000, None, 70.4),
    # WGAN-GP image, Table 1 (minutes) and Table A2 (iterations).
    PaperValue("wgangp", "cifar10", "fid", "ttur", 3e-4, 1e-4, 168_000, 700, 24.8),
    PaperValue("wgangp", "cifar10", "fid", "orig", 1e-4, 1e-4, 53_000, 800, 29.3),
    PaperValue("wgangp", "lsun", "fid", "ttur", 3e-4, 1e-4, 80_000, 1900, 9.5),
    PaperValue("wgangp", "lsun", "fid", "orig", 1e-4, 1e-4, 23_000, 2010, 20.5),
    # WGAN-GP language, Table 1 (minutes) and Table A4 (iterations); JSD in bits.
    PaperValue("lang", "billion_word", "jsd4", "ttur", 3e-4, 1e-4, 98_000, 1150, 0.35),
    PaperValue("lang", "billion_word", "jsd4", "orig", 1e-4, 1e-4, 33_000, 1040, 0.38),
    PaperValue("lang", "billion_word", "jsd6", "ttur", 3e-4, 1e-4, 100_000, 1120, 0.74),
    PaperValue("lang", "billion_word", "jsd6", "orig", 1e-4, 1e-4, 32_000, 1070, 0.77),
)

# Spellings of the datasets that a config may use; anything else (e.g. a smoke dataset) has no paper value.
DATASET_ALIASES = {
    "celeba": "celeba",
    "cifar10": "cifar10",
    "cifar": "cifar10",
    "svhn": "svhn",
    "lsun": "lsun",
    "lsunbedroom": "lsun",
    "lsunbedrooms": "lsun",
    "bedroom": "lsun",
    "bedrooms": "lsun",
    "billionword": "billion_word",
    "onebillionword": "billion_word",
    "onebillionwords": "billion_word",
    "billionwords": "billion_word",
    "lm1b": "billion_word",
    "obw": "billion_word",
    "1bw": "billion_word",
    "1billionword": "billion_word",
}


def paper_dataset(dataset: str) -> str | None:
    """The paper's name for a config dataset name, or None when the paper has no such dataset."""
    return DATASET_ALIASES.get(re.sub(r"[^a-z0-9]", "", dataset.lower()))


def paper_value(model: str, dataset: str, metric: str, method: str) -> PaperValue | None:
    """The paper's number for one row of our table, or None (smoke datasets, metrics the paper did not report)."""
    name = paper_dataset(dataset)
    for value in PAPER_VALUES:
        if (value.model, value.dataset, value.metric, value.method) == (model, name, metric, method):
            return value
    return None
