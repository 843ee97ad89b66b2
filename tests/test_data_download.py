"""`ttur download` end to end against local mirrors (file:// and an HTTP server on 127.0.0.1 with Range support)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from data_fixtures import file_spec, http_mirror, make_cifar10, make_svhn

from ttur.cli import main
from ttur.data.download import download_dataset
from ttur.data.registry import REAL_FILES
from ttur.errors import UserError

CIFAR = "cifar-10-python.tar.gz"
SVHN = "train_32x32.mat"


@pytest.fixture()
def cifar_mirror(tmp_path: Path) -> Path:
    """A mirror folder holding a miniature CIFAR-10 tarball."""
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    make_cifar10(mirror / CIFAR, per_batch=40, rng=np.random.default_rng(0))
    return mirror


def _download(raw: Path, table: dict, mirrors: list[str], retries: int = 0, dataset: str = "cifar10") -> Path:
    return download_dataset(dataset, raw, mirrors=mirrors, files=table, retries=retries, backoff_s=0.0, timeout_s=10)


def test_file_mirror_after_a_dead_one_downloads_verifies_and_records(tmp_path: Path, cifar_mirror: Path) -> None:
    table = {CIFAR: file_spec(cifar_mirror / CIFAR)}
    dead = (tmp_path / "no-such-mirror").as_uri()
    record = _download(tmp_path / "raw", table, [dead, cifar_mirror.as_uri()])
    assert (tmp_path / "raw" / CIFAR).read_bytes() == (cifar_mirror / CIFAR).read_bytes()
    entry = json.loads(record.read_text())["files"][0]
    assert entry["sha256"] == table[CIFAR].sha256 and entry["md5"] == table[CIFAR].md5
    assert entry["source"] == f"{cifar_mirror.as_uri()}/{CIFAR}"
    assert not (tmp_path / "raw" / f"{CIFAR}.part").exists()


def test_a_mirror_answering_404_is_not_retried(tmp_path: Path, cifar_mirror: Path) -> None:
    (tmp_path / "empty").mkdir()
    table = {CIFAR: file_spec(cifar_mirror / CIFAR)}
    with http_mirror(tmp_path / "empty") as dead, http_mirror(cifar_mirror) as good:
        _download(tmp_path / "raw", table, [dead.url, good.url], retries=3)
        assert dead.requests == [(CIFAR, None)] and good.requests == [(CIFAR, None)]


def test_official_urls_are_tried_after_user_mirrors(tmp_path: Path, cifar_mirror: Path) -> None:
    with http_mirror(cifar_mirror) as server:
        table = {CIFAR: file_spec(cifar_mirror / CIFAR, urls=(f"{server.url}/{CIFAR}",))}
        record = _download(tmp_path / "raw", table, mirrors=[])
        assert server.requests == [(CIFAR, None)]
    assert json.loads(record.read_text())["files"][0]["source"] == f"{server.url}/{CIFAR}"


@pytest.mark.parametrize("damage", ["altered", "truncated"])
def test_damaged_download_is_rejected_then_a_fixed_mirror_succeeds(
    tmp_path: Path, cifar_mirror: Path, damage: str
) -> None:
    good = (cifar_mirror / CIFAR).read_bytes()
    table = {CIFAR: file_spec(cifar_mirror / CIFAR)}
    bad = bytearray(good)
    if damage == "altered":
        bad[len(bad) // 2] ^= 0xFF
    else:
        del bad[len(bad) // 2 :]
    (cifar_mirror / CIFAR).write_bytes(bytes(bad))
    raw = tmp_path / "raw"
    with http_mirror(cifar_mirror) as server:
        with pytest.raises(UserError) as caught:
            _download(raw, table, [server.url])
        message = str(caught.value)
        if damage == "altered":  # both the expected and the actual checksum are named
            assert f"expected {table[CIFAR].md5}" in message and f"expected {table[CIFAR].sha256}" in message
            assert hashlib_md5(bytes(bad)) in message
        else:
            assert f"size {len(bad)} bytes, expected {len(good)}" in message
        assert not (raw / "download.json").exists()  # Snakemake would not see a finished download
        assert not (raw / CIFAR).exists() and not (raw / f"{CIFAR}.part").exists()  # nothing corrupt is kept

        (cifar_mirror / CIFAR).write_bytes(good)  # the mirror is fixed: rerunning succeeds
        _download(raw, table, [server.url])
    assert (raw / CIFAR).read_bytes() == good
    assert json.loads((raw / "download.json").read_text())["files"][0]["sha256"] == table[CIFAR].sha256


def hashlib_md5(data: bytes) -> str:
    import hashlib

    return hashlib.md5(data).hexdigest()


def test_interrupted_download_resumes_with_range_on_the_next_run(tmp_path: Path) -> None:
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    make_svhn(mirror / SVHN, count=60, rng=np.random.default_rng(1))
    size = (mirror / SVHN).stat().st_size
    half = size // 2
    table = {SVHN: file_spec(mirror / SVHN)}
    raw = tmp_path / "raw"
    with http_mirror(mirror, drop_after={SVHN: half}) as server:
        with pytest.raises(UserError, match=f"connection closed after {half} of {size} bytes"):
            _download(raw, table, [server.url], dataset="svhn")
        assert (raw / f"{SVHN}.part").stat().st_size == half  # what arrived is kept for the next run
        assert not (raw / "download.json").exists()
        _download(raw, table, [server.url], dataset="svhn")
        assert server.requests == [(SVHN, None), (SVHN, f"bytes={half}-")]  # continued, not started over
    assert (raw / SVHN).read_bytes() == (mirror / SVHN).read_bytes()
    assert (raw / "download.json").exists()


def test_dropped_connection_is_retried_within_one_run_by_resuming(tmp_path: Path, cifar_mirror: Path) -> None:
    cut = 1000
    table = {CIFAR: file_spec(cifar_mirror / CIFAR)}
    with http_mirror(cifar_mirror, drop_after={CIFAR: cut}) as server:
        _download(tmp_path / "raw", table, [server.url], retries=1)
        assert server.requests == [(CIFAR, None), (CIFAR, f"bytes={cut}-")]
    assert (tmp_path / "raw" / CIFAR).read_bytes() == (cifar_mirror / CIFAR).read_bytes()


def test_server_that_ignores_range_makes_the_transfer_start_over(tmp_path: Path, cifar_mirror: Path) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / f"{CIFAR}.part").write_bytes(b"stale bytes from another run")
    table = {CIFAR: file_spec(cifar_mirror / CIFAR)}
    with http_mirror(cifar_mirror, honour_range=False) as server:
        _download(raw, table, [server.url])
        assert server.requests == [(CIFAR, "bytes=28-")]  # asked to resume, got 200: the .part was rewritten
    assert (raw / CIFAR).read_bytes() == (cifar_mirror / CIFAR).read_bytes()


def test_stale_part_that_breaks_the_checksum_is_refetched_from_scratch(tmp_path: Path, cifar_mirror: Path) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    good = (cifar_mirror / CIFAR).read_bytes()
    (raw / f"{CIFAR}.part").write_bytes(b"X" * 100)  # wrong prefix from an earlier, different file
    table = {CIFAR: file_spec(cifar_mirror / CIFAR)}
    with http_mirror(cifar_mirror) as server:
        _download(raw, table, [server.url])
        assert server.requests == [(CIFAR, "bytes=100-"), (CIFAR, None)]
    assert (raw / CIFAR).read_bytes() == good


def test_html_page_instead_of_the_file_is_a_failed_mirror(tmp_path: Path, cifar_mirror: Path) -> None:
    # Google Drive answers large files with an HTML "can't scan for viruses" page; that must not become the file.
    table = {CIFAR: file_spec(cifar_mirror / CIFAR)}
    with http_mirror(cifar_mirror, content_type="text/html; charset=utf-8") as html:
        with pytest.raises(UserError, match="HTML page instead of the file"):
            _download(tmp_path / "raw", table, [html.url])
        with http_mirror(cifar_mirror) as good:  # the next mirror serves the real file
            _download(tmp_path / "raw", table, [html.url, good.url])
    assert (tmp_path / "raw" / CIFAR).read_bytes() == (cifar_mirror / CIFAR).read_bytes()


def test_local_files_are_verified_and_linked_without_network(tmp_path: Path, cifar_mirror: Path) -> None:
    table = {CIFAR: file_spec(cifar_mirror / CIFAR)}
    raw = tmp_path / "raw"
    record = download_dataset("cifar10", raw, local=cifar_mirror, files=table)
    assert (raw / CIFAR).is_symlink() and (raw / CIFAR).resolve() == (cifar_mirror / CIFAR).resolve()
    assert json.loads(record.read_text())["files"][0]["source"] == f"local:{(cifar_mirror / CIFAR).resolve()}"

    other = tmp_path / "other"
    other.mkdir()
    (other / CIFAR).write_bytes((cifar_mirror / CIFAR).read_bytes()[::-1])  # same size, other bytes
    with pytest.raises(UserError, match=f"expected {table[CIFAR].sha256}"):
        download_dataset("cifar10", tmp_path / "raw2", local=other, files=table)
    assert not (tmp_path / "raw2" / "download.json").exists()


def test_cli_checks_against_the_real_published_checksums(tmp_path: Path, cifar_mirror: Path, capsys) -> None:
    code = main(["download", "cifar10", "--out", str(tmp_path / "raw"), "--local", str(cifar_mirror)])
    assert code == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "expected c58f30108f718f92721af3b95e74349a" in error  # torchvision's md5
    assert REAL_FILES[SVHN].md5 == "e26dedcc434d2e4c54c9b2d4a06d8373"
    assert not (tmp_path / "raw" / "download.json").exists()


def test_generated_datasets_record_their_files_and_refuse_count_for_real_ones(tmp_path: Path) -> None:
    record = download_dataset("shapes32", tmp_path / "s", seed=1, count=12)
    content = json.loads(record.read_text())
    assert content["generator"] == {"name": "shapes32", "seed": 1, "count": 12}
    assert len(content["files"]) == 12 and content["files"][0]["name"] == "shapes32_train/000000.png"
    download_dataset("shapes32", tmp_path / "s", seed=1, count=5)  # fewer: no stale files are left behind
    assert len(list((tmp_path / "s" / "shapes32_train").iterdir())) == 5
    with pytest.raises(UserError, match="--count only applies"):
        download_dataset("cifar10", tmp_path / "c", count=3)
