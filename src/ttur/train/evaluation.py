"""In-process evaluation of the generator: FID for images, JSD for text, plus the sample grid or text file.

Evaluation noise comes from a CPU generator seeded with (seed, step), so an evaluation neither consumes nor
depends on the training streams, and a resumed run evaluates exactly the samples an uninterrupted run would.
The generator runs in the reference's sampling mode (`ttur.models.sampling`: DCGAN BN on running averages,
WGAN-GP BN on the statistics of each generation batch) and returns to training mode afterwards.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ttur.errors import UserError
from ttur.io import atomic_path, sha256_file, write_text
from ttur.models import GanPair, sampling
from ttur.train.seeds import EVAL_STREAM, GRID_STREAM, derive_seed
from ttur.train.settings import TrainSettings

GRID = 64  # an 8x8 grid of images from one fixed noise batch


def _eval_noise(seed: int, step: int) -> torch.Generator:
    return torch.Generator().manual_seed(derive_seed(seed, EVAL_STREAM, step))


class GeneratedImages:
    """`sample(k)` for FidEvaluator: serves k uint8 images from generation batches of a fixed size.

    Batches of `batch_size` keep WGAN-GP's batch-statistics BN the reference's (batches of 1000), whatever k the
    feature extractor asks for.
    """

    def __init__(self, pair: GanPair, noise: torch.Generator, batch_size: int, pixels: str, device: torch.device):
        self.pair, self.noise, self.batch_size, self.pixels, self.device = pair, noise, batch_size, pixels, device
        self.buffer = torch.empty(0, dtype=torch.uint8, device=device)

    def __call__(self, k: int) -> torch.Tensor:
        from ttur.metrics.fid import to_uint8

        while len(self.buffer) < k:
            images = self.pair.generator(self.pair.sample_noise(self.batch_size, self.noise, self.device))
            self.buffer = torch.cat([self.buffer, to_uint8(images, self.pixels)])
        taken, self.buffer = self.buffer[:k], self.buffer[k:]
        return taken


class FidEvaluation:
    """FID of `eval_samples` generated images against the real statistics, with the extractor loaded once."""

    def __init__(self, settings: TrainSettings, device: torch.device) -> None:
        from ttur.metrics.features import load_extractor
        from ttur.metrics.fid import FidEvaluator

        self.settings = settings
        self.device = device
        self.extractor = load_extractor(settings.extractor, settings.weights, device)
        self.evaluator = FidEvaluator(settings.stats, self.extractor, settings.feature_batch_size)
        self.columns = ["fid"]
        self.best_key = "fid"

    def info(self) -> dict[str, Any]:
        return {
            "extractor": {"name": self.extractor.name, "weights_sha256": self.extractor.weights_sha256},
            "stats_sha256": sha256_file(self.settings.stats),
        }

    def evaluate(self, pair: GanPair, step: int, samples_dir: Path) -> tuple[dict[str, float], str]:
        """FID at this step, and the sample grid `samples_dir/step{step:07d}.png`."""
        from torchvision.utils import save_image

        with sampling(pair.generator):
            grid_noise = torch.Generator().manual_seed(derive_seed(self.settings.seed, GRID_STREAM))
            grid = pair.generator(pair.sample_noise(GRID, grid_noise, self.device)).float().cpu()
            with atomic_path(samples_dir / f"step{step:07d}.png") as tmp:
                save_image(grid.nan_to_num(0.0), tmp, nrow=8, normalize=True, value_range=(-1, 1), format="png")
            sample = GeneratedImages(
                pair,
                _eval_noise(self.settings.seed, step),
                self.settings.eval_batch_size,
                self.settings.pixels,
                self.device,
            )
            result = self.evaluator.evaluate(sample, self.settings.eval_samples)
        return {"fid": result.value}, result.note


class JsdEvaluation:
    """JSD for each n of `jsd_ns` between `eval_samples` argmax-decoded sequences and the real n-gram model."""

    def __init__(self, settings: TrainSettings, charmap: list[str], device: torch.device) -> None:
        from ttur.metrics.jsd import JsdEvaluator, NgramModel

        self.settings = settings
        self.device = device
        self.charmap = charmap
        if not settings.stats.is_file():
            raise UserError(f"n-gram model {settings.stats} does not exist; create it with `ttur ngrams`")
        try:
            real = NgramModel.load(settings.stats)
        except (ValueError, OSError) as error:
            message = f"cannot read n-gram model {settings.stats} ({error}); rebuild it with `ttur ngrams`"
            raise UserError(message) from error
        if real.vocab_size != len(charmap):
            raise UserError(
                f"n-gram model {settings.stats} has {real.vocab_size} symbols but the dataset's charmap has "
                f"{len(charmap)}; build the model from the same prepared dataset"
            )
        if max(settings.jsd_ns) > real.max_n:
            raise UserError(f"jsd_ns asks for n up to {max(settings.jsd_ns)}; {settings.stats} stops at {real.max_n}")
        self.evaluator = JsdEvaluator(real, settings.jsd_ns)
        self.columns = [f"jsd{n}" for n in settings.jsd_ns]
        self.best_key = "jsd4" if 4 in settings.jsd_ns else self.columns[-1]

    def info(self) -> dict[str, Any]:
        return {"extractor": None, "stats_sha256": sha256_file(self.settings.stats)}

    def evaluate(self, pair: GanPair, step: int, samples_dir: Path) -> tuple[dict[str, float], str]:
        """JSD at this step; the decoded samples go to `samples_dir/step{step:07d}.txt`."""
        noise = _eval_noise(self.settings.seed, step)
        chunks, finite = [], True
        with sampling(pair.generator):
            for start in range(0, self.settings.eval_samples, self.settings.eval_batch_size):
                count = min(self.settings.eval_batch_size, self.settings.eval_samples - start)
                probs = pair.generator(pair.sample_noise(count, noise, self.device))
                finite = finite and bool(torch.isfinite(probs).all())
                chunks.append(probs.argmax(dim=-1).cpu())
        tokens = torch.cat(chunks).numpy().astype(np.int64)
        lines = ["".join(self.charmap[t] for t in row) for row in tokens]
        write_text(samples_dir / f"step{step:07d}.txt", "\n".join(lines) + "\n")
        if not finite:
            return {c: math.nan for c in self.columns}, "generated probabilities contain NaN or infinity"
        return self.evaluator.evaluate(tokens), ""


def build_evaluation(
    settings: TrainSettings, charmap: list[str] | None, device: torch.device
) -> FidEvaluation | JsdEvaluation:
    """The evaluation of the run's metric (loads the extractor / n-gram model once)."""
    if settings.metric == "jsd":
        if charmap is None:
            raise UserError(f"metric jsd needs a text dataset, but {settings.data} holds images")
        return JsdEvaluation(settings, charmap, device)
    return FidEvaluation(settings, device)
