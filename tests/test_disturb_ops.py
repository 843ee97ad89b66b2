"""The six disturbances on small arrays: identity at level 0, dtype/range, hand-computed pixels, fractions."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import ndimage

from ttur.experiments import disturbances as dist


def _images(n: int = 3, h: int = 16, w: int = 16, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, size=(n, h, w, 3), dtype=np.uint8)


def _apply(name: str, images: np.ndarray, level: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if name == "gaussian_noise":
        return dist.gaussian_noise(images, level, rng)
    if name == "gaussian_blur":
        return dist.gaussian_blur(images, level)
    if name == "black_rectangles":
        return dist.black_rectangles(images, level, rng)
    if name == "swirl":
        return dist.swirl(images, level, rng)
    if name == "salt_and_pepper":
        return dist.salt_and_pepper(images, level, rng)
    if name == "contamination":
        return dist.contaminate(images, level, _images(n=5, h=images.shape[1], w=images.shape[2], seed=99), rng)
    raise AssertionError(name)


NAMES = list(dist.DISTURBANCES)


def test_levels_are_the_appendix_levels():
    levels = {name: d.levels for name, d in dist.DISTURBANCES.items()}
    assert levels == {
        "gaussian_noise": (0.0, 0.25, 0.5, 0.75),
        "gaussian_blur": (0.0, 1.0, 2.0, 4.0),
        "black_rectangles": (0.0, 0.25, 0.5, 0.75),
        "swirl": (0.0, 1.0, 2.0, 4.0),
        "salt_and_pepper": (0.0, 0.1, 0.2, 0.3),
        "contamination": (0.0, 0.25, 0.5, 0.75),
    }


@pytest.mark.parametrize("name", NAMES)
def test_level_zero_is_identity(name):
    images = _images()
    out = _apply(name, images, 0.0, seed=1)
    np.testing.assert_array_equal(out, images)
    assert out is not images


@pytest.mark.parametrize("name", NAMES)
def test_dtype_shape_and_determinism(name):
    images = _images(n=4, h=20, w=24)
    level = dist.DISTURBANCES[name].levels[-1]
    a, b = _apply(name, images, level, seed=7), _apply(name, images, level, seed=7)
    assert a.dtype == np.uint8 and a.shape == images.shape
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, images)  # the strongest level changes something
    if name != "gaussian_blur":  # the only deterministic one
        assert not np.array_equal(a, _apply(name, images, level, seed=8))


@pytest.mark.parametrize("value", [0, 255])
@pytest.mark.parametrize("name", ["gaussian_blur", "swirl"])
def test_range_kept_without_wraparound(name, value):
    # a constant image stays that constant: no uint8 wrap-around at 0 or 255, and no gray leaks in from outside
    images = np.full((2, 16, 16, 3), value, dtype=np.uint8)
    out = _apply(name, images, dist.DISTURBANCES[name].levels[1], seed=0)
    np.testing.assert_array_equal(out, images)


def test_gaussian_noise_scaling():
    images = _images(n=2, h=8, w=8)
    seed, alpha = 3, 0.5
    out = dist.gaussian_noise(images, alpha, np.random.default_rng(seed))
    z = dist.standard_noise(images.shape, np.random.default_rng(seed)).astype(np.float64)
    scaled = (z - z.min()) / (z.max() - z.min()) * 255.0  # min-max scaled to [0, 255] as the original
    expected = (1 - alpha) * images + alpha * scaled
    assert np.abs(out - expected).max() <= 0.5 + 1e-3  # rounding to uint8 (+ float32 noise arithmetic)
    # alpha = 1 leaves only the scaled noise, which spans exactly [0, 255]
    only_noise = dist.gaussian_noise(images, 1.0, np.random.default_rng(seed))
    assert only_noise.min() == 0 and only_noise.max() == 255
    # a given global range (as the driver passes for chunked processing) is used instead of this call's min/max
    ranged = dist.gaussian_noise(images, 1.0, np.random.default_rng(seed), noise_range=(-10.0, 10.0))
    expected = (z + 10.0) / 20.0 * 255.0
    assert np.abs(ranged - expected).max() <= 0.5 + 1e-3


def test_blur_matches_hand_computed_pixels():
    # sigma 1, truncated at 4 sigma: 1-D weights w_k = exp(-k^2/2) / sum_{j=-4..4} exp(-j^2/2)
    norm = sum(math.exp(-(j**2) / 2) for j in range(-4, 5))
    w = {k: math.exp(-(k**2) / 2) / norm for k in range(-4, 5)}
    impulse = np.zeros((1, 15, 15, 3), dtype=np.uint8)
    impulse[0, 7, 7, :] = 255
    out = dist.gaussian_blur(impulse, 1.0)
    assert abs(int(out[0, 7, 7, 0]) - 255 * w[0] * w[0]) <= 0.5  # 40.58
    assert abs(int(out[0, 8, 7, 1]) - 255 * w[1] * w[0]) <= 0.5  # 24.62
    assert abs(int(out[0, 9, 6, 2]) - 255 * w[2] * w[1]) <= 0.5  # 3.33
    # 'nearest' border: a white first column is replicated to the left, so pixel (r, 0) sees w_-4..w_0 of white
    edge = np.zeros((1, 15, 15, 3), dtype=np.uint8)
    edge[0, :, 0, :] = 255
    out = dist.gaussian_blur(edge, 1.0)
    assert abs(int(out[0, 5, 0, 0]) - 255 * sum(w[k] for k in range(-4, 1))) <= 0.5  # 178.37
    # channels are blurred separately: a red impulse leaves green and blue at zero
    red = np.zeros((1, 15, 15, 3), dtype=np.uint8)
    red[0, 7, 7, 0] = 255
    assert dist.gaussian_blur(red, 2.0)[..., 1:].max() == 0


def test_swirl_matches_hand_computed_pixel():
    # image whose value is affine in (row, col): bilinear interpolation reproduces it exactly at any point
    h = w = 20
    rows, cols = np.mgrid[0:h, 0:w]
    ramp = np.repeat((6 * rows + 6 * cols).astype(np.uint8)[None, :, :, None], 3, axis=3)
    images = np.repeat(ramp, 4, axis=0)
    strength, radius, seed = 2.0, 10.0, 5
    out = dist.swirl(images, strength, np.random.default_rng(seed), radius=radius)
    signs = dist.swirl_directions(4, np.random.default_rng(seed))
    assert set(signs) == {-1.0, 1.0}  # this seed exercises both directions
    # output pixel (row 10, col 14), center (x0, y0) = (10, 10): r = 4, theta = 0,
    # theta' = sign * 2 * exp(-4 / (10 ln2 / 5)); source (x, y) = (10 + 4 cos theta', 10 + 4 sin theta')
    for i, sign in enumerate(signs):
        theta = sign * strength * math.exp(-4.0 / (radius / 5.0 * math.log(2.0)))
        src_row, src_col = 10 + 4 * math.sin(theta), 10 + 4 * math.cos(theta)
        assert abs(int(out[i, 10, 14, 0]) - (6 * src_row + 6 * src_col)) <= 0.5
    # the same coordinate from the mapping function
    src_rows, src_cols = dist.swirl_source_coordinates(h, w, strength, radius)
    theta = strength * math.exp(-4.0 / (radius / 5.0 * math.log(2.0)))
    assert abs(src_rows[10, 14] - (10 + 4 * math.sin(theta))) < 1e-12
    assert abs(src_cols[10, 14] - (10 + 4 * math.cos(theta))) < 1e-12
    # the center maps to itself, and the outer 3 (top/left) and 4 (bottom/right) rows/columns are kept
    np.testing.assert_array_equal(out[:, 10, 10], images[:, 10, 10])
    for sl in (np.s_[:, :3], np.s_[:, -4:], np.s_[:, :, :3], np.s_[:, :, -4:]):
        np.testing.assert_array_equal(out[sl], images[sl])


def test_bilinear_sample_matches_scipy_map_coordinates():
    rng = np.random.default_rng(0)
    image = rng.uniform(0, 255, size=(1, 9, 11, 1))
    rows = rng.uniform(-1.5, 9.5, size=(6, 7))
    cols = rng.uniform(-1.5, 11.5, size=(6, 7))
    rows[0, :3], cols[0, :3] = [0.0, 8.0, 8.0], [0.0, 10.0, 3.5]  # exactly on the last row/column
    ours = dist.bilinear_sample(image, rows, cols, cval=127.5)[0, :, :, 0]
    ref = ndimage.map_coordinates(image[0, :, :, 0], [rows, cols], order=1, mode="constant", cval=127.5)
    np.testing.assert_allclose(ours, ref, rtol=0, atol=1e-9)


def test_default_swirl_radius_scales_with_size():
    assert dist.default_swirl_radius(64, 64) == 70.0
    assert dist.default_swirl_radius(32, 32) == 35.0


def test_salt_and_pepper_flips_the_stated_fraction():
    images = np.full((4, 64, 64, 3), 128, dtype=np.uint8)  # neither black nor white: every flip is visible
    ratio = 0.2
    out = dist.salt_and_pepper(images, ratio, np.random.default_rng(0))
    flipped = (out != 128).any(axis=-1)
    n_pixels = flipped.size  # 16,384; binomial std of the fraction = sqrt(0.2 * 0.8 / 16384) = 0.0031
    assert abs(flipped.mean() - ratio) < 0.015  # about 5 std
    values = out[flipped]
    assert set(np.unique(values)) <= {0, 255}
    assert (values == values[:, :1]).all()  # a flipped pixel is black or white in all three channels
    white = (values[:, 0] == 255).mean()
    assert abs(white - 0.5) < 5 * math.sqrt(0.25 / (ratio * n_pixels))  # half white, half black
    np.testing.assert_array_equal(out[~flipped], images[~flipped])


def test_black_rectangles_blacken_the_expected_area():
    white = np.full((3, 20, 16, 3), 255, dtype=np.uint8)
    alpha = 0.5  # int(0.5 * 20) x int(0.5 * 16) = 10 x 8 pixels
    one = dist.black_rectangles(white, alpha, np.random.default_rng(0), n_rect=1)
    assert ((one == 0).all(axis=-1).sum(axis=(1, 2)) == 10 * 8).all()
    five = dist.black_rectangles(white, alpha, np.random.default_rng(1))
    corners = dist.rectangle_corners(3, 20, 16, alpha, np.random.default_rng(1))
    expected = np.zeros((3, 20, 16), dtype=bool)
    for i in range(3):
        for row, col in corners[i]:
            assert 0 <= row <= 10 and 0 <= col <= 8  # inside the image
            expected[i, row : row + 10, col : col + 8] = True
    np.testing.assert_array_equal((five == 0).all(axis=-1), expected)
    np.testing.assert_array_equal(five[~expected], 255)


def test_contamination_replaces_the_stated_fraction():
    images = np.zeros((8, 6, 6, 3), dtype=np.uint8)
    pool = np.stack([np.full((6, 6, 3), 10 + i, dtype=np.uint8) for i in range(3)])  # 3 distinct pool images
    out = dist.contaminate(images, 0.75, pool, np.random.default_rng(0))
    replaced = out.reshape(8, -1).max(axis=1) > 0
    assert replaced.sum() == 6  # round(0.75 * 8)
    assert set(out[replaced, 0, 0, 0]) == {10, 11, 12}  # the pool is cycled when smaller than the demand
    with pytest.raises(ValueError):
        dist.contaminate(images, 0.5, np.zeros((2, 5, 5, 3), dtype=np.uint8), np.random.default_rng(0))
