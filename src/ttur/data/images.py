"""Prepared image datasets: images.npy (uint8 N x H x W x 3) filled in chunks, then manifest.json written last.

Items are read in order, one window of `chunk` at a time; with `workers` > 1 a process pool decodes and crops each
window (`Pool.map` keeps the order, so the result is byte-identical to workers = 1). Memory is one window, not the
dataset: 3M LSUN images are never in memory at once.
"""

from __future__ import annotations

import contextlib
import itertools
import multiprocessing
from pathlib import Path
from typing import Any

import numpy as np

from ttur.data.npy import NpyStreamWriter
from ttur.data.recipes import Recipe, apply_recipe
from ttur.data.sources import ImageSource, Item, to_array
from ttur.errors import UserError
from ttur.io import atomic_path, write_json

IMAGES = "images.npy"
MANIFEST = "manifest.json"


def _prepare_one(job: tuple[Recipe, Item]) -> np.ndarray:
    recipe, item = job
    return apply_recipe(recipe, to_array(item))


def write_images(
    dataset: str,
    source: ImageSource,
    recipe: Recipe,
    split: str,
    sources: list[dict[str, str]],
    out: Path,
    workers: int = 1,
    chunk: int = 1024,
) -> Path:
    """Stream `source` through `recipe` into out/images.npy, then write out/manifest.json; returns the manifest path."""
    if recipe.size is None:
        raise UserError(f"recipe {recipe.name} has no output size")
    if workers < 1:
        raise UserError(f"--workers must be at least 1 (got {workers})")
    shape = (source.count, recipe.size, recipe.size, 3)
    (out / MANIFEST).unlink(missing_ok=True)  # the old manifest must not vouch for a new, half-written file
    with contextlib.ExitStack() as stack:
        pool = stack.enter_context(multiprocessing.get_context("spawn").Pool(workers)) if workers > 1 else None
        tmp = stack.enter_context(atomic_path(out / IMAGES))
        writer = NpyStreamWriter(tmp, shape, np.dtype(np.uint8))
        items = source.items()
        while window := list(itertools.islice(items, chunk)):
            if writer.rows + len(window) > source.count:
                raise UserError(f"{dataset}: the source holds more than the {source.count} images it announced")
            jobs = [(recipe, item) for item in window]
            prepared = pool.map(_prepare_one, jobs, chunksize=16) if pool else [_prepare_one(job) for job in jobs]
            writer.write(np.stack(prepared))
            if writer.rows % (chunk * 50) == 0:
                print(f"{dataset}: {writer.rows}/{source.count} images", flush=True)
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
