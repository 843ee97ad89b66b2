"""The networks, optimisers and random streams of one run, and `update()`: the work of one generator update.

An update is the reference schedule cut at generator steps. DCGAN: one D step, then one G step on the same z.
WGAN-GP: `critic_iters` critic steps (each with a fresh real batch, noise and alpha), then one G step. The
reference's iteration 0 (critic steps, no G step) is the first half of update 1, so after `updates` updates G
has had exactly `updates` steps and D `critic_iters` times as many.
"""

from __future__ import annotations

from typing import Any

import torch

from ttur.models import GanPair, build_gan
from ttur.train.batches import EpochOrder, ImageBatches, Prepared, TextBatches
from ttur.train.seeds import NOISE_STREAM, derive_seed
from ttur.train.settings import TrainSettings
from ttur.train.steps import dcgan_update, wgan_critic_step, wgan_generator_step

CHECK_EVERY = 100  # updates between reads of the loss window (divergence check; one device sync each)


class LossWindow:
    """Per-update (d_loss, g_loss) kept on the device; `flush` reads them in one transfer and checks finiteness."""

    def __init__(self, size: int, device: torch.device) -> None:
        self.buffer = torch.zeros(size, 2, device=device)
        self.pending = 0  # updates in the buffer, not yet read
        self.sum_d = 0.0  # sums since the last evaluation row, over `count` updates (float64 on the host)
        self.sum_g = 0.0
        self.count = 0

    def add(self, d_loss: torch.Tensor, g_loss: torch.Tensor) -> None:
        self.buffer[self.pending, 0] = d_loss
        self.buffer[self.pending, 1] = g_loss
        self.pending += 1

    def flush(self) -> tuple[int, float, float] | None:
        """Fold the pending losses into the sums; returns (offset, d, g) of the first non-finite update, if any."""
        if self.pending == 0:
            return None
        values = self.buffer[: self.pending].double().cpu()
        finite = torch.isfinite(values).all(dim=1)
        self.pending = 0
        if not bool(finite.all()):
            offset = int((~finite).nonzero()[0, 0])
            return offset, float(values[offset, 0]), float(values[offset, 1])
        self.sum_d += float(values[:, 0].sum())
        self.sum_g += float(values[:, 1].sum())
        self.count += len(values)
        return None

    def take_means(self) -> tuple[float, float] | None:
        """Mean losses since the previous call (None before any update); resets the sums."""
        if self.count == 0:
            return None
        means = (self.sum_d / self.count, self.sum_g / self.count)
        self.sum_d, self.sum_g, self.count = 0.0, 0.0, 0
        return means

    def state_dict(self) -> dict[str, Any]:
        return {
            "pending": self.buffer[: self.pending].cpu(),
            "sum_d": self.sum_d,
            "sum_g": self.sum_g,
            "count": self.count,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        pending = state["pending"]
        self.pending = len(pending)
        self.buffer[: self.pending] = pending.to(self.buffer.device)
        self.sum_d, self.sum_g, self.count = float(state["sum_d"]), float(state["sum_g"]), int(state["count"])


def _adam(params: Any, lr: float, settings: TrainSettings, device: torch.device) -> torch.optim.Adam:
    """Adam with the run's betas and TF's epsilon 1e-8; the fused CUDA kernel on GPUs."""
    return torch.optim.Adam(
        params, lr=lr, betas=(settings.beta1, settings.beta2), eps=1e-8, fused=device.type == "cuda" or None
    )


class Trainer:
    """Everything that evolves during training and must be saved to resume bit-identically."""

    def __init__(self, settings: TrainSettings, data: Prepared, device: torch.device) -> None:
        self.settings = settings
        self.device = device
        image_size = data.array.shape[1] if data.kind == "images" else 0
        vocab_size = len(data.charmap) if data.charmap is not None else 0
        seq_len = data.array.shape[1] if data.kind == "text" else 0
        torch.manual_seed(settings.seed)  # initialisation draws from the global torch stream
        self.pair: GanPair = build_gan(
            settings.model, image_size, settings.width, settings.z_dim, vocab_size, seq_len, settings.wgan32_critic
        )
        memory_format = torch.channels_last if settings.channels_last and data.kind == "images" else None
        for net in (self.pair.generator, self.pair.discriminator):
            net.to(device=device, memory_format=memory_format) if memory_format else net.to(device)
            net.train()
        self.opt_d = _adam(self.pair.discriminator.parameters(), settings.lr_d, settings, device)
        self.opt_g = _adam(self.pair.generator.parameters(), settings.lr_g, settings, device)
        self.order = EpochOrder(len(data.array), settings.batch_size, settings.seed)
        if data.kind == "images":
            self.batches: ImageBatches | TextBatches = ImageBatches(
                data.array, self.order, device, memory_format is not None
            )
        else:
            self.batches = TextBatches(data.array, vocab_size, self.order, device)
        self.noise = torch.Generator(device).manual_seed(derive_seed(settings.seed, NOISE_STREAM))
        self.losses = LossWindow(CHECK_EVERY, device)
        self.step = 0  # generator updates done

    def _z(self) -> torch.Tensor:
        return self.pair.sample_noise(self.settings.batch_size, self.noise, self.device)

    def update(self) -> None:
        """One generator update and the D/critic steps before it (module docstring)."""
        g, d = self.pair.generator, self.pair.discriminator
        if self.settings.model == "dcgan":
            d_loss, g_loss = dcgan_update(g, d, self.opt_d, self.opt_g, self.batches.next(), self._z())
        else:
            for _ in range(self.settings.critic_iters):
                real = self.batches.next()
                z = self._z()
                alpha = torch.rand(self.settings.batch_size, generator=self.noise, device=self.device)
                d_loss = wgan_critic_step(g, d, self.opt_d, real, z, alpha, self.settings.gp_lambda)
            g_loss = wgan_generator_step(g, d, self.opt_g, self._z())
        self.losses.add(d_loss, g_loss)
        self.step += 1

    def state_dict(self) -> dict[str, Any]:
        return {
            "step": self.step,
            "generator": self.pair.generator.state_dict(),
            "discriminator": self.pair.discriminator.state_dict(),
            "opt_g": self.opt_g.state_dict(),
            "opt_d": self.opt_d.state_dict(),
            "noise": self.noise.get_state(),
            "data_order": self.order.state_dict(),
            "losses": self.losses.state_dict(),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.step = int(state["step"])
        self.pair.generator.load_state_dict(state["generator"])
        self.pair.discriminator.load_state_dict(state["discriminator"])
        self.opt_g.load_state_dict(state["opt_g"])
        self.opt_d.load_state_dict(state["opt_d"])
        self.noise.set_state(state["noise"].cpu())
        self.order.load_state_dict(state["data_order"])
        self.losses.load_state_dict(state["losses"])
