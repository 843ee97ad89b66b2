"""Character n-gram counts packed into sorted integer keys: the compact real-corpus model behind the JSD metric.

An n-gram of token ids is a base-V number (V = vocabulary size). When V**n fits in 64 bits the n-gram is one uint64
key; otherwise it is two uint64 words (the first `head` tokens, then the remaining `tail` tokens), compared
lexicographically. Keys are kept sorted and unique with int64 counts, so lookups are `np.searchsorted` and counting
is a sort: no Python dictionaries over n-grams.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ttur.io import atomic_path

FORMAT = "ttur-ngrams-v1"
MAX_VOCAB = 1 << 16  # token ids are uint16 in prepared datasets; keeps every n <= 8 within two words
DEFAULT_CHUNK_LINES = 1 << 17  # lines packed at once: ~28 MB of 6-gram keys for 32-token lines
_U64_LIMIT = 1 << 64


@dataclass(frozen=True)
class KeyLayout:
    """How n tokens of a vocabulary of size V are packed: `head` tokens in word 0, `tail` tokens in word 1."""

    vocab_size: int
    n: int
    head: int
    tail: int

    @classmethod
    def for_ngram(cls, vocab_size: int, n: int) -> KeyLayout:
        if not 1 <= vocab_size <= MAX_VOCAB:
            raise ValueError(f"vocabulary size {vocab_size} is outside 1..{MAX_VOCAB}")
        if n < 1:
            raise ValueError(f"n-gram order must be at least 1, got {n}")
        base = max(vocab_size, 2)
        per_word = 1
        while base ** (per_word + 1) <= _U64_LIMIT:
            per_word += 1
        if n <= per_word:
            return cls(vocab_size, n, n, 0)
        if n - per_word > per_word:
            raise ValueError(f"{n}-grams over {vocab_size} symbols need more than two 64-bit words")
        return cls(vocab_size, n, per_word, n - per_word)

    @property
    def words(self) -> int:
        return 1 if self.tail == 0 else 2

    @property
    def tail_base(self) -> int:
        """V**tail: the range of word 1, used to fuse (rank of word 0, word 1) into one sortable uint64."""
        return max(self.vocab_size, 2) ** self.tail

    def pack(self, tokens: np.ndarray) -> np.ndarray:
        """All n-grams of a (lines × L) token array, line by line, as a (count × words) uint64 array."""
        lines, length = tokens.shape
        positions = length - self.n + 1
        if positions <= 0 or lines == 0:
            return np.empty((0, self.words), dtype=np.uint64)
        base = np.uint64(max(self.vocab_size, 2))
        wide = tokens.astype(np.uint64)
        keys = np.empty((lines, positions, self.words), dtype=np.uint64)
        for word, (start, stop) in enumerate(((0, self.head), (self.head, self.n))[: self.words]):
            acc = wide[:, start : start + positions].copy()
            for k in range(start + 1, stop):
                acc *= base
                acc += wide[:, k : k + positions]
            keys[:, :, word] = acc
        return keys.reshape(lines * positions, self.words)


def _fuse(keys: np.ndarray, layout: KeyLayout) -> tuple[np.ndarray, np.ndarray | None]:
    """One uint64 per row whose order is the rows' lexicographic order (two words: rank of word 0, then word 1)."""
    if layout.words == 1:
        return keys[:, 0], None
    if len(keys) * layout.tail_base > _U64_LIMIT:
        raise ValueError(f"too many {layout.n}-grams ({len(keys)}) to sort in one pass; use smaller chunks")
    firsts, ranks = np.unique(keys[:, 0], return_inverse=True)
    fused = ranks.astype(np.uint64).reshape(-1) * np.uint64(layout.tail_base) + keys[:, 1]
    return fused, firsts


def _unfuse(fused: np.ndarray, firsts: np.ndarray | None, layout: KeyLayout) -> np.ndarray:
    if firsts is None:
        return fused.reshape(-1, 1)
    tail_base = np.uint64(layout.tail_base)
    out = np.empty((len(fused), 2), dtype=np.uint64)
    out[:, 0] = firsts[(fused // tail_base).astype(np.intp)]
    out[:, 1] = fused % tail_base
    return out


def unique_counts(
    keys: np.ndarray, layout: KeyLayout, weights: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Sorted distinct rows of `keys` with their counts (each row weighted by `weights`, default 1)."""
    if len(keys) == 0:
        return np.empty((0, layout.words), dtype=np.uint64), np.empty(0, dtype=np.int64)
    fused, firsts = _fuse(keys, layout)
    if weights is None:
        distinct, counts = np.unique(fused, return_counts=True)
        return _unfuse(distinct, firsts, layout), counts.astype(np.int64)
    # Callers merge already-sorted runs; a stable sort (timsort) merges them in linear time.
    order = np.argsort(fused, kind="stable")
    ordered = fused[order]
    starts = np.flatnonzero(np.concatenate(([True], ordered[1:] != ordered[:-1])))
    counts = np.add.reduceat(weights[order].astype(np.int64), starts)
    return _unfuse(ordered[starts], firsts, layout), counts


def _merge(a: tuple[np.ndarray, np.ndarray], b: tuple[np.ndarray, np.ndarray], layout: KeyLayout):
    return unique_counts(np.concatenate((a[0], b[0])), layout, np.concatenate((a[1], b[1])))


def count_ngrams(
    tokens: np.ndarray, n: int, vocab_size: int, chunk_lines: int = DEFAULT_CHUNK_LINES
) -> tuple[np.ndarray, np.ndarray]:
    """Sorted distinct packed n-grams of a (lines × L) token array and their counts, built chunk by chunk.

    Chunk results are merged like a binary counter (merge while the newer run is at least half the older one),
    so each n-gram takes part in O(log chunks) merges and memory stays near the size of the result.
    """
    layout = KeyLayout.for_ngram(vocab_size, n)
    if chunk_lines < 1:
        raise ValueError(f"chunk_lines must be positive, got {chunk_lines}")
    runs: list[tuple[np.ndarray, np.ndarray]] = []
    for start in range(0, len(tokens), chunk_lines):
        chunk = np.asarray(tokens[start : start + chunk_lines])
        runs.append(unique_counts(layout.pack(chunk), layout))
        while len(runs) >= 2 and 2 * len(runs[-1][0]) >= len(runs[-2][0]):
            newer = runs.pop()
            runs.append(_merge(runs.pop(), newer, layout))
    while len(runs) >= 2:
        newer = runs.pop()
        runs.append(_merge(runs.pop(), newer, layout))
    if not runs:
        return unique_counts(np.empty((0, layout.words), dtype=np.uint64), layout)
    return runs[0]


@dataclass
class NgramModel:
    """Counts of every n-gram order 1..max_n of a corpus: sorted packed keys (K × words uint64) and int64 counts."""

    vocab_size: int
    max_n: int
    keys: dict[int, np.ndarray]
    counts: dict[int, np.ndarray]
    charmap: list[str] | None = None
    seq_len: int | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    def total(self, n: int) -> int:
        """Number of n-gram occurrences (the denominator of every probability)."""
        return int(self.counts[n].sum())

    def layout(self, n: int) -> KeyLayout:
        return KeyLayout.for_ngram(self.vocab_size, n)

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write an uncompressed .npz atomically; counts are stored as uint32 when they fit."""
        arrays: dict[str, np.ndarray] = {
            "format": np.array(FORMAT),
            "vocab_size": np.array(self.vocab_size, dtype=np.int64),
            "max_n": np.array(self.max_n, dtype=np.int64),
            "seq_len": np.array(-1 if self.seq_len is None else self.seq_len, dtype=np.int64),
            "totals": np.array([self.total(n) for n in range(1, self.max_n + 1)], dtype=np.int64),
            "charmap_json": _json_bytes(self.charmap),
            "meta_json": _json_bytes(self.meta),
        }
        for n in range(1, self.max_n + 1):
            counts = self.counts[n]
            small = len(counts) == 0 or int(counts.max()) <= np.iinfo(np.uint32).max
            arrays[f"keys{n}"] = self.keys[n]
            arrays[f"counts{n}"] = counts.astype(np.uint32 if small else np.uint64)
        with atomic_path(path) as tmp, open(tmp, "wb") as handle:
            np.savez(handle, **arrays)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> NgramModel:
        """Read a model written by `save`; raises ValueError if the file is not one."""
        with np.load(Path(path), allow_pickle=False) as data:
            if "format" not in data.files or str(data["format"]) != FORMAT:
                raise ValueError(f"{path} is not an n-gram model written by `ttur ngrams` ({FORMAT})")
            max_n = int(data["max_n"])
            keys = {n: np.ascontiguousarray(data[f"keys{n}"], dtype=np.uint64) for n in range(1, max_n + 1)}
            counts = {n: data[f"counts{n}"].astype(np.int64) for n in range(1, max_n + 1)}
            totals = data["totals"]
            seq_len = int(data["seq_len"])
            model = cls(
                vocab_size=int(data["vocab_size"]),
                max_n=max_n,
                keys=keys,
                counts=counts,
                charmap=json.loads(bytes(data["charmap_json"]).decode("utf-8")),
                seq_len=None if seq_len < 0 else seq_len,
                meta=json.loads(bytes(data["meta_json"]).decode("utf-8")) or {},
            )
        for n in range(1, max_n + 1):
            if model.total(n) != int(totals[n - 1]) or keys[n].shape[1] != model.layout(n).words:
                raise ValueError(f"{path} is damaged: the {n}-gram table does not match its header")
        return model


def _json_bytes(obj: Any) -> np.ndarray:
    return np.frombuffer(json.dumps(obj, ensure_ascii=False).encode("utf-8"), dtype=np.uint8)


def build_ngram_model(
    tokens: np.ndarray,
    max_n: int,
    vocab_size: int | None = None,
    charmap: Sequence[str] | None = None,
    chunk_lines: int = DEFAULT_CHUNK_LINES,
) -> NgramModel:
    """Count the n-grams (n = 1..max_n) of every line of a (lines × L) integer token array.

    Every token counts, the padding backtick included, as in the reference `NgramLanguageModel`. The vocabulary
    size is len(charmap), else `vocab_size`, else the largest id + 1. `tokens` may be a memory map; it is read
    `chunk_lines` lines at a time.
    """
    if tokens.ndim != 2 or not np.issubdtype(tokens.dtype, np.integer):
        raise ValueError(f"tokens must be a 2-D integer array, got {tokens.dtype} of shape {tokens.shape}")
    if max_n < 1:
        raise ValueError(f"max_n must be at least 1, got {max_n}")
    smallest, largest = token_range(tokens, chunk_lines)
    if charmap is not None:
        vocab_size = len(charmap)
    elif vocab_size is None:
        vocab_size = largest + 1
    if smallest < 0 or largest >= vocab_size:
        raise ValueError(f"token ids must lie in 0..{vocab_size - 1}, found {smallest}..{largest}")
    keys: dict[int, np.ndarray] = {}
    counts: dict[int, np.ndarray] = {}
    for n in range(1, max_n + 1):
        keys[n], counts[n] = count_ngrams(tokens, n, vocab_size, chunk_lines)
    return NgramModel(
        vocab_size=int(vocab_size),
        max_n=int(max_n),
        keys=keys,
        counts=counts,
        charmap=None if charmap is None else list(charmap),
        seq_len=int(tokens.shape[1]),
    )


def token_range(tokens: np.ndarray, chunk_lines: int = DEFAULT_CHUNK_LINES) -> tuple[int, int]:
    """(smallest, largest) token id, read chunk by chunk; (0, 0) for an empty array."""
    lows, highs = [0], [0]
    if tokens.size:
        lows, highs = [], []
        for start in range(0, len(tokens), chunk_lines):
            chunk = np.asarray(tokens[start : start + chunk_lines])
            lows.append(int(chunk.min()))
            highs.append(int(chunk.max()))
    return min(lows), max(highs)
