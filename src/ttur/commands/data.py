"""`ttur download` and `ttur prepare`: raw files in, verified; prepared arrays out."""

from __future__ import annotations

import argparse
from pathlib import Path

from ttur.data.registry import DATASETS

DATASET_NAMES = tuple(DATASETS)


def register(subparsers: argparse._SubParsersAction) -> None:
    download = subparsers.add_parser(
        "download",
        help="fetch, verify and record the raw files of a dataset (or generate a smoke dataset)",
        description="Fetch the official files (user mirrors first, then the official URLs), resume interrupted "
        "transfers, verify every file against its published checksum, and write RAW_DIR/download.json last.",
    )
    download.add_argument("dataset", choices=DATASET_NAMES)
    download.add_argument("--out", type=Path, required=True, metavar="RAW_DIR")
    download.add_argument(
        "--mirror", action="append", default=[], metavar="URL", help="base URL holding the files (repeatable)"
    )
    download.add_argument(
        "--local", type=Path, metavar="PATH", help="folder (or file) you already have: verified and linked, no network"
    )
    download.add_argument("--seed", type=int, default=0, help="generated datasets only")
    download.add_argument("--count", type=int, help="generated datasets only: images or lines")
    download.add_argument("--retries", type=int, default=3, help="attempts per mirror after the first (resuming)")
    download.set_defaults(func=run_download)

    prepare = subparsers.add_parser(
        "prepare",
        help="turn a raw download into images.npy or tokens.npy + manifest.json",
        description="Stream the raw files through the crop/resize recipe (images) or the charmap encoder (text).",
    )
    prepare.add_argument("dataset", choices=DATASET_NAMES)
    prepare.add_argument("--raw", type=Path, required=True, metavar="RAW_DIR")
    prepare.add_argument("--out", type=Path, required=True, metavar="PREP_DIR")
    prepare.add_argument("--recipe", help="images: carpedm20, carpedm20-nobytescale, began, center-square, native32")
    prepare.add_argument("--split", help="default: the paper's (celeba: all; others: train)")
    prepare.add_argument("--max-lines", type=int, help="text: first N lines (default 10,000,000 as the paper)")
    prepare.add_argument("--seq-len", type=int, help="text: characters per line (default 32)")
    prepare.add_argument("--workers", type=int, default=1, help="images: decoding processes (same output as 1)")
    prepare.set_defaults(func=run_prepare)


def run_download(args: argparse.Namespace) -> int:
    from ttur.data.download import download_dataset

    download_dataset(
        args.dataset,
        args.out,
        mirrors=args.mirror,
        local=args.local,
        seed=args.seed,
        count=args.count,
        retries=args.retries,
    )
    return 0


def run_prepare(args: argparse.Namespace) -> int:
    from ttur.data.prepare import prepare_dataset

    prepare_dataset(
        args.dataset,
        args.raw,
        args.out,
        recipe=args.recipe,
        split=args.split,
        max_lines=args.max_lines,
        seq_len=args.seq_len,
        workers=args.workers,
    )
    return 0
