"""DCGAN generator and discriminator of TTUR's `DCGAN_FID_batched/model.py` (spec §3.2), with TF "SAME" padding.

Layer names follow the reference (`g_h0_lin` → `h0_lin`, `d_h3_lin` → `h3_lin`). TF pads a stride-2 "SAME" conv of
an even input asymmetrically (1 before, 2 after for a 5×5 kernel); PyTorch's symmetric `padding=2` would shift
every feature map by one pixel, so the padding is done explicitly (docs/models.md).
"""

import math

import torch
import torch.nn.functional as F
from torch import nn

from ttur.models.init import init_dcgan

KERNEL = 5
STRIDE = 2
BN_EPS = 1e-5
BN_MOMENTUM = 0.1  # TF decay 0.9
LEAK = 0.2


def same_padding(size: int, kernel: int, stride: int) -> tuple[int, int]:
    """TF "SAME" padding (before, after) along one axis: output ceil(size/stride), the extra pixel goes after."""
    out = math.ceil(size / stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def _bn(channels: int) -> nn.BatchNorm2d:
    """tf.contrib.layers.batch_norm(decay=0.9, epsilon=1e-5, scale=True, center=True)."""
    return nn.BatchNorm2d(channels, eps=BN_EPS, momentum=BN_MOMENTUM)


class Conv2dSame(nn.Conv2d):
    """Conv 5×5 stride 2 with TF "SAME" padding (asymmetric when needed), as `ops.conv2d`."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__(in_channels, out_channels, KERNEL, stride=STRIDE, padding=0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        top, bottom = same_padding(x.shape[-2], KERNEL, STRIDE)
        left, right = same_padding(x.shape[-1], KERNEL, STRIDE)
        return super().forward(F.pad(x, (left, right, top, bottom)))


class ConvTranspose2dSame(nn.ConvTranspose2d):
    """Transposed conv 5×5 stride 2 doubling the size, the exact adjoint of a TF "SAME" conv (`ops.deconv2d`).

    The full transposed output has 2n+3 rows; TF keeps rows 1..2n (crops 1 before, 2 after). `padding=1` crops one
    on each side and the last row is dropped here. `output_padding` cannot express this (it only crops less after).
    """

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__(in_channels, out_channels, KERNEL, stride=STRIDE, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        return super().forward(x)[..., :-1, :-1]


class DcganGenerator(nn.Module):
    """z (N×z_dim, Uniform(−1,1)) → N×3×s×s in [−1, 1]; s ∈ {32, 64}. BN → ReLU after every layer but the last."""

    sample_bn_mode = "eval"  # the FID sampler of the reference runs BN on its moving averages (spec §3.4)

    def __init__(self, image_size: int, z_dim: int, width: int) -> None:
        super().__init__()
        if image_size % 16:
            raise ValueError(f"DCGAN image_size must be a multiple of 16, got {image_size}")
        self.s16 = image_size // 16
        self.width = width
        c = [8 * width, 4 * width, 2 * width, width]
        self.h0_lin = nn.Linear(z_dim, c[0] * self.s16 * self.s16)
        self.bn0 = _bn(c[0])
        self.h1 = ConvTranspose2dSame(c[0], c[1])
        self.bn1 = _bn(c[1])
        self.h2 = ConvTranspose2dSame(c[1], c[2])
        self.bn2 = _bn(c[2])
        self.h3 = ConvTranspose2dSame(c[2], c[3])
        self.bn3 = _bn(c[3])
        self.h4 = ConvTranspose2dSame(c[3], 3)
        init_dcgan(self)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        h = self.h0_lin(z).view(z.shape[0], 8 * self.width, self.s16, self.s16)
        h = F.relu(self.bn0(h))
        h = F.relu(self.bn1(self.h1(h)))
        h = F.relu(self.bn2(self.h2(h)))
        h = F.relu(self.bn3(self.h3(h)))
        return torch.tanh(self.h4(h))


class DcganDiscriminator(nn.Module):
    """N×3×s×s → N logits. Conv → LReLU(0.2), then three Conv → BN → LReLU, then Linear → 1."""

    def __init__(self, image_size: int, width: int) -> None:
        super().__init__()
        if image_size % 16:
            raise ValueError(f"DCGAN image_size must be a multiple of 16, got {image_size}")
        s16 = image_size // 16
        self.h0_conv = Conv2dSame(3, width)
        self.h1_conv = Conv2dSame(width, 2 * width)
        self.bn1 = _bn(2 * width)
        self.h2_conv = Conv2dSame(2 * width, 4 * width)
        self.bn2 = _bn(4 * width)
        self.h3_conv = Conv2dSame(4 * width, 8 * width)
        self.bn3 = _bn(8 * width)
        self.h3_lin = nn.Linear(8 * width * s16 * s16, 1)
        init_dcgan(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = F.leaky_relu(self.h0_conv(x), LEAK)
        h = F.leaky_relu(self.bn1(self.h1_conv(h)), LEAK)
        h = F.leaky_relu(self.bn2(self.h2_conv(h)), LEAK)
        h = F.leaky_relu(self.bn3(self.h3_conv(h)), LEAK)
        return self.h3_lin(h.flatten(1)).view(-1)
