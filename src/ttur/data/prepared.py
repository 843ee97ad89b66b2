"""Open a prepared dataset for training and statistics: a memory-mapped array plus its manifest."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ttur.errors import UserError


@dataclass(frozen=True)
class PreparedImages:
    """images.npy as a read-only memory map (uint8 N x H x W x 3), and manifest.json."""

    path: Path
    array: np.ndarray
    manifest: dict[str, Any]


@dataclass(frozen=True)
class PreparedText:
    """tokens.npy as a read-only memory map (uint16 N x seq_len), the charmap (index = token id), and manifest.json."""

    path: Path
    tokens: np.ndarray
    charmap: list[str]
    manifest: dict[str, Any]


def load_prepared(path: Path) -> PreparedImages | PreparedText:
    """Open a folder written by `ttur prepare`; a missing or incomplete one is a UserError naming the fix."""
    path = Path(path)
    fix = f"run `ttur prepare {path.name} --raw RAW_DIR --out {path}`"
    manifest_path = path / "manifest.json"
    if not manifest_path.is_file():
        raise UserError(f"{path} is not a prepared dataset (no manifest.json); {fix}")
    try:
        manifest = json.loads(manifest_path.read_text())
        data_path = path / manifest["file"]
        array = np.load(data_path, mmap_mode="r")
    except (OSError, ValueError, KeyError) as error:
        raise UserError(f"{path} is incomplete or damaged ({error}); {fix} again") from error
    expected = (manifest["kind"], tuple(manifest["shape"]), np.dtype(manifest["dtype"]))
    if (manifest["kind"], array.shape, array.dtype) != expected:
        raise UserError(f"{data_path} has shape {array.shape} {array.dtype}, the manifest says {expected}; {fix} again")
    if manifest["kind"] == "images":
        return PreparedImages(path=path, array=array, manifest=manifest)
    charmap_path = path / "charmap.json"
    if not charmap_path.is_file():
        raise UserError(f"{path} has no charmap.json; {fix} again")
    charmap = json.loads(charmap_path.read_text())
    if len(charmap) != manifest["vocab_size"]:
        raise UserError(f"{charmap_path} has {len(charmap)} entries, the manifest says {manifest['vocab_size']}; {fix}")
    return PreparedText(path=path, tokens=array, charmap=charmap, manifest=manifest)
