"""Streaming .npy writer: preallocate with open_memmap, then append row chunks with plain writes.

Writing through the file (not through one big mapping) keeps the process's resident memory at one chunk, whatever
the array size (LSUN: 3M x 64 x 64 x 3 = 37 GB). The sha256 of the finished file is computed on the way.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np


class NpyStreamWriter:
    """Fill an .npy of known shape and dtype row by row; `close()` checks it is full and returns its sha256."""

    def __init__(self, path: Path, shape: tuple[int, ...], dtype: np.dtype) -> None:
        array = np.lib.format.open_memmap(path, mode="w+", dtype=dtype, shape=shape)
        offset = int(array.offset)
        del array
        self.shape, self.dtype, self.rows = shape, np.dtype(dtype), 0
        self._handle = open(path, "r+b")  # noqa: SIM115 - closed in close()
        self._sha256 = hashlib.sha256(self._handle.read(offset))
        self._handle.seek(offset)

    def write(self, rows: np.ndarray) -> None:
        if rows.dtype != self.dtype or rows.shape[1:] != self.shape[1:]:
            raise ValueError(f"rows {rows.dtype}{rows.shape} do not fit {self.dtype}{self.shape}")
        if self.rows + len(rows) > self.shape[0]:
            raise ValueError(f"more than {self.shape[0]} rows written")
        data = np.ascontiguousarray(rows).tobytes()
        self._handle.write(data)
        self._sha256.update(data)
        self.rows += len(rows)

    def close(self) -> str:
        self._handle.close()
        if self.rows != self.shape[0]:
            raise ValueError(f"only {self.rows} of {self.shape[0]} rows were written")
        return self._sha256.hexdigest()
