"""Crop-and-resize recipes that turn a decoded uint8 RGB image into the prepared size.

The paper's code read pre-cropped 64x64 JPEGs whose making is not published (spec §3.1, §11 item 11); these are the
candidates. `carpedm20` is carpedm20/DCGAN-tensorflow's `center_crop` + `scipy.misc.imresize`: crop 108x108 at
j = round((h-108)/2), i = round((w-108)/2) of the float image, then imresize, whose `bytescale` min-max stretches each
crop to 0..255 (rounding half up, as scipy 0.19-1.2) before PIL's bilinear resize. `began` is
carpedm20/BEGAN-tensorflow's box (50, 25, 128, 128) and nearest-neighbour resize.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np

from ttur.errors import UserError


@dataclass(frozen=True)
class Recipe:
    """How to get from a decoded image to the prepared one.

    crop: "none", "center" (a centred square of side `crop_size`, or of the shorter side when None) or "box"
    (`box` = top, left, height, width). size: output side (None keeps the input, which must already be square).
    """

    name: str
    crop: Literal["none", "center", "box"]
    crop_size: int | None
    box: tuple[int, int, int, int] | None
    size: int | None
    resample: Literal["bilinear", "nearest"]
    bytescale: bool
    description: str

    def describe(self) -> dict[str, Any]:
        return asdict(self)


RECIPES: dict[str, Recipe] = {
    recipe.name: recipe
    for recipe in (
        Recipe(
            "carpedm20", "center", 108, None, 64, "bilinear", True,
            "carpedm20/DCGAN-tensorflow: centre crop 108, per-image bytescale, PIL bilinear to 64 (spec §9)",
        ),
        Recipe(
            "carpedm20-nobytescale", "center", 108, None, 64, "bilinear", False,
            "as carpedm20 but on the uint8 crop, so no per-image contrast stretch",
        ),
        Recipe(
            "began", "box", None, (50, 25, 128, 128), 64, "nearest", False,
            "carpedm20/BEGAN-tensorflow: box (top 50, left 25, 128x128), nearest-neighbour to 64 (spec §6)",
        ),
        Recipe(
            "center-square", "center", None, None, 64, "bilinear", False,
            "centred square of the shorter side, PIL bilinear to 64 (default for LSUN bedrooms)",
        ),
        Recipe("native32", "none", None, None, 32, "bilinear", False, "no crop or resize; images must be 32x32"),
    )
}  # fmt: skip


def get_recipe(name: str) -> Recipe:
    if name not in RECIPES:
        raise UserError(f"unknown recipe {name!r}; choose one of {', '.join(RECIPES)}")
    return RECIPES[name]


def bytescale(data: np.ndarray) -> np.ndarray:
    """scipy.misc.bytescale (scipy 0.19-1.2) on a non-uint8 array: min-max stretch to 0..255, round half up.

    scipy 0.19 (scipy/scipy#6578, 2017-03) replaced `+0.4999, truncate` by `clip, +0.5, truncate`; every scipy of
    2017-2019, when TTUR and carpedm20 made their crops, does the latter (bytescale([0, 1, 2]) = [0, 128, 255]).
    """
    low, high = data.min(), data.max()
    scale = 255.0 / ((high - low) or 1)
    scaled = (data - low) * scale
    return (np.clip(scaled, 0, 255) + 0.5).astype(np.uint8)


def _center_crop(image: np.ndarray, side: int | None) -> np.ndarray:
    h, w = image.shape[:2]
    side = min(h, w) if side is None else side
    if side > h or side > w:
        raise UserError(f"cannot centre-crop {side}x{side} from a {h}x{w} image; choose another --recipe")
    j, i = int(round((h - side) / 2.0)), int(round((w - side) / 2.0))
    return image[j : j + side, i : i + side]


def apply_recipe(recipe: Recipe, image: np.ndarray) -> np.ndarray:
    """Apply `recipe` to one uint8 H x W x 3 image; returns uint8 size x size x 3."""
    from PIL import Image

    if recipe.crop == "center":
        image = _center_crop(image, recipe.crop_size)
    elif recipe.crop == "box" and recipe.box is not None:
        top, left, height, width = recipe.box
        if top + height > image.shape[0] or left + width > image.shape[1]:
            raise UserError(f"box {recipe.box} does not fit a {image.shape[0]}x{image.shape[1]} image")
        image = image[top : top + height, left : left + width]
    if recipe.bytescale:  # carpedm20 crops the float image, so imresize's toimage stretches it
        image = bytescale(image.astype(np.float64))
    size = recipe.size
    if size is None or image.shape[:2] == (size, size):
        return np.ascontiguousarray(image)
    if recipe.crop == "none":
        raise UserError(f"recipe {recipe.name} expects {size}x{size} images but got {image.shape[0]}x{image.shape[1]}")
    resample = Image.Resampling.BILINEAR if recipe.resample == "bilinear" else Image.Resampling.NEAREST
    return np.asarray(Image.fromarray(image).resize((size, size), resample=resample))
