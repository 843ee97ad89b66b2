"""One prepared GPU check: CUDA-vs-CPU correctness of the FID engine and the training step, and device throughput.

Written for a lent H200 (no network, ~5 minutes): it needs torch (and torchvision, numpy, scipy), imports `ttur`
from `src/` when the package is not installed, and builds `inception-v3-compat` from a weights file of seeded
random values (the published 95 MB file cannot travel), loaded through the production path with that file's own
sha256. Its outputs are therefore *not* Inception FIDs; they measure agreement and cost, never quality.

Sections (each guarded: an exception is recorded in the JSON and the next section runs):
  1. correctness: Inception pool/logits, StreamingMoments + Fréchet distance (also vs scipy's sqrtm), and one
     DCGAN and one WGAN-GP update, each computed on the CPU and on the device from the same inputs;
  2. throughput: Inception images/s (float32, TF32) and the FID change under TF32; Fréchet distance per evaluation
     vs pytorch-fid; one 50,000-sample DCGAN FID evaluation; training updates/s with each GPU option.

    PYTHONPATH=src python benchmarks/gpu_check.py --out $OUT         # on the device machine (~3-5 min)
    .venv/bin/python benchmarks/gpu_check.py --device cpu --quick --out /tmp/check   # tiny sizes, code path only

Writes OUT/gpu_check.json (every number, tolerance and error) and OUT/gpu_check.md (a table for RESULTS.md),
rewritten after every section so that a run cut short still leaves what it measured.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import importlib.util
import json
import math
import platform
import shutil
import sys
import tempfile
import time
import traceback
import warnings
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if importlib.util.find_spec("ttur") is None:  # a fresh machine: the package is not installed, use the checkout
    sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "benchmarks"))  # train_speed.py: the training benchmark's loops are reused as they are

import numpy as np  # noqa: E402
import torch  # noqa: E402

# Tolerances, written into the output next to each value.
TOL_INCEPTION = 1e-3  # max |device − CPU| / max |CPU| of pool features and logits, float32, TF32 off
TOL_MOMENTS = 1e-10  # max |device − CPU| / max |CPU| of the float64 mean and covariance
TOL_FID_DEVICE = 1e-9  # |FID device − FID CPU| / FID, float64
TOL_FID_SCIPY = 1e-6  # |FID ours − FID via scipy sqrtm| / FID, the tests' tolerance
TOL_TRAIN64 = 1e-9  # ‖device − CPU‖ / ‖CPU‖ over a network's parameters (or gradients) after one update, float64
TRAIN32_FACTOR = 10.0  # float32, TF32 off: device error vs CPU float64 ≤ this × the CPU float32 error ...
TRAIN32_FLOOR = 1e-5  # ... or this, whichever is larger (one_update says why float32 needs this form)
TOL_LOSS = 1e-4  # |device − CPU| / max(1, |CPU|) of each loss
TF32_RULE = 1e-3  # reduced precision is allowed only if FID moves by at most this, relative to float32


@dataclass(frozen=True)
class Sizes:
    """Every size the check uses; `--quick` swaps in tiny ones so the CPU run only exercises the code path."""

    inception_images: int  # CPU-vs-device Inception batch (64x64 uint8)
    moments_dim: int
    moments_n: int
    moments_batch: int
    train_image: int
    train_width: int
    train_batch: int
    inception_batch: int  # throughput batch
    inception_warmup: int
    inception_batches: int  # timed batches per precision
    tf32_images: int  # images per side for the TF32 FID change
    fid_samples: int  # the full evaluation
    fid_generation_batch: int
    fid_feature_batch: int
    frechet_repeats: int
    dcgan_rounds: int
    dcgan_updates: int
    wgangp_rounds: int
    wgangp_updates: int


FULL = Sizes(16, 2048, 10_000, 2_000, 64, 64, 64, 200, 2, 10, 5_000, 50_000, 1_000, 200, 3, 5, 50, 3, 20)
QUICK = Sizes(2, 64, 300, 100, 32, 8, 8, 2, 0, 1, 2, 6, 4, 3, 1, 1, 2, 1, 1)

LR = {"dcgan": (1e-5, 5e-4), "wgangp": (3e-4, 1e-4)}  # (lr_d, lr_g): the paper's TTUR pairs (CelebA DCGAN)


class Skip(Exception):
    """A section that cannot run here (a missing optional package, the time budget); recorded, not an error."""


def log(message: str) -> None:
    print(message, flush=True)


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def timed(fn: Callable[[], Any], device: torch.device) -> float:
    """Seconds of one call, with the device drained before and after."""
    sync(device)
    start = time.perf_counter()
    fn()
    sync(device)
    return time.perf_counter() - start


def network_forward(extractor: Any) -> Any:
    """The extractor's network without its float32 guard, so the backend flags set around it take effect."""

    @torch.no_grad()
    def forward(images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        return extractor.network(images.to(extractor.device))

    return forward


@contextlib.contextmanager
def backend_flags(
    benchmark: bool = False, tf32_matmul: bool = False, tf32_cudnn: bool = False, deterministic: bool = False
) -> Iterator[None]:
    """Set cuDNN autotuning, TF32 (matmul, convolutions) and cuDNN determinism; restore the previous values."""
    saved = (
        torch.backends.cudnn.benchmark,
        torch.backends.cuda.matmul.allow_tf32,
        torch.backends.cudnn.allow_tf32,
        torch.backends.cudnn.deterministic,
    )
    torch.backends.cudnn.benchmark = benchmark
    torch.backends.cuda.matmul.allow_tf32 = tf32_matmul
    torch.backends.cudnn.allow_tf32 = tf32_cudnn
    torch.backends.cudnn.deterministic = deterministic
    try:
        yield
    finally:
        (
            torch.backends.cudnn.benchmark,
            torch.backends.cuda.matmul.allow_tf32,
            torch.backends.cudnn.allow_tf32,
            torch.backends.cudnn.deterministic,
        ) = saved


def relative_max(value: torch.Tensor, reference: torch.Tensor) -> float:
    """max |value − reference| / max |reference|, computed on the CPU in float64."""
    value, reference = value.detach().cpu().double(), reference.detach().cpu().double()
    return float((value - reference).abs().max() / reference.abs().max().clamp_min(1e-300))


def relative_l2(values: list[torch.Tensor], references: list[torch.Tensor]) -> float:
    """‖values − references‖ / ‖references‖ over all tensors together, float64 on the CPU."""
    diff = sum(
        float((v.detach().cpu().double() - r.detach().cpu().double()).pow(2).sum())
        for v, r in zip(values, references, strict=True)
    )
    norm = sum(float(r.detach().cpu().double().pow(2).sum()) for r in references)
    return math.sqrt(diff) / max(math.sqrt(norm), 1e-300)


class Check:
    """The whole run: sizes, devices, the report and its files."""

    def __init__(self, device: torch.device, sizes: Sizes, quick: bool, out: Path, budget_s: float) -> None:
        self.device, self.sizes, self.quick, self.out, self.budget_s = device, sizes, quick, out, budget_s
        self.cpu = torch.device("cpu")
        self.start = time.perf_counter()
        self.tmp = Path(tempfile.mkdtemp(prefix="gpu_check_"))
        self._extractors: dict[str, Any] = {}
        self._frechet_inputs: tuple[np.ndarray, ...] | None = None  # 2048-d statistics, from the moments section
        self.report: dict[str, Any] = {
            "mode": "quick" if quick else "full",
            "device": describe_device(device),
            "versions": versions(),
            "default_flags": {  # PyTorch's defaults at start: cuDNN convolutions already use TF32 unless told not to
                "cudnn_benchmark": torch.backends.cudnn.benchmark,
                "tf32_matmul": torch.backends.cuda.matmul.allow_tf32,
                "tf32_cudnn": torch.backends.cudnn.allow_tf32,
            },
            "sizes": asdict(sizes),
            "started": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
            "checks": [],
            "sections": {},
            "section_seconds": {},
            "errors": {},
            "skipped": {},
        }

    def elapsed(self) -> float:
        return time.perf_counter() - self.start

    def check(self, name: str, value: float, tolerance: float, what: str) -> None:
        """Record one correctness comparison: passes when `value` is finite and at most `tolerance`."""
        passed = bool(math.isfinite(value) and value <= tolerance)
        self.report["checks"].append(
            {"name": name, "value": value, "tolerance": tolerance, "pass": passed, "what": what}
        )
        log(f"  {'PASS' if passed else 'FAIL'} {name}: {value:.3g} (tolerance {tolerance:g}) {what}")

    def section(self, name: str, fn: Callable[[], dict[str, Any]]) -> None:
        """Run one section; its result, error or skip reason goes into the report, which is written at once."""
        if self.elapsed() > self.budget_s:
            self.report["skipped"][name] = f"time budget of {self.budget_s:.0f} s spent before the section began"
            log(f"== {name}: skipped (budget)")
            self.write()
            return
        log(f"== {name} (at {self.elapsed():.0f} s)")
        start = time.perf_counter()
        try:
            self.report["sections"][name] = fn()
        except Skip as reason:
            self.report["skipped"][name] = str(reason)
            log(f"  skipped: {reason}")
        except Exception as error:  # one failing section must not lose the others
            self.report["errors"][name] = "".join(traceback.format_exception(error))
            log(f"  ERROR: {type(error).__name__}: {error}")
        self.report["section_seconds"][name] = round(time.perf_counter() - start, 2)
        self.write()

    def write(self) -> None:
        self.report["elapsed_s"] = round(self.elapsed(), 2)
        from ttur.io import write_json, write_text

        write_json(self.out / "gpu_check.json", self.report)
        write_text(self.out / "gpu_check.md", markdown(self.report))

    # ----- shared inputs ---------------------------------------------------------------------------------------

    def extractor(self, device: torch.device) -> Any:
        """inception-v3-compat with seeded random weights, loaded through `load_extractor`, one per device."""
        if importlib.util.find_spec("torch_fidelity") is None:
            raise Skip("torch-fidelity is not installed (carry it: see RESULTS.md, 'GPU check')")
        if device.type not in self._extractors:
            from ttur.io import sha256_file
            from ttur.metrics.features import load_extractor

            path = self.tmp / "weights-random-seeded.pth"
            if not path.exists():
                write_random_inception(path)
            self._extractors[device.type] = load_extractor(
                "inception-v3-compat", path, device, expected_sha256=sha256_file(path)
            )
        return self._extractors[device.type]

    def images(self, n: int, size: int, seed: int) -> torch.Tensor:
        generator = torch.Generator().manual_seed(seed)
        return torch.randint(0, 256, (n, 3, size, size), generator=generator, dtype=torch.uint8)

    def real_like(self, n: int) -> torch.Tensor:
        """Smooth random 64x64 uint8 images (8x8 noise, bilinear up): the 'real' side of the FID measurements."""
        generator = torch.Generator().manual_seed(7)
        small = torch.rand(n, 3, 8, 8, generator=generator)
        large = torch.nn.functional.interpolate(small, size=(64, 64), mode="bilinear", align_corners=False)
        return (large * 255).round().to(torch.uint8)

    def generated_like(self, n: int, seed: int) -> torch.Tensor:
        """DCGAN 64x64 samples (random init, batch-statistics BN) as uint8, generated on the device in chunks."""
        from ttur.metrics.fid import to_uint8
        from ttur.models import build_gan

        torch.manual_seed(seed)
        pair = build_gan("dcgan", 64, 64, 100, 0, 0, "per_sample")
        generator = pair.generator.to(self.device)
        noise = torch.Generator().manual_seed(seed)
        chunks = []
        with torch.no_grad():
            for start in range(0, n, 1000):
                z = pair.sample_noise(min(1000, n - start), noise, self.device)
                chunks.append(to_uint8(generator(z)))
        return torch.cat(chunks)

    def features(self, extractor: Any, images: torch.Tensor) -> torch.Tensor:
        batch = self.sizes.inception_batch
        return torch.cat([extractor(images[i : i + batch])[0] for i in range(0, len(images), batch)])

    # ----- 1. correctness --------------------------------------------------------------------------------------

    def inception_correctness(self) -> dict[str, Any]:
        images = self.images(self.sizes.inception_images, 64, seed=0)
        with backend_flags():
            pool_cpu, logits_cpu = self.extractor(self.cpu)(images)
            pool_dev, logits_dev = self.extractor(self.device)(images)
        pool_diff = relative_max(pool_dev, pool_cpu)
        logits_diff = relative_max(logits_dev, logits_cpu)
        what = "max |device - CPU| / max |CPU|, float32, TF32 off, 64x64 uint8 resized in-graph to 299"
        self.check("inception_pool", pool_diff, TOL_INCEPTION, what)
        self.check("inception_logits", logits_diff, TOL_INCEPTION, what)
        return {
            "images": len(images),
            "weights": "seeded random values in the published layout (NOT the real Inception weights)",
            "pool_relative_max": pool_diff,
            "logits_relative_max": logits_diff,
            "pool_scale": float(pool_cpu.abs().max()),
        }

    def moments_and_distance(self) -> dict[str, Any]:
        from scipy import linalg

        from ttur.metrics.fid import frechet_distance
        from ttur.metrics.stats import StreamingMoments

        s = self.sizes
        real = decaying_features(s.moments_n, s.moments_dim, shift=0.0, seed=1)
        fake = decaying_features(s.moments_n, s.moments_dim, shift=0.05, seed=2)
        stats = {}
        for label, device in (("cpu", self.cpu), ("device", self.device)):
            pair = []
            for features in (real, fake):
                moments = StreamingMoments(s.moments_dim, device)
                for i in range(0, len(features), s.moments_batch):
                    moments.update(features[i : i + s.moments_batch].to(device))
                mu, sigma, _ = moments.finalize()
                pair.append((mu, sigma))
            stats[label] = pair
        (mu1c, s1c), (mu2c, s2c) = stats["cpu"]
        (mu1d, s1d), (mu2d, s2d) = stats["device"]
        mu_diff = max(relative_max(mu1d, mu1c), relative_max(mu2d, mu2c))
        sigma_diff = max(relative_max(s1d, s1c), relative_max(s2d, s2c))
        fid_cpu = frechet_distance(mu1c, s1c, mu2c, s2c).value
        fid_dev = frechet_distance(mu1d, s1d, mu2d, s2d).value
        a1, b1, a2, b2 = (t.cpu().numpy() for t in (mu1c, s1c, mu2c, s2c))
        start = time.perf_counter()
        covmean = linalg.sqrtm(b1 @ b2).real
        scipy_s = time.perf_counter() - start
        fid_scipy = float((a1 - a2) @ (a1 - a2) + np.trace(b1) + np.trace(b2) - 2 * np.trace(covmean))
        self.check("moments_mean", mu_diff, TOL_MOMENTS, "StreamingMoments float64, max |device - CPU| / max |CPU|")
        self.check("moments_covariance", sigma_diff, TOL_MOMENTS, "as above, covariance")
        self.check("fid_device_vs_cpu", abs(fid_dev - fid_cpu) / fid_cpu, TOL_FID_DEVICE, "relative, float64")
        self.check("fid_vs_scipy_sqrtm", abs(fid_cpu - fid_scipy) / fid_scipy, TOL_FID_SCIPY, "relative (TTUR formula)")
        self._frechet_inputs = (a1, b1, a2, b2)
        return {
            "dim": s.moments_dim,
            "samples": s.moments_n,
            "fid_cpu": fid_cpu,
            "fid_device": fid_dev,
            "fid_scipy": fid_scipy,
            "scipy_sqrtm_s": scipy_s,
        }

    def training_step(self, model: str) -> dict[str, Any]:
        with backend_flags(deterministic=True):  # cuDNN: deterministic algorithms, no TF32
            return self.one_update(model)

    def one_update(self, model: str) -> dict[str, Any]:
        """One update of `model` on the CPU and the device, float32 and float64, from the same weights and inputs.

        float64 on both sides checks that the device computes the same function (rounding is ~1e-15 there).
        float32 cannot be compared element by element: in a DCGAN G step float32 rounding alone moves G's
        gradients by ~1e-3 relative (CPU float32 vs CPU float64, measured), and Adam's first step is lr·sign(g),
        so gradients that are zero in exact arithmetic (a conv bias before BN) get random ±lr moves. So the device's
        float32 error against the CPU float64 result must be at most 10x the CPU float32 error (and may be 1e-5).
        """
        from ttur.train.steps import dcgan_update, wgan_critic_step, wgan_generator_step

        s = self.sizes
        variants = {"cpu64": self.cpu, "cpu32": self.cpu, "dev64": self.device, "dev32": self.device}
        trainers = {label: make_trainer(model, s, device) for label, device in variants.items()}
        base = trainers["cpu32"]
        for label, trainer in trainers.items():
            if label.endswith("64"):  # in place: the optimisers keep the same Parameter objects
                trainer.pair.generator.double()
                trainer.pair.discriminator.double()
            trainer.pair.generator.load_state_dict(base.pair.generator.state_dict())
            trainer.pair.discriminator.load_state_dict(base.pair.discriminator.state_dict())
        real = base.batches.next()
        draw = torch.Generator().manual_seed(11)
        z1 = base.pair.sample_noise(s.train_batch, draw, self.cpu)
        z2 = base.pair.sample_noise(s.train_batch, draw, self.cpu)
        alpha = torch.rand(s.train_batch, generator=draw)
        losses = {}
        for label, trainer in trainers.items():
            g, d = trainer.pair.generator, trainer.pair.discriminator
            dtype = torch.float64 if label.endswith("64") else torch.float32
            x, a, b, t = (v.to(trainer.device, dtype) for v in (real, z1, z2, alpha))
            if model == "dcgan":
                losses[label] = dcgan_update(g, d, trainer.opt_d, trainer.opt_g, x, a)
            else:
                d_loss = wgan_critic_step(g, d, trainer.opt_d, x, a, t, 10.0)
                losses[label] = (d_loss, wgan_generator_step(g, d, trainer.opt_g, b))
        result: dict[str, Any] = {}
        for net in ("generator", "discriminator"):
            params = {label: list(getattr(trainer.pair, net).parameters()) for label, trainer in trainers.items()}
            grads = {label: [p.grad for p in values] for label, values in params.items()}
            lr = base.settings.lr_g if net == "generator" else base.settings.lr_d
            part: dict[str, Any] = {"lr": lr}
            for kind, values in (("parameters", params), ("gradients", grads)):
                exact = relative_l2(values["dev64"], values["cpu64"])
                self.check(f"train_{model}_{net}_{kind}_float64", exact, TOL_TRAIN64, "relative L2, device vs CPU")
                cpu_error = relative_l2(values["cpu32"], values["cpu64"])
                dev_error = relative_l2(values["dev32"], values["cpu64"])
                tolerance = max(TRAIN32_FACTOR * cpu_error, TRAIN32_FLOOR)
                self.check(
                    f"train_{model}_{net}_{kind}_float32",
                    dev_error,
                    tolerance,
                    f"relative L2 vs CPU float64; tolerance {TRAIN32_FACTOR:g}x the CPU float32 error "
                    f"{cpu_error:.2e}, at least {TRAIN32_FLOOR:g}",
                )
                part[kind] = {
                    "float64_device_vs_cpu": exact,
                    "float32_cpu_vs_cpu64": cpu_error,
                    "float32_device_vs_cpu64": dev_error,
                    "float32_device_vs_cpu32": relative_l2(values["dev32"], values["cpu32"]),
                }
            part["float32_elements_differing_by_more_than_lr"] = sum(
                int(((p.detach().cpu() - q.detach()).abs() > lr).sum())
                for p, q in zip(params["dev32"], params["cpu32"], strict=True)
            )
            result[net] = part
        for index, name in enumerate(("d_loss", "g_loss")):
            values = {label: float(pair[index]) for label, pair in losses.items()}
            diff = abs(values["dev32"] - values["cpu32"]) / max(1.0, abs(values["cpu32"]))
            self.check(f"train_{model}_{name}", diff, TOL_LOSS, "float32, |device - CPU| / max(1, |CPU|)")
            result[name] = values
        result.update(
            image_size=s.train_image, width=s.train_width, batch=s.train_batch, critic_iters=1, lr_d_lr_g=LR[model]
        )
        return result

    # ----- 2. throughput ---------------------------------------------------------------------------------------

    def inception_speed(self) -> dict[str, Any]:
        """Images/s of the extractor (64x64 uint8 already on the device) per precision, and TF32's effect on FID."""
        extractor = self.extractor(self.device)
        s = self.sizes
        batch = self.images(s.inception_batch, 64, seed=3).to(self.device)
        precisions = {
            "float32": {},
            "pytorch_default": {"tf32_cudnn": True},  # PyTorch's default flags (TF32 convolutions)
            "tf32": {"tf32_matmul": True, "tf32_cudnn": True},
        }
        # The extractor's own __call__ forces float32 (TF32 off); its network runs under whatever flags are set.
        forward = network_forward(extractor)
        speed = {}
        for label, flags in precisions.items():
            with backend_flags(**flags):
                for _ in range(s.inception_warmup):
                    forward(batch)
                seconds = timed(lambda: [forward(batch) for _ in range(s.inception_batches)], self.device)
            speed[label] = s.inception_batches * s.inception_batch / seconds
            log(f"  {label}: {speed[label]:.0f} images/s")
        fid = self.tf32_fid(extractor, precisions)
        return {"batch": s.inception_batch, "input": "64x64 uint8 on the device", "images_per_s": speed, **fid}

    def tf32_fid(self, extractor: Any, precisions: dict[str, dict[str, bool]]) -> dict[str, Any]:
        """FID of generated-like vs real-like images under each precision, both sides in it and real in float32."""
        from ttur.metrics.fid import RealReference
        from ttur.metrics.stats import StreamingMoments

        n = self.sizes.tf32_images
        real_images, fake_images = self.real_like(n), self.generated_like(n, seed=5)
        forward = network_forward(extractor)

        def moments(images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            accumulator = StreamingMoments(extractor.dim, self.device)
            for i in range(0, len(images), self.sizes.inception_batch):
                accumulator.update(forward(images[i : i + self.sizes.inception_batch])[0])
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # quick mode: fewer samples than dimensions
                mu, sigma, _ = accumulator.finalize()
            return mu, sigma

        stats = {}
        for label, flags in precisions.items():
            with backend_flags(**flags):
                stats[label] = (moments(real_images.to(self.device)), moments(fake_images))
        real32, fake32 = stats["float32"]
        reference32 = RealReference(*real32, self.device)  # one factorisation per real statistics
        reference = reference32.distance(*fake32).value
        values, changes = {}, {}
        for label, (real, fake) in stats.items():
            own = reference32 if label == "float32" else RealReference(*real, self.device)
            both = own.distance(*fake).value
            mixed = reference32.distance(*fake).value  # real statistics made in float32, samples in `label`
            values[label] = {"both_sides": both, "real_float32": mixed}
            changes[label] = max(abs(both - reference), abs(mixed - reference)) / abs(reference)
            log(f"  FID {label}: {both:.6f} (real in float32: {mixed:.6f}); relative change {changes[label]:.2e}")
        allowed = {label: bool(change <= TF32_RULE) for label, change in changes.items()}
        return {
            "fid_images_per_side": n,
            "fid": values,
            "fid_relative_change_vs_float32": changes,
            "fid_rule": TF32_RULE,
            "precision_allowed_by_rule": allowed,
        }

    def frechet_speed(self) -> dict[str, Any]:
        """Our per-evaluation distance (cached real factor) on the device vs pytorch-fid's on the CPU, 2048-d."""
        from ttur.metrics.fid import RealReference

        inputs = self._frechet_inputs
        if inputs is None:
            raise Skip("the statistics come from the moments section, which did not finish")
        mu1, sigma1, mu2, sigma2 = inputs
        reference = None

        def build() -> None:
            nonlocal reference
            reference = RealReference(mu1, sigma1, self.device)

        factor_s = timed(build, self.device)
        mu2_dev = torch.from_numpy(mu2).to(self.device)
        sigma2_dev = torch.from_numpy(sigma2).to(self.device)
        reference.distance(mu2_dev, sigma2_dev)  # warm-up: solver workspaces
        per_eval = min(
            timed(lambda: reference.distance(mu2_dev, sigma2_dev), self.device)
            for _ in range(self.sizes.frechet_repeats)
        )
        ours = reference.distance(mu2_dev, sigma2_dev).value
        result: dict[str, Any] = {"dim": len(mu1), "real_factor_s": factor_s, "ours_per_evaluation_s": per_eval}
        log(f"  ours: factor {factor_s:.3f} s, per evaluation {per_eval:.4f} s")
        if importlib.util.find_spec("pytorch_fid") is None:
            result["pytorch_fid"] = "not installed: skipped (a test extra; carry it, see RESULTS.md)"
            return result
        from pytorch_fid.fid_score import calculate_frechet_distance

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # scipy's deprecated `disp` inside pytorch-fid
            start = time.perf_counter()
            theirs = float(calculate_frechet_distance(mu1, sigma1, mu2, sigma2))
            peer_s = time.perf_counter() - start
        log(f"  pytorch-fid (CPU, scipy sqrtm): {peer_s:.2f} s; ratio {peer_s / per_eval:.1f}x")
        result.update(
            pytorch_fid_cpu_s=peer_s, ratio=peer_s / per_eval, relative_difference=abs(ours - theirs) / abs(theirs)
        )
        return result

    def full_evaluation(self) -> dict[str, Any]:
        """One in-training FID evaluation of a DCGAN 64x64: generation in batches of 1000, features, distance."""
        from ttur.metrics.fid import FidEvaluator
        from ttur.metrics.stats import StreamingMoments, save_stats
        from ttur.models import build_gan, sampling
        from ttur.train.evaluation import GeneratedImages

        extractor = self.extractor(self.device)
        s = self.sizes
        real = self.real_like(max(s.tf32_images, 2))
        moments = StreamingMoments(extractor.dim, self.device)
        moments.update(self.features(extractor, real.to(self.device)))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            mu, sigma, count = moments.finalize()
        stats = self.tmp / "real.npz"
        meta = {"n": count, "extractor": extractor.name, "weights_sha256": extractor.weights_sha256, "dim": 2048}
        save_stats(stats, mu, sigma, meta)
        evaluator = FidEvaluator(stats, extractor, s.fid_feature_batch)
        torch.manual_seed(0)
        pair = build_gan("dcgan", 64, 64, 100, 0, 0, "per_sample")
        pair.generator.to(self.device)
        sample = GeneratedImages(pair, torch.Generator().manual_seed(1), s.fid_generation_batch, "round", self.device)
        if self.device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(self.device)
        result = None

        def evaluate() -> None:
            nonlocal result
            with sampling(pair.generator), warnings.catch_warnings():
                warnings.simplefilter("ignore")  # quick mode: fewer samples than dimensions
                result = evaluator.evaluate(sample, s.fid_samples)

        with backend_flags():  # the production default of a training run: tf32 false
            seconds = timed(evaluate, self.device)
        peak = torch.cuda.max_memory_allocated(self.device) / 2**30 if self.device.type == "cuda" else None
        log(
            f"  {s.fid_samples} samples: {seconds:.1f} s ({s.fid_samples / seconds:.0f} images/s), "
            f"FID {result.value:.3f} (random weights)"
        )
        return {
            "samples": s.fid_samples,
            "generation_batch": s.fid_generation_batch,
            "feature_batch": s.fid_feature_batch,
            "precision": "float32, TF32 off",
            "seconds": seconds,
            "images_per_s": s.fid_samples / seconds,
            "peak_gpu_memory_gib": peak,
            "fid_random_weights": result.value,
        }

    def training_speed(self) -> dict[str, Any]:
        """Updates/s of `Trainer.update()` and of train_speed.py's plain loop, per GPU option."""
        import train_speed

        s = self.sizes
        options = {
            "none": {},
            "cudnn_benchmark": {"benchmark": True},
            "tf32": {"tf32_matmul": True, "tf32_cudnn": True},
            "channels_last": {},
            "all": {"benchmark": True, "tf32_matmul": True, "tf32_cudnn": True},
        }
        result: dict[str, Any] = {"image_size": s.train_image, "width": s.train_width, "batch": s.train_batch}
        for model, rounds, updates in (
            ("dcgan", s.dcgan_rounds, s.dcgan_updates),
            ("wgangp", s.wgangp_rounds, s.wgangp_updates),
        ):
            result[model] = {}
            for label, flags in options.items():
                if self.elapsed() > self.budget_s:
                    result[model][label] = "skipped: time budget spent"
                    continue
                args = argparse.Namespace(
                    batch_size=s.train_batch, image_size=s.train_image, width=s.train_width, critic_iters=1,
                    channels_last=label in ("channels_last", "all"), updates=updates, rounds=rounds,
                )  # fmt: skip
                with backend_flags(**flags):
                    measured = train_speed.bench(model, args, self.device)
                result[model][label] = measured
                log(f"  {model} {label}: ours {measured['ours']:.1f} upd/s, plain {measured['plain']:.1f}, "
                    f"ratio {measured['ratio']:.3f}")  # fmt: skip
        return result


def make_trainer(model: str, sizes: Sizes, device: torch.device) -> Any:
    """A Trainer exactly as `ttur train` builds it, over an in-memory array of random 64x64 (or quick) images."""
    from ttur.train.batches import Prepared
    from ttur.train.settings import TrainSettings
    from ttur.train.trainer import Trainer

    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(sizes.train_batch * 2, sizes.train_image, sizes.train_image, 3), dtype=np.uint8)
    lr_d, lr_g = LR[model]
    settings = TrainSettings(
        model=model, dataset="check", data=Path("unused"), method="ttur", lr_d=lr_d, lr_g=lr_g, seed=0, updates=1,
        stats=Path("unused"), critic_iters=1, batch_size=sizes.train_batch, width=sizes.train_width,
        device=str(device),
    )  # fmt: skip
    return Trainer(settings, Prepared("images", images, None, {}), device)


def write_random_inception(path: Path) -> None:
    """The Inception-v3 layout of the published weights (1008 classes), filled with seeded random values.

    The mechanism of tests/test_features.py: He-scaled convolutions, BN statistics near 1, a small classifier.
    """
    import torchvision

    network = torchvision.models.inception_v3(weights=None, aux_logits=False, num_classes=1008, init_weights=False)
    generator = torch.Generator().manual_seed(1234)
    state = network.state_dict()
    for key, tensor in state.items():
        if key.endswith("conv.weight"):
            tensor.copy_(torch.randn(tensor.shape, generator=generator) * (2.0 / tensor[0].numel()) ** 0.5)
        elif key.endswith("bn.running_var") or key.endswith("bn.weight"):
            tensor.copy_(torch.rand(tensor.shape, generator=generator) + 0.5)
        elif key.endswith("bn.running_mean") or key.endswith("bn.bias"):
            tensor.copy_(torch.randn(tensor.shape, generator=generator) * 0.1)
        elif key.startswith("fc."):
            tensor.copy_(torch.randn(tensor.shape, generator=generator) * 0.05)
    torch.save(state, path)


def decaying_features(n: int, dim: int, shift: float, seed: int) -> torch.Tensor:
    """float32 features with a decaying spectrum (like pool3's), well conditioned for n well above dim."""
    generator = torch.Generator().manual_seed(seed)
    basis, _ = torch.linalg.qr(torch.randn(dim, dim, generator=generator, dtype=torch.float64))
    scales = torch.arange(1, dim + 1, dtype=torch.float64) ** -0.5
    return ((torch.randn(n, dim, generator=generator, dtype=torch.float64) * scales) @ basis.T + shift).float()


def describe_device(device: torch.device) -> dict[str, Any]:
    if device.type != "cuda":
        return {"type": "cpu", "name": platform.processor() or platform.machine(), "threads": torch.get_num_threads()}
    props = torch.cuda.get_device_properties(device)
    return {
        "type": "cuda",
        "name": props.name,
        "memory_gib": round(props.total_memory / 2**30, 1),
        "multiprocessors": props.multi_processor_count,
        "capability": f"{props.major}.{props.minor}",
    }


def versions() -> dict[str, Any]:
    import ttur

    found = {name: importlib.util.find_spec(name) is not None for name in ("torch_fidelity", "pytorch_fid", "scipy")}
    return {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "cudnn": torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None,
        "numpy": np.__version__,
        "ttur": ttur.__version__,
        "ttur_from": str(Path(ttur.__file__).resolve().parent),
        "installed": found,
    }


def markdown(report: dict[str, Any]) -> str:
    """The report as a Markdown table (one row per number), ready to paste into benchmarks/RESULTS.md."""
    device, ver = report["device"], report["versions"]
    lines = [
        f"GPU check ({report['mode']} mode), {report['started']}: {device.get('name')} ({device['type']}); "
        f"torch {ver['torch']}, CUDA {ver['cuda']}, cuDNN {ver['cudnn']}; {report.get('elapsed_s', 0):.0f} s in all. "
        "Inception weights: seeded random values (not the published file).",
        "",
        "| section | quantity | value | tolerance / note |",
        "| --- | --- | --- | --- |",
    ]
    for check in report["checks"]:
        verdict = "pass" if check["pass"] else "**FAIL**"
        lines.append(f"| correctness | {check['name']} | {check['value']:.2e} | ≤ {check['tolerance']:g}: {verdict} |")
    sections = report["sections"]
    if "inception_speed" in sections:
        part = sections["inception_speed"]
        for label, value in part["images_per_s"].items():
            lines.append(f"| Inception (batch {part['batch']}, 64x64 in) | images/s, {label} | {value:,.0f} | |")
        for label, change in part["fid_relative_change_vs_float32"].items():
            ok = "allowed" if part["precision_allowed_by_rule"][label] else "NOT allowed"
            lines.append(
                f"| Inception | FID change, {label} vs float32 ({part['fid_images_per_side']} images/side) | "
                f"{change:.2e} | rule ≤ {part['fid_rule']:g}: {ok} |"
            )
    if "frechet_speed" in sections:
        part = sections["frechet_speed"]
        lines.append(
            f"| Fréchet distance {part['dim']}-d | ours per evaluation, device | {part['ours_per_evaluation_s']:.4f} s "
            f"| real factor once: {part['real_factor_s']:.3f} s |"
        )
        if "pytorch_fid_cpu_s" in part:
            lines.append(
                f"| Fréchet distance {part['dim']}-d | pytorch-fid on the CPU | {part['pytorch_fid_cpu_s']:.2f} s "
                f"| ratio {part['ratio']:.1f}x, rel. diff {part['relative_difference']:.1e} |"
            )
        else:
            lines.append(f"| Fréchet distance | pytorch-fid | — | {part.get('pytorch_fid')} |")
    if "full_evaluation" in sections:
        part = sections["full_evaluation"]
        memory = f", peak {part['peak_gpu_memory_gib']:.1f} GiB" if part["peak_gpu_memory_gib"] is not None else ""
        lines.append(
            f"| FID evaluation, DCGAN 64x64 | {part['samples']:,} samples (gen. batch {part['generation_batch']}, "
            f"features {part['feature_batch']}) | {part['seconds']:.1f} s | {part['images_per_s']:,.0f} images/s, "
            f"{part['precision']}{memory} |"
        )
    if "training_speed" in sections:
        part = sections["training_speed"]
        for model in ("dcgan", "wgangp"):
            for label, measured in part.get(model, {}).items():
                if isinstance(measured, dict):
                    lines.append(
                        f"| training {model} {part['image_size']}x{part['image_size']}, width {part['width']}, "
                        f"batch {part['batch']} | updates/s, options: {label} | {measured['ours']:.1f} | "
                        f"plain loop {measured['plain']:.1f}, ours/plain {measured['ratio']:.3f} |"
                    )
    for name, reason in report["skipped"].items():
        lines.append(f"| {name} | skipped | — | {reason} |")
    for name, error in report["errors"].items():
        lines.append(f"| {name} | **error** | — | {error.strip().splitlines()[-1]} |")
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, required=True, help="folder for gpu_check.json and gpu_check.md")
    parser.add_argument("--device", default="cuda", help="device to check against the CPU (cuda, cuda:1, cpu)")
    parser.add_argument("--quick", action="store_true", help="tiny sizes: exercises the code path (CPU tests)")
    parser.add_argument("--budget-s", type=float, default=270.0, help="start no new section after this many s")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)")
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        print(f"gpu_check: --device {args.device} but torch {torch.__version__} sees no CUDA device; use --device cpu")
        return 2
    if args.threads:
        torch.set_num_threads(args.threads)
    args.out.mkdir(parents=True, exist_ok=True)
    check = Check(device, QUICK if args.quick else FULL, args.quick, args.out, args.budget_s)
    log(
        f"gpu_check {check.report['mode']}: {json.dumps(check.report['device'])}; "
        f"{json.dumps(check.report['versions'])}"
    )
    try:
        check.section("inception_correctness", check.inception_correctness)
        check.section("moments_and_distance", check.moments_and_distance)
        check.section("training_step_dcgan", lambda: check.training_step("dcgan"))
        check.section("training_step_wgangp", lambda: check.training_step("wgangp"))
        check.section("inception_speed", check.inception_speed)
        check.section("frechet_speed", check.frechet_speed)
        check.section("full_evaluation", check.full_evaluation)
        check.section("training_speed", check.training_speed)
    finally:
        shutil.rmtree(check.tmp, ignore_errors=True)  # the random weights file is 95 MB
    failed = [c["name"] for c in check.report["checks"] if not c["pass"]]
    log(f"done in {check.elapsed():.0f} s: {len(check.report['checks'])} checks, {len(failed)} failed {failed}; "
        f"errors in {sorted(check.report['errors'])}; skipped {sorted(check.report['skipped'])}")  # fmt: skip
    log(f"wrote {args.out / 'gpu_check.json'} and {args.out / 'gpu_check.md'}")
    return 1 if failed or check.report["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
