"""Readers for the raw on-disk formats: each yields its images one at a time, in a fixed order.

An item is either a decoded uint8 H x W x 3 array (CIFAR-10, SVHN) or the still-encoded file bytes (`Encoded`: CelebA,
LSUN, PNG folders), so that decoding can run in worker processes. Nothing here holds a whole dataset in memory except
SVHN, whose .mat file scipy can only load whole (225 MB).
"""

from __future__ import annotations

import io
import pickle
import shutil
import tarfile
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np

from ttur.errors import UserError


class Encoded(NamedTuple):
    """An image file's bytes (JPEG/PNG/WEBP) and a label naming where it came from (for error messages)."""

    label: str
    data: bytes


Item = np.ndarray | Encoded


@dataclass(frozen=True)
class ImageSource:
    """`count` images, produced in order by `items()`; `inputs` are the raw files read (for the manifest)."""

    count: int
    items: Callable[[], Iterator[Item]]
    inputs: tuple[Path, ...]


def _require(path: Path, dataset: str) -> Path:
    if not path.exists():
        raise UserError(f"{path} is missing; run `ttur download {dataset} --out {path.parent}` first")
    return path


def decode_image(data: bytes, label: str) -> np.ndarray:
    """Decode JPEG/PNG/WEBP bytes to uint8 RGB with PIL (deterministic for a given libjpeg/libwebp)."""
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as image:
            return np.asarray(image.convert("RGB"))
    except OSError as error:  # PIL's UnidentifiedImageError and truncated-file errors are OSErrors
        raise UserError(f"cannot decode image {label} ({error}); the raw file is damaged, download it again") from error


def to_array(item: Item) -> np.ndarray:
    """The decoded uint8 RGB image of an item."""
    return decode_image(item.data, item.label) if isinstance(item, Encoded) else item


def cifar10(raw: Path, split: str) -> ImageSource:
    """CIFAR-10 python batches (data_batch_1..5 or test_batch) from cifar-10-python.tar.gz, in batch order."""
    tarball = _require(raw / "cifar-10-python.tar.gz", "cifar10")
    names = [f"data_batch_{i}" for i in range(1, 6)] if split == "train" else ["test_batch"]

    def batches() -> Iterator[np.ndarray]:
        with tarfile.open(tarball, "r:gz") as tar:
            for name in names:
                try:
                    handle = tar.extractfile(f"cifar-10-batches-py/{name}")
                except KeyError:
                    raise UserError(f"{tarball} has no cifar-10-batches-py/{name}; download it again") from None
                assert handle is not None
                batch = pickle.load(handle, encoding="bytes")
                yield np.asarray(batch[b"data"], dtype=np.uint8).reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)

    def items() -> Iterator[Item]:
        for block in batches():
            yield from block

    return ImageSource(sum(len(block) for block in batches()), items, (tarball,))


def svhn(raw: Path, split: str) -> ImageSource:
    """SVHN train_32x32.mat (X: 32 x 32 x 3 x N) in file order."""
    import scipy.io

    path = _require(raw / f"{split}_32x32.mat", "svhn")
    x = scipy.io.loadmat(path, variable_names=["X"])["X"]

    def items() -> Iterator[Item]:
        for index in range(x.shape[3]):
            yield np.ascontiguousarray(x[:, :, :, index], dtype=np.uint8)

    return ImageSource(int(x.shape[3]), items, (path,))


_CELEBA_SPLITS = {"train": "0", "valid": "1", "test": "2"}


def celeba(raw: Path, split: str) -> ImageSource:
    """CelebA JPEGs from img_align_celeba.zip, sorted by file name, filtered by list_eval_partition.txt."""
    archive = _require(raw / "img_align_celeba.zip", "celeba")
    partition_path = _require(raw / "list_eval_partition.txt", "celeba")
    partition = dict(line.split()[:2] for line in partition_path.read_text().splitlines() if line.strip())
    with zipfile.ZipFile(archive) as zf:
        members = sorted(
            (name for name in zf.namelist() if name.lower().endswith(".jpg")), key=lambda n: n.rsplit("/", 1)[-1]
        )
    if split != "all":
        members = [name for name in members if partition.get(name.rsplit("/", 1)[-1]) == _CELEBA_SPLITS[split]]
    if not members:
        raise UserError(f"{archive} holds no JPEGs of split {split!r}; check the archive or --split")

    def items() -> Iterator[Item]:
        with zipfile.ZipFile(archive) as zf:
            for name in members:
                yield Encoded(f"{archive}:{name}", zf.read(name))

    return ImageSource(len(members), items, (archive, partition_path))


def lsun(raw: Path, scratch: Path) -> ImageSource:
    """LSUN bedroom_train lmdb in key order. The lmdb is used in place if RAW_DIR holds it extracted, else data.mdb is
    streamed out of the zip into `scratch` (about 43 GB for the real file; the caller deletes it)."""
    import lmdb

    extracted = raw / "bedroom_train_lmdb"
    if (extracted / "data.mdb").exists():
        db_dir, inputs = extracted, (extracted / "data.mdb",)
    else:
        archive = _require(raw / "bedroom_train_lmdb.zip", "lsun")
        db_dir, inputs = scratch / "bedroom_train_lmdb", (archive,)
        db_dir.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(archive) as zf:
            member = next((n for n in zf.namelist() if n.endswith("data.mdb")), None)
            if member is None:
                raise UserError(f"{archive} holds no data.mdb; download it again")
            with zf.open(member) as src, open(db_dir / "data.mdb", "wb") as dst:
                shutil.copyfileobj(src, dst, 1 << 22)
    env = lmdb.open(str(db_dir), readonly=True, lock=False, readahead=False, max_readers=1)
    count = int(env.stat()["entries"])

    def items() -> Iterator[Item]:
        try:
            with env.begin(write=False) as txn:
                for key, value in txn.cursor():
                    yield Encoded(f"lmdb key {key.decode(errors='replace')}", value)
        finally:
            env.close()

    return ImageSource(count, items, inputs)


def image_folder(raw: Path, folder: str, dataset: str) -> ImageSource:
    """A folder of PNG/JPEG files (the reference code's layout), sorted by name."""
    root = _require(raw / folder, dataset)
    paths = sorted(p for p in root.iterdir() if p.suffix.lower() in {".png", ".jpg", ".jpeg"})
    if not paths:
        raise UserError(f"{root} holds no images; run `ttur download {dataset} --out {raw}` again")

    def items() -> Iterator[Item]:
        for path in paths:
            yield Encoded(str(path), path.read_bytes())

    return ImageSource(len(paths), items, (root,))
