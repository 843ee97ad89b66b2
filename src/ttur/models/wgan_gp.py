"""The WGAN-GP "Good" ResNet generator and critic of `WGAN_GP/gan_64x64_FID.py` (spec §4.2, §4.9).

`dim` is the width (DIM in the reference); the image side is separate here. The reference ties both to DIM, so the
paper's nets are (image 64, dim 64) and (image 32, dim 32). Generator BN always uses batch statistics; the critic
uses per-sample LayerNorm over (C, H, W) with per-channel affine parameters.
"""

import torch
import torch.nn.functional as F
from torch import nn

from ttur.models.init import init_tflib_conv, init_tflib_linear

NORM_EPS = 1e-5
KERNEL = 3
CRITIC_32_CHOICES = ("per_sample", "grouped")
REFERENCE_FLAT = 4 * 4 * 8  # the critic reshapes to [-1, 4·4·8·dim] whatever the image size


def conv(in_channels: int, out_channels: int, kernel: int, he: bool, bias: bool = True) -> nn.Conv2d:
    """tflib Conv2D, stride 1, "SAME" (symmetric for odd kernels), uniform He/Glorot init, zero bias."""
    layer = nn.Conv2d(in_channels, out_channels, kernel, padding=kernel // 2, bias=bias)
    init_tflib_conv(layer, he=he)
    return layer


def batch_norm(channels: int) -> nn.BatchNorm2d:
    """tflib fused Batchnorm with is_training=None: batch statistics in every mode, no running averages."""
    return nn.BatchNorm2d(channels, eps=NORM_EPS, track_running_stats=False)


def layer_norm(channels: int) -> nn.GroupNorm:
    """tflib Layernorm over (C, H, W) per sample with per-channel scale/offset: exactly GroupNorm with one group."""
    return nn.GroupNorm(1, channels, eps=NORM_EPS)


def upsample(x: torch.Tensor) -> torch.Tensor:
    """Nearest-neighbour ×2; equals the reference's 4× channel tiling followed by depth_to_space(2)."""
    return F.interpolate(x, scale_factor=2, mode="nearest")


def mean_pool(x: torch.Tensor) -> torch.Tensor:
    """The reference's mean of the four 2×2 phases (x[::2,::2] + x[1::2,::2] + ...)/4 = 2×2 average pooling."""
    return F.avg_pool2d(x, 2)


class UpsampleConv(nn.Module):
    """Nearest ×2 then conv. For a 1×1 kernel the conv runs first: a pointwise map commutes with the upsampling."""

    def __init__(self, in_channels: int, out_channels: int, kernel: int, he: bool, bias: bool) -> None:
        super().__init__()
        self.conv = conv(in_channels, out_channels, kernel, he=he, bias=bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.conv.kernel_size[0] == 1:
            return upsample(self.conv(x))
        return self.conv(upsample(x))


class ConvMeanPool(nn.Module):
    """Conv then 2×2 mean pooling."""

    def __init__(self, in_channels: int, out_channels: int, kernel: int, he: bool, bias: bool) -> None:
        super().__init__()
        self.conv = conv(in_channels, out_channels, kernel, he=he, bias=bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return mean_pool(self.conv(x))


class MeanPoolConv(nn.Module):
    """2×2 mean pooling then conv."""

    def __init__(self, in_channels: int, out_channels: int, kernel: int, he: bool, bias: bool) -> None:
        super().__init__()
        self.conv = conv(in_channels, out_channels, kernel, he=he, bias=bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(mean_pool(x))


class ResidualBlock(nn.Module):
    """shortcut(x) + conv_2(ReLU(Norm(conv_1(ReLU(Norm(x)))))); conv_1 without bias; 1×1 Glorot shortcut.

    up: conv_1 = UpsampleConv(in→out), conv_2 = Conv(out→out), shortcut = UpsampleConv 1×1 (in→out);
    down: conv_1 = Conv(in→in), conv_2 = ConvMeanPool(in→out), shortcut = MeanPoolConv 1×1 (in→out).
    Both resampling kinds always have a conv shortcut (the identity needs in == out and no resampling).
    """

    def __init__(self, in_channels: int, out_channels: int, resample: str, norm: str) -> None:
        super().__init__()
        make_norm = batch_norm if norm == "batch" else layer_norm
        if resample == "up":
            self.shortcut = UpsampleConv(in_channels, out_channels, 1, he=False, bias=True)
            self.conv_1 = UpsampleConv(in_channels, out_channels, KERNEL, he=True, bias=False)
            self.conv_2 = conv(out_channels, out_channels, KERNEL, he=True)
            mid = out_channels
        elif resample == "down":
            self.shortcut = MeanPoolConv(in_channels, out_channels, 1, he=False, bias=True)
            self.conv_1 = conv(in_channels, in_channels, KERNEL, he=True, bias=False)
            self.conv_2 = ConvMeanPool(in_channels, out_channels, KERNEL, he=True, bias=True)
            mid = in_channels
        else:
            raise ValueError(f"resample must be 'up' or 'down', got {resample!r}")
        self.norm_1 = make_norm(in_channels)
        self.norm_2 = make_norm(mid)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.conv_1(F.relu(self.norm_1(x)))
        h = self.conv_2(F.relu(self.norm_2(h)))
        return self.shortcut(x) + h


class GoodGenerator(nn.Module):
    """z (N×128, N(0,1)) → N×3×s×s in [−1, 1]: Linear → 4 up blocks (8d→8d→4d→2d→d) → BN → ReLU → conv 3×3 → tanh."""

    sample_bn_mode = "batch"  # the reference samples with batch statistics; BN here has no running averages

    def __init__(self, image_size: int, z_dim: int, dim: int) -> None:
        super().__init__()
        if image_size % 16:
            raise ValueError(f"WGAN-GP image_size must be a multiple of 16, got {image_size}")
        self.fact = image_size // 16  # the reference's `fact = DIM // 16`
        self.dim = dim
        self.input = nn.Linear(z_dim, self.fact * self.fact * 8 * dim)
        init_tflib_linear(self.input)
        self.res1 = ResidualBlock(8 * dim, 8 * dim, "up", "batch")
        self.res2 = ResidualBlock(8 * dim, 4 * dim, "up", "batch")
        self.res3 = ResidualBlock(4 * dim, 2 * dim, "up", "batch")
        self.res4 = ResidualBlock(2 * dim, dim, "up", "batch")
        self.out_norm = batch_norm(dim)
        self.out_conv = conv(dim, 3, KERNEL, he=True)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        h = self.input(z).view(z.shape[0], 8 * self.dim, self.fact, self.fact)
        h = self.res4(self.res3(self.res2(self.res1(h))))
        return torch.tanh(self.out_conv(F.relu(self.out_norm(h))))


class GoodCritic(nn.Module):
    """N×3×s×s → critic values: conv 3×3 (Glorot, no activation) → 4 down blocks (d→2d→4d→8d→8d) → Linear → 1.

    `head` (spec §4.9) only matters when s < 64:
    - "per_sample": Linear over the true per-sample size 8d·(s/16)², one value per sample;
    - "grouped": the reference's reshape to [-1, 4·4·8·d], so at s = 32 each value mixes 4 consecutive samples and
      a batch of N yields N/4 values (N must be a multiple of 4).
    """

    def __init__(self, image_size: int, dim: int, head: str) -> None:
        super().__init__()
        if image_size % 16:
            raise ValueError(f"WGAN-GP image_size must be a multiple of 16, got {image_size}")
        if head not in CRITIC_32_CHOICES:
            raise ValueError(f"critic head must be one of {CRITIC_32_CHOICES}, got {head!r}")
        per_sample = 8 * dim * (image_size // 16) ** 2
        grouped = REFERENCE_FLAT * dim
        if head == "grouped" and grouped % per_sample:
            raise ValueError(f"grouped critic needs 4·4·8·dim to be a multiple of {per_sample} (image_size ≤ 64)")
        self.head = head
        self.flat = grouped if head == "grouped" else per_sample
        self.group = self.flat // per_sample  # samples per critic value: 4 at 32×32 grouped, else 1
        self.input = conv(3, dim, KERNEL, he=False)
        self.res1 = ResidualBlock(dim, 2 * dim, "down", "layer")
        self.res2 = ResidualBlock(2 * dim, 4 * dim, "down", "layer")
        self.res3 = ResidualBlock(4 * dim, 8 * dim, "down", "layer")
        self.res4 = ResidualBlock(8 * dim, 8 * dim, "down", "layer")
        self.output = nn.Linear(self.flat, 1)
        init_tflib_linear(self.output)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[0] % self.group:
            raise ValueError(f"the grouped critic needs a batch that is a multiple of {self.group}, got {x.shape[0]}")
        h = self.res4(self.res3(self.res2(self.res1(self.input(x)))))
        return self.output(h.reshape(-1, self.flat)).view(-1)
