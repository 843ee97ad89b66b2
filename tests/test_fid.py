"""The Fréchet distance against the TTUR/pytorch-fid formula, pixel quantization, the evaluator and the CLI."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch
from PIL import Image
from scipy import linalg

from ttur.cli import main
from ttur.metrics.features import load_extractor
from ttur.metrics.fid import FidEvaluator, RealReference, feature_moments, frechet_distance, to_uint8
from ttur.metrics.images import open_images
from ttur.metrics.stats import load_stats, save_stats

CPU = torch.device("cpu")


def ttur_head_fid(mu1, sigma1, mu2, sigma2, eps=1e-6):
    """bioinf-jku/TTUR fid.py (HEAD) calculate_frechet_distance, restated: scipy sqrtm of Σ₁Σ₂."""
    covmean = linalg.sqrtm(sigma1.dot(sigma2))
    if not np.isfinite(covmean).all():
        offset = np.eye(sigma1.shape[0]) * eps
        covmean = linalg.sqrtm((sigma1 + offset).dot(sigma2 + offset))
    covmean = covmean.real
    diff = mu1 - mu2
    return diff.dot(diff) + np.trace(sigma1) + np.trace(sigma2) - 2 * np.trace(covmean)


def _gaussian_stats(rng, n, d, shift):
    mixing = rng.standard_normal((d, d)) / math.sqrt(d)
    features = rng.standard_normal((n, d)) @ mixing + shift
    return features.mean(axis=0), np.cov(features, rowvar=False)


@pytest.mark.filterwarnings("ignore:The `disp` argument is deprecated:DeprecationWarning")  # inside pytorch-fid
def test_distance_equals_scipy_formula_and_pytorch_fid():
    from pytorch_fid.fid_score import calculate_frechet_distance

    rng = np.random.default_rng(0)
    mu1, sigma1 = _gaussian_stats(rng, 3000, 256, 0.0)
    mu2, sigma2 = _gaussian_stats(rng, 2000, 256, 0.1)
    ours = frechet_distance(mu1, sigma1, mu2, sigma2)
    assert ours.note == ""
    for reference in (ttur_head_fid(mu1, sigma1, mu2, sigma2), calculate_frechet_distance(mu1, sigma1, mu2, sigma2)):
        assert abs(ours.value - reference) <= 1e-6 * abs(reference)
    # the cached factor gives the same number for the other argument order and on repeated use
    reference_stats = RealReference(mu2, sigma2, CPU)
    assert abs(reference_stats.distance(mu1, sigma1).value - ours.value) <= 1e-9 * ours.value
    assert reference_stats.distance(torch.from_numpy(mu1), torch.from_numpy(sigma1)) == reference_stats.distance(
        mu1, sigma1
    )


def test_identical_statistics_give_zero():
    rng = np.random.default_rng(1)
    mu, sigma = _gaussian_stats(rng, 500, 32, 1.0)
    result = frechet_distance(mu, sigma, mu, sigma)
    assert abs(result.value) <= 1e-9 * np.trace(sigma)


def test_singular_covariances_have_the_exact_value_and_a_note():
    # diagonal covariances commute: FID = |Δμ|² + Σ (√a − √b)², exact even with zero variances
    a = np.array([4.0, 1.0, 0.0, 9.0, 0.0])
    b = np.array([1.0, 0.0, 0.0, 9.0, 2.0])
    mu1, mu2 = np.zeros(5), np.array([1.0, 0, 0, 0, 2.0])
    result = frechet_distance(mu1, np.diag(a), mu2, np.diag(b))
    expected = 5.0 + np.sum((np.sqrt(a) - np.sqrt(b)) ** 2)
    assert abs(result.value - expected) <= 1e-12 * expected
    assert "real covariance is singular (rank 3 of 5)" in result.note
    assert "generated covariance is singular" in result.note


def test_fewer_samples_than_dimensions_stay_real_and_finite():
    # TTUR#4, #40: below 2048 samples scipy's sqrtm can go complex; ours stays a real, finite number with a note
    rng = np.random.default_rng(2)
    mu1, sigma1 = _gaussian_stats(rng, 2000, 128, 0.0)
    mu2, sigma2 = _gaussian_stats(rng, 40, 128, 0.0)
    result = frechet_distance(mu1, sigma1, mu2, sigma2)
    assert math.isfinite(result.value) and "rank 39 < 128" in result.note
    reference = ttur_head_fid(mu1, sigma1, mu2, sigma2)
    assert abs(result.value - reference) <= 1e-6 * reference


def test_asymmetric_covariance_is_named_in_the_note():
    # a "covariance" that is not symmetric is not one (a corrupt or mis-assembled file); the symmetric part is used,
    # and the note must say so: its FID differs from the sqrtm formula's on the raw matrices
    rng = np.random.default_rng(4)
    mu, sigma = _gaussian_stats(rng, 400, 16, 0.0)
    skewed = sigma + np.triu(np.full((16, 16), 0.05), 1)
    result = frechet_distance(mu, sigma, mu, skewed)
    assert "generated covariance is not symmetric" in result.note
    symmetric = frechet_distance(mu, sigma, mu, (skewed + skewed.T) / 2)
    assert result.value == symmetric.value and "symmetric" not in symmetric.note
    assert "real covariance is not symmetric" in frechet_distance(mu, skewed, mu, sigma).note
    # rounding-level asymmetry (float32 storage of a symmetric matrix) stays silent
    rounded = sigma.astype(np.float32).astype(np.float64) + np.triu(np.full((16, 16), 1e-7 * np.abs(sigma).max()), 1)
    assert "symmetric" not in frechet_distance(mu, sigma, mu, rounded).note


def test_non_finite_statistics_give_nan_with_a_reason():
    sigma = np.eye(3)
    result = frechet_distance(np.zeros(3), sigma, np.array([np.nan, 0, 0]), sigma)
    assert math.isnan(result.value) and "NaN" in result.note
    result = frechet_distance(np.zeros(3), np.full((3, 3), np.inf), np.zeros(3), sigma)
    assert math.isnan(result.value) and "real statistics" in result.note


def test_round_matches_a_saved_png_and_truncate_matches_the_reference(tmp_path):
    from torchvision.utils import save_image

    generator = torch.Generator().manual_seed(3)
    images = torch.rand(2, 3, 8, 8, generator=generator) * 2 - 1
    images[0, 0, 0, :3] = torch.tensor([-1.0, 0.0, 1.0])
    save_image((images[0] + 1) / 2, tmp_path / "x.png")
    png = torch.from_numpy(np.array(Image.open(tmp_path / "x.png"))).permute(2, 0, 1)
    assert torch.equal(to_uint8(images, "round")[0], png)
    reference = ((images.numpy() + 1.0) * 127.5).astype("uint8")  # WGAN_GP/gan_64x64_FID.py
    assert np.array_equal(to_uint8(images, "truncate").numpy(), reference)
    assert to_uint8(images, "round")[0, 0, 0, :3].tolist() == [0, 128, 255]
    assert to_uint8(images, "truncate")[0, 0, 0, :3].tolist() == [0, 127, 255]
    with pytest.raises(ValueError, match="NaN"):
        to_uint8(torch.full((1, 3, 2, 2), float("nan")))


def _structured_images(n: int, seed: int, brightness: float) -> np.ndarray:
    """Smooth random colour fields (uint8 N×32×32×3), so conv features vary like on natural images."""
    rng = np.random.default_rng(seed)
    coarse = rng.random((n, 4, 4, 3))
    fine = np.kron(coarse, np.ones((1, 8, 8, 1)))
    noise = rng.random((n, 32, 32, 3)) * 0.2
    return np.clip((fine * 0.8 + noise) * 255 * brightness, 0, 255).astype(np.uint8)


def _write_folder(path, images: np.ndarray) -> None:
    for i, image in enumerate(images):
        sub = path / f"part{i % 2}"  # nested: the reader recurses
        sub.mkdir(parents=True, exist_ok=True)
        Image.fromarray(image).save(sub / f"{i:04d}.png")


@pytest.fixture(scope="module")
def image_folders(tmp_path_factory):
    root = tmp_path_factory.mktemp("images")
    real, fake = _structured_images(150, 0, 1.0), _structured_images(120, 1, 0.8)
    _write_folder(root / "real", real)
    _write_folder(root / "fake", fake)
    prepared = root / "prepared"
    prepared.mkdir()
    np.save(prepared / "images.npy", real)
    return root, real, fake


def test_prepared_dataset_and_png_folder_give_identical_statistics(image_folders):
    root, real, _ = image_folders
    extractor = load_extractor("randconv64", None, CPU)
    folder = open_images(root / "real")
    prepared = open_images(root / "prepared")
    assert (folder.kind, prepared.kind, len(folder), len(prepared)) == ("folder", "prepared", 150, 150)
    mu_f, sigma_f, _ = feature_moments(folder.batches(64, 150), extractor)
    mu_p, sigma_p, _ = feature_moments(prepared.batches(50, 150), extractor)
    torch.testing.assert_close(mu_f, mu_p, rtol=1e-6, atol=1e-7)
    torch.testing.assert_close(sigma_f, sigma_p, rtol=1e-6, atol=1e-8)
    assert len(folder.digest(150)) == 64


def test_cli_fid_on_folders_and_npz(image_folders, capsys):
    root, real, fake = image_folders
    extractor = load_extractor("randconv64", None, CPU)
    mu1, sigma1, _ = feature_moments([torch.from_numpy(real).permute(0, 3, 1, 2)], extractor)
    mu2, sigma2, _ = feature_moments([torch.from_numpy(fake).permute(0, 3, 1, 2)], extractor)
    expected = frechet_distance(mu1, sigma1, mu2, sigma2).value
    assert expected > 0

    flags = ["--extractor", "randconv64", "--device", "cpu", "--batch-size", "32"]
    assert main(["fid", str(root / "real"), str(root / "fake"), *flags]) == 0
    printed = float(capsys.readouterr().out.strip())
    assert abs(printed - expected) <= 1e-5 * expected  # printed with 6 decimals

    stats = root / "stats" / "real.randconv64.npz"
    assert main(["stats", str(root / "prepared"), str(stats), *flags]) == 0
    _, _, meta = load_stats(stats)
    assert meta["n"] == 150 and meta["extractor"] == "randconv64" and meta["dataset"]["kind"] == "prepared"
    capsys.readouterr()
    # the extractor comes from the sidecar when --extractor is not given
    assert main(["fid", str(stats), str(root / "fake"), "--device", "cpu", "--json"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert abs(answer["fid"] - expected) <= 1e-6 * expected and answer["extractor"] == "randconv64"


def test_cli_refuses_statistics_of_another_extractor(image_folders, tmp_path, capsys):
    root, _, _ = image_folders
    published = tmp_path / "fid_stats_celeba.npz"  # TTUR's published format: 2048-d, no sidecar
    np.savez_compressed(published, mu=np.zeros(2048), sigma=np.eye(2048))
    code = main(["fid", str(published), str(root / "fake"), "--extractor", "randconv64", "--device", "cpu"])
    assert code == 2 and "2048-d but extractor randconv64 gives 64-d" in capsys.readouterr().err
    mine = tmp_path / "mine.npz"
    save_stats(mine, np.zeros(64), np.eye(64), {"extractor": "inception-v3-compat", "n": 10})
    code = main(["fid", str(mine), str(root / "fake"), "--extractor", "randconv64", "--device", "cpu"])
    assert code == 2 and "made with extractor 'inception-v3-compat'" in capsys.readouterr().err


def test_evaluator_scores_sampled_images(image_folders, tmp_path):
    _, real, fake = image_folders
    extractor = load_extractor("randconv64", None, CPU)
    mu, sigma, n = feature_moments([torch.from_numpy(real).permute(0, 3, 1, 2)], extractor)
    stats = tmp_path / "real.randconv64.npz"
    save_stats(stats, mu, sigma, {"n": n, "extractor": "randconv64", "weights_sha256": None})
    evaluator = FidEvaluator(stats, extractor, batch_size=25)

    pool = torch.from_numpy(fake).permute(0, 3, 1, 2).float() / 127.5 - 1  # "generator output" in [-1, 1]
    cursor = [0]

    def sample(k: int) -> torch.Tensor:
        batch = pool[cursor[0] : cursor[0] + k]
        cursor[0] += k
        return to_uint8(batch, "round")

    result = evaluator.evaluate(sample, 110)
    mu_f, sigma_f, _ = feature_moments([to_uint8(pool[:110], "round")], extractor)
    expected = frechet_distance(mu, sigma, mu_f, sigma_f).value
    assert cursor[0] == 110 and abs(result.value - expected) <= 1e-9 * expected and result.note == ""

    with pytest.warns(UserWarning, match="30 samples < 64"):
        few = evaluator.evaluate(lambda k: to_uint8(pool[:k], "round"), 30)
    assert math.isfinite(few.value) and "only 30 samples" in few.note

    diverged = evaluator.evaluate(lambda k: to_uint8(torch.full((k, 3, 32, 32), float("nan"))), 50)
    assert math.isnan(diverged.value) and "diverged" in diverged.note
