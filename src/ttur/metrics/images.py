"""Inputs of `ttur stats` and `ttur fid`: a prepared dataset, a folder of images, or a statistics `.npz`.

Image sources yield uint8 N×3×H×W batches in a fixed order and report a digest of exactly what they yielded, so
a statistics file can name the data behind it.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from ttur.errors import UserError
from ttur.io import sha256_file

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")


@dataclass
class PreparedSource:
    """`images.npy` (uint8 N×H×W×3, memory-mapped) of a dataset made by `ttur prepare`."""

    path: Path
    kind: str = "prepared"

    def __post_init__(self) -> None:
        file = self.path / "images.npy"
        try:
            self.array = np.load(file, mmap_mode="r")
        except (OSError, ValueError) as error:
            raise UserError(f"cannot read {file} ({error}); re-run `ttur prepare`") from error
        if self.array.dtype != np.uint8 or self.array.ndim != 4 or self.array.shape[-1] != 3:
            raise UserError(f"{file} holds {self.array.dtype} {self.array.shape}, expected uint8 N×H×W×3")
        manifest = self.path / "manifest.json"
        self.manifest = json.loads(manifest.read_text()) if manifest.is_file() else {}

    def __len__(self) -> int:
        return int(self.array.shape[0])

    def batches(self, batch_size: int, limit: int) -> Iterator[torch.Tensor]:
        for start in range(0, limit, batch_size):
            chunk = np.array(self.array[start : min(start + batch_size, limit)])  # a writable copy, not the mmap
            yield torch.from_numpy(chunk).permute(0, 3, 1, 2)

    def digest(self, limit: int) -> str:
        """sha256 of images.npy (from the manifest when it records one), plus the count used when it is a prefix."""
        full = self.manifest.get("sha256") or sha256_file(self.path / "images.npy")
        return full if limit == len(self) else f"{full}[:{limit}]"


def image_files(folder: Path) -> list[Path]:
    """Every png/jpg file under `folder`, recursively, sorted by path (the order FID and the disturbances read)."""
    return sorted(p for p in Path(folder).rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())


@dataclass
class FolderSource:
    """Every png/jpg under a folder, recursively, in sorted order of relative path; all must share one size."""

    path: Path
    kind: str = "folder"
    files: list[Path] = field(init=False)

    def __post_init__(self) -> None:
        self.files = image_files(self.path)
        if not self.files:
            raise UserError(f"folder {self.path} holds no .png or .jpg images")
        self._hash = hashlib.sha256()

    def __len__(self) -> int:
        return len(self.files)

    def _read(self, file: Path, shape: tuple[int, ...] | None) -> np.ndarray:
        from PIL import Image

        data = file.read_bytes()
        self._hash.update(f"{file.relative_to(self.path).as_posix()}\0{hashlib.sha256(data).hexdigest()}\n".encode())
        with Image.open(io.BytesIO(data)) as image:
            array = np.asarray(image.convert("RGB"))
        if shape is not None and array.shape != shape:
            raise UserError(
                f"{file} is {array.shape[1]}×{array.shape[0]} but earlier images are {shape[1]}×{shape[0]}; "
                "FID images must share one size (resize them first)"
            )
        return array

    def batches(self, batch_size: int, limit: int) -> Iterator[torch.Tensor]:
        self._hash = hashlib.sha256()
        shape = None
        for start in range(0, limit, batch_size):
            arrays = []
            for file in self.files[start : min(start + batch_size, limit)]:
                arrays.append(self._read(file, shape))
                shape = arrays[-1].shape
            yield torch.from_numpy(np.stack(arrays)).permute(0, 3, 1, 2)

    def digest(self, limit: int) -> str:
        """sha256 over (relative path, file sha256) of the images read by the last complete `batches` pass."""
        return self._hash.hexdigest()


def open_images(path: Path) -> PreparedSource | FolderSource:
    """The image source at `path`: a prepared dataset folder (with images.npy) or a folder of image files."""
    path = Path(path)
    if not path.exists():
        raise UserError(f"{path} does not exist; give a prepared dataset folder, an image folder or an .npz")
    if not path.is_dir():
        raise UserError(f"{path} is neither a folder of images nor an .npz statistics file")
    if (path / "images.npy").is_file():
        return PreparedSource(path)
    return FolderSource(path)


def is_stats_file(path: Path) -> bool:
    return Path(path).suffix == ".npz"
