"""The six image disturbances of the paper's appendix A1 (Fig. A8), on uint8 N×H×W×3 arrays.

Each function takes images as uint8 N×H×W×3, works in float on the [0, 255] scale and returns uint8 of the same
shape (rounded to nearest, clipped). The original (bioinf-jku/TTUR:FIDvsINC/fidutils.py) worked on [-1, 1]
floats; every operation here is affine-equivariant, so doing it on [0, 255] gives the same image up to the final
rounding. Randomness comes only from the `rng` argument, so a seed fixes the result. See docs/disturbances.md.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

N_RECTANGLES = 5  # the appendix: "five black rectangles"
SWIRL_RADIUS_64 = 70.0  # swirl radius the original used for 64×64 CelebA (FIDvsINC/main.py)
SWIRL_BORDER = 3  # the original restores the outer rows/columns after swirling (`corr_size=3`)
SWIRL_CVAL = 127.5  # skimage's swirl filled outside points with cval=0 on the [-1, 1] scale: mid-gray


@dataclass(frozen=True)
class Disturbance:
    """One kind of disturbance: its name, the four levels of the appendix and a label for the figure."""

    name: str
    levels: tuple[float, ...]
    label: str
    parameter: str


DISTURBANCES: dict[str, Disturbance] = {
    d.name: d
    for d in (
        Disturbance("gaussian_noise", (0.0, 0.25, 0.5, 0.75), "Gaussian noise", "alpha"),
        Disturbance("gaussian_blur", (0.0, 1.0, 2.0, 4.0), "Gaussian blur", "sigma"),
        Disturbance("black_rectangles", (0.0, 0.25, 0.5, 0.75), "Black rectangles", "relative size"),
        Disturbance("swirl", (0.0, 1.0, 2.0, 4.0), "Swirl", "strength"),
        Disturbance("salt_and_pepper", (0.0, 0.1, 0.2, 0.3), "Salt and pepper", "ratio"),
        Disturbance("contamination", (0.0, 0.25, 0.5, 0.75), "Contamination (other dataset)", "ratio"),
    )
}


def _check_images(images: np.ndarray) -> None:
    if images.dtype != np.uint8 or images.ndim != 4 or images.shape[-1] != 3:
        raise ValueError(f"expected uint8 N×H×W×3 images, got {images.dtype} {images.shape}")


def to_uint8(values: np.ndarray) -> np.ndarray:
    """Round float pixels on the [0, 255] scale to the nearest integer and clip to uint8."""
    return np.clip(np.rint(values), 0, 255).astype(np.uint8)


def standard_noise(shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
    """The raw standard-normal noise of `gaussian_noise`, exposed so a caller can find its global min/max."""
    return rng.standard_normal(shape, dtype=np.float32)


def gaussian_noise(
    images: np.ndarray, alpha: float, rng: np.random.Generator, noise_range: tuple[float, float] | None = None
) -> np.ndarray:
    """(1-α)X + αN, with N standard-normal noise min-max scaled to [0, 255], as the original did.

    The original drew `randn` for the whole data set and scaled it with that array's global min and max. Pass
    `noise_range=(min, max)` of the noise over the whole set to reproduce that when processing in chunks; by
    default the min/max of the noise drawn in this call are used.
    """
    _check_images(images)
    if alpha == 0:
        return images.copy()
    noise = standard_noise(images.shape, rng)
    low, high = (float(noise.min()), float(noise.max())) if noise_range is None else noise_range
    scaled = (noise - low) * np.float32(255.0 / (high - low))
    return to_uint8((1.0 - alpha) * images.astype(np.float32) + alpha * scaled)


def gaussian_blur(images: np.ndarray, sigma: float) -> np.ndarray:
    """Convolve each channel with a Gaussian of std `sigma` pixels (skimage.filters.gaussian as the original used
    it: channels separate, border mode 'nearest', kernel truncated at 4 sigma)."""
    _check_images(images)
    if sigma == 0:
        return images.copy()
    blurred = ndimage.gaussian_filter(
        images.astype(np.float64), sigma=(0.0, sigma, sigma, 0.0), mode="nearest", truncate=4.0
    )
    return to_uint8(blurred)


def rectangle_corners(
    n: int, height: int, width: int, alpha: float, rng: np.random.Generator, n_rect: int = N_RECTANGLES
) -> np.ndarray:
    """Top-left corners (row, col), shape n×n_rect×2, of rectangles of int(α·H)×int(α·W) pixels placed uniformly
    so that they lie inside the image (both ends inclusive, like `random.randint` in the original)."""
    rect_h, rect_w = int(height * alpha), int(width * alpha)
    rows = rng.integers(0, height - rect_h, size=(n, n_rect), endpoint=True)
    cols = rng.integers(0, width - rect_w, size=(n, n_rect), endpoint=True)
    return np.stack([rows, cols], axis=-1)


def black_rectangles(
    images: np.ndarray, alpha: float, rng: np.random.Generator, n_rect: int = N_RECTANGLES
) -> np.ndarray:
    """Paint `n_rect` black rectangles of relative size α (int(α·H)×int(α·W) pixels) at random positions."""
    _check_images(images)
    n, height, width, _ = images.shape
    out = images.copy()
    rect_h, rect_w = int(height * alpha), int(width * alpha)
    if rect_h == 0 or rect_w == 0:
        return out
    corners = rectangle_corners(n, height, width, alpha, rng, n_rect)
    for i in range(n):
        for row, col in corners[i]:
            out[i, row : row + rect_h, col : col + rect_w, :] = 0
    return out


def default_swirl_radius(height: int, width: int) -> float:
    """The original's radius 70 for 64×64 CelebA, scaled linearly with the smaller image side."""
    return SWIRL_RADIUS_64 * min(height, width) / 64.0


def swirl_source_coordinates(
    height: int, width: int, strength: float, radius: float, center: tuple[float, float] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """For every output pixel, the (row, col) in the input it takes its colour from (skimage's swirl mapping).

    With (x, y) = (col, row) and center (x0, y0): r = |(x, y) - (x0, y0)|, θ = atan2(y - y0, x - x0),
    θ' = θ + strength · exp(-r / (radius · ln 2 / 5)); the source is (x0 + r cos θ', y0 + r sin θ').
    Default center (W // 2, H // 2) as the original passed it.
    """
    x0, y0 = (width // 2, height // 2) if center is None else center
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    r = np.hypot(x - x0, y - y0)
    theta = np.arctan2(y - y0, x - x0) + strength * np.exp(-r / (radius / 5.0 * np.log(2.0)))
    return y0 + r * np.sin(theta), x0 + r * np.cos(theta)


def bilinear_sample(images: np.ndarray, rows: np.ndarray, cols: np.ndarray, cval: float) -> np.ndarray:
    """Sample float images N×H×W×C at fractional (rows, cols) of shape H'×W' by bilinear interpolation; points
    outside [0, H-1]×[0, W-1] get `cval` (scipy.ndimage.map_coordinates, order=1, mode='constant')."""
    n, height, width, channels = images.shape
    inside = ((rows >= 0) & (rows <= height - 1) & (cols >= 0) & (cols <= width - 1)).ravel()
    r0 = np.clip(np.floor(rows), 0, max(height - 2, 0)).astype(np.intp)
    c0 = np.clip(np.floor(cols), 0, max(width - 2, 0)).astype(np.intp)
    r1, c1 = np.minimum(r0 + 1, height - 1), np.minimum(c0 + 1, width - 1)
    fr, fc = np.clip(rows - r0, 0.0, 1.0), np.clip(cols - c0, 0.0, 1.0)
    flat = images.reshape(n, height * width, channels)
    corners = ((r0, c0, (1 - fr) * (1 - fc)), (r0, c1, (1 - fr) * fc), (r1, c0, fr * (1 - fc)), (r1, c1, fr * fc))
    sampled = np.zeros((n, rows.size, channels), dtype=images.dtype)
    for r, c, weight in corners:
        sampled += np.take(flat, (r * width + c).ravel(), axis=1) * weight.ravel()[None, :, None].astype(images.dtype)
    sampled[:, ~inside] = cval
    return sampled.reshape(n, *rows.shape, channels)


def swirl_directions(n: int, rng: np.random.Generator) -> np.ndarray:
    """A random direction (+1 or -1, each with probability 1/2) per image, as the original's `directions="random"`."""
    return np.where(rng.random(n) < 0.5, -1.0, 1.0)


def swirl(images: np.ndarray, strength: float, rng: np.random.Generator, radius: float | None = None) -> np.ndarray:
    """Swirl every image about its center with the given strength and a random direction (sign) per image.

    As in the original: bilinear interpolation, mid-gray outside the image, and the outer `SWIRL_BORDER` rows and
    columns at the top/left and `SWIRL_BORDER + 1` at the bottom/right copied back from the undisturbed image.
    """
    _check_images(images)
    if strength == 0:
        return images.copy()
    n, height, width, _ = images.shape
    radius = default_swirl_radius(height, width) if radius is None else radius
    signs = swirl_directions(n, rng)
    source = images.astype(np.float32)
    out = np.empty_like(source)
    for sign in (-1.0, 1.0):
        chosen = signs == sign
        if chosen.any():
            rows, cols = swirl_source_coordinates(height, width, sign * strength, radius)
            out[chosen] = bilinear_sample(source[chosen], rows, cols, SWIRL_CVAL)
    b = SWIRL_BORDER
    keep = np.zeros((height, width), dtype=bool)
    keep[:b], keep[height - b - 1 :], keep[:, :b], keep[:, width - b - 1 :] = True, True, True, True
    out[:, keep] = source[:, keep]
    return to_uint8(out)


def salt_and_pepper(images: np.ndarray, ratio: float, rng: np.random.Generator) -> np.ndarray:
    """Set each pixel (all three channels) with probability `ratio` to black or white, each with probability 1/2."""
    _check_images(images)
    out = images.copy()
    if ratio == 0:
        return out
    flip = rng.random(images.shape[:3]) < ratio
    white = rng.random(int(flip.sum())) < 0.5
    out[flip] = np.where(white, 255, 0).astype(np.uint8)[:, None]
    return out


def contamination_plan(n: int, ratio: float, pool_size: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Which of `n` positions are replaced (round(ratio·n), chosen at random, sorted) and by which pool image.

    The pool is used in a random order and cycled when it is smaller than the number replaced (the paper had
    5,000 ImageNet images for up to 37,500 replacements, so it must have reused them too).
    """
    count = int(round(ratio * n))
    positions = np.sort(rng.choice(n, size=count, replace=False)) if count else np.zeros(0, dtype=np.int64)
    if count and pool_size == 0:
        raise ValueError("contamination needs at least one image in the pool")
    order = rng.permutation(pool_size) if pool_size else np.zeros(0, dtype=np.int64)
    sources = order[np.arange(count) % pool_size] if count else np.zeros(0, dtype=np.int64)
    return positions, sources


def contaminate(images: np.ndarray, ratio: float, pool: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Replace a fraction `ratio` of the images by images of another data set (`pool`, uint8 M×H×W×3)."""
    _check_images(images)
    _check_images(pool)
    if pool.shape[1:] != images.shape[1:]:
        raise ValueError(f"pool images {pool.shape[1:]} differ from the images {images.shape[1:]}")
    out = images.copy()
    positions, sources = contamination_plan(len(images), ratio, len(pool), rng)
    out[positions] = pool[sources]
    return out
