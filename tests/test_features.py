"""Feature extractors: the real torch-fidelity Inception loaded from a weights file the test generates, and randconv64.

The real Inception weights cannot ship with the tests, so a session fixture builds the same architecture
(torchvision's Inception-v3 layout with 1008 classes, the layout of the published file), fills it with seeded
random values, saves it as a `.pth` state dict like the published one, and loads it through the production path
with the test file's own sha256 as the expected digest.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ttur.errors import UserError
from ttur.io import sha256_file
from ttur.metrics.features import load_extractor
from ttur.metrics.fid import feature_moments
from ttur.metrics.weights import INCEPTION_SHA256

CPU = torch.device("cpu")


@pytest.fixture(scope="session")
def random_inception(tmp_path_factory):
    """A weights file in the published format with seeded random values, and its sha256."""
    import torchvision

    torch.manual_seed(0)
    network = torchvision.models.inception_v3(weights=None, aux_logits=False, num_classes=1008, init_weights=False)
    generator = torch.Generator().manual_seed(1234)
    state = network.state_dict()
    for key, tensor in state.items():
        if key.endswith("conv.weight"):
            fan_in = tensor[0].numel()
            tensor.copy_(torch.randn(tensor.shape, generator=generator) * (2.0 / fan_in) ** 0.5)
        elif key.endswith("bn.running_var"):
            tensor.copy_(torch.rand(tensor.shape, generator=generator) + 0.5)
        elif key.endswith("bn.running_mean") or key.endswith("bn.bias"):
            tensor.copy_(torch.randn(tensor.shape, generator=generator) * 0.1)
        elif key.endswith("bn.weight"):
            tensor.copy_(torch.rand(tensor.shape, generator=generator) + 0.5)
        elif key.startswith("fc."):
            tensor.copy_(torch.randn(tensor.shape, generator=generator) * 0.05)
    path = tmp_path_factory.mktemp("weights") / "weights-random-test.pth"
    torch.save(state, path)
    return path, sha256_file(path)


@pytest.fixture(scope="session")
def inception(random_inception):
    path, digest = random_inception
    return load_extractor("inception-v3-compat", path, CPU, expected_sha256=digest)


def _images(n: int, size: int, seed: int) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return torch.randint(0, 256, (n, 3, size, size), generator=generator, dtype=torch.uint8)


def test_inception_outputs_pool_and_bias_free_logits(inception, random_inception):
    images = _images(2, 32, seed=0)
    pool, logits = inception(images)
    assert (inception.name, inception.dim, inception.has_logits) == ("inception-v3-compat", 2048, True)
    assert pool.shape == (2, 2048) and logits.shape == (2, 1008)
    assert inception.weights_sha256 == random_inception[1]
    state = torch.load(random_inception[0], weights_only=True)
    # logits are pool3 · Wᵀ without the bias: the Inception Score convention (TTUR FIDvsINC, torch-fidelity)
    torch.testing.assert_close(logits, pool @ state["fc.weight"].T, rtol=1e-5, atol=1e-5)
    assert pool.std() > 0  # the random network is not dead: features vary


def test_inception_is_batch_size_independent(inception):
    images = _images(3, 32, seed=1)
    whole, _ = inception(images)
    parts = torch.cat([inception(images[:2])[0], inception(images[2:])[0]])
    single = torch.cat([inception(images[i : i + 1])[0] for i in range(3)])
    scale = whole.abs().max()
    # tolerance 1e-5 relative to the largest feature, as torch-fidelity's own CPU batching test
    assert (parts - whole).abs().max() <= 1e-5 * scale
    assert (single - whole).abs().max() <= 1e-5 * scale


def test_inception_statistics_equal_numpy_on_same_features(inception):
    images = _images(3, 32, seed=2)
    features = inception(images)[0].double().numpy()
    with pytest.warns(UserWarning, match="covariance is singular"):  # 3 samples < 2048 dimensions
        mu, sigma, n = feature_moments([images[:2], images[2:]], inception)
    assert n == 3
    np.testing.assert_allclose(mu.numpy(), features.mean(axis=0), rtol=0, atol=1e-6 * np.abs(features).max())
    reference = np.cov(features, rowvar=False)
    np.testing.assert_allclose(sigma.numpy(), reference, rtol=0, atol=1e-5 * np.abs(reference).max())


def test_missing_weights_error_says_where_and_how(tmp_path, monkeypatch):
    monkeypatch.delenv("TTUR_INCEPTION_WEIGHTS", raising=False)
    with pytest.raises(UserError, match="TTUR_INCEPTION_WEIGHTS") as info:
        load_extractor("inception-v3-compat", None, CPU)
    assert INCEPTION_SHA256 in str(info.value) and "ttur weights" in str(info.value)
    with pytest.raises(UserError, match="does not exist"):
        load_extractor("inception-v3-compat", tmp_path / "absent.pth", CPU)


def test_env_var_names_the_weights(random_inception, monkeypatch):
    path, digest = random_inception
    monkeypatch.setenv("TTUR_INCEPTION_WEIGHTS", str(path))
    extractor = load_extractor("inception-v3-compat", None, CPU, expected_sha256=digest)
    assert extractor.weights_sha256 == digest


def test_production_default_rejects_a_file_that_is_not_the_published_one(random_inception):
    path, digest = random_inception
    with pytest.raises(UserError, match=f"has sha256 {digest}, expected {INCEPTION_SHA256}"):
        load_extractor("inception-v3-compat", path, CPU)


def test_corrupted_weights_are_rejected(random_inception, tmp_path):
    path, digest = random_inception
    corrupted = tmp_path / "corrupted.pth"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    corrupted.write_bytes(bytes(data))
    with pytest.raises(UserError, match="corrupted, truncated or a different file"):
        load_extractor("inception-v3-compat", corrupted, CPU, expected_sha256=digest)
    truncated = tmp_path / "truncated.pth"
    truncated.write_bytes(path.read_bytes()[:1000])
    # even with a matching digest, an unreadable file is a clear error, not a traceback
    with pytest.raises(UserError, match="could not load Inception weights"):
        load_extractor("inception-v3-compat", truncated, CPU, expected_sha256=sha256_file(truncated))


def test_nothing_is_downloaded(random_inception, monkeypatch):
    import torch_fidelity.feature_extractor_inceptionv3 as module

    def forbidden(*args, **kwargs):
        raise AssertionError("torch-fidelity tried to download weights")

    monkeypatch.setattr(module, "load_state_dict_from_url", forbidden)
    monkeypatch.setattr(torch.hub, "load_state_dict_from_url", forbidden)
    path, digest = random_inception
    load_extractor("inception-v3-compat", path, CPU, expected_sha256=digest)


def test_randconv64_is_deterministic_and_takes_native_sizes():
    first = load_extractor("randconv64", None, CPU)
    second = load_extractor("randconv64", None, CPU)
    assert (first.dim, first.weights_sha256, first.has_logits) == (64, None, True)
    for size in (32, 64):
        images = _images(7, size, seed=size)
        pool, logits = first(images)
        assert pool.shape == (7, 64) and logits.shape == (7, 16)
        assert torch.equal(pool, second(images)[0])
        parts = torch.cat([first(images[:3])[0], first(images[3:])[0]])
        torch.testing.assert_close(parts, pool, rtol=1e-6, atol=1e-6)
    assert "NOT Inception" in first.preprocessing


def test_extractors_reject_float_images_and_unknown_names():
    extractor = load_extractor("randconv64", None, CPU)
    with pytest.raises(ValueError, match="uint8"):
        extractor(torch.zeros(1, 3, 32, 32))
    with pytest.raises(UserError, match="unknown feature extractor"):
        load_extractor("vgg", None, CPU)


def test_features_run_with_tf32_off_and_restore_the_process_setting():
    """TF32 is switched off around every feature pass and the caller's setting comes back (no-op flags on CPU)."""
    from ttur.metrics.features import full_precision

    before = (torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32)
    torch.backends.cuda.matmul.allow_tf32 = True
    torch.backends.cudnn.allow_tf32 = True
    try:
        with full_precision():
            assert torch.backends.cuda.matmul.allow_tf32 is False
            assert torch.backends.cudnn.allow_tf32 is False
        assert torch.backends.cuda.matmul.allow_tf32 is True
        assert torch.backends.cudnn.allow_tf32 is True
    finally:
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = before
