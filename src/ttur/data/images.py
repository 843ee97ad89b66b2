"""Prepared image datasets: images.npy (uint8 N x H x W x 3) filled in chunks, then manifest.json written last."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ttur.data.npy import NpyStreamWriter
from ttur.data.recipes import Recipe, apply_recipe
from ttur.data.sources import ImageSource
from ttur.errors import UserError
from ttur.io import atomic_path, write_json

IMAGES = "images.npy"
MANIFEST = "manifest.json"


def write_images(
    dataset: str,
    source: ImageSource,
    recipe: Recipe,
    split: str,
    sources: list[dict[str, str]],
    out: Path,
    chunk: int = 1024,
) -> Path:
    """Stream `source` through `recipe` into out/images.npy; peak memory is one chunk of images, not the dataset."""
    if recipe.size is None:
        raise UserError(f"recipe {recipe.name} has no output size")
    shape = (source.count, recipe.size, recipe.size, 3)
    (out / MANIFEST).unlink(missing_ok=True)  # the old manifest must not vouch for a new, half-written file
    buffer = np.empty((min(chunk, source.count), *shape[1:]), dtype=np.uint8)
    with atomic_path(out / IMAGES) as tmp:
        writer = NpyStreamWriter(tmp, shape, np.dtype(np.uint8))
        filled = 0
        for index, image in enumerate(source.images()):
            if index >= source.count:
                raise UserError(f"{dataset}: the source holds more than the {source.count} images it announced")
            buffer[filled] = apply_recipe(recipe, image)
            filled += 1
            if filled == len(buffer):
                writer.write(buffer)
                filled = 0
                if writer.rows % (chunk * 50) == 0:
                    print(f"{dataset}: {writer.rows}/{source.count} images", flush=True)
        writer.write(buffer[:filled])
        try:
            digest = writer.close()
        except ValueError as error:
            raise UserError(f"{dataset}: {error}; the raw files are incomplete, download them again") from error
    manifest: dict[str, Any] = {
        "dataset": dataset,
        "kind": "images",
        "count": source.count,
        "shape": list(shape),
        "dtype": "uint8",
        "split": split,
        "recipe": recipe.describe(),
        "sources": sources,
        "file": IMAGES,
        "sha256": digest,
    }
    write_json(out / MANIFEST, manifest)
    print(f"{dataset}: wrote {source.count} images {shape[1:]} to {out / IMAGES}", flush=True)
    return out / MANIFEST
