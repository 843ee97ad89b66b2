"""FID and Inception Score of increasingly disturbed real images (paper Fig. 3 / A8, appendix A1).

For each disturbance and level the same random subset of the dataset is disturbed block by block and fed through
the extractor once: pool features go into the FID statistics, logits into the Inception Score. Randomness is
drawn per (seed, disturbance, level, block of `BLOCK` images), so results do not depend on the batch size.
"""

from __future__ import annotations

import csv
import io
import sys
import textwrap
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ttur.errors import UserError
from ttur.experiments import disturbances as dist
from ttur.experiments.inception_score import StreamingInceptionScore
from ttur.io import save_figure, write_text
from ttur.metrics.features import FeatureExtractor
from ttur.metrics.fid import frechet_distance
from ttur.metrics.images import image_files

BLOCK = 500  # images disturbed together with one random stream; fixed so that results ignore --batch-size
CSV_COLUMNS = (
    "disturbance",
    "level",
    "alpha",
    "fid",
    "inception_score",
    "inception_score_std",
    "ind",
    "ind_relative",
    "is_split_size",
    "n_images",
    "extractor",
    "seed",
    "note",
)
CONTAMINATION_HINT = (
    "skipped: no contamination images; pass --contamination DIR (a folder of png/jpg images from another dataset, "
    "5,000 ImageNet images in the paper, or a prepared folder with images.npy) to enable this row"
)


@dataclass(frozen=True)
class DisturbSettings:
    """What `ttur disturb` varies: sample size, batch, seed, which disturbances, swirl radius, IS splits."""

    n_images: int = 50_000
    batch_size: int = 100
    seed: int = 0
    disturbances: tuple[str, ...] = tuple(dist.DISTURBANCES)
    swirl_radius: float | None = None
    splits: int = 10


def select_indices(count: int, n_images: int, seed: int) -> np.ndarray:
    """A seeded random subset of min(n_images, count) indices, sorted for sequential reads of the memory map."""
    n = min(n_images, count)
    return np.sort(np.random.default_rng([seed, 0]).choice(count, size=n, replace=False))


def block_rng(seed: int, disturbance: str, level: int, block: int) -> np.random.Generator:
    """The random stream of one block of `BLOCK` images at one (disturbance, level)."""
    code = list(dist.DISTURBANCES).index(disturbance) + 1
    return np.random.default_rng([seed, code, level, block])


class Disturber:
    """Applies one disturbance at one level to consecutive blocks of the selected images."""

    def __init__(
        self,
        name: str,
        level: int,
        images: np.ndarray,
        indices: np.ndarray,
        settings: DisturbSettings,
        pool: np.ndarray | None,
    ) -> None:
        self.name, self.level, self.images, self.indices, self.settings = name, level, images, indices, settings
        self.alpha = dist.DISTURBANCES[name].levels[level]
        self.pool = pool
        self.noise_range: tuple[float, float] | None = None
        self.plan: tuple[np.ndarray, np.ndarray] | None = None
        if name == "gaussian_noise" and self.alpha != 0:
            self.noise_range = self._global_noise_range()
        if name == "contamination" and self.alpha != 0:
            assert pool is not None
            plan_rng = np.random.default_rng([settings.seed, 99, level])
            self.plan = dist.contamination_plan(len(indices), self.alpha, len(pool), plan_rng)

    def blocks(self) -> range:
        return range(0, len(self.indices), BLOCK)

    def _global_noise_range(self) -> tuple[float, float]:
        """Min and max of the noise over the whole set (the original scaled one randn array of all images)."""
        low, high = np.inf, -np.inf
        height, width = self.images.shape[1:3]
        for start in self.blocks():
            count = min(BLOCK, len(self.indices) - start)
            rng = block_rng(self.settings.seed, self.name, self.level, start // BLOCK)
            noise = dist.standard_noise((count, height, width, 3), rng)
            low, high = min(low, float(noise.min())), max(high, float(noise.max()))
        return low, high

    def block(self, start: int) -> np.ndarray:
        """The disturbed images `start : start + BLOCK` of the selection, uint8 n×H×W×3."""
        clean = np.ascontiguousarray(self.images[self.indices[start : start + BLOCK]])
        rng = block_rng(self.settings.seed, self.name, self.level, start // BLOCK)
        alpha = self.alpha
        if self.name == "gaussian_noise":
            return dist.gaussian_noise(clean, alpha, rng, self.noise_range)
        if self.name == "gaussian_blur":
            return dist.gaussian_blur(clean, alpha)
        if self.name == "black_rectangles":
            return dist.black_rectangles(clean, alpha, rng)
        if self.name == "swirl":
            return dist.swirl(clean, alpha, rng, self.settings.swirl_radius)
        if self.name == "salt_and_pepper":
            return dist.salt_and_pepper(clean, alpha, rng)
        if self.name == "contamination":
            if self.plan is not None and self.pool is not None:
                positions, sources = self.plan
                inside = (positions >= start) & (positions < start + len(clean))
                clean[positions[inside] - start] = self.pool[sources[inside]]
            return clean
        raise ValueError(f"unknown disturbance {self.name}")


@dataclass
class LevelResult:
    """The numbers of one (disturbance, level) row, and the first disturbed image as an example."""

    fid: float
    fid_note: str
    inception_score: float | None
    inception_score_std: float | None
    is_split_size: int | None
    ind: float | None
    n_images: int
    example: np.ndarray


def evaluate_level(
    disturber: Disturber,
    extractor: FeatureExtractor,
    mu_real: np.ndarray,
    sigma_real: np.ndarray,
    settings: DisturbSettings,
) -> LevelResult:
    """One feature pass over the disturbed images: FID against the real statistics and IS from the same logits."""
    from ttur.metrics.stats import StreamingMoments

    n = len(disturber.indices)
    moments = StreamingMoments(extractor.dim, extractor.device)
    score = StreamingInceptionScore(n, settings.splits) if extractor.has_logits else None
    example = None
    for start in disturber.blocks():
        images = disturber.block(start)
        if example is None:
            example = images[0].copy()
        for a in range(0, len(images), settings.batch_size):
            batch = torch.from_numpy(np.ascontiguousarray(images[a : a + settings.batch_size])).permute(0, 3, 1, 2)
            pool, logits = extractor(batch.to(extractor.device))
            moments.update(pool)
            if score is not None and logits is not None:
                score.update(logits.detach().to("cpu", torch.float64).numpy())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # too few samples is reported in the note instead
        mu, sigma, count = moments.finalize()
    result = frechet_distance(mu_real, sigma_real, mu.cpu().numpy(), sigma.cpu().numpy())
    notes = [result.note] if result.note else []
    if count < extractor.dim:
        notes.insert(0, f"only {count} samples for {extractor.dim}-d features: FID biased upwards")
    inc = score.finalize() if score is not None else None
    assert example is not None
    return LevelResult(
        fid=result.value,
        fid_note="; ".join(notes),
        inception_score=inc.mean if inc else None,
        inception_score_std=inc.std if inc else None,
        is_split_size=inc.split_size if inc else None,
        ind=inc.distance if inc else None,
        n_images=count,
        example=example,
    )


def run_disturbances(
    images: np.ndarray,
    mu_real: np.ndarray,
    sigma_real: np.ndarray,
    extractor: FeatureExtractor,
    settings: DisturbSettings,
    pool: np.ndarray | None,
    log: Callable[[str], None] = lambda message: print(message, file=sys.stderr, flush=True),
) -> tuple[list[dict], dict[str, list[np.ndarray]]]:
    """Every requested disturbance at its four levels: CSV rows and one example image per level.

    Level 0 is the undisturbed subset for every disturbance, so it is evaluated once and reused.
    """
    indices = select_indices(len(images), settings.n_images, settings.seed)
    if len(indices) < settings.splits:
        raise UserError(f"{len(indices)} images are fewer than the {settings.splits} Inception Score splits")
    rows: list[dict] = []
    examples: dict[str, list[np.ndarray]] = {}
    clean: LevelResult | None = None
    for name in settings.disturbances:
        spec = dist.DISTURBANCES[name]
        if name == "contamination" and pool is None:
            rows += [
                _row(name, level, alpha, None, settings, extractor, CONTAMINATION_HINT)
                for level, alpha in enumerate(spec.levels)
            ]
            continue
        results = []
        for level, alpha in enumerate(spec.levels):
            tic = time.perf_counter()
            if level == 0 and clean is not None:
                result = clean
            else:
                result = evaluate_level(
                    Disturber(name, level, images, indices, settings, pool), extractor, mu_real, sigma_real, settings
                )
            if level == 0:
                clean = result
            results.append(result)
            log(
                f"[ttur] disturb {name} level {level} ({spec.parameter}={alpha:g}): FID {result.fid:.4g}, "
                f"IS {result.inception_score if result.inception_score is not None else float('nan'):.4g} "
                f"({time.perf_counter() - tic:.1f} s)"
            )
        scores = [r.inception_score for r in results if r.inception_score is not None]
        top = max(scores) if scores else None
        for level, (alpha, result) in enumerate(zip(spec.levels, results, strict=True)):
            rows.append(_row(name, level, alpha, result, settings, extractor, result.fid_note, top))
        examples[name] = [r.example for r in results]
    return rows, examples


def _row(
    name: str,
    level: int,
    alpha: float,
    result: LevelResult | None,
    settings: DisturbSettings,
    extractor: FeatureExtractor,
    note: str,
    top_score: float | None = None,
) -> dict:
    row = {column: "" for column in CSV_COLUMNS}
    row.update(disturbance=name, level=level, alpha=alpha, extractor=extractor.name, seed=settings.seed, note=note)
    if result is None:
        return row
    row.update(fid=result.fid, n_images=result.n_images)
    if result.inception_score is None:
        row["note"] = "; ".join(filter(None, [note, f"extractor {extractor.name} has no logits: no Inception Score"]))
        return row
    row.update(
        inception_score=result.inception_score,
        inception_score_std=result.inception_score_std,
        ind=result.ind,
        ind_relative=(top_score - result.inception_score) if top_score is not None else "",
        is_split_size=result.is_split_size,
    )
    return row


def write_csv(rows: list[dict], path: Path) -> None:
    """disturbances.csv: one row per (disturbance, level); empty cells where a value is missing, `note` says why."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in row.items()})
    write_text(path, buffer.getvalue())


def load_image_pool(folder: Path, height: int, width: int, limit: int, seed: int) -> np.ndarray:
    """Up to `limit` images of another dataset as uint8 M×H×W×3: a prepared folder (images.npy) or png/jpg files
    (recursive; a seeded random subset when there are more), each center-cropped to a square and resized."""
    from PIL import Image

    folder = Path(folder)
    if not folder.is_dir():
        raise UserError(f"contamination folder {folder} does not exist; give a folder of png/jpg images")
    rng = np.random.default_rng([seed, 98])
    if (folder / "images.npy").is_file():
        array = np.load(folder / "images.npy", mmap_mode="r")
        chosen = np.sort(rng.choice(len(array), size=min(limit, len(array)), replace=False))
        items = [Image.fromarray(np.asarray(array[i])) for i in chosen]
    else:
        files = image_files(folder)
        if not files:
            raise UserError(f"contamination folder {folder} holds no .png or .jpg images")
        chosen = np.sort(rng.choice(len(files), size=min(limit, len(files)), replace=False))
        items = []
        for i in chosen:
            with Image.open(files[i]) as image:
                items.append(image.convert("RGB"))
    pool = np.empty((len(items), height, width, 3), dtype=np.uint8)
    for k, image in enumerate(items):
        side = min(image.size)
        left, top = (image.width - side) // 2, (image.height - side) // 2
        square = image.crop((left, top, left + side, top + side))
        pool[k] = np.asarray(square.resize((width, height), Image.Resampling.BILINEAR).convert("RGB"))
    return pool


def plot(rows: list[dict], examples: dict[str, list[np.ndarray]], path: Path, title: str) -> list[Path]:
    """FID (left axis) and IND relative to the best level (right axis) vs level, one row of panels per disturbance,
    with the first image of the subset at each level beside it. Writes PNG and a PDF next to it."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(dict.fromkeys(row["disturbance"] for row in rows))
    fig = plt.figure(figsize=(11, 2.2 * len(names) + 0.4), layout="constrained")
    outer = fig.add_gridspec(len(names), 2, width_ratios=[3.0, 4.2], wspace=0.08)
    for r, name in enumerate(names):
        spec = dist.DISTURBANCES[name]
        mine = [row for row in rows if row["disturbance"] == name]
        ax = fig.add_subplot(outer[r, 0])
        ax.set_title(spec.label, fontsize=10, loc="left")
        ax.set_xticks(range(len(spec.levels)), [f"{a:g}" for a in spec.levels])
        ax.set_xlabel(spec.parameter, fontsize=8)
        if name not in examples:
            note = textwrap.fill(CONTAMINATION_HINT, 60)
            ax.text(0.5, 0.5, note, ha="center", va="center", fontsize=7, transform=ax.transAxes)
            ax.set_yticks([])
            continue
        levels = [row["level"] for row in mine]
        ax.plot(levels, [row["fid"] for row in mine], "o-", color="tab:blue", label="FID")
        ax.set_ylabel("FID", color="tab:blue", fontsize=9)
        if all(row["inception_score"] != "" for row in mine):
            twin = ax.twinx()
            twin.plot(levels, [row["ind_relative"] for row in mine], "s--", color="tab:orange")
            twin.set_ylabel("IND − min IND", color="tab:orange", fontsize=8)
            twin.tick_params(labelsize=7)
        thumbs = outer[r, 1].subgridspec(1, len(spec.levels), wspace=0.05)
        for c, image in enumerate(examples[name]):
            thumb = fig.add_subplot(thumbs[0, c])
            thumb.imshow(image, interpolation="nearest")
            thumb.set_axis_off()
            thumb.set_title(f"{spec.levels[c]:g}", fontsize=8)
    fig.suptitle(title, fontsize=10)
    written = save_figure(fig, (Path(path), Path(path).with_suffix(".pdf")), dpi=110)
    plt.close(fig)
    return written
