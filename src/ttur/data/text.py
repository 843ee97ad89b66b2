"""Prepared text (One Billion Word, tinytext): tokens.npy (uint16 N x seq_len) + charmap.json + manifest.json.

As the reference `language_helpers.load_dataset` (spec §5.1, Python-3 port): the training files
news.en-000NN-of-00100 in name order, the first `max_lines` lines, each without its newline, cut to `seq_len`
characters and padded with the backtick. The charmap is ["unk"] plus the most frequent characters of those padded
lines, up to `vocab_size` entries in total; other characters become token 0. Differences, all for determinism: the
lines stay in file order (the reference shuffled them unseeded; the training job shuffles with its seed), and ties in
frequency go to the character seen first in file order (Counter.most_common on the unshuffled lines).
Two streaming passes over a scratch file of code points keep memory flat for 10M lines.
"""

from __future__ import annotations

import re
import shutil
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from ttur.data.npy import NpyStreamWriter
from ttur.errors import UserError
from ttur.io import atomic_path, sha256_file, write_json

TEXT_FOLDER = "training-monolingual.tokenized.shuffled"
TARBALL = "1-billion-word-language-modeling-benchmark-r13output.tar.gz"
TRAINING_FILE = re.compile(r"news\.en-\d{5}-of-00100")
PAD = "`"
UNK = "unk"
TOKENS, CHARMAP, MANIFEST = "tokens.npy", "charmap.json", "manifest.json"
_CHUNK_LINES = 1 << 16


def training_files(raw: Path, scratch: Path, dataset: str) -> tuple[list[Path], tuple[Path, ...]]:
    """The training files in name order, and the raw inputs they came from.

    A tarball in RAW_DIR is streamed once and its training files are extracted into `scratch` (the caller deletes
    it); otherwise an extracted `training-monolingual.tokenized.shuffled` folder in RAW_DIR (or one level down) is
    read in place.
    """
    tarball = raw / TARBALL
    if tarball.exists():
        scratch.mkdir(parents=True, exist_ok=True)
        with tarfile.open(tarball, "r|gz") as tar:
            for member in tar:
                parts = member.name.split("/")
                if (
                    member.isfile()
                    and len(parts) >= 2
                    and parts[-2] == TEXT_FOLDER
                    and TRAINING_FILE.fullmatch(parts[-1])
                ):
                    source = tar.extractfile(member)
                    assert source is not None
                    with source, open(scratch / parts[-1], "wb") as target:
                        shutil.copyfileobj(source, target, 1 << 22)
        folder, inputs = scratch, (tarball,)
    else:
        candidates = [raw / TEXT_FOLDER, *sorted(raw.glob(f"*/{TEXT_FOLDER}"))]
        folder = next((c for c in candidates if c.is_dir()), raw / TEXT_FOLDER)
        inputs = (folder,)
    files = sorted(p for p in folder.glob("news.en-*") if TRAINING_FILE.fullmatch(p.name)) if folder.is_dir() else []
    if not files:
        raise UserError(
            f"no training files news.en-NNNNN-of-00100 in {raw}; run `ttur download {dataset} --out {raw}` first"
        )
    return files, inputs


def read_lines(files: list[Path], max_lines: int) -> Iterator[str]:
    """The first `max_lines` lines of `files` in order, without newline (Python-3 text mode, UTF-8)."""
    n = 0
    for path in files:
        with open(path, encoding="utf-8", newline=None) as handle:
            for line in handle:
                if n == max_lines:
                    return
                yield line[:-1] if line.endswith("\n") else line
                n += 1


def encode_codepoints(lines: list[str], seq_len: int) -> np.ndarray:
    """Lines cut to `seq_len` characters and padded with the backtick, as code points (uint32 k x seq_len)."""
    padded = "".join(line[:seq_len].ljust(seq_len, PAD) for line in lines)
    return np.frombuffer(padded.encode("utf-32-le"), dtype="<u4").reshape(len(lines), seq_len)


def build_charmap(counts: dict[int, list[int]], vocab_size: int) -> list[str]:
    """["unk"] + the most frequent code points (ties: first seen), `vocab_size` entries at most."""
    ranked = sorted(counts.items(), key=lambda item: (-item[1][0], item[1][1]))
    return [UNK] + [chr(code) for code, _ in ranked[: vocab_size - 1]]


def write_text_dataset(
    dataset: str,
    lines: Iterator[str],
    seq_len: int,
    max_lines: int,
    vocab_size: int,
    sources: list[dict[str, str]],
    out: Path,
) -> Path:
    """Encode `lines` into out/tokens.npy + charmap.json, then write manifest.json last."""
    if seq_len < 1 or max_lines < 1:
        raise UserError(f"--seq-len and --max-lines must be positive (got {seq_len}, {max_lines})")
    (out / MANIFEST).unlink(missing_ok=True)
    counts: dict[int, list[int]] = {}  # code point -> [count, first flat position]
    n = 0
    scratch = out / ".codepoints.tmp"  # N x seq_len uint32 between the passes; always removed
    try:
        with open(scratch, "wb") as handle:  # pass 1: code points to scratch, character counts
            batch: list[str] = []
            for line in lines:
                batch.append(line)
                if len(batch) == _CHUNK_LINES:
                    n = _count_chunk(encode_codepoints(batch, seq_len), n, counts, handle)
                    batch = []
            if batch:
                n = _count_chunk(encode_codepoints(batch, seq_len), n, counts, handle)
        if n == 0:
            raise UserError(f"{dataset}: the training files hold no lines")
        charmap = build_charmap(counts, vocab_size)
        lookup = np.zeros(0x110000, dtype="<u2")
        lookup[[ord(char) for char in charmap[1:]]] = np.arange(1, len(charmap), dtype="<u2")
        with atomic_path(out / TOKENS) as tmp, open(scratch, "rb") as handle:  # pass 2: code points -> token ids
            writer = NpyStreamWriter(tmp, (n, seq_len), np.dtype("<u2"))
            for start in range(0, n, _CHUNK_LINES):
                k = min(_CHUNK_LINES, n - start)
                writer.write(lookup[np.fromfile(handle, dtype="<u4", count=k * seq_len).reshape(k, seq_len)])
            digest = writer.close()
    finally:
        scratch.unlink(missing_ok=True)
    write_json(out / CHARMAP, charmap)
    manifest: dict[str, Any] = {
        "dataset": dataset,
        "kind": "text",
        "count": n,
        "shape": [n, seq_len],
        "dtype": "uint16",
        "seq_len": seq_len,
        "vocab_size": len(charmap),
        "recipe": {
            "max_lines": max_lines,
            "seq_len": seq_len,
            "pad": PAD,
            "unk": UNK,
            "vocab_cap": vocab_size,
            "order": "training files in name order, lines in file order (not shuffled)",
            "charmap": "most frequent characters of the padded lines, ties by first occurrence",
        },
        "sources": sources,
        "file": TOKENS,
        "sha256": digest,
        "charmap_sha256": sha256_file(out / CHARMAP),
    }
    write_json(out / MANIFEST, manifest)
    print(f"{dataset}: wrote {n} lines x {seq_len}, vocabulary {len(charmap)}, to {out / TOKENS}", flush=True)
    return out / MANIFEST


def _count_chunk(codes: np.ndarray, start_line: int, counts: dict[int, list[int]], handle: Any) -> int:
    handle.write(codes.tobytes())
    unique, first, number = np.unique(codes.ravel(), return_index=True, return_counts=True)
    base = start_line * codes.shape[1]
    for code, position, count in zip(unique.tolist(), first.tolist(), number.tolist(), strict=True):
        if code in counts:
            counts[code][0] += count
        else:
            counts[code] = [count, base + position]
    return start_line + len(codes)
