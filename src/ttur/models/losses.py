"""GAN losses of the reference code: DCGAN's BCE losses (spec §3.3) and WGAN-GP with gradient penalty (§4.3, §5.2)."""

from collections.abc import Callable

import torch
import torch.nn.functional as F

Critic = Callable[[torch.Tensor], torch.Tensor]


def dcgan_d_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """BCE(D(x), 1) + BCE(D(G(z)), 0): the sum of the two batch means, as `d_loss_real + d_loss_fake`."""
    real = F.binary_cross_entropy_with_logits(real_logits, torch.ones_like(real_logits))
    fake = F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))
    return real + fake


def dcgan_g_loss(fake_logits: torch.Tensor) -> torch.Tensor:
    """Non-saturating generator loss BCE(D(G(z)), 1)."""
    return F.binary_cross_entropy_with_logits(fake_logits, torch.ones_like(fake_logits))


def interpolate(real: torch.Tensor, fake: torch.Tensor, alpha: torch.Tensor) -> torch.Tensor:
    """x̂ = real + α·(fake − real) with one α per sample (shape [N] or [N, 1, ...]) broadcast over the other dims."""
    alpha = alpha.reshape(-1, *([1] * (real.dim() - 1))).to(real.dtype)
    if alpha.shape[0] != real.shape[0]:
        raise ValueError(f"alpha needs one value per sample ({real.shape[0]}), got {alpha.shape[0]}")
    return real + alpha * (fake - real)


def gradient_penalty(critic: Critic, real: torch.Tensor, fake: torch.Tensor, alpha: torch.Tensor) -> torch.Tensor:
    """mean over samples of (‖∇ₓ̂ critic(x̂)‖₂ − 1)², the norm taken over all non-batch dims of each sample.

    The gradient is of the sum of the critic outputs, so it also works for a critic whose outputs mix several
    samples (the "grouped" 32×32 head): each sample's gradient is that of the one output it contributes to.
    The graph is kept (create_graph) so the penalty can be minimised.
    """
    x_hat = interpolate(real.detach(), fake.detach(), alpha).requires_grad_(True)
    scores = critic(x_hat)
    (grad,) = torch.autograd.grad(scores.sum(), x_hat, create_graph=True)
    slopes = grad.flatten(1).norm(2, dim=1)
    return ((slopes - 1.0) ** 2).mean()


def wgan_d_loss(
    critic: Critic, real: torch.Tensor, fake: torch.Tensor, gp_lambda: float, alpha: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """mean(C(fake)) − mean(C(real)) + λ·GP, with three separate critic calls (real, fake, interpolates).

    `fake` is detached: the critic step never needs generator gradients. Returns (loss, gp).
    """
    fake = fake.detach()
    real_scores = critic(real)
    fake_scores = critic(fake)
    gp = gradient_penalty(critic, real, fake, alpha)
    return fake_scores.mean() - real_scores.mean() + gp_lambda * gp, gp


def wgan_g_loss(fake_scores: torch.Tensor) -> torch.Tensor:
    """−mean(C(G(z)))."""
    return -fake_scores.mean()
