"""Config validation and grid expansion: the paper grid's job counts, and one-line errors for bad keys."""

import copy
from pathlib import Path

import pytest
import yaml

from ttur.configcheck import validate_config
from ttur.errors import UserError
from ttur.grid import resolve_grid

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = ROOT / "workflow" / "schemas" / "config.schema.yaml"


def load(name):
    return yaml.safe_load((ROOT / "config" / name).read_text())


@pytest.mark.parametrize("name", ["config.yaml", "smoke.yaml"])
def test_presets_are_valid(name):
    validate_config(load(name), SCHEMA)


def test_paper_grid_learning_rates_and_schedules():
    cells = {(c.model, c.dataset, c.method, c.lr_d, c.lr_g): c for c in resolve_grid(load("config.yaml"))}
    # Table 1's pairs (b = lr_d, a = lr_g) and the orig rates (ttur_spec.md §3.6, §4.8, §5.5).
    table1 = {
        ("dcgan", "celeba"): (("1e-5", "5e-4"), "5e-4"),
        ("dcgan", "cifar10"): (("1e-4", "5e-4"), "1e-4"),
        ("dcgan", "svhn"): (("1e-5", "1e-4"), "5e-5"),
        ("dcgan", "lsun"): (("1e-5", "1e-4"), "5e-5"),
        ("wgangp", "cifar10"): (("3e-4", "1e-4"), "1e-4"),
        ("wgangp", "lsun"): (("3e-4", "1e-4"), "1e-4"),
        ("lang", "billion_word"): (("3e-4", "1e-4"), "1e-4"),
    }
    for (model, dataset), ((b, a), orig) in table1.items():
        ttur = cells[(model, dataset, "ttur", b, a)]
        assert ttur.settings["critic_iters"] == 1
        assert ttur.seeds == list(range(10 if model == "lang" else 8))
        orig_cell = cells[(model, dataset, "orig", orig, orig)]
        assert orig_cell.settings["critic_iters"] == {"dcgan": 1, "wgangp": 5, "lang": 10}[model]
        assert ttur.settings["eval_samples"] == (640 if model == "lang" else 50000)
        assert ttur.settings["eval_every"] == {"dcgan": 1000, "wgangp": 5000, "lang": 100}[model]
    assert cells[("dcgan", "celeba", "ttur", "1e-5", "5e-4")].settings["beta2"] == 0.999
    assert cells[("wgangp", "lsun", "ttur", "3e-4", "1e-4")].settings["beta1"] == 0.0
    assert cells[("wgangp", "cifar10", "orig", "1e-4", "1e-4")].settings["width"] == 32


def set_key(config, path, value):
    node = config
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return config


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (("experiments", 0, "model"), "dcgn", "'experiments[0].model' is 'dcgn'; allowed values: dcgan, wgangp, lang"),
        (("train", "snapshotz"), "best", "unknown config key under 'train': 'snapshotz'"),
        (("experiments", 0, "methods", "ttur", "critic_iter"), 1, "allowed keys: critic_iters, eval_every"),
        (("device",), "gpu", "config key 'device' = 'gpu' is invalid"),
        (("experiments", 2, "dataset"), "shapes32", "'experiments[2].dataset' is 'shapes32', a dataset of images"),
        (("models", "dcgan", "beta1"), 2, "'models.dcgan.beta1' = 2 is invalid"),
        (("experiments", 0, "methods", "orig", "lrs"), [["fast", "1e-4"]], "'experiments[0].methods.orig.lrs[0][0]'"),
    ],
)
def test_invalid_values_name_the_key(path, value, message):
    config = set_key(copy.deepcopy(load("smoke.yaml")), path, value)
    with pytest.raises(UserError) as error:
        validate_config(config, SCHEMA)
    assert message in str(error.value)
    assert "\n" not in str(error.value)
