"""Checksums of downloaded files: one pass computes size, md5 and sha256; a mismatch names expected and actual."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from ttur.data.registry import FileSpec


@dataclass(frozen=True)
class FileDigest:
    size: int
    md5: str
    sha256: str


def digest_file(path: Path, chunk_size: int = 1 << 22) -> FileDigest:
    """Size, md5 and sha256 of a file, read once in chunks (memory stays flat for a 46 GB zip)."""
    md5, sha256, size = hashlib.md5(usedforsecurity=False), hashlib.sha256(), 0
    with open(path, "rb") as handle:
        while chunk := handle.read(chunk_size):
            md5.update(chunk)
            sha256.update(chunk)
            size += len(chunk)
    return FileDigest(size=size, md5=md5.hexdigest(), sha256=sha256.hexdigest())


def mismatch(spec: FileSpec, path: Path) -> tuple[str | None, FileDigest | None]:
    """Compare a file with its published checksums: (None, digest) if it matches, else (a description, digest).

    The size is checked first, so a truncated 46 GB file is reported without hashing it.
    """
    size = path.stat().st_size
    if spec.size is not None and size != spec.size:
        return f"size {size} bytes, expected {spec.size}", None
    digest = digest_file(path)
    problems = []
    if spec.md5 is not None and digest.md5 != spec.md5:
        problems.append(f"md5 {digest.md5}, expected {spec.md5}")
    if spec.sha256 is not None and digest.sha256 != spec.sha256:
        problems.append(f"sha256 {digest.sha256}, expected {spec.sha256}")
    return ("; ".join(problems) or None), digest
