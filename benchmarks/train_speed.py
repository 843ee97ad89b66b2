"""Updates/s of our training loop against a minimal plain PyTorch loop over the same networks and batch size.

Ours: `Trainer.update()` exactly as `ttur train` runs it (seeded data order from an in-memory prepared array,
noise from the run's generator, the step functions of ttur.train.steps, losses kept on the device) plus the
per-update checks of the loop (minute budget, stop flag, a loss read every 100 updates). Plain: the same maths
written inline on one fixed device batch. Rounds alternate ours/plain (and which goes first) so that load on a
shared machine hits both; the medians over rounds are compared.

    python benchmarks/train_speed.py                      # CPU, moderate sizes, a few minutes
    python benchmarks/train_speed.py --device cuda --image-size 64 --width 64 --batch-size 64
"""

from __future__ import annotations

import argparse
import copy
import statistics
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from ttur.train.batches import Prepared
from ttur.train.settings import TrainSettings
from ttur.train.trainer import CHECK_EVERY, Trainer


def make_trainer(model: str, args: argparse.Namespace, device: torch.device) -> Trainer:
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(args.batch_size * 8, args.image_size, args.image_size, 3), dtype=np.uint8)
    settings = TrainSettings(
        model=model, dataset="bench", data=Path("unused"), method="ttur", lr_d=1e-4, lr_g=1e-4, seed=0,
        updates=10**9, stats=Path("unused"), critic_iters=args.critic_iters if model == "wgangp" else 1,
        batch_size=args.batch_size, width=args.width, device=str(device), channels_last=args.channels_last,
    )  # fmt: skip
    return Trainer(settings, Prepared("images", images, None, {}), device)


def ours(trainer: Trainer, n: int) -> None:
    """The body of ttur.train.loop.Run.run between evaluations."""
    start, budget, stop_signum = time.perf_counter(), None, None
    for _ in range(n):
        _ = budget is not None and (time.perf_counter() - start) / 60 >= budget
        if stop_signum is not None:
            break
        trainer.update()
        if trainer.step % CHECK_EVERY == 0:
            trainer.losses.flush()


def plain_dcgan(G, D, opt_d, opt_g, real: torch.Tensor, z_dim: int, n: int) -> None:
    batch = real.shape[0]
    ones = torch.ones(batch, device=real.device)
    zeros = torch.zeros(batch, device=real.device)
    for _ in range(n):
        z = torch.rand(batch, z_dim, device=real.device) * 2 - 1
        fake = G(z)
        opt_d.zero_grad()
        loss_d = F.binary_cross_entropy_with_logits(D(real), ones) + F.binary_cross_entropy_with_logits(
            D(fake.detach()), zeros
        )
        loss_d.backward()
        opt_d.step()
        opt_g.zero_grad()
        D.requires_grad_(False)
        F.binary_cross_entropy_with_logits(D(fake), ones).backward()
        D.requires_grad_(True)
        opt_g.step()


def plain_wgangp(G, D, opt_d, opt_g, real: torch.Tensor, z_dim: int, critic_iters: int, n: int) -> None:
    batch = real.shape[0]
    for _ in range(n):
        for _ in range(critic_iters):
            z = torch.randn(batch, z_dim, device=real.device)
            with torch.no_grad():
                fake = G(z)
            alpha = torch.rand(batch, 1, 1, 1, device=real.device)
            x_hat = (real + alpha * (fake - real)).requires_grad_(True)
            opt_d.zero_grad()
            (grad,) = torch.autograd.grad(D(x_hat).sum(), x_hat, create_graph=True)
            gp = ((grad.flatten(1).norm(2, dim=1) - 1) ** 2).mean()
            loss = D(fake).mean() - D(real).mean() + 10.0 * gp
            loss.backward()
            opt_d.step()
        opt_g.zero_grad()
        D.requires_grad_(False)
        (-D(G(torch.randn(batch, z_dim, device=real.device))).mean()).backward()
        D.requires_grad_(True)
        opt_g.step()


def timed(fn, device: torch.device) -> float:
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    start = time.perf_counter()
    fn()
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return time.perf_counter() - start


def bench(model: str, args: argparse.Namespace, device: torch.device) -> dict[str, float]:
    trainer = make_trainer(model, args, device)
    G, D = copy.deepcopy(trainer.pair.generator), copy.deepcopy(trainer.pair.discriminator)
    fused = device.type == "cuda" or None
    betas = (trainer.settings.beta1, trainer.settings.beta2)
    opt_d = torch.optim.Adam(D.parameters(), lr=1e-4, betas=betas, eps=1e-8, fused=fused)
    opt_g = torch.optim.Adam(G.parameters(), lr=1e-4, betas=betas, eps=1e-8, fused=fused)
    real = trainer.batches.next()
    z_dim, n = trainer.settings.z_dim, args.updates

    def run_plain(count: int) -> None:
        if model == "dcgan":
            plain_dcgan(G, D, opt_d, opt_g, real, z_dim, count)
        else:
            plain_wgangp(G, D, opt_d, opt_g, real, z_dim, trainer.settings.critic_iters, count)

    timed(lambda: ours(trainer, 3), device)  # warm-up (allocator, cuDNN autotuning)
    timed(lambda: run_plain(3), device)
    ours_s, plain_s = [], []
    for round_index in range(args.rounds):  # alternate which goes first, so order effects cancel
        if round_index % 2:
            plain_s.append(timed(lambda: run_plain(n), device))
        ours_s.append(timed(lambda: ours(trainer, n), device))
        if not round_index % 2:
            plain_s.append(timed(lambda: run_plain(n), device))
    ours_ups, plain_ups = n / statistics.median(ours_s), n / statistics.median(plain_s)
    return {"ours": ours_ups, "plain": plain_ups, "ratio": ours_ups / plain_ups}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--models", nargs="+", default=["dcgan", "wgangp"])
    parser.add_argument("--image-size", type=int, default=32)
    parser.add_argument("--width", type=int, default=16)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--critic-iters", type=int, default=1)
    parser.add_argument("--updates", type=int, default=10, help="updates per timed round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1, help="CPU threads (torch.set_num_threads)")
    parser.add_argument("--cudnn-benchmark", action="store_true")
    parser.add_argument("--tf32", action="store_true")
    parser.add_argument("--channels-last", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.set_flush_denormal(True)  # denormal floats slow CPU arithmetic unevenly between the two loops' weights
    device = torch.device(args.device)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = args.cudnn_benchmark
        torch.backends.cuda.matmul.allow_tf32 = args.tf32
        torch.backends.cudnn.allow_tf32 = args.tf32
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else f"cpu, {args.threads} thread(s)"
    print(f"device {name}; torch {torch.__version__}; image {args.image_size}, width {args.width}, "
          f"batch {args.batch_size}, critic_iters {args.critic_iters}, {args.rounds} rounds x {args.updates} updates, "
          f"cudnn_benchmark={args.cudnn_benchmark} tf32={args.tf32} channels_last={args.channels_last}")  # fmt: skip
    print(f"{'model':8} {'ours upd/s':>11} {'plain upd/s':>12} {'ours/plain':>11}")
    for model in args.models:
        result = bench(model, args, device)
        print(f"{model:8} {result['ours']:11.2f} {result['plain']:12.2f} {result['ratio']:11.3f}")


if __name__ == "__main__":
    main()
