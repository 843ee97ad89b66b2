"""Download (from a local mirror) and prepare every dataset end to end on miniature archives in the real formats."""

from __future__ import annotations

import collections
import json
from pathlib import Path

import numpy as np
import pytest
from data_fixtures import (
    file_spec,
    http_mirror,
    jpeg_bytes,
    make_billion_word,
    make_celeba,
    make_cifar10,
    make_lsun,
    make_svhn,
)

from ttur.data import PreparedImages, PreparedText, load_prepared
from ttur.data.download import download_dataset
from ttur.data.prepare import prepare_dataset
from ttur.data.recipes import RECIPES, apply_recipe
from ttur.data.sources import decode_image
from ttur.errors import UserError


def _fetch(dataset: str, mirror: Path, raw: Path, use_http: bool) -> None:
    """Download every file in `mirror` through the real download code, with a checksum table made for them."""
    table = {p.name: file_spec(p) for p in mirror.iterdir()}
    if use_http:
        with http_mirror(mirror) as server:
            download_dataset(dataset, raw, mirrors=[server.url], files=table, retries=0)
    else:
        download_dataset(dataset, raw, mirrors=[mirror.as_uri()], files=table, retries=0)


def _images(path: Path) -> PreparedImages:
    prepared = load_prepared(path)
    assert isinstance(prepared, PreparedImages)
    return prepared


def test_cifar10_train_and_test_splits_match_the_batches(tmp_path: Path) -> None:
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    train, test = make_cifar10(mirror / "cifar-10-python.tar.gz", per_batch=6, rng=np.random.default_rng(2))
    _fetch("cifar10", mirror, tmp_path / "raw", use_http=True)
    prepare_dataset("cifar10", tmp_path / "raw", tmp_path / "train")
    prepare_dataset("cifar10", tmp_path / "raw", tmp_path / "test", split="test")
    prepared = _images(tmp_path / "train")
    assert isinstance(prepared.array, np.memmap) and prepared.array.dtype == np.uint8
    np.testing.assert_array_equal(prepared.array, train)  # batches 1..5 in order, HWC, exact
    np.testing.assert_array_equal(_images(tmp_path / "test").array, test)
    manifest = prepared.manifest
    assert manifest["count"] == 30 and manifest["shape"] == [30, 32, 32, 3] and manifest["recipe"]["name"] == "native32"
    raw_sha = json.loads((tmp_path / "raw" / "download.json").read_text())["files"][0]["sha256"]
    assert manifest["sources"] == [{"path": "cifar-10-python.tar.gz", "sha256": raw_sha}]


def test_svhn_mat_is_transposed_to_nhwc(tmp_path: Path) -> None:
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    expected = make_svhn(mirror / "train_32x32.mat", count=9, rng=np.random.default_rng(3))
    _fetch("svhn", mirror, tmp_path / "raw", use_http=False)
    prepare_dataset("svhn", tmp_path / "raw", tmp_path / "prep")
    np.testing.assert_array_equal(_images(tmp_path / "prep").array, expected)


def test_celeba_zip_with_partition_file_is_cropped_and_split(tmp_path: Path) -> None:
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    partitions = [0, 0, 1, 2, 0, 1]
    jpegs = make_celeba(mirror, partitions, np.random.default_rng(4))
    _fetch("celeba", mirror, tmp_path / "raw", use_http=True)
    prepare_dataset("celeba", tmp_path / "raw", tmp_path / "all")
    prepare_dataset("celeba", tmp_path / "raw", tmp_path / "valid", split="valid", recipe="began")
    names = sorted(jpegs)
    reference = [apply_recipe(RECIPES["carpedm20"], decode_image(jpegs[n], n)) for n in names]
    np.testing.assert_array_equal(_images(tmp_path / "all").array, np.stack(reference))  # the paper used all
    valid = [n for n, p in zip(names, partitions, strict=True) if p == 1]
    reference = [apply_recipe(RECIPES["began"], decode_image(jpegs[n], n)) for n in valid]
    prepared = _images(tmp_path / "valid")
    np.testing.assert_array_equal(prepared.array, np.stack(reference))
    assert prepared.manifest["split"] == "valid" and prepared.manifest["recipe"]["box"] == [50, 25, 128, 128]


def test_lsun_lmdb_with_jpeg_and_webp_values_is_centre_cropped(tmp_path: Path) -> None:
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    sizes = [(256, 341), (300, 256), (256, 256), (256, 384), (330, 256)]
    encoded = make_lsun(mirror / "bedroom_train_lmdb.zip", sizes, np.random.default_rng(5), tmp_path)
    _fetch("lsun", mirror, tmp_path / "raw", use_http=False)
    prepare_dataset("lsun", tmp_path / "raw", tmp_path / "prep")
    reference = np.stack([apply_recipe(RECIPES["center-square"], decode_image(v, "ref")) for v in encoded])
    prepared = _images(tmp_path / "prep")
    np.testing.assert_array_equal(prepared.array, reference)  # key order, every value decoded
    assert prepared.array.shape == (5, 64, 64, 3)
    assert not (tmp_path / "prep" / ".scratch").exists()  # the extracted lmdb is removed


def _reference_lines(files: dict[int, list[str]], max_lines: int, seq_len: int) -> list[str]:
    """language_helpers.load_dataset without the shuffle: file order, cut to seq_len, padded with '`'."""
    lines = [line for number in sorted(files) for line in files[number]][:max_lines]
    return [line[:seq_len] + "`" * (seq_len - len(line[:seq_len])) for line in lines]


def test_billion_word_tarball_gives_reference_lines_and_charmap(tmp_path: Path) -> None:
    files = {
        1: ["The cat sat on the mat .", "A much longer line that runs past the thirty-two character limit .", ""],
        2: ["Café au lait — très bien .", "zzz qqq", "x"],
        3: ["never read : past max_lines"],
    }
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    make_billion_word(mirror / "1-billion-word-language-modeling-benchmark-r13output.tar.gz", files, order=[3, 1, 2])
    _fetch("billion_word", mirror, tmp_path / "raw", use_http=True)
    prepare_dataset("billion_word", tmp_path / "raw", tmp_path / "prep", max_lines=5, vocab_size=12)
    prepared = load_prepared(tmp_path / "prep")
    assert isinstance(prepared, PreparedText)
    expected_lines = _reference_lines(files, max_lines=5, seq_len=32)
    counts = collections.Counter(char for line in expected_lines for char in line)  # the reference's charmap
    expected_charmap = ["unk"] + [char for char, _ in counts.most_common(11)]
    assert prepared.charmap == expected_charmap
    index = {char: i for i, char in enumerate(expected_charmap)}
    expected_tokens = [[index.get(char, 0) for char in line] for line in expected_lines]
    np.testing.assert_array_equal(prepared.tokens, np.array(expected_tokens, dtype=np.uint16))
    assert prepared.tokens.dtype == np.uint16 and prepared.manifest["vocab_size"] == 12
    assert 0 in prepared.tokens[3]  # 'é' and '—' are rarer than the 11 kept characters: unk
    assert not (tmp_path / "prep" / ".scratch").exists()


def test_charmap_caps_at_2048_and_maps_the_rest_to_unk(tmp_path: Path) -> None:
    folder = tmp_path / "raw" / "training-monolingual.tokenized.shuffled"
    folder.mkdir(parents=True)
    chars = [chr(0x4E00 + i) for i in range(2100)]  # 2100 distinct CJK characters, each once
    lines = ["".join(chars[i : i + 30]) for i in range(0, 2100, 30)]
    (folder / "news.en-00001-of-00100").write_text("\n".join(lines) + "\n", encoding="utf-8")
    prepare_dataset("billion_word", tmp_path / "raw", tmp_path / "prep")
    prepared = load_prepared(tmp_path / "prep")
    assert isinstance(prepared, PreparedText)
    assert len(prepared.charmap) == 2048 and prepared.charmap[:3] == ["unk", "`", chars[0]]  # '`' pads 70 lines
    assert prepared.charmap[-1] == chars[2045]  # ties by first occurrence
    assert (prepared.tokens[-1, :30] == 0).all()  # the last characters fall outside the cap


def _prepared_bytes(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_prepare_is_byte_identical_across_runs_and_worker_counts(tmp_path: Path) -> None:
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    make_celeba(mirror, [0, 1, 2], np.random.default_rng(6))
    _fetch("celeba", mirror, tmp_path / "raw", use_http=False)
    download_dataset("tinytext", tmp_path / "text", count=50, seed=2)
    for name, workers in (("a", 1), ("b", 2)):  # a process pool gives the same bytes
        prepare_dataset("celeba", tmp_path / "raw", tmp_path / name / "celeba", workers=workers)
        prepare_dataset("tinytext", tmp_path / "text", tmp_path / name / "tinytext")
    expected_files = {
        "celeba": {"images.npy", "manifest.json"},
        "tinytext": {"tokens.npy", "charmap.json", "manifest.json"},
    }
    for dataset, names in expected_files.items():
        first, second = _prepared_bytes(tmp_path / "a" / dataset), _prepared_bytes(tmp_path / "b" / dataset)
        assert first == second and set(first) == names  # identical bytes, and no scratch or temporary files left


def test_smoke_datasets_through_the_cli_are_seeded(tmp_path: Path) -> None:
    from ttur.cli import main

    for seed in (0, 0, 1):
        raw, prep = tmp_path / f"raw{seed}", tmp_path / f"prep{seed}"
        assert main(["download", "shapes32", "--out", str(raw), "--seed", str(seed), "--count", "24"]) == 0
        assert main(["prepare", "shapes32", "--raw", str(raw), "--out", str(prep)]) == 0
    same, other = _images(tmp_path / "prep0").array, _images(tmp_path / "prep1").array
    assert same.shape == (24, 32, 32, 3) and not np.array_equal(same, other)
    assert main(["download", "tinytext", "--out", str(tmp_path / "t"), "--count", "40"]) == 0
    assert main(["prepare", "tinytext", "--raw", str(tmp_path / "t"), "--out", str(tmp_path / "tp")]) == 0
    text = load_prepared(tmp_path / "tp")
    assert isinstance(text, PreparedText) and text.tokens.shape == (40, 32) and text.charmap[0] == "unk"


def test_missing_inputs_and_outputs_name_the_command_to_run(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="ttur prepare shapes32 --raw RAW_DIR"):
        load_prepared(tmp_path / "shapes32")
    with pytest.raises(UserError, match="ttur download cifar10"):
        prepare_dataset("cifar10", tmp_path / "nothing", tmp_path / "prep")
    (tmp_path / "empty").mkdir()
    with pytest.raises(UserError, match="ttur download celeba"):
        prepare_dataset("celeba", tmp_path / "empty", tmp_path / "prep")
    download_dataset("shapes32", tmp_path / "raw", count=4)
    prepare_dataset("shapes32", tmp_path / "raw", tmp_path / "shapes32")
    images = tmp_path / "shapes32" / "images.npy"
    images.write_bytes(images.read_bytes()[:-100])  # truncated after the fact
    with pytest.raises(UserError, match="incomplete or damaged"):
        load_prepared(tmp_path / "shapes32")


def test_undecodable_image_fails_and_leaves_no_manifest(tmp_path: Path) -> None:
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    make_celeba(mirror, [0, 0], np.random.default_rng(7))
    raw = tmp_path / "raw"
    _fetch("celeba", mirror, raw, use_http=False)
    prepare_dataset("celeba", raw, tmp_path / "prep")  # a good earlier result
    import zipfile

    archive = raw / "img_align_celeba.zip"
    archive.unlink()  # replaced by an archive whose first JPEG is cut short
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("img_align_celeba/000001.jpg", jpeg_bytes(np.zeros((218, 178, 3), np.uint8))[:200])
    with pytest.raises(UserError, match="cannot decode image .*000001.jpg"):
        prepare_dataset("celeba", raw, tmp_path / "prep")
    assert not (tmp_path / "prep" / "manifest.json").exists()  # the old manifest no longer vouches for anything
    assert [p.name for p in (tmp_path / "prep").iterdir()] == ["images.npy"]  # no temporary files left
