"""Feature extractors for FID (and the Inception Score): uint8 images in, pool features and logits out.

- `inception-v3-compat`: torch-fidelity 0.4.0's `FeatureExtractorInceptionV3`, the TF1-exact port of the network
  TTUR's `fid.py` uses (bilinear resize to 299 without half-pixel offset, then `(x-128)/128`), loaded only from a
  local, sha256-verified weights file.
- `randconv64`: a small convolutional net with weights drawn from a fixed seed, for the offline smoke preset. Its
  numbers are FIDs in a random 64-d feature space, not Inception FIDs, and must never be reported as such.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from ttur.errors import UserError
from ttur.metrics.weights import INCEPTION_SHA256, resolve_weights_path, verify_weights

EXTRACTORS = ("inception-v3-compat", "randconv64")
RANDCONV_SEED = 20170626  # fixed forever: changing it changes every smoke-preset number
RANDCONV_CLASSES = 16


def check_images(images: torch.Tensor) -> None:
    """Raise ValueError unless `images` is a uint8 N×3×H×W tensor (the only input either extractor accepts)."""
    if not torch.is_tensor(images) or images.dtype != torch.uint8:
        raise ValueError(f"feature extractors take uint8 images, got {getattr(images, 'dtype', type(images))}")
    if images.dim() != 4 or images.shape[1] != 3:
        raise ValueError(f"feature extractors take N×3×H×W images, got shape {tuple(images.shape)}")


@dataclass
class FeatureExtractor:
    """A frozen network on one device mapping uint8 N×3×H×W images to (pool N×dim float32, logits N×K or None).

    `logits` are the classifier's pre-softmax scores without the bias term (for Inception: pool3 · W, as TTUR's
    FID-vs-IS code and torch-fidelity's Inception Score use them).
    """

    name: str
    dim: int
    weights_sha256: str | None
    has_logits: bool
    preprocessing: str
    device: torch.device
    network: nn.Module

    @torch.no_grad()
    def __call__(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        check_images(images)
        with full_precision():
            pool, logits = self.network(images.to(self.device))
        return pool, logits


@contextlib.contextmanager
def full_precision() -> Iterator[None]:
    """Float32 convolutions and matmuls on the GPU (TF32 off) for the duration, whatever the process set.

    PyTorch enables TF32 for cuDNN convolutions by default, and a training job may enable it for its own updates;
    features stay in float32 until a benchmark shows FID unchanged within 1e-3 relative (issue: FID engine).
    """
    matmul = torch.backends.cuda.matmul.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = False
    try:
        with torch.backends.cudnn.flags(
            enabled=torch.backends.cudnn.enabled,
            benchmark=torch.backends.cudnn.benchmark,
            deterministic=torch.backends.cudnn.deterministic,
            allow_tf32=False,
        ):
            yield
    finally:
        torch.backends.cuda.matmul.allow_tf32 = matmul


class _InceptionPoolAndLogits(nn.Module):
    """torch-fidelity's Inception returning pool3 and the bias-free logits from one forward pass."""

    def __init__(self, weights_path: Path) -> None:
        super().__init__()
        from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3

        # A path is always given, so torch-fidelity's download branch (load_state_dict_from_url) is never taken.
        self.inception = FeatureExtractorInceptionV3(
            "inception-v3-compat", ["2048", "logits_unbiased"], feature_extractor_weights_path=str(weights_path)
        )

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        pool, logits = self.inception(images)
        return pool, logits


class _RandConv(nn.Module):
    """Three strided 3×3 convolutions and a global average: 64-d features of a 32×32 or 64×64 uint8 image."""

    def __init__(self, seed: int, classes: int) -> None:
        super().__init__()
        generator = torch.Generator().manual_seed(seed)
        widths = (3, 32, 64, 64)
        self.convs = nn.ModuleList(
            nn.Conv2d(i, o, 3, stride=2, padding=1) for i, o in zip(widths[:-1], widths[1:], strict=True)
        )
        for conv in self.convs:
            fan_in = conv.in_channels * 9
            conv.weight.data = torch.randn(conv.weight.shape, generator=generator) * (2.0 / fan_in) ** 0.5
            conv.bias.data = torch.randn(conv.bias.shape, generator=generator) * 0.1
        self.head = nn.Parameter(torch.randn(widths[-1], classes, generator=generator) / widths[-1] ** 0.5)
        self.requires_grad_(False)
        self.eval()

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = (images.float() - 128.0) / 128.0
        for conv in self.convs:
            x = torch.relu(conv(x))
        pool = x.mean(dim=(2, 3))
        return pool, pool @ self.head


def load_extractor(
    name: str, weights: Path | None, device: torch.device, expected_sha256: str = INCEPTION_SHA256
) -> FeatureExtractor:
    """Build extractor `name` on `device`. Inception weights come only from `weights` or $TTUR_INCEPTION_WEIGHTS.

    `expected_sha256` defaults to the published file's digest; only tests, which cannot ship the real weights,
    pass the digest of a file they generated.
    """
    device = torch.device(device)
    if name == "inception-v3-compat":
        path = resolve_weights_path(weights, expected_sha256)
        digest = verify_weights(path, expected_sha256)
        try:
            network = _InceptionPoolAndLogits(path)
        except Exception as error:  # a file with the right hash that torch cannot read is still a bad file
            raise UserError(f"could not load Inception weights from {path} ({error}); replace the file") from error
        return FeatureExtractor(
            name=name,
            dim=2048,
            weights_sha256=digest,
            has_logits=True,
            preprocessing="uint8 RGB; TF1 bilinear resize to 299x299 (align_corners=False); (x-128)/128; "
            "torch-fidelity 0.4.0 FeatureExtractorInceptionV3, float32; pool3 2048-d",
            device=device,
            network=network.to(device),
        )
    if name == "randconv64":
        return FeatureExtractor(
            name=name,
            dim=64,
            weights_sha256=None,
            has_logits=True,
            preprocessing=f"uint8 RGB at native size; (x-128)/128; random conv net seed {RANDCONV_SEED}, "
            f"{RANDCONV_CLASSES}-class random head; NOT Inception",
            device=device,
            network=_RandConv(RANDCONV_SEED, RANDCONV_CLASSES).to(device),
        )
    raise UserError(f"unknown feature extractor '{name}'; choose one of {', '.join(EXTRACTORS)}")
