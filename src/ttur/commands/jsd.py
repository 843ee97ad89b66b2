"""`ttur ngrams` (the real corpus's n-gram model, built once per prepared dataset) and `ttur jsd` (JSD per n)."""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

from ttur.errors import UserError

PAD = "`"  # the reference pads every line to the sequence length with backticks
UNK = "unk"  # token 0 of every charmap, as in the reference's load_dataset
DEFAULT_SEQ_LEN = 32
_LINES_PER_BLOCK = 1 << 17


def register(subparsers: argparse._SubParsersAction) -> None:
    ngrams = subparsers.add_parser(
        "ngrams",
        help="count the n-grams (n = 1..max-n) of a prepared text dataset into a reusable model",
        description="Reads PREP_DIR/tokens.npy and charmap.json and writes the real corpus's n-gram model (.npz).",
    )
    ngrams.add_argument("prep_dir", type=Path, metavar="PREP_DIR", help="prepared text dataset (from `ttur prepare`)")
    ngrams.add_argument("out", type=Path, metavar="OUT.npz", help="where to write the model")
    ngrams.add_argument("--max-n", type=int, default=6, help="largest n-gram order (default 6, as the reference)")
    ngrams.set_defaults(func=run_ngrams)

    jsd = subparsers.add_parser(
        "jsd",
        help="Jensen-Shannon divergence (bits) between the character n-grams of two corpora",
        description="REAL and FAKE are text files, one sequence a line (REAL may be a model from `ttur ngrams`). "
        "Lines are truncated to --seq-len characters and padded with '`', as the training data is.",
    )
    jsd.add_argument("real", type=Path, metavar="REAL", help="text file, or .npz model from `ttur ngrams`")
    jsd.add_argument("fake", type=Path, metavar="FAKE", help="text file of generated sequences")
    jsd.add_argument(
        "--n", type=int, action="append", dest="ns", metavar="N", help="n-gram order; repeatable (default 4 and 6)"
    )
    jsd.add_argument("--seq-len", type=int, default=None, help="characters per line (default: the model's, else 32)")
    jsd.add_argument("--json", action="store_true", help='print one JSON object such as {"jsd4": 0.35}')
    jsd.set_defaults(func=run_jsd)


def run_ngrams(args: argparse.Namespace) -> int:
    from ttur.io import sha256_file
    from ttur.metrics.ngrams import build_ngram_model

    tokens_path, charmap_path = args.prep_dir / "tokens.npy", args.prep_dir / "charmap.json"
    for path in (tokens_path, charmap_path):
        if not path.is_file():
            raise UserError(f"{path} does not exist; run `ttur prepare` for this text dataset first")
    if args.max_n < 1:
        raise UserError(f"--max-n must be at least 1, got {args.max_n}")
    try:
        tokens = np.load(tokens_path, mmap_mode="r")
        charmap = json.loads(charmap_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise UserError(
            f"cannot read the prepared dataset in {args.prep_dir} ({error}); re-run `ttur prepare`"
        ) from None
    if not isinstance(charmap, list) or not all(isinstance(c, str) for c in charmap):
        raise UserError(f"{charmap_path} must be a JSON list of strings (index = token id); re-run `ttur prepare`")
    try:
        model = build_ngram_model(tokens, args.max_n, charmap=charmap)
    except ValueError as error:
        raise UserError(f"{tokens_path}: {error}; re-run `ttur prepare`") from None
    model.meta = {"source": str(args.prep_dir), "tokens_sha256": sha256_file(tokens_path), "lines": len(tokens)}
    model.save(args.out)
    for n in range(1, model.max_n + 1):
        print(f"{n}-grams: {len(model.counts[n])} distinct of {model.total(n)}")
    print(f"wrote {args.out}")
    return 0


def run_jsd(args: argparse.Namespace) -> int:
    from ttur.metrics.jsd import JsdEvaluator, build_ngram_model
    from ttur.metrics.ngrams import NgramModel

    ns = sorted(set(args.ns or [4, 6]))
    if ns[0] < 1:
        raise UserError(f"--n must be at least 1, got {ns[0]}")
    if args.seq_len is not None and args.seq_len < 1:
        raise UserError(f"--seq-len must be at least 1, got {args.seq_len}")
    if args.real.suffix == ".npz":
        try:
            real = NgramModel.load(args.real)
        except (OSError, ValueError, KeyError) as error:
            raise UserError(
                f"cannot read the n-gram model {args.real} ({error}); rebuild it with `ttur ngrams`"
            ) from None
        if real.charmap is None:
            raise UserError(f"{args.real} stores no charmap; rebuild it with `ttur ngrams PREP_DIR OUT.npz`")
        seq_len = args.seq_len or real.seq_len or DEFAULT_SEQ_LEN
        if real.seq_len is not None and seq_len != real.seq_len:
            raise UserError(f"--seq-len {seq_len} differs from the model's {real.seq_len}; omit --seq-len")
        if ns[-1] > real.max_n:
            raise UserError(f"--n {ns[-1]} exceeds the model's largest order {real.max_n}; rebuild with --max-n")
        _check_order(ns, seq_len)
        fake = encode_file(args.fake, seq_len, real.charmap)
    else:
        seq_len = args.seq_len or DEFAULT_SEQ_LEN
        _check_order(ns, seq_len)
        charmap = shared_charmap([args.real, args.fake], seq_len)
        real = build_ngram_model(encode_file(args.real, seq_len, charmap), ns[-1], charmap=charmap)
        fake = encode_file(args.fake, seq_len, charmap)
    result = JsdEvaluator(real, ns).evaluate(fake)
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key} {value!r}")
    return 0


def _check_order(ns: Sequence[int], seq_len: int) -> None:
    if seq_len < ns[-1]:
        raise UserError(f"--n {ns[-1]} is longer than the sequences ({seq_len} characters); lower --n")


def _lines(path: Path) -> Iterator[str]:
    """The file's lines without their newline (universal newlines, UTF-8), like the reference's `line[:-1]`."""
    if not path.is_file():
        raise UserError(f"{path} does not exist; pass a text file with one sequence a line")
    try:
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                yield line[:-1] if line.endswith("\n") else line
    except UnicodeDecodeError as error:
        raise UserError(f"{path} is not UTF-8 text ({error.reason} at byte {error.start}); convert it") from None


def _blocks(path: Path, seq_len: int) -> Iterator[list[str]]:
    """Lines truncated to seq_len characters and padded with backticks, in blocks."""
    block: list[str] = []
    for line in _lines(path):
        block.append(line[:seq_len].ljust(seq_len, PAD))
        if len(block) == _LINES_PER_BLOCK:
            yield block
            block = []
    if block:
        yield block


def shared_charmap(paths: Sequence[Path], seq_len: int) -> list[str]:
    """["unk", then every character of the (truncated, padded) lines of all files, sorted]: one id per character."""
    chars = {PAD}
    for path in paths:
        for block in _blocks(path, seq_len):
            chars.update("".join(block))
    if len(chars) + 1 > 1 << 16:
        raise UserError(f"the files hold {len(chars)} distinct characters; at most 65,535 are supported")
    return [UNK, *sorted(chars)]


def encode_file(path: Path, seq_len: int, charmap: Sequence[str]) -> np.ndarray:
    """(lines × seq_len) uint16 token ids; characters outside the charmap become 0 ("unk"), as in the reference."""
    lookup = np.zeros(0x110000, dtype=np.uint16)
    for token, char in enumerate(charmap):
        if token > 0 and len(char) == 1:
            lookup[ord(char)] = token
    parts = []
    for block in _blocks(path, seq_len):
        codes = np.frombuffer("".join(block).encode("utf-32-le"), dtype="<u4")
        parts.append(lookup[codes].reshape(len(block), seq_len))
    if not parts:
        raise UserError(f"{path} holds no lines; pass a file with one sequence a line")
    return np.concatenate(parts)
