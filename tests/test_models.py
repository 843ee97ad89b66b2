"""Architectures against the spec's tables (§3.2, §4.2, §4.9, §5.2): shapes, parameter counts, norms, init, padding."""

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from ttur.models import GanPair, build_gan, count_parameters, sampling
from ttur.models.dcgan import Conv2dSame, ConvTranspose2dSame, same_padding
from ttur.models.wgan_gp import ConvMeanPool, MeanPoolConv, UpsampleConv, layer_norm, mean_pool, upsample

# Realised std of N(0, σ²) truncated at ±2σ: σ·sqrt(1 − 4φ(2)/(Φ(2) − Φ(−2))).
PHI_2 = math.exp(-2.0) / math.sqrt(2.0 * math.pi)
MASS_2 = math.erf(2.0 / math.sqrt(2.0))
TRUNC_STD_FACTOR = math.sqrt(1.0 - 4.0 * PHI_2 / MASS_2)  # 0.8796


def build(model: str, image_size: int = 64, width: int = 64, z_dim: int = 100, critic: str = "per_sample") -> GanPair:
    torch.manual_seed(0)
    return build_gan(model, image_size, width, z_dim, vocab_size=0, seq_len=32, wgan32_critic=critic)


@pytest.fixture(scope="module")
def dcgan64() -> GanPair:
    return build("dcgan", 64, 64, 100)


@pytest.fixture(scope="module")
def wgan64() -> GanPair:
    return build("wgangp", 64, 64, 128)


# ---------------------------------------------------------------- DCGAN (§3.2)


def test_dcgan_64_shapes_and_parameter_counts(dcgan64: GanPair) -> None:
    g_layers = [
        100 * 8192 + 8192,  # g_h0_lin: Linear 100 → 8·64·4·4
        2 * 512,  # g_bn0 (γ, β)
        512 * 256 * 25 + 256,  # g_h1: deconv 5×5 512→256
        2 * 256,
        256 * 128 * 25 + 128,  # g_h2
        2 * 128,
        128 * 64 * 25 + 64,  # g_h3
        2 * 64,
        64 * 3 * 25 + 3,  # g_h4 (no BN)
    ]
    d_layers = [
        3 * 64 * 25 + 64,  # d_h0_conv (no BN)
        64 * 128 * 25 + 128,  # d_h1_conv
        2 * 128,  # d_bn1
        128 * 256 * 25 + 256,
        2 * 256,
        256 * 512 * 25 + 512,
        2 * 512,
        8192 + 1,  # d_h3_lin: 4·4·512 → 1
    ]
    assert sum(g_layers) == 5_135_363
    assert sum(d_layers) == 4_316_545
    assert count_parameters(dcgan64.generator) == 5_135_363
    assert count_parameters(dcgan64.discriminator) == 4_316_545
    z = dcgan64.sample_noise(2, None, "cpu")
    x = dcgan64.generator(z)
    assert x.shape == (2, 3, 64, 64)
    assert x.abs().max() <= 1.0  # tanh output
    assert dcgan64.discriminator(x).shape == (2,)


def test_dcgan_32_shapes_and_parameter_counts() -> None:
    pair = build("dcgan", 32, 64, 100)
    # Only the two linear layers change: G 100 → 8·64·2·2 and D 2·2·512 → 1.
    assert count_parameters(pair.generator) == 5_135_363 - (100 * 8192 + 8192) + (100 * 2048 + 2048) == 4_514_819
    assert count_parameters(pair.discriminator) == 4_316_545 - 8193 + 2049 == 4_310_401
    gen = pair.generator
    h = F.relu(gen.bn0(gen.h0_lin(pair.sample_noise(2, None, "cpu")).view(2, 512, 2, 2)))
    sizes = [h.shape[-1]]
    for deconv in (gen.h1, gen.h2, gen.h3, gen.h4):
        h = deconv(h)
        sizes.append(h.shape[-1])
    assert sizes == [2, 4, 8, 16, 32]
    assert pair.discriminator(h).shape == (2,)


def test_tf_same_padding_rule() -> None:
    # TF: out = ceil(in/s), total = max((out−1)s + k − in, 0), before = total//2, after = the rest.
    assert same_padding(64, 5, 2) == (1, 2)
    assert same_padding(5, 5, 2) == (2, 2)
    assert same_padding(7, 3, 1) == (1, 1)


def test_conv_same_is_tf_asymmetric_padding_and_deconv_is_its_adjoint() -> None:
    torch.manual_seed(1)
    conv = Conv2dSame(3, 4)
    x = torch.randn(2, 3, 8, 8)
    reference = F.conv2d(F.pad(x, (1, 2, 1, 2)), conv.weight, conv.bias, stride=2)  # TF pads 1 before, 2 after
    torch.testing.assert_close(conv(x), reference, rtol=0, atol=1e-6)

    # tf.nn.conv2d_transpose is the gradient (adjoint) of the SAME conv: <conv(x), y> = <deconv(y), x>.
    deconv = ConvTranspose2dSame(4, 3)
    with torch.no_grad():
        deconv.weight.copy_(conv.weight)
        deconv.bias.zero_()
        conv.bias.zero_()
    y = torch.randn(2, 4, 4, 4)
    lhs = (conv(x) * y).sum()
    rhs = (deconv(y) * x).sum()
    assert deconv(y).shape == (2, 3, 8, 8)
    torch.testing.assert_close(lhs, rhs, rtol=1e-5, atol=1e-5)
    # PyTorch's symmetric padding=2/output_padding=1 is a different (shifted) map: the choice matters.
    shifted = F.conv_transpose2d(y, conv.weight, stride=2, padding=2, output_padding=1)
    assert not torch.allclose(shifted, deconv(y), atol=1e-3)


def test_dcgan_batchnorm_settings(dcgan64: GanPair) -> None:
    g_bns = [m for m in dcgan64.generator.modules() if isinstance(m, nn.BatchNorm2d)]
    d_bns = [m for m in dcgan64.discriminator.modules() if isinstance(m, nn.BatchNorm2d)]
    assert len(g_bns) == 4  # after h0..h3, none after the output layer
    assert len(d_bns) == 3  # none after d_h0_conv
    for bn in g_bns + d_bns:
        assert (bn.eps, bn.momentum, bn.affine, bn.track_running_stats) == (1e-5, 0.1, True, True)
    assert dcgan64.generator.sample_bn_mode == "eval"
    assert dcgan64.noise == "uniform" and dcgan64.z_dim == 100


def test_dcgan_init_statistics(dcgan64: GanPair) -> None:
    conv_w = dcgan64.discriminator.h2_conv.weight  # 819,200 values, truncated normal
    assert conv_w.abs().max() <= 2 * 0.02
    assert conv_w.std().item() == pytest.approx(0.02 * TRUNC_STD_FACTOR, rel=0.01)  # 0.01759
    deconv_w = dcgan64.generator.h2.weight  # 819,200 values, plain normal
    assert deconv_w.std().item() == pytest.approx(0.02, rel=0.01)
    beyond = (deconv_w.abs() > 0.04).float().mean().item()
    assert beyond == pytest.approx(1 - MASS_2, abs=0.003)  # 4.55 % of a normal lies beyond 2σ: not truncated
    lin_w = dcgan64.generator.h0_lin.weight  # 819,200 values
    assert lin_w.std().item() == pytest.approx(0.02, rel=0.01)
    assert abs(lin_w.mean().item()) < 1e-4
    for module in (dcgan64.generator, dcgan64.discriminator):
        for name, p in module.named_parameters():
            if name.endswith("bias"):
                assert torch.count_nonzero(p) == 0, name


def test_dcgan_bn_momentum_and_eval_sampling() -> None:
    pair = build("dcgan", 32, 8, 100)
    gen = pair.generator
    z = pair.sample_noise(16, torch.Generator().manual_seed(3), "cpu")
    assert z.min() >= -1.0 and z.max() <= 1.0
    with torch.no_grad():
        h0 = gen.h0_lin(z).view(16, 64, 2, 2)
        gen(z)  # one training-mode forward updates the running averages with TF decay 0.9
    torch.testing.assert_close(gen.bn0.running_mean, 0.1 * h0.mean((0, 2, 3)), rtol=1e-5, atol=1e-7)
    torch.testing.assert_close(gen.bn0.running_var, 0.9 + 0.1 * h0.var((0, 2, 3), unbiased=True), rtol=1e-5, atol=1e-6)
    with sampling(gen):
        assert not gen.training
        # running averages: a sample does not depend on the rest of its batch
        torch.testing.assert_close(gen(z)[:3], gen(z[:3]), rtol=1e-5, atol=1e-6)
    assert gen.training


# ---------------------------------------------------------------- WGAN-GP "Good" ResNet (§4.2, §4.9)


def up_block(i: int, o: int) -> int:
    """BN(i) → conv_1 UpsampleConv 3×3 i→o (no bias) → BN(o) → conv_2 3×3 o→o → + shortcut UpsampleConv 1×1 i→o."""
    return 2 * i + i * o * 9 + 2 * o + (o * o * 9 + o) + (i * o + o)


def down_block(i: int, o: int) -> int:
    """LN(i) → conv_1 3×3 i→i (no bias) → LN(i) → conv_2 ConvMeanPool 3×3 i→o → + shortcut MeanPoolConv 1×1 i→o."""
    return 2 * i + i * i * 9 + 2 * i + (i * o * 9 + o) + (i * o + o)


def test_wgan_64_shapes_and_parameter_counts(wgan64: GanPair) -> None:
    g_layers = [
        128 * 8192 + 8192,  # Linear 128 → 4·4·8·64
        up_block(512, 512),  # 4,983,808
        up_block(512, 256),  # 1,902,592
        up_block(256, 128),  # 476,160
        up_block(128, 64),  # 119,296
        2 * 64,  # output BN
        64 * 3 * 9 + 3,  # conv 3×3 64 → 3
    ]
    d_layers = [
        3 * 64 * 9 + 64,  # input conv 3×3 3 → 64
        down_block(64, 128),  # 119,296
        down_block(128, 256),  # 476,160
        down_block(256, 512),  # 1,902,592
        down_block(512, 512),  # 4,983,808
        8192 + 1,  # Linear 4·4·512 → 1
    ]
    assert up_block(512, 512) == down_block(512, 512) == 4_983_808
    assert sum(g_layers) == 8_540_483
    assert sum(d_layers) == 7_491_841
    assert count_parameters(wgan64.generator) == 8_540_483
    assert count_parameters(wgan64.discriminator) == 7_491_841
    x = wgan64.generator(wgan64.sample_noise(2, None, "cpu"))
    assert x.shape == (2, 3, 64, 64)
    assert x.abs().max() <= 1.0
    assert wgan64.discriminator(x).shape == (2,)
    assert wgan64.noise == "normal" and wgan64.z_dim == 128


def test_wgan_32_per_sample_and_grouped_critic() -> None:
    pair = build("wgangp", 32, 32, 128, critic="per_sample")
    g_expected = (128 * 1024 + 1024) + up_block(256, 256) + up_block(256, 128) + up_block(128, 64)
    g_expected += up_block(64, 32) + 2 * 32 + (32 * 3 * 9 + 3)
    trunk = (3 * 32 * 9 + 32) + down_block(32, 64) + down_block(64, 128) + down_block(128, 256) + down_block(256, 256)
    assert g_expected == 2_005_155
    assert count_parameters(pair.generator) == 2_005_155
    assert count_parameters(pair.discriminator) == trunk + (1024 + 1) == 1_874_049  # 256·2·2 → 1
    x = pair.generator(pair.sample_noise(2, None, "cpu"))
    assert x.shape == (2, 3, 32, 32)
    assert pair.discriminator(x).shape == (2,)

    grouped = build("wgangp", 32, 32, 128, critic="grouped").discriminator
    assert count_parameters(grouped) == trunk + (4096 + 1) == 1_877_121  # reshape [-1, 4·4·8·32] → 1
    torch.manual_seed(2)
    batch = torch.rand(64, 3, 32, 32) * 2 - 1
    scores = grouped(batch)
    assert scores.shape == (16,)  # batch 64 gives 16 critic values (spec §4.9)
    # Value k is the Linear applied to the concatenated features of samples 4k..4k+3.
    with torch.no_grad():
        feats = grouped.res4(grouped.res3(grouped.res2(grouped.res1(grouped.input(batch[:8])))))
        manual = grouped.output(feats.reshape(2, 4096)).view(-1)
    torch.testing.assert_close(scores[:2], manual, rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match="multiple of 4"):
        grouped(batch[:6])


def test_grouped_head_at_64_is_per_sample() -> None:
    critic = build("wgangp", 64, 4, 128, critic="grouped").discriminator
    assert critic.group == 1 and critic.flat == 4 * 4 * 8 * 4


def test_wgan_norm_settings(wgan64: GanPair) -> None:
    g_bns = [m for m in wgan64.generator.modules() if isinstance(m, nn.BatchNorm2d)]
    assert len(g_bns) == 9  # 2 per block + output
    for bn in g_bns:
        assert (bn.eps, bn.affine, bn.track_running_stats) == (1e-5, True, False)
    critic = wgan64.discriminator
    assert not any(isinstance(m, nn.BatchNorm2d) for m in critic.modules())
    lns = [m for m in critic.modules() if isinstance(m, nn.GroupNorm)]
    assert len(lns) == 8
    assert all(ln.num_groups == 1 and ln.eps == 1e-5 and ln.affine for ln in lns)
    assert wgan64.generator.sample_bn_mode == "batch"


def test_layernorm_is_tflib_layernorm() -> None:
    torch.manual_seed(4)
    ln = layer_norm(6)
    with torch.no_grad():
        ln.weight.uniform_(0.5, 1.5)
        ln.bias.uniform_(-0.5, 0.5)
    x = torch.randn(3, 6, 5, 5) * 3 + 1
    mean = x.mean((1, 2, 3), keepdim=True)
    var = x.var((1, 2, 3), unbiased=False, keepdim=True)  # tf.nn.moments: population variance
    reference = (x - mean) / torch.sqrt(var + 1e-5) * ln.weight.view(1, 6, 1, 1) + ln.bias.view(1, 6, 1, 1)
    torch.testing.assert_close(ln(x), reference, rtol=1e-5, atol=1e-5)


def test_upsample_is_tiling_then_depth_to_space() -> None:
    x = torch.randn(2, 5, 3, 4)
    tiled = torch.cat([x, x, x, x], dim=1).permute(0, 2, 3, 1)  # NHWC, 4C channels
    n, h, w, c4 = tiled.shape
    # TF depth_to_space(2), NHWC: out[n, 2h+i, 2w+j, c] = in[n, h, w, (2i+j)·C + c]
    d2s = tiled.reshape(n, h, w, 2, 2, c4 // 4).permute(0, 1, 3, 2, 4, 5).reshape(n, 2 * h, 2 * w, c4 // 4)
    assert torch.equal(upsample(x), d2s.permute(0, 3, 1, 2))


def test_resampling_convs() -> None:
    torch.manual_seed(5)
    x = torch.randn(2, 4, 8, 8)
    phases = (x[:, :, ::2, ::2] + x[:, :, 1::2, ::2] + x[:, :, ::2, 1::2] + x[:, :, 1::2, 1::2]) / 4
    torch.testing.assert_close(mean_pool(x), phases, rtol=0, atol=1e-6)
    shortcut = UpsampleConv(4, 6, 1, he=False, bias=True)
    with torch.no_grad():
        shortcut.conv.bias.uniform_(-1, 1)
        # 1×1 shortcut runs conv first; equal to the reference's upsample-then-conv
        torch.testing.assert_close(shortcut(x), shortcut.conv(upsample(x)), rtol=1e-5, atol=1e-5)
    assert UpsampleConv(4, 6, 3, he=True, bias=False)(x).shape == (2, 6, 16, 16)
    assert ConvMeanPool(4, 6, 3, he=True, bias=True)(x).shape == (2, 6, 4, 4)
    assert MeanPoolConv(4, 6, 1, he=False, bias=True)(x).shape == (2, 6, 4, 4)


def test_wgan_tflib_init_statistics(wgan64: GanPair) -> None:
    gen, critic = wgan64.generator, wgan64.discriminator

    def check_uniform(w: torch.Tensor, std: float) -> None:
        assert w.abs().max().item() <= math.sqrt(3) * std * (1 + 1e-6)
        assert w.std().item() == pytest.approx(std, rel=0.01)

    check_uniform(gen.res1.conv_1.conv.weight, math.sqrt(4 / (512 * 9 + 512 * 9)))  # He, 2.36M values
    check_uniform(gen.res1.shortcut.conv.weight, math.sqrt(2 / (512 + 512)))  # Glorot 1×1, 262k values
    check_uniform(gen.input.weight, math.sqrt(2 / (128 + 8192)))  # Glorot Linear
    check_uniform(critic.res4.conv_2.conv.weight, math.sqrt(4 / (512 * 9 + 512 * 9)))
    check_uniform(critic.output.weight, math.sqrt(2 / (8192 + 1)))  # 8192 values
    assert critic.input.weight.abs().max() <= math.sqrt(3) * math.sqrt(2 / (3 * 9 + 64 * 9))  # Glorot, not He
    assert gen.res1.conv_1.conv.bias is None and critic.res1.conv_1.bias is None  # conv_1 has no bias
    for module in (gen, critic):
        for name, p in module.named_parameters():
            if name.endswith("bias") and "norm" not in name:
                assert torch.count_nonzero(p) == 0, name


def test_wgan_generator_uses_batch_statistics_when_sampling() -> None:
    pair = build("wgangp", 32, 8, 128)
    gen = pair.generator
    z = pair.sample_noise(8, torch.Generator().manual_seed(6), "cpu")
    with torch.no_grad():
        train_out = gen(z)
    with sampling(gen):
        sample_out = gen(z)
        first_four = gen(z[:4])
    gen.eval()
    with torch.no_grad():
        eval_out = gen(z)
    gen.train()
    assert torch.equal(train_out, sample_out)
    assert torch.equal(train_out, eval_out)  # no running averages exist, so eval() changes nothing
    assert (first_four - sample_out[:4]).abs().max() > 1e-3  # a sample depends on its batch
    assert not any(b.numel() for b in gen.buffers())


# ---------------------------------------------------------------- language model (§5.2)


def test_language_shapes_parameter_counts_and_init() -> None:
    torch.manual_seed(7)
    pair = build_gan("lang", 0, 512, 128, vocab_size=100, seq_len=32, wgan32_critic="per_sample")
    block = 2 * (512 * 512 * 5 + 512)  # two Conv1D 5, 512 → 512, with bias
    assert count_parameters(pair.generator) == (128 * 16384 + 16384) + 5 * block + (512 * 100 + 100) == 15_277_156
    assert count_parameters(pair.discriminator) == (100 * 512 + 512) + 5 * block + (16384 + 1) == 13_180_417
    probs = pair.generator(pair.sample_noise(2, None, "cpu"))
    assert probs.shape == (2, 32, 100)
    torch.testing.assert_close(probs.sum(-1), torch.ones(2, 32), rtol=0, atol=1e-5)
    assert pair.discriminator(probs).shape == (2,)
    one_hot = F.one_hot(torch.randint(0, 100, (2, 32)), 100).float()
    assert pair.discriminator(one_hot).shape == (2,)
    conv_w = pair.generator.blocks[0].conv_1.weight  # He-uniform std √(4/(512·5 + 512·5)), 1.3M values
    assert conv_w.std().item() == pytest.approx(math.sqrt(4 / 5120), rel=0.01)
    assert conv_w.abs().max().item() <= math.sqrt(3 * 4 / 5120) * (1 + 1e-6)
    assert pair.generator.input.weight.std().item() == pytest.approx(math.sqrt(2 / (128 + 16384)), rel=0.01)
    assert not any(isinstance(m, nn.BatchNorm2d | nn.GroupNorm | nn.LayerNorm) for m in pair.generator.modules())


def test_language_residual_scaling() -> None:
    pair = build_gan("lang", 0, 16, 128, vocab_size=10, seq_len=8, wgan32_critic="per_sample")
    block = pair.generator.blocks[0]
    x = torch.randn(2, 16, 8)
    inner = block.conv_2(F.relu(block.conv_1(F.relu(x))))
    torch.testing.assert_close(block(x), x + 0.3 * inner)


# ---------------------------------------------------------------- factory


def test_noise_is_reproducible_and_distributed() -> None:
    pair = build("dcgan", 32, 8, 100)
    a = pair.sample_noise(4000, torch.Generator().manual_seed(9), "cpu")
    b = pair.sample_noise(4000, torch.Generator().manual_seed(9), "cpu")
    assert torch.equal(a, b)
    assert a.min() >= -1 and a.max() < 1
    assert a.std().item() == pytest.approx(1 / math.sqrt(3), rel=0.01)  # U(−1, 1): std 0.577
    normal = build("wgangp", 32, 4, 128).sample_noise(4000, torch.Generator().manual_seed(9), "cpu")
    assert normal.shape == (4000, 128)
    assert normal.std().item() == pytest.approx(1.0, rel=0.01)


def test_bad_names_are_rejected() -> None:
    with pytest.raises(ValueError, match="model must be"):
        build("began")
    with pytest.raises(ValueError, match="wgan32_critic"):
        build("wgangp", 32, 4, 128, critic="mixed")
