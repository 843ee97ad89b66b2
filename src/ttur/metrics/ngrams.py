"""Character n-gram counts packed into sorted integer keys: the compact real-corpus model behind the JSD metric.

An n-gram of token ids is a base-V number (V = vocabulary size). When V**n fits in 64 bits the n-gram is one uint64
key; otherwise it is two uint64 words (the first `head` tokens, then the remaining `tail` tokens), compared
lexicographically. Keys are kept sorted and unique with int64 counts, so lookups are `np.searchsorted` and counting
is a sort: no Python dictionaries over n-grams.
"""

from __future__ import annotations

import json
import os
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ttur.io import atomic_path

FORMAT = "ttur-ngrams-v1"
MAX_VOCAB = 1 << 16  # token ids are uint16 in prepared datasets; keeps every n <= 8 within two words
DEFAULT_CHUNK_LINES = 1 << 14  # lines packed at once: ~3.5 MB of 6-gram keys for 32-token lines
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
        if tokens.dtype.kind == "i":  # callers have checked that ids are non-negative
            tokens = tokens.astype(np.uint32)
        base = np.uint64(max(self.vocab_size, 2))
        words = []
        for start, stop in ((0, self.head), (self.head, self.n))[: self.words]:
            acc = tokens[:, start : start + positions].astype(np.uint64)
            for k in range(start + 1, stop):
                acc *= base
                acc += tokens[:, k : k + positions]
            words.append(acc.reshape(-1))
        return words[0].reshape(-1, 1) if self.words == 1 else np.stack(words, axis=1)


_TWO_WORDS = np.dtype([("w0", "=u8"), ("w1", "=u8")])


def searchable(keys: np.ndarray) -> np.ndarray:
    """A 1-D view of (K × words) keys whose order is the rows' lexicographic order, for `np.searchsorted`."""
    keys = np.ascontiguousarray(keys)
    return keys[:, 0] if keys.shape[1] == 1 else keys.view(_TWO_WORDS).reshape(-1)


def _count_sorted(keys: np.ndarray, layout: KeyLayout, count_dtype: type) -> tuple[np.ndarray, np.ndarray]:
    """Sorted distinct rows of freshly packed `keys` and their counts; one-word keys are sorted in place."""
    if layout.words == 1:
        flat = keys.reshape(-1)
        flat.sort()
        boundary = np.empty(len(flat), dtype=bool)
        boundary[:1] = True
        np.not_equal(flat[1:], flat[:-1], out=boundary[1:])
        starts = np.flatnonzero(boundary)
        del boundary
        counts = np.empty(len(starts), dtype=count_dtype)
        counts[:-1] = starts[1:] - starts[:-1]
        counts[-1:] = len(flat) - starts[-1:]
        return flat[starts].reshape(-1, 1), counts
    # Two words: fuse (rank of word 0, word 1) into one uint64 with the same order, count, then split again.
    if len(keys) * layout.tail_base > _U64_LIMIT:
        raise ValueError(f"too many {layout.n}-grams ({len(keys)}) in one chunk; use smaller chunks")
    firsts, ranks = np.unique(keys[:, 0], return_inverse=True)
    tail_base = np.uint64(layout.tail_base)
    fused, counts = np.unique(ranks.reshape(-1).astype(np.uint64) * tail_base + keys[:, 1], return_counts=True)
    out = np.empty((len(fused), 2), dtype=np.uint64)
    out[:, 0] = firsts[(fused // tail_base).astype(np.intp)]
    out[:, 1] = fused % tail_base
    return out, counts.astype(count_dtype)


def _absorb(
    keys: np.ndarray, counts: np.ndarray, new_keys: np.ndarray, new_counts: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Add the counts of new keys already in the sorted table in place; return the others and their insertion points."""
    index = np.searchsorted(searchable(keys), searchable(new_keys))
    seen = index < len(keys)
    seen[seen] = searchable(keys)[index[seen]] == searchable(new_keys)[seen]
    counts[index[seen]] += new_counts[seen]  # new keys are distinct, so these indices are too
    fresh = ~seen
    return new_keys[fresh], new_counts[fresh], index[fresh]


def _insert_copy(
    keys: np.ndarray, counts: np.ndarray, new_keys: np.ndarray, new_counts: np.ndarray, index: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """A new sorted table with disjoint `new_keys` inserted at their insertion points `index`."""
    position = index + np.arange(len(index))
    from_old = np.ones(len(keys) + len(index), dtype=bool)
    from_old[position] = False
    merged_keys = np.empty((len(from_old), keys.shape[1]), dtype=np.uint64)
    merged_keys[position] = new_keys
    merged_keys[from_old] = keys
    merged_counts = np.empty(len(from_old), dtype=counts.dtype)
    merged_counts[position] = new_counts
    merged_counts[from_old] = counts
    return merged_keys, merged_counts


_MOVE_BLOCK = 1 << 17  # rows moved at once when the table grows: ~4 MB of temporaries


def _insert_in_place(
    keys: np.ndarray, counts: np.ndarray, new_keys: np.ndarray, new_counts: np.ndarray, index: np.ndarray
) -> None:
    """Grow the table (realloc) and insert disjoint `new_keys`, moving old rows backwards block by block.

    Old row i moves to i + (number of new keys inserted at or before it); walking from the end, every target lies
    beyond the rows not yet moved, so the only extra memory is one block.
    """
    old = len(keys)
    keys.resize((old + len(index), keys.shape[1]), refcheck=False)
    counts.resize(old + len(index), refcheck=False)
    for stop in range(old, 0, -_MOVE_BLOCK):
        start = max(0, stop - _MOVE_BLOCK)
        # Row r moves by #{index <= r} = #{index < start} + running count of insertions within the block.
        below, within = np.searchsorted(index, [start, stop])
        if within == 0:
            break  # shifts only grow with the row: nothing before this block moves either
        target = np.bincount(index[below:within] - start, minlength=stop - start).cumsum()
        target += below + np.arange(start, stop)
        keys[target] = keys[start:stop].copy()
        counts[target] = counts[start:stop].copy()
    position = index + np.arange(len(index))
    keys[position] = new_keys
    counts[position] = new_counts


class _CountTable:
    """Sorted distinct (keys, counts) that grows in place; unseen keys wait in a side table up to 1/8 of its size."""

    def __init__(self, words: int, count_dtype: type) -> None:
        self.keys = np.empty((0, words), dtype=np.uint64)
        self.counts = np.empty(0, dtype=count_dtype)
        self.side_keys = np.empty((0, words), dtype=np.uint64)
        self.side_counts = np.empty(0, dtype=count_dtype)

    def add(self, keys: np.ndarray, counts: np.ndarray) -> None:
        """Add a sorted distinct (keys, counts) run."""
        keys, counts, _ = _absorb(self.keys, self.counts, keys, counts)
        keys, counts, index = _absorb(self.side_keys, self.side_counts, keys, counts)
        self.side_keys, self.side_counts = _insert_copy(self.side_keys, self.side_counts, keys, counts, index)
        if 8 * len(self.side_keys) >= len(self.keys):
            self.flush()

    def flush(self) -> None:
        index = np.searchsorted(searchable(self.keys), searchable(self.side_keys))
        _insert_in_place(self.keys, self.counts, self.side_keys, self.side_counts, index)
        self.side_keys = self.side_keys[:0].copy()
        self.side_counts = self.side_counts[:0].copy()


def count_ngrams(
    tokens: np.ndarray, n: int, vocab_size: int, chunk_lines: int = DEFAULT_CHUNK_LINES
) -> tuple[np.ndarray, np.ndarray]:
    """Sorted distinct packed n-grams of a (lines × L) token array and their counts, built chunk by chunk.

    Each chunk is packed, sorted and counted, then added to a table that grows in place, so the peak memory stays
    near the size of the result plus one chunk. Counts are uint32 when the number of n-gram occurrences fits
    (always at One Billion Word scale), else uint64.
    """
    layout = KeyLayout.for_ngram(vocab_size, n)
    if chunk_lines < 1:
        raise ValueError(f"chunk_lines must be positive, got {chunk_lines}")
    occurrences = len(tokens) * max(tokens.shape[1] - n + 1, 0)
    table = _CountTable(layout.words, np.uint32 if occurrences <= np.iinfo(np.uint32).max else np.uint64)
    for start in range(0, len(tokens), chunk_lines):
        packed = layout.pack(np.asarray(tokens[start : start + chunk_lines]))
        run = _count_sorted(packed, layout, table.counts.dtype.type)
        del packed
        table.add(*run)
        del run
    table.flush()
    return table.keys, table.counts


@dataclass
class NgramModel:
    """Counts of every n-gram order 1..max_n of a corpus: sorted packed keys (K × words uint64), uint counts."""

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
        """Read a model written by `save`; raises ValueError if the file is not one or is damaged."""
        try:
            return cls._read(path)
        except zipfile.BadZipFile as error:  # truncated archive or bad CRC: a BadZipFile, which is not a ValueError
            raise ValueError(f"{path} is damaged ({error})") from error

    @classmethod
    def _read(cls, path: str | os.PathLike[str]) -> NgramModel:
        data = np.load(Path(path), allow_pickle=False)
        if not isinstance(data, np.lib.npyio.NpzFile):
            raise ValueError(f"{path} is not an n-gram model written by `ttur ngrams` ({FORMAT})")
        with data:
            if "format" not in data.files or str(data["format"]) != FORMAT:
                raise ValueError(f"{path} is not an n-gram model written by `ttur ngrams` ({FORMAT})")
            max_n = int(data["max_n"])
            keys = {n: np.ascontiguousarray(data[f"keys{n}"], dtype=np.uint64) for n in range(1, max_n + 1)}
            counts = {n: data[f"counts{n}"] for n in range(1, max_n + 1)}
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
