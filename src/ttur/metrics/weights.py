"""The Inception weights file: where it is, whether it is the real one, and how to fetch it once.

Nothing here runs behind the user's back: weights are read only from a path given explicitly (`--weights`, the
`weights` argument) or by the environment variable, and are downloaded only by `ttur weights`.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path

from ttur.data.fetch import TransferError, fetch
from ttur.errors import UserError
from ttur.io import atomic_path, sha256_file

INCEPTION_FILENAME = "weights-inception-2015-12-05-6726825d.pth"
# sha256 of the published file (95,628,359 bytes). torch-fidelity's v0.2.0 release asset and pytorch-fid's
# `pt_inception-2015-12-05-6726825d.pth` are the same bytes; the 8 hex digits in both names are the first 8 of
# this digest (torch hub's naming convention for hash-checked files).
INCEPTION_SHA256 = "6726825d0af5f729cebd5821db510b11b1cfad8faad88a03f1befd49fb9129b2"
INCEPTION_URLS = (
    "https://github.com/toshas/torch-fidelity/releases/download/v0.2.0/weights-inception-2015-12-05-6726825d.pth",
    "https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/pt_inception-2015-12-05-6726825d.pth",
)
WEIGHTS_ENV = "TTUR_INCEPTION_WEIGHTS"


def _how_to_get(expected_sha256: str) -> str:
    return (
        f"pass --weights FILE or set {WEIGHTS_ENV}=FILE, where FILE is {INCEPTION_FILENAME} "
        f"(sha256 {expected_sha256}); fetch it once with `ttur weights --out FILE` "
        f"or register a copy you already have with `ttur weights --out FILE --local PATH`"
    )


def resolve_weights_path(weights: Path | None, expected_sha256: str = INCEPTION_SHA256) -> Path:
    """The weights file the user named: the explicit argument, else $TTUR_INCEPTION_WEIGHTS; never a download."""
    if weights is not None:
        return Path(weights)
    env = os.environ.get(WEIGHTS_ENV)
    if env:
        return Path(env)
    raise UserError(f"no Inception weights file given: {_how_to_get(expected_sha256)}")


def verify_weights(path: Path, expected_sha256: str = INCEPTION_SHA256) -> str:
    """Return the file's sha256 after checking that it exists and matches `expected_sha256`."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"Inception weights file {path} does not exist: {_how_to_get(expected_sha256)}")
    digest = sha256_file(path)
    if digest != expected_sha256:
        raise UserError(
            f"Inception weights file {path} has sha256 {digest}, expected {expected_sha256} "
            f"(corrupted, truncated or a different file); delete it and {_how_to_get(expected_sha256)}"
        )
    return digest


def install_local(source: Path, out: Path, expected_sha256: str = INCEPTION_SHA256) -> str:
    """Verify a user's copy of the weights and place it at `out` (hard link when possible, else copy)."""
    digest = verify_weights(source, expected_sha256)
    if Path(out).resolve() == Path(source).resolve():
        return digest
    with atomic_path(out) as tmp:
        tmp.unlink()
        try:
            os.link(source, tmp)
        except OSError:
            shutil.copyfile(source, tmp)
    return digest


def download_weights(
    out: Path,
    urls: Sequence[str] = INCEPTION_URLS,
    expected_sha256: str = INCEPTION_SHA256,
    timeout: float = 60.0,
) -> str:
    """Fetch the weights to `out` from the first URL that works, resuming partial downloads (the datasets' resumable
    transfer, ttur.data.fetch); verify, then rename."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")
    errors = []
    for url in urls:
        try:
            fetch(url, partial, timeout)
        except TransferError as error:
            errors.append(f"{url}: {error}")
            print(f"[ttur] weights: {url} failed ({error}); {partial} is kept for resuming", file=sys.stderr)
            continue
        digest = sha256_file(partial)
        if digest == expected_sha256:
            os.replace(partial, out)
            return digest
        errors.append(f"{url}: sha256 {digest} != {expected_sha256}")
        partial.unlink()  # a wrong file cannot be resumed into the right one
    raise UserError(
        f"could not download {INCEPTION_FILENAME} ({'; '.join(errors)}); on a machine without network copy the file "
        f"there and run `ttur weights --out {out} --local PATH` (expected sha256 {expected_sha256})"
    )
