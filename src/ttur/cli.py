"""The `ttur` command line: one subcommand per pipeline step, each registered by its own module."""

from __future__ import annotations

import argparse
import importlib
import sys

from ttur.errors import UserError

# Each module exposes `register(subparsers)`, adding its subcommands with `set_defaults(func=handler)`.
# Handlers take the parsed namespace and return an exit code. Modules import heavy libraries lazily.
COMMAND_MODULES = (
    "ttur.commands.data",
    "ttur.commands.fid",
    "ttur.commands.jsd",
    "ttur.commands.train",
    "ttur.commands.report",
    "ttur.commands.disturb",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ttur", description=__doc__)
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except UserError as error:
        print(f"ttur {args.command}: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
