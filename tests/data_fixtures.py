"""Miniature archives in the real on-disk formats of each dataset, and a local HTTP mirror that honours Range.

Each builder returns what a correct reader must produce, so tests compare the pipeline against the generating data.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import pickle
import re
import tarfile
import threading
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
from PIL import Image

from ttur.data.registry import FileSpec

BILLION_ROOT = "1-billion-word-language-modeling-benchmark-r13output"


def file_spec(path: Path, urls: tuple[str, ...] = (), with_size: bool = True) -> FileSpec:
    """A checksum-table entry for a miniature archive (the real table's values would never match it)."""
    data = path.read_bytes()
    return FileSpec(
        name=path.name,
        urls=urls,
        md5=hashlib.md5(data).hexdigest(),
        sha256=hashlib.sha256(data).hexdigest(),
        size=len(data) if with_size else None,
        checksum_source="test fixture",
    )


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    tar.addfile(info, io.BytesIO(data))


def make_cifar10(path: Path, per_batch: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """cifar-10-python.tar.gz with python-2-style pickled batches; returns (train, test) as N x 32 x 32 x 3."""
    batches = {name: rng.integers(0, 256, size=(per_batch, 3072), dtype=np.uint8) for name in
               [*(f"data_batch_{i}" for i in range(1, 6)), "test_batch"]}  # fmt: skip
    with tarfile.open(path, "w:gz") as tar:
        meta = {b"label_names": [b"airplane"], b"num_cases_per_batch": per_batch, b"num_vis": 3072}
        _add_bytes(tar, "cifar-10-batches-py/batches.meta", pickle.dumps(meta, protocol=2))
        for name in ["test_batch", *reversed([n for n in batches if n != "test_batch"])]:  # archive order != order
            batch = {
                b"batch_label": name.encode(),
                b"labels": [int(v) for v in rng.integers(0, 10, per_batch)],
                b"data": batches[name],
                b"filenames": [f"img_{i}.png".encode() for i in range(per_batch)],
            }
            _add_bytes(tar, f"cifar-10-batches-py/{name}", pickle.dumps(batch, protocol=2))

    def hwc(rows: np.ndarray) -> np.ndarray:
        return rows.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)

    train = np.concatenate([hwc(batches[f"data_batch_{i}"]) for i in range(1, 6)])
    return train, hwc(batches["test_batch"])


def make_svhn(path: Path, count: int, rng: np.random.Generator) -> np.ndarray:
    """train_32x32.mat as MATLAB v5 (X: 32 x 32 x 3 x N uint8, y: N x 1); returns N x 32 x 32 x 3."""
    import scipy.io

    x = rng.integers(0, 256, size=(32, 32, 3, count), dtype=np.uint8)
    scipy.io.savemat(path, {"X": x, "y": rng.integers(1, 11, size=(count, 1), dtype=np.uint8)})
    return x.transpose(3, 0, 1, 2)


def jpeg_bytes(image: np.ndarray, kind: str = "JPEG") -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format=kind, quality=95)
    return buffer.getvalue()


def make_celeba(raw: Path, partitions: list[int], rng: np.random.Generator) -> dict[str, bytes]:
    """img_align_celeba.zip (178 x 218 JPEGs) + list_eval_partition.txt; returns {file name: JPEG bytes}."""
    jpegs = {f"{i + 1:06d}.jpg": jpeg_bytes(rng.integers(0, 256, size=(218, 178, 3), dtype=np.uint8))
             for i in range(len(partitions))}  # fmt: skip
    with zipfile.ZipFile(raw / "img_align_celeba.zip", "w") as zf:
        zf.writestr("img_align_celeba/", b"")
        for name in reversed(list(jpegs)):  # archive order differs from name order
            zf.writestr(f"img_align_celeba/{name}", jpegs[name])
    lines = [f"{name} {part}\n" for name, part in zip(jpegs, partitions, strict=True)]
    (raw / "list_eval_partition.txt").write_text("".join(lines))
    return jpegs


def make_lsun(path: Path, sizes: list[tuple[int, int]], rng: np.random.Generator, work: Path) -> list[bytes]:
    """bedroom_train_lmdb.zip holding an lmdb whose values are JPEG and WEBP bytes keyed by 40-hex ids, as LSUN's.

    Returns the encoded images in key order.
    """
    import lmdb

    db_dir = work / "bedroom_train_lmdb"
    env = lmdb.open(str(db_dir), map_size=1 << 26)
    records = {}
    for index, (h, w) in enumerate(sizes):
        image = rng.integers(0, 256, size=(h, w, 3), dtype=np.uint8)
        records[hashlib.sha1(str(index).encode()).hexdigest().encode()] = jpeg_bytes(
            image, "WEBP" if index % 2 else "JPEG"
        )
    with env.begin(write=True) as txn:
        for key, value in records.items():
            txn.put(key, value)
    env.close()
    with zipfile.ZipFile(path, "w") as zf:
        for name in ("data.mdb", "lock.mdb"):
            zf.write(db_dir / name, f"bedroom_train_lmdb/{name}")
    return [records[key] for key in sorted(records)]


def make_billion_word(path: Path, files: dict[int, list[str]], order: list[int]) -> None:
    """The r13output tarball layout: training files news.en-000NN-of-00100 (added in `order`), a heldout file."""
    with tarfile.open(path, "w:gz") as tar:
        _add_bytes(tar, f"{BILLION_ROOT}/README", b"One Billion Word miniature\n")
        heldout = f"{BILLION_ROOT}/heldout-monolingual.tokenized.shuffled/news.en.heldout-00000-of-00050"
        _add_bytes(tar, heldout, b"Held out line .\n")
        for number in order:
            text = "".join(line + "\n" for line in files[number]).encode("utf-8")
            _add_bytes(
                tar, f"{BILLION_ROOT}/training-monolingual.tokenized.shuffled/news.en-{number:05d}-of-00100", text
            )


@dataclass
class Mirror:
    """A running local HTTP mirror: `url` is its base; `requests` logs (path, Range header) per request."""

    url: str
    root: Path
    drop_after: dict[str, int]
    honour_range: bool
    content_type: str
    requests: list[tuple[str, str | None]] = field(default_factory=list)


class _Handler(BaseHTTPRequestHandler):
    mirror: Mirror

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        name = self.path.lstrip("/")
        self.mirror.requests.append((name, self.headers.get("Range")))
        path = self.mirror.root / name
        if not path.is_file():
            self.send_error(404)
            return
        data = path.read_bytes()
        start, status = 0, 200
        match = re.fullmatch(r"bytes=(\d+)-", self.headers.get("Range") or "")
        if match and self.mirror.honour_range:
            start, status = int(match.group(1)), 206
            if start >= len(data):
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{len(data)}")
                self.end_headers()
                return
        body = data[start:]
        self.send_response(status)
        self.send_header("Content-Type", self.mirror.content_type)
        self.send_header("Content-Length", str(len(body)))
        if status == 206:
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        self.end_headers()
        cut = self.mirror.drop_after.pop(name, None)  # only the first request for this file is cut
        self.wfile.write(body if cut is None else body[:cut])
        self.close_connection = True

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


@contextlib.contextmanager
def http_mirror(
    root: Path,
    drop_after: dict[str, int] | None = None,
    honour_range: bool = True,
    content_type: str = "application/octet-stream",
) -> Iterator[Mirror]:
    """Serve `root` on 127.0.0.1 from a thread; `drop_after[name]` cuts the first transfer of `name` after N bytes."""
    handler = type("Handler", (_Handler,), {})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    mirror = Mirror(
        f"http://127.0.0.1:{server.server_address[1]}", root, dict(drop_after or {}), honour_range, content_type
    )
    handler.mirror = mirror
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield mirror
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
