"""One optimisation step of each kind, as plain PyTorch: the inner loop of training and of the speed benchmark.

Each function returns its loss detached, still on the device: reading it (a GPU sync) is left to the caller,
which does so only every few dozen updates.
"""

from __future__ import annotations

import torch
from torch import nn

from ttur.models.losses import dcgan_d_loss, dcgan_g_loss, gradient_penalty, wgan_g_loss


def dcgan_update(
    generator: nn.Module,
    discriminator: nn.Module,
    opt_d: torch.optim.Optimizer,
    opt_g: torch.optim.Optimizer,
    real: torch.Tensor,
    z: torch.Tensor,
) -> tuple[torch.Tensor, torch.Tensor]:
    """One D step on (real, G(z)), real and fake in separate D calls, then one G step on the same z (spec §3.3).

    G(z) is computed once: G does not change during the D step, so the G step's forward would be identical.
    """
    fake = generator(z)
    opt_d.zero_grad(set_to_none=True)
    d_loss = dcgan_d_loss(discriminator(real), discriminator(fake.detach()))
    d_loss.backward()
    opt_d.step()

    opt_g.zero_grad(set_to_none=True)
    discriminator.requires_grad_(False)  # the G step needs gradients w.r.t. D's input only
    g_loss = dcgan_g_loss(discriminator(fake))
    g_loss.backward()
    discriminator.requires_grad_(True)
    opt_g.step()
    return d_loss.detach(), g_loss.detach()


def wgan_critic_step(
    generator: nn.Module,
    critic: nn.Module,
    opt_d: torch.optim.Optimizer,
    real: torch.Tensor,
    z: torch.Tensor,
    alpha: torch.Tensor,
    gp_lambda: float,
) -> torch.Tensor:
    """One critic step: mean C(fake) − mean C(real) + λ·GP on a fresh real batch and fresh noise (spec §4.3).

    The value of `wgan_d_loss` (bit-identical), with the penalty's double-backward graph built before the two
    plain critic calls, the order of a plain PyTorch WGAN-GP loop; benchmarks/train_speed.py compares the two.
    """
    with torch.no_grad():
        fake = generator(z)
    opt_d.zero_grad(set_to_none=True)
    gp = gradient_penalty(critic, real, fake, alpha)
    d_loss = critic(fake).mean() - critic(real).mean() + gp_lambda * gp
    d_loss.backward()
    opt_d.step()
    return d_loss.detach()


def wgan_generator_step(
    generator: nn.Module, critic: nn.Module, opt_g: torch.optim.Optimizer, z: torch.Tensor
) -> torch.Tensor:
    """One generator step: minimise −mean C(G(z))."""
    opt_g.zero_grad(set_to_none=True)
    critic.requires_grad_(False)
    g_loss = wgan_g_loss(critic(generator(z)))
    g_loss.backward()
    critic.requires_grad_(True)
    opt_g.step()
    return g_loss.detach()
