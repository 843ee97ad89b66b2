"""Training job, in-process: settings/flags, data order, resume-state files, loss window, update schedules."""

from __future__ import annotations

import argparse
import copy
import dataclasses
import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import torch
from test_train_fixtures import make_datasets
from torch.optim.optimizer import register_optimizer_step_post_hook

import ttur.train.trainer as trainer_module
from ttur.errors import UserError
from ttur.models import build_gan
from ttur.train import TrainSettings, train
from ttur.train.batches import EpochOrder, ImageBatches, TextBatches, open_prepared
from ttur.train.records import MetricsLog
from ttur.train.settings import MODEL_DEFAULTS, add_arguments, settings_from_args
from ttur.train.state import CorruptStateError, ResumeStore, decode, encode
from ttur.train.steps import dcgan_update
from ttur.train.trainer import LossWindow, Trainer


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return make_datasets(tmp_path_factory.mktemp("train_data"))


@pytest.fixture()
def one_thread():
    """Single-threaded torch: fast on a busy 2-core machine and the same numerics as the CLI tests."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def settings_for(paths: dict[str, Path], model: str, **overrides: object) -> TrainSettings:
    image = model != "lang"
    values: dict[str, object] = {
        "model": model, "dataset": "test", "data": paths["images"] if image else paths["text"], "method": "ttur",
        "lr_d": 2e-4, "lr_g": 1e-4, "seed": 5, "updates": 4, "stats": paths["fid_stats"] if image else paths["ngrams"],
        "extractor": "randconv64", "width": 8 if image else 16, "batch_size": 16, "eval_every": 1000,
        "eval_samples": 128 if image else 64, "eval_batch_size": 64 if image else 32, "device": "cpu",
    }  # fmt: skip
    values.update(overrides)
    return TrainSettings(**values)  # type: ignore[arg-type]


# ----------------------------------------------------------------------------------------------------- settings
def test_every_setting_has_a_flag_and_round_trips() -> None:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    flags = {action.dest: action for action in parser._actions}
    for field in dataclasses.fields(TrainSettings):
        assert field.name in flags, f"no flag for {field.name}"
        assert flags[field.name].option_strings == ["--" + field.name.replace("_", "-")]
        assert flags[field.name].help
    required = {"model", "dataset", "data", "method", "lr_d", "lr_g", "seed", "updates", "stats"}
    assert {dest for dest, action in flags.items() if action.required} == required

    argv = "--model wgangp --dataset lsun --data d --method orig --lr-d 1e-4 --lr-g 1e-4 --seed 2 --updates 9"
    argv += " --stats s.npz --critic-iters 5 --tf32 true --channels-last no --jsd-ns 4 6 --weights none"
    settings = settings_from_args(parser.parse_args(argv.split()))
    assert settings.critic_iters == 5 and settings.tf32 is True and settings.channels_last is False
    assert settings.weights is None and settings.jsd_ns == [4, 6] and settings.max_minutes is None
    # None means "the reference's value for this model" and is resolved before it is recorded.
    assert (settings.beta1, settings.beta2, settings.z_dim, settings.metric) == (0.0, 0.9, 128, "fid")
    assert TrainSettings(**settings.to_json()) == settings


@pytest.mark.parametrize("model", ["dcgan", "wgangp", "lang"])
def test_reference_defaults_per_model(model: str) -> None:
    settings = TrainSettings(model=model, dataset="x", data=Path("d"), method="ttur", lr_d=1.0, lr_g=1.0, seed=0,
                             updates=1, stats=Path("s"))  # fmt: skip
    for name, value in MODEL_DEFAULTS[model].items():
        assert getattr(settings, name) == value


@pytest.mark.parametrize(
    "bad",
    [
        {"model": "began"},
        {"metric": "jsd"},
        {"lr_d": 0.0},
        {"critic_iters": 5},
        {"pixels": "floor"},
        {"model": "wgangp", "wgan32_critic": "grouped", "batch_size": 62},  # else a ValueError at the first step
    ],
)
def test_bad_settings_are_user_errors(bad: dict[str, object]) -> None:
    values = {"model": "dcgan", "dataset": "x", "data": "d", "method": "ttur", "lr_d": 1e-4, "lr_g": 1e-4, "seed": 0,
              "updates": 1, "stats": "s", **bad}  # fmt: skip
    with pytest.raises(UserError):
        TrainSettings(**values)  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------------------- data order
def test_epoch_order_is_seeded_full_batches_and_resumable() -> None:
    order = EpochOrder(count=70, batch_size=16, seed=3)  # 4 full batches per epoch, 6 rows dropped
    epoch0 = [order.next_indices() for _ in range(4)]
    seen = np.concatenate(epoch0)
    assert all(len(b) == 16 for b in epoch0) and len(np.unique(seen)) == 64 and seen.max() < 70
    assert order.state_dict() == {"epoch": 1, "batch": 0}
    again = EpochOrder(count=70, batch_size=16, seed=3)
    assert all(np.array_equal(a, again.next_indices()) for a in epoch0)  # same seed, same order
    other = EpochOrder(count=70, batch_size=16, seed=4)
    assert not np.array_equal(epoch0[0], other.next_indices())
    order.next_indices()
    saved = order.state_dict()
    expected = [order.next_indices() for _ in range(6)]
    resumed = EpochOrder(count=70, batch_size=16, seed=3)
    resumed.load_state_dict(saved)
    assert all(np.array_equal(e, resumed.next_indices()) for e in expected)


@pytest.mark.parametrize("channels_last", [False, True])
def test_image_batches_are_scaled_nchw(channels_last: bool) -> None:
    images = np.random.default_rng(0).integers(0, 256, size=(40, 8, 8, 3), dtype=np.uint8)
    batch = ImageBatches(images, EpochOrder(40, 16, 0), torch.device("cpu"), channels_last).next()
    rows = EpochOrder(40, 16, 0).next_indices()
    reference = torch.from_numpy(images[rows]).permute(0, 3, 1, 2).double() / 127.5 - 1.0  # x / 127.5 - 1
    assert batch.shape == (16, 3, 8, 8) and batch.dtype == torch.float32
    assert torch.allclose(batch.double(), reference, rtol=0, atol=1e-6)
    assert batch.is_contiguous(memory_format=torch.channels_last if channels_last else torch.contiguous_format)


def test_text_batches_are_one_hot() -> None:
    tokens = np.random.default_rng(0).integers(0, 5, size=(20, 6)).astype(np.uint16)
    batch = TextBatches(tokens, 5, EpochOrder(20, 8, 1), torch.device("cpu")).next()
    rows = EpochOrder(20, 8, 1).next_indices()
    assert batch.shape == (8, 6, 5) and torch.equal(batch.argmax(-1), torch.from_numpy(tokens[rows].astype(np.int64)))
    assert torch.equal(batch.sum(-1), torch.ones(8, 6))


# ------------------------------------------------------------------------------------------------- state files
def test_state_codec_detects_any_changed_byte() -> None:
    payload = {"step": 12, "weights": torch.arange(5.0), "rows": [{"step": 0, "fid": 1.5, "note": ""}]}
    data = encode(payload)
    assert data.startswith(b"TTUR-RESUME 1 step=12 sha256=")
    loaded = decode(data, torch.device("cpu"))
    assert loaded["step"] == 12 and torch.equal(loaded["weights"], payload["weights"])
    flipped = bytearray(data)
    flipped[-20] ^= 0x01
    with pytest.raises(CorruptStateError, match="checksum"):
        decode(bytes(flipped), torch.device("cpu"))
    with pytest.raises(CorruptStateError):
        decode(data[: len(data) // 2], torch.device("cpu"))


def test_store_falls_back_to_previous_then_scratch(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cpu = torch.device("cpu")
    store = ResumeStore(tmp_path)
    store.save({"step": 5})
    store.save({"step": 10})
    assert ResumeStore(tmp_path).load(cpu)["step"] == 10
    latest = tmp_path / "state.pt"
    latest.write_bytes(latest.read_bytes()[:-3] + b"xyz")
    reader = ResumeStore(tmp_path)
    assert reader.load(cpu)["step"] == 5
    err = capsys.readouterr().err
    assert "state.pt is corrupted" in err and "falling back to the previous resume state" in err
    reader.save({"step": 7})  # the corrupted latest must not become the fallback
    assert decode((tmp_path / "state.prev.pt").read_bytes(), cpu)["step"] == 5
    for name in ("state.pt", "state.prev.pt"):
        (tmp_path / name).write_bytes(b"garbage")
    assert ResumeStore(tmp_path).load(cpu) is None
    assert "starting from scratch" in capsys.readouterr().err


def test_loss_window_reports_the_first_non_finite_update() -> None:
    window = LossWindow(8, torch.device("cpu"))
    for d, g in [(1.0, 2.0), (3.0, 4.0)]:
        window.add(torch.tensor(d), torch.tensor(g))
    assert window.flush() is None and window.take_means() == (2.0, 3.0) and window.take_means() is None
    for d in (1.0, float("inf"), float("nan")):
        window.add(torch.tensor(d), torch.tensor(0.5))
    assert window.flush() == (1, float("inf"), 0.5)


def test_metrics_csv_writes_no_non_finite_number(tmp_path: Path) -> None:
    # The contract: a missing value is an empty cell and `note` says why; never nan, inf or a sentinel.
    log = MetricsLog(["fid"])
    log.add({"step": 0, "minutes": 0.0, "wall_minutes": 0.5, "fid": float("inf"), "note": "metric is not finite"})
    log.add({"step": 5, "minutes": 0.25, "wall_minutes": 1.0, "fid": float("nan"), "d_loss": 0.1, "g_loss": 2.0})
    log.write(tmp_path / "metrics.csv")
    assert (tmp_path / "metrics.csv").read_text().splitlines() == [
        "step,minutes,wall_minutes,fid,d_loss,g_loss,note",
        "0,0.0,0.5,,,,metric is not finite",
        "5,0.25,1.0,,0.1,2.0,",
    ]


# --------------------------------------------------------------------------------------------------- schedules
@pytest.mark.parametrize(
    ("model", "critic_iters", "updates"), [("dcgan", 1, 4), ("wgangp", 1, 2), ("wgangp", 5, 2), ("lang", 10, 3)]
)
def test_schedule_performs_the_specified_d_and_g_steps(
    data: dict[str, Path], tmp_path: Path, one_thread: None, model: str, critic_iters: int, updates: int
) -> None:
    settings = settings_for(data, model, critic_iters=critic_iters, updates=updates, eval_every=2)
    steps: Counter[str] = Counter()

    def count(optimizer: torch.optim.Optimizer, args: object, kwargs: object) -> None:
        steps["d" if optimizer.param_groups[0]["lr"] == settings.lr_d else "g"] += 1

    handle = register_optimizer_step_post_hook(count)
    try:
        train(settings, tmp_path / "run")
    finally:
        handle.remove()
    # Reference: D steps = critic_iters per generator update (the reference's iteration 0 = critic steps only).
    assert steps == {"d": critic_iters * updates, "g": updates}
    metrics = (tmp_path / "run" / "metrics.csv").read_text().splitlines()
    expected_steps = sorted({*range(0, updates + 1, 2), updates})  # step 0, every eval_every, and the last step
    assert [int(line.split(",")[0]) for line in metrics[1:]] == expected_steps


def test_evaluation_schedule_does_not_change_training(data: dict[str, Path], tmp_path: Path, one_thread: None) -> None:
    weights = []
    for eval_every, checkpoint_every in ((1, 1), (6, 1000)):
        snapshots = "all" if eval_every == 1 else "last"
        settings = settings_for(
            data, "dcgan", updates=6, eval_every=eval_every, checkpoint_every=checkpoint_every, snapshots=snapshots
        )
        train(settings, tmp_path / f"e{eval_every}")
        weights.append(torch.load(tmp_path / f"e{eval_every}" / "generator_last.pt", weights_only=True)["generator"])
    assert len(list((tmp_path / "e1").glob("generator_step*.pt"))) == 7  # snapshots "all": steps 0..6
    assert (tmp_path / "e1" / "generator_best.pt").is_file() and not (tmp_path / "e6" / "generator_best.pt").exists()
    assert weights[0].keys() == weights[1].keys()
    for name in weights[0]:
        assert torch.equal(weights[0][name], weights[1][name]), name  # bit-identical (tolerance 0)


def test_wrong_data_kind_and_changed_settings_are_user_errors(
    data: dict[str, Path], tmp_path: Path, one_thread: None
) -> None:
    with pytest.raises(UserError, match="trains on text"):
        train(settings_for(data, "lang", data=data["images"]), tmp_path / "a")
    store = ResumeStore(tmp_path / "b" / ".resume")
    store.save({"step": 0, "settings": settings_for(data, "dcgan").to_json()})
    with pytest.raises(UserError, match="lr_d"):
        train(settings_for(data, "dcgan", lr_d=1e-3), tmp_path / "b")


def test_minute_budget_ends_the_run_like_reaching_updates(
    data: dict[str, Path], tmp_path: Path, one_thread: None
) -> None:
    settings = settings_for(data, "dcgan", updates=10**6, eval_every=10**6, max_minutes=0.002)  # 0.12 s
    train(settings, tmp_path / "run")
    record = json.loads((tmp_path / "run" / "run.json").read_text())
    rows = (tmp_path / "run" / "metrics.csv").read_text().splitlines()[1:]
    stopped = record["finished"]["step"]
    assert record["finished"]["reason"] == "max_minutes=0.002 reached" and 0 < stopped < 10**6
    assert [int(r.split(",")[0]) for r in rows] == [0, stopped]  # a final evaluation where the budget ran out
    assert record["finished"]["minutes"] >= 0.002


# ------------------------------------------------------------------------------------ the reference's iterations
def test_dcgan_update_is_the_reference_iteration(one_thread: None) -> None:
    """dcgan_update against the reference written out (spec §3.3): D step on (x, G(z)) with real and fake in
    separate D calls and the SUM of the two BCEs, then one G step on the same z through the updated D."""
    torch.manual_seed(0)
    ours = build_gan("dcgan", 32, 8, 100, 0, 0, "per_sample")
    ref, initial = copy.deepcopy(ours), copy.deepcopy(ours)
    real = torch.rand(16, 3, 32, 32) * 2 - 1
    z = torch.rand(16, 100) * 2 - 1
    optimisers = []
    for pair in (ours, ref):
        optimisers.append(
            (
                torch.optim.Adam(pair.discriminator.parameters(), lr=1e-3, betas=(0.5, 0.999), eps=1e-8),
                torch.optim.Adam(pair.generator.parameters(), lr=2e-3, betas=(0.5, 0.999), eps=1e-8),
            )
        )
    d_loss, g_loss = dcgan_update(ours.generator, ours.discriminator, *optimisers[0], real, z)

    bce = torch.nn.functional.binary_cross_entropy_with_logits
    opt_d, opt_g = optimisers[1]
    real_logits = ref.discriminator(real)  # separate calls: separate BN batch statistics
    fake_logits = ref.discriminator(ref.generator(z).detach())
    ref_d = bce(real_logits, torch.ones(16)) + bce(fake_logits, torch.zeros(16))
    opt_d.zero_grad()
    ref_d.backward()
    opt_d.step()
    ref_g = bce(ref.discriminator(ref.generator(z)), torch.ones(16))  # the same z, the updated D
    opt_g.zero_grad()
    ref_g.backward()
    opt_g.step()

    assert torch.equal(d_loss, ref_d.detach()) and torch.equal(g_loss, ref_g.detach())
    for name, net in (("generator", ours.generator), ("discriminator", ours.discriminator)):
        other = dict(getattr(ref, name).named_parameters())
        for key, value in net.named_parameters():  # tolerance 1e-7 absolute: float32 rounding only
            assert torch.allclose(value, other[key], rtol=0, atol=1e-7), (name, key)
    for name in ("generator", "discriminator"):  # both networks did move: the comparison is not vacuous
        after, before = getattr(ours, name).state_dict(), getattr(initial, name).state_dict()
        assert all(not torch.equal(after[k], before[k]) for k, _ in getattr(initial, name).named_parameters())


@pytest.mark.parametrize(("model", "critic_iters"), [("wgangp", 5), ("lang", 3)])
def test_wgan_update_draws_fresh_batches_noise_and_alpha(
    data: dict[str, Path], one_thread: None, model: str, critic_iters: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each critic step: a new real batch, new noise, a new per-sample alpha in [0, 1); the G step: new noise."""
    settings = settings_for(data, model, critic_iters=critic_iters)
    trainer = Trainer(settings, open_prepared(settings.data), torch.device("cpu"))
    beta = MODEL_DEFAULTS[model]["beta1"], MODEL_DEFAULTS[model]["beta2"]
    for optimiser, lr in ((trainer.opt_d, settings.lr_d), (trainer.opt_g, settings.lr_g)):
        group = optimiser.param_groups[0]
        assert (group["lr"], group["betas"], group["eps"]) == (lr, beta, 1e-8)  # (0, .9) images, (.5, .9) text
    critic_calls: list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]] = []
    generator_noise: list[torch.Tensor] = []

    def critic_step(g, d, opt, real, z, alpha, gp_lambda):  # noqa: ANN001, ANN202
        critic_calls.append((real, z, alpha))
        return torch.tensor(0.0)

    def generator_step(g, d, opt, z):  # noqa: ANN001, ANN202
        generator_noise.append(z)
        return torch.tensor(0.0)

    monkeypatch.setattr(trainer_module, "wgan_critic_step", critic_step)
    monkeypatch.setattr(trainer_module, "wgan_generator_step", generator_step)
    trainer.update()
    assert len(critic_calls) == critic_iters and len(generator_noise) == 1
    reals, zs, alphas = zip(*critic_calls, strict=True)
    zs = (*zs, generator_noise[0])
    assert all(not torch.equal(a, b) for i, a in enumerate(reals) for b in reals[i + 1 :])
    assert all(not torch.equal(a, b) for i, a in enumerate(zs) for b in zs[i + 1 :])
    assert all(a.shape == (settings.batch_size,) and a.min() >= 0 and a.max() < 1 for a in alphas)
    assert all(len(torch.unique(a)) == settings.batch_size for a in alphas)  # one alpha per sample
    if model == "lang":  # real text is one-hot
        assert all(torch.equal(r.sum(-1), torch.ones(r.shape[:2])) for r in reals)
