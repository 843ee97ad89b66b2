"""Feature statistics: streamed mean and covariance, and the `.npz` + `.json` files that hold them.

The `.npz` has exactly the keys `mu` and `sigma` (float64), like the files published with TTUR and written by
pytorch-fid, so those load unchanged; provenance goes into a JSON sidecar next to it.
"""

from __future__ import annotations

import json
import warnings
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ttur.errors import UserError
from ttur.io import atomic_path, write_json


class StreamingMoments:
    """Mean and unbiased (N-1) covariance of feature vectors fed in batches, in float64 on `device`.

    Batches are merged with Chan et al.'s pairwise update (each batch centred on its own mean), which avoids the
    cancellation of a raw sum-of-squares and keeps memory at two dim×dim float64 buffers whatever N is.
    """

    def __init__(self, dim: int, device: torch.device) -> None:
        self.dim = dim
        self.device = torch.device(device)
        self.n = 0
        self.mean = torch.zeros(dim, dtype=torch.float64, device=self.device)
        self.scatter = torch.zeros(dim, dim, dtype=torch.float64, device=self.device)

    def update(self, features: torch.Tensor) -> None:
        x = torch.as_tensor(features).to(device=self.device, dtype=torch.float64)
        if x.dim() != 2 or x.shape[1] != self.dim:
            raise ValueError(f"expected features of shape (N, {self.dim}), got {tuple(x.shape)}")
        count = x.shape[0]
        if count == 0:
            return
        batch_mean = x.mean(dim=0)
        centred = x - batch_mean
        total = self.n + count
        delta = batch_mean - self.mean
        self.scatter.addmm_(centred.T, centred)
        self.scatter.addr_(delta, delta, alpha=self.n * count / total)
        self.mean.add_(delta, alpha=count / total)
        self.n = total

    def finalize(self) -> tuple[torch.Tensor, torch.Tensor, int]:
        """Return (mu, sigma, n); sigma divides by n-1 like np.cov. Warns when n < dim (sigma is then singular)."""
        if self.n < 2:
            raise ValueError(f"a covariance needs at least 2 feature vectors, got {self.n}")
        if self.n < self.dim:
            warnings.warn(
                f"{self.n} samples for {self.dim}-d features: the covariance is singular and FID is biased upwards; "
                f"use at least {self.dim} (TTUR recommends 10,000 or more)",
                stacklevel=2,
            )
        sigma = (self.scatter + self.scatter.T) / (2 * (self.n - 1))
        return self.mean.clone(), sigma, self.n


def sidecar_path(path: Path) -> Path:
    """`x.npz` -> `x.json`: where the provenance of a statistics file lives."""
    return Path(path).with_suffix(".json")


def _as_numpy(array: torch.Tensor | np.ndarray) -> np.ndarray:
    if torch.is_tensor(array):
        array = array.detach().cpu().numpy()
    return np.asarray(array, dtype=np.float64)


def save_stats(
    path: Path, mu: torch.Tensor | np.ndarray, sigma: torch.Tensor | np.ndarray, meta: dict[str, Any]
) -> None:
    """Write `path` (.npz with mu, sigma as float64) and its .json sidecar, each atomically, the sidecar first.

    Writing the sidecar first means an existing `.npz` always has its provenance next to it.
    """
    path = Path(path)
    if path.suffix != ".npz":
        raise UserError(f"statistics file {path} must end in .npz")
    mu_np, sigma_np = _as_numpy(mu), _as_numpy(sigma)
    _check_shapes(path, mu_np, sigma_np)
    write_json(sidecar_path(path), meta)
    with atomic_path(path) as tmp, open(tmp, "wb") as handle:
        np.savez(handle, mu=mu_np, sigma=sigma_np)


def _check_shapes(path: Path, mu: np.ndarray, sigma: np.ndarray) -> None:
    if mu.ndim != 1 or sigma.shape != (mu.shape[0], mu.shape[0]):
        raise UserError(
            f"statistics file {path} holds mu of shape {mu.shape} and sigma of shape {sigma.shape}; "
            "expected (d,) and (d, d): recompute it with `ttur stats`"
        )


def load_stats(path: Path) -> tuple[np.ndarray, np.ndarray, dict[str, Any] | None]:
    """Read (mu, sigma, sidecar or None) from a `.npz` with keys mu and sigma (ours, TTUR's or pytorch-fid's)."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"statistics file {path} does not exist; create it with `ttur stats SRC {path}`")
    try:
        data = np.load(path, allow_pickle=False)
        if not isinstance(data, np.lib.npyio.NpzFile):
            raise UserError(f"statistics file {path} is not an .npz archive; recreate it with `ttur stats`")
        with data:
            missing = {"mu", "sigma"} - set(data.files)
            if missing:
                raise UserError(
                    f"statistics file {path} lacks the key(s) {sorted(missing)} (has {data.files}); "
                    "FID statistics need 'mu' and 'sigma'"
                )
            mu = np.asarray(data["mu"], dtype=np.float64)
            sigma = np.asarray(data["sigma"], dtype=np.float64)
    except (OSError, ValueError, zipfile.BadZipFile) as error:  # BadZipFile: truncated or damaged archive
        raise UserError(f"cannot read statistics file {path} ({error}); recreate it with `ttur stats`") from error
    _check_shapes(path, mu, sigma)
    meta = None
    side = sidecar_path(path)
    if side.is_file():
        try:
            meta = json.loads(side.read_text())
        except json.JSONDecodeError as error:
            raise UserError(f"sidecar {side} is not valid JSON ({error}); delete it or recreate the stats") from error
    return mu, sigma, meta
