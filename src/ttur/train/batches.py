"""Training mini-batches: a seeded shuffle per epoch, full batches only, delivered as tensors on the device.

The reference shuffles with an unseeded RNG; here epoch e is ordered by a permutation seeded with (seed, e), so
the data position (epoch, batch) is the whole state of the data stream and a resumed run reads the same batches.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from ttur.errors import UserError
from ttur.train.seeds import DATA_STREAM, derive_seed


@dataclass
class Prepared:
    """What training needs from a prepared dataset: images (N×H×W×3 uint8) or tokens (N×L) with their charmap."""

    kind: str  # "images" | "text"
    array: np.ndarray
    charmap: list[str] | None
    manifest: dict[str, Any]


def open_prepared(path: Path) -> Prepared:
    """Open a prepared dataset folder through `ttur.data.load_prepared` (memory-mapped, never fully read)."""
    from ttur.data import load_prepared

    prepared = load_prepared(Path(path))
    if hasattr(prepared, "tokens"):
        return Prepared("text", prepared.tokens, list(prepared.charmap), dict(prepared.manifest))
    return Prepared("images", prepared.array, None, dict(prepared.manifest))


class EpochOrder:
    """Which rows form the next batch: epoch e is permutation(seed, e) cut into len // batch_size full batches."""

    def __init__(self, count: int, batch_size: int, seed: int) -> None:
        if count < batch_size:
            raise UserError(f"the dataset has {count} examples, fewer than one batch of {batch_size}; use more data")
        self.count = count
        self.batch_size = batch_size
        self.seed = seed
        self.per_epoch = count // batch_size  # the last partial batch is dropped, as in the reference
        self.epoch = 0
        self.batch = 0
        self._permutation: np.ndarray | None = None

    def next_indices(self) -> np.ndarray:
        """Row indices of the next batch, sorted (a batch is a set; sorted reads are kinder to a memory map)."""
        if self._permutation is None:
            rng = np.random.default_rng(derive_seed(self.seed, DATA_STREAM, self.epoch))
            self._permutation = rng.permutation(self.count)
        start = self.batch * self.batch_size
        indices = np.sort(self._permutation[start : start + self.batch_size])
        self.batch += 1
        if self.batch == self.per_epoch:
            self.epoch, self.batch, self._permutation = self.epoch + 1, 0, None
        return indices

    def state_dict(self) -> dict[str, int]:
        return {"epoch": self.epoch, "batch": self.batch}

    def load_state_dict(self, state: dict[str, int]) -> None:
        if state["batch"] != self.batch or state["epoch"] != self.epoch:
            self._permutation = None
        self.epoch, self.batch = int(state["epoch"]), int(state["batch"])


def _to_device(array: np.ndarray, device: torch.device) -> torch.Tensor:
    """Host array -> device tensor; through pinned memory on CUDA so the copy does not stall queued kernels."""
    tensor = torch.from_numpy(np.ascontiguousarray(array))
    if device.type == "cuda":
        return tensor.pin_memory().to(device, non_blocking=True)
    return tensor.to(device)


class ImageBatches:
    """uint8 N×H×W×3 rows -> float N×3×H×W in [-1, 1] (x / 127.5 − 1) on the device."""

    def __init__(self, images: np.ndarray, order: EpochOrder, device: torch.device, channels_last: bool) -> None:
        self.images = images
        self.order = order
        self.device = device
        self.channels_last = channels_last

    def next(self) -> torch.Tensor:
        pixels = _to_device(self.images[self.order.next_indices()], self.device)
        batch = pixels.permute(0, 3, 1, 2)  # NHWC storage is exactly a channels-last NCHW tensor
        if not self.channels_last:
            batch = batch.contiguous()  # transposed as uint8: a quarter of the bytes of a float copy
        return batch.float().div_(127.5).sub_(1.0)


class TextBatches:
    """Token rows N×L -> one-hot float N×L×V on the device (the critic's view of real text)."""

    def __init__(self, tokens: np.ndarray, vocab_size: int, order: EpochOrder, device: torch.device) -> None:
        self.tokens = tokens
        self.vocab_size = vocab_size
        self.order = order
        self.device = device

    def next(self) -> torch.Tensor:
        ids = _to_device(self.tokens[self.order.next_indices()].astype(np.int64), self.device)
        return F.one_hot(ids, self.vocab_size).float()
