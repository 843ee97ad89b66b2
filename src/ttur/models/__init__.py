"""The paper's GANs (spec §3–§5): DCGAN, the WGAN-GP "Good" ResNet and the WGAN-GP language model, built by name."""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import torch
from torch import nn

from ttur.models.dcgan import DcganDiscriminator, DcganGenerator
from ttur.models.language import LanguageCritic, LanguageGenerator
from ttur.models.wgan_gp import CRITIC_32_CHOICES, GoodCritic, GoodGenerator

MODELS = ("dcgan", "wgangp", "lang")
NOISE = {"dcgan": "uniform", "wgangp": "normal", "lang": "normal"}

__all__ = ["MODELS", "GanPair", "build_gan", "count_parameters", "sampling"]


@dataclass
class GanPair:
    """A generator, its discriminator/critic and the latent distribution the generator expects."""

    generator: nn.Module
    discriminator: nn.Module
    z_dim: int
    noise: str  # "uniform": U(−1, 1) (DCGAN); "normal": N(0, 1) (WGAN-GP, language)

    def sample_noise(self, n: int, generator: torch.Generator | None, device: torch.device | str) -> torch.Tensor:
        """n latent vectors, drawn on the RNG's own device (so a CPU RNG gives the same numbers everywhere)."""
        source = generator.device if generator is not None else torch.device(device)
        if self.noise == "uniform":
            z = torch.rand(n, self.z_dim, generator=generator, device=source) * 2.0 - 1.0
        else:
            z = torch.randn(n, self.z_dim, generator=generator, device=source)
        return z.to(device)


def build_gan(
    model: str, image_size: int, width: int, z_dim: int, vocab_size: int, seq_len: int, wgan32_critic: str
) -> GanPair:
    """Build a freshly initialised pair. Unused arguments are ignored (vocab/seq_len for images, image_size for lang).

    dcgan: width = gf_dim = df_dim (64); wgangp: width = DIM (64 at 64×64, 32 at 32×32 in the reference);
    lang: width = DIM (512), z_dim 128; wgan32_critic ∈ {"per_sample", "grouped"} selects the 32×32 critic head.
    """
    generator: nn.Module
    discriminator: nn.Module
    if model == "dcgan":
        generator = DcganGenerator(image_size, z_dim, width)
        discriminator = DcganDiscriminator(image_size, width)
    elif model == "wgangp":
        if wgan32_critic not in CRITIC_32_CHOICES:
            raise ValueError(f"wgan32_critic must be one of {CRITIC_32_CHOICES}, got {wgan32_critic!r}")
        generator = GoodGenerator(image_size, z_dim, width)
        discriminator = GoodCritic(image_size, width, wgan32_critic)
    elif model == "lang":
        generator = LanguageGenerator(seq_len, vocab_size, z_dim, width)
        discriminator = LanguageCritic(seq_len, vocab_size, width)
    else:
        raise ValueError(f"model must be one of {MODELS}, got {model!r}")
    return GanPair(generator, discriminator, z_dim, NOISE[model])


def count_parameters(module: nn.Module) -> int:
    """Number of trainable parameter elements (BN running averages are buffers and do not count)."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


@contextmanager
def sampling(generator: nn.Module) -> Iterator[nn.Module]:
    """Run `generator` as the reference's sampler: no gradients, BN in the mode of its `sample_bn_mode`.

    "eval" (DCGAN) switches BN to its running averages; "batch" (WGAN-GP) and "none" (language) leave the
    module as it is. The previous train/eval mode is restored on exit.
    """
    was_training = generator.training
    if getattr(generator, "sample_bn_mode", "none") == "eval":
        generator.eval()
    try:
        with torch.no_grad():
            yield generator
    finally:
        generator.train(was_training)
