"""`ttur prepare`: turn a verified raw download into the uniform prepared format (images.npy or tokens.npy)."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

from ttur.data import sources as src
from ttur.data.download import RECORD
from ttur.data.images import write_images
from ttur.data.recipes import get_recipe
from ttur.data.registry import dataset_spec
from ttur.data.synthetic import SHAPES_FOLDER
from ttur.data.text import read_lines, training_files, write_text_dataset
from ttur.errors import UserError
from ttur.io import sha256_file

PAPER_MAX_LINES = 10_000_000
VOCAB_SIZE = 2048


def prepare_dataset(
    dataset: str,
    raw: Path,
    out: Path,
    recipe: str | None = None,
    split: str | None = None,
    max_lines: int | None = None,
    seq_len: int | None = None,
    vocab_size: int = VOCAB_SIZE,
    workers: int = 1,
) -> Path:
    """Prepare `dataset` from RAW_DIR `raw` into `out`; returns the manifest path (written last).

    `workers` > 1 decodes and crops images in that many processes (same bytes as 1).
    """
    spec = dataset_spec(dataset)
    if not raw.is_dir():
        raise UserError(f"{raw} does not exist; run `ttur download {dataset} --out {raw}` first")
    split = spec.default_split if split is None else split
    if split not in spec.splits:
        raise UserError(f"{dataset} has no split {split!r}; choose one of {', '.join(spec.splits)}")
    out.mkdir(parents=True, exist_ok=True)
    scratch = out / ".scratch"
    shutil.rmtree(scratch, ignore_errors=True)
    try:
        if spec.kind == "text":
            if recipe is not None:
                raise UserError(f"--recipe applies to image datasets, not to {dataset}; drop it")
            max_lines = PAPER_MAX_LINES if max_lines is None else max_lines
            files, inputs = training_files(raw, scratch, dataset)
            lines = read_lines(files, max_lines)
            return write_text_dataset(
                dataset, lines, 32 if seq_len is None else seq_len, max_lines, vocab_size, _sources(raw, inputs), out
            )
        if max_lines is not None or seq_len is not None:
            raise UserError(f"--max-lines and --seq-len apply to text datasets, not to {dataset}; drop them")
        chosen = get_recipe(spec.default_recipe if recipe is None else recipe)
        if dataset == "cifar10":
            source = src.cifar10(raw, split)
        elif dataset == "svhn":
            source = src.svhn(raw, split)
        elif dataset == "celeba":
            source = src.celeba(raw, split)
        elif dataset == "lsun":
            source = src.lsun(raw, scratch)
        else:
            source = src.image_folder(raw, SHAPES_FOLDER, dataset)
        return write_images(dataset, source, chosen, split, _sources(raw, source.inputs), out, workers=workers)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _sources(raw: Path, inputs: tuple[Path, ...]) -> list[dict[str, str]]:
    """Manifest entries {path, sha256} for the raw inputs, taking the sha256 verified at download where recorded.

    A folder is summarised by the sha256 of its sorted "name<TAB>sha256" lines.
    """
    recorded: dict[str, str] = {}
    record = raw / RECORD
    if record.exists():
        recorded = {entry["name"]: entry["sha256"] for entry in json.loads(record.read_text())["files"]}
    entries = []
    for path in inputs:
        rel = path.relative_to(raw).as_posix()
        if path.is_dir():
            files = sorted(p for p in path.rglob("*") if p.is_file())
            lines = []
            for file in files:
                name = file.relative_to(raw).as_posix()
                lines.append(f"{name}\t{recorded.get(name) or sha256_file(file)}\n")
            digest = hashlib.sha256("".join(lines).encode()).hexdigest()
            entries.append({"path": rel + "/", "sha256": digest, "files": str(len(files))})
        else:
            entries.append({"path": rel, "sha256": recorded.get(rel) or sha256_file(path)})
    return entries
