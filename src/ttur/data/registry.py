"""The datasets the pipeline knows: their official files, where to fetch them, and their published checksums."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["images", "text"]


@dataclass(frozen=True)
class FileSpec:
    """One file of a dataset as it is published: its name, the URLs that serve it, and its known checksums.

    `md5` / `sha256` / `size` are the published values (None where no publisher states one); at least one checksum is
    required, so nothing is ever accepted unverified. `checksum_source` says where each value comes from.
    """

    name: str
    urls: tuple[str, ...]
    md5: str | None
    sha256: str | None
    size: int | None
    checksum_source: str

    def __post_init__(self) -> None:
        if self.md5 is None and self.sha256 is None:
            raise ValueError(f"{self.name}: a FileSpec needs a published md5 or sha256")


@dataclass(frozen=True)
class DatasetSpec:
    """A dataset: its kind, its raw files (empty for generated smoke datasets), its splits and default recipe."""

    name: str
    kind: Kind
    files: tuple[str, ...]
    splits: tuple[str, ...]
    default_split: str
    default_recipe: str | None
    generated: bool
    description: str


def _gdrive(file_id: str) -> tuple[str, ...]:
    # The first form skips Google Drive's "can't scan for viruses" page for large files; the second is the classic
    # form torchvision/TFDS record. An HTML answer instead of the file is treated as a failed mirror.
    return (
        f"https://drive.usercontent.google.com/download?id={file_id}&export=download&confirm=t",
        f"https://drive.google.com/uc?export=download&id={file_id}",
    )


_TV = "torchvision 0.29 (md5)"
_TFDS = "tensorflow/datasets url_checksums (size, sha256)"

# The real checksum table. `ttur download` uses it; tests pass their own table for miniature archives.
REAL_FILES: dict[str, FileSpec] = {
    spec.name: spec
    for spec in (
        FileSpec(
            name="cifar-10-python.tar.gz",
            urls=("https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",),
            md5="c58f30108f718f92721af3b95e74349a",
            sha256="6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce",
            size=None,
            checksum_source=f"{_TV}; sha256 from tensorflow/datasets url_checksums/cifar10.csv",
        ),
        FileSpec(
            name="train_32x32.mat",
            urls=(
                "http://ufldl.stanford.edu/housenumbers/train_32x32.mat",
                "https://ufldl.stanford.edu/housenumbers/train_32x32.mat",
            ),
            md5="e26dedcc434d2e4c54c9b2d4a06d8373",
            sha256="435e94d69a87fde4fd4d7f3dd208dfc32cb6ae8af2240d066de1df7508d083b8",
            size=182040794,
            checksum_source=f"{_TV}; {_TFDS} svhn_cropped.txt",
        ),
        FileSpec(
            name="img_align_celeba.zip",
            urls=_gdrive("0B7EVK8r0v71pZjFTYXZWM3FlRnM"),
            md5="00d2c5bc6d35e252742224ab0c1e8fcb",
            sha256="46fb89443c578308acf364d7d379fe1b9efb793042c0af734b6112e4fd3a8c74",
            size=1443490838,
            checksum_source=f"{_TV}; {_TFDS} celeb_a.txt",
        ),
        FileSpec(
            name="list_eval_partition.txt",
            urls=_gdrive("0B7EVK8r0v71pY0NSMzRuSXJEVkk"),
            md5="d32c9cbf5e040fd4025c592c306e6668",
            sha256="fc955bcb3ef8fbdf7d5640d9a8693a8431b5f2ee291a5c1449a1549e7e073fe7",
            size=2836386,
            checksum_source=f"{_TV}; {_TFDS} celeb_a.txt",
        ),
        FileSpec(
            name="bedroom_train_lmdb.zip",
            urls=(
                "http://dl.yf.io/lsun/scenes/bedroom_train_lmdb.zip",
                "https://dl.yf.io/lsun/scenes/bedroom_train_lmdb.zip",
            ),
            md5=None,
            sha256="a15644c2e7153106867f0adb3491fc41224102d1f01b24494fb47d9f5d1f174e",
            size=45922737680,
            checksum_source=f"{_TFDS} lsun.txt",
        ),
        FileSpec(
            name="1-billion-word-language-modeling-benchmark-r13output.tar.gz",
            urls=(
                "http://www.statmt.org/lm-benchmark/1-billion-word-language-modeling-benchmark-r13output.tar.gz",
                "https://www.statmt.org/lm-benchmark/1-billion-word-language-modeling-benchmark-r13output.tar.gz",
            ),
            md5=None,
            sha256="01ba60381110baf7f189dfd2b8374de371e8c9a340835793f190bdae9e90a34e",
            size=1792209805,
            checksum_source=f"{_TFDS} lm1b.txt",
        ),
    )
}

DATASETS: dict[str, DatasetSpec] = {
    spec.name: spec
    for spec in (
        DatasetSpec(
            name="celeba",
            kind="images",
            files=("img_align_celeba.zip", "list_eval_partition.txt"),
            splits=("all", "train", "valid", "test"),
            default_split="all",  # the paper trained on all 202,599 images (spec §3.1)
            default_recipe="carpedm20",
            generated=False,
            description="CelebA aligned-and-cropped (178x218 JPEG) with its partition file",
        ),
        DatasetSpec(
            name="cifar10",
            kind="images",
            files=("cifar-10-python.tar.gz",),
            splits=("train", "test"),
            default_split="train",
            default_recipe="native32",
            generated=False,
            description="CIFAR-10, python batches tarball as torchvision fetches it",
        ),
        DatasetSpec(
            name="svhn",
            kind="images",
            files=("train_32x32.mat",),
            splits=("train",),
            default_split="train",
            default_recipe="native32",
            generated=False,
            description="SVHN cropped digits, train_32x32.mat as torchvision fetches it",
        ),
        DatasetSpec(
            name="lsun",
            kind="images",
            files=("bedroom_train_lmdb.zip",),
            splits=("train",),
            default_split="train",
            default_recipe="center-square",
            generated=False,
            description="LSUN bedroom_train lmdb (about 3 million images)",
        ),
        DatasetSpec(
            name="billion_word",
            kind="text",
            files=("1-billion-word-language-modeling-benchmark-r13output.tar.gz",),
            splits=("train",),
            default_split="train",
            default_recipe=None,
            generated=False,
            description="One Billion Word benchmark, r13output tarball",
        ),
        DatasetSpec(
            name="shapes32",
            kind="images",
            files=(),
            splits=("train",),
            default_split="train",
            default_recipe="native32",
            generated=True,
            description="smoke: coloured shapes on gradient backgrounds, 32x32 PNG folder generated from a seed",
        ),
        DatasetSpec(
            name="tinytext",
            kind="text",
            files=(),
            splits=("train",),
            default_split="train",
            default_recipe=None,
            generated=True,
            description="smoke: English-like sentences from a small grammar, in the One Billion Word folder layout",
        ),
    )
}


def dataset_spec(name: str) -> DatasetSpec:
    """The spec of a dataset by name; an unknown name is a UserError listing the known ones."""
    from ttur.errors import UserError

    if name not in DATASETS:
        raise UserError(f"unknown dataset {name!r}; choose one of {', '.join(DATASETS)}")
    return DATASETS[name]
