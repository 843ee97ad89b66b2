"""`ttur train`: one training run (flags generated from TrainSettings; docs/training.md)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    from ttur.train.settings import add_arguments

    parser = subparsers.add_parser(
        "train",
        help="train one GAN run with in-process FID/JSD evaluation (resumable)",
        description="Train one run into RUN_DIR: metrics.csv, run.json, samples/, generator snapshots. "
        "Resumes from RUN_DIR/.resume/ if present; SIGTERM saves the state and exits 143.",
    )
    parser.add_argument("--out", type=Path, required=True, help="run directory")
    add_arguments(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ttur.train import TrainingInterrupted, train
    from ttur.train.settings import settings_from_args

    settings = settings_from_args(args)
    try:
        train(settings, args.out)
    except TrainingInterrupted as stopped:
        print(f"[ttur train] {stopped}", file=sys.stderr, flush=True)
        return stopped.exit_code
    return 0
