"""Crop/resize recipes on hand-made images whose correct output is known exactly."""

from __future__ import annotations

import numpy as np
import pytest

from ttur.data.recipes import RECIPES, apply_recipe, bytescale
from ttur.errors import UserError


def test_bytescale_matches_the_scipy_docstring_example() -> None:
    # scipy.misc.bytescale docstring (scipy 0.19-1.2): the reference values next to the input.
    image = np.array(
        [[91.06794177, 3.39058326, 84.4221549], [73.88003259, 80.91433048, 4.88878881],
         [51.53875334, 34.45808177, 27.5873488]]
    )  # fmt: skip
    expected = np.array([[255, 0, 236], [205, 225, 4], [140, 90, 70]], dtype=np.uint8)
    np.testing.assert_array_equal(bytescale(image), expected)
    np.testing.assert_array_equal(bytescale(np.full((2, 2), 7.0)), np.zeros((2, 2), np.uint8))  # flat: cscale = 1
    # scipy 1.x test_pilutil.test_bytescale: an exact half (127.5) rounds up; scipy <= 0.18's +0.4999 gave 127
    np.testing.assert_array_equal(bytescale(np.array([0.0, 1.0, 2.0])), np.array([0, 128, 255], np.uint8))


def _celeba_like() -> np.ndarray:
    """218 x 178 image: 255 outside carpedm20's crop (rows 55:163, cols 35:143); inside, left half 10, right 200."""
    image = np.full((218, 178, 3), 255, dtype=np.uint8)
    image[55:163, 35:89] = 10
    image[55:163, 89:143] = 200
    return image


def test_carpedm20_crops_rows_55_163_cols_35_143_and_stretches_contrast() -> None:
    out = apply_recipe(RECIPES["carpedm20"], _celeba_like())
    assert out.shape == (64, 64, 3) and out.dtype == np.uint8
    # The crop holds only 10 and 200 (nothing of the 255 border), so bytescale maps them to 0 and 255 exactly;
    # away from the seam (PIL bilinear support = 2 source px = ~1.2 output px) the halves stay flat.
    assert (out[:, :30] == 0).all() and (out[:, 34:] == 255).all()
    plain = apply_recipe(RECIPES["carpedm20-nobytescale"], _celeba_like())
    assert (plain[:, :30] == 10).all() and (plain[:, 34:] == 200).all()


def test_began_box_is_top50_left25_128_and_nearest() -> None:
    image = np.zeros((218, 178, 3), dtype=np.uint8)
    image[50:178, 25:153] = 77  # exactly the box
    image[50:114, 25:153, 0] = 5  # its top half differs in red
    out = apply_recipe(RECIPES["began"], image)
    assert (out[..., 1:] == 77).all()  # nothing from outside the box
    assert (out[:32, :, 0] == 5).all() and (out[32:, :, 0] == 77).all()  # nearest: no blended row at the seam


@pytest.mark.parametrize("shape", [(256, 341), (341, 256)])
def test_center_square_keeps_only_the_central_square(shape: tuple[int, int]) -> None:
    h, w = shape
    side = min(h, w)
    j, i = round((h - side) / 2), round((w - side) / 2)
    image = np.full((h, w, 3), 250, dtype=np.uint8)
    image[j : j + side, i : i + side] = 40
    np.testing.assert_array_equal(apply_recipe(RECIPES["center-square"], image), np.full((64, 64, 3), 40, np.uint8))


def test_native32_passes_32px_through_and_rejects_other_sizes() -> None:
    image = np.arange(32 * 32 * 3, dtype=np.uint32).reshape(32, 32, 3).astype(np.uint8)
    np.testing.assert_array_equal(apply_recipe(RECIPES["native32"], image), image)
    with pytest.raises(UserError, match="expects 32x32"):
        apply_recipe(RECIPES["native32"], np.zeros((64, 64, 3), np.uint8))
    with pytest.raises(UserError, match="cannot centre-crop 108x108"):
        apply_recipe(RECIPES["carpedm20"], np.zeros((64, 64, 3), np.uint8))
