"""The WGAN-GP 1-D residual character model of `WGAN_GP/gan_language_JSD.py` (spec §5.2): no normalisation anywhere.

Sequences are N×L×V: one-hot for real text, softmax probabilities for generated text. Internally N×C×L.
"""

import torch
import torch.nn.functional as F
from torch import nn

from ttur.models.init import init_tflib_conv, init_tflib_linear

RES_KERNEL = 5
RES_SCALE = 0.3
N_BLOCKS = 5


def conv1d(in_channels: int, out_channels: int, kernel: int) -> nn.Conv1d:
    """tflib Conv1D, "SAME", He-uniform std √(4/(in·k + out·k)), zero bias."""
    layer = nn.Conv1d(in_channels, out_channels, kernel, padding=kernel // 2)
    init_tflib_conv(layer, he=True)
    return layer


class ResBlock1d(nn.Module):
    """x + 0.3·conv5(ReLU(conv5(ReLU(x))))."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.conv_1 = conv1d(dim, dim, RES_KERNEL)
        self.conv_2 = conv1d(dim, dim, RES_KERNEL)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + RES_SCALE * self.conv_2(F.relu(self.conv_1(F.relu(x))))


class LanguageGenerator(nn.Module):
    """z (N×128) → N×L×V probabilities: Linear → reshape N×dim×L → 5 ResBlocks → conv 1×1 → softmax over V."""

    sample_bn_mode = "none"  # no normalisation layers

    def __init__(self, seq_len: int, vocab_size: int, z_dim: int, dim: int) -> None:
        super().__init__()
        self.seq_len = seq_len
        self.dim = dim
        self.input = nn.Linear(z_dim, seq_len * dim)
        init_tflib_linear(self.input)
        self.blocks = nn.Sequential(*[ResBlock1d(dim) for _ in range(N_BLOCKS)])
        self.output = conv1d(dim, vocab_size, 1)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        h = self.input(z).view(z.shape[0], self.dim, self.seq_len)
        logits = self.output(self.blocks(h)).transpose(1, 2)
        return torch.softmax(logits, dim=-1)


class LanguageCritic(nn.Module):
    """N×L×V → N values: conv 1×1 V→dim → 5 ResBlocks → flatten (dim·L, channel-major as the reference) → Linear."""

    def __init__(self, seq_len: int, vocab_size: int, dim: int) -> None:
        super().__init__()
        self.input = conv1d(vocab_size, dim, 1)
        self.blocks = nn.Sequential(*[ResBlock1d(dim) for _ in range(N_BLOCKS)])
        self.output = nn.Linear(seq_len * dim, 1)
        init_tflib_linear(self.output)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.blocks(self.input(x.transpose(1, 2)))
        return self.output(h.flatten(1)).view(-1)
