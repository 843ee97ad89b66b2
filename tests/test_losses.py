"""Losses against hand-checkable values (spec §3.3, §4.3, §5.2) and one optimisation step of each model on CPU."""

import math

import pytest
import torch
from torch import nn

from ttur.models import GanPair, build_gan
from ttur.models.losses import dcgan_d_loss, dcgan_g_loss, gradient_penalty, wgan_d_loss, wgan_g_loss


class LinearCritic(nn.Module):
    """f(x) = w·x + b per sample; ∇ₓf = w everywhere, so the penalty is (‖w‖ − 1)² exactly."""

    def __init__(self, w: torch.Tensor) -> None:
        super().__init__()
        self.w = nn.Parameter(w.clone())
        self.b = nn.Parameter(torch.tensor(0.25))
        self.calls = 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.calls += 1
        return (x * self.w).flatten(1).sum(1) + self.b


def test_dcgan_losses_by_hand() -> None:
    zeros = torch.zeros(5)
    # σ(0) = 1/2: each BCE term is log 2, D loss is their sum
    assert dcgan_d_loss(zeros, zeros).item() == pytest.approx(2 * math.log(2), rel=1e-6)
    real = torch.tensor([2.0, -1.0, 0.5])
    fake = torch.tensor([-3.0, 0.0, 1.5])
    sig = torch.sigmoid
    expected_d = -torch.log(sig(real)).mean() - torch.log(1 - sig(fake)).mean()
    assert dcgan_d_loss(real, fake).item() == pytest.approx(expected_d.item(), rel=1e-6)
    expected_g = -torch.log(sig(fake)).mean()  # non-saturating
    assert dcgan_g_loss(fake).item() == pytest.approx(expected_g.item(), rel=1e-6)
    assert torch.isfinite(dcgan_d_loss(torch.tensor([200.0]), torch.tensor([-200.0])))  # stable with logits


@pytest.mark.parametrize("shape", [(3, 4, 4), (8, 5)])  # image C×H×W and language L×V
def test_gradient_penalty_of_linear_critic(shape: tuple[int, ...]) -> None:
    torch.manual_seed(0)
    w = torch.randn(shape)
    w = w / w.norm() * 2.5  # ‖w‖ = 2.5 → GP = 1.5² = 2.25
    critic = LinearCritic(w)
    real, fake = torch.randn(6, *shape), torch.randn(6, *shape)
    gp = gradient_penalty(critic, real, fake, torch.rand(6))
    assert gp.item() == pytest.approx(2.25, rel=1e-5)


def test_gradient_penalty_alpha_is_per_sample() -> None:
    # f(x) = ½‖x‖² has ∇f(x̂) = x̂; with real = 0 and fake = 1, x̂ᵢ = αᵢ·1, ‖x̂ᵢ‖ = αᵢ·√D with D = 3·2·2 = 12.
    def critic(x: torch.Tensor) -> torch.Tensor:
        return 0.5 * (x**2).flatten(1).sum(1)

    alpha = torch.tensor([0.0, 0.25, 0.5, 1.0])
    gp = gradient_penalty(critic, torch.zeros(4, 3, 2, 2), torch.ones(4, 3, 2, 2), alpha)
    expected = sum((a * math.sqrt(12) - 1) ** 2 for a in alpha.tolist()) / 4
    assert gp.item() == pytest.approx(expected, rel=1e-6)
    # alpha given as [N, 1, 1, 1] (the reference's shape) is the same
    gp_4d = gradient_penalty(critic, torch.zeros(4, 3, 2, 2), torch.ones(4, 3, 2, 2), alpha.view(4, 1, 1, 1))
    assert gp_4d.item() == pytest.approx(expected, rel=1e-6)
    with pytest.raises(ValueError, match="one value per sample"):
        gradient_penalty(critic, torch.zeros(4, 3), torch.ones(4, 3), torch.rand(2))


def test_gradient_penalty_is_differentiable_in_critic_parameters() -> None:
    w = torch.tensor([3.0, 4.0])  # ‖w‖ = 5: GP = 16, dGP/dw = 2(‖w‖ − 1)·w/‖w‖ = 1.6·w
    critic = LinearCritic(w)
    gp = gradient_penalty(critic, torch.randn(3, 2), torch.randn(3, 2), torch.rand(3))
    gp.backward()
    assert gp.item() == pytest.approx(16.0, rel=1e-6)
    torch.testing.assert_close(critic.w.grad, 1.6 * w, rtol=1e-5, atol=1e-6)


def test_gradient_penalty_on_grouped_critic_equals_per_sample_gradients() -> None:
    torch.manual_seed(1)
    critic = build_gan("wgangp", 32, 4, 128, 0, 0, "grouped").discriminator
    real, fake, alpha = torch.rand(8, 3, 32, 32) * 2 - 1, torch.rand(8, 3, 32, 32) * 2 - 1, torch.rand(8)
    gp = gradient_penalty(critic, real, fake, alpha)
    # Reference: the gradient of sample i is that of the one output it feeds, output i // 4.
    x_hat = (real + alpha.view(8, 1, 1, 1) * (fake - real)).requires_grad_(True)
    scores = critic(x_hat)
    assert scores.shape == (2,)
    slopes = []
    for i in range(8):
        (grad,) = torch.autograd.grad(scores[i // 4], x_hat, retain_graph=True)
        slopes.append(grad[i].norm())
        others = torch.cat([grad[: 4 * (i // 4)], grad[4 * (i // 4) + 4 :]])
        assert torch.count_nonzero(others) == 0  # no gradient leaks into the other group
    expected = torch.stack([(s - 1) ** 2 for s in slopes]).mean()
    torch.testing.assert_close(gp, expected, rtol=1e-4, atol=1e-6)


def test_wgan_losses_by_hand() -> None:
    w = torch.tensor([[0.6, 0.0], [0.0, 0.8]])  # ‖w‖ = 1: GP = 0
    critic = LinearCritic(w)
    real, fake = torch.ones(4, 2, 2), torch.full((4, 2, 2), 2.0)
    loss, gp = wgan_d_loss(critic, real, fake, gp_lambda=10.0, alpha=torch.rand(4))
    # mean(C(fake)) − mean(C(real)) = (2·1.4 + b) − (1.4 + b) = 1.4
    assert gp.item() == pytest.approx(0.0, abs=1e-6)
    assert loss.item() == pytest.approx(1.4, rel=1e-5)
    assert critic.calls == 3  # real, fake and interpolates in separate calls

    critic2 = LinearCritic(2 * w)  # ‖w‖ = 2: GP = 1, loss = 2.8 + 10·1
    loss2, gp2 = wgan_d_loss(critic2, real, fake, gp_lambda=10.0, alpha=torch.rand(4))
    assert gp2.item() == pytest.approx(1.0, rel=1e-5)
    assert loss2.item() == pytest.approx(12.8, rel=1e-5)
    assert wgan_g_loss(torch.tensor([1.0, 2.0, 6.0])).item() == pytest.approx(-3.0)


def test_wgan_d_loss_does_not_reach_the_generator() -> None:
    gen = nn.Linear(3, 4)
    critic = LinearCritic(torch.ones(4))
    fake = gen(torch.randn(5, 3))
    loss, _ = wgan_d_loss(critic, torch.randn(5, 4), fake, gp_lambda=10.0, alpha=torch.rand(5))
    loss.backward()
    assert gen.weight.grad is None
    assert critic.w.grad is not None


# ---------------------------------------------------------------- one optimisation step per network


def snapshot(module: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in module.named_parameters()}


def changed(module: nn.Module, before: dict[str, torch.Tensor]) -> set[str]:
    return {k for k, p in module.named_parameters() if not torch.equal(p, before[k])}


def with_gradient(module: nn.Module) -> set[str]:
    return {k for k, p in module.named_parameters() if p.grad is not None and torch.count_nonzero(p.grad) > 0}


def real_batch(model: str, n: int) -> torch.Tensor:
    if model == "lang":
        return nn.functional.one_hot(torch.randint(0, 10, (n, 8)), 10).float()
    return torch.rand(n, 3, 32, 32) * 2 - 1


def d_loss(pair: GanPair, model: str, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    if model == "dcgan":
        return dcgan_d_loss(pair.discriminator(real), pair.discriminator(fake.detach()))
    return wgan_d_loss(pair.discriminator, real, fake, 10.0, torch.rand(real.shape[0]))[0]


def g_loss(pair: GanPair, model: str, fake: torch.Tensor) -> torch.Tensor:
    scores = pair.discriminator(fake)
    return dcgan_g_loss(scores) if model == "dcgan" else wgan_g_loss(scores)


@pytest.mark.parametrize(
    ("model", "critic"), [("dcgan", "per_sample"), ("wgangp", "per_sample"), ("wgangp", "grouped"), ("lang", "")]
)
def test_one_step_moves_only_the_stepped_network(model: str, critic: str) -> None:
    torch.manual_seed(2)
    width = 16 if model == "lang" else 8
    pair = build_gan(model, 32, width, 100 if model == "dcgan" else 128, 10, 8, critic or "per_sample")
    gen, disc = pair.generator, pair.discriminator
    n_g, n_d = len(list(gen.parameters())), len(list(disc.parameters()))
    opt_d = torch.optim.Adam(disc.parameters(), lr=1e-3)
    opt_g = torch.optim.Adam(gen.parameters(), lr=1e-3)

    # D step: the generator's parameters stay bit-identical
    g0, d0 = snapshot(gen), snapshot(disc)
    fake = gen(pair.sample_noise(8, None, "cpu"))
    loss = d_loss(pair, model, real_batch(model, 8), fake)
    opt_d.zero_grad(set_to_none=True)
    loss.backward()
    opt_d.step()
    assert changed(gen, g0) == set()
    # Every parameter with a gradient moves. The WGAN critic's final bias and the biases of its last block only
    # add a constant to every score, which mean(fake) − mean(real) and the penalty cancel: exactly zero gradient.
    assert changed(disc, d0) == with_gradient(disc)
    assert len(changed(disc, d0)) >= n_d - 3
    assert all(p.grad is None for p in gen.parameters())

    # G step: the discriminator's parameters stay bit-identical
    g1, d1 = snapshot(gen), snapshot(disc)
    loss = g_loss(pair, model, gen(pair.sample_noise(8, None, "cpu")))
    opt_g.zero_grad(set_to_none=True)
    loss.backward()
    opt_g.step()
    assert changed(disc, d1) == set()
    assert changed(gen, g1) == with_gradient(gen)
    assert len(changed(gen, g1)) == n_g
