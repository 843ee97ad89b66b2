"""Weight initialisers of the reference TensorFlow code, so that freshly built networks match it in distribution.

Two families (spec §3.2 and §4.2):
- DCGAN (`ops.py`): normal or truncated normal with std 0.02, biases 0;
- tflib (WGAN-GP `tflib/ops/*.py`): uniform on ±√3·std, where std follows He or Glorot from the fans, biases 0.

TF stores weights as (in, out) or (k, k, in, out); PyTorch as (out, in, ...). All draws are i.i.d. per element, so the
layout does not change the distribution.
"""

import math

import torch
from torch import nn

DCGAN_STD = 0.02
TRUNCATION = 2.0  # tf.truncated_normal redraws values beyond 2 standard deviations


@torch.no_grad()
def truncated_normal_(tensor: torch.Tensor, std: float) -> torch.Tensor:
    """tf.truncated_normal_initializer(stddev=std): N(0, std²) restricted to ±2·std (realised std ≈ 0.8796·std)."""
    return nn.init.trunc_normal_(tensor, mean=0.0, std=std, a=-TRUNCATION * std, b=TRUNCATION * std)


@torch.no_grad()
def tflib_uniform_(tensor: torch.Tensor, std: float) -> torch.Tensor:
    """tflib's `uniform(stdev, size)`: U(−√3·std, √3·std), whose standard deviation is exactly `std`."""
    bound = math.sqrt(3.0) * std
    return nn.init.uniform_(tensor, -bound, bound)


def tflib_conv_std(in_channels: int, out_channels: int, kernel: int, dims: int, stride: int, he: bool) -> float:
    """std of tflib Conv1D/Conv2D: fan_in = in·kᵈ, fan_out = out·kᵈ/strideᵈ; He: √(4/(fan_in+fan_out)), else √(2/…).

    Conv2D divides the fan-out with integer division (`//`), Conv1D with true division; both are reproduced.
    """
    fan_in = in_channels * kernel**dims
    fan_out = out_channels * kernel**dims // stride**dims if dims == 2 else out_channels * kernel**dims / stride**dims
    return math.sqrt((4.0 if he else 2.0) / (fan_in + fan_out))


def glorot_linear_std(in_features: int, out_features: int) -> float:
    """std of tflib Linear with `initialization=None` (Glorot): √(2/(in+out))."""
    return math.sqrt(2.0 / (in_features + out_features))


@torch.no_grad()
def init_tflib_conv(conv: nn.Conv1d | nn.Conv2d, he: bool, stride: int = 1) -> None:
    """Initialise a conv as tflib does; `stride` is the stride tflib was told (1 for every conv of the Good nets)."""
    dims = conv.weight.dim() - 2
    std = tflib_conv_std(conv.in_channels, conv.out_channels, conv.kernel_size[0], dims, stride, he)
    tflib_uniform_(conv.weight, std)
    if conv.bias is not None:
        conv.bias.zero_()


@torch.no_grad()
def init_tflib_linear(linear: nn.Linear) -> None:
    """Initialise a Linear as tflib's default (Glorot uniform, zero bias)."""
    tflib_uniform_(linear.weight, glorot_linear_std(linear.in_features, linear.out_features))
    if linear.bias is not None:
        linear.bias.zero_()


@torch.no_grad()
def init_dcgan(module: nn.Module) -> None:
    """DCGAN `ops.py`: conv truncated_normal(0.02), deconv and linear normal(0.02), biases 0; BN γ=1, β=0."""
    for m in module.modules():
        if isinstance(m, nn.ConvTranspose2d | nn.Linear):
            nn.init.normal_(m.weight, 0.0, DCGAN_STD)
        elif isinstance(m, nn.Conv2d):
            truncated_normal_(m.weight, DCGAN_STD)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
            continue
        else:
            continue
        if m.bias is not None:
            m.bias.zero_()
