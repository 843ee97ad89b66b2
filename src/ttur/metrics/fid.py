"""The Fréchet Inception Distance: pixel quantization, the distance itself, and the in-training evaluator.

d² = ‖μ₁−μ₂‖² + tr Σ₁ + tr Σ₂ − 2 tr (Σ₁Σ₂)^½. With Σ₁ = B Bᵀ (B = V·diag(√w) from the symmetric eigen-
decomposition of Σ₁), Σ₁Σ₂ is similar to the symmetric positive semi-definite Bᵀ Σ₂ B, so
tr (Σ₁Σ₂)^½ = Σ √λ(Bᵀ Σ₂ B). B depends only on the real statistics: it is computed once per dataset
(`RealReference`) and each evaluation costs two matrix products and one symmetric eigenvalue problem, in float64.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ttur.errors import UserError
from ttur.metrics.features import FeatureExtractor
from ttur.metrics.stats import StreamingMoments, load_stats


class NonFiniteImagesError(ValueError):
    """Generated images hold NaN or infinity (a diverged generator); they have no uint8 value."""


def to_uint8(images: torch.Tensor, mode: str = "round") -> torch.Tensor:
    """Map generator output in [-1, 1] to uint8 pixels.

    "round": round half up after clamping, i.e. the bytes a saved PNG holds (torchvision's `save_image` does the same).
    "truncate": `((x+1)*127.5).astype(uint8)` of the WGAN-GP reference code, clamped first (tanh output is in range).
    """
    if not torch.isfinite(images).all():
        raise NonFiniteImagesError("generated images contain NaN or infinite values")
    scaled = (images.float() + 1.0) * 127.5
    if mode == "round":
        scaled = scaled + 0.5
    elif mode != "truncate":
        raise ValueError(f"unknown quantization mode '{mode}'; use 'round' or 'truncate'")
    return scaled.clamp_(0.0, 255.0).floor_().to(torch.uint8)


@dataclass(frozen=True)
class FidResult:
    """A Fréchet distance, or NaN together with a note that says why; `note` also carries caveats on valid values."""

    value: float
    note: str = ""


def _float64(array: torch.Tensor | np.ndarray, device: torch.device) -> torch.Tensor:
    return torch.as_tensor(np.asarray(array) if not torch.is_tensor(array) else array).to(device, torch.float64)


ASYMMETRY_TOLERANCE = 1e-4  # relative to the largest entry: well above float32 rounding of a 2048-term sum (~3e-6)


def _symmetric_part(sigma: torch.Tensor, which: str, notes: list[str]) -> torch.Tensor:
    """(Σ + Σᵀ)/2, with a note when Σ is asymmetric beyond rounding: then the distance is that of its symmetric part."""
    scale = float(sigma.abs().max()) if sigma.numel() else 0.0
    asymmetry = float((sigma - sigma.T).abs().max()) if sigma.numel() else 0.0
    if asymmetry > ASYMMETRY_TOLERANCE * scale:
        notes.append(
            f"{which} covariance is not symmetric (max |Σ-Σᵀ| = {asymmetry / scale:.3g} of its largest entry; "
            "not a covariance matrix?); its symmetric part was used"
        )
    return (sigma + sigma.T) / 2


def _noise_floor(eigenvalues: torch.Tensor) -> float:
    """Eigenvalues below this are rounding noise of a float64 eigensolver: treat them as exact zeros."""
    scale = float(eigenvalues.abs().max()) if eigenvalues.numel() else 0.0
    return scale * eigenvalues.numel() * float(torch.finfo(torch.float64).eps)


class RealReference:
    """The real statistics with the square-root factor of Σ₁ cached, ready for many distance evaluations."""

    def __init__(self, mu: torch.Tensor | np.ndarray, sigma: torch.Tensor | np.ndarray, device: torch.device) -> None:
        self.device = torch.device(device)
        self.mu = _float64(mu, self.device)
        sigma = _float64(sigma, self.device)
        self.dim = self.mu.shape[0]
        if sigma.shape != (self.dim, self.dim):
            raise ValueError(f"mu has {self.dim} entries but sigma has shape {tuple(sigma.shape)}")
        self.finite = bool(torch.isfinite(self.mu).all() and torch.isfinite(sigma).all())
        self.notes: list[str] = []
        if not self.finite:
            self.notes.append("the real statistics contain NaN or infinity")
            self.trace, self.factor, self.rank = float("nan"), sigma[:, :0], 0
            return
        sigma = _symmetric_part(sigma, "real", self.notes)
        self.trace = float(torch.trace(sigma))
        w, v = torch.linalg.eigh(sigma)
        floor = _noise_floor(w)
        if float(w.min()) < -floor:
            self.notes.append(
                f"real covariance is not positive semi-definite (eigenvalue {float(w.min()):.3g}); clipped"
            )
        keep = w > floor
        self.rank = int(keep.sum())
        if self.rank < self.dim:
            self.notes.append(f"real covariance is singular (rank {self.rank} of {self.dim})")
        self.factor = v[:, keep] * w[keep].sqrt()  # Σ₁ ≈ factor · factorᵀ

    def distance(self, mu: torch.Tensor | np.ndarray, sigma: torch.Tensor | np.ndarray) -> FidResult:
        """FID between the cached real statistics and (mu, sigma), float64 on this reference's device."""
        mu2, sigma2 = _float64(mu, self.device), _float64(sigma, self.device)
        if mu2.shape != self.mu.shape or sigma2.shape != (self.dim, self.dim):
            raise ValueError(
                f"statistics of dimension {tuple(mu2.shape)}/{tuple(sigma2.shape)} do not match the real {self.dim}-d"
            )
        notes = list(self.notes)
        if not self.finite:
            return FidResult(float("nan"), "; ".join(notes))
        if not (torch.isfinite(mu2).all() and torch.isfinite(sigma2).all()):
            return FidResult(float("nan"), "generated statistics contain NaN or infinity (diverged generator?)")
        sigma2 = _symmetric_part(sigma2, "generated", notes)
        inner = self.factor.T @ sigma2 @ self.factor
        lam = torch.linalg.eigvalsh((inner + inner.T) / 2)
        floor = _noise_floor(lam)
        if lam.numel() and float(lam.min()) < -floor:
            notes.append(f"generated covariance is not positive semi-definite (eigenvalue {float(lam.min()):.3g})")
        positive = lam > floor
        if int(positive.sum()) < self.rank:
            notes.append(
                f"generated covariance is singular on the real support (rank {int(positive.sum())} < {self.rank}): "
                "fewer samples than dimensions or mode collapse; FID is biased upwards"
            )
        trace_sqrt = float(lam[positive].sqrt().sum())
        diff = self.mu - mu2
        value = float(diff @ diff) + self.trace + float(torch.trace(sigma2)) - 2.0 * trace_sqrt
        if value < 0:
            notes.append(f"negative by {-value:.3g} through float64 rounding (the distributions are nearly equal)")
        return FidResult(value, "; ".join(notes))


def frechet_distance(
    mu1: torch.Tensor | np.ndarray,
    sigma1: torch.Tensor | np.ndarray,
    mu2: torch.Tensor | np.ndarray,
    sigma2: torch.Tensor | np.ndarray,
) -> FidResult:
    """FID between two Gaussians, float64, on the device of `sigma1` (CPU for numpy input); Σ₁ is the one factored."""
    device = sigma1.device if torch.is_tensor(sigma1) else torch.device("cpu")
    return RealReference(mu1, sigma1, device).distance(mu2, sigma2)


def check_stats_match(meta: dict | None, extractor: FeatureExtractor, stats: Path, dim: int) -> None:
    """Refuse statistics made by a different extractor or weights: their FIDs would be meaningless."""
    if dim != extractor.dim:
        raise UserError(
            f"statistics {stats} are {dim}-d but extractor {extractor.name} gives {extractor.dim}-d features; "
            f"recompute them with `ttur stats SRC {stats} --extractor {extractor.name}`"
        )
    if meta is None:
        return
    if meta.get("extractor") != extractor.name:
        raise UserError(
            f"statistics {stats} were made with extractor {meta.get('extractor')!r}, not {extractor.name!r}; "
            f"recompute them with `ttur stats SRC {stats} --extractor {extractor.name}` or pick the matching extractor"
        )
    recorded = meta.get("weights_sha256")
    if recorded and extractor.weights_sha256 and recorded != extractor.weights_sha256:
        raise UserError(
            f"statistics {stats} were made with weights sha256 {recorded}, but the loaded weights are "
            f"{extractor.weights_sha256}; use the same weights file or recompute the statistics"
        )


class FidEvaluator:
    """FID of freshly sampled images against fixed real statistics; loads the statistics and factor once."""

    def __init__(self, stats: Path, extractor: FeatureExtractor, batch_size: int) -> None:
        mu, sigma, meta = load_stats(stats)
        check_stats_match(meta, extractor, Path(stats), mu.shape[0])
        self.extractor = extractor
        self.batch_size = batch_size
        self.meta = meta
        self.reference = RealReference(mu, sigma, extractor.device)

    def evaluate(self, sample: Callable[[int], torch.Tensor], n: int) -> FidResult:
        """Draw `n` images in batches via `sample(k)` (uint8 N×3×H×W on the extractor's device) and score them."""
        moments = StreamingMoments(self.extractor.dim, self.extractor.device)
        done = 0
        try:
            while done < n:
                count = min(self.batch_size, n - done)
                pool, _ = self.extractor(sample(count))
                moments.update(pool)
                done += count
        except NonFiniteImagesError as error:
            return FidResult(float("nan"), f"{error} after {done} images (diverged generator?)")
        if moments.n < 2:
            return FidResult(float("nan"), f"FID needs at least 2 samples, got {moments.n}")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # reported in the note below instead
            mu, sigma, count = moments.finalize()
        result = self.reference.distance(mu, sigma)
        if count < self.extractor.dim:
            warnings.warn(f"FID from {count} samples < {self.extractor.dim} feature dimensions is biased", stacklevel=2)
            note = f"only {count} samples for {self.extractor.dim}-d features"
            return FidResult(result.value, "; ".join(filter(None, [note, result.note])))
        return result


def feature_moments(
    batches: Iterable[torch.Tensor], extractor: FeatureExtractor
) -> tuple[torch.Tensor, torch.Tensor, int]:
    """Stream uint8 image batches through `extractor` into float64 (mu, sigma, n); keeps every image (no dropping)."""
    moments = StreamingMoments(extractor.dim, extractor.device)
    for batch in batches:
        pool, _ = extractor(batch.to(extractor.device))
        moments.update(pool)
    return moments.finalize()
